//! The Community ID (v1) of a flow: the hash Zeek, Suricata (`community_id` in EVE), Arkime and
//! others write for a connection, so one flow can be found in each tool's logs
//! (<https://github.com/corelight/community-id-spec>). flowkit computes it from the flow's
//! addresses, protocol and ports rather than storing it; the `community-id` crate does the
//! hashing (SHA-1 of the ordered tuple, base64).

use crate::model::block::FlowBlock;
use crate::model::record::FlowRecord;
use std::net::IpAddr;

/// The seed Zeek and Suricata use unless configured otherwise.
pub const DEFAULT_SEED: u16 = 0;

/// The parts of a flow the Community ID hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FiveTuple {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol.
    pub protocol: u8,
    /// Source port.
    pub src_port: u16,
    /// Destination port; for ICMP and ICMPv6 the type and code as flowkit keeps them
    /// (`type << 8 | code`).
    pub dst_port: u16,
}

impl From<&FlowRecord> for FiveTuple {
    fn from(r: &FlowRecord) -> Self {
        FiveTuple {
            src: r.src_addr,
            dst: r.dst_addr,
            protocol: r.protocol,
            src_port: r.src_port,
            dst_port: r.dst_port,
        }
    }
}

impl FiveTuple {
    /// The five-tuple of row `i` of block `b` (which holds the address, port and protocol
    /// columns).
    pub fn of_row(b: &FlowBlock<'_>, i: usize) -> FiveTuple {
        FiveTuple {
            src: b.src_addr.get(i),
            dst: b.dst_addr.get(i),
            protocol: b.protocol[i],
            src_port: b.src_port[i],
            dst_port: b.dst_port[i],
        }
    }
}

/// `1:BASE64` for the flow, with `seed`; `None` when the addresses are of two families, or for
/// ICMPv6 between IPv4 addresses (no Community ID exists for such a flow).
pub fn community_id(t: &FiveTuple, seed: u16) -> Option<String> {
    let (sport, dport) = match t.protocol {
        // TCP, UDP, SCTP: the ports.
        6 | 17 | 132 => (Some(t.src_port), Some(t.dst_port)),
        // ICMP and ICMPv6: type and code, which the spec pairs with their reply types.
        1 | 58 => (Some(t.dst_port >> 8), Some(t.dst_port & 0xff)),
        // Everything else is hashed without ports.
        _ => (None, None),
    };
    community_id::calculate_community_id(seed, t.src, t.dst, sport, dport, t.protocol, false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(src: &str, dst: &str, protocol: u8, src_port: u16, dst_port: u16) -> FiveTuple {
        FiveTuple {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            protocol,
            src_port,
            dst_port,
        }
    }

    /// Values from Corelight's reference implementation (PyPI `communityid` 1.5.0):
    /// `CommunityID(seed).calc(FlowTuple.make_tcp(...))` and the like. Both directions of a
    /// connection share an ID; an echo request and its reply too.
    #[test]
    fn ids_are_the_reference_implementations() {
        let fwd = t("1.2.3.4", "5.6.7.8", 6, 1122, 3344);
        let rev = t("5.6.7.8", "1.2.3.4", 6, 3344, 1122);
        let want = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
        assert_eq!(community_id(&fwd, 0).as_deref(), Some(want));
        assert_eq!(community_id(&rev, 0).as_deref(), Some(want));
        assert_eq!(
            community_id(&fwd, 1).as_deref(),
            Some("1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=")
        );
        // ICMP echo request (type 8) and reply (type 0), type << 8 | code in the port.
        let echo = "1:YcMyyWJfhc95EW1GfXt6jlZ3DiQ=";
        let request = t("10.0.0.1", "10.0.0.2", 1, 0, 8 << 8);
        let reply = t("10.0.0.2", "10.0.0.1", 1, 0, 0);
        assert_eq!(community_id(&request, 0).as_deref(), Some(echo));
        assert_eq!(community_id(&reply, 0).as_deref(), Some(echo));
        // GRE: no ports in the hash, whatever the record holds there.
        let gre = t("10.0.0.1", "10.0.0.2", 47, 5, 6);
        assert_eq!(
            community_id(&gre, 0).as_deref(),
            Some("1:+KlEHDT0vJgzs/eNmzHq0aSpRYw=")
        );
    }

    #[test]
    fn mixed_families_have_no_id() {
        assert_eq!(community_id(&t("10.0.0.1", "::1", 6, 1, 2), 0), None);
    }
}
