//! Frame-of-reference column encoding ([`Encoding::Narrow`]): a column is stored as its smallest
//! value and each value's distance from it, in as few bytes as the block's range needs.
//!
//! Why: the scans that print or pass on what they select read (and checksum) nearly every byte of
//! an archive, and on a warm cache that is bound by memory bandwidth. A block's times span
//! minutes, its counters rarely pass 2^32, its interface and AS numbers 2^16, its exporter is
//! one address: stored narrow, the benchmark archive shrinks from 74 to about 41 bytes a flow.
//! Readers widen a narrow column back into scratch memory ([`ColumnScratch`]) when a tool views
//! it, so every consumer still sees plain slices.
//!
//! [`Encoding::Narrow`]: super::format::Encoding::Narrow

use std::mem::size_of;

/// A fixed-width column type that can be stored narrow: its values as u64 bits, in an order
/// where the smallest value is the frame's base.
pub trait NarrowValue: bytemuck::Pod + Ord {
    /// The value's bits, zero-extended (sign bits kept for signed types: offsets wrap).
    fn bits(self) -> u64;
    /// The value whose bits are `b`, truncated to the type.
    fn from_bits(b: u64) -> Self;
}

macro_rules! narrow_value {
    ($($t:ty),*) => {$(
        impl NarrowValue for $t {
            #[inline]
            fn bits(self) -> u64 {
                self as u64
            }
            #[inline]
            fn from_bits(b: u64) -> Self {
                b as $t
            }
        }
    )*};
}
narrow_value!(u8, u16, u32, u64, i64);

/// Smallest and largest value, or `None` for no values. On x86-64 processors with AVX2 (checked
/// at run time) the same loop is compiled with those instructions: the baseline (SSE2) has no
/// unsigned or 64-bit vector compares, so without them every column's scan was scalar.
pub fn min_max<T: Copy + Ord>(v: &[T]) -> Option<(T, T)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (detected above).
        return unsafe { min_max_avx2(v) };
    }
    min_max_lanes(v)
}

/// [`min_max`] with AVX2: a plain reduction, which the compiler turns into vector compares for
/// every integer width (hand-made lanes, as in [`min_max_lanes`], stayed scalar for 64-bit
/// values and were gathered element by element for 16-bit ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_max_avx2<T: Copy + Ord>(v: &[T]) -> Option<(T, T)> {
    let first = *v.first()?;
    let (mut lo, mut hi) = (first, first);
    for &x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    Some((lo, hi))
}

/// [`min_max`] without vector compares: four lanes, so neighbouring compares do not wait on
/// each other.
fn min_max_lanes<T: Copy + Ord>(v: &[T]) -> Option<(T, T)> {
    let first = *v.first()?;
    let (quads, tail) = v.as_chunks::<4>();
    let (mut lo, mut hi) = ([first; 4], [first; 4]);
    for q in quads {
        for k in 0..4 {
            lo[k] = lo[k].min(q[k]);
            hi[k] = hi[k].max(q[k]);
        }
    }
    let fold = lo
        .into_iter()
        .zip(hi)
        .chain(tail.iter().map(|&x| (x, x)))
        .fold((first, first), |(a, b), (l, h)| (a.min(l), b.max(h)));
    Some(fold)
}

/// The width in bytes (0, 1, 2 or 4) that holds every distance up to `range`, if any does.
fn width_for(range: u64) -> Option<usize> {
    match range {
        0 => Some(0),
        1..=0xff => Some(1),
        0x100..=0xffff => Some(2),
        0x1_0000..=0xffff_ffff => Some(4),
        _ => None,
    }
}

/// Appends `v` in the narrow encoding to `out` (the base word, then the distances, padded to a
/// whole word) and returns the width, when that is smaller than storing `v` plainly; otherwise
/// leaves `out` alone and returns `None`.
pub fn pack<T: NarrowValue>(v: &[T], out: &mut Vec<u64>) -> Option<u8> {
    let (lo, hi) = min_max(v)?;
    pack_range(v, lo, hi, out)
}

/// [`pack`] of values whose smallest and largest are known to be `lo` and `hi` (from
/// [`min_max`], which a writer also uses to find all-zero columns without a second pass).
pub fn pack_range<T: NarrowValue>(v: &[T], lo: T, hi: T, out: &mut Vec<u64>) -> Option<u8> {
    let base = lo.bits();
    let width = width_for(hi.bits().wrapping_sub(base))?;
    let pad8 = super::format::pad8;
    if width >= size_of::<T>() || 8 + pad8(v.len() * width) >= pad8(std::mem::size_of_val(v)) {
        return None; // no smaller once padded (tiny blocks): plain needs no widening
    }
    let start = out.len();
    out.push(base);
    out.resize(start + 1 + (v.len() * width).div_ceil(8), 0);
    let dst = &mut out[start + 1..];
    match width {
        1 => fill::<T, u8>(v, base, dst),
        2 => fill::<T, u16>(v, base, dst),
        4 => fill::<T, u32>(v, base, dst),
        _ => {}
    }
    Some(width as u8)
}

