//! ITIMER_REAL: the per-process interval timer behind alarm and setitimer,
//! which sends SIGALRM.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::signal::SigInfo;
use super::thread_group::ThreadGroup;

#[derive(Default)]
struct State {
    /// When it fires next, and its reload interval.
    armed: Option<(Instant, Duration)>,
    /// Bumped on every change, so a stale timer thread stops.
    generation: u64,
}

/// A process's real-time interval timer.
#[derive(Default)]
pub struct RealTimer {
    state: Arc<(Mutex<State>, Condvar)>,
}

impl RealTimer {
    /// What is left until it fires, and the interval.
    pub fn get(&self) -> (Duration, Duration) {
        let st = self.state.0.lock();
        match st.armed {
            Some((at, iv)) => (at.saturating_duration_since(Instant::now()), iv),
            None => (Duration::ZERO, Duration::ZERO),
        }
    }

    /// Arms it (`value` zero disarms); returns the previous (left, interval).
    pub fn set(
        &self,
        group: &Arc<ThreadGroup>,
        value: Duration,
        interval: Duration,
    ) -> (Duration, Duration) {
        let old = self.get();
        let mut st = self.state.0.lock();
        st.generation += 1;
        let gen = st.generation;
        st.armed = (!value.is_zero()).then(|| (Instant::now() + value, interval));
        drop(st);
        self.state.1.notify_all();
        if !value.is_zero() {
            let state = self.state.clone();
            let group: Weak<ThreadGroup> = Arc::downgrade(group);
            let _ = std::thread::Builder::new()
                .name("itimer".into())
                .spawn(move || run(state, group, gen));
        }
        old
    }
}

fn run(state: Arc<(Mutex<State>, Condvar)>, group: Weak<ThreadGroup>, gen: u64) {
    let mut st = state.0.lock();
    loop {
        if st.generation != gen {
            return;
        }
        let Some((at, iv)) = st.armed else {
            return;
        };
        if Instant::now() < at {
            state.1.wait_until(&mut st, at);
            continue;
        }
        let Some(g) = group.upgrade() else {
            return;
        };
        st.armed = (!iv.is_zero()).then(|| (at + iv, iv));
        drop(st);
        g.send(SigInfo::new(libc::SIGALRM, libc::SI_KERNEL));
        st = state.0.lock();
    }
}
