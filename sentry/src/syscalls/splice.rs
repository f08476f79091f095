//! Moving data between files without the application's memory: sendfile,
//! splice, tee, vmsplice and copy_file_range.

use std::sync::Arc;

use super::SysResult;
use crate::errno::Errno;
use crate::kernel::task::Task;
use crate::vfs::File;

/// Bytes moved per step.
const CHUNK: usize = 64 * 1024;

/// Where one side of a copy reads or writes: an explicit position (which
/// leaves the file offset alone) or the file offset.
#[derive(Clone, Copy)]
enum Pos {
    At(u64),
    Offset,
}

/// One side of a copy.
struct Side<'a> {
    file: &'a Arc<File>,
    pos: Pos,
    /// Extra status flags for this side (O_NONBLOCK from SPLICE_F_NONBLOCK).
    flags: i32,
}

impl<'a> Side<'a> {
    /// A side at explicit position `at`, else at the file offset.
    fn new(file: &'a Arc<File>, at: Option<u64>, flags: i32) -> Side<'a> {
        Side {
            file,
            pos: at.map_or(Pos::Offset, Pos::At),
            flags,
        }
    }

    /// Hands an explicit position back to the loff_t at `addr`.
    fn report(&self, t: &Task, addr: u64) -> Result<(), Errno> {
        if let Pos::At(p) = self.pos {
            t.mm.write_obj(addr, &(p as i64))?;
        }
        Ok(())
    }

    fn start(&self) -> u64 {
        match self.pos {
            Pos::At(p) => p,
            Pos::Offset if self.file.ops.seekable() => *self.file.offset.lock(),
            Pos::Offset => 0,
        }
    }

    fn advance(&mut self, n: u64) {
        match &mut self.pos {
            Pos::At(p) => *p += n,
            Pos::Offset if self.file.ops.seekable() => *self.file.offset.lock() += n,
            Pos::Offset => {}
        }
    }

    fn flags(&self) -> i32 {
        self.file.flags() | self.flags
    }
}

/// Copies up to `count` bytes from `src` to `dst` through a sentry buffer.
/// Like a read, it stops early at end of file, and after the first step
/// that a stream source did not fill; the source only advances by what was
/// written.
fn copy(src: &mut Side, dst: &mut Side, count: u64) -> Result<u64, Errno> {
    let mut buf = vec![0u8; CHUNK.min(count as usize)];
    let mut total = 0u64;
    let stream = !src.file.ops.seekable();
    while total < count {
        let want = buf.len().min((count - total) as usize);
        let r = src
            .file
            .ops
            .read_flags(&mut buf[..want], src.start(), src.flags());
        let n = match r {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let mut written = 0;
        while written < n {
            match dst
                .file
                .ops
                .write_flags(&buf[written..n], dst.start(), dst.flags())
            {
                Ok(0) => break,
                Ok(w) => {
                    written += w;
                    dst.advance(w as u64);
                }
                Err(e) if total == 0 && written == 0 => return Err(e),
                Err(_) => break,
            }
        }
        src.advance(written as u64);
        total += written as u64;
        if written < n || n < want || stream {
            break;
        }
    }
    Ok(total)
}

/// Reads the u64 position at `addr` (a loff_t pointer), if any.
fn read_pos(t: &Task, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let p: i64 = t.mm.read_obj(addr)?;
    if p < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(p as u64))
}

fn is_pipe(f: &File) -> Result<bool, Errno> {
    Ok(f.ops.stat()?.file_type() == libc::S_IFIFO)
}

/// sendfile(out_fd, in_fd, offset, count).
pub fn sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    // Linux's order of checks: the input, its offset, then the output.
    let inp = t.fds.get(a[1] as i32)?;
    if !inp.readable() {
        return Err(Errno::EBADF);
    }
    if a[2] != 0 && !inp.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let at = read_pos(t, a[2])?;
    let out = t.fds.get(a[0] as i32)?;
    if !out.writable() {
        return Err(Errno::EBADF);
    }
    if out.flags() & libc::O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let mut src = Side::new(&inp, at, 0);
    let mut dst = Side::new(&out, None, 0);
    let n = copy(&mut src, &mut dst, a[3].min(super::fs::MAX_RW))?;
    src.report(t, a[2])?;
    Ok(n)
}

