//! The platform's own guest memory: ring-0 code, descriptor tables, vCPU
//! regions and page-table pages. It is one anonymous host mapping, given to
//! the guest as a memory slot at [`PLATFORM_GPA`] and mapped (supervisor
//! only) at [`PLATFORM_VA`].

use parking_lot::Mutex;
use platform::{Error, Result};

use crate::layout::{platform_mem, PLATFORM_GPA, PLATFORM_SIZE, PLATFORM_VA};

/// Page size.
pub const PAGE: u64 = 4096;

/// The platform memory and its page-table page allocator.
pub struct PlatformMemory {
    host: *mut u8,
    /// Next never-used page-table page (offset).
    next_table: Mutex<u64>,
}

// SAFETY: `host` is a mapping that lives as long as `self`; the allocator
// state is behind a mutex, and page contents are written either by the one
// owner of a page table (under its lock) or by ring-0 code.
unsafe impl Send for PlatformMemory {}
// SAFETY: see above.
unsafe impl Sync for PlatformMemory {}

impl PlatformMemory {
    /// Reserves the memory (pages are populated when first touched).
    pub fn new() -> Result<PlatformMemory> {
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let host = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PLATFORM_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if host == libc::MAP_FAILED {
            return Err(Error::last_os("mmap platform memory"));
        }
        Ok(PlatformMemory {
            host: host as *mut u8,
            next_table: Mutex::new(platform_mem::TABLES),
        })
    }

    /// The host address of the whole memory (for the memory slot).
    pub fn host_base(&self) -> u64 {
        self.host as u64
    }

    /// Host pointer to the byte at offset `off`.
    pub fn ptr(&self, off: u64) -> *mut u8 {
        assert!(off < PLATFORM_SIZE, "platform memory offset {off:#x}");
        // SAFETY: in bounds of the mapping (checked above).
        unsafe { self.host.add(off as usize) }
    }

    /// Host pointer to the u64 at offset `off`.
    pub fn u64_at(&self, off: u64) -> *mut u64 {
        debug_assert_eq!(off % 8, 0);
        self.ptr(off) as *mut u64
    }

    /// Copies `bytes` to offset `off`.
    pub fn write(&self, off: u64, bytes: &[u8]) {
        assert!(off + bytes.len() as u64 <= PLATFORM_SIZE);
        // SAFETY: in bounds; the source is a distinct Rust slice.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr(off), bytes.len()) };
    }

    /// A zeroed page for a page table; returns its offset.
    pub fn alloc_table(&self) -> Result<u64> {
        let mut next = self.next_table.lock();
        if *next + PAGE > PLATFORM_SIZE {
            return Err(Error::Unavailable(
                "kvm: out of page-table memory".to_string(),
            ));
        }
        let off = *next;
        *next += PAGE;
        // Never-used pages of an anonymous mapping are zero.
        Ok(off)
    }
}

impl Drop for PlatformMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; nothing refers to it any more.
        unsafe { libc::munmap(self.host as *mut libc::c_void, PLATFORM_SIZE as usize) };
    }
}

/// Guest-physical address of platform memory offset `off`.
pub fn gpa(off: u64) -> u64 {
    PLATFORM_GPA + off
}

/// Guest-virtual (ring 0) address of platform memory offset `off`.
pub fn va(off: u64) -> u64 {
    PLATFORM_VA + off
}

/// Platform memory offset of guest-physical address `gpa`.
pub fn off_of_gpa(gpa: u64) -> u64 {
    gpa - PLATFORM_GPA
}
