//! Records of an nfdump 1.7 data block: V3 flow records (a header and extension elements),
//! exporter records (the exporter's address) and sampler records (its sampling rate).

use super::header::{u16_at, u32_at, u64_at};
use crate::model::record::{FlowRecord, UNSPECIFIED_V4};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record type of a V3 flow record.
pub const V3_RECORD: u16 = 11;
/// Record type of an exporter record (address, version, id of one exporter).
pub const EXPORTER_INFO: u16 = 7;
/// Record type of an exporter statistics record (ignored).
pub const EXPORTER_STAT: u16 = 8;
/// Record type of an nfdump 1.6-era sampler record.
pub const SAMPLER_LEGACY: u16 = 9;
/// Record type of a sampler record.
pub const SAMPLER: u16 = 15;
/// Record types that carry names (NBAR applications, interface and VRF names); not kept.
pub const NAME_RECORDS: [u16; 3] = [12, 13, 14];

/// Element EXvLan: source and destination VLAN ids.
const EX_VLAN: u16 = 6;
/// Element EXnselCommon: NSEL event time, connection id, firewall events.
const EX_NSEL_COMMON: u16 = 19;
/// Element EXnselXlateIPv4 (EXnatXlateIPv4 since 1.7.6): IPv4 addresses after NAT.
const EX_NAT_XLATE_V4: u16 = 20;
/// Element EXnselXlateIPv6 (EXnatXlateIPv6): IPv6 addresses after NAT.
const EX_NAT_XLATE_V6: u16 = 21;
/// Element EXnselXlatePort (EXnatXlatePort): ports after NAPT.
const EX_NAT_XLATE_PORT: u16 = 22;
/// Element EXflowId (nfdump 1.7.5 and later): the IPFIX flowId.
const EX_FLOW_ID: u16 = 39;
/// EXmplsLabel: ten u32 MPLS stack entries as received (IPFIX/v9 70-79, label << 4 | exp << 1 |
/// bottom of stack); the record keeps the top three.
const EX_MPLS_LABEL: u16 = 14;
/// EXmacAddr: four u64 MACs (48-bit values): inSrcMac (IPFIX 56), outDstMac (57), inDstMac
/// (80), outSrcMac (81).
const EX_MAC_ADDR: u16 = 15;
/// EXnbarApp: the application id's bytes as nfcapd stored them (IPFIX/v9 95, variable length).
const EX_NBAR_APP: u16 = 27;

/// V3 header flag: the counters were multiplied by the sampling rate when collected.
const V3_FLAG_SAMPLED: u8 = 2;
/// Length of the V3 record header.
const V3_HEADER_LEN: usize = 12;

/// Sampler ids nfdump gives samplers that do not come from a flow's own selector id.
const SAMPLER_OVERWRITE: i64 = -3;
const SAMPLER_DEFAULT: i64 = -2;
const SAMPLER_GENERIC: i64 = -1;

/// One sampler of an exporter: `packet_interval` packets sampled of every
/// `packet_interval + space_interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sampler {
    id: i64,
    packet_interval: u32,
    space_interval: u32,
}

/// The exporters and samplers the records of a file have announced so far, by exporter sysid.
#[derive(Default, Debug)]
pub struct Exporters {
    addr: HashMap<u16, IpAddr>,
    samplers: HashMap<u16, Vec<Sampler>>,
}

impl Exporters {
    /// Takes in an exporter record (`rec` includes its 4-byte record header).
    pub fn add_exporter(&mut self, rec: &[u8]) -> Result<(), String> {
        if rec.len() < 28 {
            return Err(format!(
                "exporter record of {} bytes is too short",
                rec.len()
            ));
        }
        // version u32 @4, ip_addr_t @8 (16 bytes), sa_family u16 @24, sysid u16 @26, id u32 @28
        let family = u16_at(rec, 24);
        let sysid = u16_at(rec, 26);
        let addr = match family {
            2 => IpAddr::V4(Ipv4Addr::from(u32_at(rec, 16))),
            10 => IpAddr::V6(v6_at(rec, 8)),
            other => return Err(format!("exporter record with address family {other}")),
        };
        self.addr.insert(sysid, addr);
        Ok(())
    }

    /// Takes in a sampler record (type 15, `rec` includes its header).
    pub fn add_sampler(&mut self, rec: &[u8]) -> Result<(), String> {
        if rec.len() < 24 {
            return Err(format!(
                "sampler record of {} bytes is too short",
                rec.len()
            ));
        }
        let s = Sampler {
            id: u64_at(rec, 8) as i64,
            packet_interval: u32_at(rec, 16),
            space_interval: u32_at(rec, 20),
        };
        self.put_sampler(u16_at(rec, 4), s);
        Ok(())
    }

