//! A decoder's templates (and the sampling and clock facts options data announced) as text, so
//! a collector restarted mid-stream decodes data at once instead of holding or dropping it until
//! each exporter re-sends its templates (minutes, for some).
//!
//! One line per template, keyed with its full scope, and one per domain that learned sampling
//! or a system init time:
//!
//! ```text
//! # flowkit template cache 1
//! T 192.0.2.1:2055 10 1 256 data 0 152/8 153/8 8/4 12/4 ...
//! T 192.0.2.1:2055 9 0 257 options 1 1/4 34/4
//! D 192.0.2.1:2055 10 1 init=1289311200000 default=100 samplers=1:100,2:1000
//! ```
//!
//! `T source version domain id data|options scope-fields field...` with each field as
//! `element/length` or `element/length/enterprise`; `D source version domain` with `init=`,
//! `default=` and `samplers=` as known. Loading goes through the decoder's limits like templates
//! from the wire.

use super::template::{FieldSpec, Template};
use super::{memory::EXPORTER_COST, Decoder, Exporter};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

const HEADER: &str = "# flowkit template cache 1";

/// A template cache line that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct CacheError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

impl Decoder {
    /// The templates and domain facts of every exporter scope that has decoded flows (or came
    /// from a loaded cache), as cache text (see the module documentation), sorted so equal state
    /// gives equal text.
    pub fn save_templates(&self) -> String {
        let mut lines = Vec::new();
        // Scopes that never gave a flow (a template flood) are not worth a restart's time;
        // those loaded from the last cache stay until they are evicted.
        let worth = |e: &&Exporter| e.stats.flows > 0 || e.from_cache;
        for (src, e) in self.exporters.iter().filter(|(_, e)| worth(e)) {
            for ((version, domain, id), t) in &e.templates {
                let mut l = format!(
                    "T {src} {version} {domain} {id} {} {}",
                    if t.options { "options" } else { "data" },
                    t.scope_fields
                );
                for f in &t.fields {
                    let _ = write!(l, " {}/{}", f.id, f.len);
                    if f.enterprise != 0 {
                        let _ = write!(l, "/{}", f.enterprise);
                    }
                }
                lines.push(l);
            }
            for ((version, domain), d) in &e.domains {
                let s = &d.sampling;
                if d.sys_init_ms.is_none()
                    && s.default_interval.is_none()
                    && s.by_sampler.is_empty()
                {
                    continue;
                }
                let mut l = format!("D {src} {version} {domain}");
                if let Some(t) = d.sys_init_ms {
                    let _ = write!(l, " init={t}");
                }
                if let Some(i) = s.default_interval {
                    let _ = write!(l, " default={i}");
                }
                if !s.by_sampler.is_empty() {
                    let mut v: Vec<_> = s.by_sampler.iter().collect();
                    v.sort();
                    let list: Vec<String> = v.iter().map(|(k, i)| format!("{k}:{i}")).collect();
                    let _ = write!(l, " samplers={}", list.join(","));
                }
                lines.push(l);
            }
        }
        lines.sort();
        let mut out = String::from(HEADER);
        out.push('\n');
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }

