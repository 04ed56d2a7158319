//! Options data: what exporters say about themselves (sampling, clock). Never flows.

use super::template::{be_uint, Op, Slot};
use std::collections::HashMap;

/// Sampling announced by an exporter domain's options data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sampling {
    /// Interval (1 in N) announced without a sampler id (e.g. softflowd's interface-scoped
    /// SAMPLING_INTERVAL, IPFIX samplingPacketInterval/Space scoped by metering process).
    pub default_interval: Option<u32>,
    /// Intervals per sampler / selector id (e.g. pmacct's FLOW_SAMPLER_ID table), which flow
    /// records name in their own samplerId / selectorId field.
    pub by_sampler: HashMap<u64, u32>,
}

impl Sampling {
    /// The interval for a flow that names `sampler` (or none).
    #[inline]
    pub fn interval(&self, sampler: Option<u64>) -> u32 {
        sampler
            .and_then(|s| self.by_sampler.get(&s).copied())
            .or(self.default_interval)
            .unwrap_or(0)
    }
}

/// What one options record said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct OptionsRecord {
    pub sampler: Option<u64>,
    pub interval: Option<u32>,
    pub sys_init_ms: Option<i64>,
}

/// Reads the fields of one options record that matter to flows.
pub(super) fn read(rec: &[u8], ops: &[Op]) -> OptionsRecord {
    let mut o = OptionsRecord::default();
    let (mut pkt_interval, mut pkt_space, mut size, mut population) = (0u64, 0u64, 0u64, 0u64);
    let mut direct = None;
    for op in ops {
        let v = be_uint(&rec[op.offset as usize..][..op.len as usize]);
        match op.slot {
            Slot::SamplingInterval => direct = Some(v),
            Slot::SamplerId => o.sampler = Some(v),
            Slot::PacketInterval => pkt_interval = v,
            Slot::PacketSpace => pkt_space = v,
            Slot::SamplingSize => size = v,
            Slot::SamplingPopulation => population = v,
            Slot::SysInitMillis => o.sys_init_ms = Some(v as i64),
            _ => {}
        }
    }
    // RFC 5476: count-based systematic sampling selects `interval` packets out of every
    // `interval + space`; random n-out-of-N selects `size` of `population`.
    let interval = if let Some(v) = direct.filter(|&v| v > 0) {
        Some(v)
    } else if let Some(v) = (pkt_interval + pkt_space).checked_div(pkt_interval) {
        Some(v)
    } else {
        population.checked_div(size).filter(|&v| v > 0)
    };
    o.interval = interval.map(|v| v.min(u32::MAX as u64) as u32);
    o
}

impl Sampling {
    /// Records what an options record said; `max_samplers` bounds the sampler table.
    pub(super) fn learn(&mut self, o: &OptionsRecord, max_samplers: usize) {
        let Some(interval) = o.interval else { return };
        match o.sampler {
            Some(id) => {
                if self.by_sampler.len() < max_samplers || self.by_sampler.contains_key(&id) {
                    self.by_sampler.insert(id, interval);
                }
            }
            None => self.default_interval = Some(interval),
        }
    }
}
