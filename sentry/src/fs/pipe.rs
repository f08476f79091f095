//! Pipes: a bounded byte queue between a read end and a write end.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::vfs::{FileOps, Stat};

/// Default pipe capacity (Linux: 16 pages).
pub const PIPE_SIZE: usize = 65536;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// The largest F_SETPIPE_SZ (Linux's default /proc/sys/fs/pipe-max-size).
pub const MAX_PIPE_SIZE: usize = 1 << 20;

struct State {
    buf: VecDeque<u8>,
    /// Capacity (F_SETPIPE_SZ).
    cap: usize,
    readers: usize,
    writers: usize,
    /// Opens of each end so far (a FIFO's blocking open waits for the
    /// other end's count to move, as Linux's r/w counters).
    read_opens: u64,
    write_opens: u64,
}

/// The shared part of a pipe.
pub struct Pipe {
    state: Mutex<State>,
    changed: Condvar,
    stat: Stat,
}

impl Pipe {
    /// A new pipe with one reader and one writer; returns (read end, write end).
    pub fn new_pair() -> (Box<dyn FileOps>, Box<dyn FileOps>) {
        static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let pipe = Arc::new(Pipe {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                cap: PIPE_SIZE,
                readers: 1,
                writers: 1,
                read_opens: 1,
                write_opens: 1,
            }),
            changed: Condvar::new(),
            stat: Stat::anon(
                0xc,
                NEXT_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                libc::S_IFIFO | 0o600,
            ),
        });
        (
            Box::new(PipeEnd {
                pipe: pipe.clone(),
                read: true,
                write: false,
            }),
            Box::new(PipeEnd {
                pipe,
                read: false,
                write: true,
            }),
        )
    }
}

/// A named pipe (FIFO): every open of it joins one pipe.
pub struct Fifo(Arc<Pipe>);

impl Fifo {
    /// A FIFO with nobody at either end.
    pub fn new(stat: Stat) -> Fifo {
        Fifo(Arc::new(Pipe {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                cap: PIPE_SIZE,
                readers: 0,
                writers: 0,
                read_opens: 0,
                write_opens: 0,
            }),
            changed: Condvar::new(),
            stat,
        }))
    }

    /// Opens an end as open(2) with `flags` does: a reader waits for a
    /// writer and a writer for a reader, unless O_NONBLOCK (then a writer
    /// without readers gets ENXIO); O_RDWR opens both ends at once.
    pub fn open(&self, flags: i32) -> Result<PipeEnd, Errno> {
        let (read, write) = match flags & libc::O_ACCMODE {
            libc::O_RDONLY => (true, false),
            libc::O_WRONLY => (false, true),
            _ => (true, true),
        };
        let nonblock = flags & libc::O_NONBLOCK != 0;
        if write && !read && nonblock && self.0.state.lock().readers == 0 {
            return Err(Errno::ENXIO);
        }
        let end = PipeEnd {
            pipe: self.0.clone(),
            read,
            write,
        };
        let mut st = self.0.state.lock();
        if read {
            st.readers += 1;
            st.read_opens += 1;
        }
        if write {
            st.writers += 1;
            st.write_opens += 1;
        }
        self.0.changed.notify_all();
        if read != write && !nonblock {
            let seen = if read { st.write_opens } else { st.read_opens };
            let other = |st: &State| if read { st.write_opens } else { st.read_opens };
            let present = |st: &State| if read { st.writers } else { st.readers };
            while present(&st) == 0 && other(&st) == seen {
                // On interruption `end` drops after the guard and uncounts.
                crate::kernel::wait::wait_on(&mut st, &self.0, |p| (&p.state, &p.changed), None)?;
            }
        }
        drop(st);
        Ok(end)
    }
}

/// One end of a pipe (both for a FIFO opened O_RDWR).
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut st = self.pipe.state.lock();
        if self.write {
            st.writers -= 1;
        }
        if self.read {
            st.readers -= 1;
        }
        if st.readers == 0 && st.writers == 0 {
            // A FIFO nobody has open keeps no data.
            st.buf.clear();
        }
        drop(st);
        self.pipe.changed.notify_all();
    }
}