    /// Takes in a legacy sampler record (type 9: id, interval, mode, sysid).
    pub fn add_legacy_sampler(&mut self, rec: &[u8]) -> Result<(), String> {
        if rec.len() < 16 {
            return Err(format!(
                "sampler record of {} bytes is too short",
                rec.len()
            ));
        }
        let interval = u32_at(rec, 8);
        let s = Sampler {
            id: u32_at(rec, 4) as i32 as i64,
            packet_interval: 1,
            space_interval: interval.saturating_sub(1),
        };
        self.put_sampler(u16_at(rec, 14), s);
        Ok(())
    }

    fn put_sampler(&mut self, sysid: u16, s: Sampler) {
        let list = self.samplers.entry(sysid).or_default();
        match list.iter_mut().find(|o| o.id == s.id) {
            Some(o) => *o = s,
            None => list.push(s),
        }
    }

    /// The sampler that applied to a sampled flow of exporter `sysid`, chosen as nfcapd
    /// chooses it: an overwrite sampler, the flow's own selector, the generic one, the default.
    fn sampler_for(&self, sysid: u16, selector: Option<i64>) -> Option<Sampler> {
        let list = self.samplers.get(&sysid)?;
        let by = |id: i64| list.iter().find(|s| s.id == id).copied();
        by(SAMPLER_OVERWRITE)
            .or_else(|| selector.and_then(by))
            .or_else(|| by(SAMPLER_GENERIC))
            .or_else(|| by(SAMPLER_DEFAULT))
            .or_else(|| (list.len() == 1).then(|| list[0]))
    }
}

/// IPv6 address stored by nfdump as two host-order (little-endian) u64 halves, high half first.
fn v6_at(b: &[u8], off: usize) -> Ipv6Addr {
    let hi = u64_at(b, off) as u128;
    let lo = u64_at(b, off + 8) as u128;
    Ipv6Addr::from(hi << 64 | lo)
}

