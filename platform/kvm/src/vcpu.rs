//! One virtual CPU: its creation, its region of platform memory (the area
//! it shares with ring 0, its ring-0 stack, GDT and TSS) and the moves of
//! application registers between the sentry and the guest.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;

use kvm_bindings::{kvm_dtable, kvm_msr_entry, kvm_regs, kvm_segment, kvm_sregs, CpuId, Msrs};
use kvm_ioctls::{SyncReg, VcpuFd, VmFd};
use platform::{Error, Regs, Result};

use crate::layout::{area, platform_mem, port, selector, REGION_SIZE, TRAMPOLINE_VA};
use crate::memory::{va, PlatformMemory};

/// The host signal that kicks a vCPU thread out of KVM_RUN. It stays
/// blocked in task threads except inside KVM_RUN (KVM_SET_SIGNAL_MASK), so
/// it never interrupts the sentry's own system calls.
pub const KICK: i32 = 40;

/// Where a stopped vCPU is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// Never ran: it starts in ring 0 on the return path.
    Fresh,
    /// In ring 3 (after a system call or a kick): registers are in the
    /// `kvm_run` sync area.
    Ring3,
    /// In ring 0 on the way back to ring 3: registers are in the area.
    Ring0,
    /// Kicked in ring 0 while saving an exception's state: it must run on
    /// untouched until it reports the exception.
    Saving,
}

/// What other threads may touch of a vCPU: kicks and shootdowns.
pub struct VcpuShared {
    /// The vCPU is in (or about to enter) KVM_RUN.
    pub in_run: AtomicBool,
    /// KVM_RUN returns so far (a shootdown waits for one).
    pub exits: AtomicU64,
    /// The sentry asked for the task to stop (an [`platform::Interrupter`]).
    pub requested: AtomicBool,
    /// The host thread running the vCPU.
    pub tid: AtomicI32,
    /// That thread's CPU clock (ns) when the current KVM_RUN began; 0
    /// outside KVM_RUN. Lets other threads read application CPU time
    /// while the application runs.
    pub run_start: AtomicU64,
    /// The area's stale flag.
    stale: *mut u64,
}

// SAFETY: `stale` points into platform memory, which lives as long as the
// VM; it is only accessed atomically.
unsafe impl Send for VcpuShared {}
// SAFETY: see above.
unsafe impl Sync for VcpuShared {}

impl VcpuShared {
    /// Makes the vCPU leave the guest soon if it is in KVM_RUN. A signal
    /// and not `immediate_exit`: KVM checks `immediate_exit` before it
    /// applies the registers of the sync area, which would leave the
    /// registers of the last exit in place, while a pending [`KICK`] makes
    /// KVM_RUN return after it applied them (and before the guest runs).
    pub fn kick(&self) {
        let tid = self.tid.load(Ordering::SeqCst);
        if tid != 0 {
            // SAFETY: plain tgkill to a thread of this process.
            unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, KICK) };
        }
    }

    /// Tells the vCPU to refill its page-table entry list before ring 3.
    pub fn set_stale(&self) {
        // SAFETY: an aligned u64 in platform memory.
        unsafe { (*(self.stale as *const AtomicU64)).store(1, Ordering::SeqCst) };
    }

    /// Reads and clears the stale flag.
    pub fn take_stale(&self) -> bool {
        // SAFETY: as in `set_stale`.
        unsafe { (*(self.stale as *const AtomicU64)).swap(0, Ordering::SeqCst) != 0 }
    }
}

/// One vCPU with its region.
pub struct Vcpu {
    /// The KVM vCPU.
    pub fd: VcpuFd,
    /// Offset of its region in platform memory.
    pub region: u64,
    /// State other threads see.
    pub shared: Arc<VcpuShared>,
    /// Where it stopped.
    pub at: Where,
    /// The FS and GS bases the guest has.
    pub bases: (u64, u64),
}

/// Everything every vCPU is set up with.
pub struct VcpuTemplate {
    /// CPUID the guest sees (the host's, as KVM supports it).
    pub cpuid: CpuId,
    /// XCR0 to enable.
    pub xcr0: u64,
    /// The ring-0 code.
    pub ring0: crate::ring0::Ring0,
}

