//! Compressed column encoding ([`Encoding::Packed`], format version 2): a column's ordinary
//! stored form (plain, IPv4/IPv6 addresses or narrow) put through a reversible transform (delta
//! of neighbouring values, byte shuffle) and then zstd.
//!
//! Why: the narrow encoding keeps about 37 bytes a flow; flow-tools' zlib files take about 11.
//! Inside a block the values of one column are alike (times a few seconds apart, counters of the
//! same magnitude, a few hundred addresses and ports repeated), and once their bytes are grouped
//! by significance (the shuffle) a fast general codec removes most of them. Decompression runs
//! at over a gigabyte a second, and a reader inflates only the columns a tool uses.
//!
//! Stored bytes (the column directory's length covers all of them; its checksum is over them, so
//! a block is checked, and skipped by its zone map or Bloom filter, without inflating anything):
//!
//! | off | type | field |
//! |---|---|---|
//! | 0 | u8 | inner encoding: 0 plain, 1 IPv4, 2 IPv6, 5 narrow |
//! | 1 | u8 | inner width (narrow: 0, 1, 2 or 4; otherwise 0) |
//! | 2 | u8 | transform bits: 1 delta, 2 byte shuffle |
//! | 3 | u8 | codec: 1 zstd |
//! | 4 | u32 | inner length: bytes of the inner form (checked against the block's flows) |
//! | 8 | .. | codec 1: one zstd frame holding the transformed inner bytes |
//!
//! Codec 2 (format version 3) splits the values into frames of `R` rows, each transformed and
//! compressed on its own, so a reader that needs a few rows inflates only their frames:
//!
//! | off | type | field |
//! |---|---|---|
//! | 8 | u32 | `R`, rows a frame (at least 1); `F = ⌈n / R⌉` frames |
//! | 12 | P bytes | the inner form's bytes before its values, stored as they are (narrow: the 8-byte base; else none) |
//! | 12 + P | F × u32 | end of each frame, in bytes from the first frame's start (non-decreasing; the last is the end of the column) |
//! | 12 + P + 4F | .. | the F zstd frames, one after another |
//!
//! The transforms apply to the inner form's value array (all of it, or after the 8-byte base of a
//! narrow column), as unsigned little-endian integers of the value width: delta replaces each
//! value by its difference from the one before (wrapping), the shuffle stores byte 0 of every
//! value, then byte 1 of every value, and so on. Readers undo them in reverse order.
//!
//! [`Encoding::Packed`]: super::format::Encoding::Packed

use super::format::{narrow_len, Encoding};
use std::cell::RefCell;

/// Bytes before the compressed frame.
pub const PACKED_HEADER_LEN: usize = 8;
/// Codec byte: a zstd frame.
pub const CODEC_ZSTD: u8 = 1;
/// Codec byte: zstd frames of a fixed number of rows each, with a table of where they end
/// (format version 3).
pub const CODEC_ZSTD_FRAMES: u8 = 2;
/// Rows in a frame of [`CODEC_ZSTD_FRAMES`] as this writer makes them: a reader gathering one
/// row inflates 1024 rows of each column instead of the block's 8192.
pub const FRAME_ROWS: usize = 1024;
/// Transform bit: each value minus the one before it (wrapping).
pub const DELTA: u8 = 1;
/// Transform bit: the value bytes grouped by their position in the value.
pub const SHUFFLE: u8 = 2;

/// A packed column's header, checked against the column it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedHeader {
    /// The stored form once inflated.
    pub inner: Encoding,
    /// The inner form's width byte (narrow columns).
    pub width: u8,
    /// Transform bits ([`DELTA`], [`SHUFFLE`]).
    pub transform: u8,
    /// Bytes of the inner form.
    pub inner_len: usize,
    /// Rows a frame ([`CODEC_ZSTD_FRAMES`]); 0: one zstd frame ([`CODEC_ZSTD`]).
    pub frame_rows: usize,
}

