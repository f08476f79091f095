//! Pseudo-terminals: /dev/ptmx makes a master, /dev/pts/N is its slave.
//!
//! Between them sits a line discipline with Linux's defaults: input from
//! the master is edited in canonical mode (erase, kill, end of file,
//! lines), CR becomes NL, and it is echoed; output to the master has NL
//! turned into CR NL. Terminal attributes and the window size are kept per
//! pty. The interrupt, quit and suspend characters signal the foreground
//! process group.

use std::any::Any;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::mm::MemoryManager;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, SetAttr, Stat, Timespec};

/// The kernel's `struct termios` (what TCGETS/TCSETS move): four flag
/// words, the line discipline and 19 control characters.
const TERMIOS_SIZE: usize = 36;

/// How much output waits for the master to read it before writers block.
const OUTPUT_MAX: usize = 65536;

const ICRNL: u32 = 0x100;
const INLCR: u32 = 0x40;
const IGNCR: u32 = 0x80;
const OPOST: u32 = 0x1;
const ONLCR: u32 = 0x4;
const ISIG: u32 = 0x1;
const ICANON: u32 = 0x2;
const NOFLSH: u32 = 0x80;
const ECHOCTL: u32 = 0x200;
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VSUSP: usize = 10;
const ECHO: u32 = 0x8;
const ECHOE: u32 = 0x10;
const ECHONL: u32 = 0x40;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VEOL: usize = 11;

/// Linux's tty_std_termios with 8-bit characters (what a new pty has).
fn default_termios() -> [u8; TERMIOS_SIZE] {
    let mut t = [0u8; TERMIOS_SIZE];
    let flags: [u32; 4] = [0x500, 0x5, 0xbf, 0x8a3b];
    for (i, f) in flags.iter().enumerate() {
        t[i * 4..i * 4 + 4].copy_from_slice(&f.to_ne_bytes());
    }
    let cc: [u8; 17] = [
        3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0xf, 0x17, 0x16, 0,
    ];
    t[17..17 + cc.len()].copy_from_slice(&cc);
    t
}

struct State {
    termios: [u8; TERMIOS_SIZE],
    winsize: [u8; 8],
    /// Input the slave can read; in canonical mode only whole lines.
    input: VecDeque<u8>,
    /// Lengths of the complete lines in `input` (canonical mode; 0 is an
    /// end of file).
    lines: VecDeque<usize>,
    /// The line being edited (canonical mode).
    edit: Vec<u8>,
    /// Output the master can read.
    output: VecDeque<u8>,
    locked: bool,
    master_open: bool,
    slave_opens: usize,
    /// Whether a slave was ever opened (a master reads EIO once the last
    /// one closed).
    slave_seen: bool,
    /// The foreground process group (TIOCSPGRP).
    pgrp: i32,
}

impl State {
    fn flag(&self, word: usize) -> u32 {
        u32::from_ne_bytes(self.termios[word * 4..word * 4 + 4].try_into().unwrap())
    }

    fn cc(&self, i: usize) -> u8 {
        self.termios[17 + i]
    }

    /// Output processing of the slave's data (and of echo).
    fn emit(&mut self, data: &[u8]) {
        let post = self.flag(1) & OPOST != 0 && self.flag(1) & ONLCR != 0;
        for &c in data {
            if post && c == b'\n' {
                self.output.push_back(b'\r');
            }
            self.output.push_back(c);
        }
    }

