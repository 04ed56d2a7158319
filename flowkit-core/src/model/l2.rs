//! Values kept as integers but written as text: MAC addresses (`aa:bb:cc:dd:ee:ff`), MPLS label
//! stack entries (`label-exp-bos`, nfdump's `%mpls1`) and application ids (`ENGINE..SELECTOR`,
//! nfdump's `%nbid`). One place for reading, packing and writing them, shared by the decoders,
//! CSV, JSON, `--fields`, group-by keys, `-o fmt:` and the filter expressions.

use serde::Serializer;

/// Classification engine 20 (PANA-L7-PEN, RFC 6759): an enterprise number precedes the selector.
pub const ENGINE_PEN: u8 = 20;

/// `aa:bb:cc:dd:ee:ff` of a 48-bit MAC value (lower case, as nfdump prints it).
pub fn mac_text(v: u64) -> String {
    as_string(|out| push_mac_text(out, v))
}

/// Appends [`mac_text`] to `out` without allocating (CSV writes one a row per MAC column).
pub fn push_mac_text(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&mac_bytes(v));
}

/// The 17 bytes of [`mac_text`].
fn mac_bytes(v: u64) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = v.to_be_bytes();
    let mut t = [b':'; 17];
    for (k, &x) in b[2..].iter().enumerate() {
        t[3 * k] = HEX[(x >> 4) as usize];
        t[3 * k + 1] = HEX[(x & 15) as usize];
    }
    t
}

/// The text a `push_*_text` function appends, as a `String`.
fn as_string(push: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::with_capacity(24);
    push(&mut out);
    String::from_utf8(out).expect("digits, hex and separators are ASCII")
}

/// Appends `v` in decimal.
fn push_decimal(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Reads a MAC address: six groups of one or two hex digits separated by `:` (nfdump's form)
/// or `-`; `None` otherwise.
pub fn parse_mac(s: &str) -> Option<u64> {
    let sep = if s.contains('-') { '-' } else { ':' };
    let parts: Vec<&str> = s.split(sep).collect();
    if parts.len() != 6 {
        return None;
    }
    parts.iter().try_fold(0u64, |v, p| {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(v << 8 | u64::from_str_radix(p, 16).ok()?)
    })
}

/// The label (20 bits) of an MPLS label stack entry.
pub fn mpls_label(entry: u32) -> u32 {
    entry >> 4
}

/// The experimental / traffic class bits (3) of an MPLS label stack entry.
pub fn mpls_exp(entry: u32) -> u32 {
    (entry >> 1) & 7
}

/// `label-exp-bos` of an MPLS label stack entry (nfdump's `%mpls1` without its padding).
pub fn mpls_text(entry: u32) -> String {
    as_string(|out| push_mpls_text(out, entry))
}

/// Appends [`mpls_text`] to `out` without allocating.
pub fn push_mpls_text(out: &mut Vec<u8>, entry: u32) {
    push_decimal(out, mpls_label(entry) as u64);
    out.push(b'-');
    push_decimal(out, mpls_exp(entry) as u64);
    out.push(b'-');
    out.push(b'0' + (entry & 1) as u8);
}

/// Packs an IPFIX applicationId (IE 95, RFC 6759) of 1 to 8 bytes into a `u64`: the
/// classification engine id (first byte) in the top byte, the selector (the remaining bytes,
/// big-endian) below it. For engine 20 (PANA-L7-PEN) of 5 bytes or more the enterprise number
/// (bytes 1-4) goes to bits 24..56 and the selector (bytes 5..) to the low 24 bits, so
/// nfdump's `20..PEN..SELECTOR` can be written back. `None` for 0 or more than 8 bytes.
pub fn app_id(b: &[u8]) -> Option<u64> {
    let (&engine, rest) = b.split_first()?;
    if rest.len() > 7 {
        return None;
    }
    let be = |b: &[u8]| b.iter().fold(0u64, |v, &x| v << 8 | x as u64);
    let low = if engine == ENGINE_PEN && rest.len() >= 4 {
        be(&rest[..4]) << 24 | be(&rest[4..])
    } else {
        be(rest)
    };
    Some((engine as u64) << 56 | low)
}

/// nfdump's `%nbid` of a packed application id: `ENGINE..SELECTOR`, or
/// `20..PEN..SELECTOR` for engine 20 (without nfdump's `%2u` padding).
pub fn app_id_text(v: u64) -> String {
    as_string(|out| push_app_id_text(out, v))
}

/// Appends [`app_id_text`] to `out` without allocating.
pub fn push_app_id_text(out: &mut Vec<u8>, v: u64) {
    let engine = (v >> 56) as u8;
    let low = v & ((1 << 56) - 1);
    push_decimal(out, engine as u64);
    out.extend_from_slice(b"..");
    if engine == ENGINE_PEN {
        push_decimal(out, low >> 24);
        out.extend_from_slice(b"..");
        push_decimal(out, low & 0xff_ffff);
    } else {
        push_decimal(out, low);
    }
}

/// Reads `ENGINE..SELECTOR` (or `20..PEN..SELECTOR`, or `ENGINE:SELECTOR`) back into the
/// packed value.
pub fn parse_app_id(s: &str) -> Option<u64> {
    let parts: Vec<&str> = if s.contains("..") {
        s.split("..").collect()
    } else {
        s.split(':').collect()
    };
    let num = |t: &str| t.trim().parse::<u64>().ok();
    let engine = num(parts.first()?)?;
    if engine > 255 {
        return None;
    }
    let low = match parts.as_slice() {
        [_, sel] if engine != ENGINE_PEN as u64 => num(sel).filter(|&v| v < 1 << 56)?,
        [_, pen, sel] if engine == ENGINE_PEN as u64 => {
            let (pen, sel) = (num(pen)?, num(sel)?);
            (pen <= u32::MAX as u64 && sel < 1 << 24).then_some(pen << 24 | sel)?
        }
        _ => return None,
    };
    Some(engine << 56 | low)
}

/// serde: a MAC value as `aa:bb:cc:dd:ee:ff`.
pub(crate) fn ser_mac<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(std::str::from_utf8(&mac_bytes(*v)).expect("hex digits and colons"))
}

/// serde: an MPLS entry as `label-exp-bos`.
pub(crate) fn ser_mpls<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mpls_text(*v))
}

