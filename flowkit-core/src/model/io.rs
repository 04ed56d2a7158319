//! Byte-reading helpers every reader of files and streams shares (archives, captures, other
//! tools' files), kept at the bottom so no layer reaches up for them.

use std::io::Read;

/// Reads until `buf` is full or the reader ends; returns the bytes read (fewer than `buf.len()`
/// only at the end of the input). `read` calls interrupted by a signal are retried.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
