//! poll, ppoll, select and pselect6.
//!
//! Readiness is asked of each file; when nothing is ready the task sleeps
//! in short, growing steps (50 us to 5 ms), so a wakeup is seen within a few
//! milliseconds. Signals interrupt the sleep at once.

use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;

const NFDS_MAX: u64 = 1 << 20;

/// One polled fd.
#[derive(Clone, Copy)]
struct Want {
    fd: i32,
    events: u32,
}

/// Readiness of each fd (POLLNVAL for a bad fd), masked with what was asked
/// (errors and hangups are always reported).
fn check(t: &Task, wants: &[Want]) -> Vec<u32> {
    wants
        .iter()
        .map(|w| {
            if w.fd < 0 {
                return 0;
            }
            match t.fds.get(w.fd) {
                Ok(f) => {
                    let always = (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) as u32;
                    f.ops.poll() & (w.events | always)
                }
                Err(_) => libc::POLLNVAL as u32,
            }
        })
        .collect()
}

/// Calls `ready` until it returns Some or `deadline` passes (then None),
/// sleeping in growing steps in between; a signal ends the wait (ERESTART*).
pub fn poll_loop<T>(
    deadline: Option<Instant>,
    mut ready: impl FnMut() -> Option<T>,
) -> Result<Option<T>, Errno> {
    let mut step = Duration::from_micros(50);
    loop {
        if let Some(v) = ready() {
            return Ok(Some(v));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        let mut until = now + step;
        if let Some(d) = deadline {
            until = until.min(d);
        }
        crate::kernel::wait::sleep(Some(until))?;
        step = (step * 2).min(Duration::from_millis(5));
    }
}

/// Waits until some fd is ready or `deadline`; Ok(revents) or ERESTART*.
fn wait_ready(t: &Task, wants: &[Want], deadline: Option<Instant>) -> Result<Vec<u32>, Errno> {
    let found = poll_loop(deadline, || {
        let r = check(t, wants);
        r.iter().any(|&e| e != 0).then_some(r)
    })?;
    Ok(found.unwrap_or_else(|| vec![0; wants.len()]))
}

fn read_pollfds(t: &Task, addr: u64, n: u64) -> Result<Vec<Want>, Errno> {
    if n > NFDS_MAX {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; n as usize * 8];
    t.mm.copy_in(addr, &mut raw)?;
    Ok(raw
        .chunks(8)
        .map(|c| Want {
            fd: i32::from_le_bytes(c[0..4].try_into().unwrap()),
            events: u16::from_le_bytes(c[4..6].try_into().unwrap()) as u32,
        })
        .collect())
}

fn do_poll(t: &mut Task, addr: u64, n: u64, deadline: Option<Instant>) -> SysResult {
    let wants = read_pollfds(t, addr, n)?;
    let revents = wait_ready(t, &wants, deadline)?;
    let mut raw = vec![0u8; n as usize * 8];
    let mut count = 0;
    for (i, (w, r)) in wants.iter().zip(&revents).enumerate() {
        raw[i * 8..i * 8 + 4].copy_from_slice(&w.fd.to_le_bytes());
        raw[i * 8 + 4..i * 8 + 6].copy_from_slice(&(w.events as u16).to_le_bytes());
        raw[i * 8 + 6..i * 8 + 8].copy_from_slice(&(*r as u16).to_le_bytes());
        count += u64::from(*r != 0);
    }
    t.mm.copy_out(addr, &raw)?;
    Ok(count)
}

pub fn timespec_deadline(t: &Task, addr: u64) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ts: libc::timespec = t.mm.read_obj(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Some(
        Instant::now() + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
    ))
}

/// Applies a temporary signal mask for ppoll/pselect; the old one comes
/// back after a handler runs (like sigsuspend) or when the call returns.
pub fn with_mask(
    t: &mut Task,
    mask_addr: u64,
    size: u64,
    f: impl FnOnce(&mut Task) -> SysResult,
) -> SysResult {
    if mask_addr == 0 {
        return f(t);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.read_obj(mask_addr)?;
    let old = t.sigmask();
    t.set_sigmask(mask);
    let r = f(t);
    match r {
        Err(e) if e.is_restart() || e == Errno::EINTR => t.saved_mask = Some(old),
        _ => t.set_sigmask(old),
    }
    r.map_err(|e| {
        if e.is_restart() {
            Errno::ERESTARTNOHAND
        } else {
            e
        }
    })
}

pub fn poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ms = a[2] as i32;
    let deadline = (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64));
    do_poll(t, a[0], a[1], deadline).map_err(|e| {
        if e.is_restart() {
            Errno::ERESTARTNOHAND
        } else {
            e
        }
    })
}

pub fn ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = timespec_deadline(t, a[2])?;
    with_mask(t, a[3], a[4], |t| do_poll(t, a[0], a[1], deadline))
}

fn do_select(t: &mut Task, n: u64, sets: [u64; 3], deadline: Option<Instant>) -> SysResult {
    let n = n as i32;
    if n < 0 || n as u64 > NFDS_MAX {
        return Err(Errno::EINVAL);
    }
    let words = (n as usize).div_ceil(64);
    let mut bits = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for (set, &addr) in bits.iter_mut().zip(&sets) {
        if addr != 0 {
            for (w, word) in set.iter_mut().enumerate() {
                *word = t.mm.read_obj(addr + 8 * w as u64)?;
            }
        }
    }
    let events = [
        (libc::POLLIN | libc::POLLRDNORM | libc::POLLHUP | libc::POLLERR) as u32,
        (libc::POLLOUT | libc::POLLWRNORM | libc::POLLERR) as u32,
        libc::POLLPRI as u32,
    ];
    let mut wants = Vec::new();
    for fd in 0..n {
        let (w, b) = (fd as usize / 64, 1u64 << (fd % 64));
        let ev = (0..3)
            .filter(|&k| bits[k][w] & b != 0)
            .fold(0, |e, k| e | events[k]);
        if ev != 0 {
            if t.fds.get(fd).is_err() {
                return Err(Errno::EBADF);
            }
            wants.push(Want { fd, events: ev });
        }
    }
    let revents = wait_ready(t, &wants, deadline)?;
    let mut out = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    let mut count = 0;
    for (want, r) in wants.iter().zip(&revents) {
        let (w, b) = (want.fd as usize / 64, 1u64 << (want.fd % 64));
        for k in 0..3 {
            if bits[k][w] & b != 0 && r & events[k] != 0 {
                out[k][w] |= b;
                count += 1;
            }
        }
    }
    for (set, &addr) in out.iter().zip(&sets) {
        if addr != 0 {
            for (w, word) in set.iter().enumerate() {
                t.mm.write_obj(addr + 8 * w as u64, word)?;
            }
        }
    }
    Ok(count)
}

pub fn select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[4] != 0 {
        let tv: libc::timeval = t.mm.read_obj(a[4])?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Some(Instant::now() + Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
    } else {
        None
    };
    do_select(t, a[0], [a[1], a[2], a[3]], deadline).map_err(|e| {
        if e.is_restart() {
            Errno::ERESTARTNOHAND
        } else {
            e
        }
    })
}

pub fn pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = timespec_deadline(t, a[4])?;
    // The sixth argument points at { sigset_t *mask; size_t size }.
    let (mask, size) = if a[5] != 0 {
        (t.mm.read_obj::<u64>(a[5])?, t.mm.read_obj::<u64>(a[5] + 8)?)
    } else {
        (0, 0)
    };
    with_mask(t, mask, size, |t| {
        do_select(t, a[0], [a[1], a[2], a[3]], deadline)
    })
}
