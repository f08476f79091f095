//! Credentials: the setuid/setgid families, supplementary groups, and
//! capabilities (root holds all, others none, as without file capabilities).

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;

/// All capabilities up to CAP_CHECKPOINT_RESTORE.
pub const ALL_CAPS: u64 = (1 << 41) - 1;
const NO_CHANGE: u32 = u32::MAX;

fn privileged(t: &Task) -> bool {
    t.creds.euid == 0
}

/// Applies Linux's rules for setres[ug]id to one id triple.
fn set_res(
    cur: (u32, u32, u32),
    new: (u32, u32, u32),
    privileged: bool,
) -> Result<(u32, u32, u32), Errno> {
    let allowed = |v: u32| v == NO_CHANGE || privileged || v == cur.0 || v == cur.1 || v == cur.2;
    if !(allowed(new.0) && allowed(new.1) && allowed(new.2)) {
        return Err(Errno::EPERM);
    }
    let pick = |v: u32, old: u32| if v == NO_CHANGE { old } else { v };
    Ok((pick(new.0, cur.0), pick(new.1, cur.1), pick(new.2, cur.2)))
}

fn set_uids(t: &mut Task, r: (u32, u32, u32)) {
    let was_root = t.creds.euid == 0;
    (t.creds.uid, t.creds.euid, t.creds.suid) = r;
    t.creds.fsuid = r.1;
    if was_root && r.1 != 0 {
        t.creds.caps_effective = 0;
    }
    if r.1 == 0 {
        t.creds.caps_effective = t.creds.caps_permitted;
    }
    if r.0 != 0 && r.1 != 0 && r.2 != 0 {
        t.creds.caps_permitted = 0;
        t.creds.caps_effective = 0;
    }
}

pub fn setresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = (t.creds.uid, t.creds.euid, t.creds.suid);
    let r = set_res(cur, (a[0] as u32, a[1] as u32, a[2] as u32), privileged(t))?;
    set_uids(t, r);
    Ok(0)
}

pub fn setresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = (t.creds.gid, t.creds.egid, t.creds.sgid);
    let r = set_res(cur, (a[0] as u32, a[1] as u32, a[2] as u32), privileged(t))?;
    (t.creds.gid, t.creds.egid, t.creds.sgid) = r;
    t.creds.fsgid = r.1;
    Ok(0)
}

pub fn setuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let uid = a[0] as u32;
    if uid == NO_CHANGE {
        return Err(Errno::EINVAL);
    }
    if privileged(t) {
        set_uids(t, (uid, uid, uid));
    } else if uid == t.creds.uid || uid == t.creds.suid {
        let (r, s) = (t.creds.uid, t.creds.suid);
        set_uids(t, (r, uid, s));
    } else {
        return Err(Errno::EPERM);
    }
    Ok(0)
}

pub fn setgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let gid = a[0] as u32;
    if gid == NO_CHANGE {
        return Err(Errno::EINVAL);
    }
    if privileged(t) {
        (t.creds.gid, t.creds.egid, t.creds.sgid) = (gid, gid, gid);
    } else if gid == t.creds.gid || gid == t.creds.sgid {
        t.creds.egid = gid;
    } else {
        return Err(Errno::EPERM);
    }
    t.creds.fsgid = t.creds.egid;
    Ok(0)
}

/// setreuid/setregid: the real id may become the real or effective one;
/// the effective one any of the three; the saved id follows the effective
/// one when the real id changes or the effective one differs from the old real.
fn set_re(
    cur: (u32, u32, u32),
    r: u32,
    e: u32,
    privileged: bool,
) -> Result<(u32, u32, u32), Errno> {
    if !privileged {
        if r != NO_CHANGE && r != cur.0 && r != cur.1 {
            return Err(Errno::EPERM);
        }
        if e != NO_CHANGE && e != cur.0 && e != cur.1 && e != cur.2 {
            return Err(Errno::EPERM);
        }
    }
    let nr = if r == NO_CHANGE { cur.0 } else { r };
    let ne = if e == NO_CHANGE { cur.1 } else { e };
    let ns = if r != NO_CHANGE || (e != NO_CHANGE && e != cur.0) {
        ne
    } else {
        cur.2
    };
    Ok((nr, ne, ns))
}

