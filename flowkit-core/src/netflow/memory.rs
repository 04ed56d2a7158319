//! One global cap on the bytes a [`Decoder`] keeps ([`DecoderConfig::max_memory`]).
//!
//! The per-exporter limits bound what one exporter scope can make the decoder keep, but not
//! what many can: spoofed datagrams from thousands of addresses, ports and domains, each within
//! its limits, once grew the state to gigabytes. So every template, domain, held data set and
//! exporter is accounted in bytes as it is added or removed (an estimate of its heap use, on
//! the high side), and when the total passes the cap, state is evicted down to 7/8 of it:
//! first data held for missing templates, oldest first; then whole exporter scopes, least
//! recently heard first (never the one being decoded); last, the templates of that one. Every
//! eviction is counted ([`DecodeStats`]), so a collector under a flood loses state visibly,
//! never by running out of memory.

use super::{
    template::Template, DecodeStats, Decoder, DecoderConfig, Domain, Exporter, Held, TemplateKey,
};
use std::mem::size_of;
use std::net::SocketAddr;
use std::sync::Arc;

/// Bytes charged per exporter scope (its map entry and fixed state).
pub(super) const EXPORTER_COST: usize = size_of::<Exporter>() + size_of::<SocketAddr>() + 64;

/// Bytes charged per held data set.
pub(super) fn held_cost(h: &Held) -> usize {
    size_of::<Held>() + h.body.len() + 16
}

/// Bytes charged per domain, besides its sampler table.
const DOMAIN_COST: usize = size_of::<Domain>() + size_of::<(u16, u32)>() + 64;

/// Bytes charged per sampler table slot (key, interval, hash table overhead).
const SAMPLER_COST: usize = 32;

/// How much state a decoder holds against its cap (see [`Decoder::memory`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Bytes accounted now.
    pub bytes: usize,
    /// The most bytes accounted at any time (after eviction).
    pub peak: usize,
    /// The cap ([`DecoderConfig::max_memory`]).
    pub cap: usize,
}

impl Template {
    /// Bytes this template takes (itself, its field list and compiled plans, its map entry).
    pub(crate) fn footprint(&self) -> usize {
        use super::template::{FieldSpec, Layout, Op, Slot};
        let layout = match &self.layout {
            Layout::Fixed { ops, .. } => ops.capacity() * size_of::<Op>(),
            Layout::Variable { fields, .. } => fields.capacity() * size_of::<(u16, Slot)>(),
        };
        let columns = self.columns.as_ref().map_or(0, |c| {
            c.kernels.capacity() * size_of::<super::sets::ColumnKernel>()
                + c.per_record.capacity() * size_of::<Op>()
        });
        size_of::<Template>()
            + self.fields.capacity() * size_of::<FieldSpec>()
            + layout
            + columns
            + size_of::<TemplateKey>()
            + 64
    }
}

impl Exporter {
    /// Bytes charged for this exporter's templates, domains and held data.
    pub(super) fn bytes(&self, _cfg: &DecoderConfig) -> usize {
        self.tpl_bytes
            + self.domains.len() * DOMAIN_COST
            + self.sampler_slots * SAMPLER_COST
            + self.held_bytes
            + self.held.len() * (size_of::<Held>() + 16)
    }

    /// Recounts the sampler table slots of all domains (after options data, which is rare:
    /// [`Exporter::bytes`] runs for every datagram and reads the count).
    pub(super) fn count_samplers(&mut self) {
        self.sampler_slots = self
            .domains
            .values()
            .map(|d| d.sampling.by_sampler.capacity())
            .sum();
    }

    /// Adds or replaces a template.
    pub(super) fn insert_template(&mut self, key: TemplateKey, t: Arc<Template>) {
        self.tpl_bytes += t.footprint();
        if let Some(old) = self.templates.insert(key, t) {
            self.tpl_bytes -= old.footprint();
        }
    }

    /// Removes a template; true when there was one.
    pub(super) fn remove_template(&mut self, key: &TemplateKey) -> bool {
        match self.templates.remove(key) {
            Some(old) => {
                self.tpl_bytes -= old.footprint();
                true
            }
            None => false,
        }
    }

    /// Removes the templates for which `drop` is true; returns how many.
    pub(super) fn remove_templates(
        &mut self,
        mut drop: impl FnMut(&TemplateKey, &Template) -> bool,
    ) -> usize {
        let mut freed = 0;
        let before = self.templates.len();
        self.templates.retain(|k, t| {
            let d = drop(k, t);
            if d {
                freed += t.footprint();
            }
            !d
        });
        self.tpl_bytes -= freed;
        before - self.templates.len()
    }
}

