//! Data sets: records decoded with their template (flows into the output, options records
//! into the domain's sampling and clock state), or held until the template arrives.

use super::column::columns;
use super::record::flow;
use super::{FlowCtx, Walk};
use crate::model::record::FlowRecord;
use crate::netflow::options;
use crate::netflow::template::{walk_records, Op, Template};
use crate::netflow::{
    DecodeErrorKind, DecodeStats, DecoderConfig, Domain, ExportHeader, Exporter, FlowOut, Held,
};
use std::net::IpAddr;

impl Walk {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn data_set(
        &mut self,
        body: &[u8],
        body_off: usize,
        set_id: u16,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
        scratch: &mut Vec<Op>,
        out: &mut FlowOut<'_>,
    ) {
        let key = (self.h.version, self.h.domain, set_id);
        // Borrowed, not cloned: an `Arc` clone and drop per set is two atomic operations, and
        // each waits for the stores of the set decoded before it.
        let Some(t) = ex.templates.get(&key) else {
            ex.stats.unknown_template += 1;
            self.unknown = true;
            let held = Held {
                key,
                header: self.h,
                body: body.to_vec(),
                recv_ms: self.recv_ms,
            };
            ex.hold(cfg, held);
            return;
        };
        let dom = ex
            .domains
            .get_mut(&(key.0, key.1))
            .expect("domain created before the walk");
        let r = data(
            t,
            body,
            &self.h,
            self.exporter,
            dom,
            cfg,
            scratch,
            out,
            &mut ex.stats,
        );
        let options = t.options;
        match r {
            Ok(n) => {
                self.records += n as u64;
                if !options {
                    self.flow_records += n as u64;
                }
            }
            Err((o, kind)) => self.note(body_off + o, kind),
        }
        if options {
            ex.count_samplers(); // options data may have grown a sampler table
        }
    }

    pub(super) fn release_held(
        &mut self,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
        scratch: &mut Vec<Op>,
        out: &mut FlowOut<'_>,
    ) {
        let mut i = 0;
        while i < ex.held.len() {
            if !self.new_keys.contains(&ex.held[i].key) {
                i += 1;
                continue;
            }
            let Some(h) = ex.held.remove(i) else { break };
            ex.held_bytes -= h.body.len();
            ex.stats.held_decoded += 1;
            let (Some(t), Some(dom)) = (
                ex.templates.get(&h.key).cloned(),
                ex.domains.get_mut(&(h.key.0, h.key.1)),
            ) else {
                continue;
            };
            let r = data(
                &t,
                &h.body,
                &h.header,
                self.exporter,
                dom,
                cfg,
                scratch,
                out,
                &mut ex.stats,
            );
            if r.is_err() {
                ex.stats.malformed += 1;
            }
        }
        ex.count_samplers();
    }
}

/// Decodes the records of one data set with its template: flows into `out`, or options
/// records into the domain's state. Returns the records decoded.
#[allow(clippy::too_many_arguments)]
fn data(
    t: &Template,
    body: &[u8],
    h: &ExportHeader,
    exporter: IpAddr,
    dom: &mut Domain,
    cfg: &DecoderConfig,
    scratch: &mut Vec<Op>,
    out: &mut FlowOut<'_>,
    stats: &mut DecodeStats,
) -> Result<usize, (usize, DecodeErrorKind)> {
    if t.options {
        let r = walk_records(&t.layout, body, scratch, |rec, ops| {
            let o = options::read(rec, ops);
            dom.sampling.learn(&o, cfg.max_samplers_per_domain);
            if o.sys_init_ms.is_some() {
                dom.sys_init_ms = o.sys_init_ms;
            }
            stats.options_records += 1;
        });
        return r;
    }
    let ctx = FlowCtx {
        version: h.version,
        export_ms: h.export_ms,
        uptime_ms: h.uptime_ms,
        sys_init_ms: dom.sys_init_ms,
    };
    let base = FlowRecord {
        exporter,
        engine_type: (h.domain >> 8) as u8,
        engine_id: h.domain as u8,
        sampling_interval: dom.sampling.interval(None),
        ..FlowRecord::default()
    };
    let sampling = &dom.sampling;
    if let Some(plan) = &t.columns {
        let out = out.family(plan.v6);
        return Ok(columns(plan, body, &base, &ctx, sampling, out));
    }
    walk_records(&t.layout, body, scratch, |rec, ops| {
        out.push(&flow(rec, ops, &base, &ctx, sampling));
    })
}
