//! Recovery of unfinished archive files: the `tmp-` files a writer leaves when it is killed or
//! its disk fills (see docs/reliability.md, "Recovery of unfinished files").
//!
//! Every whole block whose checksums hold is kept; what follows the last such block (a block cut
//! off by the crash or the full disk) is dropped and counted; a block that fails a checksum is
//! never published. The file is then finished as the writer would have finished it (end marker,
//! block index, trailer, header with the totals), synced, and renamed to its final name (the
//! `tmp-` prefix taken off; a `-N` suffix if that name is taken), so every reader sees it. A
//! `tmp-` file locked by a running writer (`flock`, taken by `ArchiveFileWriter::create`) is left
//! alone.

use super::format::*;
use super::reader::parse_header;
use super::{ArchiveError, ArchiveFile};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What recovering one `tmp-` file did.
#[derive(Debug)]
pub struct Recovered {
    /// The `tmp-` file recovered.
    pub tmp: PathBuf,
    /// The name it was published under; `None` when nothing was published (no whole block: the
    /// file was removed; or finishing it failed: it stays, cut to its whole blocks, see `error`).
    pub published: Option<PathBuf>,
    /// Whole blocks kept (their checksums hold).
    pub blocks: u64,
    /// Flows in those blocks.
    pub flows: u64,
    /// Whole blocks dropped because a checksum failed.
    pub bad_blocks: u64,
    /// Bytes dropped: a block cut off at the end, bad blocks, anything after them.
    pub bytes_dropped: u64,
    /// Why the file could not be finished (a full disk still), when it could not; the kept
    /// blocks are then still in the `tmp-` file, cut to them, for a later recovery.
    pub error: Option<io::Error>,
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.tmp.display())?;
        match (&self.published, &self.error) {
            (Some(p), _) => write!(f, "published as {}", p.display())?,
            (None, Some(e)) => write!(f, "not finished ({e}); kept for a later recovery")?,
            (None, None) => write!(f, "no whole block; removed")?,
        }
        write!(
            f,
            " ({} blocks, {} flows kept; {} damaged blocks and {} bytes dropped)",
            self.blocks, self.flows, self.bad_blocks, self.bytes_dropped
        )
    }
}

/// Totals of a recovery over many files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoverySummary {
    /// `tmp-` files found and recovered (published, removed as empty, or left for later).
    pub files: u64,
    /// Of those, files published.
    pub published: u64,
    /// Whole blocks kept.
    pub blocks: u64,
    /// Flows in them.
    pub flows: u64,
    /// Blocks dropped because a checksum failed.
    pub bad_blocks: u64,
    /// Bytes dropped.
    pub bytes_dropped: u64,
    /// `tmp-` files left alone: locked by a running writer, not flowkit archives, or unreadable.
    pub skipped: u64,
}

impl RecoverySummary {
    /// Adds one file's result.
    pub fn add(&mut self, r: &Recovered) {
        self.files += 1;
        self.published += r.published.is_some() as u64;
        self.blocks += r.blocks;
        self.flows += r.flows;
        self.bad_blocks += r.bad_blocks;
        self.bytes_dropped += r.bytes_dropped;
    }
}

impl fmt::Display for RecoverySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "recovered {} unfinished files ({} published): {} blocks, {} flows kept; \
             {} damaged blocks and {} bytes dropped; {} left alone",
            self.files,
            self.published,
            self.blocks,
            self.flows,
            self.bad_blocks,
            self.bytes_dropped,
            self.skipped
        )
    }
}

/// What became of one `tmp-` file met by [`recover_tree`].
#[derive(Debug)]
pub enum Outcome {
    /// Recovered (published, removed as empty, or cut to its whole blocks for later).
    Recovered(Recovered),
    /// Left alone, with the reason (locked by a running writer, not a flowkit archive ...).
    Skipped(PathBuf, String),
}

/// Recovers every unfinished file (`tmp-` name) under `root`, at any depth; `report` gets each
/// file's outcome as it is handled. Files of other programs (not flowkit archives) and files a
/// running writer holds are left alone. Returns the totals.
pub fn recover_tree(
    root: &Path,
    durable: bool,
    report: &mut dyn FnMut(&Outcome),
) -> io::Result<RecoverySummary> {
    let mut sum = RecoverySummary::default();
    let mut found = Vec::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.map_err(io::Error::other)?;
        if e.file_type().is_file() && e.file_name().to_string_lossy().starts_with("tmp-") {
            found.push(e.into_path());
        }
    }
    for tmp in found {
        let outcome = match recover_file(&tmp, durable) {
            Ok(r) => {
                sum.add(&r);
                Outcome::Recovered(r)
            }
            Err(why) => {
                sum.skipped += 1;
                Outcome::Skipped(tmp, why)
            }
        };
        report(&outcome);
    }
    Ok(sum)
}

/// The final name of the `tmp-` file `tmp`: the prefix taken off, and a `-N` suffix when that
/// name is taken (a published file is never replaced).
fn final_name(tmp: &Path) -> PathBuf {
    let name = tmp.file_name().unwrap_or_default().to_string_lossy();
    let base = name.strip_prefix("tmp-").unwrap_or(&name).to_string();
    (0u32..)
        .map(|n| {
            let p = if n == 0 {
                tmp.with_file_name(&base)
            } else {
                tmp.with_file_name(format!("{base}-{n}"))
            };
            (n, p)
        })
        .find(|(n, p)| !p.exists() && (*n == 0 || !super::writer::temp_name(p).exists()))
        .map(|(_, p)| p)
        .expect("some suffix is free")
}

