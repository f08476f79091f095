//! One stub process: an application address space under ptrace, with one
//! stub thread per application thread, each traced by its task's host thread.

use std::any::Any;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use platform::{AddressSpace, Error, FpState, Perms, Regs, Result};

use crate::ctrl::{ControlFile, Op, Slot, OPS_PER_SLOT};
use crate::pool::StubPool;
use crate::ranges::RangeSet;
use crate::stub::{StubPage, STUB_MEMFD};
use crate::PAGE_SIZE;

/// A traced stub process holding one application address space.
pub struct Subprocess {
    /// Thread group id of the stub.
    pid: libc::pid_t,
    stub: StubPage,
    /// Registers of the stub at birth; the template for injected syscalls.
    template: Regs,
    /// Stub thread of each host thread that traces one.
    threads: Mutex<HashMap<libc::pid_t, libc::pid_t>>,
    /// Stub threads no task uses, parked untraced in `pause()` for the next
    /// task that needs one (a vfork child, a new thread).
    spare: Mutex<Vec<libc::pid_t>>,
    /// Where the stub came from and goes to when it dies.
    pool: StubPool,
    ctrl: Arc<ControlFile>,
    /// The stub's own control page (see [`StubPage::frame_addr`]), if it
    /// got one: what `start_return` needs.
    frame: Option<Slot>,
    /// Mapping changes not made yet: while only one stub thread exists, it
    /// is stopped whenever the sentry runs, so they can wait until it runs
    /// application code again (or, for new mappings, until it touches them)
    /// and then go as one batch.
    pending: Mutex<Pending>,
}

/// The ptrace options of every stub thread: stubs die with their tracer,
/// syscall stops are marked, and system calls the stub filter does not
/// allow stop for the tracer (see `stub::stub_filter`).
pub const TRACE_OPTIONS: libc::c_int =
    libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACESECCOMP;

/// Whether wait status `status` is a stop for a system call that the stub
/// filter sent to the tracer.
pub fn is_seccomp_stop(status: i32) -> bool {
    libc::WIFSTOPPED(status) && status >> 16 == libc::PTRACE_EVENT_SECCOMP
}

thread_local! {
    /// The calling host thread's id (asked for on every switch).
    static TID: libc::pid_t = {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() }
    };
    /// How many times the calling thread has run stub code of its own
    /// (which leaves a stub thread's registers changed).
    static INJECTS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The calling thread's control page, once it needed one (None when
    /// all were taken).
    static SLOT: OnceCell<Option<Slot>> = const { OnceCell::new() };
}

fn gettid() -> libc::pid_t {
    TID.with(|t| *t)
}

/// Makes the calling thread the tracer of stub thread `tid`, which waits
/// in `pause()`, moves it to the caller's CPU (before it wakes, so that
/// it wakes there) and stops it.
fn seize(tid: libc::pid_t) -> Result<()> {
    let opts = TRACE_OPTIONS;
    // SAFETY: plain ptrace requests on a thread of our own stub.
    unsafe {
        if libc::ptrace(libc::PTRACE_SEIZE, tid, 0, opts as libc::c_long) != 0 {
            return Err(Error::last_os("PTRACE_SEIZE"));
        }
        let cpu = libc::sched_getcpu();
        if cpu >= 0 {
            crate::cpus::pin(tid, cpu as usize);
        }
        if libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0) != 0 {
            return Err(Error::last_os("PTRACE_INTERRUPT"));
        }
    }
    let status = wait(tid)?;
    if !libc::WIFSTOPPED(status) {
        return Err(Error::RunnerDied(format!("seized stub: {status:#x}")));
    }
    Ok(())
}

/// How many times the calling thread has run stub code: registers read
/// from a stub thread before that are stale.
pub fn injects() -> u64 {
    INJECTS.with(|n| n.get())
}

/// Registers of one stub thread.
pub fn get_regs(tid: libc::pid_t) -> Result<Regs> {
    let mut regs = Regs::default();
    // SAFETY: Regs has the layout of user_regs_struct.
    let r = unsafe { libc::ptrace(libc::PTRACE_GETREGS, tid, 0, &mut regs as *mut Regs) };
    if r != 0 {
        return Err(Error::last_os("PTRACE_GETREGS"));
    }
    Ok(regs)
}

