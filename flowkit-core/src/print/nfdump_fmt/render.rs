//! How nfdump 1.7.1 writes each kind of value in `-o fmt:` output, imitated byte for byte:
//! its `format_number` (`1.2 M`), `DurationString`, `ProtoString`, `FlagsString`, `CondenseV6`,
//! glibc's `inet_ntop` and `ApplyNetMaskBits` (with the x86-64 behaviour of its over-wide
//! shifts). The sources are nfdump's `src/lib/output_util.c`, `src/lib/util.c`,
//! `src/output/output_fmt.c` and `src/inline/applybits_inline.c` at tag v1.7.1.

use crate::print::text;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// nfdump's protocol names (`protoList` in output_util.c), indexed by protocol number; numbers
/// from 138 up print as numbers.
#[rustfmt::skip]
const PROTOCOL_NAMES: [&str; 138] = [
    "0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP", "BBN", "NVPII", "PUP",
    "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN", "HMP", "PRM", "XNS", "Trnk1", "Trnk2",
    "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4", "NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR",
    "XTP", "DDP", "IDPR", "TP++", "IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE",
    "MHRP", "BNA", "ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6",
    "NOHE6", "OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM", "VISA",
    "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP", "ISOIP", "VMTP",
    "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF", "S-RPC", "LARP", "MTP",
    "AX.25", "OS", "MICP", "SCCSP", "ETHIP", "ENCAP", "99", "GMTP", "IFMP", "PNNI", "PIM", "ARIS",
    "SCPS", "QNX", "A/N", "IPcmp", "SNP", "CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX",
    "IATP", "STP", "SRP", "UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128",
    "IPLT", "SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
];

/// ICMP and ICMPv6: their destination port holds type × 256 + code.
pub(super) fn is_icmp(protocol: u8) -> bool {
    protocol == 1 || protocol == 58
}

/// `%pr`: the protocol's name (its number with `-N`), left-justified in 5 columns.
pub(super) fn protocol(out: &mut Vec<u8>, p: u8, plain: bool) {
    match PROTOCOL_NAMES.get(p as usize) {
        Some(name) if !plain => text::left(out, name.as_bytes(), 5),
        _ => text::left_u64(out, p as u64, 5),
    }
}

/// `%flg`: `CEUAPRSF` with a dot for each flag not set, for TCP flows; eight dots otherwise.
pub(super) fn tcp_flags(out: &mut Vec<u8>, flags: u8, protocol: u8) {
    let flags = if protocol == 6 { flags } else { 0 };
    for (bit, letter) in (0..8).rev().zip(*b"CEUAPRSF") {
        out.push(if flags & (1 << bit) != 0 {
            letter
        } else {
            b'.'
        });
    }
}

/// nfdump's `format_number` with a fixed width, then `%8s`: plain decimal with `-N`, otherwise
/// `%4.0f` below a million and `%5.1f M`, `G`, `T` (powers of 1000) above.
pub(super) fn counter(out: &mut Vec<u8>, v: u64, plain: bool) {
    const SCALES: [(f64, &str); 3] = [(1e12, "T"), (1e9, "G"), (1e6, "M")];
    if plain || v < 1_000_000 {
        // `%4.0f` of a whole number below 2^53 is its decimal digits.
        return text::right_u64(out, v, 8);
    }
    let f = v as f64;
    let start = out.len();
    match SCALES.iter().find(|(scale, _)| f >= *scale) {
        // Writing into a Vec cannot fail.
        Some((scale, unit)) => drop(write!(out, "{:5.1} {unit}", f / scale)),
        None => drop(write!(out, "{f:4.0}")),
    }
    right_align_from(out, start, 8);
}

/// Moves what was written since `start` right so that it fills `width` columns (`%Ns`).
pub(super) fn right_align_from(out: &mut Vec<u8>, start: usize, width: usize) {
    let len = out.len() - start;
    if len < width {
        let pad = width - len;
        out.splice(start..start, std::iter::repeat_n(b' ', pad));
    }
}

/// The flow's duration in seconds as nfdump computes it: its times are unsigned, so an end
/// before the start wraps around to about 1.8e16 seconds (nfdump prints that too).
pub(super) fn duration_secs(start_ms: i64, end_ms: i64) -> f64 {
    (end_ms as u64).wrapping_sub(start_ms as u64) as f64 / 1000.0
}

/// C's conversion of a double to `int` on x86-64 (`cvttsd2si`): truncation, and `INT_MIN` for
/// what does not fit.
fn c_int(x: f64) -> i32 {
    // NaN is in no range.
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&x) {
        i32::MIN
    } else {
        x as i32
    }
}

