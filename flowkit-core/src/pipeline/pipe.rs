//! The pipes between tools: a larger kernel buffer for a pipe on stdin or stdout.

/// Bytes we ask the kernel to buffer in a pipe between two tools (Linux's unprivileged maximum);
/// the 64 KiB default costs a context switch every few blocks.
const PIPE_BYTES: i32 = 1 << 20;

/// Enlarges the pipe on `fd` (stdin 0 or stdout 1) when it is one; anything else is left alone.
pub fn grow_pipe(fd: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on a descriptor we own by convention (0 or 1); F_SETPIPE_SZ fails harmlessly
    // with EBADF/EINVAL when the descriptor is not a pipe.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}