/// Stores each value's distance from `base` in `dst`, as `D`; with AVX2 where the processor
/// has it (see [`min_max`]).
fn fill<T: NarrowValue, D: NarrowValue>(v: &[T], base: u64, dst: &mut [u64]) {
    let dst: &mut [D] = bytemuck::cast_slice_mut(dst);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (detected above).
        return unsafe { fill_avx2(v, base, dst) };
    }
    fill_lanes(v, base, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_avx2<T: NarrowValue, D: NarrowValue>(v: &[T], base: u64, dst: &mut [D]) {
    fill_lanes(v, base, dst)
}

#[inline(always)]
fn fill_lanes<T: NarrowValue, D: NarrowValue>(v: &[T], base: u64, dst: &mut [D]) {
    for (d, &x) in dst.iter_mut().zip(v) {
        *d = D::from_bits(x.bits().wrapping_sub(base));
    }
}

/// Widened values, in an unsigned type as wide as the column's (viewed as the column's type).
enum Words {
    W1(Vec<u8>),
    W2(Vec<u16>),
    W4(Vec<u32>),
    W8(Vec<u64>),
}

impl Words {
    fn view<T: NarrowValue>(&self) -> &[T] {
        match self {
            Words::W1(v) => bytemuck::cast_slice(v),
            Words::W2(v) => bytemuck::cast_slice(v),
            Words::W4(v) => bytemuck::cast_slice(v),
            Words::W8(v) => bytemuck::cast_slice(v),
        }
    }

    fn width(&self) -> usize {
        match self {
            Words::W1(_) => 1,
            Words::W2(_) => 2,
            Words::W4(_) => 4,
            Words::W8(_) => 8,
        }
    }

    fn empty(width: usize) -> Words {
        match width {
            1 => Words::W1(Vec::new()),
            2 => Words::W2(Vec::new()),
            4 => Words::W4(Vec::new()),
            _ => Words::W8(Vec::new()),
        }
    }
}

/// Checks a narrow column of `n` values of `T` (its stored bytes `data`, 8-aligned, and its
/// `width`) and returns its base and distances; `None` when the width or length is not one the
/// encoding allows for `T`.
fn parse<T: NarrowValue>(data: &[u8], width: u8, n: usize) -> Option<(u64, &[u8])> {
    let width = width as usize;
    if !matches!(width, 0 | 1 | 2 | 4)
        || width >= size_of::<T>()
        || data.len() != super::format::narrow_len(n, width)
    {
        return None;
    }
    let base = u64::from_le_bytes(data[..8].try_into().ok()?);
    let src = &data[8..];
    // Distances are read as u16 or u32 in place: a misplaced column is refused, not a panic.
    if !(src.as_ptr() as usize).is_multiple_of(width.max(1)) {
        return None;
    }
    Some((base, src))
}

/// Widens `n` values of `T` into `out` (cleared first; its allocation is reused).
fn widen_into<T: NarrowValue>(base: u64, width: u8, src: &[u8], n: usize, out: &mut Words) {
    fn fill<D: NarrowValue>(out: &mut Vec<D>, base: u64, width: u8, src: &[u8], n: usize) {
        out.clear();
        match width {
            0 => out.resize(n, D::from_bits(base)),
            1 => out.extend(
                src.iter()
                    .map(|&s| D::from_bits(base.wrapping_add(s as u64))),
            ),
            2 => out.extend(
                bytemuck::cast_slice::<u8, u16>(src)
                    .iter()
                    .map(|&s| D::from_bits(base.wrapping_add(s as u64))),
            ),
            _ => out.extend(
                bytemuck::cast_slice::<u8, u32>(src)
                    .iter()
                    .map(|&s| D::from_bits(base.wrapping_add(s as u64))),
            ),
        }
    }
    if out.width() != size_of::<T>() {
        *out = Words::empty(size_of::<T>());
    }
    match out {
        Words::W1(v) => fill(v, base, width, src, n),
        Words::W2(v) => fill(v, base, width, src, n),
        Words::W4(v) => fill(v, base, width, src, n),
        Words::W8(v) => fill(v, base, width, src, n),
    }
}

/// A checked narrow column: its base, width and distances, ready to read rows from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NarrowColumn<'a> {
    base: u64,
    width: u8,
    src: &'a [u8],
}

