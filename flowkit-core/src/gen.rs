//! A deterministic generator of realistic flows, for benchmarks and for feeding other collectors
//! exactly the flows we archive (see `flow-gen` and bench/compare-nfdump).
//!
//! The mix: internal clients in 10.0.0.0/8 and a few servers in 192.168.0.0/16 talking to external
//! hosts whose popularity is heavy-tailed (a few hosts get most flows); common services (HTTPS, HTTP,
//! DNS, SSH, SMTP, NTP, RDP, IMAPS, IRC ...) with ephemeral client ports; requests and responses as
//! separate unidirectional flows; heavy-tailed (Pareto) packet counts with octets to match; durations
//! growing with the packets; some ICMP and some IPv6. Start times rise through the chosen span (one
//! day by default), so a time window maps onto a small part of an archive, as with real collections.

use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Number of flows.
    pub flows: u64,
    /// Seed: the same seed and settings give the same flows on every machine.
    pub seed: u64,
    /// Start of the span, UTC ms.
    pub start_ms: i64,
    /// Length of the span the flow start times cover, ms.
    pub span_ms: i64,
    /// Flows in a thousand that are IPv6 (0 for exports that cannot carry IPv6, such as NetFlow v5).
    pub ipv6_permille: u32,
    /// Exporter address recorded on every flow.
    pub exporter: IpAddr,
    /// Largest packet count of one flow (keeps counters within what NetFlow v5 can carry).
    pub max_packets: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            flows: 1_000_000,
            seed: 1,
            start_ms: 1_717_372_800_000, // 2024-06-03 00:00:00 UTC, a Monday
            span_ms: 86_400_000,
            ipv6_permille: 20,
            exporter: IpAddr::V4(Ipv4Addr::LOCALHOST),
            max_packets: 1_000_000,
        }
    }
}

/// SplitMix64: a tiny, fixed, documented generator (Steele, Lea, Flood 2014). Hand-written on
/// purpose: the data must be identical on every machine and every build, which `rand`'s default
/// generators do not promise, and it is faster than any generator behind a trait object.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (n > 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A uniform float in (0, 1].
    #[inline]
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// A service clients connect to: port, protocol, weight in the mix, typical bytes per packet.
struct Service {
    port: u16,
    protocol: u8,
    weight: u32,
    packet_bytes: u64,
}

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;

const SERVICES: &[Service] = &[
    Service {
        port: 443,
        protocol: TCP,
        weight: 400,
        packet_bytes: 900,
    },
    Service {
        port: 80,
        protocol: TCP,
        weight: 180,
        packet_bytes: 800,
    },
    Service {
        port: 53,
        protocol: UDP,
        weight: 150,
        packet_bytes: 90,
    },
    Service {
        port: 22,
        protocol: TCP,
        weight: 30,
        packet_bytes: 200,
    },
    Service {
        port: 25,
        protocol: TCP,
        weight: 20,
        packet_bytes: 600,
    },
    Service {
        port: 123,
        protocol: UDP,
        weight: 20,
        packet_bytes: 76,
    },
    Service {
        port: 3389,
        protocol: TCP,
        weight: 10,
        packet_bytes: 300,
    },
    Service {
        port: 993,
        protocol: TCP,
        weight: 15,
        packet_bytes: 500,
    },
    Service {
        port: 8080,
        protocol: TCP,
        weight: 25,
        packet_bytes: 700,
    },
    Service {
        port: 6667,
        protocol: TCP,
        weight: 2,
        packet_bytes: 120,
    },
    Service {
        port: 445,
        protocol: TCP,
        weight: 8,
        packet_bytes: 400,
    },
];

/// Makes flows one at a time; see the module documentation for the mix.
#[derive(Clone, Debug)]
pub struct FlowGen {
    cfg: GenConfig,
    rng: SplitMix64,
    next: u64,
    weight_total: u32,
}

impl FlowGen {
    /// A generator for `cfg`.
    pub fn new(cfg: GenConfig) -> Self {
        FlowGen {
            rng: SplitMix64::new(cfg.seed),
            weight_total: SERVICES.iter().map(|s| s.weight).sum(),
            cfg,
            next: 0,
        }
    }

