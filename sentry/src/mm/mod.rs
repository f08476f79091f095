//! Application address spaces: VMAs, mmap and friends, and copies between
//! the sentry and application memory.
//!
//! Every VMA maps a contiguous part of a [`MemRange`] of the memory file
//! (anonymous pages are sparse, so reserving a large range costs nothing
//! until it is touched). Private file mappings are filled from the file when
//! they are created. The platform's [`AddressSpace`] mirrors the VMAs.
//!
//! fork shares ranges: MAP_SHARED mappings stay shared, private ones become
//! copy-on-write at VMA granularity: both processes map them read-only, and
//! the first write (a fault, or the sentry writing for a syscall) gives the
//! writer its own copy of the VMA's populated pages, or just write access
//! back when nobody else holds the range any more.

pub mod filedata;
pub mod memfile;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use platform::{AddressSpace, Perms};

use crate::errno::Errno;
pub use filedata::FileData;
pub use memfile::{page_down, page_up, MemoryFile, PAGE};

/// Something whose bytes can back a private file mapping.
pub trait MapSource: Send + Sync {
    /// Reads at `off` into `buf`; returns how much was read (0 at EOF).
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno>;
}

/// What a new mapping contains.
pub enum Backing {
    /// Zero-filled memory.
    Anon,
    /// A copy of `source` starting at file offset `offset`.
    File {
        /// The file.
        source: Arc<dyn MapSource>,
        /// File offset of the first byte.
        offset: u64,
        /// Name for diagnostics (/proc/pid/maps).
        name: Arc<str>,
        /// Identifies this version of the file for the page cache; None
        /// for files that must not be cached.
        cache_key: Option<CacheKey>,
    },
    /// The pages of a file kept in the memory file, shared (MAP_SHARED of a
    /// tmpfs file): `range` from byte `offset`.
    Shared {
        /// The file's pages.
        range: Arc<MemRange>,
        /// Offset into them.
        offset: u64,
        /// Name for diagnostics.
        name: Arc<str>,
    },
}

/// A file version in the page cache: (device, inode, size, mtime seconds,
/// mtime nanoseconds). A changed file gets a new key.
pub type CacheKey = (u64, u64, i64, i64, i64);

/// The page-cache key of a regular file with attributes `st`.
pub fn cache_key(st: &crate::vfs::Stat) -> Option<CacheKey> {
    (st.file_type() == libc::S_IFREG).then_some((
        st.dev,
        st.ino,
        st.size,
        st.mtime.sec,
        st.mtime.nsec,
    ))
}

/// Private writable file mappings up to this size get their own copy of
/// the cached pages when they are made (see `MemoryManager::mmap`).
const EAGER_COPY_MAX: u64 = 256 << 10;

/// Files up to this size are cached whole in the memory file and shared by
/// every private mapping of them (copy-on-write).
const PAGE_CACHE_MAX_FILE: i64 = 64 << 20;

/// The file behind a file mapping, for refills (mremap growth, MADV_DONTNEED).
#[derive(Clone)]
pub struct FileRef {
    /// The file.
    pub source: Arc<dyn MapSource>,
    /// File offset of the VMA's first byte.
    pub offset: u64,
}

impl std::fmt::Debug for FileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileRef(offset {:#x})", self.offset)
    }
}

/// A range of the memory file, returned to it when the last VMA (in any
/// address space) that maps it goes away.
pub struct MemRange {
    mf: Arc<MemoryFile>,
    off: u64,
    /// Length in bytes (page multiple).
    pub len: u64,
}

impl MemRange {
    /// Memory-file offset of the range.
    pub fn offset(&self) -> u64 {
        self.off
    }

    /// Allocates `len` bytes (zero-filled).
    pub fn new(mf: &Arc<MemoryFile>, len: u64) -> Result<Arc<MemRange>, Errno> {
        Ok(Self::owning(mf, mf.allocate(len)?, len))
    }

    /// Allocates `len` bytes (zero, holding no pages) for an inaccessible
    /// reservation.
    pub fn reserve(mf: &Arc<MemoryFile>, len: u64) -> Result<Arc<MemRange>, Errno> {
        Ok(Self::owning(mf, mf.allocate_clean(len)?, len))
    }

    /// Allocates `len` bytes holding a copy of memory-file offset `src`.
    pub fn copy_of(mf: &Arc<MemoryFile>, src: u64, len: u64) -> Result<Arc<MemRange>, Errno> {
        Ok(Self::owning(mf, mf.allocate_copy(src, len)?, len))
    }

