//! inotify: watches on files and directories, and the queue of events an
//! inotify fd reads.
//!
//! Watches are kept by file identity `(st_dev, st_ino)` in one registry;
//! the system calls that change or use files report events here (see the
//! `event` helpers), which costs nothing while no watch exists.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::vfs::{Dentry, FileOps, Stat};

/// A file, as `(st_dev, st_ino)`.
pub type Key = (u64, u64);

/// The events a watch can ask for (IN_ALL_EVENTS).
pub const ALL_EVENTS: u32 = 0xfff;
const IN_IGNORED: u32 = 0x8000;
const IN_Q_OVERFLOW: u32 = 0x4000;
const IN_ISDIR: u32 = 0x4000_0000;
const IN_ONESHOT: u32 = 0x8000_0000;
const IN_MASK_ADD: u32 = 0x2000_0000;
const IN_MASK_CREATE: u32 = 0x1000_0000;
/// IN_DONT_FOLLOW and IN_ONLYDIR: path-walk flags of inotify_add_watch.
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
/// See [`IN_DONT_FOLLOW`].
pub const IN_ONLYDIR: u32 = 0x0100_0000;
const IN_EXCL_UNLINK: u32 = 0x0400_0000;

/// The most events one inotify instance queues (Linux's default
/// max_queued_events); then one IN_Q_OVERFLOW.
const MAX_QUEUED: usize = 16384;

struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    /// Its size as read(2) returns it: the header and the name padded with
    /// NULs to a multiple of 16 bytes.
    fn size(&self) -> usize {
        16 + self.name_len()
    }

    fn name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).div_ceil(16) * 16
        }
    }
}

struct State {
    events: VecDeque<Event>,
    /// Watch descriptor -> (file, mask with flags).
    watches: HashMap<i32, (Key, u32)>,
    next_wd: i32,
}

/// One inotify instance.
pub struct Inotify {
    state: Mutex<State>,
    changed: Condvar,
}

/// The watches on one file: (instance, watch descriptor).
type Watchers = Vec<(Weak<Inotify>, i32)>;

/// Every watch, by file.
static WATCHES: LazyLock<Mutex<HashMap<Key, Watchers>>> = LazyLock::new(Default::default);
/// How many watches exist (events are skipped while there are none).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

impl Inotify {
    /// A new instance with no watches.
    pub fn new() -> Arc<Inotify> {
        Arc::new(Inotify {
            state: Mutex::new(State {
                events: VecDeque::new(),
                watches: HashMap::new(),
                next_wd: 1,
            }),
            changed: Condvar::new(),
        })
    }

    /// inotify_add_watch for the file `key` (`is_dir` for IN_ONLYDIR has
    /// been checked); returns the watch descriptor.
    pub fn add_watch(self: &Arc<Self>, key: Key, mask: u32) -> Result<i32, Errno> {
        if mask & ALL_EVENTS == 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state.lock();
        if let Some((&wd, old)) = st.watches.iter_mut().find(|(_, (k, _))| *k == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            old.1 = if mask & IN_MASK_ADD != 0 {
                old.1 | mask
            } else {
                mask
            };
            return Ok(wd);
        }
        let wd = st.next_wd;
        st.next_wd += 1;
        st.watches.insert(wd, (key, mask));
        drop(st);
        WATCHES
            .lock()
            .entry(key)
            .or_default()
            .push((Arc::downgrade(self), wd));
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Ok(wd)
    }

    /// inotify_rm_watch: the watch goes and IN_IGNORED is queued.
    pub fn rm_watch(self: &Arc<Self>, wd: i32) -> Result<(), Errno> {
        let key = {
            let mut st = self.state.lock();
            let (key, _) = st.watches.remove(&wd).ok_or(Errno::EINVAL)?;
            self.queue(&mut st, wd, IN_IGNORED, 0, &[]);
            key
        };
        self.changed.notify_all();
        unregister(key, Arc::as_ptr(self), wd);
        Ok(())
    }

    fn queue(&self, st: &mut State, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        if let Some(last) = st.events.back() {
            if last.wd == wd && last.mask == mask && last.cookie == cookie && last.name == name {
                return;
            }
        }
        if st.events.len() >= MAX_QUEUED {
            if st.events.back().is_some_and(|e| e.mask == IN_Q_OVERFLOW) {
                return;
            }
            st.events.push_back(Event {
                wd: -1,
                mask: IN_Q_OVERFLOW,
                cookie: 0,
                name: Vec::new(),
            });
            return;
        }
        st.events.push_back(Event {
            wd,
            mask,
            cookie,
            name: name.to_vec(),
        });
    }

    /// Queues `mask` for watch `wd` if it asks for it.
    fn deliver(&self, wd: i32, mask: u32, cookie: u32, name: &[u8], unlinked: bool) -> bool {
        let mut st = self.state.lock();
        let Some(&(key, want)) = st.watches.get(&wd) else {
            return false;
        };
        if want & mask & ALL_EVENTS == 0 || (unlinked && want & IN_EXCL_UNLINK != 0) {
            return false;
        }
        self.queue(&mut st, wd, mask, cookie, name);
        let oneshot = want & IN_ONESHOT != 0;
        if oneshot {
            st.watches.remove(&wd);
            self.queue(&mut st, wd, IN_IGNORED, 0, &[]);
        }
        drop(st);
        self.changed.notify_all();
        if oneshot {
            unregister(key, self as *const Inotify, wd);
        }
        true
    }

