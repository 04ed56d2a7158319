//! Archives and streams written one after another are read whole, like the members of a gzip
//! file: `cat a.fk b.fk | flow-print`, `(flow-cat a; flow-cat b) | flow-print` and a file made by
//! `cat a.fk b.fk > c.fk` hold every flow of both, not just the first member's.
//!
//! After a member's end marker come its block index and trailer (the writer always writes them),
//! then either the end of the data or the next member's header. Anything else after an end
//! marker is reported (it used to be ignored, so a reader silently stopped at the first member).

use super::format::{
    le_u32, BLOCK_HEADER_LEN, INDEX_ENTRY_LEN, INDEX_MAGIC, TRAILER_LEN, TRAILER_MAGIC,
};
use super::ArchiveError;
use crate::model::io::read_full;
use std::io::Read;

/// What follows a member's end marker in data held whole (a file).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterEnd {
    /// The data ends with this member.
    Done,
    /// Another member's header starts at this offset.
    Next(usize),
    /// A stream of another format (flow-tools) starts at this offset: the file is read as a
    /// stream (see [`crate::archive::ArchiveFile::read_as_stream`]).
    Other(usize),
}

/// Looks past the end marker starting at `end_off` in `b`: skips the member's index and trailer
/// and says whether another member follows.
pub(crate) fn after_end_in_bytes(
    name: &str,
    b: &[u8],
    end_off: usize,
) -> Result<AfterEnd, ArchiveError> {
    let mut p = end_off + BLOCK_HEADER_LEN;
    if b[p..].starts_with(INDEX_MAGIC) {
        if b.len() < p + 8 {
            return Err(ArchiveError::truncated(name, b.len() as u64, "block index"));
        }
        let n = le_u32(b, p + 4) as usize;
        let trailer = p + 8 + n * INDEX_ENTRY_LEN;
        if b.len() < trailer + TRAILER_LEN {
            return Err(ArchiveError::truncated(
                name,
                b.len() as u64,
                format!("block index at byte {p}"),
            ));
        }
        if &b[trailer..trailer + 4] != TRAILER_MAGIC {
            return Err(ArchiveError::corrupt(
                name,
                trailer as u64,
                "expected the trailer after the block index",
            ));
        }
        p = trailer + TRAILER_LEN;
    }
    if p == b.len() {
        return Ok(AfterEnd::Done);
    }
    let rest = &b[p..];
    match crate::archive::sniff::sniff(&rest[..rest.len().min(8)]) {
        crate::archive::sniff::InputFormat::Flowkit => Ok(AfterEnd::Next(p)),
        crate::archive::sniff::InputFormat::FlowTools
        | crate::archive::sniff::InputFormat::Nfdump
        | crate::archive::sniff::InputFormat::JsonLines => Ok(AfterEnd::Other(p)),
        crate::archive::sniff::InputFormat::Unknown => Err(unexpected(name, p as u64, rest)),
    }
}

/// Bytes after the end of a stream that start no stream either.
pub(crate) fn unexpected(name: &str, at: u64, rest: &[u8]) -> ArchiveError {
    ArchiveError::corrupt(
        name,
        at,
        format!(
            "after the end of a stream: expected another flowkit or flow-tools stream or the \
             end, found bytes {:02x?}",
            &rest[..rest.len().min(8)]
        ),
    )
}

/// Reads what follows a member's end marker in a stream, whose next byte is at `offset`: the
/// member's index and trailer, then the first bytes (up to 8) of whatever comes next. Returns
/// those bytes (empty at the end of the stream) and the offset of the first of them.
pub(crate) fn after_end_in_stream(
    name: &str,
    r: &mut impl Read,
    mut offset: u64,
) -> Result<(Vec<u8>, u64), ArchiveError> {
    let io = |e| ArchiveError::io(name, e);
    let mut head = [0u8; 8];
    let got = read_full(r, &mut head).map_err(io)?;
    if got < 8 || &head[..4] != INDEX_MAGIC {
        return next_member(name, head[..got].to_vec(), offset);
    }
    let n = le_u32(&head, 4) as u64;
    let entries = n * INDEX_ENTRY_LEN as u64;
    let skipped = std::io::copy(&mut r.by_ref().take(entries), &mut std::io::sink()).map_err(io)?;
    let mut trailer = [0u8; TRAILER_LEN];
    let tgot = if skipped == entries {
        read_full(r, &mut trailer).map_err(io)?
    } else {
        0
    };
    let trailer_at = offset + 8 + entries;
    if skipped < entries || tgot < TRAILER_LEN {
        return Err(ArchiveError::truncated(
            name,
            offset + 8 + skipped + tgot as u64,
            format!("block index at byte {offset} (after the end marker)"),
        ));
    }
    if &trailer[..4] != TRAILER_MAGIC {
        return Err(ArchiveError::corrupt(
            name,
            trailer_at,
            "expected the trailer after the block index",
        ));
    }
    offset = trailer_at + TRAILER_LEN as u64;
    let got = read_full(r, &mut head).map_err(io)?;
    next_member(name, head[..got].to_vec(), offset)
}