    /// The range `[off, off + len)` just allocated from `mf`.
    fn owning(mf: &Arc<MemoryFile>, off: u64, len: u64) -> Arc<MemRange> {
        Arc::new(MemRange {
            mf: mf.clone(),
            off,
            len,
        })
    }
}

impl Drop for MemRange {
    fn drop(&mut self) {
        self.mf.release(self.off, self.len);
    }
}

/// One virtual memory area.
#[derive(Clone)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Protection the application asked for.
    pub perms: Perms,
    /// The memory behind it.
    pub range: Arc<MemRange>,
    /// Memory-file offset of `start` (inside `range`).
    pub memoff: u64,
    /// MAP_SHARED: stays shared across fork.
    pub shared: bool,
    /// The range may be shared with another address space: copy before
    /// writing. Mapped without write permission until then.
    pub cow: bool,
    /// What it maps, for diagnostics.
    pub name: Option<Arc<str>>,
    /// The file of a file mapping.
    pub file: Option<FileRef>,
}

impl std::fmt::Debug for Vma {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Vma({:#x}-{:#x} {:?} memoff {:#x}{}{})",
            self.start,
            self.end,
            self.perms,
            self.memoff,
            if self.shared { " shared" } else { "" },
            if self.cow { " cow" } else { "" }
        )
    }
}

impl Vma {
    fn len(&self) -> u64 {
        self.end - self.start
    }

    /// The part of `self` in `[start, end)`.
    fn slice(&self, start: u64, end: u64) -> Vma {
        Vma {
            start,
            end,
            memoff: self.memoff + (start - self.start),
            file: self.file.as_ref().map(|f| FileRef {
                source: f.source.clone(),
                offset: f.offset + (start - self.start),
            }),
            ..self.clone()
        }
    }

    /// The protection the platform maps it with.
    fn host_perms(&self) -> Perms {
        Perms {
            write: self.perms.write && !self.cow,
            ..self.perms
        }
    }

    /// Gives the pages of this piece back to the host when no one else can
    /// see them (the range is private and not shared by fork).
    fn discard_pages(&self) {
        if !self.shared && !self.cow {
            self.range.mf.discard(self.memoff, self.len());
        }
    }
}

/// How `mmap` may choose the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; `addr` is a hint.
    Hint(u64),
    /// Exactly at `addr`, replacing what is there.
    Fixed(u64),
    /// Exactly at `addr`, failing with EEXIST if anything is there.
    FixedNoReplace(u64),
}

struct Inner {
    vmas: BTreeMap<u64, Vma>,
    brk_start: u64,
    brk: u64,
}

/// A copy of an address space's mappings, between fork and the child's start.
pub struct Snapshot {
    vmas: Vec<Vma>,
    brk_start: u64,
    brk: u64,
}

/// An application address space as the sentry sees it.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    asp: Arc<dyn AddressSpace>,
    /// Lowest and one-past-highest usable address.
    lo: u64,
    hi: u64,
    /// Top of the area where mmap places mappings (below the stack).
    mmap_top: u64,
    inner: Mutex<Inner>,
    /// Bumped by every change to the host's view of the address space.
    changes: std::sync::atomic::AtomicU64,
}

/// The largest stack an application gets (RLIMIT_STACK's default).
pub const STACK_SIZE: u64 = 8 << 20;

fn platform_err(e: platform::Error) -> Errno {
    log::warn!("platform: {e}");
    Errno::ENOMEM
}

impl MemoryManager {
    /// An empty address space over `asp`, usable in `[lo, hi)`.
    pub fn new(mf: Arc<MemoryFile>, asp: Arc<dyn AddressSpace>, lo: u64, hi: u64) -> Self {
        MemoryManager {
            mf,
            asp,
            lo,
            hi,
            mmap_top: hi - STACK_SIZE - (256 << 20),
            changes: std::sync::atomic::AtomicU64::new(0),
            inner: Mutex::new(Inner {
                vmas: BTreeMap::new(),
                brk_start: 0,
                brk: 0,
            }),
        }
    }

