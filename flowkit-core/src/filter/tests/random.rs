//! Random filters and flows: the compiled filter agrees with the interpreter, batches keep order, pruning never skips a selected flow.

use super::*;

/// SplitMix64: a small deterministic generator for the property test's values.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const V4_POOL: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.1.2.3",
    "10.200.0.9",
    "192.168.1.1",
    "192.168.1.200",
    "172.16.5.4",
    "8.8.8.8",
    "0.0.0.0",
    "255.255.255.255",
];
const V6_POOL: &[&str] = &[
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8:1::5",
    "fe80::1",
    "::1",
    "2a01:e35:1394:5bd0::7",
];
const PORT_POOL: &[u64] = &[0, 20, 21, 22, 53, 80, 443, 6667, 8080, 65535];
const MAC_POOL: &[u64] = &[0, 0x0011_2233_4455, 0x0a00_0000_0001, 0xffff_ffff_ffff];
/// MPLS label stack entries (label << 4 | exp << 1 | bottom of stack): labels 0, 1, 16, 1048575.
const MPLS_POOL: &[u64] = &[0, 0x11, 0x101, 0x10e, 0xff_fff1];
/// Application ids: none, 13..443, 3..53, 20..3539..257.
const APP_POOL: &[u64] = &[0, 13 << 56 | 443, 3 << 56 | 53, 20 << 56 | 3539 << 24 | 257];

fn random_addr(rng: &mut Rng) -> IpAddr {
    match rng.below(10) {
        0 => ip(rng.pick::<&str>(V6_POOL)),
        1 => IpAddr::V4((rng.next() as u32).into()),
        _ => ip(rng.pick::<&str>(V4_POOL)),
    }
}

fn random_value(rng: &mut Rng, pool: &[u64], max: u64) -> u64 {
    if rng.chance(3) {
        rng.below(max.saturating_add(1).max(1))
    } else {
        *rng.pick(pool) % max.saturating_add(1).max(1)
    }
}

pub(crate) fn random_record(rng: &mut Rng) -> FlowRecord {
    // Around a DST change of the zone the test uses, so both time-of-day paths run.
    let start = 1_289_109_600_000 + rng.below(3 * 86_400_000) as i64; // from 2010-11-07 06:00 UTC
    let end =
        start + [0i64, 1, 999, 1000, 60_000, -5][rng.below(6) as usize] + rng.below(3000) as i64;
    let small = [0u64, 1, 2, 5, 10, 19, 20, 50, 51, 100, 1000, 1500];
    FlowRecord {
        start_ms: start,
        end_ms: end,
        src_addr: random_addr(rng),
        dst_addr: random_addr(rng),
        src_port: random_value(rng, PORT_POOL, 65535) as u16,
        dst_port: random_value(rng, PORT_POOL, 65535) as u16,
        protocol: random_value(rng, &[1, 6, 17, 47, 58], 255) as u8,
        tcp_flags: rng.below(256) as u8,
        tos: rng.below(256) as u8,
        packets: random_value(rng, &small, u64::MAX),
        octets: random_value(rng, &small, u64::MAX),
        input_if: random_value(rng, &[0, 1, 5, 10, 70000], u32::MAX as u64) as u32,
        output_if: random_value(rng, &[0, 1, 5, 10], 100) as u32,
        src_as: random_value(rng, &[0, 3356, 65000, 4_200_000_000], u32::MAX as u64) as u32,
        dst_as: random_value(rng, &[0, 3356, 65000], 70000) as u32,
        src_mask: rng.below(129) as u8,
        dst_mask: rng.below(33) as u8,
        next_hop: random_addr(rng),
        exporter: random_addr(rng),
        engine_type: rng.below(4) as u8,
        engine_id: rng.below(256) as u8,
        src_tag: random_value(rng, &[0, 0x10, 0x1ff, 0xff00], u32::MAX as u64) as u32,
        dst_tag: rng.below(0x400) as u32,
        src_mac: random_value(rng, MAC_POOL, (1 << 48) - 1),
        dst_mac: random_value(rng, MAC_POOL, (1 << 48) - 1),
        mpls_label1: random_value(rng, MPLS_POOL, 0xff_ffff) as u32,
        mpls_label2: random_value(rng, MPLS_POOL, 0xff_ffff) as u32,
        mpls_label3: random_value(rng, MPLS_POOL, 0xff_ffff) as u32,
        src_vlan: random_value(rng, &[0, 1, 100, 4095], 65535) as u16,
        dst_vlan: random_value(rng, &[0, 1, 100, 4095], 65535) as u16,
        end_reason: rng.below(7) as u8,
        flow_id: random_value(rng, &small, u64::MAX),
        app_id: random_value(rng, APP_POOL, u64::MAX),
        ..FlowRecord::default()
    }
}