/// serde: an application id as `ENGINE..SELECTOR`.
pub(crate) fn ser_app_id<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&app_id_text(*v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_read_and_write() {
        assert_eq!(mac_text(0x0011_2233_4455), "00:11:22:33:44:55");
        assert_eq!(parse_mac("66:77:88:99:aa:bb"), Some(0x6677_8899_aabb));
        assert_eq!(parse_mac("0:1:2:3:4:5"), Some(0x0001_0203_0405));
        assert_eq!(parse_mac("00-11-22-33-44-55"), Some(0x0011_2233_4455));
        for bad in [
            "00:11:22:33:44",
            "00:11:22:33:44:55:66",
            "00:11:22:33:44:5g",
            "001:1:2:3:4:5",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    /// RFC 3032's entry: label 20 bits, exp 3, bottom of stack 1.
    #[test]
    fn mpls_entries_split_as_rfc_3032() {
        // label 16, exp 5, bos 1: 0x000010 << 4 | 5 << 1 | 1 = 0x00010b.
        assert_eq!(mpls_text(0x00_010b), "16-5-1");
        assert_eq!(mpls_text(0xff_fff0), "1048575-0-0");
    }

    /// RFC 6759: engine 13 (PANA-L7) with a 3-byte selector, engine 20 with an enterprise number.
    #[test]
    fn application_ids_pack_and_print() {
        let v = app_id(&[13, 0, 0, 0x50]).unwrap();
        assert_eq!(app_id_text(v), "13..80");
        assert_eq!(parse_app_id("13..80"), Some(v));
        assert_eq!(parse_app_id("13:80"), Some(v));
        let pen = app_id(&[20, 0, 0, 0x0d, 0xd3, 0, 0x01, 0x02]).unwrap();
        assert_eq!(app_id_text(pen), "20..3539..258");
        assert_eq!(parse_app_id("20..3539..258"), Some(pen));
        assert_eq!(app_id(&[]), None);
        assert_eq!(app_id(&[1; 9]), None);
        assert_eq!(parse_app_id("256..1"), None);
    }
}
