//! Binary encoding and framing of gofer messages.
//!
//! Everything is little-endian. A frame is
//!
//! ```text
//! request: u32 len | u64 id | u16 opcode | payload
//! reply:   u32 len | u64 id | i32 errno  | u8 nfds | payload (only if errno == 0)
//! ```
//!
//! where `len` counts the bytes after itself and is at most [`MAX_MESSAGE`].
//! Byte strings are `u32 length | bytes`. A reply's `nfds` host fds travel as
//! one `SCM_RIGHTS` message attached to the reply's first bytes.
//!
//! This module is the only place that knows byte order and framing; message
//! layouts live in [`crate::message`].

use crate::{Error, Result};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Largest frame (after the length prefix) either side accepts or sends:
/// 1 MiB. Bigger results (directory listings) are paged by the protocol.
pub const MAX_MESSAGE: usize = 1 << 20;

/// Most fds a single frame may carry; more is a protocol error.
pub const MAX_FDS: usize = 4;

fn short() -> Error {
    Error::Protocol("message too short".into())
}

/// Appends primitive values to a frame being built.
pub struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    /// Starts a frame in `buf` (cleared), reserving room for the length prefix.
    pub fn new_frame(buf: &'a mut Vec<u8>) -> Self {
        buf.clear();
        buf.extend_from_slice(&[0; 4]);
        Encoder { buf }
    }
    /// Appends a `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends an `i32`.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends an `i64`.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends a length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len().min(u32::MAX as usize) as u32);
        self.buf.extend_from_slice(v);
        self
    }
    /// Bytes written so far, including the length prefix.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    /// Whether nothing but the length prefix was written.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 4
    }
    /// Overwrites already written bytes at `pos` (counted from the start of
    /// the frame, length prefix included), to fill in a count after the fact.
    pub fn patch(&mut self, pos: usize, bytes: &[u8]) {
        self.buf[pos..pos + bytes.len()].copy_from_slice(bytes);
    }
    /// Drops everything after `len` bytes (to undo a partly written item).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len.max(4));
    }
    /// Fills in the length prefix; fails if the frame exceeds [`MAX_MESSAGE`].
    pub fn finish(self) -> Result<()> {
        let len = self.buf.len() - 4;
        if len > MAX_MESSAGE {
            return Err(Error::Protocol(format!("message of {len} bytes too large")));
        }
        self.buf[..4].copy_from_slice(&(len as u32).to_le_bytes());
        Ok(())
    }
}

/// Reads primitive values from a received frame (without its length prefix).
/// Every read fails with [`Error::Protocol`] instead of panicking when the
/// frame is too short.
pub struct Decoder<'a> {
    buf: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// Decodes `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(short());
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// Reads a `u8`.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.arr::<1>()?[0])
    }
    /// Reads a `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    /// Reads a `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    /// Reads an `i32`.
    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.arr()?))
    }
    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    /// Reads an `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    /// Reads a length-prefixed byte string, borrowing it from the frame.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// Bytes left unread.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    /// Fails unless the whole frame was consumed (trailing garbage is malformed).
    pub fn finish(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::Protocol("trailing bytes in message".into()))
        }
    }
}

/// Sends a finished frame (see [`Encoder::finish`]) with `fds` attached to its
/// first bytes. Never raises `SIGPIPE`.
pub fn send_frame(sock: BorrowedFd<'_>, frame: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::io::IoSlice;
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let mut off = 0;
    while off < frame.len() {
        let iov = [IoSlice::new(&frame[off..])];
        let rights = [ControlMessage::ScmRights(&raw)];
        let cmsgs: &[ControlMessage] = if off == 0 && !raw.is_empty() {
            &rights
        } else {
            &[]
        };
        match sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) => off += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::Io(e.into())),
        }
    }
    Ok(())
}