fn random_op(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(&["lt", "gt", "eq", "ne", "le", "ge", "LT", "Ge"])
}

fn bucket_atom(rng: &mut Rng, kind: PrimitiveKind) -> String {
    let max = kind.bucket_max();
    match kind {
        PrimitiveKind::IpProtocol if rng.chance(3) => rng
            .pick(&["tcp", "udp", "icmp", "gre", "ipv6-icmp"])
            .to_string(),
        PrimitiveKind::IpPort if rng.chance(3) => rng
            .pick(&["ssh", "http", "https", "domain", "ircd", "ftp-data"])
            .to_string(),
        PrimitiveKind::IpPort => random_value(rng, PORT_POOL, max).to_string(),
        PrimitiveKind::As => random_value(rng, &[0, 3356, 65000, 4_200_000_000], max).to_string(),
        PrimitiveKind::IfIndex => random_value(rng, &[0, 1, 5, 10, 70000], max).to_string(),
        _ => {
            let v = rng.below(max + 1);
            if rng.chance(2) {
                format!("{v:#x}")
            } else {
                v.to_string()
            }
        }
    }
}

fn random_entry(rng: &mut Rng, kind: PrimitiveKind) -> String {
    use PrimitiveKind::*;
    let action = if rng.chance(3) { "deny" } else { "permit" };
    let value = match kind {
        k @ (As | IpProtocol | IpPort | IpAddressPrefixLen | IpTos | IpTcpFlags | IfIndex
        | Engine) => {
            let n = 1 + rng.below(3);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let a = bucket_atom(rng, k);
                    if rng.chance(3) && a.starts_with(|c: char| c.is_ascii_digit()) {
                        let lo = super::values::read_number(&a).unwrap().0;
                        let hi = lo + rng.below(300).min(k.bucket_max() - lo);
                        format!("{a}-{hi}")
                    } else {
                        a
                    }
                })
                .collect();
            format!(
                "{}{}",
                if rng.chance(5) { "!" } else { "" },
                items.join(",")
            )
        }
        IpAddress => random_addr(rng).to_string(),
        IpAddressMask => {
            let a = random_addr(rng);
            let (bits, width) = if a.is_ipv4() { (32, 32) } else { (128, 128) };
            let len = rng.below(bits + 1) as u32;
            let mask: IpAddr = if rng.chance(4) {
                // Not a prefix.
                if width == 32 {
                    IpAddr::V4((rng.next() as u32).into())
                } else {
                    IpAddr::V6(((rng.next() as u128) << 64 | rng.next() as u128).into())
                }
            } else if width == 32 {
                IpAddr::V4((u32::MAX.checked_shl(32 - len).unwrap_or(0)).into())
            } else {
                IpAddr::V6((u128::MAX.checked_shl(128 - len).unwrap_or(0)).into())
            };
            format!("{a} {mask}")
        }
        IpAddressPrefix => {
            let a = random_addr(rng);
            let max = if a.is_ipv4() { 32 } else { 128 };
            if a.is_ipv4() && rng.chance(6) {
                a.to_string() // classful guess
            } else {
                format!("{a}/{}", rng.below(max + 1))
            }
        }
        Tag => format!(
            "{:#x}",
            random_value(rng, &[0, 0x10, 0x1ff, 0xff00], u32::MAX as u64)
        ),
        TagMask => format!(
            "{:#x} {:#x}",
            rng.below(0x400),
            rng.pick(&[0xf00u32, 0xff, 0x3ff, 0x101, 0])
        ),
        Counter => format!(
            "{} {}",
            random_op(rng),
            rng.pick(&[0u64, 1, 2, 10, 19, 20, 50, 100, 1000, 1500, u64::MAX])
        ),
        Double => format!(
            "{} {}",
            random_op(rng),
            rng.pick(&["0", "0.5", "1", "10", "100.25", "1e3", "8000"])
        ),
        Time => format!(
            "{} {}:{:02}:{:02}",
            random_op(rng),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        TimeDate => {
            let s = 1_289_109_600 + rng.below(3 * 86_400) as i64;
            let ts = jiff::Timestamp::from_second(s).unwrap();
            let text = if rng.chance(2) {
                ts.to_zoned(TimeZone::UTC)
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            } else {
                ts.to_zoned(TimeZone::UTC)
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            };
            format!("{} {text}", random_op(rng))
        }
        Rate => (1 + rng.below(4)).to_string(),
        MacAddress => {
            let mac = |rng: &mut Rng| {
                let v = random_value(rng, MAC_POOL, (1 << 48) - 1);
                crate::model::l2::mac_text(v)
            };
            let a = mac(rng);
            if rng.chance(3) {
                let b = mac(rng);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                format!("{lo}-{hi}")
            } else {
                a
            }
        }
        Application => {
            let app = |rng: &mut Rng| random_value(rng, APP_POOL, u64::MAX);
            let (a, b) = (app(rng), app(rng));
            let text = crate::model::l2::app_id_text;
            if rng.chance(3) {
                format!("{}-{}", text(a.min(b)), text(a.max(b)))
            } else {
                text(a)
            }
        }
    };
    format!("{action} {value}")
}