/// The TSS: 104 bytes, then a 3-byte I/O bitmap and its closing byte.
const TSS_LIMIT: u64 = 104 + 4 - 1;

const EFER_SCE: u64 = 1;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;
const CR0: u64 = 0x8005_0033; // PG | AM | WP | NE | ET | MP | PE
const CR4: u64 = 0x20 | 0x200 | 0x400 | 0x4_0000; // PAE | OSFXSR | OSXMMEXCPT | OSXSAVE

fn segment(sel: u16, code: bool, dpl: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: sel,
        type_: if code { 11 } else { 3 },
        present: 1,
        dpl,
        db: u8::from(!code),
        s: 1,
        l: u8::from(code),
        g: 1,
        ..Default::default()
    }
}

impl Vcpu {
    /// Creates vCPU `id` of `vm`, running ring 0 with page table `cr3`.
    pub fn new(
        vm: &VmFd,
        mem: &PlatformMemory,
        t: &VcpuTemplate,
        id: usize,
        cr3: u64,
    ) -> Result<Vcpu> {
        let mut fd = vm
            .create_vcpu(id as u64)
            .map_err(crate::kvm_err("KVM_CREATE_VCPU"))?;
        fd.set_cpuid2(&t.cpuid)
            .map_err(crate::kvm_err("KVM_SET_CPUID2"))?;
        let mut xcrs = kvm_bindings::kvm_xcrs {
            nr_xcrs: 1,
            ..Default::default()
        };
        xcrs.xcrs[0].value = t.xcr0;
        fd.set_xcrs(&xcrs).map_err(crate::kvm_err("KVM_SET_XCRS"))?;
        let msr = |index: u32, data: u64| kvm_msr_entry {
            index,
            data,
            ..Default::default()
        };
        let msrs = Msrs::from_entries(&[
            msr(
                0xc000_0081,
                ((selector::USER32_CS as u64) << 48) | ((selector::KERNEL_CS as u64) << 32),
            ),
            msr(0xc000_0082, TRAMPOLINE_VA),
            msr(0xc000_0084, 0x4_7700),
        ])
        .map_err(|_| Error::Misuse("msr list"))?;
        fd.set_msrs(&msrs).map_err(crate::kvm_err("KVM_SET_MSRS"))?;

        let region = platform_mem::VCPUS + id as u64 * REGION_SIZE;
        let gdt = region + area::GDT;
        let tss = region + area::TSS;
        let tss_va = va(tss);
        let descriptors: [u64; 10] = [
            0,
            0,
            0x00af_9b00_0000_ffff, // kernel code
            0x00cf_9300_0000_ffff, // kernel data
            0x00cf_fb00_0000_ffff, // 32-bit user code
            0x00cf_f300_0000_ffff, // user data
            0x00af_fb00_0000_ffff, // user code
            0,
            TSS_LIMIT | ((tss_va & 0xff_ffff) << 16) | (0x89 << 40) | ((tss_va >> 24) & 0xff) << 56,
            tss_va >> 32,
        ];
        for (i, d) in descriptors.iter().enumerate() {
            mem.write(gdt + i as u64 * 8, &d.to_le_bytes());
        }
        // TSS: RSP0 at offset 4, I/O map base (none) at 102.
        mem.write(tss + 4, &va(region + area::STACK_TOP).to_le_bytes());
        mem.write(tss + 102, &104u16.to_le_bytes());
        // I/O permission bitmap: only the system call port is open to ring 3.
        let mut bitmap = [0xffu8; 4];
        bitmap[(port::SYSCALL / 8) as usize] &= !(1 << (port::SYSCALL % 8));
        mem.write(tss + 104, &bitmap);

        let mut sregs = kvm_sregs {
            cs: segment(selector::KERNEL_CS, true, 0),
            ss: segment(selector::KERNEL_DS, false, 0),
            ds: segment(0, false, 0),
            es: segment(0, false, 0),
            fs: segment(0, false, 0),
            gs: segment(0, false, 0),
            tr: kvm_segment {
                base: tss_va,
                limit: TSS_LIMIT as u32,
                selector: selector::TSS,
                type_: 11,
                present: 1,
                ..Default::default()
            },
            ldt: kvm_segment {
                type_: 2,
                unusable: 1,
                ..Default::default()
            },
            gdt: kvm_dtable {
                base: va(gdt),
                limit: (descriptors.len() * 8 - 1) as u16,
                ..Default::default()
            },
            idt: kvm_dtable {
                base: va(platform_mem::IDT),
                limit: crate::ring0::IDT_LIMIT,
                ..Default::default()
            },
            cr0: CR0,
            cr3,
            cr4: CR4,
            efer: EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE,
            ..Default::default()
        };
        sregs.ss.selector = selector::KERNEL_DS;
        fd.set_sregs(&sregs)
            .map_err(crate::kvm_err("KVM_SET_SREGS"))?;
        let mut regs = kvm_regs::default();
        return_path_regs(&t.ring0, region, &mut regs);
        fd.set_regs(&regs).map_err(crate::kvm_err("KVM_SET_REGS"))?;
        fd.set_sync_valid_reg(SyncReg::Register);
        fd.set_sync_valid_reg(SyncReg::SystemRegister);

        let stale = mem.u64_at(region + area::STALE);
        Ok(Vcpu {
            fd,
            region,
            shared: Arc::new(VcpuShared {
                in_run: AtomicBool::new(false),
                exits: AtomicU64::new(0),
                requested: AtomicBool::new(false),
                tid: AtomicI32::new(0),
                run_start: AtomicU64::new(0),
                stale,
            }),
            at: Where::Fresh,
            bases: (0, 0),
        })
    }