pub fn setreuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = (t.creds.uid, t.creds.euid, t.creds.suid);
    let r = set_re(cur, a[0] as u32, a[1] as u32, privileged(t))?;
    set_uids(t, r);
    Ok(0)
}

pub fn setregid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = (t.creds.gid, t.creds.egid, t.creds.sgid);
    let r = set_re(cur, a[0] as u32, a[1] as u32, privileged(t))?;
    (t.creds.gid, t.creds.egid, t.creds.sgid) = r;
    t.creds.fsgid = r.1;
    Ok(0)
}

pub fn setfsuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.creds.fsuid;
    let new = a[0] as u32;
    let c = &t.creds;
    if new != NO_CHANGE && (privileged(t) || [c.uid, c.euid, c.suid, c.fsuid].contains(&new)) {
        t.creds.fsuid = new;
    }
    Ok(old as u64)
}

pub fn setfsgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.creds.fsgid;
    let new = a[0] as u32;
    let c = &t.creds;
    if new != NO_CHANGE && (privileged(t) || [c.gid, c.egid, c.sgid, c.fsgid].contains(&new)) {
        t.creds.fsgid = new;
    }
    Ok(old as u64)
}

pub fn setgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let n = a[0] as i32;
    if !(0..=65536).contains(&n) {
        return Err(Errno::EINVAL);
    }
    if !privileged(t) {
        return Err(Errno::EPERM);
    }
    let mut groups = Vec::with_capacity(n as usize);
    for i in 0..n as u64 {
        groups.push(t.mm.read_obj::<u32>(a[1] + 4 * i)?);
    }
    t.creds.groups = groups;
    Ok(0)
}

const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// Reads the header; an unknown version gets the preferred one written back.
fn cap_header(t: &Task, hdr: u64) -> Result<(u32, i32), Errno> {
    let version: u32 = t.mm.read_obj(hdr)?;
    let pid: i32 = t.mm.read_obj(hdr + 4)?;
    if ![CAP_V1, CAP_V2, CAP_V3].contains(&version) {
        t.mm.write_obj(hdr, &CAP_V3)?;
        return Err(Errno::EINVAL);
    }
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    Ok((version, pid))
}

pub fn capget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (version, pid) = match cap_header(t, a[0]) {
        // A probe for the preferred version (NULL data) succeeds.
        Err(Errno::EINVAL) if a[1] == 0 && t.mm.read_obj::<i32>(a[0] + 4)? >= 0 => return Ok(0),
        r => r?,
    };
    if pid != 0 && pid != t.tid && !t.kernel.tasks.lock().contains_key(&pid) {
        return Err(Errno::ESRCH);
    }
    if a[1] == 0 {
        return Ok(0);
    }
    let c = &t.creds;
    let words = if version == CAP_V1 { 1 } else { 2 };
    for w in 0..words {
        let shift = 32 * w;
        let data = [
            (c.caps_effective >> shift) as u32,
            (c.caps_permitted >> shift) as u32,
            (c.caps_inheritable >> shift) as u32,
        ];
        for (i, v) in data.iter().enumerate() {
            t.mm.write_obj(a[1] + 12 * w + 4 * i as u64, v)?;
        }
    }
    Ok(0)
}

pub fn capset(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (version, pid) = cap_header(t, a[0])?;
    if pid != 0 && pid != t.tid {
        return Err(Errno::EPERM);
    }
    let words = if version == CAP_V1 { 1 } else { 2 };
    let (mut eff, mut perm, mut inh) = (0u64, 0u64, 0u64);
    for w in 0..words {
        let shift = 32 * w;
        eff |= (t.mm.read_obj::<u32>(a[1] + 12 * w)? as u64) << shift;
        perm |= (t.mm.read_obj::<u32>(a[1] + 12 * w + 4)? as u64) << shift;
        inh |= (t.mm.read_obj::<u32>(a[1] + 12 * w + 8)? as u64) << shift;
    }
    let c = &t.creds;
    if perm & !c.caps_permitted != 0
        || eff & !perm != 0
        || inh & !(c.caps_inheritable | c.caps_permitted) != 0
    {
        return Err(Errno::EPERM);
    }
    t.creds.caps_effective = eff;
    t.creds.caps_permitted = perm;
    t.creds.caps_inheritable = inh;
    Ok(0)
}
