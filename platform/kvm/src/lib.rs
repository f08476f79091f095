//! The KVM platform: application code runs in guest ring 3 of a virtual
//! machine; its system calls and exceptions are VM exits the sentry
//! handles.
//!
//! One VM exists per sandbox. The sentry's memory file is the guest's
//! physical memory from address 0 (memory slots added as it grows), so an
//! application page is never copied; the platform's own memory (page
//! tables, ring-0 code, vCPU regions) is a second slot. Each address space
//! is a 4-level page table the host writes (`pagetable`, `space`); each
//! task has a vCPU of its own (`context`, `vcpu`), taken from a pool since
//! KVM cannot destroy vCPUs. See README.md for how this host's paravirtual
//! KVM shapes the design and what each operation costs in exits.

mod context;
mod layout;
mod memory;
mod pagetable;
mod ring0;
mod space;
mod stats;
mod vcpu;

use std::sync::Arc;

use kvm_bindings::{kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Cap, Kvm, VmFd};
use parking_lot::Mutex;
use platform::{AddressSpace, Context, Error, Platform, Result};

use layout::{platform_mem, APP_END, MAX_VCPUS, MEMFILE_SLOT_SIZE, PLATFORM_GPA, PLATFORM_SIZE};
use memory::{gpa, PlatformMemory};
use pagetable::{PageTable, P, PS, RW};
use vcpu::{Vcpu, VcpuTemplate};

/// Dead page-table pages reclaimed at once (each reclaim makes every vCPU
/// rebuild its shadow page tables).
const RECLAIM_BATCH: usize = 4096;

/// A memory slot that only exists for [`Shared::flush_shadow`].
const FLUSH_SLOT: u32 = 32000;
/// Where it is (no other memory there).
const FLUSH_GPA: u64 = 3 << 44;

/// Turns a failed KVM ioctl `op` into the platform's error.
pub(crate) fn kvm_err(op: &'static str) -> impl Fn(kvm_ioctls::Error) -> Error {
    move |e| Error::Host {
        op,
        source: std::io::Error::from_raw_os_error(e.errno()),
    }
}

/// What the platform's address spaces and contexts share: the VM.
pub struct Shared {
    vm: VmFd,
    mem: Arc<PlatformMemory>,
    template: VcpuTemplate,
    /// Host mapping of the memory file and its size.
    memfile: (u64, u64),
    /// How much of the memory file memory slots cover.
    covered: Mutex<u64>,
    /// vCPUs no task uses, and how many exist.
    pool: Mutex<(Vec<Vcpu>, usize)>,
    /// Page-table pages of dead address spaces not reclaimed yet (roots,
    /// other pages).
    dead: Mutex<(Vec<u64>, Vec<u64>)>,
    /// A page table with nothing but the platform half, for new vCPUs.
    idle_cr3: u64,
    /// Bytes of XSAVE state the host's XCR0 needs.
    xsave_size: usize,
}

impl Shared {
    /// A new page table for an address space.
    fn new_table(&self) -> Result<PageTable> {
        new_table(&self.mem)
    }

    /// Takes the page-table pages of a dead address space. They are
    /// reclaimed in batches: the hypervisor may still hold shadow
    /// translations through them, which only [`Shared::flush_shadow`] is
    /// sure to drop.
    fn bury(&self, root: u64, pages: Vec<u64>) {
        let batch = {
            let mut dead = self.dead.lock();
            dead.0.push(root);
            dead.1.extend(pages);
            if dead.0.len() + dead.1.len() < RECLAIM_BATCH {
                return;
            }
            std::mem::take(&mut *dead)
        };
        if let Err(e) = self.reclaim(batch) {
            log::warn!("kvm: page tables not reclaimed: {e}");
        }
    }

