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

/// The time on `clock`: from the vDSO's line where it serves the clock (so
/// syscalls and the vDSO agree), else from the host.
fn now(clock: libc::clockid_t) -> libc::timespec {
    if let Some(ns) = crate::kernel::vdso::clock_now(clock) {
        return libc::timespec {
            tv_sec: ns.div_euclid(1_000_000_000),
            tv_nsec: ns.rem_euclid(1_000_000_000),
        };
    }
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

/// The CPU time a CPU-time clock id names (CLOCK_*_CPUTIME_ID, or the
/// ids clock_getcpuclockid and pthread_getcpuclockid make).
fn cpu_clock_value(t: &Task, id: i32) -> Result<Option<Duration>, Errno> {
    let total = |c: CpuTimes| Some(c.user + c.sys);
    match id {
        libc::CLOCK_PROCESS_CPUTIME_ID => return Ok(total(t.process_times())),
        libc::CLOCK_THREAD_CPUTIME_ID => return Ok(total(t.thread_times())),
        id if id >= 0 => return Ok(None),
        _ => {}
    }
    if id & 3 == 3 {
        return Err(Errno::EINVAL);
    }
    let pid = !(id >> 3);
    let per_thread = id & 4 != 0;
    if per_thread {
        if pid == 0 || pid == t.tid {
            return Ok(total(t.thread_times()));
        }
        let th = t
            .kernel
            .tasks
            .lock()
            .get(&pid)
            .cloned()
            .ok_or(Errno::EINVAL)?;
        if th.group.pid != t.pid {
            return Err(Errno::EINVAL);
        }
        // Another thread's own time is not visible here: report what the
        // process has used, which bounds it.
        return Ok(total(t.process_times()));
    }
    if pid == 0 || pid == t.pid {
        return Ok(total(t.process_times()));
    }
    let g = t
        .kernel
        .groups
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::EINVAL)?;
    let dead = *g.dead_times.lock();
    Ok(total(dead))
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let ts = match cpu_clock_value(t, id)? {
        Some(d) => timespec(d),
        None => now(host_clock(id)?),
    };
    t.mm.write_obj(a[1], &ts)?;
    Ok(0)
}

/// A `struct rusage` with the given CPU times.
pub fn rusage(c: CpuTimes) -> libc::rusage {
    let mut r: libc::rusage = crate::mm::Plain::zeroed();
    r.ru_utime = to_timeval(c.user);
    r.ru_stime = to_timeval(c.sys);
    // Peak memory is not tracked per process; the sandbox's own peak
    // bounds it.
    let mut host: libc::rusage = crate::mm::Plain::zeroed();
    // SAFETY: valid out pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut host) };
    r.ru_maxrss = host.ru_maxrss;
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
    let id = a[0] as i32;
    if id < 0 {
        cpu_clock_value(t, id)?;
        if a[1] != 0 {
            t.mm.write_obj(a[1], &timespec(Duration::from_nanos(1)))?;
        }
        return Ok(0);
    }
    let clock = host_clock(id)?;
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

fn cpu_clock(t: &Task) -> crate::kernel::itimer::CpuClock {
    t.group()
        .cpu_clock
        .lock()
        .clone()
        .unwrap_or_else(|| t.ctx.cpu_clock())
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, iv) = match a[0] as i32 {
        libc::ITIMER_REAL => t.group().real_timer.get(),
        w @ (libc::ITIMER_VIRTUAL | libc::ITIMER_PROF) => {
            t.group().cpu_timers[(w - 1) as usize].get(&cpu_clock(t))
        }
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
        w @ (libc::ITIMER_VIRTUAL | libc::ITIMER_PROF) => {
            let group = t.group().clone();
            let clock = cpu_clock(t);
            group.cpu_timers[(w - 1) as usize].set(&group, clock, val, iv)
        }
        _ => return Err(Errno::EINVAL),
    };
    if a[2] != 0 {
        t.mm.write_obj(a[2], &[to_timeval(old_iv), to_timeval(old_left)])?;
    }
    Ok(0)
}

fn itimerspec(t: &Task, addr: u64) -> Result<(Duration, Duration), Errno> {
    let v: [libc::timespec; 2] = [t.mm.read_obj(addr)?, t.mm.read_obj(addr + 16)?];
    let d = |ts: &libc::timespec| -> Result<Duration, Errno> {
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    };
    Ok((d(&v[0])?, d(&v[1])?))
}

