//! Expiring the oldest files of a dated tree, to keep it under a size or a file count (what
//! flow-tools' `flow-capture -E SIZE` / `-e COUNT` and nfdump's `nfexpire -s` do).
//!
//! Only finished flow files count and are deleted: names `PREFIX.YYYY-MM-DD.HHMMSS±hhmm`, with
//! an optional `-N` suffix (ours, and flow-tools' `ft-vNN.…`). Unfinished `tmp-` files, hidden
//! files (`.templates`) and anything else are neither counted nor touched. Files are ordered by
//! the time in their name (then by name), the oldest deleted first; the newest file is always
//! kept. Directories left empty are removed (never the root).

use std::io;
use std::path::{Path, PathBuf};

/// How much a tree may hold. `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireLimits {
    /// Most bytes of flow files.
    pub max_bytes: Option<u64>,
    /// Most flow files.
    pub max_files: Option<u64>,
}

impl ExpireLimits {
    /// True when some limit is set.
    pub fn is_set(&self) -> bool {
        self.max_bytes.is_some() || self.max_files.is_some()
    }
}

/// What an expiry run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpireSummary {
    /// Files deleted.
    pub deleted: u64,
    /// Their bytes.
    pub deleted_bytes: u64,
    /// Flow files left.
    pub kept: u64,
    /// Their bytes.
    pub kept_bytes: u64,
    /// Files that could not be deleted (each reported through the caller's `warn`).
    pub errors: u64,
}

impl std::fmt::Display for ExpireSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "expired {} files ({} bytes); {} files ({} bytes) kept",
            self.deleted, self.deleted_bytes, self.kept, self.kept_bytes
        )?;
        if self.errors > 0 {
            write!(f, "; {} could not be deleted", self.errors)?;
        }
        Ok(())
    }
}

/// The time (seconds since the epoch) in a dated flow file name, or `None` for other names.
pub fn name_time(name: &str) -> Option<i64> {
    if name.starts_with('.') || name.starts_with("tmp") {
        return None;
    }
    // PREFIX . YYYY-MM-DD . HHMMSS±hhmm [-N]
    let mut parts = name.rsplitn(3, '.');
    let (time, date, prefix) = (parts.next()?, parts.next()?, parts.next()?);
    if prefix.is_empty() || date.len() != 10 || time.len() < 11 {
        return None;
    }
    let (clock, rest) = time.split_at(11);
    if !(rest.is_empty()
        || rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())))
    {
        return None;
    }
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (d, c) = (date.as_bytes(), clock.as_bytes());
    if d[4] != b'-' || d[7] != b'-' || !(c[6] == b'+' || c[6] == b'-') {
        return None;
    }
    let (y, mo, da) = (num(&date[..4])?, num(&date[5..7])?, num(&date[8..])?);
    let (h, mi, s) = (num(&clock[..2])?, num(&clock[2..4])?, num(&clock[4..6])?);
    let (oh, om) = (num(&clock[7..9])?, num(&clock[9..11])?);
    let dt = jiff::civil::DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(da).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        0,
    )
    .ok()?;
    let utc = dt
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    let offset = (oh * 3600 + om * 60) * if c[6] == b'-' { -1 } else { 1 };
    Some(utc - offset)
}

/// Deletes the oldest flow files under `root` until it is within `limits`; `warn` hears about
/// files that cannot be deleted (the run goes on).
pub fn expire_tree(
    root: &Path,
    limits: ExpireLimits,
    warn: &mut dyn FnMut(&str),
) -> io::Result<ExpireSummary> {
    let mut files: Vec<(i64, PathBuf, u64)> = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.depth() == 0 => return Err(io::Error::other(e)),
            Err(e) => {
                warn(&format!("expiry: {e}"));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(t) = name_time(&entry.file_name().to_string_lossy()) else {
            continue;
        };
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        files.push((t, entry.into_path(), len));
    }
    files.sort();
    let mut sum = ExpireSummary {
        kept: files.len() as u64,
        kept_bytes: files.iter().map(|f| f.2).sum(),
        ..ExpireSummary::default()
    };
    let over = |s: &ExpireSummary| {
        limits.max_bytes.is_some_and(|m| s.kept_bytes > m)
            || limits.max_files.is_some_and(|m| s.kept > m)
    };
    let newest = files.len().saturating_sub(1);
    for (_, path, len) in files.iter().take(newest) {
        if !over(&sum) {
            break;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {
                sum.deleted += 1;
                sum.deleted_bytes += len;
                sum.kept -= 1;
                sum.kept_bytes -= len;
                remove_empty_parents(root, path);
            }
            Err(e) => {
                sum.errors += 1;
                warn(&format!("expiry: cannot delete {}: {e}", path.display()));
            }
        }
    }
    Ok(sum)
}

