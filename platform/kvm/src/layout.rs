//! Where things are: guest-physical and guest-virtual addresses, and the
//! layout of each vCPU's region. The ring-0 code (`ring0.rs`) uses the same
//! offsets.

/// Size of one memory slot of the sentry's memory file. Slots are added as
/// the memory file's used part grows, so that KVM's per-page bookkeeping
/// (which shadow paging needs) stays proportional to the memory in use.
pub const MEMFILE_SLOT_SIZE: u64 = 4 << 30;

/// Guest-physical base of the platform's own memory (page tables, ring-0
/// code, vCPU regions). The memory file sits at guest-physical 0, so a page
/// at memory-file offset `o` is guest-physical `o`.
pub const PLATFORM_GPA: u64 = 1 << 44;

/// Size of the platform's memory (reserved lazily on the host).
pub const PLATFORM_SIZE: u64 = 1 << 30;

/// Guest-virtual base of the platform's memory: supervisor-only, in an upper
/// half slot that paravirtual hypervisors leave to the guest (PML4 slot
/// 0x1b2, see README).
pub const PLATFORM_VA: u64 = 0xffff_d900_0000_0000;

/// PML4 slot of [`PLATFORM_VA`].
pub const PLATFORM_PML4_SLOT: usize = 0x1b2;

/// User page holding the system call trampoline (LSTAR points here).
pub const TRAMPOLINE_VA: u64 = 0x7fff_ffff_e000;

/// PML4 slot of the trampoline: its page tables are shared by every
/// address space, so that a vCPU can always reach the trampoline and ring 0
/// whatever root it still has loaded.
pub const TRAMPOLINE_PML4_SLOT: usize = 255;

/// The end of application memory: the trampoline's PML4 slot is not the
/// application's.
pub const APP_END: u64 = (TRAMPOLINE_PML4_SLOT as u64) << 39;

/// Offsets in the platform memory.
pub mod platform_mem {
    /// The ring-0 code and the trampoline page.
    pub const CODE: u64 = 0;
    /// The trampoline page (user-readable).
    pub const TRAMPOLINE: u64 = 0x1000;
    /// The interrupt descriptor table.
    pub const IDT: u64 = 0x2000;
    /// The shared PDPT of the upper-half slot.
    pub const UPPER_PDPT: u64 = 0x3000;
    /// The PD mapping the platform memory with 2 MiB pages.
    pub const UPPER_PD: u64 = 0x4000;
    /// The shared PDPT, PD and PT of the trampoline's slot.
    pub const TRAMPOLINE_PDPT: u64 = 0x5000;
    /// See [`TRAMPOLINE_PDPT`].
    pub const TRAMPOLINE_PD: u64 = 0x6000;
    /// See [`TRAMPOLINE_PDPT`].
    pub const TRAMPOLINE_PT: u64 = 0x7000;
    /// First vCPU region.
    pub const VCPUS: u64 = 0x10_0000;
    /// Space for vCPU regions.
    pub const VCPUS_SIZE: u64 = 64 << 20;
    /// First page-table page.
    pub const TABLES: u64 = VCPUS + VCPUS_SIZE;
}

/// Size of one vCPU's region (aligned to it: ring-0 code finds the region
/// by masking its stack pointer).
pub const REGION_SIZE: u64 = 0x1_0000;

/// The most vCPUs the regions have room for.
pub const MAX_VCPUS: usize = (platform_mem::VCPUS_SIZE / REGION_SIZE) as usize;

/// Offsets in a vCPU region. Page 0 is the area the host and ring 0 share,
/// pages 1-3 the ring-0 stack, pages 4-15 the list of page-table entries
/// ring 0 must write.
pub mod area {
    // 0x00: general purpose registers r15..rdi in `platform::Regs` order.
    /// Exception vector.
    pub const VECTOR: u64 = 0x78;
    /// Exception error code.
    pub const ERROR: u64 = 0x80;
    /// Interrupt frame: rip, cs, rflags, rsp, ss.
    pub const RIP: u64 = 0x88;
    /// Code segment of the frame.
    pub const CS: u64 = 0x90;
    /// Flags of the frame.
    pub const RFLAGS: u64 = 0x98;
    /// Stack pointer of the frame.
    pub const RSP: u64 = 0xa0;
    /// Stack segment of the frame.
    pub const SS: u64 = 0xa8;
    /// CR3 to load before returning to ring 3 (0: none).
    pub const CR3: u64 = 0xb0;
    /// Number of entries in the list.
    pub const COUNT: u64 = 0xb8;
    /// Nonzero when the next #UD at the trampoline's `ud2` is the host's
    /// request to return to ring 3 through ring 0.
    pub const ARMED: u64 = 0xc0;
    /// Nonzero when the host must refill the list before ring 3 runs.
    pub const STALE: u64 = 0xc8;
    /// The global descriptor table.
    pub const GDT: u64 = 0x100;
    /// The task state segment.
    pub const TSS: u64 = 0x180;
    /// Top of the ring-0 stack.
    pub const STACK_TOP: u64 = 0x4000;
    /// The list of page-table entries (guest-virtual addresses).
    pub const LIST: u64 = 0x4000;
    /// Room in the list.
    pub const LIST_CAP: usize = 0xc000 / 8;
}

/// Segment selectors, as Linux's.
pub mod selector {
    /// Kernel code.
    pub const KERNEL_CS: u16 = 0x10;
    /// Kernel data.
    pub const KERNEL_DS: u16 = 0x18;
    /// 32-bit user code (STAR's sysret base).
    pub const USER32_CS: u16 = 0x23;
    /// User data.
    pub const USER_DS: u16 = 0x2b;
    /// User code.
    pub const USER_CS: u16 = 0x33;
    /// Task state segment.
    pub const TSS: u16 = 0x40;
}

/// I/O ports ring-0 code exits through.
pub mod port {
    /// A system call: the trampoline's `out` (allowed to ring 3 by the
    /// TSS's I/O permission bitmap, for this port only).
    pub const SYSCALL: u16 = 0x10;
    /// An exception from ring 3; the area holds the state.
    pub const EXCEPTION: u16 = 0x11;
    /// An exception in ring 0: the platform is broken.
    pub const KERNEL_FAULT: u16 = 0x12;
    /// The stale flag was set: refill the list.
    pub const REFILL: u16 = 0x13;
}
