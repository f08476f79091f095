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
    free: Mutex<BTreeMap<u64, u64>>,
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
        let mut free = BTreeMap::new();
        free.insert(0, size);
        Ok(MemoryFile {
            fd,
            base: base as *mut u8,
            size,
            free: Mutex::new(free),
            page_cache: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The host fd, which platforms map into application address spaces.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reserves `len` bytes (page multiple). Pages read as zero until written.
    pub fn allocate(&self, len: u64) -> Result<u64, Errno> {
        let mut free = self.free.lock();
        let (&off, &flen) = free.iter().find(|(_, &l)| l >= len).ok_or(Errno::ENOMEM)?;
        free.remove(&off);
        if flen > len {
            free.insert(off + len, flen - len);
        }
        Ok(off)
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

    /// Returns a range to the allocator and releases its pages to the host.
    pub fn release(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.punch(off, len);
        let mut free = self.free.lock();
        let (mut start, mut end) = (off, off + len);
        if let Some((&poff, &plen)) = free.range(..off).next_back() {
            if poff + plen == off {
                start = poff;
                free.remove(&poff);
            }
        }
        if let Some(&nlen) = free.get(&end) {
            free.remove(&end);
            end += nlen;
        }
        free.insert(start, end - start);
    }

    /// Copies the populated pages of `[src, src + len)` to `dst` (which must
    /// read as zero); holes stay holes.
    pub fn copy_populated(&self, src: u64, dst: u64, len: u64) {
        let end = src + len;
        let mut cur = src;
        while cur < end {
            // SAFETY: lseek on our own fd; only the return value is used.
            let data = unsafe { libc::lseek(self.fd.as_raw_fd(), cur as i64, libc::SEEK_DATA) };
            if data < 0 || data as u64 >= end {
                return;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(self.fd.as_raw_fd(), data, libc::SEEK_HOLE) };
            let (from, to) = (
                data as u64,
                (hole.max(data) as u64).min(end).max(data as u64 + 1),
            );
            let to = page_up(to).min(end);
            // SAFETY: both ranges lie within the file and do not overlap
            // (they belong to different allocations).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.ptr(from, to - from),
                    self.ptr(dst + (from - src), to - from),
                    (to - from) as usize,
                )
            };
            cur = to;
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
}
