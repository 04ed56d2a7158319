//! Block decompression for nfdump files: none, LZO, bzip2, LZ4 and ZSTD, each with a
//! pure-Rust crate (`lzo`, `bzip2` on `libbz2-rs-sys`, `lz4_flex`, `ruzstd`).

use std::io::Read;

/// How the data blocks of an nfdump file are compressed (the header's `compression` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Blocks are stored as they are.
    None,
    /// LZO1X (what `nfcapd -z`/`nfdump -z` write).
    Lzo,
    /// bzip2 (`-j`).
    Bzip2,
    /// LZ4 block format (`-y`).
    Lz4,
    /// Zstandard (`-z=zstd`, nfdump 1.7.2 and later).
    Zstd,
}

impl Compression {
    /// The codec a header's compression byte names, or `None` for an unknown one.
    pub fn from_byte(b: u8) -> Option<Compression> {
        Some(match b {
            0 => Compression::None,
            1 => Compression::Lzo,
            2 => Compression::Bzip2,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            _ => return None,
        })
    }

    /// The codec's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lzo => "LZO",
            Compression::Bzip2 => "bzip2",
            Compression::Lz4 => "LZ4",
            Compression::Zstd => "ZSTD",
        }
    }
}

/// Decompresses one block's payload `input` into `out` (replacing its contents); the result may
/// be at most `max` bytes. The error says what the codec reported.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    max: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    match codec {
        Compression::None => out.extend_from_slice(input),
        Compression::Lz4 => {
            out.resize(expansion_bound(input, max), 0);
            let n = lz4_flex::block::decompress_into(input, out)
                .map_err(|e| format!("LZ4 data does not decompress: {e}"))?;
            out.truncate(n);
        }
        Compression::Lzo => {
            // `lzo` is written for hostile input: a crafted block is an error, never a panic or
            // a read out of bounds (the earlier crate panicked on a back-reference before the
            // start of the output; see testdata/fuzz-regressions/nfdump/).
            out.resize(expansion_bound(input, max), 0);
            let n = lzo::decompress_into(input, out)
                .map_err(|e| format!("LZO data does not decompress: {e}"))?;
            out.truncate(n);
        }
        Compression::Bzip2 => {
            let mut d = bzip2::read::BzDecoder::new(input).take(max as u64 + 1);
            d.read_to_end(out)
                .map_err(|e| format!("bzip2 data does not decompress: {e}"))?;
            if out.len() > max {
                return Err(format!(
                    "bzip2 data decompresses to more than a block may hold ({max} bytes)"
                ));
            }
        }
        Compression::Zstd => {
            // Streamed into `out` (a frame may say nothing of its size, and a tiny frame can
            // stand for megabytes), never past `max`.
            let d = ruzstd::decoding::StreamingDecoder::new(input)
                .map_err(|e| format!("ZSTD data does not decompress: {e}"))?;
            d.take(max as u64 + 1)
                .read_to_end(out)
                .map_err(|e| format!("ZSTD data does not decompress: {e}"))?;
            if out.len() > max {
                return Err(format!(
                    "ZSTD data decompresses to more than a block may hold ({max} bytes)"
                ));
            }
        }
    }
    Ok(())
}

/// The most an LZ4 or LZO1X block of `input` can decompress to, at most `max`: both encode a
/// long match's length in extra bytes worth 255 each, so output is under 256 bytes an input
/// byte. The output buffer is zeroed up to this before decoding: a small block (a fuzzer's, or
/// the last of a file) need not pay for a whole block's buffer.
fn expansion_bound(input: &[u8], max: usize) -> usize {
    input.len().saturating_mul(256).saturating_add(64).min(max)
}
