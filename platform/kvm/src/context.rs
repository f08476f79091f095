//! A task's execution context: a vCPU of its own, run until application
//! code stops for the sentry.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use kvm_ioctls::{SyncReg, VcpuExit};
use parking_lot::Mutex;
use platform::{AddressSpace, Context, Error, FpState, Interrupter, Regs, Result, SigInfo, Stop};

use crate::layout::{area, port, TRAMPOLINE_VA};
use crate::pagetable::NONE;
use crate::ring0::UD2_VA;
use crate::space::{KvmSpace, SpaceInner};
use crate::stats::{count, STATS};
use crate::vcpu::{
    drain_kick, regs_from_area, regs_from_kvm, regs_to_area, regs_to_kvm, return_path_regs, Vcpu,
    VcpuShared, Where,
};
use crate::{kvm_err, Shared};

/// The kvm platform's [`Context`].
pub struct KvmContext {
    shared: Arc<Shared>,
    /// Always Some until dropped (then it goes back to the pool).
    vcpu: Option<Vcpu>,
    /// The space whose page table the vCPU uses.
    space: Option<Arc<SpaceInner>>,
    /// The same space, for clocks other threads read.
    clock: Arc<Mutex<Option<Arc<SpaceInner>>>>,
    /// Application CPU time on this thread (ns).
    own_time: u64,
}

/// Kicks a task's vCPU out of the guest for the sentry.
struct Kicker(Arc<VcpuShared>);

impl Interrupter for Kicker {
    fn interrupt(&self) {
        self.0.requested.store(true, Ordering::SeqCst);
        if self.0.in_run.load(Ordering::SeqCst) {
            self.0.kick();
        }
    }
}

