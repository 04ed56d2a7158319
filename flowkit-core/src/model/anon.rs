//! Prefix-preserving address anonymisation with Crypto-PAn (J. Fan, J. Xu, M. Ammar, S. Moon,
//! "Prefix-preserving IP address anonymization", Computer Networks 46(2), 2004), as nfdump's
//! nfanon and the authors' reference implementation compute it: two addresses that share their
//! first k bits are mapped to two addresses that share their first k bits, one-to-one, and the
//! same key gives the same mapping in every run and every file.
//!
//! The algorithm is a few lines over a block cipher, written here from the paper rather than
//! taken from a crate (the crates that exist are small, single-author and unmaintained; the
//! cipher, where mistakes would matter, is the RustCrypto `aes` crate):
//!
//! - The 32-byte key is an AES-128 key (bytes 0-15) and a pad: AES of bytes 16-31.
//! - Bit i of the result (from the most significant) is bit i of the address XOR the first bit
//!   of AES(the address's first i bits followed by the pad's bits from i on).
//!
//! IPv4 addresses fill the first 32 bits of the 128-bit block, which is how the reference
//! implementation computes them; IPv6 addresses use all 128 (as nfanon does), so an IPv6
//! address whose first 32 bits are an IPv4 address gets that address's anonymised bits first.
//! The 32 (or 128) cipher inputs depend only on the address, so they are encrypted as one batch.

use crate::model::block::{FlowBlock, FlowBlockBuf};
use crate::model::record::FlowRecord;
use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Length of a Crypto-PAn key: 16 bytes of AES key, 16 bytes to make the pad.
pub const KEY_LEN: usize = 32;

/// Addresses remembered by an [`Anonymizer`] before its memory is cleared (flows repeat their
/// addresses, and each one costs 32 or 128 AES blocks).
const CACHE_MAX: usize = 1 << 20;

/// A Crypto-PAn key that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Reads a key as nfanon takes one and as a key file holds it: 32 bytes used as they are (nfanon's
/// "32 character string"), or `0x` and 64 hex digits (nfanon's other form; the `0x` may be left
/// out). Surrounding blanks and a final newline are ignored, unless the 32 bytes are the key.
pub fn parse_key(bytes: &[u8]) -> Result<[u8; KEY_LEN], KeyError> {
    if bytes.len() == KEY_LEN {
        return Ok(bytes.try_into().expect("32 bytes"));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| {
            KeyError(format!(
                "a key of {} bytes is neither 32 bytes nor 64 hex digits",
                bytes.len()
            ))
        })?
        .trim();
    if text.len() == KEY_LEN {
        return Ok(text.as_bytes().try_into().expect("32 bytes"));
    }
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if hex.len() != 2 * KEY_LEN || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(KeyError(format!(
            "a key is 32 characters or 0x and 64 hex digits (got {} characters)",
            text.chars().count()
        )));
    }
    let mut key = [0u8; KEY_LEN];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex digits checked");
    }
    Ok(key)
}

/// Writes a new random key to `path` as `0x` and 64 hex digits and a newline, from
/// /dev/urandom, readable by its owner only; an existing file is not replaced.
pub fn write_new_key(path: &std::path::Path) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut key = [0u8; KEY_LEN];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let text: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    writeln!(f, "0x{text}")?;
    f.sync_all()
}

/// The Crypto-PAn mapping of one key.
#[derive(Clone)]
pub struct CryptoPan {
    cipher: Aes128,
    pad: u128,
}

impl CryptoPan {
    /// The mapping of `key` (see [`parse_key`]).
    pub fn new(key: &[u8; KEY_LEN]) -> CryptoPan {
        let cipher = Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut pad = GenericArray::clone_from_slice(&key[16..]);
        cipher.encrypt_block(&mut pad);
        CryptoPan {
            cipher,
            pad: u128::from_be_bytes(pad.into()),
        }
    }