/// Removes the directories above `file` that are now empty, up to (not including) `root`.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_times() {
        // 2010-11-09 00:00:00 UTC is 1289260800.
        assert_eq!(name_time("ft.2010-11-09.000000+0000"), Some(1_289_260_800));
        assert_eq!(
            name_time("ft-v05.2010-11-09.000000+0000"),
            Some(1_289_260_800)
        );
        assert_eq!(
            name_time("ft.2010-11-09.011500+0100"),
            Some(1_289_260_800 + 900)
        );
        assert_eq!(name_time("ft.2010-11-08.190000-0500"), Some(1_289_260_800));
        assert_eq!(
            name_time("ft.2010-11-09.000000+0000-2"),
            Some(1_289_260_800)
        );
        for other in [
            "tmp-ft.2010-11-09.000000+0000",
            ".templates",
            "ft.2010-11-09.000000+0000.bak",
            "notes.txt",
            "ft.2010-13-09.000000+0000",
            "ft.2010-11-09.000000+0000-",
            ".2010-11-09.000000+0000",
        ] {
            assert_eq!(name_time(other), None, "{other}");
        }
    }

    fn tree(files: &[(&str, usize)]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (name, len) in files {
            let p = t.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, vec![0u8; *len]).unwrap();
        }
        t
    }

    fn left(root: &Path) -> Vec<String> {
        let mut v: Vec<String> = walkdir::WalkDir::new(root)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn oldest_go_first_until_the_tree_fits() {
        let t = tree(&[
            ("2010/2010-11/2010-11-08/ft.2010-11-08.235500+0000", 100),
            ("2010/2010-11/2010-11-09/ft.2010-11-09.000000+0000", 100),
            // Earlier in UTC than the file above, though later in name order.
            ("2010/2010-11/2010-11-09/ft.2010-11-09.005000+0100", 100),
            (
                "2010/2010-11/2010-11-09/tmp-ft.2010-11-09.000500+0000",
                1000,
            ),
            (".templates", 1000),
            ("2010/notes.txt", 1000),
        ]);
        let mut warned = Vec::new();
        let s = expire_tree(
            t.path(),
            ExpireLimits {
                max_bytes: Some(150),
                max_files: None,
            },
            &mut |m| warned.push(m.to_string()),
        )
        .unwrap();
        assert!(warned.is_empty(), "{warned:?}");
        assert_eq!(
            (s.deleted, s.deleted_bytes, s.kept, s.kept_bytes),
            (2, 200, 1, 100)
        );
        assert_eq!(
            left(t.path()),
            [
                ".templates",
                "2010",
                "2010/2010-11",
                "2010/2010-11/2010-11-09",
                "2010/2010-11/2010-11-09/ft.2010-11-09.000000+0000",
                "2010/2010-11/2010-11-09/tmp-ft.2010-11-09.000500+0000",
                "2010/notes.txt",
            ]
        );
    }

    #[test]
    fn file_count_limit_and_the_newest_is_kept() {
        let t = tree(&[
            ("ft.2010-11-09.000000+0000", 10),
            ("ft.2010-11-09.000500+0000", 10),
            ("ft.2010-11-09.001000+0000", 10),
        ]);
        let s = expire_tree(
            t.path(),
            ExpireLimits {
                max_bytes: None,
                max_files: Some(2),
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((s.deleted, s.kept), (1, 2));
        let s = expire_tree(
            t.path(),
            ExpireLimits {
                max_bytes: Some(0),
                max_files: None,
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((s.deleted, s.kept), (1, 1));
        assert_eq!(left(t.path()), ["ft.2010-11-09.001000+0000"]);
    }
}