/// The calling thread's CPU time in nanoseconds.
fn thread_time() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl KvmContext {
    /// A context on the calling thread.
    pub fn new(shared: Arc<Shared>) -> Result<KvmContext> {
        let mut vcpu = shared.take_vcpu()?;
        vcpu.adopt()?;
        vcpu.shared.requested.store(false, Ordering::SeqCst);
        Ok(KvmContext {
            shared,
            vcpu: Some(vcpu),
            space: None,
            clock: Arc::new(Mutex::new(None)),
            own_time: 0,
        })
    }

    fn vcpu(&mut self) -> &mut Vcpu {
        self.vcpu.as_mut().expect("vcpu")
    }

    /// Makes the vCPU use `space` from its next entry on.
    fn join(&mut self, space: &Arc<SpaceInner>) {
        let shared = self.vcpu().shared.clone();
        if let Some(old) = self.space.take() {
            old.leave(&shared);
        }
        space.join(&shared);
        *self.clock.lock() = Some(space.clone());
        self.space = Some(space.clone());
    }

    /// Runs the vCPU until application code stops for the sentry.
    fn run(&mut self, space: &SpaceInner, regs: &mut Regs) -> Result<Stop> {
        let mem = self.shared.mem.clone();
        let v = self.vcpu.as_mut().expect("vcpu");
        let region = v.region;
        let get = |off: u64| {
            // SAFETY: an aligned u64 in this vCPU's area.
            unsafe { std::ptr::read_volatile(mem.u64_at(region + off)) }
        };
        let set = |off: u64, val: u64| {
            // SAFETY: as above; the vCPU is stopped.
            unsafe { std::ptr::write_volatile(mem.u64_at(region + off), val) }
        };
        let ring0 = self.shared.template.ring0;
        loop {
            v.shared.in_run.store(true, Ordering::SeqCst);
            if v.at != Where::Saving {
                if v.shared.requested.swap(false, Ordering::SeqCst) {
                    v.shared.in_run.store(false, Ordering::SeqCst);
                    return Ok(Stop::Interrupted);
                }
                if v.shared.take_stale() {
                    v.shared.in_run.store(false, Ordering::SeqCst);
                    space.refill(&v.shared, region);
                    continue;
                }
            }
            match v.at {
                Where::Saving => {}
                Where::Fresh | Where::Ring0 => {
                    regs_to_area(&mem, region, regs);
                    return_path_regs(&ring0, region, &mut v.fd.sync_regs_mut().regs);
                    v.fd.set_sync_dirty_reg(SyncReg::Register);
                }
                Where::Ring3 if get(area::COUNT) != 0 || get(area::CR3) != 0 => {
                    // Through ring 0: the trampoline's ud2 gets there.
                    regs_to_area(&mem, region, regs);
                    set(area::ARMED, 1);
                    let k = &mut v.fd.sync_regs_mut().regs;
                    k.rip = UD2_VA;
                    k.rflags = 2;
                    v.fd.set_sync_dirty_reg(SyncReg::Register);
                    count(&STATS.ring0_entries);
                }
                Where::Ring3 => {
                    regs_to_kvm(regs, &mut v.fd.sync_regs_mut().regs);
                    v.fd.set_sync_dirty_reg(SyncReg::Register);
                }
            }
            if (regs.fs_base, regs.gs_base) != v.bases && v.at != Where::Saving {
                set_bases(v, (regs.fs_base, regs.gs_base))?;
            }
            let t0 = thread_time();
            v.shared.run_start.store(t0, Ordering::SeqCst);
            let exit = match v.fd.run() {
                Ok(VcpuExit::IoOut(port::SYSCALL, _)) => Exit::Syscall,
                Ok(VcpuExit::IoOut(p, _)) => Exit::Out(p),
                Ok(VcpuExit::Intr) => Exit::Kicked,
                Ok(other) => Exit::Other(format!("{other:?}")),
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => Exit::Kicked,
                Err(e) => Exit::Failed(e),
            };
            let ran = thread_time().saturating_sub(t0);
            space.app_time.fetch_add(ran, Ordering::SeqCst);
            v.shared.run_start.store(0, Ordering::SeqCst);
            self.own_time += ran;
            v.shared.in_run.store(false, Ordering::SeqCst);
            v.shared.exits.fetch_add(1, Ordering::SeqCst);
            count(&STATS.exits);
            let sync = v.fd.sync_regs();
            let ring3 = sync.sregs.cs.selector & 3 == 3;
            if *TRACE {
                eprintln!(
                    "kvm[{}] exit {:?} at {:?} ring3 {} rip {:#x} rax {:#x} fs {:#x} regs.rip {:#x} regs.rax {:#x} armed {} count {} cr3 {:#x}",
                    v.shared.tid.load(Ordering::Relaxed), exit_name(&exit), v.at, ring3, sync.regs.rip, sync.regs.rax, sync.sregs.fs.base,
                    regs.rip, regs.rax, get(area::ARMED), get(area::COUNT), get(area::CR3)
                );
            }
            match exit {
                Exit::Syscall => {
                    v.at = Where::Ring3;
                    regs_from_kvm(&sync.regs, regs);
                    syscall_regs(regs);
                    count(&STATS.syscalls);
                    return Ok(Stop::Syscall);
                }
                Exit::Out(port::EXCEPTION) => {
                    v.at = Where::Ring0;
                    regs_from_area(&mem, region, regs);
                    count(&STATS.exceptions);
                    let (vector, error) = (get(area::VECTOR), get(area::ERROR));
                    return Ok(exception(v, space, vector, error, sync.sregs.cr2, regs));
                }
                Exit::Out(port::REFILL) => v.at = Where::Ring0,
                Exit::Kicked => {
                    drain_kick();
                    if !ring3 {
                        v.at = if ring0.saving(sync.regs.rip) {
                            Where::Saving
                        } else {
                            Where::Ring0
                        };
                        continue;
                    }
                    v.at = Where::Ring3;
                    if sync.regs.rip == UD2_VA && get(area::ARMED) != 0 {
                        // Sent to ring 0 but not there yet: the registers
                        // are still the sentry's.
                        set(area::ARMED, 0);
                        continue;
                    }
                    regs_from_kvm(&sync.regs, regs);
                    if sync.regs.rip == TRAMPOLINE_VA {
                        // Between `syscall` and the trampoline's `out`: the
                        // system call has been made.
                        syscall_regs(regs);
                        count(&STATS.syscalls);
                        return Ok(Stop::Syscall);
                    }
                }
                Exit::Out(port::KERNEL_FAULT) => {
                    return Err(Error::RunnerDied(format!(
                        "kvm: exception {} (error {:#x}, cr2 {:#x}) in ring 0 at rip {:#x}",
                        get(area::VECTOR),
                        get(area::ERROR),
                        sync.sregs.cr2,
                        sync.regs.rip
                    )));
                }
                Exit::Out(p) => return Err(unexpected(&format!("out to port {p:#x}"), &sync)),
                Exit::Other(what) => return Err(unexpected(&what, &sync)),
                Exit::Failed(e) => return Err(kvm_err("KVM_RUN")(e)),
            }
        }
    }
}

