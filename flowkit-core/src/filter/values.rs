//! The values of `permit`/`deny` lines, one syntax per primitive type (grammar rules `*_value`).

use super::ast::{Op, PrimitiveKind, Value};
use super::parse::{pest_message, LineParser, Rule};
use super::symbols;
use super::timedate::parse_date;
use pest::iterators::Pair;
use pest::Parser;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Something wrong in a value: byte range in the value text and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValueProblem {
    pub range: (usize, usize),
    pub message: String,
}

/// A value with the warnings it deserves (byte range in the value text, message).
#[derive(Clone, Debug)]
pub(crate) struct ParsedValue {
    pub value: Value,
    pub warnings: Vec<((usize, usize), String)>,
}

struct Ctx {
    warnings: Vec<((usize, usize), String)>,
}

fn problem(range: (usize, usize), message: impl Into<String>) -> ValueProblem {
    ValueProblem {
        range,
        message: message.into(),
    }
}

fn range_of(p: &Pair<'_, Rule>) -> (usize, usize) {
    (p.as_span().start(), p.as_span().end())
}

/// Reads the value of a `permit`/`deny` line of a primitive of type `kind`.
pub(crate) fn parse_value(kind: PrimitiveKind, text: &str) -> Result<ParsedValue, ValueProblem> {
    use PrimitiveKind::*;
    let rule = match kind {
        k if k.is_bucket() => Rule::bucket_value,
        IpAddress => Rule::address_value,
        IpAddressMask => Rule::mask_value,
        IpAddressPrefix => Rule::prefix_value,
        Tag => Rule::tag_value,
        TagMask => Rule::tag_mask_value,
        Counter => Rule::counter_value,
        Double => Rule::double_value,
        Time => Rule::time_value,
        TimeDate => Rule::time_date_value,
        _ => Rule::rate_value,
    };
    let top = LineParser::parse(rule, text)
        .map_err(|e| syntax_problem(kind, text, e))?
        .next()
        .expect("a successful parse has its top rule");
    let parts: Vec<Pair<'_, Rule>> = top
        .into_inner()
        .filter(|p| !matches!(p.as_rule(), Rule::EOI | Rule::vsp))
        .collect();
    let mut cx = Ctx {
        warnings: Vec::new(),
    };
    let value = match kind {
        k if k.is_bucket() => buckets(k, &parts, &mut cx)?,
        IpAddress => {
            let a = address(&parts[0])?;
            let t = parts[0].as_str();
            if matches!(a, IpAddr::V4(_)) && !t.contains(':') && t.split('.').count() < 4 {
                cx.warnings.push((
                    range_of(&parts[0]),
                    format!("`{t}` is read as {a} (missing parts are zeros, as in flow-tools)"),
                ));
            }
            Value::Address(a)
        }
        IpAddressMask => address_mask(&parts, &mut cx)?,
        IpAddressPrefix => prefix(&parts, &mut cx)?,
        Tag => Value::Tag(tag(&parts[0], &mut cx)?),
        TagMask => {
            let t = tag(&parts[0], &mut cx)?;
            let m = number_u32(&parts[1], &mut cx)?;
            if t & !m != 0 {
                cx.warnings.push((
                    (parts[0].as_span().start(), parts[1].as_span().end()),
                    format!(
                        "tag {t:#x} has bits outside mask {m:#x}; matching {:#x} (flow-tools never matches such a line)",
                        t & m
                    ),
                ));
            }
            Value::TagMask {
                tag: t & m,
                mask: m,
            }
        }
        Counter => Value::Counter(op(&parts[0])?, number(&parts[1], &mut cx)?),
        Double => {
            let v: f64 = parts[1]
                .as_str()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| problem(range_of(&parts[1]), "not a finite number"))?;
            // -0.0 and 0.0 compare equal; keep one so compiled order keys agree.
            Value::Double(op(&parts[0])?, if v == 0.0 { 0.0 } else { v })
        }
        Time => Value::TimeOfDay(op(&parts[0])?, clock(&parts[1])?),
        TimeDate => {
            let spec =
                parse_date(parts[1].as_str()).map_err(|e| problem(range_of(&parts[1]), e.0))?;
            Value::TimeDate(op(&parts[0])?, spec)
        }
        _ => {
            let n = number(&parts[0], &mut cx)?;
            if n == 0 {
                return Err(problem(range_of(&parts[0]), "a rate must be at least 1"));
            }
            Value::Rate(n)
        }
    };
    Ok(ParsedValue {
        value,
        warnings: cx.warnings,
    })
}

