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
    tables: Mutex<Tables>,
}

/// Page-table pages: never used ones from `next` on, and reclaimed ones
/// (zeroed, and forgotten by the hypervisor: see `Shared::reclaim`).
/// Roots are only reused as roots: a pooled vCPU may still have one loaded,
/// and it must keep reaching the trampoline and ring 0 through it.
struct Tables {
    next: u64,
    free: Vec<u64>,
    free_roots: Vec<u64>,
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
            tables: Mutex::new(Tables {
                next: platform_mem::TABLES,
                free: Vec::new(),
                free_roots: Vec::new(),
            }),
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
        let mut t = self.tables.lock();
        if let Some(off) = t.free.pop() {
            return Ok(off);
        }
        if t.next + PAGE > PLATFORM_SIZE {
            return Err(Error::Unavailable(
                "kvm: out of page-table memory".to_string(),
            ));
        }
        let off = t.next;
        t.next += PAGE;
        // Never-used pages of an anonymous mapping are zero.
        Ok(off)
    }

    /// A page for a PML4: a reclaimed root (its application half zeroed)
    /// or a new page.
    pub fn alloc_root(&self) -> Result<u64> {
        if let Some(off) = self.tables.lock().free_roots.pop() {
            return Ok(off);
        }
        self.alloc_table()
    }

    /// Makes reclaimed pages available again.
    pub fn free_tables(&self, roots: Vec<u64>, pages: Vec<u64>) {
        let mut t = self.tables.lock();
        t.free_roots.extend(roots);
        t.free.extend(pages);
    }

    /// Page-table pages handed out so far and not reclaimed.
    pub fn tables_in_use(&self) -> u64 {
        let t = self.tables.lock();
        (t.next - platform_mem::TABLES) / PAGE - (t.free.len() + t.free_roots.len()) as u64
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