static TRACE: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("RUNSC_KVM_TRACE").is_some());

fn exit_name(e: &Exit) -> String {
    match e {
        Exit::Syscall => "syscall".into(),
        Exit::Out(p) => format!("out {p:#x}"),
        Exit::Kicked => "kicked".into(),
        Exit::Other(s) => s.clone(),
        Exit::Failed(e) => format!("failed {}", e.errno()),
    }
}

/// Why KVM_RUN returned, without borrowing the vCPU.
enum Exit {
    Syscall,
    Out(u16),
    Kicked,
    Other(String),
    Failed(kvm_ioctls::Error),
}

fn unexpected(what: &str, sync: &kvm_bindings::kvm_sync_regs) -> Error {
    Error::RunnerDied(format!(
        "kvm: unexpected exit {what} at rip {:#x} (cs {:#x})",
        sync.regs.rip, sync.sregs.cs.selector
    ))
}

// si_code values (not all in the libc crate).
const SEGV_MAPERR: i32 = 1;
const SEGV_ACCERR: i32 = 2;
const ILL_ILLOPN: i32 = 2;
const FPE_INTDIV: i32 = 1;
const FPE_FLTDIV: i32 = 3;
const FPE_FLTOVF: i32 = 4;
const FPE_FLTUND: i32 = 5;
const FPE_FLTRES: i32 = 6;
const FPE_FLTINV: i32 = 7;

/// The stop for exception `vector` raised by application code.
fn exception(
    v: &mut Vcpu,
    space: &SpaceInner,
    vector: u64,
    error: u64,
    cr2: u64,
    regs: &Regs,
) -> Stop {
    let info = |signo: i32, code: i32, addr: u64| SigInfo { signo, code, addr };
    const SI_KERNEL: i32 = 0x80;
    match vector {
        14 => {
            let prot = error & 1 != 0 || space.lookup(cr2) & NONE != 0;
            let code = if prot { SEGV_ACCERR } else { SEGV_MAPERR };
            Stop::Fault(info(libc::SIGSEGV, code, cr2))
        }
        0 => Stop::Signal(info(libc::SIGFPE, FPE_INTDIV, regs.rip)),
        1 => Stop::Signal(info(libc::SIGTRAP, libc::TRAP_TRACE, regs.rip)),
        3 => Stop::Signal(info(libc::SIGTRAP, SI_KERNEL, 0)),
        6 => Stop::Signal(info(libc::SIGILL, ILL_ILLOPN, regs.rip)),
        12 => Stop::Fault(info(libc::SIGBUS, SI_KERNEL, 0)),
        17 => Stop::Fault(info(libc::SIGBUS, libc::BUS_ADRALN, cr2)),
        16 | 19 => {
            let code = fp_exception_code(v, vector == 19);
            Stop::Signal(info(libc::SIGFPE, code, regs.rip))
        }
        _ => Stop::Fault(info(libc::SIGSEGV, SI_KERNEL, 0)),
    }
}