    /// Ends watch `wd` (its file is gone) with IN_IGNORED.
    fn forget(&self, wd: i32) {
        let mut st = self.state.lock();
        if st.watches.remove(&wd).is_some() {
            self.queue(&mut st, wd, IN_IGNORED, 0, &[]);
        }
        drop(st);
        self.changed.notify_all();
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let mut all = WATCHES.lock();
        for (_, (key, _)) in st.watches.drain() {
            if let Some(v) = all.get_mut(&key) {
                let before = v.len();
                v.retain(|(w, _)| w.strong_count() > 0);
                ACTIVE.fetch_sub(before - v.len(), Ordering::SeqCst);
                if v.is_empty() {
                    all.remove(&key);
                }
            }
        }
    }
}

fn unregister(key: Key, me: *const Inotify, wd: i32) {
    let mut all = WATCHES.lock();
    if let Some(v) = all.get_mut(&key) {
        let before = v.len();
        v.retain(|(w, d)| !(*d == wd && w.as_ptr() == me));
        ACTIVE.fetch_sub(before - v.len(), Ordering::SeqCst);
        if v.is_empty() {
            all.remove(&key);
        }
    }
}

/// Whether any watch exists (callers skip computing events otherwise).
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// Reports `mask` on file `key` to its watches, with `name` when `key` is
/// the directory the event happened in.
pub fn notify(key: Key, mask: u32, cookie: u32, name: &[u8]) {
    let targets: Vec<(Arc<Inotify>, i32)> = match WATCHES.lock().get(&key) {
        Some(v) => v
            .iter()
            .filter_map(|(w, wd)| Some((w.upgrade()?, *wd)))
            .collect(),
        None => return,
    };
    for (ino, wd) in targets {
        ino.deliver(wd, mask, cookie, name, false);
    }
}

fn key_of(st: &Stat) -> Key {
    (st.dev, st.ino)
}

/// Reports `mask` on the file `d` names: to watches on it, and (with its
/// name) to watches on its directory.
pub fn dentry_event(d: &Arc<Dentry>, mask: u32) {
    if !active() {
        return;
    }
    let Ok(st) = d.inode.stat() else {
        return;
    };
    let mask = if st.is_dir() { mask | IN_ISDIR } else { mask };
    notify(key_of(&st), mask, 0, &[]);
    if let Some(parent) = &d.parent {
        if let Ok(pst) = parent.inode.stat() {
            notify(key_of(&pst), mask, 0, &d.name);
        }
    }
}

/// Reports `mask` for entry `name` of directory `dir` (create, delete,
/// moves); `is_dir` adds IN_ISDIR.
pub fn dir_event(dir: &Arc<Dentry>, name: &[u8], mask: u32, is_dir: bool, cookie: u32) {
    if !active() {
        return;
    }
    if let Ok(st) = dir.inode.stat() {
        let mask = if is_dir { mask | IN_ISDIR } else { mask };
        notify(key_of(&st), mask, cookie, name);
    }
}

/// The file `key` is gone (its last link removed): IN_DELETE_SELF, then
/// its watches end.
pub fn deleted(key: Key) {
    if !active() {
        return;
    }
    notify(key, libc::IN_DELETE_SELF, 0, &[]);
    let gone = WATCHES.lock().remove(&key).unwrap_or_default();
    ACTIVE.fetch_sub(gone.len(), Ordering::SeqCst);
    for (w, wd) in gone {
        if let Some(ino) = w.upgrade() {
            ino.forget(wd);
        }
    }
}

/// A cookie tying IN_MOVED_FROM to its IN_MOVED_TO.
pub fn cookie() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The inotify fd.
pub struct InotifyFile(pub Arc<Inotify>);

impl FileOps for InotifyFile {
    fn read_flags(&self, buf: &mut [u8], _off: u64, flags: i32) -> Result<usize, Errno> {
        let ino = &self.0;
        let mut st = ino.state.lock();
        while st.events.is_empty() {
            if flags & libc::O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            crate::kernel::wait::wait_on(&mut st, ino, |i| (&i.state, &i.changed), None)?;
        }
        if st.events.front().is_some_and(|e| e.size() > buf.len()) {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        while let Some(e) = st.events.front() {
            if n + e.size() > buf.len() {
                break;
            }
            let out = &mut buf[n..n + e.size()];
            out[0..4].copy_from_slice(&e.wd.to_ne_bytes());
            out[4..8].copy_from_slice(&e.mask.to_ne_bytes());
            out[8..12].copy_from_slice(&e.cookie.to_ne_bytes());
            out[12..16].copy_from_slice(&(e.name_len() as u32).to_ne_bytes());
            out[16..].fill(0);
            out[16..16 + e.name.len()].copy_from_slice(&e.name);
            n += e.size();
            st.events.pop_front();
        }
        Ok(n)
    }

    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read_flags(buf, off, 0)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn poll(&self) -> u32 {
        if self.0.state.lock().events.is_empty() {
            0
        } else {
            (libc::POLLIN | libc::POLLRDNORM) as u32
        }
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        match req {
            libc::FIONREAD => {
                let n: usize = self.0.state.lock().events.iter().map(Event::size).sum();
                mm.write_obj(arg, &(n as i32))?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::anon(0xe, 1, 0o600))
    }
}
