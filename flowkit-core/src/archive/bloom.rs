//! A per-block Bloom filter of the source and destination addresses, so a search for a few hosts
//! (`host A`, the most common question of an investigation) skips the blocks that cannot hold
//! them without reading their address columns.
//!
//! Stored as an extra entry of the block's column directory (id [`BLOOM_ID`], encoding
//! [`BLOOM_ENCODING`]): readers that do not know it skip it. Bits are u64 words, little-endian;
//! the number of bits is a power of two; an address sets [`HASHES`] bits chosen by double
//! hashing of a 64-bit mix of its canonical form (an IPv4 address — in an IPv4 column, or
//! IPv4-mapped in an IPv6 one — as its 32-bit value, IPv6 as its 128-bit value). A false
//! positive only costs reading the block; there are no false negatives.
//!
//! Hand-written: the Bloom crates on crates.io hash through `Hash` (SipHash by default, and not
//! stable across versions), while this is a stored format that must read the same forever.

use crate::model::block::{is_v4_mapped, AddrColumn, FlowBlock};
use std::net::IpAddr;

/// Column directory id of the address Bloom filter (outside the flow columns' ids).
pub const BLOOM_ID: u16 = 0x8001;
/// Directory encoding byte of the Bloom filter.
pub const BLOOM_ENCODING: u8 = 4;
/// Bits set per address.
pub const HASHES: u32 = 3;
/// Column directory id of the per-frame address Bloom filters (see [`FrameBlooms`]).
pub const FRAME_BLOOM_ID: u16 = 0x8002;

/// A block's address Bloom filter, borrowed from the block bytes.
#[derive(Clone, Copy, Debug)]
pub struct AddrBloom<'a> {
    words: &'a [u64],
}

/// The 64-bit mix of an address's canonical form.
#[inline]
fn mix(v: u128) -> u64 {
    // SplitMix64's finaliser over the two halves: cheap, and every input bit reaches every output bit.
    finalize((v as u64) ^ ((v >> 64) as u64).rotate_left(29) ^ MIX_SEED)
}

/// [`mix`] of an IPv4 key (whose upper 64 bits are zero), without the 128-bit arithmetic.
#[inline]
fn mix_v4(a: u32) -> u64 {
    finalize(a as u64 ^ MIX_SEED)
}

const MIX_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline]
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The canonical key of an address: IPv4 (plain or IPv4-mapped) as its 32-bit value.
#[inline]
fn key_of_bytes(b: &[u8; 16]) -> u128 {
    if is_v4_mapped(b) {
        u32::from_be_bytes([b[12], b[13], b[14], b[15]]) as u128
    } else {
        u128::from_be_bytes(*b) | 1 << 127 | 1 // never equal to an IPv4 key
    }
}

/// The canonical key of an address.
pub fn key_of(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => key_of_bytes(&v6.octets()),
    }
}

#[inline]
fn positions(key: u128, mask: u64) -> impl Iterator<Item = u64> {
    positions_of_mix(mix(key), mask)
}

#[inline]
fn positions_of_mix(h: u64, mask: u64) -> impl Iterator<Item = u64> {
    let (h1, h2) = (h, h.rotate_left(32) | 1);
    (0..HASHES as u64).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) & mask)
}

