//! Futexes: wait queues keyed by the address of a 32-bit word.
//!
//! Private futexes are keyed by (address space, address); shared ones will
//! be keyed by memory-file offset when processes share memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;

/// Identifies a futex word.
pub type FutexKey = (usize, u64);

struct Waiter {
    bitset: u32,
    woken: Mutex<bool>,
    cv: Condvar,
}

/// All futex wait queues of the sandbox.
#[derive(Default)]
pub struct Futexes {
    queues: Mutex<HashMap<FutexKey, Vec<Arc<Waiter>>>>,
}

impl Futexes {
    /// Blocks until woken or `deadline`, if `check()` (run under the queue
    /// lock) says the word still holds the expected value.
    pub fn wait(
        &self,
        key: FutexKey,
        bitset: u32,
        deadline: Option<Instant>,
        check: impl FnOnce() -> Result<bool, Errno>,
    ) -> Result<(), Errno> {
        let waiter = Arc::new(Waiter {
            bitset,
            woken: Mutex::new(false),
            cv: Condvar::new(),
        });
        {
            let mut q = self.queues.lock();
            if !check()? {
                return Err(Errno::EAGAIN);
            }
            q.entry(key).or_default().push(waiter.clone());
        }
        let mut woken = waiter.woken.lock();
        while !*woken {
            let r = super::wait::wait_on(&mut woken, &waiter, |w| (&w.woken, &w.cv), deadline);
            let failed = match r {
                Ok(true) if !*woken => Some(Errno::ETIMEDOUT),
                Err(e) if !*woken => Some(e),
                _ => None,
            };
            if let Some(e) = failed {
                drop(woken);
                self.remove(key, &waiter);
                return Err(e);
            }
        }
        Ok(())
    }

    fn remove(&self, key: FutexKey, w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
        if let Some(list) = q.get_mut(&key) {
            list.retain(|x| !Arc::ptr_eq(x, w));
            if list.is_empty() {
                q.remove(&key);
            }
        }
    }

    /// Wakes up to `n` waiters whose bitset intersects `bitset`.
    pub fn wake(&self, key: FutexKey, n: usize, bitset: u32) -> usize {
        let mut q = self.queues.lock();
        let Some(list) = q.get_mut(&key) else {
            return 0;
        };
        let mut woken = 0;
        list.retain(|w| {
            if woken < n && w.bitset & bitset != 0 {
                *w.woken.lock() = true;
                w.cv.notify_one();
                woken += 1;
                false
            } else {
                true
            }
        });
        if list.is_empty() {
            q.remove(&key);
        }
        woken
    }

    /// Wakes `n` waiters of `from` and moves up to `n2` others to `to`.
    pub fn requeue(&self, from: FutexKey, to: FutexKey, n: usize, n2: usize) -> usize {
        let woken = self.wake(from, n, u32::MAX);
        let mut q = self.queues.lock();
        let Some(mut list) = q.remove(&from) else {
            return woken;
        };
        let moved: Vec<_> = list.drain(..n2.min(list.len())).collect();
        if !list.is_empty() {
            q.insert(from, list);
        }
        let count = moved.len();
        q.entry(to).or_default().extend(moved);
        woken + count
    }
}