/// Loads the registers of one stub thread.
pub fn set_regs(tid: libc::pid_t, regs: &Regs) -> Result<()> {
    // SAFETY: Regs has the layout of user_regs_struct.
    let r = unsafe { libc::ptrace(libc::PTRACE_SETREGS, tid, 0, regs as *const Regs) };
    if r != 0 {
        return Err(Error::last_os("PTRACE_SETREGS"));
    }
    Ok(())
}

/// Sets only rax of a stopped stub thread.
fn poke_rax(tid: libc::pid_t, rax: u64) -> Result<()> {
    const RAX: usize = 10 * 8;
    // SAFETY: POKEUSER of a register slot of our stopped tracee.
    let r = unsafe { libc::ptrace(libc::PTRACE_POKEUSER, tid, RAX, rax) };
    if r != 0 {
        return Err(Error::last_os("PTRACE_POKEUSER"));
    }
    Ok(())
}

/// Resumes a stopped stub thread with `request`, suppressing any signal.
pub fn resume(tid: libc::pid_t, request: libc::c_uint) -> Result<()> {
    // SAFETY: plain ptrace request on our tracee.
    if unsafe { libc::ptrace(request, tid, 0, 0) } != 0 {
        return Err(Error::last_os("ptrace resume"));
    }
    Ok(())
}

/// Waits for the next state change of a stub thread.
pub fn wait(tid: libc::pid_t) -> Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own tracee.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r == tid {
            return Ok(status);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(Error::last_os("waitpid"));
        }
    }
}

/// The siginfo of a stub thread's signal stop.
pub fn siginfo(tid: libc::pid_t) -> Result<libc::siginfo_t> {
    // SAFETY: siginfo_t is plain data; the kernel fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    let r = unsafe { libc::ptrace(libc::PTRACE_GETSIGINFO, tid, 0, &mut info) };
    if r != 0 {
        return Err(Error::last_os("PTRACE_GETSIGINFO"));
    }
    Ok(info)
}

impl Subprocess {
    /// Takes a stub from `pool`, traced from now on by the calling thread.
    pub fn new(stub: StubPage, pool: &StubPool, ctrl: &Arc<ControlFile>) -> Result<Subprocess> {
        let parked = pool.take()?;
        let pid = parked.pid;
        if let Err(e) = seize(pid) {
            pool.retire(pid);
            return Err(e);
        }
        let mut threads = HashMap::new();
        threads.insert(gettid(), pid);
        let sp = Subprocess {
            pid,
            stub,
            template: parked.template,
            threads: Mutex::new(threads),
            spare: Mutex::new(Vec::new()),
            pool: pool.clone(),
            ctrl: ctrl.clone(),
            frame: parked.frame,
            pending: Mutex::new(Pending::default()),
        };
        sp.finish_start(pid)?;
        Ok(sp)
    }

    /// Makes what a freshly forked stub does before it parks (see
    /// `runsc_stub_fork`), should the seize have stopped it before it got
    /// there: the pool hands out a stub as soon as the fork returns.
    fn finish_start(&self, pid: libc::pid_t) -> Result<()> {
        let rip = get_regs(pid)?.rip;
        if (self.stub.park_addr()..self.stub.addr + self.stub.len).contains(&rip) {
            return Ok(());
        }
        let r = self.inject(
            libc::SYS_prctl,
            [
                libc::PR_SET_PDEATHSIG as u64,
                libc::SIGKILL as u64,
                0,
                0,
                0,
                0,
            ],
        )?;
        self.check("stub prctl", r)?;
        if let Some(page) = &self.frame {
            let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
            let args = [
                self.stub.frame_addr(),
                PAGE_SIZE,
                libc::PROT_READ as u64,
                flags,
                crate::stub::STUB_FRAMEFD as u64,
                page.offset(),
            ];
            let r = self.inject(libc::SYS_mmap, args)?;
            self.check("stub mmap of its control page", r)?;
        }
        Ok(())
    }

    /// The stub code this process runs.
    pub fn stub(&self) -> &StubPage {
        &self.stub
    }

    /// Thread group id of the stub.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The stub thread traced by the calling host thread.
    pub fn current(&self) -> Result<libc::pid_t> {
        self.threads
            .lock()
            .get(&gettid())
            .copied()
            .ok_or(Error::Misuse(
                "stub used from a thread that does not trace it",
            ))
    }

