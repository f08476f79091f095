//! socketpair(AF_UNIX): two connected ends, each a pair of pipes (one per
//! direction). Message boundaries of SOCK_DGRAM/SOCK_SEQPACKET are not kept.

use crate::errno::Errno;
use crate::fs::pipe::Pipe;
use crate::vfs::{FileOps, Stat};

/// One end of a connected unix socket pair.
pub struct SocketEnd {
    rx: Box<dyn FileOps>,
    tx: Box<dyn FileOps>,
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    pub kind: i32,
}

impl SocketEnd {
    /// Two connected ends.
    pub fn new_pair(kind: i32) -> (SocketEnd, SocketEnd) {
        let (r1, w1) = Pipe::new_pair();
        let (r2, w2) = Pipe::new_pair();
        (
            SocketEnd {
                rx: r1,
                tx: w2,
                kind,
            },
            SocketEnd {
                rx: r2,
                tx: w1,
                kind,
            },
        )
    }
}

impl FileOps for SocketEnd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.rx.read(buf, off)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.tx.write(buf, off)
    }

    fn read_flags(&self, buf: &mut [u8], off: u64, flags: i32) -> Result<usize, Errno> {
        self.rx.read_flags(buf, off, flags)
    }

    fn write_flags(&self, buf: &[u8], off: u64, flags: i32) -> Result<usize, Errno> {
        self.tx.write_flags(buf, off, flags)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = self.rx.stat()?;
        s.mode = libc::S_IFSOCK | 0o777;
        Ok(s)
    }

    fn poll(&self) -> u32 {
        let r = self.rx.poll() & (libc::POLLIN | libc::POLLRDNORM | libc::POLLHUP) as u32;
        let w = self.tx.poll();
        let mut ev = r | (w & (libc::POLLOUT | libc::POLLWRNORM) as u32);
        if w & libc::POLLERR as u32 != 0 {
            ev |= libc::POLLHUP as u32;
        }
        ev
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        self.rx.ioctl(req, arg, mm)
    }
}
