//! pidfd: a file that names one process, for signals (pidfd_send_signal),
//! waits (waitid P_PIDFD) and poll (readable once the process has ended).

use std::sync::Arc;

use crate::errno::Errno;
use crate::kernel::Kernel;
use crate::vfs::{FileOps, Stat};

/// A pidfd.
pub struct PidFd {
    /// The process (pids are never reused in a sandbox).
    pub pid: i32,
    kernel: Arc<Kernel>,
    stat: Stat,
}

impl PidFd {
    /// A pidfd for process `pid`.
    pub fn new(kernel: Arc<Kernel>, pid: i32) -> PidFd {
        PidFd {
            pid,
            kernel,
            stat: Stat::anon(0xe, 1, 0o600),
        }
    }
}

impl FileOps for PidFd {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn poll(&self) -> u32 {
        if self.kernel.procs.ended(self.pid) {
            (libc::POLLIN | libc::POLLRDNORM) as u32
        } else {
            0
        }
    }
}