    /// The futex key of the word at `addr`: the memory itself for shared
    /// mappings (so processes sharing it meet) unless `private`, else this
    /// address space.
    pub fn futex_key(&self, addr: u64, private: bool) -> Result<(usize, u64), Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        let inner = self.inner.lock();
        let vma = inner
            .vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.end > addr)
            .ok_or(Errno::EFAULT)?;
        Ok(if vma.shared && !private {
            (0, vma.memoff + (addr - vma.start))
        } else {
            (self as *const Self as usize, addr)
        })
    }

    /// The platform's address space, for a change to it.
    fn host(&self) -> &Arc<dyn AddressSpace> {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        &self.asp
    }

    /// How many changes the host's view has seen: a fault taken before a
    /// change that another thread made meanwhile may be stale.
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The platform's view of this address space.
    pub fn address_space(&self) -> &Arc<dyn AddressSpace> {
        &self.asp
    }

    /// The top of the application stack.
    pub fn stack_top(&self) -> u64 {
        self.hi
    }

    /// Shares the whole address space for fork: shared mappings stay
    /// shared, private ones become copy-on-write in both processes.
    pub fn snapshot(&self) -> Result<Snapshot, Errno> {
        let mut inner = self.inner.lock();
        let mut vmas = Vec::with_capacity(inner.vmas.len());
        for v in inner.vmas.values_mut() {
            if !v.shared && !v.cow {
                v.cow = true;
                if v.perms.write {
                    self.host()
                        .protect(v.start, v.len(), v.host_perms())
                        .map_err(platform_err)?;
                }
            }
            vmas.push(v.clone());
        }
        Ok(Snapshot {
            vmas,
            brk_start: inner.brk_start,
            brk: inner.brk,
        })
    }

    /// An address space over `asp` holding the mappings of `snap`.
    pub fn from_snapshot(
        mf: Arc<MemoryFile>,
        asp: Arc<dyn AddressSpace>,
        lo: u64,
        hi: u64,
        snap: Snapshot,
    ) -> Result<Self, Errno> {
        let mm = MemoryManager::new(mf, asp, lo, hi);
        {
            let mut inner = mm.inner.lock();
            inner.brk_start = snap.brk_start;
            inner.brk = snap.brk;
            for v in snap.vmas {
                mm.asp
                    .map(v.start, v.len(), v.memoff, v.host_perms())
                    .map_err(platform_err)?;
                inner.vmas.insert(v.start, v);
            }
        }
        Ok(mm)
    }

    /// Maps the vDSO: its parameter page (read-only, shared) and right after
    /// it the image (read and execute). Returns the image's address.
    pub fn map_vdso(
        &self,
        params: &Arc<MemRange>,
        image: &Arc<MemRange>,
        image_len: u64,
    ) -> Result<u64, Errno> {
        let mut inner = self.inner.lock();
        let base = inner.find_gap(PAGE + image_len, self.lo, self.mmap_top)?;
        let ro = Perms {
            read: true,
            write: false,
            exec: false,
        };
        let rx = Perms { exec: true, ..ro };
        let vmas = [
            Vma {
                start: base,
                end: base + PAGE,
                perms: ro,
                range: params.clone(),
                memoff: params.off,
                shared: true,
                cow: false,
                name: Some("[vvar]".into()),
                file: None,
            },
            Vma {
                start: base + PAGE,
                end: base + PAGE + image_len,
                perms: rx,
                range: image.clone(),
                memoff: image.off,
                shared: false,
                cow: true,
                name: Some("[vdso]".into()),
                file: None,
            },
        ];
        for v in vmas {
            self.host()
                .map(v.start, v.len(), v.memoff, v.host_perms())
                .map_err(platform_err)?;
            inner.vmas.insert(v.start, v);
        }
        Ok(base + PAGE)
    }

    /// Sets the start of the heap (end of the executable's bss).
    pub fn set_brk_start(&self, addr: u64) {
        let mut inner = self.inner.lock();
        inner.brk_start = page_up(addr);
        inner.brk = addr;
    }

    /// Bytes mapped, for RLIMIT_AS.
    pub fn mapped_bytes(&self) -> u64 {
        self.inner.lock().vmas.values().map(|v| v.len()).sum()
    }

    /// A snapshot of the VMAs, in address order.
    pub fn vmas(&self) -> Vec<Vma> {
        self.inner.lock().vmas.values().cloned().collect()
    }

    /// Creates a mapping and returns its address.
    pub fn mmap(
        &self,
        place: Placement,
        len: u64,
        perms: Perms,
        shared: bool,
        backing: Backing,
    ) -> Result<u64, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        if len == 0 || len > self.hi - self.lo {
            return Err(Errno::ENOMEM);
        }
        let mut inner = self.inner.lock();
        let addr = match place {
            Placement::Fixed(a) | Placement::FixedNoReplace(a) => {
                if !a.is_multiple_of(PAGE) {
                    return Err(Errno::EINVAL);
                }
                if a < self.lo || a.checked_add(len).is_none_or(|e| e > self.hi) {
                    return Err(Errno::ENOMEM);
                }
                if matches!(place, Placement::FixedNoReplace(_))
                    && inner.overlaps(a, a + len).next().is_some()
                {
                    return Err(Errno::EEXIST);
                }
                a
            }
            Placement::Hint(h) => {
                let h = page_down(h);
                if h >= self.lo
                    && h.checked_add(len).is_some_and(|e| e <= self.hi)
                    && inner.overlaps(h, h + len).next().is_none()
                {
                    h
                } else {
                    inner.find_gap(len, self.lo, self.mmap_top)?
                }
            }
        };
        if let Backing::Shared {
            range,
            offset,
            name,
        } = backing
        {
            if offset + len > range.len {
                return Err(Errno::ENOMEM);
            }
            Self::remove_range(&mut inner, addr, addr + len);
            let vma = Vma {
                start: addr,
                end: addr + len,
                perms,
                memoff: range.off + offset,
                range,
                shared: true,
                cow: false,
                name: Some(name),
                file: None,
            };
            self.host()
                .map(addr, len, vma.memoff, vma.host_perms())
                .map_err(platform_err)?;
            inner.vmas.insert(addr, vma);
            return Ok(addr);
        }
        let (name, file, key) = match backing {
            Backing::Anon => (None, None, None),
            Backing::Shared { .. } => unreachable!("handled above"),
            Backing::File {
                source,
                offset,
                name,
                cache_key,
            } => (Some(name), Some(FileRef { source, offset }), cache_key),
        };
        // Private mappings of cacheable files share the cached pages. The
        // part past the end of the file (ld.so reserves a whole image that
        // way before it maps the segments over it) gets fresh pages.
        let cached_len = match (&file, key) {
            (Some(f), Some(k)) if !shared && k.2 <= PAGE_CACHE_MAX_FILE => {
                page_up(k.2 as u64).saturating_sub(f.offset).min(len)
            }
            _ => 0,
        };
        let mut pieces = Vec::with_capacity(2);
        if let (Some(f), Some(k), true) = (&file, key, cached_len > 0) {
            let cache = self.cached_file(f, k)?;
            // A small writable one (a data segment) is written at once: copy
            // it now rather than on the first write fault.
            let (range, memoff, cow) = if perms.write && cached_len <= EAGER_COPY_MAX {
                let own = MemRange::copy_of(&self.mf, cache.off + f.offset, cached_len)?;
                let off = own.off;
                (own, off, false)
            } else {
                let off = cache.off + f.offset;
                (cache, off, true)
            };
            pieces.push(Vma {
                start: addr,
                end: addr + cached_len,
                perms,
                memoff,
                range,
                shared,
                cow,
                name: name.clone(),
                file: file.clone(),
            });
        }
        if cached_len < len {
            let rest = len - cached_len;
            let range = if perms == Perms::NONE {
                MemRange::reserve(&self.mf, rest)?
            } else {
                MemRange::new(&self.mf, rest)?
            };
            let file = file.map(|f| FileRef {
                source: f.source,
                offset: f.offset + cached_len,
            });
            if let (Some(f), 0) = (&file, cached_len) {
                self.fill(range.off, rest, f.source.as_ref(), f.offset)?;
            }
            pieces.push(Vma {
                start: addr + cached_len,
                end: addr + len,
                perms,
                memoff: range.off,
                range,
                shared,
                cow: false,
                name,
                file,
            });
        }
        Self::remove_range(&mut inner, addr, addr + len);
        for vma in pieces {
            self.host()
                .map(vma.start, vma.len(), vma.memoff, vma.host_perms())
                .map_err(platform_err)?;
            inner.vmas.insert(vma.start, vma);
        }
        Ok(addr)
    }

    /// The whole file `key`, from the page cache or read into it now.
    fn cached_file(&self, f: &FileRef, key: CacheKey) -> Result<Arc<MemRange>, Errno> {
        let mut cache = self.mf.page_cache.lock();
        if let Some(r) = cache.get(&key) {
            return Ok(r.clone());
        }
        let len = page_up(key.2 as u64).max(PAGE);
        let range = MemRange::new(&self.mf, len)?;
        self.fill(range.off, len, f.source.as_ref(), 0)?;
        cache.insert(key, range.clone());
        Ok(range)
    }

    fn fill(&self, memoff: u64, len: u64, src: &dyn MapSource, off: u64) -> Result<(), Errno> {
        let ptr = self.mf.ptr(memoff, len);
        // SAFETY: the range was just allocated for us and is not mapped by
        // the application yet.
        let buf = unsafe { std::slice::from_raw_parts_mut(ptr, len as usize) };
        let mut done = 0;
        while done < buf.len() {
            let n = src.read_at(&mut buf[done..], off + done as u64)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(())
    }

    /// Drops VMAs in `[start, end)` from the bookkeeping and gives their
    /// private pages back (the caller updates the platform).
    fn remove_range(inner: &mut Inner, start: u64, end: u64) {
        for vma in inner.split_out(start, end) {
            vma.discard_pages();
        }
    }

    /// `munmap(2)`.
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(page_up(len)).ok_or(Errno::EINVAL)?;
        if end > self.hi || addr < self.lo {
            return if end > 0x7fff_ffff_f000 {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            };
        }
        let mut inner = self.inner.lock();
        if inner.overlaps(addr, end).next().is_none() {
            return Ok(());
        }
        Self::remove_range(&mut inner, addr, end);
        self.host().unmap(addr, end - addr).map_err(platform_err)
    }

    /// `mprotect(2)`.
    pub fn mprotect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(page_up(len)).ok_or(Errno::ENOMEM)?;
        let mut inner = self.inner.lock();
        if !inner.covered(addr, end) {
            return Err(Errno::ENOMEM);
        }
        for mut vma in inner.split_out(addr, end) {
            vma.perms = perms;
            self.host()
                .protect(vma.start, vma.len(), vma.host_perms())
                .map_err(platform_err)?;
            inner.vmas.insert(vma.start, vma);
        }
        Ok(())
    }

    /// `brk(2)`: returns the new (or unchanged) break.
    pub fn brk(&self, addr: u64) -> u64 {
        let mut inner = self.inner.lock();
        let cur = inner.brk;
        if addr < inner.brk_start || addr > inner.brk_start + (1 << 40) {
            return cur;
        }
        let (old_end, new_end) = (page_up(cur), page_up(addr));
        if new_end > old_end {
            if inner.overlaps(old_end, new_end).next().is_some() || new_end > self.mmap_top {
                return cur;
            }
            let rw = Perms {
                read: true,
                write: true,
                exec: false,
            };
            let Ok(range) = MemRange::new(&self.mf, new_end - old_end) else {
                return cur;
            };
            if self
                .asp
                .map(old_end, new_end - old_end, range.off, rw)
                .is_err()
            {
                return cur;
            }
            inner.vmas.insert(
                old_end,
                Vma {
                    start: old_end,
                    end: new_end,
                    perms: rw,
                    memoff: range.off,
                    range,
                    shared: false,
                    cow: false,
                    name: Some("[heap]".into()),
                    file: None,
                },
            );
        } else if new_end < old_end {
            Self::remove_range(&mut inner, new_end, old_end);
            if self.host().unmap(new_end, old_end - new_end).is_err() {
                return cur;
            }
        }
        inner.brk = addr;
        addr
    }

    /// `mremap(2)` without MREMAP_DONTUNMAP.
    pub fn mremap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed: Option<u64>,
    ) -> Result<u64, Errno> {
        if !old.is_multiple_of(PAGE) || new_len == 0 {
            return Err(Errno::EINVAL);
        }
        let (old_len, new_len) = (page_up(old_len), page_up(new_len));
        if old_len == 0 {
            return Err(Errno::EINVAL);
        }
        let old_end = old.checked_add(old_len).ok_or(Errno::EFAULT)?;
        let mut inner = self.inner.lock();
        if !inner.covered(old, old_end) {
            return Err(Errno::EFAULT);
        }
        if fixed.is_none() && new_len <= old_len {
            if new_len < old_len {
                Self::remove_range(&mut inner, old + new_len, old_end);
                self.host()
                    .unmap(old + new_len, old_len - new_len)
                    .map_err(platform_err)?;
            }
            return Ok(old);
        }
        let template = inner
            .vmas
            .range(..old_end)
            .next_back()
            .unwrap()
            .1
            .slice(old, old_end);
        // Grow in place if the pages after the mapping are free.
        if fixed.is_none()
            && old + new_len <= self.hi
            && inner.overlaps(old_end, old + new_len).next().is_none()
        {
            self.extend(&mut inner, &template, old_end, old + new_len)?;
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let dest = match fixed {
            Some(d) => {
                if !d.is_multiple_of(PAGE) {
                    return Err(Errno::EINVAL);
                }
                if d.checked_add(new_len).is_none_or(|e| e > self.hi) || d < self.lo {
                    return Err(Errno::EINVAL);
                }
                if d < old_end && old < d + new_len {
                    return Err(Errno::EINVAL);
                }
                Self::remove_range(&mut inner, d, d + new_len);
                d
            }
            None => inner.find_gap(new_len, self.lo, self.mmap_top)?,
        };
        // Move: the same memory, mapped at the new address.
        let keep = old_len.min(new_len);
        for vma in inner.split_out(old, old_end) {
            let off = vma.start - old;
            if off >= keep {
                vma.discard_pages();
                continue;
            }
            let take = vma.len().min(keep - off);
            if take < vma.len() {
                vma.slice(vma.start + take, vma.end).discard_pages();
            }
            let mut nv = vma.slice(vma.start, vma.start + take);
            nv.start = dest + off;
            nv.end = dest + off + take;
            self.host()
                .map(nv.start, take, nv.memoff, nv.host_perms())
                .map_err(platform_err)?;
            inner.vmas.insert(nv.start, nv);
        }
        self.host().unmap(old, old_len).map_err(platform_err)?;
        if new_len > old_len {
            self.extend(&mut inner, &template, dest + old_len, dest + new_len)?;
        }
        Ok(dest)
    }

    /// Maps fresh pages at `[start, end)` continuing `like` (which ends at
    /// `start` in the application's view): zeroes, or the file's next bytes.
    fn extend(&self, inner: &mut Inner, like: &Vma, start: u64, end: u64) -> Result<(), Errno> {
        let len = end - start;
        let range = MemRange::new(&self.mf, len)?;
        let file = like.file.as_ref().map(|f| FileRef {
            source: f.source.clone(),
            offset: f.offset + (like.end - like.start),
        });
        if let Some(f) = &file {
            self.fill(range.off, len, f.source.as_ref(), f.offset)?;
        }
        self.host()
            .map(start, len, range.off, like.perms)
            .map_err(platform_err)?;
        inner.vmas.insert(
            start,
            Vma {
                start,
                end,
                memoff: range.off,
                range,
                cow: false,
                file,
                ..like.clone()
            },
        );
        Ok(())
    }

    /// Gives the VMA at `key` its own copy of its pages (or just write
    /// access, when nobody else holds the range).
    fn break_cow(&self, inner: &mut Inner, key: u64) -> Result<(), Errno> {
        let vma = inner.vmas.get_mut(&key).ok_or(Errno::EFAULT)?;
        if !vma.cow {
            return Ok(());
        }
        if Arc::strong_count(&vma.range) > 1 {
            let range = MemRange::copy_of(&self.mf, vma.memoff, vma.len())?;
            vma.memoff = range.off;
            vma.range = range;
            vma.cow = false;
            self.host()
                .map(vma.start, vma.len(), vma.memoff, vma.host_perms())
                .map_err(platform_err)
        } else {
            vma.cow = false;
            self.host()
                .protect(vma.start, vma.len(), vma.host_perms())
                .map_err(platform_err)
        }
    }

    /// Breaks copy-on-write for every VMA in `[addr, addr + len)` that the
    /// application may write.
    fn prepare_write(&self, inner: &mut Inner, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr.saturating_add(len);
        let keys: Vec<u64> = inner
            .overlaps(addr, end)
            .filter(|v| v.cow && v.perms.write)
            .map(|v| v.start)
            .collect();
        for k in keys {
            self.break_cow(inner, k)?;
        }
        Ok(())
    }

    /// Resolves a fault at `addr` that copy-on-write explains; returns
    /// whether the application can simply retry.
    pub fn handle_fault(&self, addr: u64) -> bool {
        let mut inner = self.inner.lock();
        let Some(key) = inner
            .vmas
            .range(..=addr)
            .next_back()
            .filter(|(_, v)| v.end > addr && v.cow && v.perms.write)
            .map(|(&k, _)| k)
        else {
            return false;
        };
        self.break_cow(&mut inner, key).is_ok()
    }

    /// The accessible prefix of `[addr, addr + len)` as pieces of the
    /// sentry's mapping, and whether the whole range was accessible.
    /// Used for I/O straight between host fds and application memory.
    pub fn chunks(&self, addr: u64, len: usize, write: bool) -> (Vec<Chunk>, bool) {
        let mut out = Vec::new();
        let Some(end) = addr.checked_add(len as u64) else {
            return (out, false);
        };
        let mut inner = self.inner.lock();
        if write && self.prepare_write(&mut inner, addr, len as u64).is_err() {
            return (out, false);
        }
        let mut cur = addr;
        while cur < end {
            let Some(vma) = inner
                .vmas
                .range(..=cur)
                .next_back()
                .map(|(_, v)| v)
                .filter(|v| v.end > cur)
            else {
                return (out, false);
            };
            let ok = if write {
                vma.perms.write
            } else {
                vma.perms.read || vma.perms.exec
            };
            if !ok {
                return (out, false);
            }
            let take = (vma.end.min(end) - cur) as usize;
            let ptr = self.mf.ptr(vma.memoff + (cur - vma.start), take as u64);
            out.push(Chunk { ptr, len: take });
            cur += take as u64;
        }
        (out, true)
    }

    /// Fails with ENOMEM unless all of `[addr, addr + len)` is mapped.
    pub fn check_mapped(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr.checked_add(page_up(len)).ok_or(Errno::ENOMEM)?;
        if !self.inner.lock().covered(addr, end) {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Drops the contents of `[addr, addr + len)` (MADV_DONTNEED): anonymous
    /// private memory reads as zero again, private file pages as the file.
    pub fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr.checked_add(page_up(len)).ok_or(Errno::EINVAL)?;
        let mut inner = self.inner.lock();
        if !inner.covered(addr, end) {
            return Err(Errno::ENOMEM);
        }
        let keys: Vec<u64> = inner
            .overlaps(addr, end)
            .filter(|v| !v.shared)
            .map(|v| v.start)
            .collect();
        for k in keys {
            self.break_cow(&mut inner, k)?;
        }
        for v in inner.overlaps(addr, end) {
            let (s, e) = (v.start.max(addr), v.end.min(end));
            let off = v.memoff + (s - v.start);
            if v.shared {
                continue;
            }
            self.mf.punch(off, e - s);
            if let Some(f) = &v.file {
                self.fill(off, e - s, f.source.as_ref(), f.offset + (s - v.start))?;
            }
        }
        Ok(())
    }

    /// Copies application memory at `addr` into `buf`.
    pub fn copy_in(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let (chunks, complete) = self.chunks(addr, buf.len(), false);
        if !complete {
            return Err(Errno::EFAULT);
        }
        let mut done = 0;
        for c in chunks {
            buf[done..done + c.len].copy_from_slice(c.as_slice());
            done += c.len;
        }
        Ok(())
    }

    /// Copies `data` to application memory at `addr`.
    pub fn copy_out(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let (chunks, complete) = self.chunks(addr, data.len(), true);
        if !complete {
            return Err(Errno::EFAULT);
        }
        let mut done = 0;
        for c in chunks {
            c.as_mut_slice().copy_from_slice(&data[done..done + c.len]);
            done += c.len;
        }
        Ok(())
    }

    /// Writes `data` at `addr` even if the pages are not writable by the
    /// application (the loader clearing a read-only segment's tail, say).
    pub fn poke(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        let key = inner
            .vmas
            .range(..=addr)
            .next_back()
            .filter(|(_, v)| v.end >= addr + data.len() as u64)
            .map(|(&k, _)| k)
            .ok_or(Errno::EFAULT)?;
        self.break_cow(&mut inner, key)?;
        let vma = &inner.vmas[&key];
        let p = self
            .mf
            .ptr(vma.memoff + (addr - vma.start), data.len() as u64);
        // SAFETY: bounds checked against the VMA just above.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    /// Fails with ENAMETOOLONG if no NUL is found within `max` bytes.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut cur = addr;
        loop {
            // Read a little at a time (strings are mostly short, and often
            // packed together, as argv and envp are), never past the end of
            // the page, so we never fault past the string.
            const STEP: u64 = 256;
            let chunk = (PAGE - cur % PAGE).min(STEP) as usize;
            let start = out.len();
            out.resize(start + chunk, 0);
            self.copy_in(cur, &mut out[start..])?;
            if let Some(i) = out[start..].iter().position(|&b| b == 0) {
                out.truncate(start + i);
                if out.len() > max {
                    return Err(Errno::ENAMETOOLONG);
                }
                return Ok(out);
            }
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            cur += chunk as u64;
        }
    }

    /// Reads a plain-data value.
    pub fn read_obj<T: Plain>(&self, addr: u64) -> Result<T, Errno> {
        let mut v = T::zeroed();
        // SAFETY: T is plain data, any bytes are a valid T.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(&mut v as *mut T as *mut u8, std::mem::size_of::<T>())
        };
        self.copy_in(addr, bytes)?;
        Ok(v)
    }

    /// Writes a plain-data value.
    pub fn write_obj<T: Plain>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        // SAFETY: T is plain data with no padding requirements for reading.
        let bytes = unsafe {
            std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>())
        };
        self.copy_out(addr, bytes)
    }
}