    /// Loads cache text written by [`Decoder::save_templates`], within the decoder's limits.
    /// Returns the templates loaded; the first line that cannot be read is an error (the lines
    /// before it stay loaded). Templates the limits refuse are skipped.
    pub fn load_templates(&mut self, text: &str, now_ms: i64) -> Result<usize, CacheError> {
        let cfg = self.config.clone();
        let mut loaded = 0;
        for (i, line) in text.lines().enumerate() {
            let err = |why: &str| CacheError {
                line: i + 1,
                why: why.to_string(),
            };
            if i == 0 {
                if line != HEADER {
                    return Err(err("not a flowkit template cache (first line)"));
                }
                continue;
            }
            let mut w = line.split_ascii_whitespace();
            let kind = w.next();
            let (src, version, domain) = match (w.next(), w.next(), w.next()) {
                (Some(s), Some(v), Some(d)) => (
                    s.parse::<SocketAddr>().map_err(|_| err("bad exporter"))?,
                    v.parse::<u16>()
                        .ok()
                        .filter(|v| [9, 10].contains(v))
                        .ok_or_else(|| err("bad version"))?,
                    d.parse::<u32>().map_err(|_| err("bad domain"))?,
                ),
                _ if kind.is_none() => continue,
                _ => return Err(err("too few words")),
            };
            let Some(e) = self.cache_exporter(src, now_ms) else {
                continue;
            };
            let cfg = &cfg;
            let before = e.bytes(cfg);
            if e.domain(cfg, version, domain).is_err() {
                continue;
            }
            match kind {
                Some("T") => {
                    let t = template(&mut w, version).map_err(|w| err(&w))?;
                    let key = (version, domain, t.id);
                    let full = e.templates.len() >= cfg.max_templates_per_exporter;
                    let too_long = t.fields.len() > cfg.max_template_fields;
                    if !too_long && (!full || e.templates.contains_key(&key)) {
                        e.insert_template(key, Arc::new(t));
                        loaded += 1;
                    }
                }
                Some("D") => {
                    let dom = e
                        .domains
                        .get_mut(&(version, domain))
                        .expect("created above");
                    for kv in w {
                        let (k, v) = kv.split_once('=').ok_or_else(|| err("bad domain fact"))?;
                        let bad = || err("bad domain fact");
                        match k {
                            "init" => dom.sys_init_ms = Some(v.parse().map_err(|_| bad())?),
                            "default" => {
                                dom.sampling.default_interval = Some(v.parse().map_err(|_| bad())?)
                            }
                            "samplers" => {
                                for p in v.split(',') {
                                    let (s, n) = p.split_once(':').ok_or_else(bad)?;
                                    let (s, n) = (s.parse(), n.parse());
                                    let (Ok(s), Ok(n)) = (s, n) else {
                                        return Err(bad());
                                    };
                                    if dom.sampling.by_sampler.len() < cfg.max_samplers_per_domain {
                                        dom.sampling.by_sampler.insert(s, n);
                                    }
                                }
                            }
                            _ => return Err(bad()),
                        }
                    }
                }
                _ => return Err(err("unknown line kind")),
            }
            e.new_domains.clear();
            e.count_samplers();
            let after = e.bytes(cfg);
            self.account(false, before, after, src);
        }
        self.template_generation += 1;
        Ok(loaded)
    }

    /// The exporter a cache line is for, created within the exporter limit.
    fn cache_exporter(&mut self, src: SocketAddr, now_ms: i64) -> Option<&mut Exporter> {
        if !self.exporters.contains_key(&src) {
            if self.exporters.len() >= self.config.max_exporters {
                return None;
            }
            // Counted at once, so `account` sees an existing exporter.
            self.memory += EXPORTER_COST;
        }
        let e = self.exporters.entry(src).or_default();
        e.last_ms = e.last_ms.max(now_ms);
        e.from_cache = true;
        Some(e)
    }
}

/// Reads the rest of a `T` line.
fn template<'a>(w: &mut impl Iterator<Item = &'a str>, version: u16) -> Result<Template, String> {
    fn num<'a>(w: &mut impl Iterator<Item = &'a str>, what: &str) -> Result<u16, String> {
        w.next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad {what}"))
    }
    let id = num(w, "template id")?;
    let options = match w.next() {
        Some("data") => false,
        Some("options") => true,
        _ => return Err("bad template kind".into()),
    };
    let scope_fields = num(w, "scope count")?;
    let mut fields = Vec::new();
    for f in w {
        let mut p = f.split('/').map(|x| x.parse::<u32>());
        let (Some(Ok(id)), Some(Ok(len))) = (p.next(), p.next()) else {
            return Err(format!("bad field {f:?}"));
        };
        let enterprise = match p.next() {
            Some(Ok(e)) => e,
            None => 0,
            Some(Err(_)) => return Err(format!("bad field {f:?}")),
        };
        let (Ok(id), Ok(len)) = (u16::try_from(id), u16::try_from(len)) else {
            return Err(format!("bad field {f:?}"));
        };
        fields.push(FieldSpec {
            id,
            enterprise,
            len,
        });
    }
    Template::compile(id, fields, options, scope_fields, version == 9).map_err(|k| k.to_string())
}