    /// Loads application registers into `tid`, with the segment selectors
    /// the host requires (the application cannot choose them) and no
    /// syscall for the host to restart.
    ///
    /// `held` is what `tid` holds now, if known: then only what changed is
    /// loaded (after most system calls, just the result in rax). The
    /// syscall number it may keep in orig_rax is harmless: a syscall stop
    /// under PTRACE_SYSEMU never runs or restarts the host syscall.
    pub fn set_app_regs(
        &self,
        tid: libc::pid_t,
        regs: &mut Regs,
        held: Option<&Regs>,
    ) -> Result<()> {
        let t = &self.template;
        regs.cs = t.cs;
        regs.ss = t.ss;
        regs.ds = t.ds;
        regs.es = t.es;
        regs.fs = t.fs;
        regs.gs = t.gs;
        regs.orig_rax = u64::MAX;
        if let Some(held) = held {
            let same_but_rax = Regs {
                rax: regs.rax,
                orig_rax: regs.orig_rax,
                ..*held
            };
            if same_but_rax == *regs {
                if held.rax == regs.rax {
                    return Ok(());
                }
                return poke_rax(tid, regs.rax);
            }
        }
        set_regs(tid, regs)
    }

    /// The calling thread's stub thread's XSAVE area (NT_X86_XSTATE).
    pub fn get_fpstate(&self) -> Result<FpState> {
        let tid = self.current()?;
        let mut buf = vec![0u8; xsave_size()];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: the kernel writes at most iov_len bytes into buf.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETREGSET, tid, NT_X86_XSTATE, &mut iov) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_GETREGSET"));
        }
        buf.truncate(iov.iov_len);
        Ok(FpState(buf))
    }

    /// Loads an XSAVE area into the calling thread's stub thread.
    pub fn set_fpstate(&self, fp: &FpState) -> Result<()> {
        let tid = self.current()?;
        let mut buf = fp.0.clone();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: the kernel reads iov_len bytes from buf.
        let r = unsafe { libc::ptrace(libc::PTRACE_SETREGSET, tid, NT_X86_XSTATE, &mut iov) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_SETREGSET"));
        }
        Ok(())
    }

    /// Makes the calling thread's stub thread execute one system call at
    /// `rip` (a `syscall` in the stub page) and returns its raw result.
    fn inject_at(&self, rip: u64, nr: i64, args: [u64; 6]) -> Result<i64> {
        Ok(self.run_stub(rip, nr, args)?.rax as i64)
    }

    /// Runs the calling thread's stub thread from `rip` (stub code ending
    /// in int3) with the syscall registers set to `nr` and `args`; returns
    /// its registers at the int3.
    fn run_stub(&self, rip: u64, nr: i64, args: [u64; 6]) -> Result<Regs> {
        let tid = self.start_stub(rip, nr, args, 0)?;
        match self.finish_stub(tid, nr)? {
            libc::SIGTRAP => get_regs(tid),
            sig => Err(self.stub_fault(tid, nr, sig)),
        }
    }

    /// Starts stub code at `rip` in the calling thread's stub thread, with
    /// the stub key in r15 and `frame` in rbp (see `runsc_stub_batch`).
    fn start_stub(&self, rip: u64, nr: i64, args: [u64; 6], frame: u64) -> Result<libc::pid_t> {
        let tid = self.load_stub(rip, nr, args, frame, None)?;
        resume(tid, libc::PTRACE_CONT)?;
        Ok(tid)
    }

    /// Sets the calling thread's stub thread to run stub code as
    /// `start_stub` does, without resuming it; with the TLS bases of `app`
    /// when given (those of the application it returns to: the frame that
    /// `runsc_stub_return` loads has none).
    fn load_stub(
        &self,
        rip: u64,
        nr: i64,
        args: [u64; 6],
        frame: u64,
        app: Option<&Regs>,
    ) -> Result<libc::pid_t> {
        let tid = self.current()?;
        INJECTS.with(|n| n.set(n.get() + 1));
        let mut regs = self.template;
        if let Some(app) = app {
            regs.fs_base = app.fs_base;
            regs.gs_base = app.gs_base;
        }
        regs.rax = nr as u64;
        regs.orig_rax = u64::MAX;
        regs.rdi = args[0];
        regs.rsi = args[1];
        regs.rdx = args[2];
        regs.r10 = args[3];
        regs.r8 = args[4];
        regs.r9 = args[5];
        regs.r15 = self.stub.key.0;
        regs.rbp = frame;
        // How many ops of a batch are done, should it stop before it starts.
        regs.r14 = 0;
        regs.rip = rip;
        set_regs(tid, &regs)?;
        Ok(tid)
    }

    /// Waits until stub code started by `start_stub` traps; returns the
    /// signal it stopped with (SIGTRAP at its int3, another for a fault).
    fn finish_stub(&self, tid: libc::pid_t, nr: i64) -> Result<i32> {
        loop {
            let status = wait(tid)?;
            if !libc::WIFSTOPPED(status) {
                return Err(Error::RunnerDied(format!(
                    "stub exited running {nr}: {status:#x}"
                )));
            }
            if is_seccomp_stop(status) {
                return Err(Error::RunnerDied(format!(
                    "stub code running {nr} made a system call its filter refuses"
                )));
            }
            if status >> 16 != 0 {
                // An event stop (a group stop); go on.
                resume(tid, libc::PTRACE_CONT)?;
                continue;
            }
            match libc::WSTOPSIG(status) {
                sig @ (libc::SIGTRAP | libc::SIGSEGV | libc::SIGBUS | libc::SIGILL) => {
                    return Ok(sig)
                }
                // Some other signal arrived first; drop it and go on.
                _ => resume(tid, libc::PTRACE_CONT)?,
            }
        }
    }

    /// The error for stub code that stopped with `sig` instead of its int3.
    fn stub_fault(&self, tid: libc::pid_t, nr: i64, sig: i32) -> Error {
        let rip = get_regs(tid).map_or(0, |r| r.rip);
        Error::RunnerDied(format!(
            "stub faulted injecting syscall {nr} (signal {sig}, rip {rip:#x})"
        ))
    }

    fn inject(&self, nr: i64, args: [u64; 6]) -> Result<i64> {
        self.inject_at(self.stub.syscall_addr(), nr, args)
    }

    /// Queues a mapping change; makes it at once when other stub threads
    /// may be running application code.
    fn queue(&self, nr: i64, args: [u64; 6]) -> Result<()> {
        let mut pending = self.pending.lock();
        pending.ops.push(Op {
            nr: nr as u64,
            args,
        });
        let now = pending.ops.len() >= OPS_PER_SLOT || self.threads.lock().len() > 1;
        drop(pending);
        if now {
            self.flush()?;
        }
        Ok(())
    }

    /// Whether queued mapping changes should be made before application
    /// code at `rip` runs again: those that take away or replace what the
    /// host maps now must; new mappings the application is about to use
    /// (its code, small ones like a heap chunk or TLS) are best made now
    /// too, and so are small writable ones even inside a larger run (a
    /// library's data segment, which relocation writes at once). Others
    /// (an image reserved in one go, then mapped piece by piece) wait until
    /// the application faults on them.
    pub fn must_flush(&self, rip: u64) -> bool {
        /// New mappings up to this size are made at once.
        const SMALL: u64 = 64 << 10;
        let p = self.pending.lock();
        if p.ops.iter().any(|op| {
            let (start, end) = op.range();
            p.mapped.overlaps(start, end)
        }) {
            return true;
        }
        // Runs of adjacent new mappings (one mmap may take several).
        let mut run: Option<(u64, u64)> = None;
        for op in p.ops.iter().filter(|op| op.nr == libc::SYS_mmap as u64) {
            let (start, end) = op.range();
            if op.args[2] & libc::PROT_WRITE as u64 != 0 && end - start <= SMALL {
                return true;
            }
            run = match run {
                Some((s, e)) if e == start => Some((s, end)),
                Some((s, e)) if e - s <= SMALL || (s..e).contains(&rip) => return true,
                _ => Some((start, end)),
            };
        }
        run.is_some_and(|(s, e)| e - s <= SMALL || (s..e).contains(&rip))
    }

    /// Whether mapping changes are queued.
    pub fn has_pending(&self) -> bool {
        !self.pending.lock().ops.is_empty()
    }

    /// Makes the queued mapping changes, in order, from the calling
    /// thread's stub thread.
    pub fn flush(&self) -> Result<()> {
        let mut pending = self.pending.lock();
        if pending.ops.is_empty() {
            return Ok(());
        }
        let mut ops = std::mem::take(&mut pending.ops);
        crate::ctrl::drop_overwritten(&mut ops);
        let mapped = &mut pending.mapped;
        // The batch goes through the stub's own page (which the pending
        // lock, held until the host made the changes, keeps to one thread
        // at a time), else through the calling thread's shared slot.
        if let Some(page) = &self.frame {
            return self.run_batches(page, self.stub.frame_addr(), &ops, mapped);
        }
        SLOT.with(|slot| match slot.get_or_init(|| self.ctrl.take()) {
            Some(slot) => {
                let addr = self.stub.ctrl_addr() + slot.offset();
                self.run_batches(slot, addr, &ops, mapped)
            }
            None => {
                for op in ops {
                    let r = self.inject(op.nr as i64, op.args)?;
                    self.check(op_name(op.nr), r)?;
                    op.apply_to(mapped);
                }
                Ok(())
            }
        })
    }

    /// Runs `ops` in batches through control page `page`, which the stub
    /// sees at `addr`, recording in `mapped` what the host maps.
    fn run_batches(&self, page: &Slot, addr: u64, ops: &[Op], mapped: &mut RangeSet) -> Result<()> {
        for chunk in ops.chunks(OPS_PER_SLOT) {
            page.write(chunk);
            let args = [addr, chunk.len() as u64, 0, 0, 0, 0];
            let tid = self.start_stub(self.stub.batch_addr(), 0, args, 0)?;
            let done = match self.finish_stub(tid, 0)? {
                libc::SIGTRAP => chunk.len(),
                // ud2: the op after the r14 that succeeded failed.
                libc::SIGILL => {
                    let regs = get_regs(tid)?;
                    let done = (regs.r14 as usize).min(chunk.len() - 1);
                    for op in &chunk[..done] {
                        op.apply_to(mapped);
                    }
                    return self.check(op_name(chunk[done].nr), regs.rax as i64);
                }
                sig => return Err(self.stub_fault(tid, 0, sig)),
            };
            for op in &chunk[..done] {
                op.apply_to(mapped);
            }
        }
        Ok(())
    }

    /// Makes the queued mapping changes on the way back to application
    /// code: the calling thread's stub thread runs them and then loads
    /// `app` (runsc_stub_return) without stopping, which saves the stop
    /// and register load that `flush` costs. Returns the ops when it set
    /// the thread up so: the caller then resumes it with PTRACE_CONT (the
    /// application's next system call stops through the stub filter) and
    /// hands a stop that comes before the application runs, with rip in
    /// the stub, to [`Subprocess::finish_return`]. The ops and registers go
    /// through the stub's own control page, which no other application
    /// can read. Returns None, having flushed the usual way, when the ops
    /// do not fit the page, the stub has none or other threads share the
    /// address space.
    pub fn start_return(&self, app: &Regs) -> Result<Option<Vec<Op>>> {
        let mut pending = self.pending.lock();
        if pending.ops.is_empty() {
            return Ok(None);
        }
        if self.threads.lock().len() > 1 {
            // Another thread could flush after us and have its changes made
            // before ours (which only run once we resume): the usual way
            // keeps the order, holding the lock until the host made them.
            drop(pending);
            self.flush()?;
            return Ok(None);
        }
        let mut ops = std::mem::take(&mut pending.ops);
        crate::ctrl::drop_overwritten(&mut ops);
        let Some(page) = self.frame.as_ref().filter(|_| ops.len() <= OPS_PER_SLOT) else {
            pending.ops = ops;
            drop(pending);
            self.flush()?;
            return Ok(None);
        };
        let mut frame = *app;
        frame.cs = self.template.cs;
        frame.ss = self.template.ss;
        page.write(&ops);
        page.write_frame(&frame);
        for op in &ops {
            op.apply_to(&mut pending.mapped);
        }
        drop(pending);
        let base = self.stub.frame_addr();
        let frame_addr = base + page.frame_offset() - page.offset();
        let args = [base, ops.len() as u64, 0, 0, 0, 0];
        self.load_stub(self.stub.batch_addr(), 0, args, frame_addr, Some(app))?;
        Ok(Some(ops))
    }

    /// Completes what [`Subprocess::start_return`] started when stub thread
    /// `tid` stopped (with registers `stopped`, rip in the stub) before it
    /// got back to application code: makes the ops it had not made and
    /// loads `app`, as if it had returned and stopped at once.
    pub fn finish_return(
        &self,
        tid: libc::pid_t,
        status: i32,
        stopped: &Regs,
        ops: &[Op],
        app: &mut Regs,
    ) -> Result<()> {
        let done = if self.stub.return_range().contains(&stopped.rip) {
            ops.len()
        } else {
            (stopped.r14 as usize).min(ops.len())
        };
        if libc::WIFSTOPPED(status) && status >> 16 == 0 && libc::WSTOPSIG(status) == libc::SIGILL {
            // ud2: op `done` failed.
            let op = ops.get(done).map_or(0, |o| o.nr);
            self.check(op_name(op), stopped.rax as i64)?;
        }
        if done < ops.len() {
            // Replaying ops already made is harmless: each sets its range
            // to what the whole sequence leaves there.
            self.pending
                .lock()
                .ops
                .splice(0..0, ops[done..].iter().copied());
            self.flush()?;
        }
        self.set_app_regs(tid, app, None)
    }

    fn check(&self, op: &'static str, r: i64) -> Result<()> {
        if (-4095..0).contains(&r) {
            return Err(Error::Host {
                op,
                source: std::io::Error::from_raw_os_error(-r as i32),
            });
        }
        Ok(())
    }
}