impl Inner {
    /// VMAs that intersect `[start, end)`.
    fn overlaps(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self
            .vmas
            .range(..=start)
            .next_back()
            .filter(|(_, v)| v.end > start)
            .map(|(&k, _)| k)
            .unwrap_or(start);
        self.vmas.range(first..end).map(|(_, v)| v)
    }

    /// Whether every page of `[start, end)` is mapped.
    fn covered(&self, start: u64, end: u64) -> bool {
        let mut cur = start;
        for v in self.overlaps(start, end) {
            if v.start > cur {
                return false;
            }
            cur = v.end;
        }
        cur >= end
    }

    /// Removes `[start, end)` from the map, splitting VMAs at the edges, and
    /// returns the removed pieces.
    fn split_out(&mut self, start: u64, end: u64) -> Vec<Vma> {
        let keys: Vec<u64> = self.overlaps(start, end).map(|v| v.start).collect();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let v = self.vmas.remove(&k).unwrap();
            if v.start < start {
                self.vmas.insert(v.start, v.slice(v.start, start));
            }
            if v.end > end {
                self.vmas.insert(end, v.slice(end, v.end));
            }
            out.push(v.slice(v.start.max(start), v.end.min(end)));
        }
        out
    }

    /// The highest free gap of `len` bytes in `[lo, top)`.
    fn find_gap(&self, len: u64, lo: u64, top: u64) -> Result<u64, Errno> {
        let mut ceiling = top;
        for v in self.vmas.range(..top).rev() {
            let v = v.1;
            if v.end <= ceiling && ceiling - v.end >= len {
                return Ok(ceiling - len);
            }
            ceiling = ceiling.min(v.start);
        }
        if ceiling >= lo + len {
            return Ok(ceiling - len);
        }
        Err(Errno::ENOMEM)
    }
}