/// `%td` of a flow from `start_ms` to `end_ms`: below a day (most flows) from the integer
/// milliseconds, which gives the same text as nfdump's doubles there (their rounding error is
/// far below the half millisecond that would change a printed digit); otherwise [`duration`].
pub(super) fn duration_of(out: &mut Vec<u8>, start_ms: i64, end_ms: i64) {
    const DAY_MS: u64 = 86_400_000;
    let ms = (end_ms as u64).wrapping_sub(start_ms as u64);
    if ms >= DAY_MS {
        return duration(out, duration_secs(start_ms, end_ms));
    }
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let t = [two(h), two(m), two(s)];
    let milli = [milli / 100, milli / 10 % 10, milli % 10].map(|d| b'0' + d as u8);
    out.extend_from_slice(b"    ");
    out.extend_from_slice(&[
        t[0][0], t[0][1], b':', t[1][0], t[1][1], b':', t[2][0], t[2][1], b'.', milli[0], milli[1],
        milli[2],
    ]);
}

/// Two ASCII digits of `v` (below 100).
fn two(v: u64) -> [u8; 2] {
    [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]
}

/// `%td` (nfdump's `DurationString`): `    HH:MM:SS.mmm`, or `Nd HH:MM:SS.mmm` from a day up,
/// with its int overflow for wrapped durations (`-2147483648d -2147483648:...`), computed the
/// way the C code computes it on x86-64 (wrapping int arithmetic, [`c_int`] conversions).
pub(super) fn duration(out: &mut Vec<u8>, d: f64) {
    let days = c_int(d / 86400.0);
    let mut sum = 86400i32.wrapping_mul(days);
    let hours = c_int((d - sum as f64) / 3600.0);
    sum = sum.wrapping_add(3600i32.wrapping_mul(hours));
    let minutes = c_int((d - sum as f64) / 60.0);
    let secs = d - sum as f64 - 60i32.wrapping_mul(minutes) as f64;
    // Writing into a Vec cannot fail.
    let _ = if days == 0 {
        write!(out, "    {hours:02}:{minutes:02}:{}", SecondsField(secs))
    } else {
        write!(
            out,
            "{days:2}d {hours:02}:{minutes:02}:{}",
            SecondsField(secs)
        )
    };
}

/// printf's `%06.3f`.
struct SecondsField(f64);

impl std::fmt::Display for SecondsField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:06.3}", self.0)
    }
}

/// `%tds` and `%td` with `-N`: seconds as `%16.3f`.
pub(super) fn seconds(out: &mut Vec<u8>, d: f64) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{d:16.3}");
}

/// glibc's `inet_ntop` text of an address: RFC 5952 for IPv6, except that an address whose first
/// 96 bits are zero (and is not `::` or `::1`) ends in a dotted quad (`::10.0.0.1`), as glibc
/// writes it.
pub(super) fn push_ntop(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => text::ipv4(out, u32::from(v4)),
        IpAddr::V6(v6) => {
            let w = v6.segments();
            if w[..6] == [0; 6] && w[6] != 0 {
                out.extend_from_slice(b"::");
                text::ipv4(out, (w[6] as u32) << 16 | w[7] as u32);
            } else {
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{v6}");
            }
        }
    }
}

/// How wide nfdump's address columns are: 16 normally, 39 with `-6`.
pub(super) fn addr_width(long_v6: bool) -> usize {
    if long_v6 {
        39
    } else {
        16
    }
}

/// An address as nfdump writes it in a column (`%16s`, or `%39s` with `-6`): IPv6 text longer
/// than 16 characters is condensed to its first 7 and last 7 with `..` between
/// (`2001:62..e0:fed5`) unless `long_v6`.
pub(super) fn addr(out: &mut Vec<u8>, a: IpAddr, long_v6: bool) {
    let start = out.len();
    push_ntop(out, a);
    if a.is_ipv6() && !long_v6 && out.len() - start > 16 {
        let tail = out.len() - 7;
        out.copy_within(tail.., start + 9);
        out[start + 7] = b'.';
        out[start + 8] = b'.';
        out.truncate(start + 16);
    }
    right_align_from(out, start, addr_width(long_v6));
}

/// The character between address and port in `%sap`/`%dap`: `.` for IPv6, `:` for IPv4.
pub(super) fn port_separator(a: IpAddr) -> u8 {
    if a.is_ipv6() {
        b'.'
    } else {
        b':'
    }
}

/// The destination port as nfdump's `ICMP_Port_decode` writes it: `type.code` for ICMP and
/// ICMPv6, the number otherwise.
pub(super) fn dst_port(out: &mut Vec<u8>, port: u16, protocol: u8) {
    if is_icmp(protocol) {
        text::push_u64(out, (port >> 8) as u64);
        out.push(b'.');
        text::push_u64(out, (port & 0xff) as u64);
    } else {
        text::push_u64(out, port as u64);
    }
}

