//! eventfd: a 64-bit counter that read takes and write adds to.

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::vfs::{FileOps, Stat};

/// The largest value the counter holds.
const MAX: u64 = u64::MAX - 1;

struct Shared {
    count: Mutex<u64>,
    changed: Condvar,
}

/// An eventfd.
pub struct EventFd {
    shared: Arc<Shared>,
    semaphore: bool,
    stat: Stat,
}

impl EventFd {
    /// A new eventfd starting at `initval`; `semaphore` for EFD_SEMAPHORE.
    pub fn new(initval: u64, semaphore: bool) -> EventFd {
        EventFd {
            shared: Arc::new(Shared {
                count: Mutex::new(initval),
                changed: Condvar::new(),
            }),
            semaphore,
            stat: Stat::anon(0xd, 1, 0o600),
        }
    }

    fn wait(&self, count: &mut parking_lot::MutexGuard<'_, u64>) -> Result<(), Errno> {
        crate::kernel::wait::wait_on(count, &self.shared, |s| (&s.count, &s.changed), None)
            .map(|_| ())
    }
}

impl FileOps for EventFd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.write_flags(buf, off, 0)
    }

    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut count = self.shared.count.lock();
        while *count == 0 {
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            self.wait(&mut count)?;
        }
        let v = if self.semaphore { 1 } else { *count };
        *count -= v;
        self.shared.changed.notify_all();
        buf[..8].copy_from_slice(&v.to_le_bytes());
        Ok(8)
    }

    fn write_flags(&self, buf: &[u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_le_bytes(buf[..8].try_into().unwrap());
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let mut count = self.shared.count.lock();
        while MAX - *count < v {
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            self.wait(&mut count)?;
        }
        *count += v;
        self.shared.changed.notify_all();
        Ok(8)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn poll(&self) -> u32 {
        let count = *self.shared.count.lock();
        let mut ev = 0;
        if count > 0 {
            ev |= libc::POLLIN | libc::POLLRDNORM;
        }
        if count < MAX {
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        }
        ev as u32
    }
}