fn op(p: &Pair<'_, Rule>) -> Result<Op, ValueProblem> {
    Op::from_keyword(p.as_str()).ok_or_else(|| {
        problem(
            range_of(p),
            format!(
                "`{}` is not a comparison: expected one of lt, gt, eq, ne, le, ge",
                p.as_str()
            ),
        )
    })
}

/// Explains a pest failure on a value: what was found where, what was expected, and an example.
fn syntax_problem(kind: PrimitiveKind, text: &str, e: pest::error::Error<Rule>) -> ValueProblem {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let expected = pest_message(e);
    let article = if kind.keyword().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let example = format!(
        "({article} {} line looks like `{}`)",
        kind.keyword(),
        kind.example()
    );
    let word_at = |p: usize| {
        let end = text[p..].find([' ', '\t']).map_or(text.len(), |k| p + k);
        (end, &text[p..end])
    };
    let is_blank = text[pos..].starts_with([' ', '\t']);
    if pos >= text.len() {
        return problem(
            (pos, pos),
            format!("the value ends early: {expected} {example}"),
        );
    }
    if is_blank {
        let next = pos + (text[pos..].len() - text[pos..].trim_start_matches([' ', '\t']).len());
        let (end, word) = word_at(next);
        if expected.contains("end of line") {
            return problem(
                (next, end),
                format!("unexpected `{word}`: {expected} {example}"),
            );
        }
        return problem(
            (pos, next),
            format!("unexpected blank: {expected} (lists are written without blanks: `80,443`) {example}"),
        );
    }
    let (end, word) = word_at(pos);
    problem(
        (pos, end),
        format!("unexpected `{word}`: {expected} {example}"),
    )
}

/// Reads a number as flow-tools' strtoul(…, 0) does: `0x` hex, a leading `0` octal, else decimal.
pub(crate) fn read_number(s: &str) -> Result<(u64, Option<String>), String> {
    let too_big = || format!("`{s}` is too large");
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .map(|v| (v, None))
            .map_err(|_| too_big());
    }
    if s.len() > 1 && s.starts_with('0') {
        let v = u64::from_str_radix(&s[1..], 8).map_err(|_| {
            format!("`{s}` is not a number (a leading 0 means octal, as in flow-tools)")
        })?;
        return Ok((
            v,
            Some(format!(
                "`{s}` is read as octal ({v}), as flow-tools does; write {v} or {v:#x} to say so"
            )),
        ));
    }
    if !s.chars().all(|c| c.is_ascii_digit()) || s.is_empty() {
        return Err(format!("`{s}` is not a number"));
    }
    s.parse::<u64>().map(|v| (v, None)).map_err(|_| too_big())
}

fn number(p: &Pair<'_, Rule>, cx: &mut Ctx) -> Result<u64, ValueProblem> {
    let (v, warn) = read_number(p.as_str()).map_err(|m| problem(range_of(p), m))?;
    if let Some(w) = warn {
        cx.warnings.push((range_of(p), w));
    }
    Ok(v)
}

fn number_u32(p: &Pair<'_, Rule>, cx: &mut Ctx) -> Result<u32, ValueProblem> {
    let v = number(p, cx)?;
    u32::try_from(v).map_err(|_| problem(range_of(p), format!("{v} is larger than 32 bits")))
}

