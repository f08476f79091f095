//! Interval timers on the host's clocks: ITIMER_REAL (alarm, setitimer),
//! which sends SIGALRM, and POSIX timers (timer_create), which send the
//! signal their sigevent names.

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

/// What a timer does when it expires.
pub type Fire = Arc<dyn Fn(&Arc<ThreadGroup>) + Send + Sync>;

/// An interval timer that fires a callback for its process.
pub struct RealTimer {
    state: Arc<(Mutex<State>, Condvar)>,
    fire: Fire,
}

impl Default for RealTimer {
    fn default() -> Self {
        RealTimer::new(Arc::new(|g: &Arc<ThreadGroup>| {
            g.send(SigInfo::new(libc::SIGALRM, libc::SI_KERNEL))
        }))
    }
}

impl RealTimer {
    /// A disarmed timer that runs `fire` on expiry.
    pub fn new(fire: Fire) -> RealTimer {
        RealTimer {
            state: Arc::new((Mutex::new(State::default()), Condvar::new())),
            fire,
        }
    }

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
            let fire = self.fire.clone();
            let _ = std::thread::Builder::new()
                .name("itimer".into())
                .spawn(move || run(state, group, gen, fire));
        }
        old
    }
}

fn run(state: Arc<(Mutex<State>, Condvar)>, group: Weak<ThreadGroup>, gen: u64, fire: Fire) {
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
        // Missed periods (the process was slow to take the signal) count
        // as overruns, not as a burst of signals.
        st.armed = (!iv.is_zero()).then(|| {
            let mut next = at + iv;
            let now = Instant::now();
            while next <= now {
                next += iv;
            }
            (next, iv)
        });
        drop(st);
        fire(&g);
        st = state.0.lock();
    }
}

/// A POSIX timer (timer_create).
pub struct PosixTimer {
    /// The underlying interval timer.
    pub timer: RealTimer,
    /// Expirations whose signal was still pending (timer_getoverrun).
    pub overrun: Arc<std::sync::atomic::AtomicI32>,
}

/// How a POSIX timer notifies.
#[derive(Clone, Copy, Debug)]
pub enum Notify {
    /// Nothing (SIGEV_NONE).
    None,
    /// A signal to the process, or to one thread (SIGEV_THREAD_ID).
    Signal {
        /// The signal.
        signo: i32,
        /// sigev_value.
        value: u64,
        /// The thread for SIGEV_THREAD_ID.
        tid: Option<i32>,
    },
}

impl PosixTimer {
    /// A disarmed timer with id `id`; `thread` finds a thread by tid.
    pub fn new(
        id: i32,
        notify: Notify,
        thread: Arc<dyn Fn(i32) -> Option<Arc<super::thread_group::TaskHandle>> + Send + Sync>,
    ) -> PosixTimer {
        let overrun = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let ov = overrun.clone();
        let fire: Fire = Arc::new(move |g: &Arc<ThreadGroup>| {
            let Notify::Signal { signo, value, tid } = notify else {
                return;
            };
            let mut info = SigInfo::new(signo, libc::SI_TIMER);
            info.0[16..20].copy_from_slice(&id.to_le_bytes());
            info.0[24..32].copy_from_slice(&value.to_le_bytes());
            let pending = g.pending.lock().set() & super::signal::bit(signo) != 0;
            if pending {
                ov.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            match tid.and_then(|t| thread(t)) {
                Some(th) => th.send(info),
                None => g.send(info),
            }
        });
        PosixTimer {
            timer: RealTimer::new(fire),
            overrun,
        }
    }
}

/// The source of a process's CPU time, for CPU-time timers.
pub type CpuClock = Arc<dyn Fn() -> Duration + Send + Sync>;

#[derive(Default)]
struct CpuState {
    /// CPU time at which it fires, and the reload interval.
    armed: Option<(Duration, Duration)>,
    generation: u64,
}

/// ITIMER_VIRTUAL or ITIMER_PROF: fires after the process has used an
/// amount of CPU time. The CPU clock is sampled every few milliseconds.
pub struct CpuTimer {
    state: Arc<(Mutex<CpuState>, Condvar)>,
    signo: i32,
}

impl CpuTimer {
    /// A disarmed timer that sends `signo`.
    pub fn new(signo: i32) -> CpuTimer {
        CpuTimer {
            state: Arc::new((Mutex::new(CpuState::default()), Condvar::new())),
            signo,
        }
    }

    /// What is left (in CPU time) and the interval.
    pub fn get(&self, clock: &CpuClock) -> (Duration, Duration) {
        let st = self.state.0.lock();
        match st.armed {
            Some((at, iv)) => (at.saturating_sub(clock()), iv),
            None => (Duration::ZERO, Duration::ZERO),
        }
    }

    /// Arms it (`value` zero disarms); returns the previous (left, interval).
    pub fn set(
        &self,
        group: &Arc<ThreadGroup>,
        clock: CpuClock,
        value: Duration,
        interval: Duration,
    ) -> (Duration, Duration) {
        let old = self.get(&clock);
        let mut st = self.state.0.lock();
        st.generation += 1;
        let gen = st.generation;
        st.armed = (!value.is_zero()).then(|| (clock() + value, interval));
        drop(st);
        self.state.1.notify_all();
        if !value.is_zero() {
            let state = self.state.clone();
            let group: Weak<ThreadGroup> = Arc::downgrade(group);
            let signo = self.signo;
            let _ = std::thread::Builder::new()
                .name("cputimer".into())
                .spawn(move || run_cpu(state, group, gen, clock, signo));
        }
        old
    }
}

fn run_cpu(
    state: Arc<(Mutex<CpuState>, Condvar)>,
    group: Weak<ThreadGroup>,
    gen: u64,
    clock: CpuClock,
    signo: i32,
) {
    let mut st = state.0.lock();
    loop {
        if st.generation != gen {
            return;
        }
        let Some((at, iv)) = st.armed else {
            return;
        };
        let now = clock();
        if now < at {
            let wait = (at - now).clamp(Duration::from_millis(1), Duration::from_millis(10));
            state.1.wait_for(&mut st, wait);
            continue;
        }
        let Some(g) = group.upgrade() else {
            return;
        };
        st.armed = (!iv.is_zero()).then(|| {
            let mut next = at + iv;
            while next <= now {
                next += iv;
            }
            (next, iv)
        });
        drop(st);
        g.send(SigInfo::new(signo, libc::SI_KERNEL));
        st = state.0.lock();
    }
}
