//! Block references: how a flow stream between two flowkit tools on one host carries whole blocks
//! of archive files without copying them.
//!
//! `flow-cat ARCHIVE | flow-nfilter ...` would otherwise push every byte of the archive through
//! the pipe, several times the work of reading it. When the only readers of a tool's stdout pipe
//! are flowkit tools of the same build (checked in /proc), the tool writes, for a block it passes
//! on unchanged, a small reference record (file path, the file's identity, block offset and
//! length) instead of the block; the reader maps the file itself, checks that it is the same file
//! (device, inode, size, modification time), and reads the block there, checking it as when
//! reading the file directly. A reader that is anything else (`tee`, `ssh`, a file) gets the bytes.
//! `FLOWKIT_PIPE_REFS=0` turns references off.
//!
//! A reference may also name some rows of a block (a bitmap after the path): a filter that
//! selects part of a block passes the selection on instead of reading the selected flows out and
//! writing them into the pipe; the reader reads just those rows. This keeps
//! `flow-cat | flow-nfilter | flow-print` close to the cost of one process doing all three.

use super::format::{checksum, le_i64, le_u32, le_u64, pad8, BLOCK_HEADER_LEN, MAX_BLOCK_FLOWS};
use super::ArchiveError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Magic of a block reference record in a stream.
pub const REF_MAGIC: &[u8; 4] = b"FKRF";
/// Bytes of the file identity in a reference record.
const IDENTITY_LEN: usize = 32;
/// Longest path a reference may carry.
const MAX_PATH_LEN: usize = 4096;
/// Flag (in the header word after the flow count): a row bitmap follows the path.
const HAS_ROWS: u32 = 1;

/// What makes a file the same file: a reference is refused if any of it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
}

impl FileIdentity {
    /// The identity of an open file.
    pub fn of(meta: &std::fs::Metadata) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileIdentity {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.len(),
                mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            }
        }
        #[cfg(not(unix))]
        {
            FileIdentity {
                dev: 0,
                ino: 0,
                size: meta.len(),
                mtime_ns: 0,
            }
        }
    }
}

/// A whole block of an archive file, named rather than carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRef {
    /// Absolute path of the archive file.
    pub path: Arc<PathBuf>,
    /// The file as it was when the reference was made.
    pub identity: FileIdentity,
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Bytes of the block.
    pub len: u64,
    /// Flows in the block.
    pub flows: u32,
    /// The rows of the block passed on, ascending and distinct (`None`: all of them).
    pub rows: Option<Arc<[u32]>>,
}

impl BlockRef {
    /// Flows the reference passes on: its rows, or the whole block.
    pub fn flows_passed(&self) -> u64 {
        self.rows
            .as_ref()
            .map_or(self.flows as u64, |r| r.len() as u64)
    }

    /// A reference to some of the flows this one passes on: `picked` are positions among them
    /// (ascending, distinct, each less than [`flows_passed`](Self::flows_passed)).
    pub fn select(&self, picked: &[u32]) -> BlockRef {
        let rows: Arc<[u32]> = match &self.rows {
            None => picked.into(),
            Some(rows) => picked.iter().map(|&p| rows[p as usize]).collect(),
        };
        BlockRef {
            rows: Some(rows),
            ..self.clone()
        }
    }
}

/// Bytes of the row bitmap of a reference to some rows of a block of `flows` flows (padded).
fn bitmap_len(flows: u32) -> usize {
    pad8((flows as usize).div_ceil(8))
}

/// Appends the reference record for `r` to `out`.
pub fn encode_ref(r: &BlockRef, out: &mut Vec<u8>) {
    let path = r.path.as_os_str().as_encoded_bytes();
    let start = out.len();
    let at_rows = BLOCK_HEADER_LEN + IDENTITY_LEN + pad8(path.len());
    let (flags, total) = match r.rows {
        None => (0, at_rows),
        Some(_) => (HAS_ROWS, at_rows + bitmap_len(r.flows)),
    };
    out.extend_from_slice(REF_MAGIC);
    out.extend_from_slice(&(path.len() as u32).to_le_bytes());
    out.extend_from_slice(&r.flows.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&r.offset.to_le_bytes());
    out.extend_from_slice(&r.len.to_le_bytes());
    out.extend_from_slice(&(total as u64).to_le_bytes());
    out.extend_from_slice(&[0; 8]); // checksum, below
    let id = &r.identity;
    for v in [id.dev, id.ino, id.size, id.mtime_ns as u64] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(path);
    out.resize(start + total, 0);
    if let Some(rows) = &r.rows {
        let bitmap = &mut out[start + at_rows..];
        for &row in rows.iter() {
            bitmap[row as usize / 8] |= 1 << (row % 8);
        }
    }
    let sum = ref_checksum(&out[start..]);
    out[start + 40..start + 48].copy_from_slice(&sum.to_le_bytes());
}

fn ref_checksum(record: &[u8]) -> u64 {
    let mut covered = Vec::with_capacity(record.len() - 8);
    covered.extend_from_slice(&record[..40]);
    covered.extend_from_slice(&record[48..]);
    checksum(&covered)
}

