//! Clocks and sleeping.

use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;
use crate::kernel::thread_group::CpuTimes;
use crate::mm::Plain;

/// Maps an application clock id to the host clock that serves it.
fn host_clock(id: i32) -> Result<libc::clockid_t, Errno> {
    match id {
        libc::CLOCK_REALTIME
        | libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_TAI => Ok(id),
        libc::CLOCK_REALTIME_ALARM => Ok(libc::CLOCK_REALTIME),
        libc::CLOCK_BOOTTIME_ALARM => Ok(libc::CLOCK_BOOTTIME),
        // The sandbox's own CPU time stands in for the process's and thread's.
        libc::CLOCK_PROCESS_CPUTIME_ID => Ok(libc::CLOCK_PROCESS_CPUTIME_ID),
        libc::CLOCK_THREAD_CPUTIME_ID => Ok(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => Err(Errno::EINVAL),
    }
}

fn now(clock: libc::clockid_t) -> libc::timespec {
    let mut ts: libc::timespec = Plain::zeroed();
    // SAFETY: valid out pointer, known clock.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as i64,
        tv_nsec: d.subsec_nanos() as i64,
    }
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = match a[0] as i32 {
        libc::CLOCK_PROCESS_CPUTIME_ID => {
            let c = t.process_times();
            timespec(c.user + c.sys)
        }
        libc::CLOCK_THREAD_CPUTIME_ID => {
            let c = t.thread_times();
            timespec(c.user + c.sys)
        }
        id => now(host_clock(id)?),
    };
    t.mm.write_obj(a[1], &ts)?;
    Ok(0)
}

/// A `struct rusage` with the given CPU times.
pub fn rusage(c: CpuTimes) -> libc::rusage {
    let mut r: libc::rusage = crate::mm::Plain::zeroed();
    r.ru_utime = to_timeval(c.user);
    r.ru_stime = to_timeval(c.sys);
    r
}

pub fn getrusage(t: &mut Task, a: [u64; 6]) -> SysResult {
    let times = match a[0] as i32 {
        libc::RUSAGE_SELF => t.process_times(),
        libc::RUSAGE_CHILDREN => *t.group().children_times.lock(),
        libc::RUSAGE_THREAD => t.thread_times(),
        _ => return Err(Errno::EINVAL),
    };
    t.mm.write_obj(a[1], &rusage(times))?;
    Ok(0)
}

pub fn times(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ticks = |d: Duration| (d.as_millis() / 10) as i64;
    if a[0] != 0 {
        let me = t.process_times();
        let kids = *t.group().children_times.lock();
        let tms = libc::tms {
            tms_utime: ticks(me.user),
            tms_stime: ticks(me.sys),
            tms_cutime: ticks(kids.user),
            tms_cstime: ticks(kids.sys),
        };
        t.mm.write_obj(a[0], &tms)?;
    }
    let up = now(libc::CLOCK_MONOTONIC);
    Ok(ticks(Duration::new(up.tv_sec as u64, up.tv_nsec as u32)) as u64)
}

pub fn clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = host_clock(a[0] as i32)?;
    if a[1] != 0 {
        let mut ts: libc::timespec = Plain::zeroed();
        // SAFETY: valid out pointer.
        unsafe { libc::clock_getres(clock, &mut ts) };
        t.mm.write_obj(a[1], &ts)?;
    }
    Ok(0)
}

pub fn gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let ts = now(libc::CLOCK_REALTIME);
        let tv = libc::timeval {
            tv_sec: ts.tv_sec,
            tv_usec: ts.tv_nsec / 1000,
        };
        t.mm.write_obj(a[0], &tv)?;
    }
    if a[1] != 0 {
        t.mm.write_obj(a[1], &0u64)?;
    }
    Ok(0)
}

pub fn time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let secs = now(libc::CLOCK_REALTIME).tv_sec;
    if a[0] != 0 {
        t.mm.write_obj(a[0], &secs)?;
    }
    Ok(secs as u64)
}

fn read_timespec(t: &Task, addr: u64) -> Result<libc::timespec, Errno> {
    let ts: libc::timespec = t.mm.read_obj(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Sleeps for `ts` on `clock` (until `ts` if `absolute`); on interruption
/// writes the remaining time to `rem` (if non-zero) and returns EINTR via
/// the restart machinery.
fn sleep(
    t: &Task,
    clock: libc::clockid_t,
    absolute: bool,
    ts: &libc::timespec,
    rem: u64,
) -> SysResult {
    let want = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let dur = if absolute {
        let n = now(clock);
        want.saturating_sub(Duration::new(n.tv_sec as u64, n.tv_nsec as u32))
    } else {
        want
    };
    let deadline = Instant::now() + dur;
    match crate::kernel::wait::sleep(Some(deadline)) {
        Ok(()) => Ok(0),
        Err(_) => {
            if rem != 0 && !absolute {
                let left = deadline.saturating_duration_since(Instant::now());
                let r = libc::timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: left.subsec_nanos() as i64,
                };
                t.mm.write_obj(rem, &r)?;
            }
            Err(Errno::EINTR)
        }
    }
}

pub fn nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = read_timespec(t, a[0])?;
    sleep(t, libc::CLOCK_MONOTONIC, false, &ts, a[1])
}

pub fn clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (clock, flags) = (a[0] as i32, a[1] as i32);
    let host = match clock {
        libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        libc::CLOCK_PROCESS_CPUTIME_ID => return Err(Errno::ENOTSUP),
        c => host_clock(c)?,
    };
    let ts = read_timespec(t, a[2])?;
    sleep(t, host, flags & libc::TIMER_ABSTIME != 0, &ts, a[3])
}

fn to_timeval(d: Duration) -> libc::timeval {
    libc::timeval {
        tv_sec: d.as_secs() as i64,
        tv_usec: d.subsec_micros() as i64,
    }
}

fn from_timeval(tv: &libc::timeval) -> Result<Duration, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

pub fn alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let group = t.group().clone();
    let (left, _) = group.real_timer.set(
        &group,
        Duration::from_secs(a[0] as u32 as u64),
        Duration::ZERO,
    );
    // Round up: a pending alarm never reports 0 seconds left.
    let secs = left.as_secs() + u64::from(left.subsec_nanos() >= 500_000_000);
    Ok(if left.is_zero() { 0 } else { secs.max(1) })
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, iv) = match a[0] as i32 {
        libc::ITIMER_REAL => t.group().real_timer.get(),
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => (Duration::ZERO, Duration::ZERO),
        _ => return Err(Errno::EINVAL),
    };
    t.mm.write_obj(a[1], &[to_timeval(iv), to_timeval(left)])?;
    Ok(0)
}

pub fn setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = a[0] as i32;
    let new: Option<[libc::timeval; 2]> = if a[1] != 0 {
        Some(t.mm.read_obj(a[1])?)
    } else {
        None
    };
    let (iv, val) = match &new {
        Some(v) => (from_timeval(&v[0])?, from_timeval(&v[1])?),
        None => (Duration::ZERO, Duration::ZERO),
    };
    let (old_left, old_iv) = match which {
        libc::ITIMER_REAL => {
            let group = t.group().clone();
            group.real_timer.set(&group, val, iv)
        }
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => {
            log::debug!("setitimer: CPU-time timers are not implemented");
            (Duration::ZERO, Duration::ZERO)
        }
        _ => return Err(Errno::EINVAL),
    };
    if a[2] != 0 {
        t.mm.write_obj(a[2], &[to_timeval(old_iv), to_timeval(old_left)])?;
    }
    Ok(0)
}
