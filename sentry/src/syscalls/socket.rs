//! Sockets: connected unix socket pairs (no network yet).

use crate::errno::{Errno, SysResult};
use crate::fs::socketpair::SocketEnd;
use crate::kernel::task::Task;
use crate::vfs::File;

pub fn socketpair(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (domain, ty, _proto, sv) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
    match domain {
        libc::AF_UNIX => {}
        // Internet sockets exist but cannot be made in pairs.
        libc::AF_INET | libc::AF_INET6 => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno(libc::EAFNOSUPPORT)),
    }
    let kind = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    if ![libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET].contains(&kind) {
        return Err(Errno::EINVAL);
    }
    let flags = libc::O_RDWR
        | if ty & libc::SOCK_NONBLOCK != 0 {
            libc::O_NONBLOCK
        } else {
            0
        };
    let cloexec = ty & libc::SOCK_CLOEXEC != 0;
    let (a_end, b_end) = SocketEnd::new_pair(kind);
    let fa = t
        .fds
        .insert(File::new(Box::new(a_end), None, flags), cloexec)?;
    let fb = match t
        .fds
        .insert(File::new(Box::new(b_end), None, flags), cloexec)
    {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.fds.remove(fa);
            return Err(e);
        }
    };
    if let Err(e) = t.mm.write_obj(sv, &[fa, fb]) {
        let _ = t.fds.remove(fa);
        let _ = t.fds.remove(fb);
        return Err(e);
    }
    Ok(0)
}

fn socket_file(t: &Task, fd: i32) -> Result<std::sync::Arc<File>, Errno> {
    let f = t.fds.get(fd)?;
    if f.ops
        .as_ref()
        .as_any()
        .downcast_ref::<SocketEnd>()
        .is_none()
    {
        return Err(Errno::ENOTSOCK);
    }
    Ok(f)
}

/// Status flags for one call: MSG_DONTWAIT makes it non-blocking.
fn call_flags(f: &File, msg_flags: i32) -> i32 {
    let mut fl = f.flags();
    if msg_flags & libc::MSG_DONTWAIT != 0 {
        fl |= libc::O_NONBLOCK;
    }
    fl
}

fn transfer(t: &Task, fd: i32, buf: u64, len: u64, msg_flags: i32, send: bool) -> SysResult {
    let f = socket_file(t, fd)?;
    let fl = call_flags(&f, msg_flags);
    let (chunks, _) = t.mm.chunks(buf, len.min(0x7fff_f000) as usize, !send);
    if chunks.is_empty() && len > 0 {
        return Err(Errno::EFAULT);
    }
    let mut total = 0;
    for c in chunks {
        let r = if send {
            f.ops.write_flags(c.as_slice(), 0, fl)
        } else {
            f.ops.read_flags(c.as_mut_slice(), 0, fl)
        };
        match r {
            Ok(n) => {
                total += n;
                if n < c.len || !send {
                    break;
                }
            }
            Err(e) if total == 0 => {
                if send && e == Errno::EPIPE && msg_flags & libc::MSG_NOSIGNAL == 0 {
                    let info = crate::kernel::signal::SigInfo::user(
                        libc::SIGPIPE,
                        libc::SI_USER,
                        t.pid,
                        t.creds.uid,
                    );
                    t.handle.send(info);
                }
                return Err(e);
            }
            Err(_) => break,
        }
    }
    Ok(total as u64)
}

pub fn sendto(t: &mut Task, a: [u64; 6]) -> SysResult {
    transfer(t, a[0] as i32, a[1], a[2], a[3] as i32, true)
}

pub fn recvfrom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let n = transfer(t, a[0] as i32, a[1], a[2], a[3] as i32, false)?;
    if a[5] != 0 {
        t.mm.write_obj(a[5], &0u32)?;
    }
    Ok(n)
}

/// sendmsg/recvmsg over the iovecs of a msghdr (no ancillary data).
fn msg(t: &mut Task, fd: i32, hdr: u64, flags: i32, send: bool) -> SysResult {
    let iov: u64 = t.mm.read_obj(hdr + 16)?;
    let iovlen: u64 = t.mm.read_obj(hdr + 24)?;
    if iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let mut total = 0;
    for i in 0..iovlen {
        let base: u64 = t.mm.read_obj(iov + 16 * i)?;
        let len: u64 = t.mm.read_obj(iov + 16 * i + 8)?;
        if len == 0 {
            continue;
        }
        match transfer(t, fd, base, len, flags, send) {
            Ok(n) => {
                total += n;
                if n < len || !send {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    if !send {
        // No control data, no address, no flags.
        t.mm.write_obj(hdr + 40, &0u64)?;
        t.mm.write_obj(hdr + 48, &0i32)?;
        t.mm.write_obj(hdr + 8, &0u32)?;
    }
    Ok(total)
}

pub fn sendmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    msg(t, a[0] as i32, a[1], a[2] as i32, true)
}

pub fn recvmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    msg(t, a[0] as i32, a[1], a[2] as i32, false)
}

pub fn shutdown(t: &mut Task, a: [u64; 6]) -> SysResult {
    socket_file(t, a[0] as i32)?;
    if a[1] > 2 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn getsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = socket_file(t, a[0] as i32)?;
    let kind = f
        .ops
        .as_ref()
        .as_any()
        .downcast_ref::<SocketEnd>()
        .map_or(libc::SOCK_STREAM, |s| s.kind);
    let (level, name, val, lenp) = (a[1] as i32, a[2] as i32, a[3], a[4]);
    if level != libc::SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT);
    }
    let v: i32 = match name {
        libc::SO_TYPE => kind,
        libc::SO_ERROR => 0,
        libc::SO_DOMAIN => libc::AF_UNIX,
        libc::SO_RCVBUF | libc::SO_SNDBUF => crate::fs::pipe::PIPE_SIZE as i32,
        libc::SO_ACCEPTCONN => 0,
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let len: u32 = t.mm.read_obj(lenp)?;
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    t.mm.write_obj(val, &v)?;
    t.mm.write_obj(lenp, &4u32)?;
    Ok(0)
}

pub fn setsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    socket_file(t, a[0] as i32)?;
    Ok(0)
}

/// getsockname/getpeername: an unnamed unix socket.
pub fn getname(t: &mut Task, a: [u64; 6]) -> SysResult {
    socket_file(t, a[0] as i32)?;
    let len: u32 = t.mm.read_obj(a[2])?;
    if len >= 2 {
        t.mm.write_obj(a[1], &(libc::AF_UNIX as u16))?;
    }
    t.mm.write_obj(a[2], &2u32)?;
    Ok(0)
}
