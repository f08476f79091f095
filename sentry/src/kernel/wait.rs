//! Interruptible blocking: the task a host thread runs, and waits that a
//! signal or an exit can cut short.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};

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

/// Waits on the condvar of `owner` (whose mutex `guard` holds; `parts`
/// finds both in `owner`) until notified, `deadline`, or the current task
/// has a signal or exit pending. Returns `Ok(true)` on timeout and
/// `Err(ERESTARTSYS)` when interrupted.
pub fn wait_on<O, T>(
    guard: &mut MutexGuard<'_, T>,
    owner: &Arc<O>,
    parts: fn(&O) -> (&Mutex<T>, &Condvar),
    deadline: Option<Instant>,
) -> Result<bool, Errno>
where
    O: Send + Sync + 'static,
    T: 'static,
{
    let (_, cv) = parts(owner);
    let o = owner.clone();
    wait_interruptible(
        guard,
        cv,
        move || {
            Arc::new(move || {
                // Taking the mutex orders the kick after the waiter's check.
                let (m, c) = parts(&o);
                let _g = m.lock();
                c.notify_all();
            })
        },
        deadline,
    )
}

/// Waits on `cv` (whose mutex `guard` holds) until notified, `deadline`,
/// or the current task has a signal or exit pending. `kick` must lock the
/// same mutex and notify `cv`.
fn wait_interruptible<T>(
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
    let w = Arc::new((Mutex::new(()), Condvar::new()));
    let mut g = w.0.lock();
    loop {
        let timed_out = wait_on(&mut g, &w, |w| (&w.0, &w.1), deadline)?;
        if timed_out || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
    }
}