/// `H[:M[:S]]`, decimal parts (flow-tools reads them with atoi: `08` is 8).
fn clock(p: &Pair<'_, Rule>) -> Result<u32, ValueProblem> {
    let nums = p
        .clone()
        .into_inner()
        .map(|n| {
            n.as_str()
                .parse::<u64>()
                .map_err(|_| problem(range_of(&n), "not a decimal number"))
        })
        .collect::<Result<Vec<u64>, _>>()?;
    let (h, m, s) = (
        nums[0],
        *nums.get(1).unwrap_or(&0),
        *nums.get(2).unwrap_or(&0),
    );
    if h > 23 || m > 59 || s > 59 {
        return Err(problem(
            range_of(p),
            format!(
                "`{}` is not a time of day (00:00:00 to 23:59:59)",
                p.as_str()
            ),
        ));
    }
    Ok((h * 3600 + m * 60 + s) as u32)
}

fn tag(p: &Pair<'_, Rule>, cx: &mut Ctx) -> Result<u32, ValueProblem> {
    let s = p.as_str();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(problem(
            range_of(p),
            format!("tag names (flow-tools' tag.sym) are not supported; write the number of `{s}`"),
        ));
    }
    number_u32(p, cx)
}

/// Parses an address: IPv6 with `:`, else IPv4 with 1 to 4 decimal parts (`10.1` is 10.1.0.0).
/// IPv4-mapped IPv6 addresses come back as IPv4.
pub(crate) fn parse_address(s: &str) -> Result<IpAddr, String> {
    if s.contains(':') {
        let a: Ipv6Addr = s
            .parse()
            .map_err(|_| format!("`{s}` is not an IPv6 address"))?;
        return Ok(match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(a),
        });
    }
    if s.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "`{s}` looks like a host name; names are not looked up (flow-tools asked DNS while \
             loading the file): write the address"
        ));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return Err(format!("`{s}` has more than four parts"));
    }
    let mut octets = [0u8; 4];
    for (i, part) in parts.iter().enumerate() {
        octets[i] = part
            .parse::<u8>()
            .ok()
            .filter(|_| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| format!("`{s}` is not an IPv4 address (each part is 0 to 255)"))?;
    }
    Ok(IpAddr::V4(Ipv4Addr::from(octets)))
}

fn address(p: &Pair<'_, Rule>) -> Result<IpAddr, ValueProblem> {
    parse_address(p.as_str()).map_err(|m| problem(range_of(p), m))
}

fn address_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn address_mask(parts: &[Pair<'_, Rule>], cx: &mut Ctx) -> Result<Value, ValueProblem> {
    let addr = address(&parts[0])?;
    let mask = address(&parts[1])?;
    let whole = (parts[0].as_span().start(), parts[1].as_span().end());
    let masked = match (addr, mask) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & u32::from(m))),
        (IpAddr::V6(a), IpAddr::V6(m)) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & u128::from(m))),
        _ => {
            return Err(problem(
                whole,
                "the address and the mask must both be IPv4 or both IPv6",
            ))
        }
    };
    if address_bits(masked) != address_bits(addr) {
        cx.warnings.push((
            whole,
            format!(
                "{addr} has bits outside mask {mask}; matching {masked} (flow-tools never matches such a line)"
            ),
        ));
    }
    Ok(Value::AddressMask { addr: masked, mask })
}

fn prefix(parts: &[Pair<'_, Rule>], cx: &mut Ctx) -> Result<Value, ValueProblem> {
    let text = parts[0].as_str();
    let addr = address(&parts[0])?;
    let mapped = text.contains(':') && addr.is_ipv4();
    let len = match parts.get(1) {
        Some(p) => {
            let max = if addr.is_ipv4() && !mapped { 32 } else { 128 };
            let n: u32 = p
                .as_str()
                .parse()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| problem(range_of(p), format!("a prefix length is 0 to {max}")))?;
            if mapped {
                n.checked_sub(96)
                    .ok_or_else(|| problem(range_of(p), "an IPv4-mapped prefix is at least /96"))?
                    as u8
            } else {
                n as u8
            }
        }
        None => match addr {
            IpAddr::V6(_) => 128,
            IpAddr::V4(a) => {
                let len = classful_len(u32::from(a));
                cx.warnings.push((
                    range_of(&parts[0]),
                    format!("no /length: taking the classful /{len} as flow-tools does; write {a}/{len}"),
                ));
                len
            }
        },
    };
    let net = ipnet::IpNet::new(addr, len).expect("length checked above");
    let trunc = net.trunc();
    if trunc != net {
        cx.warnings.push((
            (
                parts[0].as_span().start(),
                parts.last().map_or(0, |p| p.as_span().end()),
            ),
            format!(
                "{net} has host bits set; matching {trunc} (flow-tools mismatches such prefixes)"
            ),
        ));
    }
    Ok(Value::Prefix(trunc))
}

