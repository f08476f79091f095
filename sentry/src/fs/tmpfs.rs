//! tmpfs: files that live in sandbox memory. Also the upper layer of the
//! overlay.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::errno::Errno;
use crate::mm::FileData;
use crate::vfs::{DirEntry, FileOps, Inode, SetAttr, Stat, Timespec};

static NEXT_INO: AtomicU64 = AtomicU64::new(1);
static NEXT_DEV: AtomicU64 = AtomicU64::new(0x100);

/// A new device number for a memory-backed filesystem instance.
pub fn new_dev() -> u64 {
    NEXT_DEV.fetch_add(1, Ordering::Relaxed)
}

/// The entries of a tmpfs directory, by name.
type Entries = Mutex<BTreeMap<Vec<u8>, Arc<TmpfsInode>>>;

enum Kind {
    File(RwLock<FileData>),
    Dir(Entries),
    Symlink(Vec<u8>),
    /// A named pipe.
    Fifo(crate::fs::pipe::Fifo),
    /// A socket or device node (mknod): it exists, but nothing in the
    /// sandbox answers it, so opening it fails with ENXIO.
    Node,
}

/// A tmpfs inode.
pub struct TmpfsInode {
    meta: Mutex<Stat>,
    kind: Kind,
    xattrs: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// File seals (F_SEAL_*) of a memfd; None for other files.
    seals: Mutex<Option<u32>>,
    /// Names this directory hides in the lower layer when it is an
    /// overlay's upper directory (whiteouts).
    whiteouts: Mutex<std::collections::BTreeSet<Vec<u8>>>,
}

/// The seals fcntl(F_ADD_SEALS) knows.
const SEALS: u32 = (libc::F_SEAL_SEAL
    | libc::F_SEAL_SHRINK
    | libc::F_SEAL_GROW
    | libc::F_SEAL_WRITE
    | libc::F_SEAL_FUTURE_WRITE
    | F_SEAL_EXEC) as u32;
const F_SEAL_EXEC: i32 = 0x20;