    /// Empties dead page tables, makes the hypervisor forget them, and
    /// frees their pages. A root keeps its platform and trampoline slots
    /// throughout, since a pooled vCPU may still have it loaded and only
    /// ever runs ring 0 and the trampoline through it.
    fn reclaim(&self, (roots, pages): (Vec<u64>, Vec<u64>)) -> Result<()> {
        for &root in &roots {
            for i in 0..layout::TRAMPOLINE_PML4_SLOT as u64 {
                self.mem.write(root + i * 8, &0u64.to_le_bytes());
            }
        }
        for &page in &pages {
            self.mem.write(page, &[0u8; memory::PAGE as usize]);
        }
        self.flush_shadow()?;
        crate::stats::count(&crate::stats::STATS.reclaims);
        self.mem.free_tables(roots, pages);
        Ok(())
    }

    /// Makes the hypervisor drop every shadow page table (removing a memory
    /// slot invalidates them all); they are rebuilt from the guest's tables.
    pub fn flush_shadow(&self) -> Result<()> {
        let _g = self.covered.lock();
        for size in [0x1000u64, 0] {
            let region = kvm_userspace_memory_region {
                slot: FLUSH_SLOT,
                flags: 0,
                guest_phys_addr: FLUSH_GPA,
                memory_size: size,
                userspace_addr: self.mem.host_base(),
            };
            // SAFETY: the first page of platform memory, which lives as
            // long as the VM; the slot is removed right after.
            unsafe { self.vm.set_user_memory_region(region) }
                .map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
        }
        Ok(())
    }

    /// Adds memory slots until the first `end` bytes of the memory file
    /// are guest memory.
    fn cover_memory_file(&self, end: u64) -> Result<()> {
        let mut covered = self.covered.lock();
        while *covered < end.min(self.memfile.1) {
            let start = *covered;
            let size = MEMFILE_SLOT_SIZE.min(self.memfile.1 - start);
            let region = kvm_userspace_memory_region {
                slot: 1 + (start / MEMFILE_SLOT_SIZE) as u32,
                flags: 0,
                guest_phys_addr: start,
                memory_size: size,
                userspace_addr: self.memfile.0 + start,
            };
            // SAFETY: the range is part of our mapping of the memory file,
            // which lives as long as the VM.
            unsafe { self.vm.set_user_memory_region(region) }
                .map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
            *covered = start + size;
        }
        Ok(())
    }

    /// A vCPU for a new task.
    fn take_vcpu(&self) -> Result<Vcpu> {
        let mut pool = self.pool.lock();
        if let Some(v) = pool.0.pop() {
            return Ok(v);
        }
        if pool.1 >= MAX_VCPUS {
            return Err(Error::Unavailable(format!(
                "kvm: more than {MAX_VCPUS} threads"
            )));
        }
        let id = pool.1;
        let v = Vcpu::new(&self.vm, &self.mem, &self.template, id, self.idle_cr3)?;
        pool.1 += 1;
        Ok(v)
    }

    /// Returns a vCPU whose task ended.
    fn give_back(&self, v: Vcpu) {
        self.pool.lock().0.push(v);
    }
}

/// A page table with only the platform half and the trampoline.
fn new_table(mem: &Arc<PlatformMemory>) -> Result<PageTable> {
    PageTable::new(mem.clone())
}

/// The KVM platform. Created once per sandbox.
pub struct KvmPlatform {
    shared: Arc<Shared>,
}

/// An open /dev/kvm: opened before the sandbox hides the host's /dev.
pub struct Device(Kvm);

impl Device {
    /// Opens /dev/kvm and checks that it has what the platform needs.
    pub fn open() -> Result<Device> {
        open_kvm().map(Device)
    }
}

/// Opens /dev/kvm with a clear error when it cannot be used.
fn open_kvm() -> Result<Kvm> {
    let kvm = Kvm::new().map_err(|e| {
        Error::Unavailable(format!(
            "/dev/kvm: {}",
            std::io::Error::from_raw_os_error(e.errno())
        ))
    })?;
    if kvm.get_api_version() != 12 {
        return Err(Error::Unavailable(
            "/dev/kvm is not a KVM device (KVM_GET_API_VERSION failed)".into(),
        ));
    }
    for (cap, name) in [
        (Cap::SyncRegs, "KVM_CAP_SYNC_REGS"),
        (Cap::Xsave, "KVM_CAP_XSAVE"),
        (Cap::Xcrs, "KVM_CAP_XCRS"),
    ] {
        if !kvm.check_extension(cap) {
            return Err(Error::Unavailable(format!("/dev/kvm lacks {name}")));
        }
    }
    Ok(kvm)
}

