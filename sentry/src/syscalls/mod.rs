//! The amd64 system call table. Handlers are thin: they decode arguments,
//! call into the subsystem and encode the result.

mod creds;
mod epoll;
mod fs;
mod futex;
mod info;
mod inotify;
mod mm;
mod mount;
mod poll;
mod process;
mod signal;
mod socket;
mod splice;
mod time;
mod xattr;

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Task;
use crate::strace;
pub use creds::ALL_CAPS;
pub use info::{RELEASE, VERSION};

/// A syscall handler.
pub type Handler = fn(&mut Task, [u64; 6]) -> SysResult;

/// How completely a syscall is implemented (for the compatibility table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// As Linux does it.
    Full,
    /// Works for common uses; the text says what is missing.
    Partial(&'static str),
}

macro_rules! table {
    ($($nr:literal => $handler:path, $support:expr;)*) => {
        /// The handler and support level of syscall `nr`; None if unsupported.
        pub fn lookup(nr: u64) -> Option<(Handler, Support)> {
            match nr {
                $($nr => Some(($handler as Handler, $support)),)*
                _ => None,
            }
        }
    };
}

use Support::{Full, Partial};

table! {
    0 => fs::read, Full;
    1 => fs::write, Full;
    2 => fs::open, Partial("permission checks by mode bits (root passes them), no ACLs; no O_TMPFILE");
    3 => fs::close, Full;
    4 => fs::stat, Full;
    5 => fs::fstat, Full;
    6 => fs::lstat, Full;
    7 => poll::poll, Partial("readiness is re-checked every few milliseconds");
    8 => fs::lseek, Full;
    9 => mm::mmap, Partial("MAP_SHARED file mappings are private copies");
    10 => mm::mprotect, Full;
    11 => mm::munmap, Full;
    12 => mm::brk, Full;
    13 => signal::rt_sigaction, Full;
    15 => signal::rt_sigreturn, Full;
    14 => signal::rt_sigprocmask, Full;
    16 => fs::ioctl, Partial("TCGETS, TCSETS*, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX");
    17 => fs::pread64, Full;
    18 => fs::pwrite64, Full;
    19 => fs::readv, Full;
    20 => fs::writev, Full;
    21 => fs::access, Full;
    22 => fs::pipe, Full;
    23 => poll::select, Partial("readiness is re-checked every few milliseconds");
    24 => process::sched_yield, Full;
    25 => mm::mremap, Partial("no MREMAP_DONTUNMAP");
    26 => mm::msync, Partial("no write-back of shared file mappings");
    27 => mm::mincore, Full;
    28 => mm::madvise, Partial("advice other than MADV_DONTNEED is accepted and ignored");
    32 => fs::dup, Full;
    33 => fs::dup2, Full;
    34 => signal::pause, Full;
    35 => time::nanosleep, Full;
    36 => time::getitimer, Partial("CPU-time timers sample the clock every few milliseconds");
    37 => time::alarm, Full;
    38 => time::setitimer, Partial("CPU-time timers sample the clock every few milliseconds; ITIMER_PROF counts application time only");
    39 => info::getpid, Full;
    40 => splice::sendfile, Full;
    62 => signal::kill, Full;
    44 => socket::sendto, Partial("connected unix socket pairs only");
    45 => socket::recvfrom, Partial("connected unix socket pairs only");
    46 => socket::sendmsg, Partial("no ancillary data");
    47 => socket::recvmsg, Partial("no ancillary data");
    48 => socket::shutdown, Partial("accepted, no half-close");
    51 => socket::getname, Partial("unnamed unix sockets");
    52 => socket::getname, Partial("unnamed unix sockets");
    53 => socket::socketpair, Partial("AF_UNIX; datagram boundaries are not kept");
    54 => socket::setsockopt, Partial("accepted and ignored");
    55 => socket::getsockopt, Partial("SO_TYPE, SO_ERROR, SO_DOMAIN, buffer sizes");
    56 => process::clone, Full;
    57 => process::fork, Full;
    58 => process::vfork, Full;
    59 => process::execve, Full;
    60 => process::exit, Full;
    61 => process::wait4, Partial("rusage has CPU times only");
    63 => info::uname, Full;
    72 => fs::fcntl, Partial("F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC, F_GETLK, F_SETLK, F_SETLKW and their OFD forms");
    73 => fs::flock, Full;
    74 => fs::fsync, Full;
    75 => fs::fsync, Full;
    76 => fs::truncate, Full;
    77 => fs::ftruncate, Full;
    78 => fs::getdents, Full;
    79 => fs::getcwd, Full;
    80 => fs::chdir, Full;
    81 => fs::fchdir, Full;
    82 => fs::rename, Full;
    83 => fs::mkdir, Full;
    84 => fs::rmdir, Full;
    85 => fs::creat, Full;
    86 => fs::link, Full;
    87 => fs::unlink, Full;
    88 => fs::symlink, Full;
    89 => fs::readlink, Full;
    90 => fs::chmod, Full;
    91 => fs::fchmod, Full;
    92 => fs::chown, Full;
    93 => fs::fchown, Full;
    94 => fs::lchown, Full;
    95 => fs::umask, Full;
    96 => time::gettimeofday, Full;
    97 => info::getrlimit, Full;
    98 => time::getrusage, Partial("CPU times only");
    99 => info::sysinfo, Full;
    100 => time::times, Full;
    102 => info::getuid, Full;
    104 => info::getgid, Full;
    107 => info::geteuid, Full;
    108 => info::getegid, Full;
    105 => creds::setuid, Full;
    106 => creds::setgid, Full;
    110 => info::getppid, Full;
    109 => process::setpgid, Full;
    111 => process::getpgrp, Full;
    112 => process::setsid, Full;
    113 => creds::setreuid, Full;
    114 => creds::setregid, Full;
    115 => info::getgroups, Full;
    116 => creds::setgroups, Full;
    117 => creds::setresuid, Full;
    118 => info::getresuid, Full;
    119 => creds::setresgid, Full;
    120 => info::getresgid, Full;
    121 => process::getpgid, Full;
    122 => creds::setfsuid, Partial("the filesystem ids follow the effective ids");
    123 => creds::setfsgid, Partial("the filesystem ids follow the effective ids");
    124 => process::getsid, Full;
    125 => creds::capget, Full;
    126 => creds::capset, Partial("capabilities are recorded; permission checks use the effective uid");
    127 => signal::rt_sigpending, Full;
    128 => signal::rt_sigtimedwait, Full;
    129 => signal::rt_sigqueueinfo, Full;
    130 => signal::rt_sigsuspend, Full;
    131 => signal::sigaltstack, Full;
    132 => fs::utime, Full;
    133 => fs::mknod, Partial("FIFOs, sockets and device nodes in tmpfs and the overlay; device nodes do not open");
    135 => process::personality, Partial("recorded; no execution domain changes anything");
    137 => fs::statfs, Partial("fixed filesystem figures");
    138 => fs::fstatfs, Partial("fixed filesystem figures");
    140 => process::getpriority, Full;
    141 => process::setpriority, Partial("recorded; the host schedules all sandbox threads alike");
    142 => process::sched_setparam, Full;
    143 => process::sched_getparam, Full;
    144 => process::sched_setscheduler, Partial("recorded; the host schedules all sandbox threads alike");
    145 => process::sched_getscheduler, Full;
    146 => process::sched_get_priority_max, Full;
    147 => process::sched_get_priority_min, Full;
    148 => process::sched_rr_get_interval, Full;
    149 => mm::mlock, Partial("nothing is swapped, so mapped memory counts as locked");
    150 => mm::munlock, Full;
    151 => mm::mlockall, Partial("nothing is swapped, so mapped memory counts as locked");
    152 => mm::munlockall, Full;
    157 => process::prctl, Partial("name, dumpable, no_new_privs, pdeathsig, child subreaper, keepcaps, capbset and ambient queries");
    158 => process::arch_prctl, Full;
    160 => info::setrlimit, Partial("NOFILE, AS and FSIZE are enforced; the others are recorded");
    161 => fs::chroot, Partial("the calling thread only (not the other threads sharing its CLONE_FS state)");
    162 => fs::sync, Partial("host files are left to the host's write-back");
    165 => mount::mount, Partial("tmpfs, bind mounts, proc/sysfs/devpts (the sandbox's own), propagation flags accepted; no MS_MOVE, mount options other than tmpfs mode= are ignored");
    166 => mount::umount2, Partial("mounts made in the sandbox; busy mounts are detached");
    186 => info::gettid, Full;
    201 => time::time, Full;
    202 => futex::futex, Partial("private futexes; no PI operations");
    203 => process::sched_setaffinity, Partial("recorded and reported; the host places threads itself");
    204 => process::sched_getaffinity, Full;
    213 => epoll::epoll_create, Full;
    217 => fs::getdents64, Full;
    188 => xattr::setxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    189 => xattr::lsetxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    190 => xattr::fsetxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    191 => xattr::getxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    192 => xattr::lgetxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    193 => xattr::fgetxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    194 => xattr::listxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    195 => xattr::llistxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    196 => xattr::flistxattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    197 => xattr::removexattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    198 => xattr::lremovexattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    199 => xattr::fremovexattr, Partial("tmpfs, the overlay's upper layer and host files (through the gofer); no system.* (ACL) attributes");
    200 => signal::tkill, Full;
    218 => process::set_tid_address, Full;
    232 => epoll::epoll_wait, Partial("readiness is re-checked every few milliseconds");
    233 => epoll::epoll_ctl, Partial("no EPOLLEXCLUSIVE or EPOLLWAKEUP semantics");
    222 => time::timer_create, Partial("CPU-time clocks count wall time");
    223 => time::timer_settime, Full;
    224 => time::timer_gettime, Full;
    225 => time::timer_getoverrun, Full;
    226 => time::timer_delete, Full;
    228 => time::clock_gettime, Partial("no clocks of other processes or threads");
    229 => time::clock_getres, Full;
    230 => time::clock_nanosleep, Partial("not interruptible by signals");
    231 => process::exit_group, Full;
    257 => fs::openat, Partial("permission checks by mode bits (root passes them), no ACLs; no O_TMPFILE");
    258 => fs::mkdirat, Full;
    259 => fs::mknodat, Partial("FIFOs, sockets and device nodes in tmpfs and the overlay; device nodes do not open");
    260 => fs::fchownat, Full;
    262 => fs::newfstatat, Full;
    263 => fs::unlinkat, Full;
    264 => fs::renameat, Full;
    265 => fs::linkat, Full;
    266 => fs::symlinkat, Full;
    267 => fs::readlinkat, Full;
    268 => fs::fchmodat, Full;
    269 => fs::faccessat, Full;
    270 => poll::pselect6, Partial("readiness is re-checked every few milliseconds");
    271 => poll::ppoll, Partial("readiness is re-checked every few milliseconds");
    234 => signal::tgkill, Full;
    235 => fs::utimes, Full;
    247 => process::waitid, Full;
    253 => inotify::inotify_init, Full;
    254 => inotify::inotify_add_watch, Partial("events of files changed through the sandbox; not of changes the host makes");
    255 => inotify::inotify_rm_watch, Full;
    261 => fs::futimesat, Full;
    273 => process::set_robust_list, Full;
    274 => process::get_robust_list, Full;
    275 => splice::splice, Partial("data is copied through the sentry; SPLICE_F_MOVE and SPLICE_F_MORE are hints");
    276 => splice::tee, Full;
    278 => splice::vmsplice, Partial("the pages are copied, not moved or shared");
    280 => fs::utimensat, Full;
    281 => epoll::epoll_pwait, Partial("readiness is re-checked every few milliseconds");
    283 => epoll::timerfd_create, Partial("no TFD_TIMER_CANCEL_ON_SET");
    282 => signal::signalfd, Full;
    284 => epoll::eventfd, Full;
    285 => fs::fallocate, Partial("allocation, growth and FALLOC_FL_PUNCH_HOLE; no ZERO_RANGE, COLLAPSE_RANGE or INSERT_RANGE");
    286 => epoll::timerfd_settime, Partial("no TFD_TIMER_CANCEL_ON_SET");
    287 => epoll::timerfd_gettime, Full;
    289 => signal::signalfd4, Full;
    290 => epoll::eventfd2, Full;
    291 => epoll::epoll_create1, Full;
    292 => fs::dup3, Full;
    293 => fs::pipe2, Partial("no O_DIRECT packet mode");
    294 => inotify::inotify_init1, Full;
    295 => fs::preadv, Full;
    296 => fs::pwritev, Full;
    297 => signal::rt_tgsigqueueinfo, Full;
    302 => info::prlimit64, Partial("own process only");
    309 => process::getcpu, Full;
    316 => fs::renameat2, Partial("RENAME_NOREPLACE and RENAME_EXCHANGE (tmpfs and the overlay); no RENAME_WHITEOUT");
    317 => process::seccomp, Partial("no SECCOMP_RET_USER_NOTIF listeners");
    318 => info::getrandom, Full;
    319 => fs::memfd_create, Partial("no MFD_HUGETLB; F_SEAL_WRITE is not refused while writable shared mappings exist");
    322 => process::execveat, Full;
    325 => mm::mlock2, Partial("nothing is swapped, so mapped memory counts as locked");
    326 => splice::copy_file_range, Full;
    332 => fs::statx, Full;
    436 => fs::close_range, Full;
    424 => signal::pidfd_send_signal, Partial("no PIDFD_SIGNAL_* scope flags");
    434 => signal::pidfd_open, Partial("no PIDFD_THREAD");
    435 => process::clone3, Partial("no set_tid or CLONE_INTO_CGROUP");
    437 => fs::openat2, Partial("RESOLVE_NO_MAGICLINKS counts only with RESOLVE_NO_SYMLINKS (magic links are plain symlinks here); RESOLVE_CACHED lookups always succeed");
    439 => fs::faccessat2, Full;
    441 => epoll::epoll_pwait2, Partial("readiness is re-checked every few milliseconds");
}

