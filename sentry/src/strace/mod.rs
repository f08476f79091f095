//! Decoding of app system calls for `--strace`.
//!
//! `--strace` is what users debug a sandboxed app with, so its lines look like
//! the real strace's: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`.
//! This module knows every amd64 syscall's name and argument kinds (a static
//! table, [`syscall_args`]) and turns raw register values into that text.
//! It has no state and no dependency on the rest of the sentry: app memory is
//! read through the [`MemoryReader`] trait, which the sentry implements.
//!
//! A syscall is logged in two steps: [`format_call`] on entry, then
//! [`format_call_exit`] (which also shows buffers the call filled, such as
//! `read`'s data) followed by [`format_result`] on exit.

mod args;
mod errno;
mod names;

pub use errno::{errno_message, errno_name};
pub use names::{syscall_args, syscall_name, syscall_number, SYSCALL_COUNT};

use std::fmt::Write as _;

/// How one syscall argument is printed.
///
/// The kinds follow strace's output: numbers in decimal or hex, pointers in
/// hex (`NULL` for 0), strings read from app memory and quoted, and flag or
/// enum arguments by their symbolic names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A file descriptor, in decimal (a C int: `-1` prints as `-1`).
    Fd,
    /// A directory fd of an `*at` call: `AT_FDCWD`, or decimal.
    DirFd,
    /// A C `int` (the low 32 bits, signed), in decimal.
    Int,
    /// An unsigned 64-bit value (sizes, counts), in decimal.
    UInt,
    /// A signed 64-bit value (file offsets), in decimal.
    Long,
    /// A value best read in hex (`0` or `0x...`).
    Hex,
    /// A pointer whose target is not decoded: `NULL` or hex.
    Ptr,
    /// A NUL-terminated string in app memory (a path, a name).
    Path,
    /// An input buffer whose length is the next argument (`write`'s data).
    Str,
    /// An input buffer whose length is argument number `.0` (zero-based).
    StrLen(u8),
    /// An output buffer whose valid length is the call's result (`read`'s
    /// data): a pointer on entry, the data in [`format_call_exit`].
    OutStr,
    /// An output NUL-terminated string (`getcwd`): a pointer on entry, the
    /// string in [`format_call_exit`].
    OutPath,
    /// A NULL-terminated array of string pointers (`execve`'s argv).
    StrArray,
    /// A NULL-terminated array of strings shown by count only (`execve`'s
    /// envp): `0x7ffc10 /* 12 vars */`.
    EnvArray,
    /// A register the kernel takes but ignores on amd64 (the high half of a
    /// split offset); counted in the argument list but not printed.
    Ignored,
    /// `open` flags: `O_RDONLY|O_CREAT|...`, unknown bits in hex.
    OpenFlags,
    /// `O_CLOEXEC|O_NONBLOCK` style flags of calls that create an fd
    /// (`pipe2`, `dup3`, `accept4`, `eventfd2`, `epoll_create1`, ...).
    NewFdFlags,
    /// Descriptor flags of `fcntl(F_SETFD)`: `FD_CLOEXEC`.
    FdFlags,
    /// A file mode in octal (`0644`), with the file type if set (`S_IFCHR|0600`).
    Mode,
    /// `access` mode: `F_OK` or `R_OK|W_OK|X_OK`.
    AccessMode,
    /// `PROT_*` flags; `PROT_NONE` for 0.
    MmapProt,
    /// `MAP_*` flags: the mapping type, then the modifier flags.
    MmapFlags,
    /// `MREMAP_*` flags.
    MremapFlags,
    /// `MS_*` flags of `msync`.
    MsyncFlags,
    /// `MADV_*` advice.
    Madvise,
    /// `AT_*` flags of `*at` calls (`AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH`).
    AtFlags,
    /// `unlinkat`'s flags: `AT_REMOVEDIR` (same bit as `AT_EACCESS`).
    UnlinkFlags,
    /// `RENAME_*` flags of `renameat2`.
    RenameFlags,
    /// A signal number: `SIGKILL`, `SIGRTMIN`, `SIGRT_2`.
    Signal,
    /// A pointer to a `sigset_t`, printed as `[INT TERM]` (input sets only).
    SigSet,
    /// `rt_sigprocmask`'s how: `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`.
    SigHow,
    /// `lseek`'s whence: `SEEK_SET`, ...
    Whence,
    /// An `fcntl` command: `F_SETFD`, ...; the next argument prints by command.
    Fcntl,
    /// An `ioctl` request: `TCGETS`, `TIOCGWINSZ`, `FIONREAD`, ... or hex.
    Ioctl,
    /// A clock id: `CLOCK_MONOTONIC`, ...
    ClockId,
    /// An `arch_prctl` code: `ARCH_SET_FS`, ...
    ArchPrctl,
    /// A `prctl` option: `PR_SET_NAME`, ...; the rest print by option.
    Prctl,
    /// A futex operation: `FUTEX_WAIT_PRIVATE`, ...; the rest print by operation.
    FutexOp,
    /// `clone` flags, with the exit signal in the low byte: `CLONE_VM|SIGCHLD`.
    CloneFlags,
    /// Namespace flags of `unshare` / `setns`: `CLONE_NEWNS|CLONE_NEWPID`.
    NsFlags,
    /// `wait4` / `waitid` options: `WNOHANG|__WALL`.
    WaitOptions,
    /// A socket address family: `AF_UNIX`, `AF_INET`, ...
    SockFamily,
    /// A socket type: `SOCK_STREAM|SOCK_CLOEXEC`.
    SockType,
    /// An `epoll_ctl` operation: `EPOLL_CTL_ADD`, ...
    EpollCtl,
    /// A resource of `getrlimit` / `prlimit64`: `RLIMIT_NOFILE`, ...
    Rlimit,
}