/// A random filter file with one definition `d` over random primitives.
pub(crate) fn random_filter(rng: &mut Rng) -> String {
    let kinds = PrimitiveKind::ALL;
    let mut text = String::new();
    let nprims = 1 + rng.below(4) as usize;
    let mut prim_kinds = Vec::new();
    for i in 0..nprims {
        let kind = *rng.pick(kinds);
        prim_kinds.push(kind);
        text.push_str(&format!(
            "filter-primitive p{i}\n  type {}\n",
            kind.keyword()
        ));
        if matches!(kind, PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags) && rng.chance(2) {
            text.push_str(&format!("  mask {:#x}\n", rng.below(256)));
        }
        let entries = if kind == PrimitiveKind::Rate {
            rng.below(2)
        } else {
            rng.below(5)
        };
        for _ in 0..entries {
            text.push_str(&format!("  {}\n", random_entry(rng, kind)));
        }
        if rng.chance(3) {
            text.push_str(&format!(
                "  default {}\n",
                if rng.chance(2) { "permit" } else { "deny" }
            ));
        }
    }
    text.push_str("filter-definition d\n");
    let invert = rng.chance(3);
    if invert {
        text.push_str("  invert\n");
    }
    // Without match lines only an inverted definition loads (it passes everything).
    let groups = if invert && rng.chance(8) {
        0
    } else {
        1 + rng.below(3)
    };
    for g in 0..groups {
        if g > 0 {
            text.push_str("  or\n");
        }
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(nprims as u64) as usize;
            let fields: Vec<&'static str> = MatchField::ALL
                .iter()
                .filter(|f| f.carried() && f.accepts().contains(&prim_kinds[i]))
                .flat_map(|f| f.names().iter().copied())
                .collect();
            text.push_str(&format!("  match {} p{i}\n", rng.pick(&fields)));
        }
    }
    text
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

    /// For random flows and random definitions, the compiled block evaluation selects exactly
    /// what the per-record interpreter selects.
    #[test]
    fn compiled_evaluation_equals_the_interpreter(seed in proptest::prelude::any::<u64>()) {
        let mut rng = Rng(seed);
        let text = random_filter(&mut rng);
        let file = FilterFile::parse(&text, "random.cfg", &Variables::new())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let recs: Vec<FlowRecord> = (0..100).map(|_| random_record(&mut rng)).collect();
        let v4_only: Vec<FlowRecord> = recs
            .iter()
            .filter(|r| [r.src_addr, r.dst_addr, r.next_hop, r.exporter].iter().all(IpAddr::is_ipv4))
            .cloned()
            .collect();
        let ny = CompileOptions { tz: TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap() };
        for opts in [utc(), ny] {
            let compiled = file.compile("d", &opts).unwrap();
            let interp = file.interpreter("d", &opts).unwrap();
            for set in [&recs, &v4_only] {
                let want: Vec<bool> = set.iter().map(|r| interp.matches(r)).collect();
                let block = FlowBlockBuf::from_records(set.iter());
                let mut got = Vec::new();
                compiled.select(&block.view(), &mut got);
                proptest::prop_assert_eq!(got, want, "{}", text);
            }
        }
    }
}

