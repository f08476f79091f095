//! Memory syscalls: mmap, munmap, mprotect, mremap, brk, madvise, msync.

use platform::Perms;

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;
use crate::mm::{Backing, Placement, PAGE};

const PROT_ALL: i32 = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
const PROT_GROWS: i32 = libc::PROT_GROWSDOWN | libc::PROT_GROWSUP;

/// ENOMEM if `more` bytes of mappings would exceed RLIMIT_AS.
fn check_as(t: &Task, more: u64) -> Result<(), Errno> {
    let limit = t.rlimits[libc::RLIMIT_AS as usize].0;
    if limit != u64::MAX && t.mm.mapped_bytes().saturating_add(more) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

pub fn mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, prot, flags, fd, off) =
        (a[0], a[1], a[2] as i32, a[3] as i32, a[4] as i32, a[5]);
    let shared = match flags & libc::MAP_SHARED_VALIDATE {
        libc::MAP_SHARED | libc::MAP_SHARED_VALIDATE => true,
        libc::MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if len == 0 || !off.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let place = if flags & libc::MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(addr)
    } else if flags & libc::MAP_FIXED != 0 {
        Placement::Fixed(addr)
    } else if flags & libc::MAP_32BIT != 0 && addr == 0 {
        Placement::Hint(0x4000_0000)
    } else {
        Placement::Hint(addr)
    };
    let perms = Perms::from_prot(prot & PROT_ALL);
    check_as(t, crate::mm::page_up(len))?;
    if flags & libc::MAP_ANONYMOUS != 0 {
        return t.mm.mmap(place, len, perms, shared, Backing::Anon);
    }
    let f = t.fds.get(fd)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    if !f.ops.mappable() {
        return Err(Errno::ENODEV);
    }
    if !f.readable() || (shared && perms.write && !f.writable()) {
        return Err(Errno::EACCES);
    }
    let sealed = libc::F_SEAL_WRITE | libc::F_SEAL_FUTURE_WRITE;
    if shared && perms.write && f.ops.seals().is_some_and(|s| s as i32 & sealed != 0) {
        return Err(Errno::EPERM);
    }
    let name = f
        .dentry
        .as_ref()
        .map(|d| String::from_utf8_lossy(&d.path()).into())
        .unwrap_or_else(|| "[anon]".into());
    // Files kept in the memory file share their pages with the mapping.
    if shared {
        if let Some((range, _)) = f.ops.shared_pages() {
            if off + crate::mm::page_up(len) <= range.len {
                let backing = Backing::Shared {
                    range,
                    offset: off,
                    name,
                };
                return t.mm.mmap(place, len, perms, true, backing);
            }
        }
    }
    let backing = Backing::File {
        source: f.clone(),
        offset: off,
        name,
        cache_key: crate::mm::cache_key(&f.ops.stat()?),
    };
    t.mm.mmap(place, len, perms, shared, backing)
}

pub fn munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.munmap(a[0], a[1]).map(|_| 0)
}

pub fn mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let prot = a[2] as i32;
    if prot & !(PROT_ALL | PROT_GROWS) != 0 {
        return Err(Errno::EINVAL);
    }
    t.mm.mprotect(a[0], a[1], Perms::from_prot(prot & PROT_ALL))
        .map(|_| 0)
}

pub fn brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = t.mm.brk(0);
    if a[0] > cur && check_as(t, a[0] - cur).is_err() {
        return Ok(cur);
    }
    Ok(t.mm.brk(a[0]))
}

pub fn mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] as i32;
    let known = libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED | libc::MREMAP_DONTUNMAP;
    if flags & !known != 0 || flags & libc::MREMAP_DONTUNMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let may_move = flags & libc::MREMAP_MAYMOVE != 0;
    if flags & libc::MREMAP_FIXED != 0 && !may_move {
        return Err(Errno::EINVAL);
    }
    let fixed = (flags & libc::MREMAP_FIXED != 0).then_some(a[4]);
    if a[2] > a[1] {
        check_as(t, a[2] - a[1])?;
    }
    t.mm.mremap(a[0], a[1], a[2], may_move, fixed)
}

pub fn madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, advice) = (a[0], a[1], a[2] as i32);
    if !addr.is_multiple_of(PAGE) || (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    t.mm.check_mapped(addr, len)?;
    match advice {
        libc::MADV_DONTNEED => t.mm.discard(addr, len).map(|_| 0),
        libc::MADV_NORMAL
        | libc::MADV_RANDOM
        | libc::MADV_SEQUENTIAL
        | libc::MADV_WILLNEED
        | libc::MADV_FREE
        | libc::MADV_DONTFORK
        | libc::MADV_DOFORK
        | libc::MADV_MERGEABLE
        | libc::MADV_UNMERGEABLE
        | libc::MADV_HUGEPAGE
        | libc::MADV_NOHUGEPAGE
        | libc::MADV_DONTDUMP
        | libc::MADV_DODUMP
        | libc::MADV_COLD
        | libc::MADV_PAGEOUT => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn msync(_t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] as i32;
    let known = libc::MS_ASYNC | libc::MS_SYNC | libc::MS_INVALIDATE;
    if !a[0].is_multiple_of(PAGE)
        || flags & !known != 0
        || flags & (libc::MS_ASYNC | libc::MS_SYNC) == libc::MS_ASYNC | libc::MS_SYNC
    {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// The page range `[addr, addr + len)` covers, for the mlock family (which
/// rounds rather than refusing unaligned addresses); ENOMEM unless it is
/// all mapped.
fn locked_range(t: &Task, addr: u64, len: u64) -> Result<Option<(u64, u64)>, Errno> {
    let start = crate::mm::page_down(addr);
    let end = addr
        .checked_add(len)
        .map(crate::mm::page_up)
        .ok_or(Errno::EINVAL)?;
    if end == start {
        return Ok(None);
    }
    t.mm.check_mapped(start, end - start)?;
    Ok(Some((start, end)))
}

/// `mlock(2)`: sandbox memory is never paged out by the sentry, so a
/// mapped range is as good as locked.
pub fn mlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    locked_range(t, a[0], a[1]).map(|_| 0)
}

/// `mlock2(2)`: as mlock; MLOCK_ONFAULT is the only flag.
pub fn mlock2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MLOCK_ONFAULT: u64 = 1;
    if a[2] & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    locked_range(t, a[0], a[1]).map(|_| 0)
}

/// `munlock(2)`.
pub fn munlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    locked_range(t, a[0], a[1]).map(|_| 0)
}

/// `mlockall(2)`: MCL_CURRENT and/or MCL_FUTURE, with MCL_ONFAULT.
pub fn mlockall(_t: &mut Task, a: [u64; 6]) -> SysResult {
    let (current, future, onfault) = (1, 2, 4);
    let flags = a[0];
    if flags == 0 || flags & !(current | future | onfault) != 0 || flags == onfault {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `munlockall(2)`.
pub fn munlockall(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

/// `mincore(2)`: every mapped page is resident (the sentry does not swap).
pub fn mincore(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, vec) = (a[0], a[1], a[2]);
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let end = addr
        .checked_add(len)
        .map(crate::mm::page_up)
        .ok_or(Errno::ENOMEM)?;
    if end == addr {
        return Ok(0);
    }
    t.mm.check_mapped(addr, end - addr)?;
    let pages = ((end - addr) / PAGE) as usize;
    t.mm.copy_out(vec, &vec![1u8; pages])?;
    Ok(0)
}