    /// Makes the calling thread the vCPU's runner: kicks go to it, and
    /// inside KVM_RUN the thread's signal mask is its own without [`KICK`].
    pub fn adopt(&mut self) -> Result<()> {
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sigset pointers; blocks KICK in this thread and
        // reads the resulting mask.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, KICK);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut set);
            libc::sigdelset(&mut set, KICK);
        }
        // struct kvm_signal_mask { __u32 len; __u8 sigset[8]; }
        let mut buf = [0u8; 12];
        buf[..4].copy_from_slice(&8u32.to_le_bytes());
        // SAFETY: the kernel's sigset is the first 8 bytes of sigset_t.
        let bits = unsafe { *(&set as *const libc::sigset_t as *const u64) };
        buf[4..].copy_from_slice(&bits.to_le_bytes());
        const KVM_SET_SIGNAL_MASK: libc::c_ulong = 0x4004_ae8b;
        // SAFETY: KVM_SET_SIGNAL_MASK reads a kvm_signal_mask from buf.
        if unsafe { libc::ioctl(self.fd.as_raw_fd(), KVM_SET_SIGNAL_MASK, buf.as_ptr()) } != 0 {
            return Err(Error::last_os("KVM_SET_SIGNAL_MASK"));
        }
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        self.shared.tid.store(tid, Ordering::SeqCst);
        Ok(())
    }
}

/// Ring-0 registers that (re)start the return path of the vCPU with
/// region `region`.
pub fn return_path_regs(ring0: &crate::ring0::Ring0, region: u64, k: &mut kvm_regs) {
    k.rip = ring0.return_path;
    k.rsp = va(region + area::STACK_TOP);
    k.rax = va(region);
    k.rflags = 2;
}

/// The CPU clock of thread `tid` of this process, in nanoseconds.
pub fn thread_cpu_ns(tid: i32) -> u64 {
    let clock = ((!tid) << 3) | 6; // per-thread, scheduler clock
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer; a clock of an exited thread just fails.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Drains a pending [`KICK`] (it stays pending while blocked).
pub fn drain_kick() {
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid sigset and timeout; KICK is blocked in this thread.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, KICK);
        while libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == KICK {}
    }
}