/// Where the value array of an inner form lies (its offset) and the width of one value, for a
/// column of `n` flows whose type is `type_width` bytes wide (`None`: an address column); `None`
/// when the inner form is not one such a column may take. Also the inner form's exact length.
pub(crate) fn inner_layout(
    inner: Encoding,
    width: u8,
    type_width: Option<usize>,
    n: usize,
) -> Option<(usize, usize, usize)> {
    match (inner, type_width) {
        (Encoding::Plain, Some(w)) => Some((0, w, n * w)),
        (Encoding::AddrV4, None) => Some((0, 4, n * 4)),
        (Encoding::AddrV6, None) => Some((0, 16, n * 16)),
        (Encoding::Narrow, t) => {
            let tw = t.unwrap_or(4);
            let w = width as usize;
            (matches!(w, 0 | 1 | 2 | 4) && w < tw).then_some((8, w, narrow_len(n, w)))
        }
        _ => None,
    }
}

/// Parses and checks the header of a packed column of `n` flows whose type is `type_width` bytes
/// wide (`None` for addresses): the inner form must be one the column can take, its length the
/// one that form has for `n` flows (which bounds what inflating may produce), the transform and
/// codec known.
pub fn parse_header(data: &[u8], type_width: Option<usize>, n: usize) -> Option<PackedHeader> {
    if data.len() < PACKED_HEADER_LEN {
        return None;
    }
    let inner = Encoding::from_u8(data[0])?;
    let (width, transform, codec) = (data[1], data[2], data[3]);
    let inner_len = u32::from_le_bytes(data[4..8].try_into().ok()?) as usize;
    let (off, elem, len) = inner_layout(inner, width, type_width, n)?;
    let delta_ok = transform & DELTA == 0 || matches!(elem, 1 | 2 | 4 | 8);
    if transform & !(DELTA | SHUFFLE) != 0 || !delta_ok || inner_len != len {
        return None;
    }
    let frame_rows = match codec {
        CODEC_ZSTD => 0,
        CODEC_ZSTD_FRAMES => {
            let r = le_u32(data, PACKED_HEADER_LEN)? as usize;
            (r > 0 && frame_table(data, off, r, n).is_some()).then_some(r)?
        }
        _ => return None,
    };
    Some(PackedHeader {
        inner,
        width,
        transform,
        inner_len,
        frame_rows,
    })
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The frames of a [`CODEC_ZSTD_FRAMES`] column (`data`, its inner form's values starting at
/// `off`, `r` rows a frame, `n` rows): where the frames start in `data`, and the table of their
/// ends; `None` unless the table is whole, non-decreasing and ends exactly at the column's end.
fn frame_table(data: &[u8], off: usize, r: usize, n: usize) -> Option<(usize, &[u8])> {
    let f = n.div_ceil(r);
    let table = PACKED_HEADER_LEN + 4 + off;
    let start = table.checked_add(f.checked_mul(4)?)?;
    let ends = data.get(table..start)?;
    let mut prev = 0u32;
    for e in ends.chunks_exact(4) {
        let e = u32::from_le_bytes(e.try_into().ok()?);
        if e < prev {
            return None;
        }
        prev = e;
    }
    (start + prev as usize == data.len()).then_some((start, ends))
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    static TRANSFORMED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Inflates the packed column `data` (header `h`, already checked by [`parse_header`] for a column
/// of `n` flows, type `type_width`) into `out`, exactly `h.inner_len` bytes long, with its
/// transforms undone. Returns why not when the frame is damaged or inflates to another length:
/// never more than `h.inner_len` bytes are written.
pub fn inflate(
    data: &[u8],
    h: &PackedHeader,
    type_width: Option<usize>,
    n: usize,
    out: &mut [u8],
) -> Result<(), String> {
    inflate_rows(data, h, type_width, n, None, out)
}

/// [`inflate`], but of a column stored in frames ([`CODEC_ZSTD_FRAMES`]) only the frames holding
/// `rows` (each below `n`), when given, and the bytes before the values (a narrow base): the
/// values of other rows in `out` are left as they were, and must not be read.
pub fn inflate_rows(
    data: &[u8],
    h: &PackedHeader,
    type_width: Option<usize>,
    n: usize,
    rows: Option<&[u32]>,
    out: &mut [u8],
) -> Result<(), String> {
    debug_assert_eq!(out.len(), h.inner_len);
    let (off, elem, _) = inner_layout(h.inner, h.width, type_width, n).expect("header checked");
    if h.frame_rows == 0 {
        let got = decompress(&data[PACKED_HEADER_LEN..], out)?;
        if got != h.inner_len {
            return Err(format!(
                "compressed column inflates to {got} bytes, not {}",
                h.inner_len
            ));
        }
        untransform(&mut out[off..], elem, h.transform);
        return Ok(());
    }
    let r = h.frame_rows;
    let (start, ends) = frame_table(data, off, r, n).expect("header checked");
    out[..off].copy_from_slice(&data[PACKED_HEADER_LEN + 4..PACKED_HEADER_LEN + 4 + off]);
    let frames = n.div_ceil(r);
    let mut wanted = vec![rows.is_none(); frames];
    for &row in rows.unwrap_or(&[]) {
        if let Some(w) = wanted.get_mut(row as usize / r) {
            *w = true;
        }
    }
    let end = |k: usize| u32::from_le_bytes(ends[k * 4..k * 4 + 4].try_into().expect("4")) as usize;
    for (k, _) in wanted.iter().enumerate().filter(|(_, w)| **w) {
        let from = if k == 0 { 0 } else { end(k - 1) };
        let frame = &data[start + from..start + end(k)];
        let rows_here = r.min(n - k * r);
        let values = &mut out[off + k * r * elem..off + (k * r + rows_here) * elem];
        let got = decompress(frame, values)?;
        if got != values.len() {
            return Err(format!(
                "frame {k} of a compressed column inflates to {got} bytes, not {}",
                values.len()
            ));
        }
        untransform(values, elem, h.transform);
    }
    Ok(())
}

/// Inflates one zstd frame into `out`, with this thread's decompression context; the bytes
/// written (never more than `out` holds).
fn decompress(frame: &[u8], out: &mut [u8]) -> Result<usize, String> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?);
        }
        d.as_mut()
            .expect("just made")
            .decompress_to_buffer(frame, out)
            .map_err(|e| format!("compressed column does not inflate: {e}"))
    })
}