impl<'a> NarrowColumn<'a> {
    /// Checks the stored bytes `data` of a narrow column of `n` values of `T`; `None` when the
    /// width or length is not one the encoding allows for `T`.
    pub(crate) fn parse<T: NarrowValue>(
        data: &'a [u8],
        width: u8,
        n: usize,
    ) -> Option<NarrowColumn<'a>> {
        let (base, src) = parse::<T>(data, width, n)?;
        Some(NarrowColumn { base, width, src })
    }

    /// Appends the values of `rows` (each below the column's length) to `out`, widening only
    /// those: a sparse selection costs its rows, not the block.
    pub(crate) fn gather_into<T: NarrowValue>(&self, rows: &[u32], out: &mut Vec<T>) {
        let base = self.base;
        match self.width {
            0 => out.resize(out.len() + rows.len(), T::from_bits(base)),
            1 => {
                let s = self.src;
                out.extend(
                    rows.iter()
                        .map(|&i| T::from_bits(base.wrapping_add(s[i as usize] as u64))),
                );
            }
            2 => {
                let s: &[u16] = bytemuck::cast_slice(self.src);
                out.extend(
                    rows.iter()
                        .map(|&i| T::from_bits(base.wrapping_add(s[i as usize] as u64))),
                );
            }
            _ => {
                let s: &[u32] = bytemuck::cast_slice(self.src);
                out.extend(
                    rows.iter()
                        .map(|&i| T::from_bits(base.wrapping_add(s[i as usize] as u64))),
                );
            }
        }
    }
}

/// Which stored column a widened copy was made from: its id, its checksum (checked against its
/// bytes before widening) and its length. Two columns with the same key hold the same values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WidenKey {
    pub id: u16,
    pub checksum: u64,
    pub n: usize,
}

struct Widened {
    key: WidenKey,
    words: Words,
}

/// A compressed column inflated to its inner stored form (`archive::packed`).
struct Inflated {
    key: WidenKey,
    words: Vec<u64>,
    len: usize,
}

/// Memory that views of narrow and compressed columns borrow: each narrow column a view needs is
/// widened once into it, each compressed one inflated once, and kept until
/// [`ColumnScratch::clear`], which keeps the allocations for the next block. A scan keeps one per
/// block of a batch, so what it holds is bounded by the batch.
#[derive(Default)]
pub struct ColumnScratch {
    columns: elsa::sync::FrozenVec<Box<Widened>>,
    /// Buffers of cleared columns, reused before allocating.
    spare: std::sync::Mutex<Vec<Words>>,
    inflated: elsa::sync::FrozenVec<Box<Inflated>>,
    /// Buffers of cleared inflated columns.
    spare_inflated: std::sync::Mutex<Vec<Vec<u64>>>,
}

impl std::fmt::Debug for ColumnScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ColumnScratch({} columns)", self.columns.len())
    }
}

impl ColumnScratch {
    /// An empty scratch.
    pub fn new() -> ColumnScratch {
        ColumnScratch::default()
    }

    /// Forgets every widened column (nothing can borrow them: it takes `&mut`), keeping their
    /// memory for the next ones.
    pub fn clear(&mut self) {
        let spare = self.spare.get_mut().unwrap_or_else(|e| e.into_inner());
        spare.extend(
            std::mem::take(&mut self.columns)
                .into_vec()
                .into_iter()
                .map(|w| w.words),
        );
        let spare = self
            .spare_inflated
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        spare.extend(
            std::mem::take(&mut self.inflated)
                .into_vec()
                .into_iter()
                .map(|w| w.words),
        );
    }

    /// The inner stored bytes (`len` of them) of the compressed column `key`, when they are here.
    pub(crate) fn inflated_already(&self, key: WidenKey, len: usize) -> Option<&[u8]> {
        (0..self.inflated.len())
            .filter_map(|i| self.inflated.get(i))
            .find(|w| w.key == key && w.len == len)
            .map(|w| &bytemuck::cast_slice(&w.words)[..len])
    }