#[test]
fn batches_keep_block_order() {
    let file = load(
        "filter-primitive p\n type counter\n permit gt 5\nfilter-definition d\n match packets p\n",
        &Variables::new(),
    );
    let f = file.compile("d", &utc()).unwrap();
    let bufs: Vec<FlowBlockBuf> = (0..8)
        .map(|b| {
            let recs: Vec<FlowRecord> = (0..100)
                .map(|i| FlowRecord {
                    packets: (b * 100 + i) % 11,
                    ..base()
                })
                .collect();
            FlowBlockBuf::from_records(&recs)
        })
        .collect();
    let views: Vec<_> = bufs.iter().map(|b| b.view()).collect();
    let mut out = Vec::new();
    let total = f.select_batch(&views, &mut out);
    let mut sum = 0;
    for (v, s) in views.iter().zip(&out) {
        let mut one = Vec::new();
        assert_eq!(f.select(v, &mut one), s.count);
        assert_eq!(one, s.rows);
        sum += s.count;
    }
    assert_eq!(total, sum);
    assert_eq!(f.columns(), vec![crate::model::block::ColumnId::Packets]);
}

/// Skipping blocks by their address Bloom filter (`CompiledFilter::block_prune`) never skips a
/// block holding a flow the filter passes, for random definitions over random small blocks.
#[test]
fn block_pruning_never_skips_a_selected_flow() {
    use crate::archive::bloom::{build, AddrBloom};
    let (mut applicable, mut pruned) = (0, 0);
    for seed in 0..4000u64 {
        let mut rng = Rng(seed);
        let text = random_filter(&mut rng);
        let file = FilterFile::parse(&text, "random.cfg", &Variables::new())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let compiled = file.compile("d", &utc()).unwrap();
        let Some(prune) = compiled.block_prune() else {
            continue;
        };
        applicable += 1;
        for _ in 0..4 {
            let n = 1 + rng.below(12) as usize;
            let recs: Vec<FlowRecord> = (0..n).map(|_| random_record(&mut rng)).collect();
            let block = FlowBlockBuf::from_records(&recs);
            let mut words = Vec::new();
            build(&block.view(), &mut words);
            let bloom = AddrBloom::from_words(&words).unwrap();
            let mut rows = Vec::new();
            let selected = compiled.select(&block.view(), &mut rows);
            if !prune.may_match(&bloom) {
                pruned += 1;
                assert_eq!(
                    selected, 0,
                    "a block with selected flows was skipped:\n{text}"
                );
            }
        }
    }
    assert!(
        applicable > 100 && pruned > 100,
        "{applicable} filters, {pruned} blocks pruned"
    );
}