/// Undoes the `transform` of `values`, `elem` bytes each: the shuffle, then the deltas.
fn untransform(values: &mut [u8], elem: usize, transform: u8) {
    if transform & SHUFFLE != 0 && elem > 1 {
        TRANSFORMED.with(|t| {
            let mut t = t.borrow_mut();
            t.clear();
            t.extend_from_slice(values);
            unshuffle(&t, elem, values);
        });
    }
    if transform & DELTA != 0 {
        undelta(values, elem);
    }
}

/// A column's ordinary stored form, to be packed.
#[derive(Clone, Copy, Debug)]
pub struct InnerForm<'a> {
    /// The stored bytes (without padding).
    pub bytes: &'a [u8],
    /// Their encoding (plain, IPv4, IPv6 or narrow).
    pub enc: Encoding,
    /// Their width byte (narrow).
    pub width: u8,
    /// The column type's width in bytes (`None` for addresses).
    pub type_width: Option<usize>,
}

/// Appends the packed form of a column to `out`: header, then the `inner` form's bytes
/// transformed as `transform` says and compressed at zstd `level`, in frames of `frame_rows`
/// rows ([`CODEC_ZSTD_FRAMES`]) when that is not 0 and the column has more rows, else as one
/// frame ([`CODEC_ZSTD`]). Returns the bytes appended (an error only when zstd fails, e.g. out
/// of memory, or the form is never packed).
pub fn pack(
    inner: &InnerForm<'_>,
    transform: u8,
    level: i32,
    frame_rows: usize,
    out: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let (enc, width) = (inner.enc, inner.width);
    let (off, elem) = value_layout(enc, width, inner.type_width)
        .ok_or_else(|| std::io::Error::other("column form is never packed"))?;
    if transform & DELTA != 0 && !matches!(elem, 1 | 2 | 4 | 8) {
        return Err(std::io::Error::other("no delta of values this wide"));
    }
    let inner = inner.bytes;
    let n = (inner.len() - off) / elem.max(1);
    let framed = frame_rows > 0 && elem > 0 && n > frame_rows;
    let codec = if framed {
        CODEC_ZSTD_FRAMES
    } else {
        CODEC_ZSTD
    };
    let start = out.len();
    out.extend_from_slice(&[enc as u8, width, transform, codec]);
    out.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    if !framed {
        compress_values(&inner[..off], &inner[off..], elem, transform, level, out)?;
        return Ok(out.len() - start);
    }
    out.extend_from_slice(&(frame_rows as u32).to_le_bytes());
    out.extend_from_slice(&inner[..off]);
    let table = out.len();
    let frames = n.div_ceil(frame_rows);
    out.resize(table + 4 * frames, 0);
    let first = out.len();
    for (k, values) in inner[off..].chunks(frame_rows * elem).enumerate() {
        compress_values(&[], values, elem, transform, level, out)?;
        let end = (out.len() - first) as u32;
        out[table + 4 * k..table + 4 * k + 4].copy_from_slice(&end.to_le_bytes());
    }
    Ok(out.len() - start)
}

