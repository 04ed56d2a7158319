//! Receiving many datagrams per system call.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Datagrams taken per call.
pub const BATCH: usize = 64;
/// Room for the largest UDP datagram.
const SLOT: usize = 65_536;

/// `recvmmsg` buffers: waits (up to the socket's read timeout) for one datagram, then takes
/// whatever else is already queued, up to [`BATCH`].
#[cfg(target_os = "linux")]
pub struct Receiver {
    buf: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

#[cfg(target_os = "linux")]
impl Receiver {
    pub fn new() -> Self {
        let mut r = Receiver {
            buf: vec![0u8; BATCH * SLOT],
            // SAFETY: all-zero bytes are a valid sockaddr_storage, iovec and mmsghdr.
            addrs: vec![unsafe { std::mem::zeroed() }; BATCH],
            iov: vec![unsafe { std::mem::zeroed() }; BATCH],
            hdrs: vec![unsafe { std::mem::zeroed() }; BATCH],
        };
        // The vectors are never resized, so these pointers into them stay valid.
        for k in 0..BATCH {
            r.iov[k] = libc::iovec {
                iov_base: r.buf[k * SLOT..].as_mut_ptr().cast(),
                iov_len: SLOT,
            };
            let h = &mut r.hdrs[k].msg_hdr;
            h.msg_name = (&mut r.addrs[k] as *mut libc::sockaddr_storage).cast();
            h.msg_iov = &mut r.iov[k];
            h.msg_iovlen = 1;
        }
        r
    }

    /// Receives up to [`BATCH`] datagrams; returns how many.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        for h in &mut self.hdrs {
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            h.msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the sizes it states (set up in
        // `new`); the kernel writes at most that much.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Length of datagram `k` of the last call.
    pub fn len(&self, k: usize) -> usize {
        self.hdrs[k].msg_len as usize
    }

    /// Sender and bytes of datagram `k` of the last call.
    pub fn get(&self, k: usize) -> (Option<SocketAddr>, &[u8]) {
        let h = &self.hdrs[k];
        // SAFETY: the kernel filled `addrs[k]` and set its length.
        let addr =
            unsafe { socket2::SockAddr::new(self.addrs[k], h.msg_hdr.msg_namelen) }.as_socket();
        (addr, &self.buf[k * SLOT..k * SLOT + h.msg_len as usize])
    }
}

/// Elsewhere: one datagram per call.
#[cfg(not(target_os = "linux"))]
pub struct Receiver {
    buf: Vec<u8>,
    last: Option<(SocketAddr, usize)>,
}

#[cfg(not(target_os = "linux"))]
impl Receiver {
    pub fn new() -> Self {
        Receiver {
            buf: vec![0u8; SLOT],
            last: None,
        }
    }

    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let (n, from) = socket.recv_from(&mut self.buf)?;
        self.last = Some((from, n));
        Ok(1)
    }

    pub fn len(&self, _k: usize) -> usize {
        self.last.map_or(0, |(_, n)| n)
    }

    pub fn get(&self, _k: usize) -> (Option<SocketAddr>, &[u8]) {
        let (a, n) = self.last.map_or((None, 0), |(a, n)| (Some(a), n));
        (a, &self.buf[..n])
    }
}
