//! The memory file: one memfd that backs every application page.
//!
//! The sentry maps the whole file once; application memory is a set of
//! ranges of it that the platform maps into application address spaces.
//! Copies to and from application memory are plain memory copies through
//! the sentry's mapping.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use parking_lot::Mutex;

use crate::errno::Errno;

/// Page size.
pub const PAGE: u64 = 4096;

/// Rounds `x` up to a page boundary (saturating).
pub fn page_up(x: u64) -> u64 {
    x.saturating_add(PAGE - 1) & !(PAGE - 1)
}

/// Rounds `x` down to a page boundary.
pub fn page_down(x: u64) -> u64 {
    x & !(PAGE - 1)
}

static GLOBAL: std::sync::OnceLock<std::sync::Arc<MemoryFile>> = std::sync::OnceLock::new();

/// Makes `mf` the memory file that filesystems keep file data in (tmpfs),
/// so that shared mappings of their files see the same pages.
pub fn set_global(mf: std::sync::Arc<MemoryFile>) {
    let _ = GLOBAL.set(mf);
}

/// The memory file filesystems keep data in (a small private one when the
/// sandbox has not set one, as in unit tests).
pub fn global() -> &'static std::sync::Arc<MemoryFile> {
    GLOBAL.get_or_init(|| {
        std::sync::Arc::new(MemoryFile::new(1 << 36).expect("memory file for file data"))
    })
}

/// The sentry's memory file with a first-fit allocator over its ranges.
pub struct MemoryFile {
    fd: OwnedFd,
    base: *mut u8,
    size: u64,
    /// Free ranges: offset -> length, coalesced.
    free: Mutex<Ranges>,
    /// Whole files shared by private mappings, by file version. Entries
    /// live as long as the sandbox.
    pub page_cache:
        Mutex<std::collections::HashMap<super::CacheKey, std::sync::Arc<super::MemRange>>>,
}

// SAFETY: `base` points to a shared mapping that lives as long as `self`;
// all mutation of the bookkeeping goes through the mutex.
unsafe impl Send for MemoryFile {}
// SAFETY: see above.
unsafe impl Sync for MemoryFile {}