impl<'a> AddrBloom<'a> {
    /// Reads a stored filter (whole u64 words, a power-of-two count); `None` if malformed.
    pub fn from_words(words: &'a [u64]) -> Option<AddrBloom<'a>> {
        (!words.is_empty() && words.len().is_power_of_two()).then_some(AddrBloom { words })
    }

    /// False when no flow of the block has `key` (see [`key_of`]) as its source or destination.
    #[inline]
    pub fn may_contain_key(&self, key: u128) -> bool {
        let mask = (self.words.len() as u64 * 64) - 1;
        positions(key, mask).all(|p| self.words[(p >> 6) as usize] >> (p & 63) & 1 != 0)
    }

    /// False when no flow of the block has `a` as its source or destination.
    pub fn may_contain(&self, a: IpAddr) -> bool {
        self.may_contain_key(key_of(a))
    }
}

/// Builds the filter of `block`'s source and destination addresses into `out` (cleared first):
/// about 4 bits per distinct address, at least 64 bits and at most 64 Ki bits (8 KiB) a block.
///
/// The filter is first built for every address stored (two a flow), then folded to the size its
/// distinct addresses need: with a power-of-two size and positions taken modulo it, OR-ing the
/// upper half onto the lower gives exactly the filter built at half the size, so readers see an
/// ordinary filter. The distinct count is estimated from the bits set (n = -(m/k) ln(1 - x/m)).
/// Real traffic repeats its hosts: the filter of a capture's block shrinks several times, which
/// matters once the columns are compressed (it was a tenth of a compressed block).
pub fn build(block: &FlowBlock<'_>, out: &mut Vec<u64>) {
    out.clear();
    out.resize(full_bits(block.len) / 64, 0);
    set_addresses([block.src_addr, block.dst_addr], out);
    let want = bits_needed(out);
    fold(out, want / 64);
}

/// The size of a filter before folding: 4 bits for every address stored (two a flow of `rows`).
fn full_bits(rows: usize) -> usize {
    (rows * 2 * 4).next_power_of_two().clamp(64, 1 << 16)
}

/// The bits a filter needs for about 4 a distinct address, the distinct count estimated from
/// the bits set in `words` (n = -(m/k) ln(1 - x/m)); a power of two, at least 64, at most the
/// filter's own size.
fn bits_needed(words: &[u64]) -> usize {
    let m = words.len() as f64 * 64.0;
    let set: u32 = words.iter().map(|w| w.count_ones()).sum();
    let fill = (set as f64 / m).min(0.999_999);
    let distinct = -(m / HASHES as f64) * (1.0 - fill).ln();
    ((distinct * 4.0).ceil() as usize)
        .next_power_of_two()
        .clamp(64, words.len() * 64)
}

/// Folds `words` (a power-of-two count) in halves down to `to` words: OR-ing the upper half onto
/// the lower is exactly the filter of half the size.
fn fold(words: &mut Vec<u64>, to: usize) {
    while words.len() > to.max(1) {
        let half = words.len() / 2;
        let (lo, hi) = words.split_at_mut(half);
        lo.iter_mut().zip(hi.iter()).for_each(|(a, b)| *a |= b);
        words.truncate(half);
    }
}

/// Sets the bits of every address of `cols` in `words` (a power-of-two count, zeroed or holding
/// other addresses already).
fn set_addresses(cols: [AddrColumn<'_>; 2], words: &mut [u64]) {
    let bits = words.len() * 64;
    // A power of two: masking the word index (a no-op, as `p < bits`) spares a bounds check.
    let last_word = words.len() - 1;
    let mask = bits as u64 - 1;
    let set = |words: &mut [u64], h: u64| {
        for p in positions_of_mix(h, mask) {
            words[(p >> 6) as usize & last_word] |= 1 << (p & 63);
        }
    };
    for col in cols {
        match col {
            #[cfg(target_arch = "x86_64")]
            AddrColumn::V4(v) if std::arch::is_x86_feature_detected!("avx2") => {
                // SAFETY: the processor has AVX2 (detected above).
                unsafe { set_v4_avx2(v, words, mask) }
            }
            AddrColumn::V4(v) => set_v4(v, words, mask),
            AddrColumn::V6(v) => v.iter().for_each(|b| set(words, mix(key_of_bytes(b)))),
        }
    }
}

/// Builds the filters of `block`'s frames of `rows` rows (the last one may be shorter) into `out`
/// (cleared first), as stored (see [`FrameBlooms`]): a header word, then each frame's filter,
/// all of one size: the one the frame with the most distinct addresses needs, so a frame is
/// found by its index alone. Each is first built for every address its frame may store, then
/// folded, as [`build`] does.
pub fn build_frames(block: &FlowBlock<'_>, rows: usize, out: &mut Vec<u64>) {
    let rows = rows.max(1);
    let frames = block.len.div_ceil(rows);
    let full = full_bits(rows) / 64;
    out.clear();
    out.resize(1 + frames * full, 0);
    let mut per = 1;
    for k in 0..frames {
        let span = k * rows..block.len.min((k + 1) * rows);
        let words = &mut out[1 + k * full..1 + (k + 1) * full];
        set_addresses(
            [
                block.src_addr.slice(span.clone()),
                block.dst_addr.slice(span),
            ],
            words,
        );
        per = per.max(bits_needed(words) / 64);
    }
    // Fold each frame to `per` words, in place: frame k's folded filter goes where frame k's
    // full one began or before it, never over a frame not yet folded.
    let mut folded = vec![0u64; per];
    for k in 0..frames {
        folded.fill(0);
        for part in out[1 + k * full..1 + (k + 1) * full].chunks_exact(per) {
            folded.iter_mut().zip(part).for_each(|(a, b)| *a |= b);
        }
        out[1 + k * per..1 + (k + 1) * per].copy_from_slice(&folded);
    }
    out.truncate(1 + frames * per);
    out[0] = rows as u64 | (per as u64) << 32;
}

/// The address Bloom filters of a block's frames of rows, borrowed from the block bytes
/// (directory id [`FRAME_BLOOM_ID`], encoding [`BLOOM_ENCODING`]): u64 words, the first holding
/// the rows a frame in its low 32 bits and the words a filter (a power of two) in its high 32
/// bits, then one filter per frame, keyed as the block's filter. A filter that selects few
/// hosts reads only the frames that may hold them, where the block's own filter could only say
/// whether to read the whole block.
#[derive(Clone, Copy, Debug)]
pub struct FrameBlooms<'a> {
    rows: usize,
    per: usize,
    words: &'a [u64],
}

impl<'a> FrameBlooms<'a> {
    /// Reads stored filters of a block of `flows` flows; `None` if malformed (a zero frame
    /// length, a filter size not a power of two or over 64 Ki bits, or another frame count).
    pub fn from_words(words: &'a [u64], flows: usize) -> Option<FrameBlooms<'a>> {
        let (&head, words) = words.split_first()?;
        let (rows, per) = ((head & 0xffff_ffff) as usize, (head >> 32) as usize);
        let fits = rows >= 1
            && per.is_power_of_two()
            && per <= 1024
            && Some(words.len()) == flows.div_ceil(rows).checked_mul(per);
        fits.then_some(FrameBlooms { rows, per, words })
    }

    /// Rows a frame (the last one may hold fewer).
    pub fn rows_per_frame(&self) -> usize {
        self.rows
    }

    /// The number of frames.
    pub fn frames(&self) -> usize {
        self.words.len() / self.per
    }

    /// The filter of frame `k` (below [`frames`](Self::frames)).
    pub fn frame(&self, k: usize) -> AddrBloom<'a> {
        AddrBloom {
            words: &self.words[k * self.per..(k + 1) * self.per],
        }
    }
}

/// Sets the bits of the IPv4 addresses `v` in `words` (`mask`: bits - 1, a power of two less
/// one), an address at a time; runs of one address (a host's consecutive flows) set their bits
/// once.
fn set_v4(v: &[u32], words: &mut [u64], mask: u64) {
    let last_word = words.len() - 1;
    let mut prev = None;
    for &a in v {
        if prev != Some(a) {
            for p in positions_of_mix(mix_v4(a), mask) {
                words[(p >> 6) as usize & last_word] |= 1 << (p & 63);
            }
            prev = Some(a);
        }
    }
}

/// [`set_v4`] with AVX2: the keys of eight addresses are mixed and their
/// positions found at a time, in vector registers (the 64-bit products emulated with AVX2's
/// 32-bit ones), and only the bit setting is one address at a time. Runs of one address are not
/// skipped here: setting a bit twice leaves the same filter.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn set_v4_avx2(v: &[u32], words: &mut [u64], mask: u64) {
    const LANES: usize = 8;
    let last_word = words.len() - 1;
    let (chunks, tail) = v.as_chunks::<LANES>();
    for c in chunks {
        let mut pos = [[0u64; LANES]; HASHES as usize];
        let h: [u64; LANES] = std::array::from_fn(|k| mix_v4(c[k]));
        for (i, row) in pos.iter_mut().enumerate() {
            for k in 0..LANES {
                let h2 = h[k].rotate_left(32) | 1;
                row[k] = h[k].wrapping_add((i as u64).wrapping_mul(h2)) & mask;
            }
        }
        for row in &pos {
            for &p in row {
                words[(p >> 6) as usize & last_word] |= 1 << (p & 63);
            }
        }
    }
    for &a in tail {
        for p in positions_of_mix(mix_v4(a), mask) {
            words[(p >> 6) as usize & last_word] |= 1 << (p & 63);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{FlowGen, GenConfig};
    use crate::model::block::FlowBlockBuf;

    #[test]
    fn every_address_of_the_block_is_found_and_most_others_are_not() {
        let recs: Vec<_> = FlowGen::new(GenConfig {
            flows: 8192,
            ipv6_permille: 100,
            ..GenConfig::default()
        })
        .collect();
        let block = FlowBlockBuf::from_records(&recs);
        let mut words = Vec::new();
        build(&block.view(), &mut words);
        let bloom = AddrBloom::from_words(&words).unwrap();
        for r in &recs {
            assert!(bloom.may_contain(r.src_addr) && bloom.may_contain(r.dst_addr));
        }
        // IPv4 rows of a wide (IPv6) column are keyed as IPv4.
        let v4: Vec<_> = recs
            .iter()
            .filter(|r| r.src_addr.is_ipv4())
            .take(3)
            .collect();
        assert!(v4.iter().all(|r| bloom.may_contain(r.src_addr)));
        let absent = (0..10_000u32)
            .map(|i| IpAddr::from([198, 51, (i >> 8) as u8, i as u8]))
            .filter(|a| bloom.may_contain(*a))
            .count();
        assert!(
            absent < 1_500,
            "{absent} of 10000 absent addresses look present"
        );
    }

    /// The bits `build` sets are the stored format: exactly those of each flow's two addresses,
    /// keyed and mixed as the module documents (`key_of`, `mix`, `positions`), whatever shortcuts
    /// `build` takes (IPv4 mixing without 128-bit arithmetic, runs of one address set once).
    #[test]
    fn built_filters_set_exactly_the_documented_bits() {
        for (ipv6_permille, flows) in [(0, 8192), (100, 5000), (0, 3), (1000, 40)] {
            let mut recs: Vec<_> = FlowGen::new(GenConfig {
                flows,
                ipv6_permille,
                ..GenConfig::default()
            })
            .collect();
            // Runs of one source address, as a host's consecutive flows give.
            for i in (1..recs.len()).step_by(3) {
                recs[i].src_addr = recs[i - 1].src_addr;
            }
            let block = FlowBlockBuf::from_records(&recs);
            let mut words = Vec::new();
            build(&block.view(), &mut words);
            // Folded to about 4 bits per distinct address: no more than the unfolded size, and
            // at least 2 bits per distinct address (the estimate errs by far less than 2x).
            let bits = words.len() * 64;
            let full = (recs.len() * 8).next_power_of_two().clamp(64, 1 << 16);
            let distinct: std::collections::HashSet<_> =
                recs.iter().flat_map(|r| [r.src_addr, r.dst_addr]).collect();
            assert!(bits.is_power_of_two() && bits <= full, "{bits} of {full}");
            assert!(bits >= (2 * distinct.len()).min(1 << 16), "{bits} bits");
            let mut expected = vec![0u64; bits / 64];
            for r in &recs {
                for a in [r.src_addr, r.dst_addr] {
                    for p in positions(key_of(a), bits as u64 - 1) {
                        expected[(p >> 6) as usize] |= 1 << (p & 63);
                    }
                }
            }
            assert_eq!(
                words, expected,
                "{flows} flows, {ipv6_permille}\u{2030} IPv6"
            );
        }
    }

    /// The IPv4 loop with AVX2 sets exactly the bits the address-at-a-time loop sets (the
    /// exact-bits test above checks whichever one `build` uses on the machine running it), at
    /// lengths around its eight lanes, with runs of one address and filters of several sizes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn ipv4_loops_with_and_without_avx2_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: only the address-at-a-time loop is used");
            return;
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 100, 8192] {
            let v: Vec<u32> = (0..len)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if i % 5 == 4 {
                        0x0a00_0001
                    } else {
                        x as u32
                    }
                })
                .collect();
            for bits in [64usize, 1024, 1 << 16] {
                let mask = bits as u64 - 1;
                let (mut a, mut b) = (vec![0u64; bits / 64], vec![0u64; bits / 64]);
                set_v4(&v, &mut a, mask);
                // SAFETY: AVX2 was detected above.
                unsafe { set_v4_avx2(&v, &mut b, mask) };
                assert_eq!(a, b, "{len} addresses, {bits} bits");
            }
        }
    }

    /// A block whose flows share a few hosts (real traffic) gets a filter sized for those hosts,
    /// far smaller than one sized for every address stored, and still finds each of them.
    #[test]
    fn repeated_hosts_get_a_small_filter_that_finds_them() {
        let hosts: Vec<IpAddr> = (0..50u8).map(|i| IpAddr::from([10, 1, 2, i])).collect();
        let recs: Vec<_> = FlowGen::new(GenConfig {
            flows: 8192,
            ipv6_permille: 0,
            ..GenConfig::default()
        })
        .enumerate()
        .map(|(i, mut r)| {
            r.src_addr = hosts[i % 50];
            r.dst_addr = hosts[(i * 7 + 3) % 50];
            r
        })
        .collect();
        let block = FlowBlockBuf::from_records(&recs);
        let mut words = Vec::new();
        build(&block.view(), &mut words);
        assert!(
            words.len() * 64 <= 512,
            "{} bits for 50 hosts",
            words.len() * 64
        );
        let bloom = AddrBloom::from_words(&words).unwrap();
        assert!(hosts.iter().all(|h| bloom.may_contain(*h)));
    }
    /// Each frame's filter (`build_frames`) holds exactly the documented bits of its own rows'
    /// addresses, at the one size all frames share, enough for the busiest frame; the stored
    /// words read back as that many frames, and malformed ones are refused.
    #[test]
    fn frame_filters_set_exactly_the_bits_of_their_rows() {
        for (flows, rows, ipv6_permille) in [
            (8192, 1024, 0),
            (3000, 1024, 100),
            (5, 2, 0),
            (1025, 1024, 0),
            (40, 64, 1000),
        ] {
            let recs: Vec<_> = FlowGen::new(GenConfig {
                flows: flows as u64,
                ipv6_permille,
                ..GenConfig::default()
            })
            .collect();
            let block = FlowBlockBuf::from_records(&recs);
            let mut words = Vec::new();
            build_frames(&block.view(), rows, &mut words);
            let what = format!("{flows} flows, frames of {rows}");
            let frames = FrameBlooms::from_words(&words, flows).expect(&what);
            assert_eq!(frames.rows_per_frame(), rows, "{what}");
            assert_eq!(frames.frames(), flows.div_ceil(rows), "{what}");
            let bits = (words.len() - 1) / frames.frames() * 64;
            for (k, chunk) in recs.chunks(rows).enumerate() {
                let distinct: std::collections::HashSet<_> = chunk
                    .iter()
                    .flat_map(|r| [r.src_addr, r.dst_addr])
                    .collect();
                assert!(
                    bits >= (2 * distinct.len()).min(1 << 16),
                    "{what}: {bits} bits"
                );
                let mut expected = vec![0u64; bits / 64];
                for a in chunk.iter().flat_map(|r| [r.src_addr, r.dst_addr]) {
                    for p in positions(key_of(a), bits as u64 - 1) {
                        expected[(p >> 6) as usize] |= 1 << (p & 63);
                    }
                }
                assert_eq!(frames.frame(k).words, &expected[..], "{what}, frame {k}");
            }
            // Another flow count, a zero frame length, a size not a power of two: refused.
            assert!(
                FrameBlooms::from_words(&words, flows + rows).is_none(),
                "{what}"
            );
            let mut bad = words.clone();
            bad[0] &= !0xffff_ffff;
            assert!(FrameBlooms::from_words(&bad, flows).is_none(), "{what}");
            bad[0] = words[0] + (1u64 << 32);
            assert!(FrameBlooms::from_words(&bad, flows).is_none(), "{what}");
        }
        assert!(FrameBlooms::from_words(&[], 0).is_none());
    }
}
