//! The flow record: one model for what NetFlow v5, v9, IPFIX and flow-tools archives carry.
//!
//! Times are absolute UTC milliseconds since the Unix epoch, already corrected for the
//! exporter's sysUpTime, so every later tool works with wall-clock times.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// One unidirectional flow as the rest of the toolkit sees it.
///
/// Field names follow the NetFlow v5 record; IPv4 and IPv6 addresses share the same fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowRecord {
    /// First packet of the flow, UTC milliseconds since the epoch.
    pub start_ms: i64,
    /// Last packet of the flow, UTC milliseconds since the epoch.
    pub end_ms: i64,
    /// Source address.
    pub src_addr: IpAddr,
    /// Destination address.
    pub dst_addr: IpAddr,
    /// Source transport port (0 when the protocol has none).
    pub src_port: u16,
    /// Destination transport port; for ICMP exporters put `type << 8 | code` here.
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, ...).
    pub protocol: u8,
    /// Cumulative OR of the TCP flags seen.
    pub tcp_flags: u8,
    /// IP type of service byte.
    pub tos: u8,
    /// Packets in the flow (as exported, not multiplied by the sampling interval).
    pub packets: u64,
    /// Octets (layer 3 bytes) in the flow (as exported).
    pub octets: u64,
    /// Packets in the reverse direction of an RFC 5103 biflow; 0 for unidirectional flows.
    pub rev_packets: u64,
    /// Octets in the reverse direction of an RFC 5103 biflow; 0 for unidirectional flows.
    pub rev_octets: u64,
    /// SNMP index of the input interface.
    pub input_if: u32,
    /// SNMP index of the output interface.
    pub output_if: u32,
    /// Source autonomous system.
    pub src_as: u32,
    /// Destination autonomous system.
    pub dst_as: u32,
    /// Source address prefix length.
    pub src_mask: u8,
    /// Destination address prefix length.
    pub dst_mask: u8,
    /// Next-hop router address.
    pub next_hop: IpAddr,
    /// Address of the exporter that sent the flow (set by the collector).
    pub exporter: IpAddr,
    /// Exporter engine type.
    pub engine_type: u8,
    /// Exporter engine id (or the low byte of the v9 source id / IPFIX domain).
    pub engine_id: u8,
    /// Packet sampling interval (1 in N); 0 or 1 means unsampled.
    pub sampling_interval: u32,
    /// flow-tools source tag (v1005 archives, flow-tag); 0 otherwise.
    pub src_tag: u32,
    /// flow-tools destination tag; 0 otherwise.
    pub dst_tag: u32,
    /// Source address after NAT (IPFIX postNATSourceIPv4/IPv6Address, 225/281; conntrack's
    /// reply destination); `0.0.0.0` when the source was not translated or nothing said.
    pub xlate_src_addr: IpAddr,
    /// Destination address after NAT (IPFIX 226/282; conntrack's reply source); `0.0.0.0`
    /// when not translated.
    pub xlate_dst_addr: IpAddr,
    /// Source port after NAPT (IPFIX postNAPTSourceTransportPort, 227); 0 when not translated.
    pub xlate_src_port: u16,
    /// Destination port after NAPT (IPFIX 228); 0 when not translated.
    pub xlate_dst_port: u16,
    /// The exporter's id of the flow (IPFIX flowId, 148; conntrack's `ct.id`); 0 when none.
    pub flow_id: u64,
    /// VLAN id on the way in (IPFIX vlanId, 58); 0 when none.
    pub src_vlan: u16,
    /// VLAN id on the way out (IPFIX postVlanId, 59); 0 when none.
    pub dst_vlan: u16,
    /// Why the exporter ended the flow (IPFIX flowEndReason, 136: 1 idle timeout, 2 active
    /// timeout, 3 end of flow detected, 4 forced end, 5 lack of resources); 0 when not said.
    pub end_reason: u8,
    /// Source MAC address as its 48-bit value (`aa:bb:cc:dd:ee:ff` is `0xaabbccddeeff`):
    /// IPFIX sourceMacAddress (56), or postSourceMacAddress (81) when the template has no 56;
    /// 0 when none. Written as `aa:bb:cc:dd:ee:ff` in CSV and JSON.
    #[serde(serialize_with = "crate::model::l2::ser_mac")]
    pub src_mac: u64,
    /// Destination MAC address (IPFIX destinationMacAddress, 80, or postDestinationMacAddress,
    /// 57, when the template has no 80 — softflowd's choice); 0 when none.
    #[serde(serialize_with = "crate::model::l2::ser_mac")]
    pub dst_mac: u64,
    /// Top MPLS label stack entry (IPFIX mplsTopLabelStackSection, 70) as sent: the 24-bit
    /// `label << 4 | exp << 1 | bottom-of-stack`, as nfdump keeps it; 0 when none. Written
    /// as `label-exp-bos` (nfdump's `%mpls1`) in CSV and JSON.
    #[serde(serialize_with = "crate::model::l2::ser_mpls")]
    pub mpls_label1: u32,
    /// Second MPLS label stack entry (IPFIX mplsLabelStackSection2, 71), as `mpls_label1`.
    #[serde(serialize_with = "crate::model::l2::ser_mpls")]
    pub mpls_label2: u32,
    /// Third MPLS label stack entry (IPFIX mplsLabelStackSection3, 72), as `mpls_label1`.
    #[serde(serialize_with = "crate::model::l2::ser_mpls")]
    pub mpls_label3: u32,
    /// Application id (IPFIX applicationId, 95; Cisco NBAR): the classification engine id in
    /// the top byte, the selector below it (for engine 20, PANA-L7-PEN, the enterprise number
    /// in bits 24..56 and the selector in the low 24 bits); 0 when none. See
    /// [`crate::model::l2::app_id`]. Written as nfdump's `%nbid` (`ENGINE..SELECTOR`).
    #[serde(serialize_with = "crate::model::l2::ser_app_id")]
    pub app_id: u64,
}

/// The unspecified IPv4 address, used where a field was not exported.
pub const UNSPECIFIED_V4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl Default for FlowRecord {
    fn default() -> Self {
        FlowRecord {
            start_ms: 0,
            end_ms: 0,
            src_addr: UNSPECIFIED_V4,
            dst_addr: UNSPECIFIED_V4,
            src_port: 0,
            dst_port: 0,
            protocol: 0,
            tcp_flags: 0,
            tos: 0,
            packets: 0,
            octets: 0,
            rev_packets: 0,
            rev_octets: 0,
            input_if: 0,
            output_if: 0,
            src_as: 0,
            dst_as: 0,
            src_mask: 0,
            dst_mask: 0,
            next_hop: UNSPECIFIED_V4,
            exporter: UNSPECIFIED_V4,
            engine_type: 0,
            engine_id: 0,
            sampling_interval: 0,
            src_tag: 0,
            dst_tag: 0,
            xlate_src_addr: UNSPECIFIED_V4,
            xlate_dst_addr: UNSPECIFIED_V4,
            xlate_src_port: 0,
            xlate_dst_port: 0,
            flow_id: 0,
            src_vlan: 0,
            dst_vlan: 0,
            end_reason: 0,
            src_mac: 0,
            dst_mac: 0,
            mpls_label1: 0,
            mpls_label2: 0,
            mpls_label3: 0,
            app_id: 0,
        }
    }
}

impl FlowRecord {
    /// Flow duration in milliseconds (0 if the end precedes the start).
    pub fn duration_ms(&self) -> u64 {
        (self.end_ms - self.start_ms).max(0) as u64
    }
}