impl Decoder {
    /// What the decoder holds against its memory cap.
    pub fn memory(&self) -> MemoryUsage {
        MemoryUsage {
            bytes: self.memory,
            peak: self.peak_memory,
            cap: self.config.max_memory,
        }
    }

    /// Bytes accounted now, counted afresh from every exporter (to check the running total).
    pub fn memory_recount(&self) -> usize {
        self.exporters
            .values()
            .map(|e| e.bytes(&self.config) + EXPORTER_COST)
            .sum()
    }

    /// Books the change of one exporter's bytes (`created`: a new exporter, `before` 0) and
    /// evicts when the total passes the cap.
    pub(super) fn account(
        &mut self,
        created: bool,
        before: usize,
        after: usize,
        current: SocketAddr,
    ) {
        if created {
            self.memory += EXPORTER_COST;
        }
        self.memory = self.memory + after - before;
        if self.memory > self.config.max_memory {
            self.evict(current);
        }
        self.peak_memory = self.peak_memory.max(self.memory);
    }

    /// Removes one exporter scope, keeping its counters in the totals and counting what went.
    fn evict_exporter(&mut self, a: SocketAddr) {
        if let Some(e) = self.exporters.remove(&a) {
            self.memory -= e.bytes(&self.config) + EXPORTER_COST;
            let mut s: DecodeStats = e.stats;
            s.held_dropped += e.held.len() as u64;
            s.evicted_held += e.held.len() as u64;
            s.evicted_templates += e.templates.len() as u64;
            s.evicted_exporters += 1;
            self.evicted.add(&s);
            self.template_generation += 1;
        }
    }

    /// With as many exporter scopes as allowed, makes room for a new one by evicting the least
    /// recently heard, if it has been silent longer than the held-data age (an exporter that
    /// restarted on another source port leaves its old scope behind; a flood of fresh scopes
    /// is still refused and counted).
    pub(super) fn evict_stale_exporter(&mut self, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(self.config.max_held_age_ms);
        let oldest = self
            .exporters
            .iter()
            .map(|(a, e)| (e.last_ms, *a))
            .min()
            .filter(|(t, _)| *t < cutoff);
        if let Some((_, a)) = oldest {
            self.evict_exporter(a);
        }
    }

    /// Evicts state down to 7/8 of the cap (see the module documentation).
    fn evict(&mut self, current: SocketAddr) {
        let cfg = self.config.clone();
        let target = cfg.max_memory - cfg.max_memory / 8;
        // Held data, the exporters with the oldest first.
        let mut order: Vec<(i64, SocketAddr)> = self
            .exporters
            .iter()
            .filter_map(|(a, e)| e.held.front().map(|h| (h.recv_ms, *a)))
            .collect();
        order.sort_unstable();
        for (_, a) in order {
            let Some(e) = self.exporters.get_mut(&a) else {
                continue;
            };
            while self.memory > target {
                let Some(h) = e.held.front() else { break };
                let b = held_cost(h);
                e.drop_oldest_held();
                e.stats.evicted_held += 1;
                self.memory -= b;
            }
            if self.memory <= target {
                return;
            }
        }
        // Whole exporter scopes, least recently heard first.
        let mut order: Vec<(i64, SocketAddr)> = self
            .exporters
            .iter()
            .filter(|(a, _)| **a != current)
            .map(|(a, e)| (e.last_ms, *a))
            .collect();
        order.sort_unstable();
        for (_, a) in order {
            if self.memory <= target {
                return;
            }
            self.evict_exporter(a);
        }
        // The current exporter alone is over the cap: its templates go.
        if let Some(e) = self.exporters.get_mut(&current) {
            let before = e.bytes(&cfg);
            let n = e.remove_templates(|_, _| true);
            e.stats.evicted_templates += n as u64;
            self.memory = self.memory - before + e.bytes(&cfg);
            self.template_generation += 1;
        }
    }
}

/// What a decoder holds for one exporter (see [`Decoder::usage`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExporterUsage {
    /// Templates kept (data and options, over all domains).
    pub templates: usize,
    /// Source ids / observation domains tracked.
    pub domains: usize,
    /// Data sets held waiting for their template.
    pub held_sets: usize,
    /// Bytes of those sets.
    pub held_bytes: usize,
}

impl ExporterUsage {
    /// The larger of each count (to keep a peak over time or over exporters).
    pub fn max(self, o: ExporterUsage) -> ExporterUsage {
        ExporterUsage {
            templates: self.templates.max(o.templates),
            domains: self.domains.max(o.domains),
            held_sets: self.held_sets.max(o.held_sets),
            held_bytes: self.held_bytes.max(o.held_bytes),
        }
    }
}
