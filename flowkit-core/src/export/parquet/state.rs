//! What an incremental export remembers: the input files already exported.
//!
//! `DIR/_flowkit_export.json` (a leading `_`, which Spark, Hive and DuckDB's globs skip) maps
//! each exported input file's canonical path to its size and modification time when it was
//! read. A file with the same path, size and time is not read again; one whose size or time
//! changed is reported (its flows are already in the tree; reading it again would count them
//! twice). Archive files are written once and renamed into place by flow-capture, so a file
//! that changes is a problem worth an error, not routine. `DIR/_flowkit_export.lock` is held
//! (flock) while an export runs, so two cron runs never write the same tree at once.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The state file's name in the export directory.
pub const STATE_FILE: &str = "_flowkit_export.json";
/// The lock file's name in the export directory.
pub const LOCK_FILE: &str = "_flowkit_export.lock";

/// An input file as the state file knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileId {
    /// The canonical path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
}

impl FileId {
    /// Identifies `p` by its canonical path, size and modification time.
    pub fn of(p: &Path) -> Result<FileId, String> {
        let canon = std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let m = std::fs::metadata(&canon).map_err(|e| format!("{}: {e}", p.display()))?;
        let mtime_ns = m
            .modified()
            .ok()
            .and_then(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_nanos() as i128)
            })
            .unwrap_or(0);
        Ok(FileId {
            path: canon.to_string_lossy().into_owned(),
            size: m.len(),
            mtime_ns,
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    size: u64,
    mtime_ns: i128,
    /// Problems reported while reading it (its readable flows were exported).
    errors: u64,
    /// The export run that read it (part files of that run carry the id in their names).
    run: String,
}

/// What the state file says about an input.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not exported yet.
    New,
    /// Exported, unchanged since.
    Same,
    /// Exported, but its size or time changed: why.
    Changed(String),
}

/// The exported inputs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    version: u32,
    files: BTreeMap<String, Entry>,
    #[serde(skip)]
    run: String,
}

impl State {
    /// Reads the state file of `dir` (an empty state when there is none).
    pub fn load(dir: &Path) -> Result<State, String> {
        let path = dir.join(STATE_FILE);
        let mut st = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<State>(&bytes)
                .map_err(|e| format!("{}: not a flowkit export state file: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                version: 1,
                ..State::default()
            },
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        if st.version != 1 {
            return Err(format!(
                "{}: state version {} is not one this flow-export knows (1)",
                path.display(),
                st.version
            ));
        }
        st.run = run_id();
        Ok(st)
    }

    /// The id of this run.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Whether `id` was exported.
    pub fn check(&self, id: &FileId) -> Seen {
        match self.files.get(&id.path) {
            None => Seen::New,
            Some(e) if e.size == id.size && e.mtime_ns == id.mtime_ns => Seen::Same,
            Some(e) => Seen::Changed(format!(
                "size {} then, {} now; modified {} ns then, {} now",
                e.size, id.size, e.mtime_ns, id.mtime_ns
            )),
        }
    }

    /// Records `id` as exported by this run, with the problems reading it reported.
    pub fn record(&mut self, id: FileId, errors: u64) {
        self.files.insert(
            id.path,
            Entry {
                size: id.size,
                mtime_ns: id.mtime_ns,
                errors,
                run: self.run.clone(),
            },
        );
    }

    /// Writes the state file (a temporary file renamed into place).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let path = dir.join(STATE_FILE);
        let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }
}

/// An id for one export run, unique across runs: UTC time and process id.
pub fn run_id() -> String {
    let now = jiff::Timestamp::now();
    format!("{}-{}", now.strftime("%Y%m%dT%H%M%SZ"), std::process::id())
}

/// Holds the export directory's lock until dropped.
pub struct Lock {
    _file: std::fs::File,
    _path: PathBuf,
}

/// Takes the lock of `dir`, or says that another export holds it.
pub fn lock(dir: &Path) -> Result<Lock, String> {
    use std::os::fd::AsRawFd;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: flock on a descriptor we own; the lock goes with the file when it is closed.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        return Err(format!(
            "{}: another flow-export is writing {} (lock held)",
            path.display(),
            dir.display()
        ));
    }
    Ok(Lock {
        _file: file,
        _path: path,
    })
}