/// The total length of a reference record from its first 48 bytes (checked to be plausible).
pub fn ref_len(name: &str, head: &[u8], offset: u64) -> Result<usize, ArchiveError> {
    let path_len = le_u32(head, 4) as usize;
    let (flows, flags) = (le_u32(head, 8), le_u32(head, 12));
    let total = le_u64(head, 32);
    let rows_len = match flags {
        HAS_ROWS => bitmap_len(flows),
        _ => 0,
    };
    let want = (BLOCK_HEADER_LEN + IDENTITY_LEN + pad8(path_len) + rows_len) as u64;
    if path_len == 0
        || path_len > MAX_PATH_LEN
        || flags > HAS_ROWS
        || flows > MAX_BLOCK_FLOWS
        || total != want
    {
        return Err(ArchiveError::corrupt(
            name,
            offset,
            "implausible block reference",
        ));
    }
    Ok(total as usize)
}

/// Parses a whole reference record read from stream `name` at `offset`.
pub fn parse_ref(name: &str, record: &[u8], offset: u64) -> Result<BlockRef, ArchiveError> {
    let total = ref_len(name, record, offset)?;
    if record.len() != total || ref_checksum(record) != le_u64(record, 40) {
        return Err(ArchiveError::corrupt(
            name,
            offset,
            "block reference checksum mismatch",
        ));
    }
    let path_len = le_u32(record, 4) as usize;
    let flows = le_u32(record, 8);
    let p = BLOCK_HEADER_LEN + IDENTITY_LEN;
    let path = path_from_bytes(&record[p..p + path_len]);
    let rows = match le_u32(record, 12) {
        HAS_ROWS => {
            let rows = rows_of(&record[p + pad8(path_len)..], flows).ok_or_else(|| {
                ArchiveError::corrupt(name, offset, "block reference with a bad row bitmap")
            })?;
            Some(rows)
        }
        _ => None,
    };
    Ok(BlockRef {
        path: Arc::new(path),
        identity: FileIdentity {
            dev: le_u64(record, 48),
            ino: le_u64(record, 56),
            size: le_u64(record, 64),
            mtime_ns: le_i64(record, 72),
        },
        offset: le_u64(record, 16),
        len: le_u64(record, 24),
        flows,
        rows,
    })
}

/// The rows a reference's bitmap names (padded to whole words): `None` when it names none, or
/// a row past `flows`.
fn rows_of(bitmap: &[u8], flows: u32) -> Option<Arc<[u32]>> {
    let mut rows = Vec::new();
    for (w, word) in bitmap.chunks_exact(8).enumerate() {
        let mut bits = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        while bits != 0 {
            rows.push(w as u32 * 64 + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    (rows.last().is_some_and(|&r| r < flows)).then(|| rows.into())
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// True when this process's stdout is a pipe whose only readers are flowkit tools of the same
/// build on this host, so whole blocks may be passed as references. Waits briefly (up to 300 ms)
/// while a reader is still a forked shell that has not yet become its program.
pub fn stdout_feeds_flowkit() -> bool {
    if std::env::var_os("FLOWKIT_PIPE_REFS").is_some_and(|v| v == "0") {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        linux::stdout_feeds_flowkit()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    pub fn stdout_feeds_flowkit() -> bool {
        let Ok(meta) = std::fs::metadata("/proc/self/fd/1") else {
            return false;
        };
        if !meta.file_type().is_fifo() {
            return false;
        }
        let target = format!("pipe:[{}]", meta.ino());
        let Some(my_dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        else {
            return false;
        };
        let me = std::process::id();
        let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
        let deadline = Instant::now() + Duration::from_millis(300);
        loop {
            match readers_verdict(&target, me, uid, &my_dir) {
                Some(v) => return v,
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
                None => return false,
            }
        }
    }

    /// Some(true): every reader is a flowkit tool of our build; Some(false): some reader is not;
    /// None: not known yet (no reader, or one still a shell between fork and exec).
    fn readers_verdict(target: &str, me: u32, uid: Option<u32>, my_dir: &Path) -> Option<bool> {
        let mut readers = 0;
        let mut undecided = false;
        for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = proc_entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            let dir = proc_entry.path();
            if uid.is_some() && std::fs::metadata(&dir).ok().map(|m| m.uid()) != uid {
                continue;
            }
            let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
                continue;
            };
            let reads = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == target)
                    && reads_only(&dir, &fd.file_name())
            });
            if !reads {
                continue;
            }
            readers += 1;
            let exe: Option<PathBuf> = std::fs::read_link(dir.join("exe")).ok();
            let ours = exe.as_deref().is_some_and(|e| {
                e.parent() == Some(my_dir)
                    && e.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("flow-"))
            });
            if !ours {
                let shell = exe
                    .as_deref()
                    .and_then(|e| e.file_name())
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| matches!(n, "sh" | "bash" | "dash" | "zsh" | "ksh"));
                if shell {
                    undecided = true; // forked, not yet exec'd (or a shell reading: decided at the deadline)
                } else {
                    return Some(false);
                }
            }
        }
        if readers == 0 || undecided {
            None
        } else {
            Some(true)
        }
    }

    /// True when `fd` of the process in `dir` is open read-only (a pipe's read end).
    fn reads_only(dir: &Path, fd: &std::ffi::OsStr) -> bool {
        let Ok(info) = std::fs::read_to_string(dir.join("fdinfo").join(fd)) else {
            return false;
        };
        info.lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            .is_some_and(|flags| flags & 0o3 == 0)
    }
}

/// Checks that `path` still is the file a reference was made to; the message names what changed.
pub fn check_identity(path: &Path, now: &FileIdentity, then: &FileIdentity) -> Result<(), String> {
    if now == then {
        return Ok(());
    }
    Err(format!(
        "{}: the flow stream refers to a block of this file, but the file here is not the one \
         referred to (changed or replaced since, or on another host); set FLOWKIT_PIPE_REFS=0 \
         on the writing side to send the flows themselves",
        path.display()
    ))
}