/// A piece of application memory as seen through the sentry's mapping.
///
/// The memory is shared with the application, which may change it at any
/// time; treat it as plain bytes.
#[derive(Clone, Copy, Debug)]
pub struct Chunk {
    /// Start in the sentry's address space.
    pub ptr: *mut u8,
    /// Length in bytes.
    pub len: usize,
}

impl Chunk {
    /// The bytes, for reading.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the memory file mapping outlives every chunk, and the range
        // was bounds-checked when the chunk was made.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The bytes, for writing.
    #[allow(clippy::mut_from_ref)]
    pub fn as_mut_slice(&self) -> &mut [u8] {
        // SAFETY: as above; application memory is plain bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// Types that are plain bytes: any bit pattern is valid, no pointers.
///
/// # Safety
/// Implement only for `repr(C)` types made of integers.
pub unsafe trait Plain: Copy {
    /// An all-zero value.
    fn zeroed() -> Self {
        // SAFETY: all-zero is valid for plain data.
        unsafe { std::mem::zeroed() }
    }
}

macro_rules! plain {
    ($($t:ty),*) => { $(
        // SAFETY: integer-only C types.
        unsafe impl Plain for $t {}
    )* };
}
plain!(
    u8,
    u16,
    u32,
    u64,
    i32,
    i64,
    [u64; 2],
    [i32; 2],
    libc::timespec,
    libc::timeval,
    [libc::timeval; 2],
    libc::iovec,
    libc::stat,
    libc::statx,
    libc::statx_timestamp,
    libc::utsname,
    libc::sysinfo,
    libc::rlimit,
    libc::termios,
    libc::winsize,
    libc::statfs,
    libc::tms,
    libc::rusage,
    libc::flock
);