    /// The inner stored bytes (`len` of them, 8-aligned) of the compressed column `key`, inflated
    /// now by `fill` (which must write all `len` bytes or fail) unless already here.
    pub(crate) fn inflated(
        &self,
        key: WidenKey,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), String>,
    ) -> Result<&[u8], String> {
        for i in 0..self.inflated.len() {
            if let Some(w) = self.inflated.get(i) {
                if w.key == key && w.len == len {
                    return Ok(&bytemuck::cast_slice(&w.words)[..len]);
                }
            }
        }
        let spare = self
            .spare_inflated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let mut words = spare.unwrap_or_default();
        if words.len() < len.div_ceil(8) {
            words.resize(len.div_ceil(8), 0);
        }
        fill(&mut bytemuck::cast_slice_mut(&mut words)[..len])?;
        let w = self
            .inflated
            .push_get(Box::new(Inflated { key, words, len }));
        Ok(&bytemuck::cast_slice(&w.words)[..len])
    }

    /// The widened values of the narrow column `key` of `n` values of `T` (stored bytes `data`,
    /// `width`), widened now unless already here; `None` when the width or length is not one the
    /// encoding allows for `T`.
    pub(crate) fn widened<T: NarrowValue>(
        &self,
        key: WidenKey,
        data: &[u8],
        width: u8,
    ) -> Option<&[T]> {
        for i in 0..self.columns.len() {
            if let Some(w) = self.columns.get(i) {
                if w.key == key && w.words.width() == size_of::<T>() {
                    return Some(&w.words.view::<T>()[..key.n]);
                }
            }
        }
        let (base, src) = parse::<T>(data, width, key.n)?;
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut words = spare.unwrap_or_else(|| Words::empty(size_of::<T>()));
        widen_into::<T>(base, width, src, key.n, &mut words);
        let w = self.columns.push_get(Box::new(Widened { key, words }));
        Some(&w.words.view::<T>()[..key.n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Widens a narrow column of `n` values into a vector of `T`, as a reader does.
    fn unpack<T: NarrowValue>(data: &[u8], width: u8, n: usize) -> Option<Vec<T>> {
        let (base, src) = parse::<T>(data, width, n)?;
        let mut words = Words::empty(size_of::<T>());
        widen_into::<T>(base, width, src, n, &mut words);
        Some(words.view::<T>().to_vec())
    }

    fn round_trip<T: NarrowValue + std::fmt::Debug>(v: &[T]) -> Option<u8> {
        let mut out = Vec::new();
        let width = pack(v, &mut out)?;
        let bytes: &[u8] = bytemuck::cast_slice(&out);
        let data = &bytes[..super::super::format::narrow_len(v.len(), width as usize)];
        let back = unpack::<T>(data, width, v.len()).expect("unpacks");
        assert_eq!(back, v);
        Some(width)
    }

    /// `v` repeated to 16 values, so every width is smaller than the plain form.
    fn sixteen<T: NarrowValue + std::fmt::Debug>(v: &[T]) -> Option<u8> {
        let v: Vec<T> = v.iter().copied().cycle().take(16).collect();
        round_trip(&v)
    }

    #[test]
    fn values_come_back_at_the_narrowest_width() {
        let t0 = 1_717_416_000_181i64;
        assert_eq!(sixteen(&[t0]), Some(0));
        assert_eq!(sixteen(&[t0, t0 + 255, t0 + 7]), Some(1));
        assert_eq!(sixteen(&[t0 + 256, t0, t0 + 3]), Some(2));
        assert_eq!(sixteen(&[t0, t0 + 300_000, t0 - 5]), Some(4));
        assert_eq!(sixteen(&[i64::MIN, i64::MIN + 1]), Some(1));
        assert_eq!(sixteen(&[-3i64, 3]), Some(1));
        assert_eq!(sixteen(&[0u64, u32::MAX as u64]), Some(4));
        assert_eq!(sixteen(&[1u32, 65_535, 9]), Some(2));
        assert_eq!(sixteen(&[7u16]), Some(0));
        // Not narrower than the type: stored plain.
        assert_eq!(sixteen(&[0u64, 1 << 32]), None);
        assert_eq!(sixteen(&[i64::MIN, i64::MAX]), None);
        assert_eq!(sixteen(&[0u32, 1 << 16]), None);
        assert_eq!(sixteen(&[0u8, 1]), None);
        assert_eq!(round_trip::<u64>(&[]), None);
        // No smaller once padded: 8 bytes either way.
        assert_eq!(round_trip(&[t0]), None);
        assert_eq!(round_trip(&[7u16, 200]), None);
    }

    #[test]
    fn lengths_around_the_lanes_round_trip() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000, 8192] {
            for span in [1u64, 200, 60_000, 3_000_000_000] {
                let v: Vec<u64> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        1_000 + x % span
                    })
                    .collect();
                round_trip(&v);
            }
        }
    }

    /// Both ways of finding the smallest and largest value (vector compares where the processor
    /// has AVX2, lanes otherwise) give what sorting gives, for every type a column can have, at
    /// lengths around the lanes and with the extremes anywhere.
    #[test]
    fn min_max_paths_agree_with_sorting() {
        fn check<T: Copy + Ord + std::fmt::Debug>(v: &[T]) {
            let mut sorted = v.to_vec();
            sorted.sort();
            let want = sorted.first().map(|&lo| (lo, *sorted.last().unwrap()));
            assert_eq!(min_max(v), want, "{v:?}");
            assert_eq!(min_max_lanes(v), want, "{v:?}");
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 1000] {
            let v: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                })
                .collect();
            check(&v);
            check(&v.iter().map(|&a| a as i64).collect::<Vec<_>>());
            check(&v.iter().map(|&a| a as u32).collect::<Vec<_>>());
            check(&v.iter().map(|&a| a as u16).collect::<Vec<_>>());
            check(&v.iter().map(|&a| a as u8).collect::<Vec<_>>());
            // The extremes of the type at the first, middle and last place.
            for at in [0, len / 2, len.saturating_sub(1)] {
                if len == 0 {
                    continue;
                }
                let mut w = vec![5u64; len];
                w[at] = u64::MAX;
                check(&w);
                let mut w = vec![5i64; len];
                w[at] = i64::MIN;
                check(&w);
                w[len - 1 - at] = i64::MAX;
                check(&w);
            }
        }
    }

    /// Distances stored with and without AVX2 are the same bytes (the round trips above check
    /// the path chosen on the machine running them against the reader).
    #[test]
    fn fill_paths_agree() {
        let base = 1_717_416_000_000i64;
        for len in [0usize, 1, 3, 4, 5, 31, 32, 33, 1000] {
            let v: Vec<i64> = (0..len as i64).map(|i| base + i * 7919 % 65_536).collect();
            let mut a = vec![0u64; (len * 2).div_ceil(8)];
            let mut b = a.clone();
            fill::<i64, u16>(&v, base as u64, &mut a);
            fill_lanes::<i64, u16>(&v, base as u64, bytemuck::cast_slice_mut(&mut b));
            assert_eq!(a, b, "len {len}");
            let want: Vec<u16> = v.iter().map(|&x| (x - base) as u16).collect();
            assert_eq!(&bytemuck::cast_slice::<u64, u16>(&a)[..len], &want[..]);
        }
    }

    #[test]
    fn bad_widths_and_lengths_are_refused() {
        let data = [0u8; 8 + 16];
        assert!(unpack::<u64>(&data, 2, 8).is_some());
        assert!(unpack::<u64>(&data, 3, 8).is_none());
        assert!(unpack::<u64>(&data, 8, 2).is_none());
        assert!(unpack::<u32>(&data, 4, 4).is_none()); // not narrower than u32
        assert!(unpack::<u64>(&data, 2, 9).is_none()); // wrong length
        assert!(unpack::<u64>(&data[..7], 0, 0).is_none());
    }

    #[test]
    fn scratch_widens_a_column_once_and_reuses_memory_after_clear() {
        let mut s = ColumnScratch::new();
        let v: Vec<u64> = (100..116).collect();
        let mut out = Vec::new();
        let width = pack(&v, &mut out).unwrap();
        let data = &bytemuck::cast_slice::<u64, u8>(&out)[..narrow_len_of(16, width)];
        let key = WidenKey {
            id: 9,
            checksum: 42,
            n: 16,
        };
        let a = s.widened::<u64>(key, data, width).unwrap();
        assert_eq!(a, &v[..]);
        // The same key is not widened again: even other bytes give the first values.
        let b = s.widened::<u64>(key, &[0; 8 + 16], width).unwrap();
        assert_eq!(a.as_ptr(), b.as_ptr());
        let other = WidenKey {
            checksum: 43,
            ..key
        };
        let c = s.widened::<u64>(other, &[0; 8 + 16], width).unwrap();
        assert_eq!(c, &[0u64; 16][..]);
        let first = a.as_ptr();
        s.clear();
        assert_eq!(s.columns.len(), 0);
        // Cleared memory is used again, and holds the new column's values.
        let d = s.widened::<u64>(key, data, width).unwrap();
        assert_eq!(d, &v[..]);
        assert!(d.as_ptr() == first || s.spare.lock().unwrap().len() == 1);
        let fresh = WidenKey {
            checksum: 44,
            ..key
        };
        assert_eq!(s.widened::<u64>(fresh, &data[..9], width), None);
    }

    fn narrow_len_of(n: usize, width: u8) -> usize {
        super::super::format::narrow_len(n, width as usize)
    }
}
