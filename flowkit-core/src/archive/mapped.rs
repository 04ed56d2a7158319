//! Read-only memory maps of files that survive the file shrinking underneath them.
//!
//! A file mapped with `mmap` that another program truncates makes every later access to a page
//! past the new end raise SIGBUS, which kills the process (memmap2 marks mapping `unsafe` for this
//! reason; ripgrep documents it as a caveat). Archives and captures are read zero-copy from maps,
//! so a reader must not die, and must not silently hand out wrong flows, when that happens.
//!
//! How: every [`GuardedMap`] registers its address range in a small lock-free table. A SIGBUS
//! handler (installed once, chaining to whatever handler was there before) looks the faulting
//! address up: inside a registered map, it maps a page of zeros over the faulting page (so the
//! faulting instruction, retried, reads zeros instead of killing the process) and records the
//! fault in the map's entry; anywhere else, it hands the signal on to the previous handler (or the
//! default action, which kills as before). Readers then ask [`GuardedMap::check`] after each block
//! or batch: a recorded fault, or a file now shorter than the map (`fstat`; the tail of the last
//! page of a shrunk file reads as zeros without any fault), is turned into an error naming the
//! file and the byte offset where it now ends. Zeros read in the meantime are never passed on
//! unreported: archive blocks read them as checksum mismatches before they are handed out, and
//! the scanner checks the map again after each batch has been consumed.
//!
//! Hand-written because no crate does it: memmap2 leaves the signal to the caller, and the
//! libsigsegv-style crates handle SIGSEGV for stack overflows, not file-backed SIGBUS.
//! `mmap` is not on POSIX's list of async-signal-safe functions, but it is a plain system call
//! on Linux and the BSDs (libsigsegv and the JVM do the same from their handlers).

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Maps registered at once; further maps fall back to reading the file (see [`GuardedMap::map`]).
const SLOTS: usize = 64;

/// One registered map: its address range and the faults seen in it.
struct Slot {
    used: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    faults: AtomicU64,
    /// Offset of the lowest faulting page (usize::MAX: none).
    first_fault: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)] // only used to initialise the table
const EMPTY: Slot = Slot {
    used: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    faults: AtomicU64::new(0),
    first_fault: AtomicUsize::new(usize::MAX),
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// A read-only map of a whole file, guarded against the file shrinking (see the module docs).
pub struct GuardedMap {
    map: memmap2::Mmap,
    file: File,
    slot: Option<usize>,
}

/// Where and how a mapped file changed while it was being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shrunk {
    /// The byte offset from which the mapped bytes are no longer the file's: the first page that
    /// faulted, or the file's new length, whichever is lower.
    pub offset: u64,
    /// The file's length when it was mapped.
    pub mapped_len: u64,
    /// The file's length now, when it could be read.
    pub now_len: Option<u64>,
}

impl std::fmt::Display for Shrunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file shrank while it was being read (it was {} bytes when opened",
            self.mapped_len
        )?;
        if let Some(n) = self.now_len {
            write!(f, ", {n} now")?;
        }
        write!(f, "); nothing from byte {} on is trusted", self.offset)
    }
}

impl GuardedMap {
    /// Maps `file` read-only and registers the map with the SIGBUS guard. Fails (and the caller
    /// reads the file instead) when the map fails or the guard's table is full.
    pub fn map(file: &File) -> io::Result<GuardedMap> {
        install_handler()?;
        let file = file.try_clone()?;
        // SAFETY: the map is read-only and never handed out mutably. A file truncated under it
        // raises SIGBUS on access, which the guard installed above turns into zero pages and a
        // recorded fault that readers check (module docs); a file rewritten in place (same size)
        // is caught by the archive's checksums before its bytes are used.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        let slot = if map.is_empty() {
            None // nothing to guard: no page can fault
        } else {
            Some(register(map.as_ptr() as usize, map.len()).ok_or_else(|| {
                io::Error::other("too many files mapped at once; reading instead")
            })?)
        };
        Ok(GuardedMap { map, file, slot })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The underlying memmap2 map (for `advise`).
    pub fn mmap(&self) -> &memmap2::Mmap {
        &self.map
    }

    /// True when a page of this map has faulted (cheap: one atomic load).
    pub fn faulted(&self) -> bool {
        self.slot
            .is_some_and(|s| TABLE[s].faults.load(Ordering::Acquire) > 0)
    }

    /// Checks that the file still backs every mapped byte: no page has faulted and the file is
    /// not shorter than the map (one `fstat`).
    pub fn check(&self) -> Result<(), Shrunk> {
        let mapped_len = self.map.len() as u64;
        let fault = self.slot.and_then(|s| {
            let t = &TABLE[s];
            (t.faults.load(Ordering::Acquire) > 0)
                .then(|| t.first_fault.load(Ordering::Acquire) as u64)
        });
        let now_len = self.file.metadata().ok().map(|m| m.len());
        let short = now_len.filter(|&n| n < mapped_len);
        match (fault, short) {
            (None, None) => Ok(()),
            (a, b) => Err(Shrunk {
                offset: a.unwrap_or(u64::MAX).min(b.unwrap_or(u64::MAX)),
                mapped_len,
                now_len,
            }),
        }
    }
}