/// Read access to the app's memory, for string and buffer arguments.
///
/// Implemented by the sentry over the task's address space; a bad pointer
/// must give `None` (the argument is then printed as its address), never a
/// fault.
pub trait MemoryReader {
    /// Exactly `len` bytes at `addr`, or `None` if any of them is unreadable.
    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>>;
    /// The bytes at `addr` up to (not including) the first NUL, reading at
    /// most `max` bytes (then all `max` are returned); `None` if unreadable.
    fn read_cstr(&self, addr: u64, max: usize) -> Option<Vec<u8>>;
}

/// A [`MemoryReader`] that reads nothing: every string prints as its address.
/// Useful where no address space is at hand.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMemory;

impl MemoryReader for NoMemory {
    fn read_bytes(&self, _addr: u64, _len: usize) -> Option<Vec<u8>> {
        None
    }
    fn read_cstr(&self, _addr: u64, _max: usize) -> Option<Vec<u8>> {
        None
    }
}

/// `write!` into a `String`, which cannot fail.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

// Numbers whose results print specially (see `format_result`).
const NR_MMAP: u64 = 9;
const NR_BRK: u64 = 12;
const NR_MREMAP: u64 = 25;
const NR_SHMAT: u64 = 30;
const NR_UMASK: u64 = 95;
const NR_PERSONALITY: u64 = 135;
const NR_MAP_SHADOW_STACK: u64 = 453;

/// The argument kinds actually printed for this call: the table's kinds,
/// adjusted where strace's output depends on another argument (open's mode
/// only with O_CREAT/O_TMPFILE, fcntl's argument by command, futex's and
/// prctl's by operation).
fn call_kinds(nr: u64, args: &[u64; 6]) -> ([Arg; 6], usize) {
    let mut kinds = [Arg::Hex; 6];
    let mut table = syscall_args(nr);
    if let Some(pos) = table.iter().position(|k| *k == Arg::Prctl) {
        if let Some(short) = args::prctl_args(args[pos]) {
            table = short;
        }
    }
    if table.first() == Some(&Arg::Ptr) && table.get(1) == Some(&Arg::FutexOp) {
        table = args::futex_args(args[1]);
    }
    let mut n = table.len().min(6);
    kinds[..n].copy_from_slice(&table[..n]);
    for i in 0..n {
        match kinds[i] {
            Arg::OpenFlags
                if kinds.get(i + 1) == Some(&Arg::Mode) && !args::open_uses_mode(args[i]) =>
            {
                n = i + 1;
                break;
            }
            Arg::Fcntl if i + 1 < n => match args::fcntl_arg(args[i]) {
                Some(kind) => kinds[i + 1] = kind,
                None => {
                    n = i + 1;
                    break;
                }
            },
            _ => {}
        }
    }
    (kinds, n)
}