/// The length flow-tools guesses for a prefix written without `/` (scan_ip_prefix).
fn classful_len(a: u32) -> u8 {
    if a & 0x8000_0000 == 0 && a & 0x00ff_ffff == 0 {
        8
    } else if a & 0xc000_0000 == 0x8000_0000 && a & 0xffff == 0 {
        16
    } else if a & 0xe000_0000 == 0xc000_0000 && a & 0xff == 0 {
        24
    } else if a & 0xf000_0000 == 0xe000_0000 && a & 0x0fff_ffff == 0 {
        28
    } else {
        32
    }
}

fn buckets(
    kind: PrimitiveKind,
    parts: &[Pair<'_, Rule>],
    cx: &mut Ctx,
) -> Result<Value, ValueProblem> {
    let negate = parts.first().is_some_and(|p| p.as_rule() == Rule::negate);
    let mut ranges = Vec::new();
    for item in parts.iter().filter(|p| p.as_rule() == Rule::bucket_item) {
        let (lo, hi, warns) =
            bucket_item(kind, item.as_str()).map_err(|m| problem(range_of(item), m))?;
        for w in warns {
            cx.warnings.push((range_of(item), w));
        }
        ranges.push((lo, hi));
    }
    Ok(Value::Buckets { negate, ranges })
}

type Item = (u64, u64, Vec<String>);

/// One item of a bucket list: a number, a name, or a range of them. Names may contain `-`
/// (`ms-wbt-server`); flow-tools splits them at every `-`, we try the whole name first.
fn bucket_item(kind: PrimitiveKind, s: &str) -> Result<Item, String> {
    let whole_err = match bucket_atom(kind, s) {
        Ok((v, w)) => return Ok((v, v, w.into_iter().collect())),
        Err(e) => e,
    };
    let mut split_err = None;
    for (i, _) in s.match_indices('-') {
        let (l, r) = (&s[..i], &s[i + 1..]);
        match (bucket_atom(kind, l), bucket_atom(kind, r)) {
            (Ok((lo, w1)), Ok((hi, w2))) => {
                if lo > hi {
                    return Err(format!("the range `{s}` runs backwards"));
                }
                return Ok((lo, hi, w1.into_iter().chain(w2).collect()));
            }
            (Err(e), _) | (_, Err(e)) => {
                split_err.get_or_insert(e);
            }
        }
    }
    // For `80-99999` the part is what is wrong; for a name, the whole name (with a suggestion).
    match split_err {
        Some(e) if s.starts_with(|c: char| c.is_ascii_digit()) => Err(e),
        _ => Err(whole_err),
    }
}

fn bucket_atom(kind: PrimitiveKind, s: &str) -> Result<(u64, Option<String>), String> {
    if s.is_empty() {
        return Err("a value is missing".into());
    }
    let max = kind.bucket_max();
    if kind == PrimitiveKind::MacAddress {
        return crate::model::l2::parse_mac(s)
            .map(|v| (v, None))
            .ok_or_else(|| {
                format!("`{s}` is not a MAC address (six hex bytes: 00:11:22:33:44:55)")
            });
    }
    if kind == PrimitiveKind::Application {
        return crate::model::l2::parse_app_id(s)
            .map(|v| (v, None))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not an application id (ENGINE..SELECTOR such as 13..443, or \
                     20..PEN..SELECTOR)"
                )
            });
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let (v, w) = read_number(s)?;
        if v > max {
            return Err(format!(
                "{v} is out of range for {} (0 to {max})",
                kind.keyword()
            ));
        }
        return Ok((v, w));
    }
    let (found, names) = match kind {
        PrimitiveKind::IpProtocol => (
            symbols::protocol(s).map(u64::from),
            symbols::protocol_name_index(),
        ),
        PrimitiveKind::IpPort => (symbols::port(s).map(u64::from), symbols::port_name_index()),
        _ => {
            return Err(format!(
                "`{s}` is not a number ({} values are numbers)",
                kind.keyword()
            ))
        }
    };
    found.map(|v| (v, None)).ok_or_else(|| {
        let what = if kind == PrimitiveKind::IpProtocol {
            "protocol"
        } else {
            "port"
        };
        format!("unknown {what} name `{s}`{}", names.did_you_mean(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::timedate::DateSpec;

    fn val(kind: PrimitiveKind, text: &str) -> Value {
        parse_value(kind, text)
            .unwrap_or_else(|e| panic!("{text}: {}", e.message))
            .value
    }

    fn err(kind: PrimitiveKind, text: &str) -> ValueProblem {
        parse_value(kind, text).expect_err(text)
    }

    #[test]
    fn bucket_lists() {
        use PrimitiveKind::*;
        assert_eq!(
            val(IpPort, "80,443,8000-8099"),
            Value::Buckets {
                negate: false,
                ranges: vec![(80, 80), (443, 443), (8000, 8099)]
            }
        );
        assert_eq!(
            val(IpPort, "!ssh,https"),
            Value::Buckets {
                negate: true,
                ranges: vec![(22, 22), (443, 443)]
            }
        );
        assert_eq!(
            val(IpPort, "ms-wbt-server,ftp-data-ssh"),
            Value::Buckets {
                negate: false,
                ranges: vec![(3389, 3389), (20, 22)]
            }
        );
        assert_eq!(
            val(IpProtocol, "TCP,udp,1"),
            Value::Buckets {
                negate: false,
                ranges: vec![(6, 6), (17, 17), (1, 1)]
            }
        );
        assert_eq!(
            val(As, "0x10,4200000000"),
            Value::Buckets {
                negate: false,
                ranges: vec![(16, 16), (4_200_000_000, 4_200_000_000)]
            }
        );
        let octal = parse_value(IpTos, "010").unwrap();
        assert_eq!(
            octal.value,
            Value::Buckets {
                negate: false,
                ranges: vec![(8, 8)]
            }
        );
        assert_eq!(octal.warnings.len(), 1);
        assert!(err(IpProtocol, "256").message.contains("out of range"));
        assert!(err(Engine, "300").message.contains("out of range"));
        assert!(err(IpPort, "10-5").message.contains("backwards"));
        assert!(err(IpPort, "shh").message.contains("did you mean `ssh`"));
        assert!(err(IpPort, "80, 443").message.contains("unexpected blank"));
        assert!(err(IfIndex, "eth0").message.contains("not a number"));
        assert_eq!(err(IpPort, "80,,443").range.0, 3);
        assert!(err(IpPort, "09").message.contains("octal"));
    }

    #[test]
    fn addresses() {
        use PrimitiveKind::*;
        assert_eq!(
            val(IpAddress, "10.1.2.3"),
            Value::Address("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            val(IpAddress, "10.1"),
            Value::Address("10.1.0.0".parse().unwrap())
        );
        assert_eq!(
            val(IpAddress, "2001:db8::1"),
            Value::Address("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            val(IpAddress, "::ffff:10.0.0.1"),
            Value::Address("10.0.0.1".parse().unwrap())
        );
        assert!(err(IpAddress, "www.example.com")
            .message
            .contains("host name"));
        assert!(err(IpAddress, "10.0.0.256").message.contains("0 to 255"));
        assert!(err(IpAddress, "10.0.0.1 x")
            .message
            .contains("unexpected `x`"));
        assert_eq!(
            val(IpAddressMask, "224.0.0.0 240.0.0.0"),
            Value::AddressMask {
                addr: "224.0.0.0".parse().unwrap(),
                mask: "240.0.0.0".parse().unwrap()
            }
        );
        let not_premasked = parse_value(IpAddressMask, "10.0.2.3 255.240.0.0").unwrap();
        assert_eq!(
            not_premasked.value,
            Value::AddressMask {
                addr: "10.0.0.0".parse().unwrap(),
                mask: "255.240.0.0".parse().unwrap()
            }
        );
        assert_eq!(not_premasked.warnings.len(), 1);
        assert!(err(IpAddressMask, "10.0.0.0 ffff::")
            .message
            .contains("both"));
        assert_eq!(
            val(IpAddressPrefix, "10/8"),
            Value::Prefix("10.0.0.0/8".parse().unwrap())
        );
        assert_eq!(
            val(IpAddressPrefix, "2001:db8::/32"),
            Value::Prefix("2001:db8::/32".parse().unwrap())
        );
        assert_eq!(
            val(IpAddressPrefix, "::ffff:10.0.0.0/104"),
            Value::Prefix("10.0.0.0/8".parse().unwrap())
        );
        let hostbits = parse_value(IpAddressPrefix, "10.0.2.3/12").unwrap();
        assert_eq!(
            hostbits.value,
            Value::Prefix("10.0.0.0/12".parse().unwrap())
        );
        assert_eq!(hostbits.warnings.len(), 1);
        for (text, len) in [
            ("10.0.0.0", 8),
            ("128.146.0.0", 16),
            ("192.168.1.0", 24),
            ("224.0.0.0", 28),
            ("10.1.2.3", 32),
        ] {
            let p = parse_value(IpAddressPrefix, text).unwrap();
            assert_eq!(
                p.value,
                Value::Prefix(ipnet::IpNet::new(text.parse().unwrap(), len).unwrap()),
                "{text}"
            );
            assert_eq!(p.warnings.len(), 1, "{text}");
        }
        assert!(err(IpAddressPrefix, "10.0.0.0/33")
            .message
            .contains("0 to 32"));
    }

    #[test]
    fn comparisons_times_tags_rates() {
        use PrimitiveKind::*;
        assert_eq!(val(Counter, "gt 1"), Value::Counter(Op::Gt, 1));
        assert_eq!(val(Counter, "LE 0x10"), Value::Counter(Op::Le, 16));
        assert!(err(Counter, "gtt 1").message.contains("lt, gt"));
        assert!(err(Counter, "gt").message.contains("ends early"));
        assert!(err(Counter, "gt 1 2").message.contains("unexpected `2`"));
        assert!(err(Counter, "gt").message.contains("expected"));
        assert_eq!(val(Double, "lt 32.5"), Value::Double(Op::Lt, 32.5));
        assert_eq!(val(Double, "ge 1e3"), Value::Double(Op::Ge, 1000.0));
        assert_eq!(
            val(Time, "ge 22:30"),
            Value::TimeOfDay(Op::Ge, 22 * 3600 + 30 * 60)
        );
        assert_eq!(val(Time, "lt 5"), Value::TimeOfDay(Op::Lt, 5 * 3600));
        assert_eq!(
            val(Time, "eq 08:09:08"),
            Value::TimeOfDay(Op::Eq, 8 * 3600 + 9 * 60 + 8)
        );
        assert!(err(Time, "lt 24:00").message.contains("time of day"));
        assert_eq!(
            val(TimeDate, "gt December 12, 2002 5:13:21"),
            Value::TimeDate(
                Op::Gt,
                DateSpec::Civil("2002-12-12T05:13:21".parse().unwrap())
            )
        );
        assert!(err(TimeDate, "gt yesterday").message.contains("relative"));
        assert_eq!(val(Tag, "0xff00"), Value::Tag(0xff00));
        assert!(err(Tag, "OSU").message.contains("tag names"));
        assert_eq!(
            val(TagMask, "0xF000 0xFF00"),
            Value::TagMask {
                tag: 0xF000,
                mask: 0xFF00
            }
        );
        assert_eq!(val(Rate, "100"), Value::Rate(100));
        assert!(err(Rate, "0").message.contains("at least 1"));
    }
}
