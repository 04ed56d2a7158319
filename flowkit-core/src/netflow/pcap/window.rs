//! The bytes of a capture as the reader sees them: a fixed-size window read from the file as
//! the reader moves on, or the whole capture held in memory.

/// The bytes of a capture: a window onto the file, read with `read` as the reader moves on (so a
/// capture of gigabytes costs a fixed buffer), or owned whole (gunzipped, or given by a caller).
///
/// Read, not mapped: mapped, the resident part of a capture depended on the page cache's folio
/// sizes (15 to 30 MiB at 30 M flows while the step handing pages back was 8 MiB, 115 MiB with
/// a 2 MiB step), and each first touch of a page was a fault.
pub(super) enum CaptureBytes {
    Owned(Vec<u8>),
    Window(Window),
}

/// Bytes `base..base + buf.len()` of a capture file.
pub(super) struct Window {
    pub(super) file: std::fs::File,
    pub(super) buf: Vec<u8>,
    /// File offset of `buf[0]`.
    pub(super) base: u64,
    /// The file's length when opened.
    pub(super) opened_len: u64,
    /// The end of the file has been read.
    pub(super) eof: bool,
}

impl std::ops::Deref for CaptureBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            CaptureBytes::Owned(v) => v,
            CaptureBytes::Window(w) => &w.buf,
        }
    }
}

/// Bytes a window holds after a refill: few read calls, and small enough to stay in the
/// processor's cache.
pub(super) const WINDOW: usize = 1 << 20;
/// Longest packet record read (the usual snap length is 256 KiB): bounds the window grown for a
/// record whose length field is corrupt.
pub(super) const MAX_RECORD: usize = 16 << 20;

impl CaptureBytes {
    /// File offset of the window's first byte (0 for owned bytes).
    pub(super) fn base(&self) -> u64 {
        match self {
            CaptureBytes::Owned(_) => 0,
            CaptureBytes::Window(w) => w.base,
        }
    }

    /// No more bytes can come: everything is owned, or the file's end has been read.
    pub(super) fn at_end(&self) -> bool {
        match self {
            CaptureBytes::Owned(_) => true,
            CaptureBytes::Window(w) => w.eof,
        }
    }

    /// Makes the bytes from `pos` on the start of the window and reads until it holds `want`
    /// bytes or the file ends; returns the new position of `pos` (0), or `pos` unchanged for
    /// owned bytes.
    pub(super) fn refill(&mut self, pos: usize, want: usize) -> std::io::Result<usize> {
        let CaptureBytes::Window(w) = self else {
            return Ok(pos);
        };
        w.buf.drain(..pos);
        w.base += pos as u64;
        if w.buf.len() < want && !w.eof {
            // Into the buffer's spare capacity, which is not zeroed first.
            let need = (want - w.buf.len()) as u64;
            use std::io::Read;
            let got = (&w.file).take(need).read_to_end(&mut w.buf)?;
            w.eof = (got as u64) < need;
        }
        Ok(0)
    }
}