fn write_itimerspec(t: &Task, addr: u64, interval: Duration, value: Duration) -> Result<(), Errno> {
    t.mm.write_obj(addr, &timespec(interval))?;
    t.mm.write_obj(addr + 16, &timespec(value))
}

fn posix_timer(
    t: &Task,
    id: i32,
) -> Result<std::sync::Arc<crate::kernel::itimer::PosixTimer>, Errno> {
    t.group()
        .posix_timers
        .lock()
        .get(&id)
        .cloned()
        .ok_or(Errno::EINVAL)
}

pub fn timer_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::kernel::itimer::{Notify, PosixTimer};
    let (clock, sevp, out) = (a[0] as i32, a[1], a[2]);
    if cpu_clock_value(t, clock)?.is_none() {
        host_clock(clock)?;
    }
    let id = {
        let timers = t.group().posix_timers.lock();
        (0..i32::MAX)
            .find(|i| !timers.contains_key(i))
            .ok_or(Errno::EAGAIN)?
    };
    let notify = if sevp == 0 {
        Notify::Signal {
            signo: libc::SIGALRM,
            value: id as u64,
            tid: None,
        }
    } else {
        let value: u64 = t.mm.read_obj(sevp)?;
        let signo: i32 = t.mm.read_obj(sevp + 8)?;
        let kind: i32 = t.mm.read_obj(sevp + 12)?;
        let tid: i32 = t.mm.read_obj(sevp + 16)?;
        match kind {
            libc::SIGEV_NONE => Notify::None,
            libc::SIGEV_SIGNAL | libc::SIGEV_THREAD_ID => {
                if !(1..=64).contains(&signo) {
                    return Err(Errno::EINVAL);
                }
                let tid = if kind == libc::SIGEV_THREAD_ID {
                    let th = t
                        .kernel
                        .tasks
                        .lock()
                        .get(&tid)
                        .cloned()
                        .ok_or(Errno::EINVAL)?;
                    if th.group.pid != t.pid {
                        return Err(Errno::EINVAL);
                    }
                    Some(tid)
                } else {
                    None
                };
                Notify::Signal { signo, value, tid }
            }
            _ => return Err(Errno::EINVAL),
        }
    };
    t.mm.write_obj(out, &id)?;
    let kernel = std::sync::Arc::downgrade(&t.kernel);
    let find = std::sync::Arc::new(move |tid: i32| {
        kernel
            .upgrade()
            .and_then(|k| k.tasks.lock().get(&tid).cloned())
    });
    let timer = PosixTimer::new(id, notify, find);
    t.group()
        .posix_timers
        .lock()
        .insert(id, std::sync::Arc::new(timer));
    Ok(0)
}

pub fn timer_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, flags, new, old) = (a[0] as i32, a[1] as i32, a[2], a[3]);
    let timer = posix_timer(t, id)?;
    let (interval, mut value) = itimerspec(t, new)?;
    if flags & libc::TIMER_ABSTIME != 0 && !value.is_zero() {
        let n = now(libc::CLOCK_REALTIME);
        let nowd = Duration::new(n.tv_sec as u64, n.tv_nsec as u32);
        // An absolute time already past fires at once.
        value = value.saturating_sub(nowd).max(Duration::from_nanos(1));
    }
    let group = t.group().clone();
    let (old_left, old_iv) = timer.timer.set(&group, value, interval);
    if old != 0 {
        write_itimerspec(t, old, old_iv, old_left)?;
    }
    Ok(0)
}

pub fn timer_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timer = posix_timer(t, a[0] as i32)?;
    let (left, iv) = timer.timer.get();
    write_itimerspec(t, a[1], iv, left)?;
    Ok(0)
}

pub fn timer_getoverrun(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timer = posix_timer(t, a[0] as i32)?;
    Ok(timer.overrun.load(std::sync::atomic::Ordering::Relaxed) as u64)
}

pub fn timer_delete(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timer = t
        .group()
        .posix_timers
        .lock()
        .remove(&(a[0] as i32))
        .ok_or(Errno::EINVAL)?;
    let group = t.group().clone();
    timer.timer.set(&group, Duration::ZERO, Duration::ZERO);
    Ok(0)
}
