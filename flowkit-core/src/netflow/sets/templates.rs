//! Template and options-template sets: template records parsed (v9 or IPFIX), compiled and
//! stored for the exporter's domain, or withdrawn.

use super::Walk;
use crate::netflow::ipfix::{self, Record};
use crate::netflow::{v9, DecodeErrorKind, DecoderConfig, Exporter};
use std::sync::Arc;

impl Walk {
    pub(super) fn template_set(
        &mut self,
        body: &[u8],
        body_off: usize,
        options: bool,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
    ) {
        let (version, domain) = (self.h.version, self.h.domain);
        let mut off = 0;
        while off < body.len() {
            let rest = &body[off..];
            let at = body_off + off;
            let (record, used) = if version == 9 {
                let parsed = if options {
                    v9::options_template_record(rest, cfg)
                } else {
                    v9::template_record(rest, cfg)
                };
                match parsed {
                    Some((r, used)) => (Record::Define(r), used),
                    None => break,
                }
            } else {
                match ipfix::template_record(rest, options, cfg) {
                    Some(x) => x,
                    None => break,
                }
            };
            off += used;
            match record {
                Record::Define(Ok(def)) => {
                    let key = (version, domain, def.id);
                    let known = match ex.templates.get(&key) {
                        Some(old) if old.same_definition(&def) => {
                            ex.stats.templates += 1; // a refresh: nothing to compile
                            continue;
                        }
                        known => known.is_some(),
                    };
                    let t = match def.compile() {
                        Ok(t) => t,
                        Err(kind) => {
                            self.note(at, kind);
                            continue;
                        }
                    };
                    ex.stats.templates += 1;
                    if !known && ex.templates.len() >= cfg.max_templates_per_exporter {
                        let max = cfg.max_templates_per_exporter;
                        self.note(at, DecodeErrorKind::TemplateLimit { id: t.id, max });
                        continue;
                    }
                    ex.insert_template(key, Arc::new(t));
                    self.new_keys.push(key);
                }
                Record::Define(Err(kind)) => self.note(at, kind),
                Record::Withdraw(id) => {
                    if ex.remove_template(&(version, domain, id)) {
                        ex.stats.template_withdrawals += 1;
                    }
                }
                Record::WithdrawAll(which) => {
                    let want_options = which == 3;
                    let n = ex.remove_templates(|k, t| {
                        k.0 == version && k.1 == domain && t.options == want_options
                    });
                    ex.stats.template_withdrawals += n as u64;
                }
            }
        }
    }
}