impl MemoryFile {
    /// Creates a sparse memory file of `size` bytes and maps it.
    pub fn new(size: u64) -> std::io::Result<MemoryFile> {
        // SAFETY: the name is a valid C string.
        let fd = unsafe { libc::memfd_create(c"runsc-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain ftruncate on our fd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size as i64) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: mapping our own memfd; NORESERVE keeps it sparse.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let mut clean = BTreeMap::new();
        clean.insert(0, size);
        Ok(MemoryFile {
            fd,
            base: base as *mut u8,
            size,
            free: Mutex::new(Ranges {
                clean,
                ..Ranges::default()
            }),
            page_cache: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The host fd, which platforms map into application address spaces.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reserves `len` bytes (page multiple). Pages read as zero until written.
    ///
    /// Recently released ranges are used first: their pages are zeroed
    /// where the host still holds them, which is cheaper than giving them
    /// back and getting fresh ones.
    pub fn allocate(&self, len: u64) -> Result<u64, Errno> {
        let (off, dirty) = self.take(len)?;
        if dirty {
            self.zero(off, len);
        }
        Ok(off)
    }

    /// Reserves `len` bytes that hold no pages: for a reservation that is
    /// mostly mapped over before use (ld.so's PROT_NONE image span), where
    /// zeroing a recycled range would be wasted.
    pub fn allocate_clean(&self, len: u64) -> Result<u64, Errno> {
        if let Some(off) = take_first_fit(&mut self.free.lock().clean, len) {
            return Ok(off);
        }
        self.allocate(len)
    }

    /// Reserves `len` bytes holding a copy of `[src, src + len)`: like
    /// [`MemoryFile::allocate`] and [`MemoryFile::copy_populated`], but a
    /// recycled range is zeroed only where the copy does not write.
    pub fn allocate_copy(&self, src: u64, len: u64) -> Result<u64, Errno> {
        let (dst, dirty) = self.take(len)?;
        let end = src + len;
        let mut cur = src;
        while let Some((from, to)) = self.data_run(cur, end) {
            if dirty {
                self.zero(dst + (cur - src), from - cur);
            }
            self.write_from(self.ptr(from, to - from), to - from, dst + (from - src));
            cur = to;
        }
        if dirty {
            self.zero(dst + (cur - src), end - cur);
        }
        Ok(dst)
    }

    /// Takes `len` bytes from the free ranges; says whether they may hold
    /// old data (a recycled range).
    fn take(&self, len: u64) -> Result<(u64, bool), Errno> {
        let mut free = self.free.lock();
        if let Some(off) = take_first_fit(&mut free.dirty, len) {
            free.dirty_bytes -= len;
            return Ok((off, true));
        }
        if let Some(off) = take_first_fit(&mut free.clean, len) {
            return Ok((off, false));
        }
        // Out of clean space: give the recycled ranges back and retry.
        let dirty = std::mem::take(&mut free.dirty);
        free.dirty_bytes = 0;
        for (off, dlen) in dirty {
            self.punch(off, dlen);
            insert_coalesced(&mut free.clean, off, dlen);
        }
        let off = take_first_fit(&mut free.clean, len).ok_or(Errno::ENOMEM)?;
        Ok((off, false))
    }

    /// Makes `[off, off + len)` read as zero, touching only the pages the
    /// host holds.
    fn zero(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        /// Populated runs longer than this are punched rather than written.
        const WRITE_MAX: u64 = 256 << 10;
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        let end = off + len;
        let mut cur = off;
        while let Some((from, to)) = self.data_run(cur, end) {
            if to - from > WRITE_MAX {
                self.punch(from, to - from);
            } else {
                let mut at = from;
                while at < to {
                    let n = (to - at).min(ZEROS.len() as u64);
                    self.write_from(ZEROS.as_ptr(), n, at);
                    at += n;
                }
            }
            cur = to;
        }
    }

    /// The first populated run of pages in `[cur, end)`, if any.
    fn data_run(&self, cur: u64, end: u64) -> Option<(u64, u64)> {
        // SAFETY: lseek on our own fd; only the return value is used.
        let data = unsafe { libc::lseek(self.fd.as_raw_fd(), cur as i64, libc::SEEK_DATA) };
        if data < 0 || data as u64 >= end {
            return None;
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(self.fd.as_raw_fd(), data, libc::SEEK_HOLE) };
        let to = (hole.max(data) as u64).min(end).max(data as u64 + 1);
        Some((page_down(data as u64).max(cur), page_up(to).min(end)))
    }

    /// Gives the pages of `[off, off + len)` back to the host; they read as
    /// zero afterwards. The range stays allocated.
    ///
    /// A punch unmaps the range from every process that maps the file, the
    /// sentry included, which costs TLB shootdowns on every CPU: ranges
    /// that hold no page (reservations, untouched heap) are skipped.
    pub fn punch(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let end = off + len;
        // SAFETY: lseek on our own fd.
        let data = unsafe { libc::lseek(self.fd.as_raw_fd(), off as i64, libc::SEEK_DATA) };
        if data >= 0 && data as u64 >= end
            || data < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO)
        {
            return;
        }
        let start = if data > off as i64 {
            page_down(data as u64)
        } else {
            off
        };
        // SAFETY: punching a hole in our own file; the range is ours.
        unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                start as i64,
                (end - start) as i64,
            );
        }
    }

    /// Gives back the pages of `[off, off + len)`, part of an allocated
    /// range that nothing maps any more, so that their contents no longer
    /// matter (a range is zeroed before it is handed out again). Up to
    /// [`DISCARD_KEEP_MAX`] bytes of pages stay until the whole range is
    /// released: a punch costs more than they are worth (ld.so maps every
    /// library's segments over a reservation it made first).
    pub fn discard(&self, off: u64, len: u64) {
        let end = off + len;
        let mut held = 0;
        let mut cur = off;
        while let Some((from, to)) = self.data_run(cur, end) {
            held += to - from;
            if held > DISCARD_KEEP_MAX {
                self.punch(from, end - from);
                return;
            }
            cur = to;
        }
    }

    /// Returns a range to the allocator. Its pages go back to the host,
    /// unless it is kept for reuse (see [`MemoryFile::allocate`]).
    ///
    /// Punching costs tens of microseconds (unmapping from every process
    /// that maps the file, TLB shootdowns on every CPU), and a process that
    /// exits releases several ranges, so up to [`DIRTY_MAX`] bytes of
    /// released ranges wait for the next allocations instead.
    pub fn release(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let mut free = self.free.lock();
        if free.dirty_bytes + len <= DIRTY_MAX {
            free.dirty_bytes += len;
            insert_coalesced(&mut free.dirty, off, len);
            return;
        }
        drop(free);
        self.punch(off, len);
        insert_coalesced(&mut self.free.lock().clean, off, len);
    }

    /// Copies the populated pages of `[src, src + len)` to `dst` (which must
    /// read as zero); holes stay holes.
    pub fn copy_populated(&self, src: u64, dst: u64, len: u64) {
        let end = src + len;
        let mut cur = src;
        while let Some((from, to)) = self.data_run(cur, end) {
            self.write_from(self.ptr(from, to - from), to - from, dst + (from - src));
            cur = to;
        }
    }

    /// Copies `len` bytes at `src` (memory of the sentry, which may lie in
    /// this file) to offset `off` with pwrite: the kernel fills the pages
    /// without a page fault per page of the sentry's mapping, and the
    /// sentry's page tables stay out of it (less to tear down when the
    /// pages are released).
    fn write_from(&self, src: *const u8, len: u64, off: u64) {
        let mut done = 0;
        while done < len {
            // SAFETY: `src..src + len` is readable memory of ours (the
            // caller's contract) and the destination lies within the file.
            let n = unsafe {
                libc::pwrite(
                    self.fd.as_raw_fd(),
                    src.add(done as usize).cast(),
                    (len - done) as usize,
                    (off + done) as i64,
                )
            };
            if n <= 0 {
                break;
            }
            done += n as u64;
        }
        if done < len {
            // SAFETY: as above; the ranges do not overlap (they belong to
            // different allocations).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src.add(done as usize),
                    self.ptr(off + done, len - done),
                    (len - done) as usize,
                )
            };
        }
    }