impl TmpfsInode {
    fn new(dev: u64, mode: u32, kind: Kind) -> Arc<TmpfsInode> {
        let now = Timespec::now();
        let nlink = if matches!(kind, Kind::Dir(_)) { 2 } else { 1 };
        Arc::new(TmpfsInode {
            meta: Mutex::new(Stat {
                dev,
                ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
                mode,
                nlink,
                blksize: 4096,
                atime: now,
                mtime: now,
                ctime: now,
                ..Stat::default()
            }),
            kind,
            xattrs: Mutex::new(BTreeMap::new()),
            seals: Mutex::new(None),
            whiteouts: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// Records that `name` hides the lower layer's entry (overlay).
    pub fn hide(&self, name: &[u8]) {
        self.whiteouts.lock().insert(name.to_vec());
    }

    /// Whether `name` hides the lower layer's entry.
    pub fn hides(&self, name: &[u8]) -> bool {
        self.whiteouts.lock().contains(name)
    }

    /// The file behind a memfd: in no directory, with `seals`.
    pub fn new_memfd(mode: u32, seals: u32) -> Result<Arc<TmpfsInode>, Errno> {
        let f = Self::new(
            new_dev(),
            libc::S_IFREG | mode,
            Kind::File(RwLock::new(FileData::from_bytes(&[])?)),
        );
        f.meta.lock().nlink = 0;
        *f.seals.lock() = Some(seals);
        Ok(f)
    }

    /// Refuses a change of the file's data or size that its seals forbid:
    /// `write` of data, the size going from `old` to `new`.
    fn check_seals(&self, write: bool, old: usize, new: usize) -> Result<(), Errno> {
        let Some(seals) = *self.seals.lock() else {
            return Ok(());
        };
        let seals = seals as i32;
        if (write && seals & (libc::F_SEAL_WRITE | libc::F_SEAL_FUTURE_WRITE) != 0)
            || (new < old && seals & libc::F_SEAL_SHRINK != 0)
            || (new > old && seals & libc::F_SEAL_GROW != 0)
        {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// An empty root directory of a new tmpfs.
    pub fn new_root(mode: u32) -> Arc<TmpfsInode> {
        Self::new(
            new_dev(),
            libc::S_IFDIR | (mode & 0o7777),
            Kind::Dir(Mutex::new(BTreeMap::new())),
        )
    }

    fn dev(&self) -> u64 {
        self.meta.lock().dev
    }

    fn entries(&self) -> Result<&Entries, Errno> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn add(&self, name: &[u8], child: Arc<TmpfsInode>) -> Result<Arc<TmpfsInode>, Errno> {
        let mut entries = self.entries()?.lock();
        if entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        if matches!(child.kind, Kind::Dir(_)) {
            self.meta.lock().nlink += 1;
        }
        entries.insert(name.to_vec(), child.clone());
        self.touch();
        Ok(child)
    }

    fn touch(&self) {
        let now = Timespec::now();
        let mut m = self.meta.lock();
        m.mtime = now;
        m.ctime = now;
    }

    /// Creates a child of any kind (used by the overlay's copy-up too).
    pub fn create_file(
        &self,
        name: &[u8],
        mode: u32,
        data: Vec<u8>,
    ) -> Result<Arc<TmpfsInode>, Errno> {
        let c = Self::new(
            self.dev(),
            libc::S_IFREG | (mode & 0o7777),
            Kind::File(RwLock::new(FileData::from_bytes(&data)?)),
        );
        c.meta.lock().size = c.size() as i64;
        self.add(name, c)
    }

    /// Creates a subdirectory.
    pub fn create_dir(&self, name: &[u8], mode: u32) -> Result<Arc<TmpfsInode>, Errno> {
        let c = Self::new(
            self.dev(),
            libc::S_IFDIR | (mode & 0o7777),
            Kind::Dir(Mutex::new(BTreeMap::new())),
        );
        self.add(name, c)
    }

    /// Creates a symbolic link.
    pub fn create_symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<TmpfsInode>, Errno> {
        let c = Self::new(
            self.dev(),
            libc::S_IFLNK | 0o777,
            Kind::Symlink(target.to_vec()),
        );
        c.meta.lock().size = target.len() as i64;
        self.add(name, c)
    }

    /// Creates a FIFO, socket or device node (mknod(2)); `mode` has the
    /// file type.
    pub fn create_node(&self, name: &[u8], mode: u32, rdev: u64) -> Result<Arc<TmpfsInode>, Errno> {
        let c = if mode & libc::S_IFMT == libc::S_IFIFO {
            // The pipe's own stat is unused: the file reports the inode's.
            let stat = Stat::anon(self.dev(), 0, mode);
            Self::new(
                self.dev(),
                mode,
                Kind::Fifo(crate::fs::pipe::Fifo::new(stat)),
            )
        } else {
            Self::new(self.dev(), mode, Kind::Node)
        };
        c.meta.lock().rdev = rdev;
        self.add(name, c)
    }

    /// The child `name`.
    pub fn get(&self, name: &[u8]) -> Result<Arc<TmpfsInode>, Errno> {
        self.entries()?
            .lock()
            .get(name)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    /// Removes the child `name`; `dir` says whether rmdir semantics apply.
    pub fn remove(&self, name: &[u8], dir: bool) -> Result<Arc<TmpfsInode>, Errno> {
        let mut entries = self.entries()?.lock();
        let child = entries.get(name).cloned().ok_or(Errno::ENOENT)?;
        match (&child.kind, dir) {
            (Kind::Dir(d), true) => {
                if !d.lock().is_empty() {
                    return Err(Errno::ENOTEMPTY);
                }
                self.meta.lock().nlink -= 1;
            }
            (Kind::Dir(_), false) => return Err(Errno::EISDIR),
            (_, true) => return Err(Errno::ENOTDIR),
            _ => {}
        }
        entries.remove(name);
        drop(entries);
        let mut m = child.meta.lock();
        m.nlink = m.nlink.saturating_sub(if dir { 2 } else { 1 });
        m.ctime = Timespec::now();
        drop(m);
        self.touch();
        Ok(child)
    }

    /// Adds a hard link `name` to the file `target`.
    pub fn link_inode(&self, name: &[u8], target: Arc<TmpfsInode>) -> Result<(), Errno> {
        if matches!(target.kind, Kind::Dir(_)) {
            return Err(Errno::EPERM);
        }
        {
            let mut m = target.meta.lock();
            m.nlink += 1;
            m.ctime = Timespec::now();
        }
        self.add(name, target).map(|_| ())
    }

    /// Moves `old` here to `new` in `to`, replacing a compatible target.
    pub fn move_to(&self, old: &[u8], to: &TmpfsInode, new: &[u8]) -> Result<(), Errno> {
        let child = self.get(old)?;
        let is_dir = matches!(child.kind, Kind::Dir(_));
        if let Ok(existing) = to.get(new) {
            if Arc::ptr_eq(&existing, &child) {
                return Ok(());
            }
            match (&existing.kind, is_dir) {
                (Kind::Dir(_), false) => return Err(Errno::EISDIR),
                (Kind::Dir(_), true) => {
                    to.remove(new, true)?;
                }
                (_, true) => return Err(Errno::ENOTDIR),
                _ => {
                    to.remove(new, false)?;
                }
            }
        }
        let mut entries = self.entries()?.lock();
        let child = entries.remove(old).ok_or(Errno::ENOENT)?;
        drop(entries);
        if is_dir {
            self.meta.lock().nlink -= 1;
        }
        self.touch();
        to.add(new, child).map(|_| ())
    }

    /// Swaps entry `a` of this directory with entry `b` of `to`.
    pub fn exchange_with(&self, a: &[u8], to: &TmpfsInode, b: &[u8]) -> Result<(), Errno> {
        if std::ptr::eq(self, to) {
            let mut e = self.entries()?.lock();
            let x = e.get(a).cloned().ok_or(Errno::ENOENT)?;
            let y = e.get(b).cloned().ok_or(Errno::ENOENT)?;
            e.insert(a.to_vec(), y);
            e.insert(b.to_vec(), x);
        } else {
            // Lock the two directories in one order (by address).
            let (first, second) = if (self as *const Self) < (to as *const Self) {
                (self, to)
            } else {
                (to, self)
            };
            let mut e1 = first.entries()?.lock();
            let mut e2 = second.entries()?.lock();
            let (mine, theirs) = if std::ptr::eq(first, self) {
                (&mut e1, &mut e2)
            } else {
                (&mut e2, &mut e1)
            };
            let x = mine.get(a).cloned().ok_or(Errno::ENOENT)?;
            let y = theirs.get(b).cloned().ok_or(Errno::ENOENT)?;
            let (xd, yd) = (
                matches!(x.kind, Kind::Dir(_)),
                matches!(y.kind, Kind::Dir(_)),
            );
            mine.insert(a.to_vec(), y);
            theirs.insert(b.to_vec(), x);
            drop(e1);
            drop(e2);
            // A directory's ".." moved with it.
            if xd != yd {
                let (gains, loses) = if xd { (to, self) } else { (self, to) };
                gains.meta.lock().nlink += 1;
                loses.meta.lock().nlink -= 1;
            }
            to.touch();
        }
        self.touch();
        Ok(())
    }

    fn size(&self) -> usize {
        match &self.kind {
            Kind::File(d) => d.read().len(),
            Kind::Symlink(t) => t.len(),
            Kind::Dir(_) | Kind::Fifo(_) | Kind::Node => 0,
        }
    }

    fn apply(&self, attr: &SetAttr) -> Result<(), Errno> {
        if let Some(size) = attr.size {
            match &self.kind {
                Kind::File(d) => {
                    let mut d = d.write();
                    self.check_seals(false, d.len(), size as usize)?;
                    d.resize(size as usize)?
                }
                Kind::Dir(_) => return Err(Errno::EISDIR),
                Kind::Symlink(_) | Kind::Fifo(_) | Kind::Node => return Err(Errno::EINVAL),
            }
        }
        let now = Timespec::now();
        let mut m = self.meta.lock();
        if let Some(mode) = attr.mode {
            m.mode = (m.mode & libc::S_IFMT) | (mode & 0o7777);
        }
        if let Some(uid) = attr.uid {
            m.uid = uid;
        }
        if let Some(gid) = attr.gid {
            m.gid = gid;
        }
        if let Some(t) = attr.atime {
            m.atime = t;
        }
        if let Some(t) = attr.mtime {
            m.mtime = t;
        }
        if attr.size.is_some() {
            m.mtime = now;
        }
        m.ctime = now;
        Ok(())
    }

    fn stat_now(&self) -> Stat {
        let mut s = *self.meta.lock();
        s.size = self.size() as i64;
        s.blocks = (s.size + 511) / 512;
        s
    }
}

impl Inode for TmpfsInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat_now())
    }

    fn open(self: Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        open(&self, flags)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.get(name)?)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .entries()?
            .lock()
            .iter()
            .map(|(n, c)| {
                let s = c.stat_now();
                DirEntry {
                    name: n.clone(),
                    ino: s.ino,
                    kind: s.dirent_type(),
                }
            })
            .collect())
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn create(&self, name: &[u8], mode: u32) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.create_file(name, mode, Vec::new())?)
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> Result<(), Errno> {
        self.create_dir(name, mode).map(|_| ())
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        self.create_symlink(name, target).map(|_| ())
    }

    fn mknod(&self, name: &[u8], mode: u32, rdev: u64) -> Result<(), Errno> {
        self.create_node(name, mode, rdev).map(|_| ())
    }

    fn get_xattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        self.xattrs.lock().get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn set_xattr(&self, name: &[u8], value: &[u8], flags: i32) -> Result<(), Errno> {
        let mut x = self.xattrs.lock();
        let exists = x.contains_key(name);
        if exists && flags & libc::XATTR_CREATE != 0 {
            return Err(Errno::EEXIST);
        }
        if !exists && flags & libc::XATTR_REPLACE != 0 {
            return Err(Errno::ENODATA);
        }
        x.insert(name.to_vec(), value.to_vec());
        drop(x);
        self.meta.lock().ctime = Timespec::now();
        Ok(())
    }

    fn remove_xattr(&self, name: &[u8]) -> Result<(), Errno> {
        self.xattrs.lock().remove(name).ok_or(Errno::ENODATA)?;
        self.meta.lock().ctime = Timespec::now();
        Ok(())
    }

    fn list_xattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(self.xattrs.lock().keys().cloned().collect())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        self.remove(name, dir).map(|_| ())
    }