impl PipeEnd {
    /// Waits for the pipe to change, unless a signal interrupts.
    fn wait(&self, st: &mut parking_lot::MutexGuard<'_, State>) -> Result<(), Errno> {
        crate::kernel::wait::wait_on(st, &self.pipe, |p| (&p.state, &p.changed), None).map(|_| ())
    }

    /// Reads, blocking unless `nonblock`; with `peek` the data stays in the
    /// pipe (tee).
    pub fn read_nb(&self, buf: &mut [u8], nonblock: bool, peek: bool) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock();
        loop {
            if !st.buf.is_empty() {
                let n = buf.len().min(st.buf.len());
                if peek {
                    for (d, s) in buf.iter_mut().zip(st.buf.iter()) {
                        *d = *s;
                    }
                    return Ok(n);
                }
                for (d, s) in buf.iter_mut().zip(st.buf.drain(..n)) {
                    *d = s;
                }
                drop(st);
                self.pipe.changed.notify_all();
                return Ok(n);
            }
            if st.writers == 0 {
                return Ok(0);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wait(&mut st)?;
        }
    }

    /// Writes, blocking unless `nonblock`. EPIPE when nobody can read.
    pub fn write_nb(&self, buf: &[u8], nonblock: bool) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock();
        let mut done = 0;
        while done < buf.len() {
            if st.readers == 0 {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let room = st.cap.saturating_sub(st.buf.len());
            let rest = buf.len() - done;
            // Small writes are atomic: wait until they fit whole.
            let fits = if rest <= PIPE_BUF {
                room >= rest
            } else {
                room > 0
            };
            if !fits {
                if nonblock {
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                self.pipe.changed.notify_all();
                match self.wait(&mut st) {
                    Ok(()) => continue,
                    Err(_) if done > 0 => return Ok(done),
                    Err(e) => return Err(e),
                }
            }
            let n = rest.min(room);
            st.buf.extend(&buf[done..done + n]);
            done += n;
            self.pipe.changed.notify_all();
        }
        Ok(done)
    }
}

impl FileOps for PipeEnd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.write_flags(buf, off, 0)
    }

    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if !self.read {
            return Err(Errno::EBADF);
        }
        self.read_nb(buf, flags & libc::O_NONBLOCK != 0, false)
    }

    fn peek(&self, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
        if !self.read {
            return Err(Errno::EINVAL);
        }
        self.read_nb(buf, flags & libc::O_NONBLOCK != 0, true)
    }

    fn pipe_size(&self, set: Option<usize>) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock();
        if let Some(size) = set {
            // Whole pages, a power of two of them (Linux rounds up too).
            let size = size
                .max(4096)
                .checked_next_power_of_two()
                .ok_or(Errno::EINVAL)?;
            if size > MAX_PIPE_SIZE {
                return Err(Errno::EPERM);
            }
            if size < st.buf.len() {
                return Err(Errno::EBUSY);
            }
            st.cap = size;
            drop(st);
            self.pipe.changed.notify_all();
            return Ok(size);
        }
        Ok(st.cap)
    }

    fn write_flags(&self, buf: &[u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        self.write_nb(buf, flags & libc::O_NONBLOCK != 0)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn poll(&self) -> u32 {
        let st = self.pipe.state.lock();
        let mut ev = 0;
        if self.write {
            if st.readers == 0 {
                ev |= libc::POLLERR;
            } else if st.cap.saturating_sub(st.buf.len()) >= PIPE_BUF.min(st.cap) {
                ev |= libc::POLLOUT | libc::POLLWRNORM;
            }
        }
        if self.read {
            if !st.buf.is_empty() {
                ev |= libc::POLLIN | libc::POLLRDNORM;
            }
            if st.writers == 0 {
                ev |= libc::POLLHUP;
            }
        }
        ev as u32
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = self.pipe.stat;
        s.size = self.pipe.state.lock().buf.len() as i64;
        Ok(s)
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        match req {
            libc::FIONREAD => {
                let n = self.pipe.state.lock().buf.len() as i32;
                mm.write_obj(arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}