impl AddressSpace for Subprocess {
    fn map(&self, addr: u64, len: u64, memfd_offset: u64, perms: Perms) -> Result<()> {
        let flags = libc::MAP_SHARED | libc::MAP_FIXED;
        self.queue(
            libc::SYS_mmap,
            [
                addr,
                len,
                perms.to_prot() as u64,
                flags as u64,
                STUB_MEMFD as u64,
                memfd_offset,
            ],
        )
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        self.queue(libc::SYS_munmap, [addr, len, 0, 0, 0, 0])
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<()> {
        self.queue(
            libc::SYS_mprotect,
            [addr, len, perms.to_prot() as u64, 0, 0, 0],
        )
    }

    fn new_thread(&self) -> Result<u64> {
        // The new thread may run application code as soon as it exists.
        self.flush()?;
        if let Some(tid) = self.spare.lock().pop() {
            return Ok(tid as u64);
        }
        let flags = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM;
        let r = self.inject_at(
            self.stub.clone_addr(),
            libc::SYS_clone,
            [flags as u64, 0, 0, 0, 0, 0],
        )?;
        self.check("stub clone", r)?;
        Ok(r as u64)
    }

    fn adopt_thread(&self, token: u64) -> Result<()> {
        let tid = token as libc::pid_t;
        seize(tid)?;
        self.threads.lock().insert(gettid(), tid);
        Ok(())
    }

    fn release_thread(&self) {
        let Ok(tid) = self.current() else {
            return;
        };
        // Park it: cheaper than a thread exit now and a clone later, and
        // the host thread may end without taking the stub with it
        // (PTRACE_O_EXITKILL).
        let mut regs = self.template;
        regs.orig_rax = u64::MAX;
        regs.r15 = self.stub.key.0;
        regs.rip = self.stub.park_addr();
        // SAFETY: plain ptrace request on our own stopped tracee.
        let parked = set_regs(tid, &regs).is_ok()
            && unsafe { libc::ptrace(libc::PTRACE_DETACH, tid, 0, 0) } == 0;
        if parked {
            self.spare.lock().push(tid);
        }
        self.threads.lock().remove(&gettid());
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        self.pool.retire(self.pid);
    }
}

/// Mapping changes not made yet, and what the host maps now.
#[derive(Default)]
struct Pending {
    ops: Vec<Op>,
    mapped: RangeSet,
}

/// The name of a batched system call, for errors.
fn op_name(nr: u64) -> &'static str {
    match nr as i64 {
        libc::SYS_mmap => "stub mmap",
        libc::SYS_munmap => "stub munmap",
        libc::SYS_mprotect => "stub mprotect",
        _ => "stub syscall",
    }
}

/// The regset of the XSAVE area (elf.h's NT_X86_XSTATE).
const NT_X86_XSTATE: usize = 0x202;

/// Size of the XSAVE area with every feature the CPU enables (CPUID 0xD),
/// asked once: CPUID traps to the hypervisor in a virtual machine.
fn xsave_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| (std::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize).max(4096))
}