impl Drop for GuardedMap {
    fn drop(&mut self) {
        if let Some(s) = self.slot {
            // The map is unmapped after this (when `self.map` drops); no access can be pending,
            // since every borrow of the bytes has ended.
            let t = &TABLE[s];
            t.start.store(0, Ordering::Release);
            t.len.store(0, Ordering::Release);
            t.used.store(false, Ordering::Release);
        }
    }
}

fn register(start: usize, len: usize) -> Option<usize> {
    for (k, t) in TABLE.iter().enumerate() {
        if t.used
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            t.faults.store(0, Ordering::Release);
            t.first_fault.store(usize::MAX, Ordering::Release);
            t.len.store(len, Ordering::Release);
            t.start.store(start, Ordering::Release);
            return Some(k);
        }
    }
    None
}

#[cfg(unix)]
mod handler {
    use super::{PAGE, TABLE};
    use std::sync::atomic::Ordering;
    use std::sync::OnceLock;

    /// The SIGBUS action in force before ours, to chain to for faults outside our maps.
    struct Prev(libc::sigaction);
    // SAFETY: a plain C struct written once before the handler is installed, then only read.
    unsafe impl Sync for Prev {}
    unsafe impl Send for Prev {}

    static PREV: OnceLock<Prev> = OnceLock::new();

    pub(super) fn install() -> std::io::Result<()> {
        static RESULT: OnceLock<Result<(), i32>> = OnceLock::new();
        let r = RESULT.get_or_init(|| {
            // SAFETY: sysconf, sigaction with zeroed, then filled, structs we own; the handler
            // only touches atomics and issues mmap/sigaction/raise system calls.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Release);
                }
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
                let _ = PREV.set(Prev(old));
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
            }
            Ok(())
        });
        r.map_err(std::io::Error::from_raw_os_error)
    }

    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Acquire);
        for t in TABLE.iter() {
            let start = t.start.load(Ordering::Acquire);
            let len = t.len.load(Ordering::Acquire);
            if start == 0 || addr < start || addr - start >= len {
                continue;
            }
            let page_addr = addr & !(page - 1);
            // SAFETY: replaces one page of a read-only file map we registered (and still own:
            // it is unregistered before it is unmapped) with a private page of zeros.
            let r = unsafe {
                libc::mmap(
                    page_addr as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                t.first_fault
                    .fetch_min(page_addr.max(start) - start, Ordering::AcqRel);
                t.faults.fetch_add(1, Ordering::AcqRel);
                return; // the access is retried and reads zeros
            }
            break;
        }
        // Not ours (or the page could not be replaced): what would have happened without us.
        let Some(Prev(prev)) = PREV.get() else {
            return;
        };
        let h = prev.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            // SAFETY: restores the previous action; the fault recurs on return and takes it.
            unsafe {
                libc::sigaction(sig, prev, std::ptr::null_mut());
            }
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with this signature (SA_SIGINFO).
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(h) };
            f(sig, info, ctx);
        } else {
            // SAFETY: the previous handler was installed with the one-argument signature.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
            f(sig);
        }
    }
}

#[cfg(unix)]
fn install_handler() -> io::Result<()> {
    handler::install()
}

#[cfg(not(unix))]
fn install_handler() -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(len: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let mut f = File::create(&p).unwrap();
        f.write_all(&vec![0xAB; len]).unwrap();
        (d, p)
    }

    #[test]
    fn a_file_truncated_under_the_map_reads_zeros_and_is_reported() {
        let len = 64 << 10;
        let (_d, p) = file_of(len);
        let f = File::open(&p).unwrap();
        let m = GuardedMap::map(&f).unwrap();
        assert_eq!(m.bytes()[len - 1], 0xAB);
        assert_eq!(m.check(), Ok(()));
        // Another handle cuts the file to 10,000 bytes: the pages past the new end are gone.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(10_000)
            .unwrap();
        // Without the guard this read kills the process with SIGBUS.
        let b = std::hint::black_box(m.bytes()[len - 1]);
        assert_eq!(b, 0);
        assert!(m.faulted());
        let s = m.check().unwrap_err();
        assert_eq!(s.mapped_len, len as u64);
        assert_eq!(s.now_len, Some(10_000));
        assert_eq!(s.offset, 10_000);
        // The bytes before the cut are still the file's.
        assert_eq!(m.bytes()[9_999], 0xAB);
    }

    #[test]
    fn a_shrink_within_the_last_page_is_seen_by_the_size_check() {
        let (_d, p) = file_of(3000);
        let f = File::open(&p).unwrap();
        let m = GuardedMap::map(&f).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(1000)
            .unwrap();
        // No fault: the page is still there, its tail reads as zeros.
        assert_eq!(std::hint::black_box(m.bytes()[2999]), 0);
        assert!(!m.faulted());
        assert_eq!(m.check().unwrap_err().offset, 1000);
    }

    #[test]
    fn maps_free_their_slot() {
        let (_d, p) = file_of(100);
        let f = File::open(&p).unwrap();
        // More maps over time than the table has slots: each drop frees its slot.
        for _ in 0..3 * SLOTS {
            let m = GuardedMap::map(&f).unwrap();
            assert_eq!(m.bytes().len(), 100);
        }
    }
}