/// Reads application memory for strace's string arguments.
struct TaskMemory<'a>(&'a crate::mm::MemoryManager);

impl strace::MemoryReader for TaskMemory<'_> {
    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.0.copy_in(addr, &mut v).ok()?;
        Some(v)
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Option<Vec<u8>> {
        match self.0.read_cstr(addr, max) {
            Ok(v) => Some(v),
            Err(Errno::ENAMETOOLONG) => {
                let mut v = vec![0u8; max];
                self.0.copy_in(addr, &mut v).ok()?;
                Some(v)
            }
            Err(_) => None,
        }
    }
}

/// Syscalls that do not return to the caller on success.
fn no_return(nr: u64) -> bool {
    matches!(nr, 59 | 60 | 231 | 322)
}

/// Handles the syscall the task stopped at and stores its result.
pub fn handle(t: &mut Task) {
    t.sync_fs();
    let nr = t.regs.orig_rax;
    let args = t.regs.syscall_args();
    if let Some(r) = process::seccomp_verdict(t, nr, &args) {
        if !t.regs_replaced {
            t.regs.rax = r;
        }
        return;
    }
    let tracing = t.kernel.config.strace;
    if tracing && no_return(nr) {
        let line = strace::format_call(nr, &args, &TaskMemory(&t.mm));
        log::info!(target: "strace", "[{:>4}] {line} ...", t.tid);
    }
    let result = match lookup(nr) {
        Some((handler, _)) => handler(t, args),
        None => {
            t.kernel.report_enosys(nr);
            Err(Errno::ENOSYS)
        }
    };
    if tracing && !(no_return(nr) && result.is_ok()) {
        let mem = TaskMemory(&t.mm);
        let ret = result.map_err(|e| e.0);
        let line = strace::format_call_exit(nr, &args, ret, &mem);
        let res = strace::format_result(nr, ret);
        log::info!(target: "strace", "[{:>4}] {line}{res}", t.tid);
    }
    if t.regs_replaced {
        t.regs_replaced = false;
        return;
    }
    t.regs.rax = match result {
        Ok(v) => v,
        Err(e) if e.is_restart() => {
            // Signal delivery decides: restart, or fail with EINTR.
            t.restart = Some(e);
            (-(libc::EINTR as i64)) as u64
        }
        Err(e) => (-(e.0 as i64)) as u64,
    };
}

/// The syscall compatibility table (docs/syscalls.md), generated from the
/// dispatch table so that it cannot drift from the code.
pub fn compat_table() -> String {
    let mut rows = String::new();
    let (mut full, mut partial, mut none) = (0, 0, 0);
    for nr in 0..strace::SYSCALL_COUNT as u64 {
        let Some(name) = strace::syscall_name(nr) else {
            continue;
        };
        let (status, note) = match lookup(nr) {
            Some((_, Support::Full)) => {
                full += 1;
                ("supported", "")
            }
            Some((_, Support::Partial(n))) => {
                partial += 1;
                ("partial", n)
            }
            None => {
                none += 1;
                ("unsupported", "ENOSYS")
            }
        };
        rows.push_str(&format!("| {nr} | {name} | {status} | {note} |\n"));
    }
    format!(
        "# System call compatibility (amd64)\n\n\
         Generated from the sentry's dispatch table (`sentry/src/syscalls/mod.rs`); \
         regenerate with `UPDATE_DOCS=1 cargo test -p sentry --test syscall_table`.\n\n\
         {full} supported, {partial} partial, {none} unsupported.\n\n\
         | nr | name | status | notes |\n|---|---|---|---|\n{rows}"
    )
}