    /// The line discipline's input side: one byte typed at the master.
    /// Returns the signal the byte raises for the foreground process group
    /// (interrupt, quit, suspend characters with ISIG).
    fn input_byte(&mut self, mut c: u8) -> Option<i32> {
        let (iflag, lflag) = (self.flag(0), self.flag(3));
        if lflag & ISIG != 0 && c != 0 {
            let sig = [
                (VINTR, libc::SIGINT),
                (VQUIT, libc::SIGQUIT),
                (VSUSP, libc::SIGTSTP),
            ]
            .into_iter()
            .find(|&(i, _)| self.cc(i) == c)
            .map(|(_, s)| s);
            if let Some(sig) = sig {
                if lflag & NOFLSH == 0 {
                    self.input.clear();
                    self.lines.clear();
                    self.edit.clear();
                }
                if lflag & ECHO != 0 && lflag & ECHOCTL != 0 {
                    self.emit(&[b'^', c ^ 0x40]);
                }
                return Some(sig);
            }
        }
        if c == b'\r' {
            if iflag & IGNCR != 0 {
                return None;
            }
            if iflag & ICRNL != 0 {
                c = b'\n';
            }
        } else if c == b'\n' && iflag & INLCR != 0 {
            c = b'\r';
        }
        let echo = lflag & ECHO != 0;
        if lflag & ICANON == 0 {
            self.input.push_back(c);
            if echo {
                self.emit(&[c]);
            }
            return None;
        }
        if c == self.cc(VERASE) {
            if self.edit.pop().is_some() && echo && lflag & ECHOE != 0 {
                self.emit(b"\x08 \x08");
            }
            return None;
        }
        if c == self.cc(VKILL) {
            self.edit.clear();
            if echo {
                self.emit(b"\n");
            }
            return None;
        }
        if c == self.cc(VEOF) {
            self.finish_line();
            return None;
        }
        self.edit.push(c);
        if echo || (c == b'\n' && lflag & ECHONL != 0) {
            self.emit(&[c]);
        }
        if c == b'\n' || (c != 0 && c == self.cc(VEOL)) {
            self.finish_line();
        }
        None
    }

    fn finish_line(&mut self) {
        let line = std::mem::take(&mut self.edit);
        self.lines.push_back(line.len());
        self.input.extend(line);
    }

    fn readable(&self) -> bool {
        if self.flag(3) & ICANON != 0 {
            !self.lines.is_empty()
        } else {
            !self.input.is_empty()
        }
    }
}

/// One pseudo-terminal.
pub struct Pty {
    index: u32,
    state: Mutex<State>,
    changed: Condvar,
    created: Timespec,
}

/// The ptys that exist, by number (for /dev/pts).
static PTYS: LazyLock<Mutex<BTreeMap<u32, Weak<Pty>>>> = LazyLock::new(Default::default);

/// The device number of /dev/pts/N (Linux's Unix98 slave major 136).
pub fn slave_rdev(index: u32) -> u64 {
    libc::makedev(136 + index / 256, index % 256)
}

impl Pty {
    /// Opens /dev/ptmx: a new pty, locked until TIOCSPTLCK unlocks it.
    pub fn open_master() -> Box<dyn FileOps> {
        let mut all = PTYS.lock();
        all.retain(|_, w| w.strong_count() > 0);
        let index = (0..).find(|i| !all.contains_key(i)).unwrap_or(0);
        let pty = Arc::new(Pty {
            index,
            state: Mutex::new(State {
                termios: default_termios(),
                winsize: [0; 8],
                input: VecDeque::new(),
                lines: VecDeque::new(),
                edit: Vec::new(),
                output: VecDeque::new(),
                locked: true,
                master_open: true,
                slave_opens: 0,
                slave_seen: false,
                pgrp: 0,
            }),
            changed: Condvar::new(),
            created: Timespec::now(),
        });
        all.insert(index, Arc::downgrade(&pty));
        Box::new(End { pty, master: true })
    }

    /// The numbers of the ptys that exist.
    pub fn indices() -> Vec<u32> {
        let all = PTYS.lock();
        all.iter()
            .filter(|(_, w)| w.upgrade().is_some_and(|p| p.state.lock().master_open))
            .map(|(&i, _)| i)
            .collect()
    }

    /// Pty `index`, if its master is open.
    pub fn get(index: u32) -> Option<Arc<Pty>> {
        let p = PTYS.lock().get(&index)?.upgrade()?;
        let open = p.state.lock().master_open;
        open.then_some(p)
    }