    /// A pointer to offset `off` in the sentry's mapping of the file.
    ///
    /// The caller must keep `off + len` within the file and treat the memory
    /// as shared with the application (it may change at any time).
    pub fn ptr(&self, off: u64, len: u64) -> *mut u8 {
        assert!(off.checked_add(len).is_some_and(|e| e <= self.size));
        // SAFETY: in bounds by the assertion above.
        unsafe { self.base.add(off as usize) }
    }
}

/// At most this many bytes of released ranges wait for reuse.
const DIRTY_MAX: u64 = 64 << 20;

/// Discarded parts of a range holding at most this many bytes of pages
/// keep them (see [`MemoryFile::discard`]).
const DISCARD_KEEP_MAX: u64 = 64 << 10;

/// The allocator's free ranges (offset -> length, coalesced).
#[derive(Default)]
struct Ranges {
    /// Ranges the host holds no pages of.
    clean: BTreeMap<u64, u64>,
    /// Released ranges whose pages may still hold old data.
    dirty: BTreeMap<u64, u64>,
    dirty_bytes: u64,
}

/// Takes `len` bytes from the first range that has them.
fn take_first_fit(ranges: &mut BTreeMap<u64, u64>, len: u64) -> Option<u64> {
    let (&off, &flen) = ranges.iter().find(|(_, &l)| l >= len)?;
    ranges.remove(&off);
    if flen > len {
        ranges.insert(off + len, flen - len);
    }
    Some(off)
}