/// The network of `a` with a prefix of `bits`, as nfdump's `ApplyNetMaskBits` computes it on
/// x86-64, where a shift counts modulo the width: a length of 0 leaves an IPv4 address whole and
/// clears only the low 64 bits of an IPv6 one; lengths beyond the address wrap likewise.
pub(super) fn network(a: IpAddr, bits: u8) -> IpAddr {
    match a {
        IpAddr::V4(v4) => {
            let shift = 32u32.wrapping_sub(bits as u32) & 31;
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & (u32::MAX << shift)))
        }
        IpAddr::V6(v6) => {
            let v = u128::from(v6);
            let (mut hi, mut lo) = ((v >> 64) as u64, v as u64);
            if bits > 64 {
                lo &= u64::MAX << (128u32.wrapping_sub(bits as u32) & 63);
            } else {
                hi &= u64::MAX << (64u32.wrapping_sub(bits as u32) & 63);
                lo = 0;
            }
            IpAddr::V6(Ipv6Addr::from((hi as u128) << 64 | lo as u128))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// Values from nfdump 1.7.1's printouts of testdata/nfdump (see the goldens in
    /// testdata/nfdump/fmt), and from its C format strings for the scales no capture reaches.
    #[test]
    fn counters_scale_as_nfdump_does() {
        assert_eq!(text_of(|o| counter(o, 7, false)), "       7");
        assert_eq!(text_of(|o| counter(o, 999_999, false)), "  999999");
        assert_eq!(text_of(|o| counter(o, 1_000_000, false)), "   1.0 M");
        assert_eq!(text_of(|o| counter(o, 1_250_000, false)), "   1.2 M");
        assert_eq!(text_of(|o| counter(o, 123_456_789_012, false)), " 123.5 G");
        assert_eq!(
            text_of(|o| counter(o, 12_345_678_901_234_567, false)),
            "12345.7 T"
        );
        assert_eq!(text_of(|o| counter(o, 1_250_000, true)), " 1250000");
    }

    /// The integer path gives the C code's text for every duration below a day it takes.
    #[test]
    fn whole_millisecond_durations_equal_the_double_computation() {
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        let samples = (0..200_000u64)
            .chain((0..86_400_000).step_by(9_973))
            .chain(86_399_000..86_400_000);
        for ms in samples {
            fast.clear();
            slow.clear();
            duration_of(&mut fast, 1_289_260_869_227, 1_289_260_869_227 + ms as i64);
            duration(&mut slow, ms as f64 / 1000.0);
            assert_eq!(fast, slow, "{ms} ms");
        }
    }

    #[test]
    fn durations_match_durationstring() {
        assert_eq!(text_of(|o| duration(o, 0.752)), "    00:00:00.752");
        assert_eq!(text_of(|o| duration(o, 89.519)), "    00:01:29.519");
        assert_eq!(text_of(|o| duration(o, 90061.5)), " 1d 01:01:01.500");
        // An end 752 ms before the start (testdata/nfdump/scenario-ipfix.nfcapd, first flow).
        let wrapped = duration_secs(1_289_260_869_979, 1_289_260_869_227);
        assert_eq!(
            text_of(|o| duration(o, wrapped)),
            "-2147483648d -2147483648:-2147483648:18446744073709552.000"
        );
        assert_eq!(text_of(|o| seconds(o, 0.752)), "           0.752");
    }

    #[test]
    fn ipv6_is_condensed_to_sixteen_characters() {
        let a: IpAddr = "2001:620:1000:cafe:20e:35ff:fec0:fed5".parse().unwrap();
        assert_eq!(text_of(|o| addr(o, a, false)), "2001:62..c0:fed5");
        let short: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(text_of(|o| addr(o, short, false)), "     2001:db8::1");
        assert_eq!(text_of(|o| addr(o, a, true)).len(), 39);
        let compat: IpAddr = "::10.0.0.1".parse().unwrap();
        assert_eq!(text_of(|o| push_ntop(o, compat)), "::10.0.0.1");
    }

    #[test]
    fn networks_keep_x86_shift_semantics() {
        let v4: IpAddr = "10.22.166.30".parse().unwrap();
        assert_eq!(network(v4, 24), "10.22.166.0".parse::<IpAddr>().unwrap());
        assert_eq!(network(v4, 0), v4);
        let v6: IpAddr = "2001:41d0:1:9598::1".parse().unwrap();
        assert_eq!(
            network(v6, 0),
            "2001:41d0:1:9598::".parse::<IpAddr>().unwrap()
        );
        assert_eq!(network(v6, 32), "2001:41d0::".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn flags_and_protocols() {
        assert_eq!(text_of(|o| tcp_flags(o, 0x1b, 6)), "...AP.SF");
        assert_eq!(text_of(|o| tcp_flags(o, 0x1b, 17)), "........");
        assert_eq!(text_of(|o| protocol(o, 6, false)), "TCP  ");
        assert_eq!(text_of(|o| protocol(o, 6, true)), "6    ");
        assert_eq!(text_of(|o| protocol(o, 200, false)), "200  ");
        assert_eq!(text_of(|o| dst_port(o, 0x0301, 1)), "3.1");
    }
}