    /// Opens the slave (EIO while the pty is locked). A session leader
    /// that opens it without O_NOCTTY while it has no foreground process
    /// group makes it its controlling terminal.
    pub fn open_slave(self: &Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        let mut st = self.state.lock();
        if st.locked || !st.master_open {
            return Err(Errno::EIO);
        }
        if flags & libc::O_NOCTTY == 0 && st.pgrp == 0 {
            if let Some(t) = crate::kernel::wait::current() {
                let g = &t.group;
                if g.sid.load(std::sync::atomic::Ordering::Relaxed) == g.pid {
                    st.pgrp = g.pgid.load(std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        st.slave_opens += 1;
        st.slave_seen = true;
        Ok(Box::new(End {
            pty: self.clone(),
            master: false,
        }))
    }

    /// The attributes of /dev/pts/N.
    pub fn slave_stat(&self, dev: u64) -> Stat {
        Stat {
            dev,
            ino: 3 + self.index as u64,
            mode: libc::S_IFCHR | 0o620,
            nlink: 1,
            rdev: slave_rdev(self.index),
            blksize: 1024,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            ..Stat::default()
        }
    }
}

/// An open end of a pty.
struct End {
    pty: Arc<Pty>,
    master: bool,
}

impl Drop for End {
    fn drop(&mut self) {
        let mut st = self.pty.state.lock();
        if self.master {
            st.master_open = false;
        } else {
            st.slave_opens -= 1;
        }
        drop(st);
        self.pty.changed.notify_all();
    }
}

impl End {
    fn wait(&self, st: &mut parking_lot::MutexGuard<'_, State>) -> Result<(), Errno> {
        crate::kernel::wait::wait_on(st, &self.pty, |p| (&p.state, &p.changed), None).map(|_| ())
    }
}

impl FileOps for End {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.write_flags(buf, off, 0)
    }

    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        let mut st = self.pty.state.lock();
        loop {
            if self.master {
                if !st.output.is_empty() {
                    let n = buf.len().min(st.output.len());
                    for (d, s) in buf.iter_mut().zip(st.output.drain(..n)) {
                        *d = s;
                    }
                    drop(st);
                    self.pty.changed.notify_all();
                    return Ok(n);
                }
                if st.slave_seen && st.slave_opens == 0 {
                    return Err(Errno::EIO);
                }
            } else {
                if st.readable() {
                    let canon = st.flag(3) & ICANON != 0;
                    let avail = if canon { st.lines[0] } else { st.input.len() };
                    let n = buf.len().min(avail);
                    for (d, s) in buf.iter_mut().zip(st.input.drain(..n)) {
                        *d = s;
                    }
                    if canon {
                        if n == avail {
                            st.lines.pop_front();
                        } else {
                            st.lines[0] -= n;
                        }
                    }
                    return Ok(n);
                }
                if !st.master_open {
                    return Ok(0);
                }
            }
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            self.wait(&mut st)?;
        }
    }

    fn write_flags(&self, buf: &[u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        let mut st = self.pty.state.lock();
        if self.master {
            let mut signals = Vec::new();
            for &c in buf {
                signals.extend(st.input_byte(c));
            }
            let pgrp = st.pgrp;
            drop(st);
            self.pty.changed.notify_all();
            if pgrp > 0 {
                for sig in signals {
                    crate::kernel::signal_pgrp(pgrp, sig);
                }
            }
            return Ok(buf.len());
        } else {
            if !st.master_open {
                return Err(Errno::EIO);
            }
            while st.output.len() >= OUTPUT_MAX {
                if flags & libc::O_NONBLOCK != 0 {
                    return Err(Errno::EAGAIN);
                }
                self.wait(&mut st)?;
                if !st.master_open {
                    return Err(Errno::EIO);
                }
            }
            st.emit(buf);
        }
        drop(st);
        self.pty.changed.notify_all();
        Ok(buf.len())
    }

    fn seekable(&self) -> bool {
        false
    }

    fn poll(&self) -> u32 {
        let st = self.pty.state.lock();
        let mut ev = 0;
        if self.master {
            if !st.output.is_empty() {
                ev |= libc::POLLIN | libc::POLLRDNORM;
            }
            if st.slave_seen && st.slave_opens == 0 {
                ev |= libc::POLLHUP;
            }
            ev |= libc::POLLOUT | libc::POLLWRNORM;
        } else {
            if st.readable() {
                ev |= libc::POLLIN | libc::POLLRDNORM;
            }
            if !st.master_open {
                ev |= libc::POLLHUP | libc::POLLIN;
            } else if st.output.len() < OUTPUT_MAX {
                ev |= libc::POLLOUT | libc::POLLWRNORM;
            }
        }
        ev as u32
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &MemoryManager) -> Result<u64, Errno> {
        let mut st = self.pty.state.lock();
        match req {
            libc::TCGETS => mm.copy_out(arg, &st.termios).map(|_| 0),
            libc::TCSETS | libc::TCSETSW | libc::TCSETSF => {
                let mut t = [0u8; TERMIOS_SIZE];
                mm.copy_in(arg, &mut t)?;
                if req == libc::TCSETSF {
                    st.input.clear();
                    st.lines.clear();
                    st.edit.clear();
                }
                let was_canon = st.flag(3) & ICANON != 0;
                st.termios = t;
                if was_canon && st.flag(3) & ICANON == 0 {
                    // Leaving canonical mode: the partial line is input.
                    let line = std::mem::take(&mut st.edit);
                    st.input.extend(line);
                    st.lines.clear();
                }
                drop(st);
                self.pty.changed.notify_all();
                Ok(0)
            }
            libc::TIOCGWINSZ => mm.copy_out(arg, &st.winsize).map(|_| 0),
            libc::TIOCSWINSZ => {
                let mut w = [0u8; 8];
                mm.copy_in(arg, &mut w)?;
                st.winsize = w;
                Ok(0)
            }
            libc::FIONREAD => {
                let n = if self.master {
                    st.output.len()
                } else {
                    st.input.len()
                };
                mm.write_obj(arg, &(n as i32)).map(|_| 0)
            }
            libc::TIOCGPGRP => mm.write_obj(arg, &st.pgrp).map(|_| 0),
            libc::TIOCSPGRP => {
                st.pgrp = mm.read_obj(arg)?;
                Ok(0)
            }
            libc::TIOCSCTTY => {
                // The caller's session gets the terminal; its process group
                // is in the foreground.
                if let Some(t) = crate::kernel::wait::current() {
                    st.pgrp = t.group.pgid.load(std::sync::atomic::Ordering::Relaxed);
                }
                Ok(0)
            }
            libc::TIOCNOTTY => Ok(0),
            libc::TIOCGPTN if self.master => mm.write_obj(arg, &self.pty.index).map(|_| 0),
            libc::TIOCSPTLCK if self.master => {
                let lock: i32 = mm.read_obj(arg)?;
                st.locked = lock != 0;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        if self.master {
            let mut s = Stat::anon(0x5, 2, libc::S_IFCHR | 0o666);
            s.rdev = libc::makedev(5, 2);
            Ok(s)
        } else {
            Ok(self.pty.slave_stat(DEVPTS_DEV))
        }
    }
}

/// The device number of the devpts filesystem.
const DEVPTS_DEV: u64 = 0x88;

/// /dev/ptmx.
pub struct PtmxNode(pub Stat);

impl Inode for PtmxNode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0)
    }

    fn open(self: Arc<Self>, _flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Pty::open_master())
    }

    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// /dev/pts: one node per pty whose master is open.
pub struct PtsDir {
    /// When /dev was made.
    pub created: Timespec,
}

impl Inode for PtsDir {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::synthetic_dir(DEVPTS_DEV, self.created))
    }

    fn open(self: Arc<Self>, _flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Box::new(DirFile(self)))
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let index: u32 = std::str::from_utf8(name)
            .ok()
            .filter(|s| !s.starts_with('0') || s.len() == 1)
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let pty = Pty::get(index).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(PtsNode(pty)))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(Pty::indices()
            .into_iter()
            .map(|i| DirEntry {
                name: i.to_string().into_bytes(),
                ino: 3 + i as u64,
                kind: libc::DT_CHR,
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// /dev/pts/N.
struct PtsNode(Arc<Pty>);

impl Inode for PtsNode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.slave_stat(DEVPTS_DEV))
    }

    fn open(self: Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        self.0.open_slave(flags)
    }

    /// grantpt may chown the slave to its user: accepted.
    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