/// Appends one zstd frame of `prefix` followed by `values` (`elem` bytes each) transformed as
/// `transform` says, compressed at `level`.
fn compress_values(
    prefix: &[u8],
    values: &[u8],
    elem: usize,
    transform: u8,
    level: i32,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    TRANSFORMED.with(|t| {
        let mut t = t.borrow_mut();
        t.clear();
        t.extend_from_slice(prefix);
        t.extend_from_slice(values);
        let values = &mut t[prefix.len()..];
        if transform & DELTA != 0 {
            delta(values, elem);
        }
        if transform & SHUFFLE != 0 && elem > 1 {
            let copy = values.to_vec();
            shuffle(&copy, elem, values);
        }
        COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_none_or(|(l, _)| *l != level) {
                *c = Some((level, zstd::bulk::Compressor::new(level)?));
            }
            let (_, c) = c.as_mut().expect("just made");
            // zstd writes a Vec from its start: compress into the spare tail, then keep it.
            let at = out.len();
            out.resize(at + zstd::zstd_safe::compress_bound(t.len()), 0);
            let n = c.compress_to_buffer(&t[..], &mut out[at..]);
            out.truncate(at + *n.as_ref().unwrap_or(&0));
            n.map(|_| ())
        })
    })
}

/// Where the value array of a stored form starts, and its value width (`type_width`: the
/// column's, `None` for addresses); `None` for forms that are never packed.
pub fn value_layout(enc: Encoding, width: u8, type_width: Option<usize>) -> Option<(usize, usize)> {
    inner_layout(enc, width, type_width, 0).map(|(off, elem, _)| (off, elem))
}

/// Byte `j` of value `i` goes to `out[j * n + i]`.
fn shuffle(src: &[u8], elem: usize, out: &mut [u8]) {
    let n = src.len() / elem;
    for (i, v) in src.chunks_exact(elem).enumerate() {
        for (j, &b) in v.iter().enumerate() {
            out[j * n + i] = b;
        }
    }
}

/// Undoes [`shuffle`].
fn unshuffle(src: &[u8], elem: usize, out: &mut [u8]) {
    let n = src.len() / elem;
    match elem {
        // The common widths with the loop over values innermost on a fixed-size array, which the
        // compiler unrolls.
        2 => unshuffle_n::<2>(src, n, out),
        4 => unshuffle_n::<4>(src, n, out),
        8 => unshuffle_n::<8>(src, n, out),
        _ => {
            for (i, v) in out.chunks_exact_mut(elem).enumerate() {
                for (j, b) in v.iter_mut().enumerate() {
                    *b = src[j * n + i];
                }
            }
        }
    }
}

fn unshuffle_n<const E: usize>(src: &[u8], n: usize, out: &mut [u8]) {
    let planes: [&[u8]; E] = std::array::from_fn(|j| &src[j * n..(j + 1) * n]);
    let (chunks, _) = out.as_chunks_mut::<E>();
    for (i, v) in chunks.iter_mut().enumerate() {
        for j in 0..E {
            v[j] = planes[j][i];
        }
    }
}