    /// The first `bits` bits of `orig` (which starts at the top of the 128-bit block)
    /// anonymised, as the top `bits` bits of the result.
    fn anonymize_bits(&self, orig: u128, bits: usize) -> u128 {
        let mut blocks = [GenericArray::default(); 128];
        for (pos, b) in blocks[..bits].iter_mut().enumerate() {
            // The address's first `pos` bits, then the pad's.
            let mask = if pos == 0 { 0 } else { !0u128 << (128 - pos) };
            *b = ((orig & mask) | (self.pad & !mask)).to_be_bytes().into();
        }
        self.cipher.encrypt_blocks(&mut blocks[..bits]);
        let mut flip = 0u128;
        for (pos, b) in blocks[..bits].iter().enumerate() {
            flip |= ((b[0] >> 7) as u128) << (127 - pos);
        }
        orig ^ flip
    }

    /// The anonymised IPv4 address.
    pub fn anonymize_v4(&self, a: Ipv4Addr) -> Ipv4Addr {
        let top = (u32::from(a) as u128) << 96;
        Ipv4Addr::from((self.anonymize_bits(top, 32) >> 96) as u32)
    }

    /// The anonymised IPv6 address.
    pub fn anonymize_v6(&self, a: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.anonymize_bits(u128::from(a), 128))
    }

    /// The anonymised address.
    pub fn anonymize(&self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(a) => IpAddr::V4(self.anonymize_v4(a)),
            IpAddr::V6(a) => IpAddr::V6(self.anonymize_v6(a)),
        }
    }
}

/// Anonymises the addresses of flows: source, destination, next hop, exporter and the post-NAT
/// ones (as nfanon does); sets the source and destination AS numbers to 0 (as nfanon does: an
/// AS names the network that prefix preservation hides) unless `keep_as`; and sets the MAC
/// addresses to 0 (nfanon keeps them, but a MAC names a device, and its vendor). The unspecified address (`0.0.0.0`, `::`, what a
/// record holds for a field its exporter did not send) is kept, so "no next hop" stays visibly
/// so. Nothing else changes (ports, counters, interfaces, masks and times are kept; see
/// docs/flow-anon.md).
pub struct Anonymizer {
    pan: CryptoPan,
    /// Keep the AS numbers instead of setting them to 0.
    pub keep_as: bool,
    cache: HashMap<IpAddr, IpAddr, foldhash::fast::FixedState>,
    /// Flows anonymised.
    pub flows: u64,
}

impl Anonymizer {
    /// An anonymiser for `key`.
    pub fn new(key: &[u8; KEY_LEN]) -> Anonymizer {
        Anonymizer {
            pan: CryptoPan::new(key),
            keep_as: false,
            cache: HashMap::default(),
            flows: 0,
        }
    }

    /// The anonymised `a` (remembered, since flows repeat their addresses).
    pub fn address(&mut self, a: IpAddr) -> IpAddr {
        if a.is_unspecified() {
            return a;
        }
        if let Some(x) = self.cache.get(&a) {
            return *x;
        }
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        let x = self.pan.anonymize(a);
        self.cache.insert(a, x);
        x
    }

    /// Anonymises the addresses of `r`.
    pub fn record(&mut self, r: &mut FlowRecord) {
        r.src_addr = self.address(r.src_addr);
        r.dst_addr = self.address(r.dst_addr);
        r.next_hop = self.address(r.next_hop);
        r.exporter = self.address(r.exporter);
        r.xlate_src_addr = self.address(r.xlate_src_addr);
        r.xlate_dst_addr = self.address(r.xlate_dst_addr);
        r.src_mac = 0;
        r.dst_mac = 0;
        if !self.keep_as {
            r.src_as = 0;
            r.dst_as = 0;
        }
        self.flows += 1;
    }

    /// Appends the flows of `b`, anonymised, to `out` (cleared first).
    pub fn block(&mut self, b: &FlowBlock<'_>, out: &mut FlowBlockBuf) {
        out.clear();
        out.reserve(b.len);
        for i in 0..b.len {
            let mut r = b.get(i);
            self.record(&mut r);
            out.push(&r);
        }
    }
}

#[cfg(test)]
#[path = "anon_tests.rs"]
mod tests;