/// Adds `[off, off + len)`, merged with its neighbours.
fn insert_coalesced(ranges: &mut BTreeMap<u64, u64>, off: u64, len: u64) {
    let (mut start, mut end) = (off, off + len);
    if let Some((&poff, &plen)) = ranges.range(..off).next_back() {
        if poff + plen == off {
            start = poff;
            ranges.remove(&poff);
        }
    }
    if let Some(&nlen) = ranges.get(&end) {
        ranges.remove(&end);
        end += nlen;
    }
    ranges.insert(start, end - start);
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocate_and_release_coalesce() {
        let mf = MemoryFile::new(16 * PAGE).unwrap();
        let a = mf.allocate(4 * PAGE).unwrap();
        let b = mf.allocate(4 * PAGE).unwrap();
        assert_ne!(a, b);
        // SAFETY: in bounds, test only.
        unsafe { *mf.ptr(a, 1) = 7 };
        mf.release(a, 4 * PAGE);
        mf.release(b, 4 * PAGE);
        assert_eq!(mf.allocate(16 * PAGE).unwrap(), 0);
        // Released pages read as zero again.
        // SAFETY: in bounds, test only.
        assert_eq!(unsafe { *mf.ptr(a, 1) }, 0);
        assert_eq!(mf.allocate(PAGE), Err(Errno::ENOMEM));
    }

    #[test]
    fn reused_ranges_read_as_zero() {
        let mf = MemoryFile::new(64 * PAGE).unwrap();
        let a = mf.allocate(8 * PAGE).unwrap();
        for i in [0, 3, 7] {
            // SAFETY: in bounds, test only.
            unsafe { *mf.ptr(a + i * PAGE + 5, 1) = 9 };
        }
        mf.release(a, 8 * PAGE);
        // The released range is handed out again, zeroed.
        let b = mf.allocate(4 * PAGE).unwrap();
        let c = mf.allocate(4 * PAGE).unwrap();
        assert_eq!((b, c), (a, a + 4 * PAGE));
        for off in (a..a + 8 * PAGE).step_by(PAGE as usize / 2) {
            // SAFETY: in bounds, test only.
            assert_eq!(unsafe { *mf.ptr(off + 5, 1) }, 0);
        }
        // Copies carry the data over.
        // SAFETY: in bounds, test only.
        unsafe { *mf.ptr(b + PAGE, 1) = 4 };
        let d = mf.allocate(4 * PAGE).unwrap();
        mf.copy_populated(b, d, 4 * PAGE);
        // SAFETY: in bounds, test only.
        assert_eq!(unsafe { *mf.ptr(d + PAGE, 1) }, 4);
    }

    #[test]
    fn copy_into_a_recycled_range_leaves_no_old_data() {
        let mf = MemoryFile::new(64 * PAGE).unwrap();
        let old = mf.allocate(4 * PAGE).unwrap();
        for i in 0..4 {
            // SAFETY: in bounds, test only.
            unsafe { *mf.ptr(old + i * PAGE + 9, 1) = 0xee };
        }
        // The source holds data in its second page only.
        let src = mf.allocate(4 * PAGE).unwrap();
        // SAFETY: in bounds, test only.
        unsafe { *mf.ptr(src + PAGE + 1, 1) = 5 };
        mf.release(old, 4 * PAGE);
        let dst = mf.allocate_copy(src, 4 * PAGE).unwrap();
        assert_eq!(dst, old);
        for i in 0..4 {
            // SAFETY: in bounds, test only.
            assert_eq!(unsafe { *mf.ptr(dst + i * PAGE + 9, 1) }, 0);
        }
        // SAFETY: in bounds, test only.
        assert_eq!(unsafe { *mf.ptr(dst + PAGE + 1, 1) }, 5);
    }

    #[test]
    fn discard_punches_only_ranges_worth_it() {
        let mf = MemoryFile::new(256 * PAGE).unwrap();
        let a = mf.allocate(64 * PAGE).unwrap();
        let touch = |from: u64, pages: u64| {
            for i in 0..pages {
                // SAFETY: in bounds, test only.
                unsafe { *mf.ptr(from + i * PAGE, 1) = 1 };
            }
        };
        touch(a, 2);
        mf.discard(a, 8 * PAGE);
        assert!(mf.data_run(a, a + 8 * PAGE).is_some(), "two pages are kept");
        touch(a + 8 * PAGE, 32);
        mf.discard(a + 8 * PAGE, 32 * PAGE);
        assert_eq!(mf.data_run(a + 8 * PAGE, a + 40 * PAGE), None);
    }

    #[test]
    fn reservations_skip_recycled_ranges() {
        let mf = MemoryFile::new(64 * PAGE).unwrap();
        let a = mf.allocate(4 * PAGE).unwrap();
        // SAFETY: in bounds, test only.
        unsafe { *mf.ptr(a, 1) = 1 };
        mf.release(a, 4 * PAGE);
        let r = mf.allocate_clean(4 * PAGE).unwrap();
        assert_ne!(r, a);
        assert_eq!(mf.data_run(r, r + 4 * PAGE), None);
        // The recycled range still serves ordinary allocations.
        assert_eq!(mf.allocate(4 * PAGE).unwrap(), a);
    }
}