    fn rename(&self, old: &[u8], new_dir: &dyn Inode, new: &[u8]) -> Result<(), Errno> {
        let to = new_dir
            .as_any()
            .downcast_ref::<TmpfsInode>()
            .ok_or(Errno::EXDEV)?;
        self.move_to(old, to, new)
    }

    fn exchange(&self, name: &[u8], other_dir: &dyn Inode, other: &[u8]) -> Result<(), Errno> {
        let to = other_dir
            .as_any()
            .downcast_ref::<TmpfsInode>()
            .ok_or(Errno::EXDEV)?;
        self.exchange_with(name, to, other)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let any: Arc<dyn Any + Send + Sync> = target.clone();
        let t = any.downcast::<TmpfsInode>().map_err(|_| Errno::EXDEV)?;
        self.link_inode(name, t)
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.apply(attr)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Opens a tmpfs inode.
pub fn open(inode: &Arc<TmpfsInode>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
    match &inode.kind {
        Kind::Symlink(_) => return Err(Errno::ELOOP),
        Kind::Node => return Err(Errno::ENXIO),
        Kind::Fifo(fifo) => {
            return Ok(Box::new(FifoFile {
                end: fifo.open(flags)?,
                inode: inode.clone(),
            }))
        }
        _ => {}
    }
    if flags & libc::O_TRUNC != 0 {
        if let Kind::File(d) = &inode.kind {
            d.write().resize(0)?;
            inode.touch();
        }
    }
    Ok(Box::new(TmpfsFile(inode.clone())))
}

/// An open FIFO: the pipe's end, with the inode's attributes.
struct FifoFile {
    end: crate::fs::pipe::PipeEnd,
    inode: Arc<TmpfsInode>,
}

impl FileOps for FifoFile {
    fn read_flags(&self, buf: &mut [u8], off: u64, flags: i32) -> Result<usize, Errno> {
        self.end.read_flags(buf, off, flags)
    }
    fn write_flags(&self, buf: &[u8], off: u64, flags: i32) -> Result<usize, Errno> {
        self.end.write_flags(buf, off, flags)
    }
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.end.read(buf, off)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.end.write(buf, off)
    }
    fn peek(&self, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
        self.end.peek(buf, flags)
    }
    fn pipe_size(&self, set: Option<usize>) -> Result<usize, Errno> {
        self.end.pipe_size(set)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn poll(&self) -> u32 {
        self.end.poll()
    }
    fn ioctl(&self, req: u64, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        self.end.ioctl(req, arg, mm)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat_now())
    }
    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.inode.apply(attr)
    }
}