#[test]
fn host_filters_prune_blocks_without_the_host_and_inverted_ones_never() {
    use crate::archive::bloom::{build, AddrBloom};
    let text = "filter-primitive h\n type ip-address\n permit 10.1.2.3\n permit 2001:db8::7\n\
                filter-definition host\n match ip-source-address h\n or\n match ip-destination-address h\n\
                filter-definition not-host\n invert\n match ip-source-address h\n\
                filter-definition host-or-any\n match ip-source-address h\n or\n match packets any\n\
                filter-primitive any\n type counter\n permit ge 0\n";
    let file = load(text, &Variables::new());
    let bloom_of = |addrs: &[&str]| {
        let recs: Vec<FlowRecord> = addrs
            .iter()
            .map(|a| FlowRecord {
                src_addr: ip(a),
                dst_addr: ip("192.0.2.1"),
                ..base()
            })
            .collect();
        let mut words = Vec::new();
        build(&FlowBlockBuf::from_records(&recs).view(), &mut words);
        words
    };
    let prune = file.compile("host", &utc()).unwrap().block_prune().unwrap();
    let with = bloom_of(&["10.1.2.3", "10.9.9.9"]);
    let with6 = bloom_of(&["2001:db8::7"]);
    let without = bloom_of(&["10.1.2.4", "2001:db8::8"]);
    assert!(prune.may_match(&AddrBloom::from_words(&with).unwrap()));
    assert!(prune.may_match(&AddrBloom::from_words(&with6).unwrap()));
    assert!(!prune.may_match(&AddrBloom::from_words(&without).unwrap()));
    assert!(file
        .compile("not-host", &utc())
        .unwrap()
        .block_prune()
        .is_none());
    assert!(file
        .compile("host-or-any", &utc())
        .unwrap()
        .block_prune()
        .is_none());
}

/// flow-tools' verified counts on 100,000 random flows (notes §1.9), rebuilt on our own random
/// flows with the relations they establish: mask lists are first-match, prefixes longest-match.
#[test]
fn flow_tools_verified_semantics_on_random_flows() {
    let mut rng = Rng(7);
    let recs: Vec<FlowRecord> = (0..20_000)
        .map(|_| {
            let src = if rng.below(4) == 0 {
                0x0a00_0000 | rng.below(1 << 20) as u32 // 10.0.0.0/12
            } else {
                rng.next() as u32
            };
            FlowRecord {
                src_addr: IpAddr::V4(src.into()),
                dst_port: if rng.below(2) == 0 {
                    80
                } else {
                    rng.next() as u16
                },
                packets: rng.below(40),
                ..base()
            }
        })
        .collect();
    let text = "filter-primitive m\n type ip-address-mask\n deny 10.0.0.0 255.0.0.0\n permit 10.0.0.0 255.240.0.0\n\
                filter-primitive p\n type ip-address-prefix\n deny 10/8\n permit 10.0/12\n\
                filter-primitive c\n type counter\n permit lt 10\n deny lt 20\n default permit\n\
                filter-primitive n80\n type ip-port\n permit !80\n\
                filter-primitive all-but-80\n type ip-port\n permit !80\n default permit\n\
                filter-definition mask\n match ip-source-address m\n\
                filter-definition prefix\n match ip-source-address p\n\
                filter-definition counter\n match packets c\n\
                filter-definition not80\n match ip-destination-port n80\n\
                filter-definition all-but-80\n match ip-destination-port all-but-80\n";
    let f = load(text, &Variables::new());
    let count = |d| {
        run_with(&f, d, &recs, &utc())
            .iter()
            .filter(|&&b| b)
            .count()
    };
    let in_10_12 = recs
        .iter()
        .filter(|r| matches!(r.src_addr, IpAddr::V4(a) if u32::from(a) >> 20 == 0x0a0))
        .count();
    assert_eq!(count("mask"), 0);
    assert_eq!(count("prefix"), in_10_12);
    assert!(in_10_12 > 4000);
    let small_or_big = recs
        .iter()
        .filter(|r| r.packets < 10 || r.packets >= 20)
        .count();
    assert_eq!(count("counter"), small_or_big);
    assert_eq!(count("not80"), 0);
    assert_eq!(
        count("all-but-80"),
        recs.iter().filter(|r| r.dst_port != 80).count()
    );
}
