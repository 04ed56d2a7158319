//! flow-capture's template cache, `DIR/.templates`: the decoder's templates (and sampling and
//! clock facts) with their full scope (exporter address and port, version, domain), written
//! when they change and read at start, so a collector restarted mid-stream decodes data at once
//! instead of dropping it until each exporter re-sends its templates. Written to a temporary
//! name, synced and renamed, so a crash leaves the old cache or the new one, never half of one.
//! A hidden name, so archive readers walking DIR pass it by.

use super::Writer;
use crate::netflow::Decoder;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// New exporters logged one by one per counters interval.
const MAX_NEW_EXPORTER_LINES: u64 = 1000;

/// The template cache is written at most this often (and at exit).
const TEMPLATE_CACHE_EVERY: Duration = Duration::from_secs(10);

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
        Err(e) => {
            return Some(format!(
                "template cache {}: {e}; starting without",
                p.display()
            ))
        }
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

/// The collector's side: logging new scopes and writing the cache.
impl Writer<'_> {
    /// Logs each exporter scope (address, port, version, domain) the first time it is seen, up
    /// to [`MAX_NEW_EXPORTER_LINES`] a counters interval (a flood of spoofed sources is summed
    /// up at the next counters line instead).
    pub(super) fn log_new_scopes(&mut self) {
        let (scopes, untold) = self.decoder.take_new_scopes();
        self.scopes_untold += untold;
        for s in scopes {
            if self.scopes_logged < MAX_NEW_EXPORTER_LINES {
                self.scopes_logged += 1;
                (self.log)(&format!("new exporter: {s}"));
            } else {
                self.scopes_untold += 1;
            }
        }
    }

    /// Reports the new exporters not logged one by one, and starts a new interval.
    pub(super) fn log_untold_scopes(&mut self) {
        if self.scopes_untold > 0 {
            let n = std::mem::take(&mut self.scopes_untold);
            (self.log)(&format!("{n} more new exporters not listed"));
        }
        self.scopes_logged = 0;
    }

    /// Writes the template cache when the templates changed since it was last written.
    /// At most every [`TEMPLATE_CACHE_EVERY`] (the first change is written at once), and at exit
    /// (`now`).
    pub(super) fn save_templates(&mut self, now: bool) {
        let generation = self.decoder.template_generation();
        if !self.cfg.template_cache || generation == self.saved_generation {
            return;
        }
        if !now
            && self
                .saved_at
                .is_some_and(|t| t.elapsed() < TEMPLATE_CACHE_EVERY)
        {
            return;
        }
        self.saved_at = Some(Instant::now());
        match save(&self.layout.root, &self.decoder) {
            Ok(()) => self.saved_generation = generation,
            Err(e) => {
                if !self.write_failing {
                    (self.log)(&format!(
                        "template cache {}: {e}",
                        path(&self.layout.root).display()
                    ));
                }
            }
        }
    }
}
