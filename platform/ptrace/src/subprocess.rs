//! One stub process: an application address space under ptrace.

use std::any::Any;

use platform::{AddressSpace, Error, FpState, Perms, Regs, Result};

use crate::stub::{StubPage, STUB_MEMFD};

/// A traced stub process holding one application address space.
pub struct Subprocess {
    pid: libc::pid_t,
    /// The host thread that traces it (only it may make ptrace requests).
    tracer: libc::pid_t,
    stub: StubPage,
    /// Registers of the stub at birth; the template for injected syscalls.
    template: Regs,
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

impl Subprocess {
    /// Forks a stub traced by the calling thread.
    pub fn new(
        stub: StubPage,
        memfd: i32,
        filter: &[seccompiler::sock_filter],
    ) -> Result<Subprocess> {
        let pid = stub.spawn(memfd, filter)?;
        let mut sp = Subprocess {
            pid,
            tracer: gettid(),
            stub,
            template: Regs::default(),
        };
        sp.template = sp.get_regs()?;
        Ok(sp)
    }

    /// Fails unless the calling thread is the tracer.
    pub fn check_tracer(&self) -> Result<()> {
        if gettid() != self.tracer {
            return Err(Error::Misuse(
                "stub used from a thread that does not trace it",
            ));
        }
        Ok(())
    }

    /// Pins the stub to `cpu`, where its tracer runs now.
    pub fn pin(&self, cpu: i32) {
        // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays within it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut set);
            libc::sched_setaffinity(self.pid, std::mem::size_of_val(&set), &set);
        }
    }

    pub fn get_regs(&self) -> Result<Regs> {
        let mut regs = Regs::default();
        // SAFETY: Regs has the layout of user_regs_struct.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETREGS, self.pid, 0, &mut regs as *mut Regs) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_GETREGS"));
        }
        Ok(regs)
    }

    pub fn set_regs(&self, regs: &Regs) -> Result<()> {
        // SAFETY: Regs has the layout of user_regs_struct.
        let r = unsafe { libc::ptrace(libc::PTRACE_SETREGS, self.pid, 0, regs as *const Regs) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_SETREGS"));
        }
        Ok(())
    }

    /// Loads application registers, with the segment selectors the host
    /// requires (the application cannot choose them).
    pub fn set_app_regs(&self, regs: &mut Regs) -> Result<()> {
        let t = &self.template;
        regs.cs = t.cs;
        regs.ss = t.ss;
        regs.ds = t.ds;
        regs.es = t.es;
        regs.fs = t.fs;
        regs.gs = t.gs;
        self.set_regs(regs)
    }

    /// The stub thread's XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE).
    pub fn get_fpstate(&self) -> Result<FpState> {
        let mut buf = vec![0u8; xsave_size()];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: the kernel writes at most iov_len bytes into buf.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETREGSET, self.pid, NT_X86_XSTATE, &mut iov) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_GETREGSET"));
        }
        buf.truncate(iov.iov_len);
        Ok(FpState(buf))
    }

    /// Loads an XSAVE area into the stub thread.
    pub fn set_fpstate(&self, fp: &FpState) -> Result<()> {
        let mut buf = fp.0.clone();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: the kernel reads iov_len bytes from buf.
        let r = unsafe { libc::ptrace(libc::PTRACE_SETREGSET, self.pid, NT_X86_XSTATE, &mut iov) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_SETREGSET"));
        }
        Ok(())
    }

    pub fn siginfo(&self) -> Result<libc::siginfo_t> {
        // SAFETY: siginfo_t is plain data; the kernel fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid out pointer.
        let r = unsafe { libc::ptrace(libc::PTRACE_GETSIGINFO, self.pid, 0, &mut info) };
        if r != 0 {
            return Err(Error::last_os("PTRACE_GETSIGINFO"));
        }
        Ok(info)
    }

    /// Resumes the stopped stub with `request` (PTRACE_SYSEMU or PTRACE_CONT),
    /// suppressing any pending stop signal.
    pub fn resume(&self, request: libc::c_uint) -> Result<()> {
        // SAFETY: plain ptrace request on our tracee.
        if unsafe { libc::ptrace(request, self.pid, 0, 0) } != 0 {
            return Err(Error::last_os("ptrace resume"));
        }
        Ok(())
    }

    /// Waits for the next state change of the stub.
    pub fn wait(&self) -> Result<i32> {
        let mut status = 0;
        loop {
            // SAFETY: waitpid on our own tracee.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
            if r == self.pid {
                return Ok(status);
            }
            if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(Error::last_os("waitpid"));
            }
        }
    }

    /// Makes the stub execute one system call and returns its raw result.
    pub fn inject(&self, nr: i64, args: [u64; 6]) -> Result<i64> {
        self.check_tracer()?;
        let mut regs = self.template;
        regs.rax = nr as u64;
        regs.orig_rax = u64::MAX;
        regs.rdi = args[0];
        regs.rsi = args[1];
        regs.rdx = args[2];
        regs.r10 = args[3];
        regs.r8 = args[4];
        regs.r9 = args[5];
        regs.rip = self.stub.syscall_addr();
        self.set_regs(&regs)?;
        self.resume(libc::PTRACE_CONT)?;
        loop {
            let status = self.wait()?;
            if !libc::WIFSTOPPED(status) {
                return Err(Error::RunnerDied(format!("stub exited: {status:#x}")));
            }
            match libc::WSTOPSIG(status) {
                libc::SIGTRAP => break,
                libc::SIGSEGV | libc::SIGBUS | libc::SIGILL => {
                    let r = self.get_regs()?;
                    let info = self.siginfo()?;
                    return Err(Error::RunnerDied(format!(
                        "stub faulted injecting syscall {nr} (signal {}, code {}, addr {:#x}, rip {:#x}, regs {:x?})",
                        libc::WSTOPSIG(status),
                        info.si_code,
                        // SAFETY: reading the address field of a fault siginfo.
                        unsafe { info.si_addr() } as u64,
                        r.rip, r
                    )));
                }
                // Some other signal arrived first; drop it and go on.
                _ => self.resume(libc::PTRACE_CONT)?,
            }
        }
        Ok(self.get_regs()?.rax as i64)
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
        let r = self.inject(
            libc::SYS_mmap,
            [
                addr,
                len,
                perms.to_prot() as u64,
                flags as u64,
                STUB_MEMFD as u64,
                memfd_offset,
            ],
        )?;
        self.check("stub mmap", r)
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        let r = self.inject(libc::SYS_munmap, [addr, len, 0, 0, 0, 0])?;
        self.check("stub munmap", r)
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<()> {
        let r = self.inject(
            libc::SYS_mprotect,
            [addr, len, perms.to_prot() as u64, 0, 0, 0],
        )?;
        self.check("stub mprotect", r)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(self.pid, &mut status, libc::__WALL);
        }
    }
}

/// The regset of the XSAVE area (elf.h's NT_X86_XSTATE).
const NT_X86_XSTATE: usize = 0x202;

/// Size of the XSAVE area with every feature the CPU enables (CPUID 0xD).
fn xsave_size() -> usize {
    let r = std::arch::x86_64::__cpuid_count(0xd, 0);
    (r.ebx as usize).max(4096)
}
