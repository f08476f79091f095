//! Host threads for tasks, kept for reuse.
//!
//! Every task runs on a host thread of its own (it traces the platform's
//! stub thread that runs its application code). Starting a host thread
//! costs tens of microseconds, as much as a few system calls of the
//! application, and a shell starts one per command: threads whose task
//! ended wait a while for the next one instead of exiting.
//!
//! A task has a CPU it should start on (its parent's, see the platform's
//! home CPU). An idle thread that last ran there is preferred; another is
//! moved there while it still sleeps, which is cheap, rather than after it
//! woke, when the move is a migration (tens of microseconds under nested
//! virtualization).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// How long an idle thread waits for a task before it exits.
const IDLE: Duration = Duration::from_secs(2);
/// At most this many threads wait idle.
const MAX_IDLE: usize = 16;

type Job = Box<dyn FnOnce() + Send>;

/// The pool. One per kernel.
#[derive(Default)]
pub struct HostThreads {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Idle threads, the most recently idle last.
    idle: Mutex<Vec<Idle>>,
}

/// An idle thread and the slot it waits on for its next job.
struct Idle {
    tid: libc::pid_t,
    /// The CPU it is pinned to, if it is.
    cpu: Option<usize>,
    slot: Arc<Slot>,
}

#[derive(Default)]
struct Slot {
    job: Mutex<Option<Job>>,
    ready: Condvar,
}

impl HostThreads {
    /// Runs `job` on an idle thread, or on a new one named `name`; on
    /// `cpu` when given.
    pub fn run(
        &self,
        name: String,
        cpu: Option<usize>,
        job: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let job: Job = Box::new(move || {
            set_name(&name);
            job();
        });
        let picked = {
            let mut idle = self.shared.idle.lock();
            let at = idle
                .iter()
                .rposition(|t| cpu.is_some() && t.cpu == cpu)
                .or(idle.len().checked_sub(1));
            at.map(|i| idle.remove(i))
        };
        if let Some(t) = picked {
            if let Some(cpu) = cpu.filter(|_| t.cpu != cpu) {
                pin(t.tid, cpu);
            }
            *t.slot.job.lock() = Some(job);
            t.slot.ready.notify_one();
            return Ok(());
        }
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("task".into())
            .spawn(move || {
                job();
                shared.serve();
            })?;
        Ok(())
    }
}

impl Shared {
    /// Runs jobs handed to the calling thread until none comes for
    /// [`IDLE`].
    fn serve(&self) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let slot = Arc::new(Slot::default());
        loop {
            {
                let mut idle = self.idle.lock();
                if idle.len() >= MAX_IDLE {
                    return;
                }
                idle.push(Idle {
                    tid,
                    cpu: pinned_cpu(),
                    slot: slot.clone(),
                });
            }
            let mut job = slot.job.lock();
            if job.is_none() {
                slot.ready.wait_for(&mut job, IDLE);
            }
            if job.is_none() {
                // Timed out; unless a job is being handed over right now.
                let mut idle = self.idle.lock();
                if let Some(i) = idle.iter().position(|t| t.tid == tid) {
                    idle.remove(i);
                    return;
                }
                drop(idle);
                while job.is_none() {
                    slot.ready.wait(&mut job);
                }
            }
            let Some(run) = job.take() else { continue };
            drop(job);
            run();
        }
    }
}

/// Pins thread `tid` to `cpu`.
fn pin(tid: libc::pid_t, cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set);
    }
}

/// The one CPU the calling thread may run on, if it is pinned to one.
fn pinned_cpu() -> Option<usize> {
    // SAFETY: a zeroed cpu_set_t is valid; the kernel fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) != 0 {
            return None;
        }
        if libc::CPU_COUNT(&set) != 1 {
            return None;
        }
        (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set))
    }
}

/// Names the calling thread (as /proc and debuggers show it).
fn set_name(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn wait_idle(pool: &HostThreads, n: usize) {
        while pool.shared.idle.lock().len() < n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn idle_thread_is_reused() {
        let pool = HostThreads::default();
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        pool.run("a".into(), None, move || {
            t.send(unsafe { libc::gettid() }).unwrap()
        })
        .unwrap();
        let first = rx.recv().unwrap();
        wait_idle(&pool, 1);
        pool.run("b".into(), None, move || {
            tx.send(unsafe { libc::gettid() }).unwrap()
        })
        .unwrap();
        assert_eq!(rx.recv().unwrap(), first);
    }

    #[test]
    fn job_runs_on_the_cpu_asked_for() {
        let pool = HostThreads::default();
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        pool.run("a".into(), None, move || t.send(pinned_cpu()).unwrap())
            .unwrap();
        rx.recv().unwrap();
        wait_idle(&pool, 1);
        pool.run("b".into(), Some(0), move || tx.send(pinned_cpu()).unwrap())
            .unwrap();
        assert_eq!(rx.recv().unwrap(), Some(0));
    }
}
