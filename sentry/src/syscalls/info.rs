//! Identity and system information: ids, uname, sysinfo, limits, randomness.

use crate::errno::{Errno, SysResult};
use crate::kernel::task::{Task, NLIMITS};
use crate::mm::Plain;

/// The kernel release the sandbox reports.
pub const RELEASE: &str = "6.1.0";
/// The kernel version string the sandbox reports.
pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC runsc";

pub fn getpid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.pid as u64)
}

pub fn gettid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}

pub fn getppid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.kernel.procs.parent(t.pid) as u64)
}

pub fn getuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.uid as u64)
}

pub fn geteuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.euid as u64)
}

pub fn getgid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.gid as u64)
}

pub fn getegid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.egid as u64)
}

pub fn getresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.write_obj(a[0], &t.creds.uid)?;
    t.mm.write_obj(a[1], &t.creds.euid)?;
    t.mm.write_obj(a[2], &t.creds.suid)?;
    Ok(0)
}

pub fn getresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.write_obj(a[0], &t.creds.gid)?;
    t.mm.write_obj(a[1], &t.creds.egid)?;
    t.mm.write_obj(a[2], &t.creds.sgid)?;
    Ok(0)
}

pub fn getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let groups = &t.creds.groups;
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    t.mm.copy_out(a[1], &bytes)?;
    Ok(groups.len() as u64)
}

fn fill(dst: &mut [libc::c_char], s: &str) {
    for (d, b) in dst.iter_mut().zip(s.bytes().take(64)) {
        *d = b as libc::c_char;
    }
}

pub fn uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut u: libc::utsname = Plain::zeroed();
    fill(&mut u.sysname, "Linux");
    fill(&mut u.nodename, &t.kernel.config.hostname);
    fill(&mut u.release, RELEASE);
    fill(&mut u.version, VERSION);
    fill(&mut u.machine, "x86_64");
    fill(&mut u.domainname, "(none)");
    t.mm.write_obj(a[0], &u)?;
    Ok(0)
}

pub fn sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut host: libc::sysinfo = Plain::zeroed();
    // SAFETY: valid out pointer.
    unsafe { libc::sysinfo(&mut host) };
    let mut s: libc::sysinfo = Plain::zeroed();
    s.uptime = t.kernel.boot.elapsed().as_secs() as i64;
    s.totalram = host.totalram;
    s.freeram = host.freeram;
    s.mem_unit = host.mem_unit;
    s.procs = 1;
    t.mm.write_obj(a[0], &s)?;
    Ok(0)
}

fn limit_index(r: u64) -> Result<usize, Errno> {
    if r as usize >= NLIMITS {
        return Err(Errno::EINVAL);
    }
    Ok(r as usize)
}

pub fn getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (cur, max) = t.rlimits[limit_index(a[0])?];
    t.mm.write_obj(a[1], &[cur, max])?;
    Ok(0)
}

fn set_limit(t: &mut Task, res: usize, new: [u64; 2]) -> Result<(), Errno> {
    if new[0] > new[1] {
        return Err(Errno::EINVAL);
    }
    let old = t.rlimits[res];
    if new[1] > old.1 && t.creds.euid != 0 {
        return Err(Errno::EPERM);
    }
    if res == libc::RLIMIT_NOFILE as usize && new[1] > crate::vfs::fdtable::NOFILE as u64 {
        return Err(Errno::EPERM);
    }
    t.rlimits[res] = (new[0], new[1]);
    Ok(())
}

pub fn setrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    let res = limit_index(a[0])?;
    let new: [u64; 2] = t.mm.read_obj(a[1])?;
    set_limit(t, res, new).map(|_| 0)
}

pub fn prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, res, new, old) = (a[0] as i32, a[1], a[2], a[3]);
    if pid != 0 && pid != t.pid {
        return Err(Errno::ESRCH);
    }
    let res = limit_index(res)?;
    let new = if new != 0 {
        Some(t.mm.read_obj::<[u64; 2]>(new)?)
    } else {
        None
    };
    if old != 0 {
        let (cur, max) = t.rlimits[res];
        t.mm.write_obj(old, &[cur, max])?;
    }
    if let Some(n) = new {
        set_limit(t, res, n)?;
    }
    Ok(0)
}

pub fn getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (buf, len, flags) = (a[0], a[1] as usize, a[2] as u32);
    let known = libc::GRND_NONBLOCK | libc::GRND_RANDOM | libc::GRND_INSECURE;
    if flags & !known != 0
        || flags & (libc::GRND_RANDOM | libc::GRND_INSECURE) == known & !libc::GRND_NONBLOCK
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(33_554_431);
    if len == 0 {
        return Ok(0);
    }
    let (chunks, _) = t.mm.chunks(buf, len, true);
    if chunks.is_empty() {
        return Err(Errno::EFAULT);
    }
    let mut total = 0;
    for c in chunks {
        crate::loader::getrandom(c.as_mut_slice());
        total += c.len;
    }
    Ok(total as u64)
}