/// Decodes a V3 flow record (`rec` includes its 12-byte header) into `r` (reset first).
/// Unknown elements are skipped; an element that runs past the record is an error.
pub fn decode_v3(rec: &[u8], exporters: &Exporters, r: &mut FlowRecord) -> Result<(), String> {
    *r = FlowRecord::default();
    if rec.len() < V3_HEADER_LEN {
        return Err(format!("V3 record of {} bytes is too short", rec.len()));
    }
    let elements = u16_at(rec, 4);
    r.engine_type = rec[6];
    r.engine_id = rec[7];
    let sysid = u16_at(rec, 8);
    let flags = rec[10];
    let mut received: Option<IpAddr> = None;
    let mut selector: Option<i64> = None;
    let mut flow_id: Option<u64> = None;
    let mut pos = V3_HEADER_LEN;
    for k in 0..elements {
        if pos + 4 > rec.len() {
            return Err(format!(
                "element {k} of {elements} starts past the record's {} bytes",
                rec.len()
            ));
        }
        let ty = u16_at(rec, pos);
        let len = u16_at(rec, pos + 2) as usize;
        if len < 4 || pos + len > rec.len() {
            return Err(format!(
                "element {k} (type {ty}) of length {len} at record byte {pos} runs past the record's {} bytes",
                rec.len()
            ));
        }
        let d = &rec[pos + 4..pos + len];
        let need = |n: usize| {
            if d.len() < n {
                Err(format!(
                    "element type {ty} has {} data bytes, fewer than its {n}",
                    d.len()
                ))
            } else {
                Ok(())
            }
        };
        match ty {
            1 => {
                need(48)?;
                r.start_ms = u64_at(d, 0) as i64;
                r.end_ms = u64_at(d, 8) as i64;
                r.packets = u64_at(d, 24);
                r.octets = u64_at(d, 32);
                r.src_port = u16_at(d, 40);
                r.dst_port = u16_at(d, 42);
                r.protocol = d[44];
                r.tcp_flags = d[45];
                r.tos = d[47];
            }
            2 => {
                need(8)?;
                r.src_addr = IpAddr::V4(Ipv4Addr::from(u32_at(d, 0)));
                r.dst_addr = IpAddr::V4(Ipv4Addr::from(u32_at(d, 4)));
            }
            3 => {
                need(32)?;
                r.src_addr = IpAddr::V6(v6_at(d, 0));
                r.dst_addr = IpAddr::V6(v6_at(d, 16));
            }
            4 => {
                need(10)?;
                r.input_if = u32_at(d, 0);
                r.output_if = u32_at(d, 4);
                r.src_mask = d[8];
                r.dst_mask = d[9];
                // dir @10, dstTos @11, biFlowDir @12, flowEndReason @13 (16 bytes since 1.7.0).
                if let Some(&reason) = d.get(13) {
                    r.end_reason = reason;
                }
            }
            5 => {
                need(24)?;
                r.rev_packets = u64_at(d, 8);
                r.rev_octets = u64_at(d, 16);
            }
            EX_VLAN => {
                // srcVlan u32 @0, dstVlan u32 @4 (vlanId 58 and postVlanId 59 are 12 bits).
                need(8)?;
                r.src_vlan = u32_at(d, 0) as u16;
                r.dst_vlan = u32_at(d, 4) as u16;
            }
            7 => {
                need(8)?;
                r.src_as = u32_at(d, 0);
                r.dst_as = u32_at(d, 4);
            }
            10 => {
                need(4)?;
                r.next_hop = IpAddr::V4(Ipv4Addr::from(u32_at(d, 0)));
            }
            11 => {
                need(16)?;
                r.next_hop = IpAddr::V6(v6_at(d, 0));
            }
            12 => {
                need(4)?;
                received = Some(IpAddr::V4(Ipv4Addr::from(u32_at(d, 0))));
            }
            13 => {
                need(16)?;
                received = Some(IpAddr::V6(v6_at(d, 0)));
            }
            18 => {
                need(4)?;
                // 1.7.1 stores an i32 id here, later versions a u64 selector id: the low
                // 32 bits read the same for the small ids exporters use.
                selector = Some(u32_at(d, 0) as i32 as i64);
            }
            EX_NSEL_COMMON => {
                // msecEvent u64 @0, connID u32 @8 (NSEL/IPFIX 148), fwXevent, fwEvent.
                need(12)?;
                if flow_id.is_none() {
                    r.flow_id = u64::from(u32_at(d, 8));
                }
            }
            EX_NAT_XLATE_V4 => {
                need(8)?;
                r.xlate_src_addr = IpAddr::V4(Ipv4Addr::from(u32_at(d, 0)));
                r.xlate_dst_addr = IpAddr::V4(Ipv4Addr::from(u32_at(d, 4)));
            }
            EX_NAT_XLATE_V6 => {
                need(32)?;
                r.xlate_src_addr = IpAddr::V6(v6_at(d, 0));
                r.xlate_dst_addr = IpAddr::V6(v6_at(d, 16));
            }
            EX_NAT_XLATE_PORT => {
                need(4)?;
                r.xlate_src_port = u16_at(d, 0);
                r.xlate_dst_port = u16_at(d, 2);
            }
            EX_FLOW_ID => {
                // nfdump 1.7.5 and later: IPFIX flowId (148) as a u64.
                need(8)?;
                flow_id = Some(u64_at(d, 0));
                r.flow_id = u64_at(d, 0);
            }
            EX_MPLS_LABEL => {
                need(12)?;
                r.mpls_label1 = u32_at(d, 0);
                r.mpls_label2 = u32_at(d, 4);
                r.mpls_label3 = u32_at(d, 8);
            }
            EX_MAC_ADDR => {
                // One MAC a side, as the IPFIX decoder keeps them: the "in" one, else the
                // "out" one (softflowd exports 56 and 57, pmacct 56 and 80).
                need(32)?;
                let (in_src, out_dst, in_dst, out_src) =
                    (u64_at(d, 0), u64_at(d, 8), u64_at(d, 16), u64_at(d, 24));
                let mac = |a: u64, b: u64| (if a != 0 { a } else { b }) & 0xffff_ffff_ffff;
                r.src_mac = mac(in_src, out_src);
                r.dst_mac = mac(in_dst, out_dst);
            }
            EX_NBAR_APP => {
                // nfdump prints these bytes in stored order (`%nbid`); ids of more than 8
                // bytes do not fit the record's column and read as none.
                r.app_id = crate::model::l2::app_id(d).unwrap_or(0);
            }
            _ => {}
        }
        pos += len;
    }
    r.exporter = received
        .or_else(|| exporters.addr.get(&sysid).copied())
        .unwrap_or(UNSPECIFIED_V4);
    if flags & V3_FLAG_SAMPLED != 0 {
        unscale(r, exporters.sampler_for(sysid, selector));
    }
    Ok(())
}

/// nfcapd multiplied a sampled flow's counters by `(packet + space) / packet` when it stored
/// them; our record keeps counters as exported with the interval beside them. The division is
/// made only where it is exact (it always is for 1-in-N sampling); otherwise the stored
/// (already scaled) counters are kept and the flow counts as unsampled, so totals stay right.
fn unscale(r: &mut FlowRecord, s: Option<Sampler>) {
    let Some(s) = s else { return };
    if s.packet_interval == 0 {
        return;
    }
    let total = s.packet_interval as u64 + s.space_interval as u64;
    if !total.is_multiple_of(s.packet_interval as u64) {
        return;
    }
    let rate = total / s.packet_interval as u64;
    if rate <= 1 || rate > u32::MAX as u64 {
        return;
    }
    let counters = [r.packets, r.octets, r.rev_packets, r.rev_octets];
    if counters.iter().all(|c| c.is_multiple_of(rate)) {
        r.packets /= rate;
        r.octets /= rate;
        r.rev_packets /= rate;
        r.rev_octets /= rate;
        r.sampling_interval = rate as u32;
    }
}