    /// Flows still to come.
    pub fn remaining(&self) -> u64 {
        self.cfg.flows - self.next
    }

    fn service(&mut self) -> &'static Service {
        let mut w = self.rng.below(self.weight_total as u64) as u32;
        for s in SERVICES {
            if w < s.weight {
                return s;
            }
            w -= s.weight;
        }
        &SERVICES[0]
    }

    /// An internal host: mostly 10.x clients, sometimes a 192.168 server.
    fn internal_v4(&mut self) -> Ipv4Addr {
        if self.rng.below(10) == 0 {
            Ipv4Addr::new(192, 168, 1, 1 + self.rng.below(60) as u8)
        } else {
            let h = self.rng.below(20_000) as u32;
            Ipv4Addr::from(0x0a00_0000 | (h / 250) << 8 | (h % 250 + 1))
        }
    }

    /// An external host: heavy-tailed popularity over about a million addresses.
    fn external_v4(&mut self) -> Ipv4Addr {
        // Rank ~ Pareto: rank 0 is the most popular host.
        let rank = (1.0 / self.rng.unit().powf(1.0 / 1.1)) as u64 - 1;
        let h = (rank.min(999_999) + 1).wrapping_mul(0x9e37_79b9) as u32;
        // Spread ranks over public-looking space, avoiding 0/8, 10/8, 127/8 and multicast.
        let first = 11 + (h >> 24) % 200;
        Ipv4Addr::from(first << 24 | (h & 0x00ff_ffff))
    }

    fn v6(&mut self, internal: bool) -> Ipv6Addr {
        if internal {
            Ipv6Addr::new(
                0x2001,
                0xdb8,
                0x10,
                0,
                0,
                0,
                0,
                1 + self.rng.below(500) as u16,
            )
        } else {
            let rank = (1.0 / self.rng.unit().powf(1.0 / 1.1)) as u64 - 1;
            let h = rank.min(99_999) as u16;
            Ipv6Addr::new(0x2001, 0xdb8, 0xff00, 0, 0, 0, (rank >> 16) as u16, h)
        }
    }

    /// Heavy-tailed packet count: Pareto with shape 1.2 and scale 1, capped.
    fn packets(&mut self) -> u64 {
        let p = (1.0 / self.rng.unit().powf(1.0 / 1.2)) as u64;
        p.clamp(1, self.cfg.max_packets)
    }

    /// The next flow, or `None` when `cfg.flows` have been made.
    pub fn next_flow(&mut self) -> Option<FlowRecord> {
        if self.next >= self.cfg.flows {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let spacing = self.cfg.span_ms as f64 / self.cfg.flows.max(1) as f64;
        let start_ms = self.cfg.start_ms + (i as f64 * spacing) as i64;
        let v6 = self.rng.below(1000) < self.cfg.ipv6_permille as u64;
        let (client, server) = if v6 {
            (IpAddr::V6(self.v6(true)), IpAddr::V6(self.v6(false)))
        } else {
            (
                IpAddr::V4(self.internal_v4()),
                IpAddr::V4(self.external_v4()),
            )
        };
        let packets = self.packets();
        let mut r = FlowRecord {
            start_ms,
            exporter: self.cfg.exporter,
            packets,
            ..FlowRecord::default()
        };
        let icmp = self.rng.below(100) < 2;
        let response = self.rng.below(100) < 45;
        if icmp {
            r.protocol = ICMP;
            // Echo request 8/0 or reply 0/0, type in the high byte as NetFlow v5 carries it.
            r.dst_port = if response { 0 } else { 8 << 8 };
            r.octets = packets * 84;
            r.packets = packets.min(20);
            r.octets = r.packets * 84;
        } else {
            let s = self.service();
            let ephemeral = 32768 + self.rng.below(28232) as u16;
            r.protocol = s.protocol;
            let per_packet = s.packet_bytes / 2 + self.rng.below(s.packet_bytes);
            r.octets = packets * per_packet.clamp(40, 1500);
            if s.protocol == TCP && packets <= 2 {
                r.octets = packets * 40; // handshakes and resets carry no data
            }
            if s.protocol == TCP {
                r.tcp_flags = match packets {
                    1 => 0x02,                           // a lone SYN
                    2 if self.rng.below(4) == 0 => 0x14, // RST after SYN
                    _ => 0x1b,                           // FIN PSH ACK SYN
                };
            }
            if response {
                r.src_port = s.port;
                r.dst_port = ephemeral;
            } else {
                r.src_port = ephemeral;
                r.dst_port = s.port;
            }
        }
        let (src, dst) = if response {
            (server, client)
        } else {
            (client, server)
        };
        r.src_addr = src;
        r.dst_addr = dst;
        // Interfaces, masks and AS as a border router would see them.
        let inbound = response;
        (r.input_if, r.output_if) = if inbound { (1, 2) } else { (2, 1) };
        let external_as = 1000 + (self.rng.below(60_000) as u32);
        if inbound {
            r.src_as = external_as;
        } else {
            r.dst_as = external_as;
        }
        if !v6 {
            (r.src_mask, r.dst_mask) = if inbound { (16, 24) } else { (24, 16) };
            r.next_hop = IpAddr::V4(Ipv4Addr::new(10, 255, 0, if inbound { 2 } else { 1 }));
        } else {
            (r.src_mask, r.dst_mask) = if inbound { (32, 48) } else { (48, 32) };
        }
        // Longer flows take longer: up to ~200 ms a packet, within a 30-minute active timeout.
        let per_packet_ms = 1 + self.rng.below(200);
        let duration = if r.packets == 1 {
            0
        } else {
            (r.packets - 1).saturating_mul(per_packet_ms).min(1_800_000) as i64
        };
        r.end_ms = r.start_ms + duration;
        Some(r)
    }
}

