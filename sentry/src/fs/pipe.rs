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

struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
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
                readers: 1,
                writers: 1,
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
                write: false,
            }),
            Box::new(PipeEnd { pipe, write: true }),
        )
    }
}

/// One end of a pipe.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    write: bool,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut st = self.pipe.state.lock();
        if self.write {
            st.writers -= 1;
        } else {
            st.readers -= 1;
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

    /// Reads, blocking unless `nonblock`.
    pub fn read_nb(&self, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock();
        loop {
            if !st.buf.is_empty() {
                let n = buf.len().min(st.buf.len());
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
            let room = PIPE_SIZE - st.buf.len();
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
                self.pipe.changed.wait(&mut st);
                continue;
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
        if self.write {
            return Err(Errno::EBADF);
        }
        self.read_nb(buf, flags & libc::O_NONBLOCK != 0)
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
            } else if PIPE_SIZE - st.buf.len() >= PIPE_BUF {
                ev |= libc::POLLOUT | libc::POLLWRNORM;
            }
        } else {
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