/// One `recvmsg` into `buf`, collecting any `SCM_RIGHTS` fds into `fds`.
/// Returns the number of bytes read (0 at end of stream).
fn recv_some(sock: BorrowedFd<'_>, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> Result<usize> {
    // Room for MAX_FDS fds; u64 storage keeps the buffer aligned for cmsghdr.
    const CMSG_WORDS: usize = 16;
    let mut cbuf = [0u64; CMSG_WORDS];
    loop {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero msghdr is a valid empty value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        // SAFETY: msg points at a live iovec covering `buf` and at `cbuf`, both
        // valid for writes of the given lengths for the duration of the call.
        let n = unsafe {
            libc::recvmsg(
                sock.as_raw_fd(),
                &mut msg,
                libc::MSG_CMSG_CLOEXEC | libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(Error::Io(e));
        }
        // Take ownership of every fd the kernel installed, even if the control
        // data was truncated, so that none leaks.
        // SAFETY: msg was filled in by a successful recvmsg; CMSG_FIRSTHDR and
        // CMSG_NXTHDR only return headers inside msg_control/msg_controllen.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            // SAFETY: cmsg is a non-null header within the control buffer.
            let hdr = unsafe { &*cmsg };
            if hdr.cmsg_level == libc::SOL_SOCKET && hdr.cmsg_type == libc::SCM_RIGHTS {
                // SAFETY: CMSG_LEN(0) is a pure computation.
                let head = unsafe { libc::CMSG_LEN(0) } as usize;
                let count = (hdr.cmsg_len as usize).saturating_sub(head) / 4;
                // SAFETY: CMSG_DATA points at `count` ints inside the header,
                // which the kernel wrote; read_unaligned copes with alignment.
                let data = unsafe { libc::CMSG_DATA(cmsg) } as *const RawFd;
                for i in 0..count {
                    // SAFETY: i < count, within the cmsg's data.
                    let fd = unsafe { data.add(i).read_unaligned() };
                    if fd >= 0 {
                        // SAFETY: the kernel just installed this fd for us and
                        // nothing else owns it.
                        fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                    }
                }
            }
            // SAFETY: as above.
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            fds.clear();
            return Err(Error::Protocol("too many fds in message".into()));
        }
        return Ok(n as usize);
    }
}

fn recv_exact(
    sock: BorrowedFd<'_>,
    mut buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    at_start: bool,
) -> Result<bool> {
    let mut first = at_start;
    while !buf.is_empty() {
        let n = recv_some(sock, buf, fds)?;
        if n == 0 {
            if first {
                return Ok(false);
            }
            return Err(Error::Protocol("connection closed mid-message".into()));
        }
        first = false;
        buf = &mut buf[n..];
    }
    Ok(true)
}

/// Receives one frame into `buf` (its body, without the length prefix) and
/// the fds that came with it into `fds` (both cleared first). Returns `false`
/// if the peer hung up cleanly before the frame started.
pub fn recv_frame(sock: BorrowedFd<'_>, buf: &mut Vec<u8>, fds: &mut Vec<OwnedFd>) -> Result<bool> {
    buf.clear();
    fds.clear();
    let mut len = [0u8; 4];
    if !recv_exact(sock, &mut len, fds, true)? {
        return Ok(false);
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_MESSAGE {
        return Err(Error::Protocol(format!("message of {len} bytes too large")));
    }
    buf.resize(len, 0);
    recv_exact(sock, buf, fds, false)?;
    if fds.len() > MAX_FDS {
        fds.clear();
        return Err(Error::Protocol("too many fds in message".into()));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_primitives() {
        let mut buf = Vec::new();
        let mut e = Encoder::new_frame(&mut buf);
        e.u8(1).u16(2).u32(3).i32(-4).u64(5).i64(-6).bytes(b"hi");
        e.finish().unwrap();
        assert_eq!(
            u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize,
            buf.len() - 4
        );
        let mut d = Decoder::new(&buf[4..]);
        assert_eq!(d.u8().unwrap(), 1);
        assert_eq!(d.u16().unwrap(), 2);
        assert_eq!(d.u32().unwrap(), 3);
        assert_eq!(d.i32().unwrap(), -4);
        assert_eq!(d.u64().unwrap(), 5);
        assert_eq!(d.i64().unwrap(), -6);
        assert_eq!(d.bytes().unwrap(), b"hi");
        d.finish().unwrap();
        assert!(d.u8().is_err());
    }

    #[test]
    fn short_and_oversized() {
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0x7f, 1]);
        assert!(d.bytes().is_err());
        let mut buf = Vec::new();
        let mut e = Encoder::new_frame(&mut buf);
        e.bytes(&vec![0; MAX_MESSAGE]);
        assert!(e.finish().is_err());
    }
}
