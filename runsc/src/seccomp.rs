//! Seccomp filters for the runtime's own processes. The sandbox process:
//! once the sentry is set up, it
//! may make only the host system calls it needs (memory, threads, ptrace
//! of its stubs, I/O on fds it already holds, gofer messages, time). In
//! particular it cannot open host paths, exec, or make network sockets.
//! Anything else fails with ENOSYS (glibc falls back where it can, e.g.
//! clone3 → clone). The gofer: only file operations relative to the fds
//! it holds and messages on its socket.

use anyhow::Context;
use seccompiler::{SeccompAction, SeccompFilter, TargetArch};

/// Host syscalls the sentry makes after boot.
const ALLOWED: &[libc::c_long] = &[
    // Memory.
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_mremap,
    libc::SYS_brk,
    libc::SYS_fallocate,
    libc::SYS_lseek,
    // Threads and stubs.
    libc::SYS_clone,
    libc::SYS_fork,
    libc::SYS_set_robust_list,
    libc::SYS_rseq,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_prctl,
    libc::SYS_futex,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_sched_setaffinity,
    libc::SYS_getcpu,
    libc::SYS_gettid,
    libc::SYS_getpid,
    libc::SYS_exit,
    libc::SYS_exit_group,
    libc::SYS_ptrace,
    libc::SYS_wait4,
    libc::SYS_waitid,
    libc::SYS_kill,
    libc::SYS_tgkill,
    libc::SYS_rt_sigtimedwait,
    libc::SYS_pause,
    libc::SYS_close_range,
    libc::SYS_dup2,
    libc::SYS_seccomp,
    // I/O on fds it holds (stdio, donated files, gofer sockets).
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_fcntl,
    libc::SYS_ioctl,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_statx,
    libc::SYS_fsync,
    libc::SYS_ftruncate,
    libc::SYS_fchmod,
    libc::SYS_poll,
    libc::SYS_ppoll,
    libc::SYS_sendmsg,
    libc::SYS_recvmsg,
    libc::SYS_getrandom,
    // Time and accounting.
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_gettimeofday,
    libc::SYS_getrusage,
    libc::SYS_sysinfo,
];

/// Host syscalls the gofer makes while serving (file operations relative
/// to fds inside its root, and messages on its socket).
const GOFER_ALLOWED: &[libc::c_long] = &[
    libc::SYS_openat,
    libc::SYS_close,
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_pread64,
    libc::SYS_recvmsg,
    libc::SYS_sendmsg,
    libc::SYS_recvfrom,
    libc::SYS_sendto,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_statx,
    libc::SYS_fstatfs,
    libc::SYS_getdents64,
    libc::SYS_lseek,
    libc::SYS_readlinkat,
    libc::SYS_mkdirat,
    libc::SYS_mknodat,
    libc::SYS_symlinkat,
    libc::SYS_linkat,
    libc::SYS_unlinkat,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_fchmodat,
    libc::SYS_fchmod,
    libc::SYS_fchownat,
    libc::SYS_utimensat,
    libc::SYS_ftruncate,
    libc::SYS_getxattr,
    libc::SYS_setxattr,
    libc::SYS_listxattr,
    libc::SYS_removexattr,
    libc::SYS_fcntl,
    libc::SYS_geteuid,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_madvise,
    libc::SYS_brk,
    libc::SYS_futex,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigaction,
    libc::SYS_sigaltstack,
    libc::SYS_clock_gettime,
    libc::SYS_getrandom,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// Confines every thread of the calling process to [`ALLOWED`].
pub fn confine_sentry() -> anyhow::Result<()> {
    confine(ALLOWED)
}

/// Confines the gofer to [`GOFER_ALLOWED`] once it is in its root.
pub fn confine_gofer() -> anyhow::Result<()> {
    confine(GOFER_ALLOWED)
}

fn confine(allowed: &[libc::c_long]) -> anyhow::Result<()> {
    let rules = allowed.iter().map(|&nr| (nr, vec![])).collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::ENOSYS as u32),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .context("building the sentry's seccomp filter")?;
    let program: seccompiler::BpfProgram = filter.try_into().context("compiling the filter")?;
    seccompiler::apply_filter_all_threads(&program)
        .context("installing the sentry's seccomp filter")
}
