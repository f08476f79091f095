//! epoll_create/ctl/wait and eventfd.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::fs::epoll::Epoll;
use crate::fs::eventfd::EventFd;
use crate::kernel::task::Task;
use crate::vfs::File;

fn new_epoll(t: &mut Task, cloexec: bool) -> SysResult {
    let f = File::new(Box::new(Epoll::new()), None, libc::O_RDWR);
    t.fds.insert(f, cloexec).map(|fd| fd as u64)
}

pub fn epoll_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(t, false)
}

pub fn epoll_create1(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] as i32;
    if flags & !libc::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(t, flags != 0)
}

/// The epoll instance behind `fd`.
fn epoll_of(f: &Arc<File>) -> Result<&Epoll, Errno> {
    let any: &dyn std::any::Any = f.ops.as_ref().as_any();
    any.downcast_ref::<Epoll>().ok_or(Errno::EINVAL)
}

pub fn epoll_ctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (epfd, op, fd, ev) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
    let ef = t.fds.get(epfd)?;
    let target = t.fds.get(fd)?;
    let ep = epoll_of(&ef)?;
    if epfd == fd {
        return Err(Errno::EINVAL);
    }
    if target.ops.stat()?.file_type() == libc::S_IFREG || target.ops.stat()?.is_dir() {
        return Err(Errno::EPERM);
    }
    let (events, data) = if op == libc::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        (t.mm.read_obj::<u32>(ev)?, t.mm.read_obj::<u64>(ev + 4)?)
    };
    match op {
        libc::EPOLL_CTL_ADD => ep.add(fd, &target, events, data),
        libc::EPOLL_CTL_MOD => ep.modify(fd, events, data),
        libc::EPOLL_CTL_DEL => ep.delete(fd),
        _ => Err(Errno::EINVAL),
    }
    .map(|_| 0)
}

fn do_wait(t: &mut Task, epfd: i32, events: u64, max: i32, deadline: Option<Instant>) -> SysResult {
    if max <= 0 || max > (i32::MAX / 12) {
        return Err(Errno::EINVAL);
    }
    let ef = t.fds.get(epfd)?;
    let ep = epoll_of(&ef)?;
    let ready = super::poll::poll_loop(deadline, || {
        let r = ep.collect(max as usize);
        (!r.is_empty()).then_some(r)
    })
    .map_err(|e| if e.is_restart() { Errno::EINTR } else { e })?
    .unwrap_or_default();
    // struct epoll_event is packed: u32 events, u64 data.
    let mut out = Vec::with_capacity(ready.len() * 12);
    for (ev, data) in &ready {
        out.extend_from_slice(&ev.to_le_bytes());
        out.extend_from_slice(&data.to_le_bytes());
    }
    t.mm.copy_out(events, &out)?;
    Ok(ready.len() as u64)
}

fn ms_deadline(ms: i32) -> Option<Instant> {
    (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64))
}

pub fn epoll_wait(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_wait(t, a[0] as i32, a[1], a[2] as i32, ms_deadline(a[3] as i32))
}

pub fn epoll_pwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = ms_deadline(a[3] as i32);
    super::poll::with_mask(t, a[4], a[5], |t| {
        do_wait(t, a[0] as i32, a[1], a[2] as i32, deadline)
    })
}

pub fn epoll_pwait2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = super::poll::timespec_deadline(t, a[3])?;
    super::poll::with_mask(t, a[4], a[5], |t| {
        do_wait(t, a[0] as i32, a[1], a[2] as i32, deadline)
    })
}

fn new_eventfd(t: &mut Task, initval: u64, flags: i32) -> SysResult {
    if flags & !(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let ops = EventFd::new(initval, flags & libc::EFD_SEMAPHORE != 0);
    let f = File::new(
        Box::new(ops),
        None,
        libc::O_RDWR | (flags & libc::O_NONBLOCK),
    );
    t.fds
        .insert(f, flags & libc::EFD_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

pub fn eventfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    new_eventfd(t, a[0] as u32 as u64, 0)
}

pub fn eventfd2(t: &mut Task, a: [u64; 6]) -> SysResult {
    new_eventfd(t, a[0] as u32 as u64, a[1] as i32)
}

fn clock_ok(clock: i32) -> Result<(), Errno> {
    match clock {
        libc::CLOCK_REALTIME
        | libc::CLOCK_MONOTONIC
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_BOOTTIME_ALARM => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

pub fn timerfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (clock, flags) = (a[0] as i32, a[1] as i32);
    clock_ok(clock)?;
    if flags & !(libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = File::new(
        Box::new(crate::fs::timerfd::TimerFd::new(clock)),
        None,
        libc::O_RDWR | (flags & libc::O_NONBLOCK),
    );
    t.fds
        .insert(f, flags & libc::TFD_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

fn timerfd_of(f: &Arc<File>) -> Result<&crate::fs::timerfd::TimerFd, Errno> {
    f.ops
        .as_ref()
        .as_any()
        .downcast_ref::<crate::fs::timerfd::TimerFd>()
        .ok_or(Errno::EINVAL)
}

fn to_ts(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as i64,
        tv_nsec: d.subsec_nanos() as i64,
    }
}

pub fn timerfd_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, flags, new, old) = (a[0] as i32, a[1] as i32, a[2], a[3]);
    if flags & !(libc::TFD_TIMER_ABSTIME | libc::TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = t.fds.get(fd)?;
    let tf = timerfd_of(&f)?;
    let spec: [libc::timespec; 2] = [t.mm.read_obj(new)?, t.mm.read_obj(new + 16)?];
    let d = |ts: &libc::timespec| -> Result<Duration, Errno> {
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    };
    let (interval, mut value) = (d(&spec[0])?, d(&spec[1])?);
    if flags & libc::TFD_TIMER_ABSTIME != 0 && !value.is_zero() {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let clock = match tf.clock {
            libc::CLOCK_REALTIME_ALARM => libc::CLOCK_REALTIME,
            libc::CLOCK_BOOTTIME_ALARM => libc::CLOCK_BOOTTIME,
            c => c,
        };
        // SAFETY: valid out pointer, a host clock id.
        unsafe { libc::clock_gettime(clock, &mut now) };
        let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        value = value.saturating_sub(now).max(Duration::from_nanos(1));
    }
    let (left, iv) = tf.set(value, interval);
    if old != 0 {
        t.mm.write_obj(old, &to_ts(iv))?;
        t.mm.write_obj(old + 16, &to_ts(left))?;
    }
    Ok(0)
}

pub fn timerfd_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let (left, iv) = timerfd_of(&f)?.get();
    t.mm.write_obj(a[1], &to_ts(iv))?;
    t.mm.write_obj(a[1] + 16, &to_ts(left))?;
    Ok(0)
}