fn next_member(name: &str, head: Vec<u8>, offset: u64) -> Result<(Vec<u8>, u64), ArchiveError> {
    if head.is_empty()
        || crate::archive::sniff::sniff(&head) != crate::archive::sniff::InputFormat::Unknown
    {
        Ok((head, offset))
    } else {
        Err(unexpected(name, offset, &head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchiveFile, ArchiveWriter, StreamItem, StreamReader, WriterOptions};
    use crate::gen::{FlowGen, GenConfig};

    fn archive(flows: usize, seed: u64) -> Vec<u8> {
        let mut w = ArchiveWriter::new(
            Vec::new(),
            WriterOptions {
                block_flows: 100,
                ..WriterOptions::default()
            },
        )
        .unwrap();
        let cfg = GenConfig {
            flows: flows as u64,
            seed,
            ..GenConfig::default()
        };
        FlowGen::new(cfg).for_each(|r| w.push(&r).unwrap());
        w.finish().unwrap().0
    }

    fn stream_flows(bytes: &[u8]) -> Result<u64, ArchiveError> {
        let mut total = 0;
        let mut r: &[u8] = bytes;
        let mut prefix = Vec::new();
        loop {
            let mut s = StreamReader::new("s", &prefix, r)?;
            let mut buf = crate::archive::AlignedBuf::default();
            while let Some(item) = s.next_block_into(&mut buf)? {
                let StreamItem::Block(_) = item else {
                    panic!("no references here")
                };
                let scratch = crate::archive::ColumnScratch::new();
                let (v, _) = crate::archive::reader::view_block("s", buf.as_bytes(), 0, &scratch)?;
                total += v.len as u64;
            }
            match s.into_next() {
                Some((p, _, rest)) => {
                    prefix = p;
                    r = rest;
                }
                None => return Ok(total),
            }
        }
    }

    #[test]
    fn concatenated_files_and_streams_are_read_whole() {
        let (a, b) = (archive(250, 1), archive(130, 2));
        let ab = [a.clone(), b.clone(), a.clone()].concat();
        let f = ArchiveFile::from_bytes("ab", &ab).unwrap();
        assert!(f.tail_error().is_none(), "{:?}", f.tail_error());
        assert_eq!(f.flow_count(), 630);
        // Every block reads back, checked, from the member it is in.
        let flows: usize = (0..f.blocks().len()).map(|i| f.block(i).unwrap().len).sum();
        assert_eq!(flows, 630);
        assert_eq!(stream_flows(&ab).unwrap(), 630);
        // The same archive twice: its own index must not make the reader stop at the first.
        let aa = [a.clone(), a.clone()].concat();
        assert_eq!(
            ArchiveFile::from_bytes("aa", &aa).unwrap().flow_count(),
            500
        );
        assert_eq!(stream_flows(&aa).unwrap(), 500);
        // The fuzz target's file and stream readers agree on them (it asserts so).
        crate::testing::fuzzing::archive(&ab);
        crate::testing::fuzzing::archive(&aa);
    }

    #[test]
    fn bytes_after_an_end_are_reported_not_ignored() {
        let a = archive(250, 1);
        let junk = [a.clone(), b"garbage!".to_vec()].concat();
        let f = ArchiveFile::from_bytes("j", &junk).unwrap();
        assert_eq!(f.flow_count(), 250);
        let e = f.tail_error().expect("junk reported").to_string();
        assert!(e.contains(&format!("corrupt at byte {}", a.len())), "{e}");
        let e = stream_flows(&junk).unwrap_err().to_string();
        assert!(e.contains(&format!("corrupt at byte {}", a.len())), "{e}");
        // A second member cut short is truncation, where it stops.
        let b = archive(130, 2);
        let cut = [a.clone(), b[..b.len() / 2].to_vec()].concat();
        let f = ArchiveFile::from_bytes("c", &cut).unwrap();
        assert!(f.flow_count() >= 250 && f.flow_count() < 380);
        assert!(f.tail_error().unwrap().to_string().contains("truncated"));
        let e = stream_flows(&cut).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