macro_rules! delta_fns {
    ($($t:ty),*) => {
        /// Replaces each `elem`-byte value by its difference from the one before (wrapping).
        fn delta(v: &mut [u8], elem: usize) {
            match elem {
                $(w if w == std::mem::size_of::<$t>() => {
                    let mut prev: $t = 0;
                    for c in v.chunks_exact_mut(w) {
                        let x = <$t>::from_le_bytes(c.try_into().expect("width"));
                        c.copy_from_slice(&x.wrapping_sub(prev).to_le_bytes());
                        prev = x;
                    }
                })*
                _ => {}
            }
        }

        /// Undoes [`delta`].
        fn undelta(v: &mut [u8], elem: usize) {
            match elem {
                $(w if w == std::mem::size_of::<$t>() => {
                    let mut acc: $t = 0;
                    for c in v.chunks_exact_mut(w) {
                        acc = acc.wrapping_add(<$t>::from_le_bytes(c.try_into().expect("width")));
                        c.copy_from_slice(&acc.to_le_bytes());
                    }
                })*
                _ => {}
            }
        }
    };
}
delta_fns!(u8, u16, u32, u64);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(inner: &[u8], enc: Encoding, width: u8, tw: Option<usize>, n: usize) {
        let (_, elem) = value_layout(enc, width, tw).unwrap();
        for (transform, frame_rows) in [0, DELTA, SHUFFLE, DELTA | SHUFFLE]
            .into_iter()
            .flat_map(|t| [(t, 0), (t, 7), (t, FRAME_ROWS)])
        {
            if transform & DELTA != 0 && !matches!(elem, 1 | 2 | 4 | 8) {
                continue;
            }
            let mut out = vec![0xaa; 3];
            let form = InnerForm {
                bytes: inner,
                enc,
                width,
                type_width: tw,
            };
            let len = pack(&form, transform, 3, frame_rows, &mut out).unwrap();
            assert_eq!(out.len(), 3 + len);
            let data = &out[3..];
            let h = parse_header(data, tw, n).expect("header");
            let framed = frame_rows > 0 && elem > 0 && n > frame_rows;
            assert_eq!(h.frame_rows, if framed { frame_rows } else { 0 });
            let mut back = vec![0u8; h.inner_len];
            inflate(data, &h, tw, n, &mut back).unwrap();
            let what = format!("{enc:?} width {width} transform {transform} frames {frame_rows}");
            assert_eq!(back, inner, "{what}");
            // Some rows only: those rows' values (and a narrow base) are the inner form's.
            let rows: Vec<u32> = [0, n / 3, n.saturating_sub(1)]
                .into_iter()
                .filter(|&r| r < n)
                .map(|r| r as u32)
                .collect();
            let mut part = vec![0x77u8; h.inner_len];
            inflate_rows(data, &h, tw, n, Some(&rows), &mut part).unwrap();
            let (off, _) = value_layout(enc, width, tw).unwrap();
            assert_eq!(part[..off], inner[..off], "{what}");
            for &r in &rows {
                let v = off + r as usize * elem..off + (r as usize + 1) * elem;
                assert_eq!(part[v.clone()], inner[v], "{what} row {r}");
            }
        }
    }

    #[test]
    fn every_form_and_transform_round_trips() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 3, 8, 100, 8192] {
            let plain64: Vec<u8> = (0..n)
                .flat_map(|i| (1_700_000_000_000u64 + i as u64 * 37 + next() % 50).to_le_bytes())
                .collect();
            round_trip(&plain64, Encoding::Plain, 0, Some(8), n);
            let plain2: Vec<u8> = (0..n).flat_map(|_| (next() as u16).to_le_bytes()).collect();
            round_trip(&plain2, Encoding::Plain, 0, Some(2), n);
            let v6: Vec<u8> = (0..n * 16).map(|_| next() as u8 & 7).collect();
            round_trip(&v6, Encoding::AddrV6, 0, None, n);
            round_trip(&v6[..n * 4], Encoding::AddrV4, 0, None, n);
            for w in [0u8, 1, 2, 4] {
                let mut narrow = 77u64.to_le_bytes().to_vec();
                narrow.extend((0..n * w as usize).map(|_| next() as u8));
                round_trip(&narrow, Encoding::Narrow, w, Some(8), n);
            }
        }
    }

    fn plain4(bytes: &[u8]) -> InnerForm<'_> {
        InnerForm {
            bytes,
            enc: Encoding::Plain,
            width: 0,
            type_width: Some(4),
        }
    }

    #[test]
    fn headers_that_do_not_fit_the_column_are_refused() {
        let inner = vec![5u8; 40];
        let mut out = Vec::new();
        pack(&plain4(&inner), SHUFFLE, 1, 0, &mut out).unwrap();
        assert!(parse_header(&out, Some(4), 10).is_some());
        assert!(parse_header(&out, Some(4), 11).is_none(), "wrong length");
        assert!(parse_header(&out, Some(8), 10).is_none(), "wrong type");
        assert!(parse_header(&out, None, 10).is_none(), "plain address");
        assert!(parse_header(&out[..7], Some(4), 10).is_none());
        let mut bad = out.clone();
        bad[3] = 9;
        assert!(parse_header(&bad, Some(4), 10).is_none(), "codec");
        bad = out.clone();
        bad[2] = 4;
        assert!(parse_header(&bad, Some(4), 10).is_none(), "transform");
        bad = out.clone();
        bad[0] = 5;
        bad[1] = 4;
        assert!(
            parse_header(&bad, Some(4), 10).is_none(),
            "narrow as wide as its type"
        );
    }

    #[test]
    fn frame_tables_that_do_not_fit_the_column_are_refused() {
        let inner: Vec<u8> = (0..3000u32).flat_map(|i| (i * 7).to_le_bytes()).collect();
        let mut out = Vec::new();
        pack(&plain4(&inner), SHUFFLE, 3, 1024, &mut out).unwrap();
        let h = parse_header(&out, Some(4), 3000).unwrap();
        assert_eq!(h.frame_rows, 1024);
        // (byte, new value): rows a frame 0, or another frame count; a table going backwards,
        // or not ending at the column's end.
        let table = PACKED_HEADER_LEN + 4;
        for (at, v) in [
            (9, 0u8),
            (9, 1),
            (9, 8),
            (table + 3, 0xff),
            (table + 10, 0x7f),
        ] {
            let mut bad = out.clone();
            bad[at] = v;
            assert!(parse_header(&bad, Some(4), 3000).is_none(), "byte {at}");
        }
        assert!(parse_header(&out[..out.len() - 1], Some(4), 3000).is_none());
        // A frame damaged inside (the column checksum catches it first in a file): an error
        // or the right length, never more.
        let mut bad = out.clone();
        let first = table + 12;
        bad[first..first + 8].fill(0);
        let mut back = vec![0u8; h.inner_len];
        assert!(inflate(&bad, &h, Some(4), 3000, &mut back).is_err());
        assert!(inflate_rows(&bad, &h, Some(4), 3000, Some(&[2999]), &mut back).is_ok());
    }

    #[test]
    fn damaged_frames_are_errors_never_longer_output() {
        let inner: Vec<u8> = (0..4000u32).flat_map(|i| (i / 3).to_le_bytes()).collect();
        let mut out = Vec::new();
        pack(&plain4(&inner), SHUFFLE, 3, 0, &mut out).unwrap();
        let h = parse_header(&out, Some(4), 4000).unwrap();
        for at in [
            PACKED_HEADER_LEN,
            PACKED_HEADER_LEN + 5,
            out.len() / 2,
            out.len() - 1,
        ] {
            for flip in [1u8, 0x80] {
                let mut bad = out.clone();
                bad[at] ^= flip;
                let mut back = vec![0u8; h.inner_len];
                // Either an error or (a flipped literal) other bytes of the same length.
                let _ = inflate(&bad, &h, Some(4), 4000, &mut back);
            }
            let mut back = vec![0u8; h.inner_len];
            assert!(inflate(&out[..at], &h, Some(4), 4000, &mut back).is_err());
        }
        // A frame of more bytes than the header says does not fit.
        let mut longer = Vec::new();
        let more: Vec<u8> = [inner.clone(), vec![1; 64]].concat();
        pack(&plain4(&more), 0, 3, 0, &mut longer).unwrap();
        longer[4..8].copy_from_slice(&(inner.len() as u32).to_le_bytes());
        let mut back = vec![0u8; inner.len()];
        assert!(inflate(&longer, &h, Some(4), 4000, &mut back).is_err());
    }
}
