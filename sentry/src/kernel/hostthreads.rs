//! Host threads for tasks, kept for reuse.
//!
//! Every task runs on a host thread of its own (it traces the platform's
//! stub thread that runs its application code). Starting a host thread
//! costs tens of microseconds, as much as a few system calls of the
//! application, and a shell starts one per command: threads whose task
//! ended wait a while for the next one instead of exiting.

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
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    idle: usize,
    jobs: Vec<Job>,
}

impl HostThreads {
    /// Runs `job` on an idle thread, or on a new one named `name`.
    pub fn run(&self, name: String, job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        {
            let mut st = self.shared.state.lock();
            if st.idle > st.jobs.len() {
                st.jobs.push(Box::new(move || {
                    set_name(&name);
                    job();
                }));
                self.shared.wake.notify_one();
                return Ok(());
            }
        }
        let shared = self.shared.clone();
        std::thread::Builder::new().name(name).spawn(move || {
            job();
            shared.serve();
        })?;
        Ok(())
    }
}

impl Shared {
    /// Runs queued jobs until none comes for [`IDLE`].
    fn serve(&self) {
        let mut st = self.state.lock();
        loop {
            if let Some(job) = st.jobs.pop() {
                drop(st);
                job();
                st = self.state.lock();
                continue;
            }
            if st.idle >= MAX_IDLE {
                return;
            }
            st.idle += 1;
            let timed_out = self.wake.wait_for(&mut st, IDLE).timed_out();
            st.idle -= 1;
            if timed_out && st.jobs.is_empty() {
                return;
            }
        }
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

    #[test]
    fn idle_thread_is_reused() {
        let pool = HostThreads::default();
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        pool.run("a".into(), move || {
            t.send(unsafe { libc::gettid() }).unwrap()
        })
        .unwrap();
        let first = rx.recv().unwrap();
        // Let the thread go idle.
        while pool.shared.state.lock().idle == 0 {
            std::thread::yield_now();
        }
        pool.run("b".into(), move || {
            tx.send(unsafe { libc::gettid() }).unwrap()
        })
        .unwrap();
        assert_eq!(rx.recv().unwrap(), first);
    }
}
