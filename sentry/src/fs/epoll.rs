//! epoll: an interest list of files and the readiness of each.
//!
//! Readiness is computed from each file's `poll`; level-triggered entries
//! report while ready, edge-triggered ones when new events appear, one-shot
//! ones once until re-armed with EPOLL_CTL_MOD.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::errno::Errno;
use crate::vfs::{File, FileOps, Stat};

/// One registered file.
struct Interest {
    file: Weak<File>,
    events: u32,
    data: u64,
    /// Events last reported (edge-triggered bookkeeping).
    reported: u32,
    /// A one-shot entry that has fired.
    disabled: bool,
}

/// An epoll instance.
pub struct Epoll {
    interests: Mutex<BTreeMap<i32, Interest>>,
    stat: Stat,
}

const ALWAYS: u32 = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
const ET: u32 = libc::EPOLLET as u32;
const ONESHOT: u32 = libc::EPOLLONESHOT as u32;

impl Epoll {
    /// An empty instance.
    pub fn new() -> Epoll {
        Epoll {
            interests: Mutex::new(BTreeMap::new()),
            stat: Stat::anon(0xe, 1, 0o600),
        }
    }

    /// EPOLL_CTL_ADD.
    pub fn add(&self, fd: i32, file: &Arc<File>, events: u32, data: u64) -> Result<(), Errno> {
        let mut m = self.interests.lock();
        if m.get(&fd).is_some_and(|i| i.file.strong_count() > 0) {
            return Err(Errno::EEXIST);
        }
        m.insert(
            fd,
            Interest {
                file: Arc::downgrade(file),
                events,
                data,
                reported: 0,
                disabled: false,
            },
        );
        Ok(())
    }

    /// EPOLL_CTL_MOD.
    pub fn modify(&self, fd: i32, events: u32, data: u64) -> Result<(), Errno> {
        let mut m = self.interests.lock();
        let i = m
            .get_mut(&fd)
            .filter(|i| i.file.strong_count() > 0)
            .ok_or(Errno::ENOENT)?;
        i.events = events;
        i.data = data;
        i.reported = 0;
        i.disabled = false;
        Ok(())
    }

    /// EPOLL_CTL_DEL.
    pub fn delete(&self, fd: i32) -> Result<(), Errno> {
        match self.interests.lock().remove(&fd) {
            Some(i) if i.file.strong_count() > 0 => Ok(()),
            _ => Err(Errno::ENOENT),
        }
    }

    /// Collects up to `max` ready (events, data) pairs, updating the
    /// edge-triggered and one-shot bookkeeping.
    pub fn collect(&self, max: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut m = self.interests.lock();
        m.retain(|_, i| i.file.strong_count() > 0);
        for i in m.values_mut() {
            if out.len() >= max {
                break;
            }
            if i.disabled {
                continue;
            }
            let Some(file) = i.file.upgrade() else {
                continue;
            };
            let ready = file.ops.poll() & (i.events | ALWAYS);
            if i.events & ET != 0 {
                let new = ready & !i.reported;
                i.reported = ready;
                if new == 0 {
                    continue;
                }
            }
            if ready == 0 {
                continue;
            }
            out.push((ready, i.data));
            if i.events & ONESHOT != 0 {
                i.disabled = true;
            }
        }
        out
    }

    /// Whether anything is ready (for polling an epoll fd itself).
    fn any_ready(&self) -> bool {
        let m = self.interests.lock();
        m.values().any(|i| {
            !i.disabled
                && i.file
                    .upgrade()
                    .is_some_and(|f| f.ops.poll() & (i.events | ALWAYS) != 0)
        })
    }
}

impl Default for Epoll {
    fn default() -> Self {
        Self::new()
    }
}

impl FileOps for Epoll {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn poll(&self) -> u32 {
        if self.any_ready() {
            (libc::POLLIN | libc::POLLRDNORM) as u32
        } else {
            0
        }
    }
}