/// Recovers one unfinished file (see the module). `Err` (with the reason) when the file is left
/// alone: a running writer holds it, it is not a flowkit archive, or it cannot be opened. An
/// `Ok` may still carry an error: the blocks were found but the file could not be finished.
pub fn recover_file(tmp: &Path, durable: bool) -> Result<Recovered, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(tmp)
        .map_err(|e| format!("cannot open: {e}"))?;
    if !try_lock(&file) {
        return Err("in use by a running writer (locked); left alone".into());
    }
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut out = Recovered {
        tmp: tmp.to_path_buf(),
        published: None,
        blocks: 0,
        flows: 0,
        bad_blocks: 0,
        bytes_dropped: len,
        error: None,
    };
    let mut head = vec![0u8; (len as usize).min(64 << 10)];
    file.read_exact_at(&mut head, 0)
        .map_err(|e| format!("cannot read: {e}"))?;
    let header = match parse_header("", &head) {
        Ok(h) => h,
        // Cut inside its header (or empty): created, never given a block. Only a file named as
        // a flowkit writer names its files is removed; anything else may be another program's.
        Err(ArchiveError::Truncated { .. }) => return remove_empty(out),
        Err(ArchiveError::NotArchive { .. }) if len == 0 => return remove_empty(out),
        Err(e) => return Err(format!("left alone: {e}")),
    };
    // The whole blocks whose checksums hold, in order; where each goes once bad ones are left out.
    let (index, moves, finished) = {
        let f = ArchiveFile::open(tmp, false).map_err(|e| format!("left alone: {e}"))?;
        // Finished but for its rename (killed just before it): its tail is not a loss.
        let finished = f.is_complete() && f.tail_error().is_none() && header.is_complete();
        let mut index = Vec::new();
        let mut moves = Vec::new();
        let mut at = header.header_len as u64;
        for (i, b) in f.blocks().iter().enumerate() {
            if f.block(i).is_err() {
                out.bad_blocks += 1;
                continue;
            }
            let bytes = f.block_bytes(i);
            let info = BlockInfo {
                flows: b.flows,
                columns: le_u32(bytes, 4),
                payload_len: le_u32(bytes, 12),
                min_start_ms: b.min_start_ms,
                max_start_ms: b.max_start_ms,
                max_end_ms: b.max_end_ms,
            };
            if b.offset != at {
                moves.push((at, bytes.to_vec()));
            }
            index.push(IndexEntry { offset: at, info });
            at += b.len;
        }
        (index, moves, finished && out.bad_blocks == 0)
    };
    out.blocks = index.len() as u64;
    out.flows = index.iter().map(|e| e.info.flows as u64).sum();
    let end = index
        .last()
        .map_or(header.header_len as u64, |e| e.offset + e.info.total_len());
    out.bytes_dropped = if finished { 0 } else { len.saturating_sub(end) };
    if index.is_empty() {
        return remove_empty(out);
    }
    // Cut to the whole blocks first (it frees space on a full disk), then finish.
    let res = (|| {
        for (to, bytes) in &moves {
            file.write_all_at(bytes, *to)?;
        }
        file.set_len(end)?;
        file.write_all_at(&encode_tail(end, &index, out.flows), end)?;
        if durable {
            file.sync_all()?;
        }
        let mut h = head[..header.header_len].to_vec();
        patch_header(&mut h, &index, out.flows);
        file.write_all_at(&h, 0)?;
        if durable {
            file.sync_all()?;
        }
        let target = final_name(tmp);
        std::fs::rename(tmp, &target)?;
        if durable {
            if let Some(dir) = target.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        Ok::<_, io::Error>(target)
    })();
    match res {
        Ok(t) => out.published = Some(t),
        Err(e) => out.error = Some(e),
    }
    Ok(out)
}

/// Removes a `tmp-` file that holds no whole block.
fn remove_empty(out: Recovered) -> Result<Recovered, String> {
    std::fs::remove_file(&out.tmp).map_err(|e| format!("cannot remove: {e}"))?;
    Ok(out)
}

/// Sets a header's totals and marks it complete, as the writer's `finish` does, keeping its
/// length, schema, creator and creation time; checksums it again.
fn patch_header(h: &mut [u8], index: &[IndexEntry], flows: u64) {
    let min_start = index.iter().map(|e| e.info.min_start_ms).min();
    let max_end = index.iter().map(|e| e.info.max_end_ms).max();
    h[16..20].copy_from_slice(&FLAG_COMPLETE.to_le_bytes());
    h[24..32].copy_from_slice(&flows.to_le_bytes());
    h[32..40].copy_from_slice(&min_start.unwrap_or(i64::MAX).to_le_bytes());
    h[40..48].copy_from_slice(&max_end.unwrap_or(i64::MIN).to_le_bytes());
    let n = h.len() - 8;
    let c = checksum(&h[..n]);
    h[n..].copy_from_slice(&c.to_le_bytes());
}

/// Takes the writer's lock without waiting; false when another process holds it.
fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own; it only sets a lock, released when `f` closes.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(test)]
mod tests;
