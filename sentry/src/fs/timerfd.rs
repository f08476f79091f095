//! timerfd: a timer whose expirations are read as a count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::vfs::{FileOps, Stat};

#[derive(Default)]
struct State {
    /// Next expiration and reload interval.
    armed: Option<(Instant, Duration)>,
    /// Expirations not yet read.
    ticks: u64,
}

impl State {
    /// Counts expirations up to now.
    fn advance(&mut self) {
        let Some((next, iv)) = self.armed else {
            return;
        };
        let now = Instant::now();
        if now < next {
            return;
        }
        if iv.is_zero() {
            self.ticks += 1;
            self.armed = None;
        } else {
            let n = ((now - next).as_nanos() / iv.as_nanos()) as u64 + 1;
            self.ticks += n;
            self.armed = Some((next + iv * n as u32, iv));
        }
    }
}

/// A timerfd.
pub struct TimerFd {
    state: Arc<(Mutex<State>, Condvar)>,
    stat: Stat,
    /// The clock absolute times are read against.
    pub clock: libc::clockid_t,
}

impl TimerFd {
    /// A disarmed timer on `clock`.
    pub fn new(clock: libc::clockid_t) -> TimerFd {
        TimerFd {
            state: Arc::new((Mutex::new(State::default()), Condvar::new())),
            stat: Stat::anon(0xf, 1, 0o600),
            clock,
        }
    }

    /// Arms (value zero disarms); returns the old (left, interval).
    pub fn set(&self, value: Duration, interval: Duration) -> (Duration, Duration) {
        let old = self.get();
        let mut st = self.state.0.lock();
        st.ticks = 0;
        st.armed = (!value.is_zero()).then(|| (Instant::now() + value, interval));
        self.state.1.notify_all();
        old
    }

    /// Time left and interval.
    pub fn get(&self) -> (Duration, Duration) {
        let mut st = self.state.0.lock();
        st.advance();
        match st.armed {
            Some((next, iv)) => (next.saturating_duration_since(Instant::now()), iv),
            None => (Duration::ZERO, Duration::ZERO),
        }
    }
}

impl FileOps for TimerFd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state.0.lock();
        loop {
            st.advance();
            if st.ticks > 0 {
                let n = std::mem::take(&mut st.ticks);
                buf[..8].copy_from_slice(&n.to_le_bytes());
                return Ok(8);
            }
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            let deadline = st.armed.map(|(next, _)| next);
            crate::kernel::wait::wait_on(&mut st, &self.state, |s| (&s.0, &s.1), deadline)?;
        }
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn poll(&self) -> u32 {
        let mut st = self.state.0.lock();
        st.advance();
        if st.ticks > 0 {
            (libc::POLLIN | libc::POLLRDNORM) as u32
        } else {
            0
        }
    }
}