impl Iterator for FlowGen {
    type Item = FlowRecord;

    fn next(&mut self) -> Option<FlowRecord> {
        self.next_flow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_flows_other_seed_other_flows() {
        let cfg = GenConfig {
            flows: 500,
            ..GenConfig::default()
        };
        let a: Vec<_> = FlowGen::new(cfg.clone()).collect();
        let b: Vec<_> = FlowGen::new(cfg.clone()).collect();
        let c: Vec<_> = FlowGen::new(GenConfig { seed: 2, ..cfg }).collect();
        assert_eq!(a.len(), 500);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_mix_is_plausible() {
        let cfg = GenConfig {
            flows: 100_000,
            ..GenConfig::default()
        };
        let flows: Vec<_> = FlowGen::new(cfg.clone()).collect();
        let share = |f: &dyn Fn(&FlowRecord) -> bool| {
            flows.iter().filter(|r| f(r)).count() as f64 / flows.len() as f64
        };
        // Start times rise through the span; ends never precede starts.
        assert!(flows.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));
        assert!(flows.iter().all(|r| r.end_ms >= r.start_ms));
        assert!(flows.last().unwrap().start_ms < cfg.start_ms + cfg.span_ms);
        let v6 = share(&|r| r.src_addr.is_ipv6());
        assert!((0.01..0.03).contains(&v6), "IPv6 share {v6}");
        let https = share(&|r| r.dst_port == 443 || r.src_port == 443);
        assert!((0.3..0.5).contains(&https), "HTTPS share {https}");
        let one_packet = share(&|r| r.packets == 1);
        assert!(
            (0.3..0.7).contains(&one_packet),
            "1-packet share {one_packet}"
        );
        // Heavy tail: a few flows carry a large part of the packets.
        let mut p: Vec<u64> = flows.iter().map(|r| r.packets).collect();
        p.sort_unstable_by(|a, b| b.cmp(a));
        let total: u64 = p.iter().sum();
        let top: u64 = p[..1000].iter().sum();
        assert!(top * 4 > total, "top 1% carry {top} of {total} packets");
        assert!(flows.iter().all(|r| r.packets <= cfg.max_packets));
        assert!(flows.iter().all(|r| r.octets <= u32::MAX as u64));
    }
}