const SPLICE_F_NONBLOCK: u64 = 2;

/// splice(fd_in, off_in, fd_out, off_out, len, flags): one side a pipe.
pub fn splice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (inp, out) = (t.fds.get(a[0] as i32)?, t.fds.get(a[2] as i32)?);
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let (in_pipe, out_pipe) = (is_pipe(&inp)?, is_pipe(&out)?);
    if !in_pipe && !out_pipe {
        return Err(Errno::EINVAL);
    }
    if (in_pipe && a[1] != 0) || (out_pipe && a[3] != 0) {
        return Err(Errno::ESPIPE);
    }
    if out.flags() & libc::O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let (at_in, at_out) = (read_pos(t, a[1])?, read_pos(t, a[3])?);
    let nonblock = if a[5] & SPLICE_F_NONBLOCK != 0 {
        libc::O_NONBLOCK
    } else {
        0
    };
    let mut src = Side::new(&inp, at_in, if in_pipe { nonblock } else { 0 });
    let mut dst = Side::new(&out, at_out, if out_pipe { nonblock } else { 0 });
    let n = copy(&mut src, &mut dst, a[4].min(super::fs::MAX_RW))?;
    src.report(t, a[1])?;
    dst.report(t, a[3])?;
    Ok(n)
}

/// tee(fd_in, fd_out, len, flags): copies from one pipe to another without
/// consuming.
pub fn tee(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (inp, out) = (t.fds.get(a[0] as i32)?, t.fds.get(a[1] as i32)?);
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let (si, so) = (inp.ops.stat()?, out.ops.stat()?);
    let fifo = |s: &crate::vfs::Stat| s.file_type() == libc::S_IFIFO;
    if !fifo(&si) || !fifo(&so) || (si.dev, si.ino) == (so.dev, so.ino) {
        return Err(Errno::EINVAL);
    }
    let nonblock = if a[3] & SPLICE_F_NONBLOCK != 0 {
        libc::O_NONBLOCK
    } else {
        0
    };
    let mut buf = vec![0u8; CHUNK.min(a[2] as usize)];
    if buf.is_empty() {
        return Ok(0);
    }
    let n = inp.ops.peek(&mut buf, inp.flags() | nonblock)?;
    out.ops
        .write_flags(&buf[..n], 0, out.flags() | nonblock)
        .map(|w| w as u64)
}

/// vmsplice(fd, iov, nr_segs, flags): the pipe's writev (or readv for its
/// read end).
pub fn vmsplice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    if !is_pipe(&f)? {
        return Err(Errno::EBADF);
    }
    let write = f.writable();
    super::fs::vectored(t, a[0], a[1], a[2], None, write)
}

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags).
pub fn copy_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[5] != 0 {
        return Err(Errno::EINVAL);
    }
    let (inp, out) = (t.fds.get(a[0] as i32)?, t.fds.get(a[2] as i32)?);
    if !inp.readable() || !out.writable() || out.flags() & libc::O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let (si, so) = (inp.ops.stat()?, out.ops.stat()?);
    if si.is_dir() || so.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !si.is_reg() || !so.is_reg() {
        return Err(Errno::EINVAL);
    }
    let (at_in, at_out) = (read_pos(t, a[1])?, read_pos(t, a[3])?);
    let len = a[4].min(super::fs::MAX_RW);
    let mut src = Side::new(&inp, at_in, 0);
    let mut dst = Side::new(&out, at_out, 0);
    if (si.dev, si.ino) == (so.dev, so.ino) {
        let (s, d) = (src.start(), dst.start());
        if s < d.saturating_add(len) && d < s.saturating_add(len) {
            return Err(Errno::EINVAL);
        }
    }
    let n = copy(&mut src, &mut dst, len)?;
    src.report(t, a[1])?;
    dst.report(t, a[3])?;
    Ok(n)
}