/// The host's XCR0.
fn host_xcr0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: xgetbv 0 only reads XCR0; OSXSAVE is set on every x86-64
    // Linux host this runs on (checked by the caller through CPUID).
    unsafe { std::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi) };
    ((hi as u64) << 32) | lo as u64
}

impl KvmPlatform {
    /// Checks that /dev/kvm can run the platform (for a clear error before
    /// the sandbox starts).
    pub fn check() -> Result<()> {
        let kvm = open_kvm()?;
        kvm.create_vm().map_err(kvm_err("KVM_CREATE_VM"))?;
        Ok(())
    }

    /// Creates the VM. `memfd` is the sentry's memory file.
    pub fn open(device: Device, memfd: i32) -> Result<KvmPlatform> {
        let kvm = device.0;
        let vm = kvm.create_vm().map_err(kvm_err("KVM_CREATE_VM"))?;
        let mem = Arc::new(PlatformMemory::new()?);
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: PLATFORM_GPA,
            memory_size: PLATFORM_SIZE,
            userspace_addr: mem.host_base(),
        };
        // SAFETY: the platform memory mapping lives as long as `mem`, which
        // the VM's users keep.
        unsafe { vm.set_user_memory_region(region) }
            .map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
        let ring0 = ring0::install(&mem);
        PageTable::install_trampoline(&mem);
        // The platform half: one PDPT entry, 2 MiB pages.
        mem.write(
            platform_mem::UPPER_PDPT,
            &(gpa(platform_mem::UPPER_PD) | P | RW).to_le_bytes(),
        );
        for i in 0..PLATFORM_SIZE >> 21 {
            let e = gpa(i << 21) | P | RW | PS;
            mem.write(platform_mem::UPPER_PD + i * 8, &e.to_le_bytes());
        }

        // SAFETY: fstat on a caller-provided fd into a zeroed struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(memfd, &mut st) } != 0 {
            return Err(Error::last_os("fstat memory file"));
        }
        let size = st.st_size as u64;
        // SAFETY: a new shared mapping of the memory file; NORESERVE keeps
        // it sparse.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                memfd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::last_os("mmap memory file"));
        }

        let mut cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(kvm_err("KVM_GET_SUPPORTED_CPUID"))?;
        let mut supported_xcr0 = 0u64;
        for e in cpuid.as_mut_slice() {
            if e.function == 0xd && e.index == 0 {
                supported_xcr0 = ((e.edx as u64) << 32) | e.eax as u64;
            }
        }
        let xcr0 = host_xcr0() & supported_xcr0 | 1;
        let xsave_size = std::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize;

        let idle_cr3 = new_table(&mem)?.cr3();
        let shared = Arc::new(Shared {
            vm,
            mem: mem.clone(),
            template: VcpuTemplate { cpuid, xcr0, ring0 },
            memfile: (base as u64, size),
            covered: Mutex::new(0),
            pool: Mutex::new((Vec::new(), 0)),
            dead: Mutex::new((Vec::new(), Vec::new())),
            idle_cr3,
            xsave_size: xsave_size.clamp(512 + 64, 4096),
        });
        Ok(KvmPlatform { shared })
    }
}

impl Platform for KvmPlatform {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn address_range(&self) -> (u64, u64) {
        (0x1_0000, APP_END)
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        Ok(Arc::new(space::KvmSpace::new(self.shared.clone())?))
    }

    fn new_context(&self, _home: Option<usize>) -> Result<Box<dyn Context>> {
        Ok(Box::new(context::KvmContext::new(self.shared.clone())?))
    }
}

impl Drop for KvmPlatform {
    fn drop(&mut self) {
        if std::env::var_os("RUNSC_KVM_STATS").is_some() {
            eprintln!(
                "{}; {} page-table pages in use",
                stats::summary(),
                self.shared.mem.tables_in_use()
            );
        }
    }
}
