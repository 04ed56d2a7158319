//! What the analyses share: fast hash maps keyed by addresses (IPv4 as IPv4-mapped IPv6, one
//! 128-bit integer), and the human-readable numbers and durations their reports print.

use crate::model::block::{v6_bytes_to_addr, AddrColumn};
use foldhash::fast::FixedState;
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;

/// A hash map with a fast, non-adversarial hasher (keys are addresses and ports).
pub type FastMap<K, V> = HashMap<K, V, FixedState>;
/// A hash set with a fast, non-adversarial hasher.
pub type FastSet<K> = HashSet<K, FixedState>;

/// An address as a hash key: 16 bytes as one integer, IPv4 as IPv4-mapped IPv6.
pub type AddrKey = u128;

/// The key of row `i` of an address column.
#[inline]
pub fn addr_key(col: &AddrColumn<'_>, i: usize) -> AddrKey {
    match col {
        AddrColumn::V4(v) => 0xffff_0000_0000 | v[i] as u128,
        AddrColumn::V6(v) => u128::from_be_bytes(v[i]),
    }
}

/// The key of an address.
pub fn ip_key(a: IpAddr) -> AddrKey {
    u128::from_be_bytes(crate::model::block::addr_to_v6_bytes(a))
}

/// The address of a key (IPv4-mapped keys come back as IPv4).
pub fn key_addr(k: AddrKey) -> IpAddr {
    v6_bytes_to_addr(k.to_be_bytes())
}

/// `n` with a unit: 12.3 k, 4.5 M (powers of 1000).
pub fn human(n: u64) -> String {
    let v = n as f64;
    match n {
        0..=9_999 => n.to_string(),
        10_000..=9_999_999 => format!("{:.1} k", v / 1e3),
        10_000_000..=9_999_999_999 => format!("{:.1} M", v / 1e6),
        _ => format!("{:.1} G", v / 1e9),
    }
}

/// A duration in ms as `41 s`, `3 min`, `2.5 h`.
pub fn human_ms(ms: i64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// A CSV error as the I/O error beneath it when there is one (so a closed pipe stays a
/// closed pipe).
pub fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