fn format(
    nr: u64,
    args: &[u64; 6],
    ret: Option<Result<u64, i32>>,
    mem: &dyn MemoryReader,
) -> String {
    let mut out = String::with_capacity(96);
    let Some(name) = syscall_name(nr) else {
        put!(out, "syscall_{nr:#x}(");
        for (i, &v) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            args::write_hex(&mut out, v);
        }
        out.push(')');
        return out;
    };
    out.push_str(name);
    out.push('(');
    let (kinds, n) = call_kinds(nr, args);
    let mut first = true;
    for (i, &kind) in kinds[..n].iter().enumerate() {
        if kind == Arg::Ignored {
            continue;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        args::write_arg(&mut out, kind, i, args, ret, mem);
    }
    out.push(')');
    out
}

/// Formats a call as it is entered: `openat(AT_FDCWD, "/etc/passwd",
/// O_RDONLY|O_CLOEXEC)`. Buffers are quoted with strace's escapes and cut at
/// 64 bytes with `...` (paths are shown up to PATH_MAX); unreadable pointers
/// print as hex; output buffers print as pointers. An unknown number prints
/// as `syscall_0x1f4(...)` with six hex arguments.
pub fn format_call(nr: u64, args: &[u64; 6], mem: &dyn MemoryReader) -> String {
    format(nr, args, None, mem)
}

/// Formats a call after it returned with `ret`: like [`format_call`], but
/// output buffers (`read`'s data, `readlink`'s and `getcwd`'s string,
/// `getrandom`'s bytes, ...) show what the call wrote, as strace does.
pub fn format_call_exit(
    nr: u64,
    args: &[u64; 6],
    ret: Result<u64, i32>,
    mem: &dyn MemoryReader,
) -> String {
    format(nr, args, Some(ret), mem)
}

/// Formats a result as strace does: ` = 3`, ` = 0x7f12a000` for calls that
/// return an address (mmap, brk, ...), ` = -1 ENOENT (No such file or
/// directory)` for an error, ` = ? ERESTARTSYS (...)` for the kernel-internal
/// restart codes. `ret`'s errno may be given positive or negated.
pub fn format_result(nr: u64, ret: Result<u64, i32>) -> String {
    let mut out = String::with_capacity(48);
    match ret {
        Ok(v) => match nr {
            // Addresses, and personality's flag word, in hex.
            NR_MMAP | NR_BRK | NR_MREMAP | NR_SHMAT | NR_MAP_SHADOW_STACK | NR_PERSONALITY => {
                put!(out, " = {v:#x}");
            }
            NR_UMASK => {
                out.push_str(" = ");
                args::write_octal(&mut out, v);
            }
            _ => put!(out, " = {}", v as i64),
        },
        Err(e) => {
            let e = e.checked_abs().unwrap_or(e);
            let restart = (errno::ERESTARTSYS..=errno::ERESTART_RESTARTBLOCK).contains(&e);
            out.push_str(if restart { " = ? " } else { " = -1 " });
            match errno_name(e) {
                Some(name) => put!(out, "{name} ({})", errno_message(e)),
                None => put!(out, "{e} (Unknown error {e})"),
            }
        }
    }
    out
}

/// The name of signal `sig` (`"SIGKILL"`) for 1..=31, `None` otherwise; for
/// log lines about signal delivery that should read like the syscall lines.
pub fn signal_name(sig: i32) -> Option<&'static str> {
    args::signal_name(sig)
}

#[cfg(test)]
mod tests;
