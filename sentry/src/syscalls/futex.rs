//! futex(2).

use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAKE_OP: i32 = 5;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE_BITSET: i32 = 10;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;

fn key(t: &Task, addr: u64, private: bool) -> Result<(usize, u64), Errno> {
    t.mm.futex_key(addr, private)
}

fn deadline(t: &Task, ts: u64, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if ts == 0 {
        return Ok(None);
    }
    let v: libc::timespec = t.mm.read_obj(ts)?;
    if v.tv_sec < 0 || !(0..1_000_000_000).contains(&v.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    let d = Duration::new(v.tv_sec as u64, v.tv_nsec as u32);
    if !absolute {
        return Ok(Some(Instant::now() + d));
    }
    let clock = if realtime {
        libc::CLOCK_REALTIME
    } else {
        libc::CLOCK_MONOTONIC
    };
    let mut now: libc::timespec = crate::mm::Plain::zeroed();
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    Ok(Some(Instant::now() + d.saturating_sub(now)))
}

fn wait(
    t: &Task,
    addr: u64,
    val: u32,
    dl: Option<Instant>,
    bitset: u32,
    private: bool,
) -> SysResult {
    let k = key(t, addr, private)?;
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let kernel = t.kernel.clone();
    kernel
        .futexes
        .wait(k, bitset, dl, || Ok(t.mm.read_obj::<u32>(addr)? == val))?;
    Ok(0)
}

/// Applies a FUTEX_WAKE_OP operation to the word at `addr`; returns whether
/// the comparison holds for its old value.
fn wake_op(t: &Task, addr: u64, op: u32) -> Result<bool, Errno> {
    let (kind, cmp) = ((op >> 28) & 0xf, (op >> 24) & 0xf);
    let mut oparg = (op >> 12) & 0xfff;
    let cmparg = op & 0xfff;
    if kind & 8 != 0 {
        oparg = 1u32.checked_shl(oparg).unwrap_or(0);
    }
    let old: u32 = t.mm.read_obj(addr)?;
    let new = match kind & 7 {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    t.mm.write_obj(addr, &new)?;
    let (o, c) = (old as i32, cmparg as i32);
    Ok(match cmp {
        0 => o == c,
        1 => o != c,
        2 => o < c,
        3 => o <= c,
        4 => o > c,
        5 => o >= c,
        _ => return Err(Errno::ENOSYS),
    })
}

pub fn futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, op, val, ts, addr2, val3) =
        (a[0], a[1] as i32, a[2] as u32, a[3], a[4], a[5] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT => {
            let dl = deadline(t, ts, false, realtime)?;
            wait(t, addr, val, dl, u32::MAX, private)
        }
        FUTEX_WAIT_BITSET => {
            let dl = deadline(t, ts, true, realtime)?;
            wait(t, addr, val, dl, val3, private)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { u32::MAX } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(t.kernel
                .futexes
                .wake(key(t, addr, private)?, val as usize, bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (val as i32) < 0 || (ts as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            if cmd == FUTEX_CMP_REQUEUE && t.mm.read_obj::<u32>(addr)? != val3 {
                return Err(Errno::EAGAIN);
            }
            let (from, to) = (key(t, addr, private)?, key(t, addr2, private)?);
            Ok(t.kernel
                .futexes
                .requeue(from, to, val as usize, ts as usize) as u64)
        }
        FUTEX_WAKE_OP => {
            let (k1, k2) = (key(t, addr, private)?, key(t, addr2, private)?);
            let cond = wake_op(t, addr2, val3)?;
            let mut n = t.kernel.futexes.wake(k1, val as usize, u32::MAX);
            if cond {
                n += t.kernel.futexes.wake(k2, ts as usize, u32::MAX);
            }
            Ok(n as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}