/// An open tmpfs file or directory.
pub struct TmpfsFile(Arc<TmpfsInode>);

impl FileOps for TmpfsFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        match &self.0.kind {
            Kind::File(d) => Ok(d.read().read_at(buf, off as usize)),
            Kind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        match &self.0.kind {
            Kind::File(d) => {
                let mut d = d.write();
                let len = d.len();
                self.0
                    .check_seals(true, len, len.max(off as usize + buf.len()))?;
                let n = d.write_at(buf, off as usize)?;
                drop(d);
                self.0.touch();
                Ok(n)
            }
            Kind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn seals(&self) -> Option<u32> {
        *self.0.seals.lock()
    }

    fn add_seals(&self, add: u32) -> Result<(), Errno> {
        let mut seals = self.0.seals.lock();
        // Not a memfd: sealed against seals.
        let cur = seals.ok_or(Errno::EPERM)?;
        if add & !SEALS != 0 {
            return Err(Errno::EINVAL);
        }
        if cur & libc::F_SEAL_SEAL as u32 != 0 {
            return Err(Errno::EPERM);
        }
        *seals = Some(cur | add);
        Ok(())
    }

    fn fallocate(&self, mode: i32, off: u64, len: u64) -> Result<(), Errno> {
        let Kind::File(d) = &self.0.kind else {
            return Err(Errno::ENODEV);
        };
        let (off, len) = (off as usize, len as usize);
        let mut d = d.write();
        let grows = mode & libc::FALLOC_FL_KEEP_SIZE == 0 && off + len > d.len();
        let punch = mode & libc::FALLOC_FL_PUNCH_HOLE != 0;
        let new = if grows { off + len } else { d.len() };
        self.0.check_seals(punch, d.len(), new)?;
        if mode & libc::FALLOC_FL_PUNCH_HOLE != 0 {
            d.zero_range(off, len);
        } else if mode & libc::FALLOC_FL_KEEP_SIZE == 0 && off + len > d.len() {
            d.resize(off + len)?;
        } else {
            return Ok(());
        }
        drop(d);
        self.0.touch();
        Ok(())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat_now())
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.0.readdir()
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.0.apply(attr)
    }

    fn mappable(&self) -> bool {
        matches!(self.0.kind, Kind::File(_))
    }

    fn shared_pages(&self) -> Option<(Arc<crate::mm::MemRange>, usize)> {
        match &self.0.kind {
            Kind::File(d) => d.write().shared_range().ok(),
            _ => None,
        }
    }
}
