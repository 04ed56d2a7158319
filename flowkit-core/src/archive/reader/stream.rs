//! An archive stream read block by block from a pipe (no index): blocks, block references and
//! the end marker, member after member.

use crate::archive::format::*;
use crate::archive::reference::{parse_ref, ref_len, BlockRef, REF_MAGIC};
use crate::archive::ArchiveError;
use crate::model::io::read_full;
use std::io::Read;
use std::path::Path;

use super::*;

/// What a stream holds next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamItem {
    /// A block, now in the caller's buffer; it started at this stream offset.
    Block(u64),
    /// A reference to a block of an archive file on this host (see `archive::reference`).
    Ref(BlockRef),
}

/// True when the archive file at `path` holds at least one complete block after a valid header
/// (reads only the header and the first block header): an unfinished file without one holds no
/// flows and can be removed.
pub fn has_complete_block(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = vec![0u8; 64 << 10];
    let got = read_full(&mut f, &mut head).unwrap_or(0);
    head.truncate(got);
    let Ok(h) = parse_header("", &head) else {
        return false;
    };
    match head
        .get(h.header_len..)
        .map(|b| parse_block_head("", b, h.header_len as u64))
    {
        Some(Ok(BlockHead::Data(info))) => len >= h.header_len as u64 + info.total_len(),
        _ => false,
    }
}

/// Reads a flowkit stream (or file) sequentially from any reader, one block at a time.
pub struct StreamReader<R: Read> {
    name: String,
    r: R,
    header: ArchiveHeader,
    offset: u64,
    done: bool,
    /// After the end marker: the first bytes of the next member and their offset (see
    /// `archive::members`), when another member follows.
    next: Option<(Vec<u8>, u64)>,
}

impl<R: Read> StreamReader<R> {
    /// Reads and checks the stream header. `prefix` holds bytes already read from `r`
    /// (e.g. to sniff the format); they are treated as the stream's first bytes.
    pub fn new(name: &str, prefix: &[u8], r: R) -> Result<Self, ArchiveError> {
        StreamReader::new_at(name, prefix, r, 0)
    }

    /// Like [`StreamReader::new`] for a stream member that starts at byte `base` of the data
    /// (offsets in messages count from the start of the data).
    pub fn new_at(name: &str, prefix: &[u8], mut r: R, base: u64) -> Result<Self, ArchiveError> {
        let mut head = prefix.to_vec();
        fill_to(&mut r, &mut head, HEADER_FIXED_LEN, name)?;
        if head.len() < HEADER_FIXED_LEN {
            return Err(parse_header(name, &head).err().unwrap_or_else(|| {
                ArchiveError::truncated(name, head.len() as u64, "stream header")
            }));
        }
        let schema_count = le_u16(&head, 56) as usize;
        let creator_len = le_u16(&head, 58) as usize;
        let want = pad8(HEADER_FIXED_LEN + schema_count * 4 + creator_len) + 8;
        fill_to(&mut r, &mut head, want, name)?;
        let header = parse_header(name, &head)?;
        let extra = head.len() - header.header_len;
        if extra != 0 {
            return Err(ArchiveError::corrupt(
                name,
                header.header_len as u64,
                "internal: over-read the header",
            ));
        }
        Ok(StreamReader {
            name: name.to_string(),
            r,
            offset: base + header.header_len as u64,
            header,
            done: false,
            next: None,
        })
    }

    /// The stream header.
    pub fn header(&self) -> &ArchiveHeader {
        &self.header
    }

    /// Reads the next block into `buf`; returns its offset, or `None` at the end marker.
    /// A stream that stops before its end marker is an error naming the offset.
    pub fn next_block_into(
        &mut self,
        buf: &mut AlignedBuf,
    ) -> Result<Option<StreamItem>, ArchiveError> {
        if self.done {
            return Ok(None);
        }
        let start = self.offset;
        let head = buf.resize(BLOCK_HEADER_LEN);
        let got = read_full(&mut self.r, head).map_err(|e| ArchiveError::io(&self.name, e))?;
        if got < BLOCK_HEADER_LEN {
            return Err(ArchiveError::truncated(
                &self.name,
                start + got as u64,
                "stream ends without its end marker",
            ));
        }
        if &buf.as_bytes()[..4] == REF_MAGIC {
            let total = ref_len(&self.name, buf.as_bytes(), start)?;
            let mut record = buf.as_bytes().to_vec();
            record.resize(total, 0);
            let got = read_full(&mut self.r, &mut record[BLOCK_HEADER_LEN..])
                .map_err(|e| ArchiveError::io(&self.name, e))?;
            if got < total - BLOCK_HEADER_LEN {
                return Err(ArchiveError::truncated(
                    &self.name,
                    start + (BLOCK_HEADER_LEN + got) as u64,
                    format!("block reference at byte {start} is incomplete"),
                ));
            }
            self.offset += total as u64;
            return parse_ref(&self.name, &record, start).map(|r| Some(StreamItem::Ref(r)));
        }
        let info = match parse_block_head(&self.name, buf.as_bytes(), start)? {
            BlockHead::End => {
                self.done = true;
                let after = start + BLOCK_HEADER_LEN as u64;
                let (head, at) =
                    crate::archive::members::after_end_in_stream(&self.name, &mut self.r, after)?;
                self.next = (!head.is_empty()).then_some((head, at));
                return Ok(None);
            }
            BlockHead::Data(info) => info,
        };
        let total = info.total_len() as usize;
        // The buffer grows with the bytes that actually arrive (doubling, from 1 MiB), so a
        // damaged header announcing a huge block costs no more memory than the stream holds.
        let mut have = BLOCK_HEADER_LEN;
        while have < total {
            let want = (2 * have).max(1 << 20).min(total);
            let all = buf.resize(want); // keeps the bytes already read
            let got = read_full(&mut self.r, &mut all[have..])
                .map_err(|e| ArchiveError::io(&self.name, e))?;
            have += got;
            if have < want {
                return Err(ArchiveError::truncated(
                    &self.name,
                    start + have as u64,
                    format!("block at byte {start} is incomplete"),
                ));
            }
        }
        self.offset += total as u64;
        Ok(Some(StreamItem::Block(start)))
    }

    /// The stream's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// After the end marker, when more data follows (another archive or stream written after
    /// this one): its first bytes, their offset and the reader, to read it on with
    /// [`StreamReader::new_at`] (or another format's reader).
    pub fn into_next(self) -> Option<(Vec<u8>, u64, R)> {
        let (head, at) = self.next?;
        Some((head, at, self.r))
    }
}

fn fill_to(
    r: &mut impl Read,
    v: &mut Vec<u8>,
    want: usize,
    name: &str,
) -> Result<(), ArchiveError> {
    if v.len() >= want {
        return Ok(());
    }
    let have = v.len();
    v.resize(want, 0);
    let got = read_full(r, &mut v[have..]).map_err(|e| ArchiveError::io(name, e))?;
    v.truncate(have + got);
    Ok(())
}
