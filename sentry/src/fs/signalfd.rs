//! signalfd: reads pending signals of a mask as `signalfd_siginfo`
//! records instead of running handlers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::errno::Errno;
use crate::kernel::signal::{SigInfo, UNBLOCKABLE};
use crate::kernel::wait::current;
use crate::vfs::{FileOps, Stat};

/// A signalfd.
pub struct SignalFd {
    /// The signals it takes.
    pub mask: AtomicU64,
    stat: Stat,
}

impl SignalFd {
    /// A signalfd for `mask` (SIGKILL and SIGSTOP are never taken).
    pub fn new(mask: u64) -> SignalFd {
        SignalFd {
            mask: AtomicU64::new(mask & !UNBLOCKABLE),
            stat: Stat::anon(0x10, 1, 0o600),
        }
    }

    /// Takes one pending signal of the mask from the calling task.
    fn take(&self) -> Option<SigInfo> {
        let task = current()?;
        let blocked = !self.mask.load(Ordering::Relaxed) | UNBLOCKABLE;
        let mut st = task.sig.lock();
        st.pending
            .pop(blocked)
            .or_else(|| task.group.pending.lock().pop(blocked))
    }
}

/// Encodes a signal as `struct signalfd_siginfo`.
fn record(info: &SigInfo, out: &mut [u8]) {
    let b = &info.0;
    let get32 = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let get64 = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    out[..128].fill(0);
    let mut put32 = |o: usize, v: u32| out[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put32(0, get32(0)); // ssi_signo
    put32(4, get32(4)); // ssi_errno
    put32(8, get32(8)); // ssi_code
    let signo = info.signo();
    let code = info.code();
    let fault = matches!(
        signo,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
    ) && code > 0;
    if !fault {
        put32(12, get32(16)); // ssi_pid
        put32(16, get32(20)); // ssi_uid
    }
    if signo == libc::SIGCHLD {
        put32(40, get32(24)); // ssi_status
    }
    if code == libc::SI_QUEUE || code == libc::SI_TIMER {
        put32(44, get32(24)); // ssi_int
        let ptr = get64(24);
        out[48..56].copy_from_slice(&ptr.to_le_bytes());
    }
    if fault {
        out[72..80].copy_from_slice(&get64(16).to_le_bytes()); // ssi_addr
    }
}

impl FileOps for SignalFd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if buf.len() < 128 {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        loop {
            while n + 128 <= buf.len() {
                let Some(info) = self.take() else {
                    break;
                };
                record(&info, &mut buf[n..n + 128]);
                n += 128;
            }
            if n > 0 {
                return Ok(n);
            }
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            let task = current().ok_or(Errno::EINVAL)?;
            task.sig.lock().waiting = self.mask.load(Ordering::Relaxed);
            let r = crate::kernel::wait::sleep(None);
            task.sig.lock().waiting = 0;
            if let Err(e) = r {
                // Woken by one of ours, or by another signal.
                if let Some(info) = self.take() {
                    record(&info, &mut buf[..128]);
                    return Ok(128);
                }
                return Err(e);
            }
        }
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn poll(&self) -> u32 {
        let Some(task) = current() else {
            return 0;
        };
        let mask = self.mask.load(Ordering::Relaxed);
        let pending = task.sig.lock().pending.set() | task.group.pending.lock().set();
        if pending & mask != 0 {
            (libc::POLLIN | libc::POLLRDNORM) as u32
        } else {
            0
        }
    }
}
