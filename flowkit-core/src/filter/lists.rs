//! Address lists read from files: `permit file PATH` (or `deny file PATH`) in an `ip-address` or
//! `ip-address-prefix` primitive lists every address or prefix of PATH, one a line, as if each
//! were written on a line of its own (blocklists of 100,000 entries and more).
//!
//! A list line holds one address (`192.0.2.1`, `2001:db8::1`) or prefix (`192.0.2.0/24`) as
//! its first word; `#` and `;` start comments (Spamhaus DROP lists write `1.2.3.0/24 ; SBL1`),
//! and blank lines are skipped. Addresses are written in full (no flow-tools shorthand, no
//! host names); a prefix with host bits set matches its network. A relative PATH is found
//! beside the filter file, else from the working directory.

use super::ast::{PrimitiveKind, Span, Value};
use super::error::FilterError;
use ipnet::IpNet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The largest list file read (a list of 10 million IPv6 prefixes is about 400 MiB less);
/// a larger one, or an endless one such as `/dev/zero`, is an error, not a hang.
pub(crate) const MAX_LIST_BYTES: u64 = 512 << 20;

/// Where `path` (as written in the filter file `origin`) is: beside the file when relative and
/// the file is on disk, else as given.
pub(crate) fn resolve(path: &str, origin: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match Path::new(origin).parent() {
        Some(dir) if Path::new(origin).is_file() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// The values of list `text` (named `name` in messages) for a primitive of type `kind`.
pub(crate) fn parse_list(
    text: &str,
    name: &str,
    kind: PrimitiveKind,
) -> Result<Vec<Value>, FilterError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        let start = offset;
        offset += line.len() + 1;
        let body = line.split(['#', ';']).next().unwrap_or("");
        let Some(word) = body.split_whitespace().next() else {
            continue;
        };
        let at = start + (word.as_ptr() as usize - line.as_ptr() as usize);
        let span = Span::new(at, at + word.len());
        let err = |m: String| FilterError::at(name, text, span, m);
        if body.split_whitespace().nth(1).is_some() {
            return Err(err(
                "one address or prefix a line (comments start with `#` or `;`)".into(),
            ));
        }
        let value = match word.split_once('/') {
            None => {
                let a: IpAddr = word
                    .parse()
                    .map_err(|_| err(format!("`{word}` is not an IPv4 or IPv6 address")))?;
                match kind {
                    PrimitiveKind::IpAddress => Value::Address(unmapped(a)),
                    _ => Value::Prefix(IpNet::from(unmapped(a))),
                }
            }
            Some(_) => {
                let net: IpNet = word.parse().map_err(|_| {
                    err(format!(
                        "`{word}` is not a prefix (an address, `/`, and a length up to 32 or 128)"
                    ))
                })?;
                let net = net.trunc();
                match kind {
                    PrimitiveKind::IpAddress if net.prefix_len() == net.max_prefix_len() => {
                        Value::Address(net.addr())
                    }
                    PrimitiveKind::IpAddress => {
                        return Err(err(format!(
                            "`{word}` is a prefix; an ip-address primitive lists single \
                             addresses (use type ip-address-prefix)"
                        )))
                    }
                    _ => Value::Prefix(net),
                }
            }
        };
        out.push(value);
    }
    Ok(out)
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as IPv4, as filter files read them.
fn unmapped(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v) => v.to_ipv4_mapped().map_or(a, IpAddr::V4),
        a => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_prefixes_and_comments() {
        let text = "# DROP list\n1.10.16.0/20 ; SBL256894\n\n  2001:db8::/32\n192.0.2.7\n\
                    10.1.2.3/8 # host bits: the /8\n::ffff:198.51.100.1\n";
        let v = parse_list(text, "drop.txt", PrimitiveKind::IpAddressPrefix).unwrap();
        let want: Vec<Value> = [
            "1.10.16.0/20",
            "2001:db8::/32",
            "192.0.2.7/32",
            "10.0.0.0/8",
            "198.51.100.1/32",
        ]
        .iter()
        .map(|s| Value::Prefix(s.parse().unwrap()))
        .collect();
        assert_eq!(v, want);
        let v = parse_list("192.0.2.7\n192.0.2.8/32\n", "a", PrimitiveKind::IpAddress).unwrap();
        assert_eq!(
            v,
            vec![
                Value::Address("192.0.2.7".parse().unwrap()),
                Value::Address("192.0.2.8".parse().unwrap())
            ]
        );
    }

    #[test]
    fn errors_name_the_list_line_and_column() {
        for (text, kind, want) in [
            (
                "10.0.0.1\n  10.0.0.300\n",
                PrimitiveKind::IpAddressPrefix,
                "bl.txt:2:3: `10.0.0.300` is not an IPv4 or IPv6 address",
            ),
            (
                "10.0.0.0/33\n",
                PrimitiveKind::IpAddressPrefix,
                "bl.txt:1:1: `10.0.0.0/33` is not a prefix",
            ),
            (
                "10.0.0.0/8\n",
                PrimitiveKind::IpAddress,
                "bl.txt:1:1: `10.0.0.0/8` is a prefix; an ip-address primitive lists single",
            ),
            (
                "10.0.0.1 10.0.0.2\n",
                PrimitiveKind::IpAddress,
                "bl.txt:1:1: one address or prefix a line",
            ),
            (
                "example.com\n",
                PrimitiveKind::IpAddress,
                "bl.txt:1:1: `example.com` is not an IPv4 or IPv6 address",
            ),
        ] {
            let e = parse_list(text, "bl.txt", kind).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    /// A list beside the filter file, named relatively and through a variable, selects exactly
    /// the flows whose address lies in one of its entries (or, `deny file` with `default
    /// permit`, in none); a missing list is an error at the `file` line.
    #[test]
    fn list_files_select_what_they_list() {
        use crate::filter::{CompileOptions, FilterFile, Variables};
        use crate::model::block::FlowBlockBuf;
        use crate::model::record::FlowRecord;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut nets: Vec<IpNet> = Vec::new();
        let mut list = String::new();
        for i in 0..2000 {
            let net = if i % 4 == 0 {
                let a = std::net::Ipv6Addr::from(0x2001_0db8u128 << 96 | (next() as u128) << 32);
                IpNet::new(a.into(), 48 + (next() % 81) as u8).unwrap()
            } else {
                let a = std::net::Ipv4Addr::from(0x0a00_0000 | (next() as u32 & 0x00ff_ffff));
                IpNet::new(a.into(), 20 + (next() % 13) as u8).unwrap()
            };
            list.push_str(&format!("{net}\n"));
            nets.push(net.trunc());
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.txt"), &list).unwrap();
        let cfg = dir.path().join("f.cfg");
        let text = "filter-primitive bad\n  type ip-address-prefix\n  permit file @LIST\n\
                    filter-primitive good\n  type ip-address-prefix\n  deny file bad.txt\n  default permit\n\
                    filter-definition to-bad\n  match ip-destination-address bad\n\
                    filter-definition to-good\n  match ip-destination-address good\n";
        std::fs::write(&cfg, text).unwrap();
        let mut vars = Variables::new();
        vars.bind("LIST=bad.txt").unwrap();
        let origin = cfg.display().to_string();
        let file = FilterFile::parse(text, &origin, &vars).unwrap();
        assert_eq!(file.primitives[0].entries.len(), 2000);
        let mut flows = FlowBlockBuf::default();
        let mut want = Vec::new();
        for i in 0..20_000u64 {
            let r = next();
            // One flow in three goes to a listed network's last address; the rest anywhere.
            let dst: IpAddr = if i % 3 == 1 {
                let n = nets[(r % nets.len() as u64) as usize];
                n.broadcast()
            } else if i % 4 == 0 {
                std::net::Ipv6Addr::from(0x2001_0db8u128 << 96 | (r as u128) << 32).into()
            } else {
                std::net::Ipv4Addr::from(0x0a00_0000 | (r as u32 & 0x00ff_ffff)).into()
            };
            want.push(nets.iter().any(|n| n.contains(&dst)));
            flows.push(&FlowRecord {
                dst_addr: dst,
                ..Default::default()
            });
        }
        let opts = CompileOptions::default();
        let mut got = Vec::new();
        let n = file
            .compile("to-bad", &opts)
            .unwrap()
            .select(&flows.view(), &mut got);
        assert_eq!(got, want);
        assert!(n > 1000 && n < 19_000, "{n} of 20000 listed");
        file.compile("to-good", &opts)
            .unwrap()
            .select(&flows.view(), &mut got);
        assert!(got.iter().zip(&want).all(|(g, w)| g != w));

        std::fs::remove_file(dir.path().join("bad.txt")).unwrap();
        let e = FilterFile::parse(text, &origin, &vars)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{origin}:3:10: cannot read the address list {}",
                dir.path().join("bad.txt").display()
            )),
            "{e}"
        );
        let e = FilterFile::parse(
            "filter-primitive p\n  type ip-port\n  permit file ports.txt\n",
            &origin,
            &vars,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`file` lists addresses, for ip-address and ip-address-prefix"),
            "{e}"
        );
    }
}
