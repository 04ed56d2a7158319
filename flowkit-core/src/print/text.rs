//! Appending fields to a byte buffer without allocating: integers (itoa), hex, IPv4 text from a
//! table, columns padded like printf's `%-N.Ms`.
//!
//! printf-style formatting through `std::fmt` costs several times more per field than these
//! direct writes, and printing is where wide results spend their time; hence the hand-written
//! helpers (itoa does the decimal digits).

use crate::model::block::AddrColumn;
use std::io::Write;
use std::net::Ipv6Addr;

/// Appends `v` in decimal. One- and two-digit values (most fields of most flows: zero tags,
/// TOS, reverse counters, masks, flags) are written as fixed-size stores; a variable-length copy of
/// itoa's digits is a call to `memmove` per field, 17% of a CSV run's profile before.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=9 => out.push(b'0' + v as u8),
        10..=99 => out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]),
        _ => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
    }
}

/// Appends `n` spaces.
#[inline]
pub(crate) fn spaces(out: &mut Vec<u8>, n: usize) {
    const SP: [u8; 64] = [b' '; 64];
    let mut n = n;
    while n > 0 {
        let k = n.min(SP.len());
        out.extend_from_slice(&SP[..k]);
        n -= k;
    }
}

/// Pads what was written since `start` with spaces to `width` (`%-Ns`); longer text stays whole.
#[inline]
pub(crate) fn pad_from(out: &mut Vec<u8>, start: usize, width: usize) {
    let len = out.len() - start;
    if len < width {
        spaces(out, width - len);
    }
}

/// Appends `s` left-justified in `width` columns (`%-Ns`), never truncating.
#[inline]
pub(crate) fn left(out: &mut Vec<u8>, s: &[u8], width: usize) {
    out.extend_from_slice(s);
    if s.len() < width {
        spaces(out, width - s.len());
    }
}

/// Appends `s` right-justified in `width` columns (`%Ns`), never truncating.
#[inline]
pub(crate) fn right(out: &mut Vec<u8>, s: &[u8], width: usize) {
    if s.len() < width {
        spaces(out, width - s.len());
    }
    out.extend_from_slice(s);
}

/// Appends `v` in decimal left-justified in `width` columns (`%-Nlu`).
#[inline]
pub(crate) fn left_u64(out: &mut Vec<u8>, v: u64, width: usize) {
    left(out, itoa::Buffer::new().format(v).as_bytes(), width);
}

/// Appends `v` in decimal right-justified in `width` columns (`%Nlu`).
#[inline]
pub(crate) fn right_u64(out: &mut Vec<u8>, v: u64, width: usize) {
    right(out, itoa::Buffer::new().format(v).as_bytes(), width);
}

/// Appends `v` in lowercase hex with at least `digits` digits, zero-filled (`%N.Nx`).
#[inline]
pub(crate) fn hex(out: &mut Vec<u8>, v: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b'0'; 16];
    let mut i = 16;
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    let start = i.min(16 - digits.min(16));
    out.extend_from_slice(&buf[start..]);
}

/// Appends `v` in lowercase hex, left-justified in `width` columns (`%-Nx`).
#[inline]
pub(crate) fn left_hex(out: &mut Vec<u8>, v: u64, width: usize) {
    let start = out.len();
    hex(out, v, 1);
    pad_from(out, start, width);
}

/// Decimal text of every byte value, for dotted quads: 3 bytes of digits and the length.
static OCTETS: [([u8; 3], u8); 256] = octet_table();

const fn octet_table() -> [([u8; 3], u8); 256] {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        i += 1;
    }
    t
}

/// Appends an IPv4 address (host-order integer) as a dotted quad.
#[inline]
pub(crate) fn ipv4(out: &mut Vec<u8>, a: u32) {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (k, byte) in a.to_be_bytes().into_iter().enumerate() {
        if k > 0 {
            buf[n] = b'.';
            n += 1;
        }
        let (d, len) = OCTETS[byte as usize];
        buf[n..n + 3].copy_from_slice(&d);
        n += len as usize;
    }
    out.extend_from_slice(&buf[..n]);
}

/// Appends the address in row `i` of `col`: a dotted quad for IPv4 (and IPv4-mapped IPv6), the
/// RFC 5952 text for IPv6.
#[inline]
pub(crate) fn addr(out: &mut Vec<u8>, col: &AddrColumn<'_>, i: usize) {
    match col {
        AddrColumn::V4(v) => ipv4(out, v[i]),
        AddrColumn::V6(v) => {
            let a = Ipv6Addr::from(v[i]);
            match a.to_ipv4_mapped() {
                Some(v4) => ipv4(out, u32::from(v4)),
                // Writing into a Vec cannot fail.
                None => {
                    let _ = write!(out, "{a}");
                }
            }
        }
    }
}

/// The IPv4 address of row `i` (host order) when it is one.
#[inline]
pub(crate) fn v4_of(col: &AddrColumn<'_>, i: usize) -> Option<u32> {
    match col {
        AddrColumn::V4(v) => Some(v[i]),
        AddrColumn::V6(v) => Ipv6Addr::from(v[i]).to_ipv4_mapped().map(u32::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_itoa_s() {
        let mut out = Vec::new();
        let edges = [99, 100, 999, 1000, u32::MAX as u64, u64::MAX - 1, u64::MAX];
        for v in (0..10_000u64).chain(edges) {
            out.clear();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes(), "{v}");
        }
    }
    use std::net::Ipv4Addr;

    #[test]
    fn dotted_quads_match_std() {
        let mut out = Vec::new();
        for a in [0u32, 1, 0x0a00_0001, 0xffff_ffff, 0xc0a8_3366, 0x6400_0a09] {
            out.clear();
            ipv4(&mut out, a);
            assert_eq!(out, Ipv4Addr::from(a).to_string().as_bytes());
        }
    }

    #[test]
    fn hex_and_padding_match_printf_semantics() {
        let mut out = Vec::new();
        hex(&mut out, 0, 4);
        out.push(b'|');
        hex(&mut out, 0xabcde, 4);
        out.push(b'|');
        left_hex(&mut out, 0x16, 4);
        out.push(b'|');
        left_u64(&mut out, 7, 3);
        out.push(b'|');
        right_u64(&mut out, 1273, 6);
        out.push(b'|');
        left(&mut out, b"toolongvalue", 4);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "{:04x}|{:04x}|{:<4x}|{:<3}|{:>6}|toolongvalue",
                0, 0xabcde, 0x16, 7, 1273
            )
        );
    }
}
