//! Interruptible blocking: the task a host thread runs, and waits that a
//! signal or an exit can cut short.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, MutexGuard};

use super::thread_group::TaskHandle;
use crate::errno::Errno;

thread_local! {
    static CURRENT: RefCell<Option<Arc<TaskHandle>>> = const { RefCell::new(None) };
}

/// Records the task the calling host thread runs.
pub fn set_current(t: Option<Arc<TaskHandle>>) {
    CURRENT.with(|c| *c.borrow_mut() = t);
}

/// The task the calling host thread runs, if any.
pub fn current() -> Option<Arc<TaskHandle>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Wakes a blocked task: locks the object it waits on and notifies it.
pub type Kicker = Arc<dyn Fn() + Send + Sync>;

/// Waits on `cv` (whose mutex `guard` holds) until notified, `deadline`,
/// or the current task has a signal or exit pending. `kick` must lock the
/// same mutex and notify `cv`. Returns `Ok(true)` on timeout and
/// `Err(ERESTARTSYS)` when interrupted.
pub fn wait_interruptible<T>(
    guard: &mut MutexGuard<'_, T>,
    cv: &Condvar,
    kick: impl FnOnce() -> Kicker,
    deadline: Option<Instant>,
) -> Result<bool, Errno> {
    let Some(task) = current() else {
        return Ok(match deadline {
            Some(d) => cv.wait_until(guard, d).timed_out(),
            None => {
                cv.wait(guard);
                false
            }
        });
    };
    task.set_kicker(Some(kick()));
    if task.interrupted() {
        task.set_kicker(None);
        return Err(Errno::ERESTARTSYS);
    }
    let timed_out = match deadline {
        Some(d) => cv.wait_until(guard, d).timed_out(),
        None => {
            cv.wait(guard);
            false
        }
    };
    task.set_kicker(None);
    if task.interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(timed_out)
}

/// Sleeps until `deadline` (forever if None) or until interrupted.
/// Returns `Ok(())` at the deadline, `Err(ERESTARTSYS)` when interrupted.
pub fn sleep(deadline: Option<Instant>) -> Result<(), Errno> {
    let w = Arc::new((parking_lot::Mutex::new(()), Condvar::new()));
    let mut g = w.0.lock();
    loop {
        let w2 = w.clone();
        let timed_out = wait_interruptible(
            &mut g,
            &w.1,
            move || {
                Arc::new(move || {
                    let _g = w2.0.lock();
                    w2.1.notify_all();
                })
            },
            deadline,
        )?;
        if timed_out || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
    }
}
