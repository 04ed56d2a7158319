//! flow-capture's template cache, `DIR/.templates`: the decoder's templates (and sampling and
//! clock facts) with their full scope (exporter address and port, version, domain), written
//! when they change and read at start, so a collector restarted mid-stream decodes data at once
//! instead of dropping it until each exporter re-sends its templates. Written to a temporary
//! name, synced and renamed, so a crash leaves the old cache or the new one, never half of one.
//! A hidden name, so archive readers walking DIR pass it by.

use crate::decode::Decoder;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The cache's name in the archive's root directory.
pub const FILE: &str = ".templates";

/// The cache path of an archive rooted at `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// Loads the cache of `root` into `d`, if there is one; returns the line to log.
pub(super) fn load(root: &Path, d: &mut Decoder, now_ms: i64) -> Option<String> {
    let p = path(root);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => return Some(format!("template cache {}: {e}; starting without", p.display())),
    };
    Some(match d.load_templates(&text, now_ms) {
        Ok(n) => format!(
            "template cache {}: {n} templates of {} exporters loaded",
            p.display(),
            d.exporters()
        ),
        Err(e) => format!(
            "template cache {}: {e}; the templates before it were loaded",
            p.display()
        ),
    })
}

/// Writes the decoder's templates to the cache of `root`, atomically.
pub(super) fn save(root: &Path, d: &Decoder) -> io::Result<()> {
    let p = path(root);
    let tmp = root.join(format!("{FILE}.tmp"));
    std::fs::create_dir_all(root)?;
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(d.save_templates().as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &p)
}