/// Application flags a guest may hold: arithmetic flags, TF, DF, OF, AC,
/// RF, ID; IF is always set (nothing interrupts the guest anyway).
pub fn user_flags(f: u64) -> u64 {
    (f & 0x25_0dd5) | 0x202
}

/// The registers `Regs` and `kvm_regs` both have, paired.
fn kvm_pairs<'a>(r: &'a mut Regs, k: &'a mut kvm_regs) -> [(&'a mut u64, &'a mut u64); 17] {
    [
        (&mut r.rax, &mut k.rax),
        (&mut r.rbx, &mut k.rbx),
        (&mut r.rcx, &mut k.rcx),
        (&mut r.rdx, &mut k.rdx),
        (&mut r.rsi, &mut k.rsi),
        (&mut r.rdi, &mut k.rdi),
        (&mut r.rsp, &mut k.rsp),
        (&mut r.rbp, &mut k.rbp),
        (&mut r.r8, &mut k.r8),
        (&mut r.r9, &mut k.r9),
        (&mut r.r10, &mut k.r10),
        (&mut r.r11, &mut k.r11),
        (&mut r.r12, &mut k.r12),
        (&mut r.r13, &mut k.r13),
        (&mut r.r14, &mut k.r14),
        (&mut r.r15, &mut k.r15),
        (&mut r.rip, &mut k.rip),
    ]
}

/// Application registers from KVM's.
pub fn regs_from_kvm(k: &kvm_regs, r: &mut Regs) {
    let mut k = *k;
    for (a, b) in kvm_pairs(r, &mut k) {
        *a = *b;
    }
    r.eflags = k.rflags;
    r.cs = selector::USER_CS as u64;
    r.ss = selector::USER_DS as u64;
}

/// KVM's registers from the application's.
pub fn regs_to_kvm(r: &Regs, k: &mut kvm_regs) {
    let mut r = *r;
    for (a, b) in kvm_pairs(&mut r, k) {
        *b = *a;
    }
    k.rflags = user_flags(r.eflags);
}

/// The general purpose registers in the area's order (as `Regs`).
fn gprs(r: &mut Regs) -> [&mut u64; 15] {
    [
        &mut r.r15, &mut r.r14, &mut r.r13, &mut r.r12, &mut r.rbp, &mut r.rbx, &mut r.r11,
        &mut r.r10, &mut r.r9, &mut r.r8, &mut r.rax, &mut r.rcx, &mut r.rdx, &mut r.rsi,
        &mut r.rdi,
    ]
}

/// Writes `r` to the area as the state ring 0 returns to.
pub fn regs_to_area(mem: &PlatformMemory, region: u64, r: &Regs) {
    let mut copy = *r;
    for (i, v) in gprs(&mut copy).into_iter().enumerate() {
        // SAFETY: aligned u64s of the area, which only this thread and its
        // stopped vCPU use.
        unsafe { std::ptr::write_volatile(mem.u64_at(region + i as u64 * 8), *v) };
    }
    let frame = [
        (area::RIP, r.rip),
        (area::CS, selector::USER_CS as u64),
        (area::RFLAGS, user_flags(r.eflags)),
        (area::RSP, r.rsp),
        (area::SS, selector::USER_DS as u64),
    ];
    for (off, v) in frame {
        // SAFETY: as above.
        unsafe { std::ptr::write_volatile(mem.u64_at(region + off), v) };
    }
}

/// Reads the registers ring 0 saved in the area.
pub fn regs_from_area(mem: &PlatformMemory, region: u64, r: &mut Regs) {
    for (i, v) in gprs(r).into_iter().enumerate() {
        // SAFETY: as in `regs_to_area`.
        *v = unsafe { std::ptr::read_volatile(mem.u64_at(region + i as u64 * 8)) };
    }
    // SAFETY: as in `regs_to_area`.
    let get = |off| unsafe { std::ptr::read_volatile(mem.u64_at(region + off)) };
    r.rip = get(area::RIP);
    r.eflags = get(area::RFLAGS);
    r.rsp = get(area::RSP);
    r.cs = selector::USER_CS as u64;
    r.ss = selector::USER_DS as u64;
}