/// `si_code` of a floating-point exception, from the x87 status and
/// control words (#MF) or MXCSR (#XM), as Linux computes it.
fn fp_exception_code(v: &mut Vcpu, simd: bool) -> i32 {
    let Ok(x) = v.fd.get_xsave() else {
        return 0;
    };
    let raised = if simd {
        let mxcsr = x.region[6];
        mxcsr & 0x3f & !((mxcsr >> 7) & 0x3f)
    } else {
        let (cwd, swd) = (x.region[0] & 0xffff, x.region[0] >> 16);
        swd & !cwd & 0x3f
    };
    if raised & 0x01 != 0 {
        FPE_FLTINV
    } else if raised & 0x04 != 0 {
        FPE_FLTDIV
    } else if raised & 0x08 != 0 {
        FPE_FLTOVF
    } else if raised & 0x12 != 0 {
        FPE_FLTUND
    } else if raised & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// After `syscall`: the number in orig_rax, the return address (rcx) in
/// rip and the flags the instruction saved (r11), as Linux reports them.
fn syscall_regs(regs: &mut Regs) {
    regs.orig_rax = regs.rax;
    regs.rip = regs.rcx;
    regs.eflags = regs.r11;
}

/// Gives the guest FS and GS bases `(fs, gs)` (through the sync area's
/// system registers, which KVM filled at the last exit; the first time
/// through the ioctls).
fn set_bases(v: &mut Vcpu, (fs, gs): (u64, u64)) -> Result<()> {
    if v.at == Where::Fresh {
        let mut s = v.fd.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?;
        (s.fs.base, s.gs.base) = (fs, gs);
        v.fd.set_sregs(&s).map_err(kvm_err("KVM_SET_SREGS"))?;
    } else {
        let s = &mut v.fd.sync_regs_mut().sregs;
        (s.fs.base, s.gs.base) = (fs, gs);
        v.fd.set_sync_dirty_reg(SyncReg::SystemRegister);
    }
    v.bases = (fs, gs);
    Ok(())
}

fn space_time(clock: &Mutex<Option<Arc<SpaceInner>>>) -> Duration {
    let space = clock.lock().clone();
    Duration::from_nanos(space.map_or(0, |s| s.cpu_time()))
}

impl Context for KvmContext {
    fn switch(&mut self, asp: &dyn AddressSpace, regs: &mut Regs) -> Result<Stop> {
        let space = &asp
            .as_any()
            .downcast_ref::<KvmSpace>()
            .ok_or(Error::Misuse("address space of another platform"))?
            .inner;
        if !self.space.as_ref().is_some_and(|s| Arc::ptr_eq(s, space)) {
            self.join(space);
        }
        let space = space.clone();
        let r = self.run(&space, regs);
        if let Some(v) = self.vcpu.as_ref() {
            (regs.fs_base, regs.gs_base) = v.bases;
        }
        r
    }

    fn cpu_time(&self) -> Duration {
        space_time(&self.clock)
    }

    fn cpu_clock(&self) -> Arc<dyn Fn() -> Duration + Send + Sync> {
        let clock = self.clock.clone();
        Arc::new(move || space_time(&clock))
    }

    fn app_time_on_this_thread(&self) -> Duration {
        Duration::from_nanos(self.own_time)
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(Kicker(self.vcpu.as_ref().expect("vcpu").shared.clone()))
    }

    fn fpstate(&mut self, _asp: &dyn AddressSpace) -> Result<FpState> {
        let size = self.shared.xsave_size;
        let x = self
            .vcpu()
            .fd
            .get_xsave()
            .map_err(kvm_err("KVM_GET_XSAVE"))?;
        let mut bytes: Vec<u8> = x.region.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.truncate(size);
        Ok(FpState(bytes))
    }

    fn set_fpstate(&mut self, _asp: &dyn AddressSpace, fp: &FpState) -> Result<()> {
        let mut x = kvm_bindings::kvm_xsave::default();
        for (i, chunk) in fp.0.chunks(4).take(x.region.len()).enumerate() {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            x.region[i] = u32::from_le_bytes(w);
        }
        // SAFETY: a plain kvm_xsave of the legacy size; KVM checks it.
        unsafe { self.vcpu().fd.set_xsave(&x) }.map_err(kvm_err("KVM_SET_XSAVE"))
    }

    fn home_cpu(&self) -> Option<usize> {
        None
    }
}

impl Drop for KvmContext {
    fn drop(&mut self) {
        if let Some(v) = self.vcpu.take() {
            if let Some(space) = self.space.take() {
                space.leave(&v.shared);
            }
            v.shared.tid.store(0, Ordering::SeqCst);
            self.shared.give_back(v);
        }
    }
}
