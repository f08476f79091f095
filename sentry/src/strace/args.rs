//! Decoders that turn raw argument values into strace-like text.
//!
//! Every writer appends to one output `String`; none allocates on its own
//! (app memory comes through [`MemoryReader`], which owns that cost).
//! Constants come from the libc crate where it has them; the others are
//! hard-coded with the kernel header they come from.

use std::fmt::Write as _;

use super::{Arg, MemoryReader};

/// Bytes of a data buffer (`write`'s data, `read`'s result) shown before "...".
pub(super) const MAX_STR: usize = 64;
/// Bytes of a path shown before "..." (PATH_MAX: paths are shown whole).
pub(super) const MAX_PATH: usize = 4096;
/// Elements of a string array (`execve`'s argv) shown before "...".
const MAX_ARRAY: usize = 32;

/// A (bits, name) table for flag sets and enumerations.
type Names = &'static [(u64, &'static str)];

/// `write!` into a `String`, which cannot fail.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

// ---------------------------------------------------------------- primitives

/// Hex as strace prints it: `0` for zero, `0x1f` otherwise.
pub(super) fn write_hex(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        put!(out, "{v:#x}");
    }
}

/// A pointer: `NULL` or hex.
pub(super) fn write_ptr(out: &mut String, v: u64) {
    if v == 0 {
        out.push_str("NULL");
    } else {
        put!(out, "{v:#x}");
    }
}

/// The low 32 bits as a C `int` (the kernel ignores the upper half).
fn int(v: u64) -> i32 {
    v as u32 as i32
}

/// A quoted string with strace's escapes; `more` appends `...` after it.
pub(super) fn write_quoted(out: &mut String, bytes: &[u8], more: bool) {
    out.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                // Shortest octal, unless a digit follows and would be read
                // as part of the escape.
                if bytes.get(i + 1).is_some_and(|c| (b'0'..=b'7').contains(c)) {
                    put!(out, "\\{b:03o}");
                } else {
                    put!(out, "\\{b:o}");
                }
            }
        }
    }
    out.push('"');
    if more {
        out.push_str("...");
    }
}

/// A NUL-terminated string of app memory, `NULL`, or the address in hex if
/// it cannot be read.
pub(super) fn write_cstr(out: &mut String, addr: u64, max: usize, mem: &dyn MemoryReader) {
    if addr == 0 {
        out.push_str("NULL");
        return;
    }
    match mem.read_cstr(addr, max.saturating_add(1)) {
        Some(bytes) => {
            let shown = bytes.len().min(max);
            write_quoted(out, &bytes[..shown], bytes.len() > max);
        }
        None => put!(out, "{addr:#x}"),
    }
}

/// A buffer of `len` bytes of app memory, of which at most [`MAX_STR`] are
/// shown, or the address in hex if it cannot be read.
pub(super) fn write_buf(out: &mut String, addr: u64, len: u64, mem: &dyn MemoryReader) {
    let shown = usize::try_from(len).map_or(MAX_STR, |l| l.min(MAX_STR));
    if addr == 0 {
        out.push_str("NULL");
        return;
    }
    match mem.read_bytes(addr, shown) {
        Some(bytes) => {
            let shown = bytes.len().min(shown);
            write_quoted(out, &bytes[..shown], len > shown as u64);
        }
        None => put!(out, "{addr:#x}"),
    }
}

/// An array of string pointers ending at NULL (`execve`'s argv).
pub(super) fn write_str_array(out: &mut String, addr: u64, mem: &dyn MemoryReader) {
    if addr == 0 {
        out.push_str("NULL");
        return;
    }
    let mut ptrs = [0u64; MAX_ARRAY + 1];
    let mut n = 0;
    let mut terminated = false;
    while n < ptrs.len() {
        let slot = addr.wrapping_add(8 * n as u64);
        let Some(bytes) = mem.read_bytes(slot, 8) else {
            break;
        };
        let Ok(raw) = <[u8; 8]>::try_from(bytes.as_slice()) else {
            break;
        };
        let p = u64::from_le_bytes(raw);
        if p == 0 {
            terminated = true;
            break;
        }
        ptrs[n] = p;
        n += 1;
    }
    if n == 0 && !terminated {
        put!(out, "{addr:#x}");
        return;
    }
    out.push('[');
    for (i, &p) in ptrs[..n.min(MAX_ARRAY)].iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_cstr(out, p, MAX_STR, mem);
    }
    if !terminated {
        out.push_str(if n == 0 { "..." } else { ", ..." });
    }
    out.push(']');
}

/// An environment array (`execve`'s envp): its address and how many
/// entries it has, `0x7ffc10 /* 12 vars */`, as strace prints it.
pub(super) fn write_env_array(out: &mut String, addr: u64, mem: &dyn MemoryReader) {
    /// Entries counted before giving up (the kernel's own limit is in bytes).
    const MAX_COUNT: u64 = 4096;
    write_ptr(out, addr);
    if addr == 0 {
        return;
    }
    let mut n = 0;
    while n < MAX_COUNT {
        let slot = addr.wrapping_add(8 * n);
        match mem.read_bytes(slot, 8) {
            Some(b) if b.iter().all(|&x| x == 0) => {
                put!(out, " /* {n} vars */");
                return;
            }
            Some(b) if b.len() == 8 => n += 1,
            _ => break,
        }
    }
    if n > 0 {
        put!(out, " /* {n}+ vars */");
    }
}

// ----------------------------------------------------------- flags and enums

/// Names of the set bits of `v` joined with `|`, leftover bits in hex;
/// `zero` when `v` is 0. Composite entries (several bits) must come before
/// their parts in `names`.
fn write_flags(out: &mut String, v: u64, names: Names, zero: &str) {
    if v == 0 {
        out.push_str(zero);
        return;
    }
    let mut rest = v;
    let mut first = true;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            if !first {
                out.push('|');
            }
            first = false;
            out.push_str(name);
            rest &= !bits;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        put!(out, "{rest:#x}");
    }
}

fn lookup(v: u64, names: Names) -> Option<&'static str> {
    names.iter().find(|&&(n, _)| n == v).map(|&(_, name)| name)
}

/// The name of `v` in `names`, or `v` as a decimal C int.
fn write_enum(out: &mut String, v: u64, names: Names) {
    match lookup(v, names) {
        Some(name) => out.push_str(name),
        None => put!(out, "{}", int(v)),
    }
}

/// The name of `v` in `names`, or `v` in hex.
fn write_enum_hex(out: &mut String, v: u64, names: Names) {
    match lookup(v, names) {
        Some(name) => out.push_str(name),
        None => write_hex(out, v),
    }
}

macro_rules! names {
    ($($c:expr => $n:literal),* $(,)?) => {
        &[$(($c as u64, $n)),*]
    };
}

// Open flags. O_LARGEFILE is 0 in libc on x86_64 (implied), but the kernel's
// value is 0o100000 (asm-generic/fcntl.h) and apps do pass it.
const O_LARGEFILE: u64 = 0o100000;
const OPEN_FLAGS: Names = names![
    libc::O_CREAT => "O_CREAT",
    libc::O_EXCL => "O_EXCL",
    libc::O_NOCTTY => "O_NOCTTY",
    libc::O_TRUNC => "O_TRUNC",
    libc::O_APPEND => "O_APPEND",
    libc::O_NONBLOCK => "O_NONBLOCK",
    libc::O_SYNC => "O_SYNC",
    libc::O_DSYNC => "O_DSYNC",
    libc::O_ASYNC => "O_ASYNC",
    libc::O_DIRECT => "O_DIRECT",
    O_LARGEFILE => "O_LARGEFILE",
    libc::O_NOFOLLOW => "O_NOFOLLOW",
    libc::O_NOATIME => "O_NOATIME",
    libc::O_CLOEXEC => "O_CLOEXEC",
    libc::O_PATH => "O_PATH",
    libc::O_TMPFILE => "O_TMPFILE",
    libc::O_DIRECTORY => "O_DIRECTORY",
];

/// Whether open flags `v` make the call use its mode argument.
pub(super) fn open_uses_mode(v: u64) -> bool {
    // __O_TMPFILE (O_TMPFILE without O_DIRECTORY), asm-generic/fcntl.h.
    const O_TMPFILE_BIT: u64 = 0o20000000;
    v & (libc::O_CREAT as u64 | O_TMPFILE_BIT) != 0
}

fn write_open_flags(out: &mut String, v: u64) {
    let v = u64::from(v as u32);
    let acc = v & libc::O_ACCMODE as u64;
    out.push_str(match acc as i32 {
        libc::O_RDONLY => "O_RDONLY",
        libc::O_WRONLY => "O_WRONLY",
        libc::O_RDWR => "O_RDWR",
        _ => "O_ACCMODE",
    });
    let rest = v & !(libc::O_ACCMODE as u64);
    if rest != 0 {
        out.push('|');
        write_flags(out, rest, OPEN_FLAGS, "0");
    }
}

/// Flags of calls that create a descriptor (pipe2, dup3, eventfd2,
/// epoll_create1, accept4, ...): the O_/SOCK_/EFD_ values are the same bits.
const NEW_FD_FLAGS: Names = names![
    libc::O_NONBLOCK => "O_NONBLOCK",
    libc::O_CLOEXEC => "O_CLOEXEC",
    libc::O_DIRECT => "O_DIRECT",
];

fn write_mode(out: &mut String, v: u64) {
    let v = u64::from(v as u32);
    let ty = v & libc::S_IFMT as u64;
    let name = match ty as libc::mode_t {
        libc::S_IFREG => Some("S_IFREG"),
        libc::S_IFDIR => Some("S_IFDIR"),
        libc::S_IFCHR => Some("S_IFCHR"),
        libc::S_IFBLK => Some("S_IFBLK"),
        libc::S_IFIFO => Some("S_IFIFO"),
        libc::S_IFLNK => Some("S_IFLNK"),
        libc::S_IFSOCK => Some("S_IFSOCK"),
        _ => None,
    };
    match name {
        Some(name) if ty != 0 => put!(out, "{name}|0{:02o}", v & !ty),
        _ => put!(out, "0{v:02o}"),
    }
}

/// A mode in octal as strace prints it (`0644`, `022`, `000`).
pub(super) fn write_octal(out: &mut String, v: u64) {
    put!(out, "0{v:02o}");
}

const ACCESS_MODES: Names = names![
    libc::R_OK => "R_OK",
    libc::W_OK => "W_OK",
    libc::X_OK => "X_OK",
];

const PROT_FLAGS: Names = names![
    libc::PROT_READ => "PROT_READ",
    libc::PROT_WRITE => "PROT_WRITE",
    libc::PROT_EXEC => "PROT_EXEC",
    0x8 => "PROT_SEM", // asm-generic/mman-common.h
    libc::PROT_GROWSDOWN => "PROT_GROWSDOWN",
    libc::PROT_GROWSUP => "PROT_GROWSUP",
];

const MAP_TYPE: u64 = 0xf; // asm-generic/mman-common.h
const MAP_TYPES: Names = names![
    libc::MAP_SHARED => "MAP_SHARED",
    libc::MAP_PRIVATE => "MAP_PRIVATE",
    libc::MAP_SHARED_VALIDATE => "MAP_SHARED_VALIDATE",
    0x4 => "MAP_DROPPABLE", // asm-generic/mman-common.h (Linux 6.11)
];
const MAP_FLAGS: Names = names![
    libc::MAP_FIXED => "MAP_FIXED",
    libc::MAP_ANONYMOUS => "MAP_ANONYMOUS",
    libc::MAP_32BIT => "MAP_32BIT",
    libc::MAP_GROWSDOWN => "MAP_GROWSDOWN",
    libc::MAP_DENYWRITE => "MAP_DENYWRITE",
    libc::MAP_EXECUTABLE => "MAP_EXECUTABLE",
    libc::MAP_LOCKED => "MAP_LOCKED",
    libc::MAP_NORESERVE => "MAP_NORESERVE",
    libc::MAP_POPULATE => "MAP_POPULATE",
    libc::MAP_NONBLOCK => "MAP_NONBLOCK",
    libc::MAP_STACK => "MAP_STACK",
    libc::MAP_HUGETLB => "MAP_HUGETLB",
    libc::MAP_SYNC => "MAP_SYNC",
    libc::MAP_FIXED_NOREPLACE => "MAP_FIXED_NOREPLACE",
    0x4000000 => "MAP_UNINITIALIZED", // asm-generic/mman-common.h
];

fn write_mmap_flags(out: &mut String, v: u64) {
    let ty = v & MAP_TYPE;
    write_enum_hex(out, ty, MAP_TYPES);
    let rest = v & !MAP_TYPE;
    if rest != 0 {
        out.push('|');
        write_flags(out, rest, MAP_FLAGS, "0");
    }
}

const MREMAP_FLAGS: Names = names![
    libc::MREMAP_MAYMOVE => "MREMAP_MAYMOVE",
    libc::MREMAP_FIXED => "MREMAP_FIXED",
    libc::MREMAP_DONTUNMAP => "MREMAP_DONTUNMAP",
];

const MSYNC_FLAGS: Names = names![
    libc::MS_ASYNC => "MS_ASYNC",
    libc::MS_INVALIDATE => "MS_INVALIDATE",
    libc::MS_SYNC => "MS_SYNC",
];

const MADVISE: Names = names![
    libc::MADV_NORMAL => "MADV_NORMAL",
    libc::MADV_RANDOM => "MADV_RANDOM",
    libc::MADV_SEQUENTIAL => "MADV_SEQUENTIAL",
    libc::MADV_WILLNEED => "MADV_WILLNEED",
    libc::MADV_DONTNEED => "MADV_DONTNEED",
    libc::MADV_FREE => "MADV_FREE",
    libc::MADV_REMOVE => "MADV_REMOVE",
    libc::MADV_DONTFORK => "MADV_DONTFORK",
    libc::MADV_DOFORK => "MADV_DOFORK",
    libc::MADV_MERGEABLE => "MADV_MERGEABLE",
    libc::MADV_UNMERGEABLE => "MADV_UNMERGEABLE",
    libc::MADV_HUGEPAGE => "MADV_HUGEPAGE",
    libc::MADV_NOHUGEPAGE => "MADV_NOHUGEPAGE",
    libc::MADV_DONTDUMP => "MADV_DONTDUMP",
    libc::MADV_DODUMP => "MADV_DODUMP",
    libc::MADV_WIPEONFORK => "MADV_WIPEONFORK",
    libc::MADV_KEEPONFORK => "MADV_KEEPONFORK",
    libc::MADV_COLD => "MADV_COLD",
    libc::MADV_PAGEOUT => "MADV_PAGEOUT",
    libc::MADV_POPULATE_READ => "MADV_POPULATE_READ",
    libc::MADV_POPULATE_WRITE => "MADV_POPULATE_WRITE",
    // asm-generic/mman-common.h
    24 => "MADV_DONTNEED_LOCKED",
    25 => "MADV_COLLAPSE",
    libc::MADV_HWPOISON => "MADV_HWPOISON",
    101 => "MADV_SOFT_OFFLINE",
    102 => "MADV_GUARD_INSTALL",
    103 => "MADV_GUARD_REMOVE",
];

const AT_FLAGS: Names = names![
    libc::AT_SYMLINK_NOFOLLOW => "AT_SYMLINK_NOFOLLOW",
    libc::AT_EACCESS => "AT_EACCESS",
    libc::AT_SYMLINK_FOLLOW => "AT_SYMLINK_FOLLOW",
    libc::AT_NO_AUTOMOUNT => "AT_NO_AUTOMOUNT",
    libc::AT_EMPTY_PATH => "AT_EMPTY_PATH",
    libc::AT_STATX_FORCE_SYNC => "AT_STATX_FORCE_SYNC",
    libc::AT_STATX_DONT_SYNC => "AT_STATX_DONT_SYNC",
    libc::AT_RECURSIVE => "AT_RECURSIVE",
];

const UNLINK_FLAGS: Names = names![libc::AT_REMOVEDIR => "AT_REMOVEDIR"];

const RENAME_FLAGS: Names = names![
    libc::RENAME_NOREPLACE => "RENAME_NOREPLACE",
    libc::RENAME_EXCHANGE => "RENAME_EXCHANGE",
    libc::RENAME_WHITEOUT => "RENAME_WHITEOUT",
];

/// `SIGHUP`..`SIGSYS`; `None` for 0, real-time and unknown signals.
pub(super) fn signal_name(sig: i32) -> Option<&'static str> {
    use libc::*;
    Some(match sig {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGUSR1 => "SIGUSR1",
        SIGSEGV => "SIGSEGV",
        SIGUSR2 => "SIGUSR2",
        SIGPIPE => "SIGPIPE",
        SIGALRM => "SIGALRM",
        SIGTERM => "SIGTERM",
        SIGSTKFLT => "SIGSTKFLT",
        SIGCHLD => "SIGCHLD",
        SIGCONT => "SIGCONT",
        SIGSTOP => "SIGSTOP",
        SIGTSTP => "SIGTSTP",
        SIGTTIN => "SIGTTIN",
        SIGTTOU => "SIGTTOU",
        SIGURG => "SIGURG",
        SIGXCPU => "SIGXCPU",
        SIGXFSZ => "SIGXFSZ",
        SIGVTALRM => "SIGVTALRM",
        SIGPROF => "SIGPROF",
        SIGWINCH => "SIGWINCH",
        SIGIO => "SIGIO",
        SIGPWR => "SIGPWR",
        SIGSYS => "SIGSYS",
        _ => return None,
    })
}

/// The kernel's first real-time signal (glibc's SIGRTMIN is higher: it
/// reserves two for itself).
const KERNEL_SIGRTMIN: i32 = 32;
const KERNEL_SIGRTMAX: i32 = 64;

/// A signal number: `SIGKILL`, `SIGRTMIN`, `SIGRT_3`, or decimal. With
/// `prefix` false the `SIG` is left out, as inside a signal set.
fn write_signal(out: &mut String, sig: i32, prefix: bool) {
    let p = if prefix { "SIG" } else { "" };
    if let Some(name) = signal_name(sig) {
        out.push_str(&name[if prefix { 0 } else { 3 }..]);
    } else if sig == KERNEL_SIGRTMIN {
        put!(out, "{p}RTMIN");
    } else if (KERNEL_SIGRTMIN..=KERNEL_SIGRTMAX).contains(&sig) {
        put!(out, "{p}RT_{}", sig - KERNEL_SIGRTMIN);
    } else {
        put!(out, "{sig}");
    }
}

/// A `sigset_t` read from app memory: `[INT TERM]`, or `~[...]` for the
/// complement when more than half the signals are set (as strace does).
fn write_sigset(out: &mut String, addr: u64, mem: &dyn MemoryReader) {
    if addr == 0 {
        out.push_str("NULL");
        return;
    }
    let Some(raw) = mem
        .read_bytes(addr, 8)
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
    else {
        put!(out, "{addr:#x}");
        return;
    };
    let mut set = u64::from_le_bytes(raw);
    if set.count_ones() > 32 {
        out.push('~');
        set = !set;
    }
    out.push('[');
    let mut first = true;
    for bit in 0..64 {
        if set & (1 << bit) != 0 {
            if !first {
                out.push(' ');
            }
            first = false;
            write_signal(out, bit + 1, false);
        }
    }
    out.push(']');
}

const SIG_HOW: Names = names![
    libc::SIG_BLOCK => "SIG_BLOCK",
    libc::SIG_UNBLOCK => "SIG_UNBLOCK",
    libc::SIG_SETMASK => "SIG_SETMASK",
];

const WHENCE: Names = names![
    libc::SEEK_SET => "SEEK_SET",
    libc::SEEK_CUR => "SEEK_CUR",
    libc::SEEK_END => "SEEK_END",
    libc::SEEK_DATA => "SEEK_DATA",
    libc::SEEK_HOLE => "SEEK_HOLE",
];

// asm-generic/fcntl.h; not in libc.
const F_SETSIG: i32 = 10;
const F_GETSIG: i32 = 11;

const FCNTL_CMDS: Names = names![
    libc::F_DUPFD => "F_DUPFD",
    libc::F_GETFD => "F_GETFD",
    libc::F_SETFD => "F_SETFD",
    libc::F_GETFL => "F_GETFL",
    libc::F_SETFL => "F_SETFL",
    libc::F_GETLK => "F_GETLK",
    libc::F_SETLK => "F_SETLK",
    libc::F_SETLKW => "F_SETLKW",
    libc::F_SETOWN => "F_SETOWN",
    libc::F_GETOWN => "F_GETOWN",
    F_SETSIG => "F_SETSIG",
    F_GETSIG => "F_GETSIG",
    15 => "F_SETOWN_EX", // asm-generic/fcntl.h
    16 => "F_GETOWN_EX",
    libc::F_OFD_GETLK => "F_OFD_GETLK",
    libc::F_OFD_SETLK => "F_OFD_SETLK",
    libc::F_OFD_SETLKW => "F_OFD_SETLKW",
    libc::F_SETLEASE => "F_SETLEASE",
    libc::F_GETLEASE => "F_GETLEASE",
    libc::F_NOTIFY => "F_NOTIFY",
    libc::F_DUPFD_CLOEXEC => "F_DUPFD_CLOEXEC",
    libc::F_SETPIPE_SZ => "F_SETPIPE_SZ",
    libc::F_GETPIPE_SZ => "F_GETPIPE_SZ",
    libc::F_ADD_SEALS => "F_ADD_SEALS",
    libc::F_GET_SEALS => "F_GET_SEALS",
    1035 => "F_GET_RW_HINT", // linux/fcntl.h
    1036 => "F_SET_RW_HINT",
    1037 => "F_GET_FILE_RW_HINT",
    1038 => "F_SET_FILE_RW_HINT",
    1039 => "F_DUPFD_QUERY",
];

/// How the third argument of `fcntl(fd, cmd, arg)` prints for `cmd`; `None`
/// when the command takes no argument (strace then prints two).
pub(super) fn fcntl_arg(cmd: u64) -> Option<Arg> {
    match int(cmd) {
        libc::F_GETFD
        | libc::F_GETFL
        | libc::F_GETOWN
        | F_GETSIG
        | libc::F_GETLEASE
        | libc::F_GETPIPE_SZ
        | libc::F_GET_SEALS => None,
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC | 1039 => Some(Arg::Fd),
        libc::F_SETFD => Some(Arg::FdFlags),
        libc::F_SETFL => Some(Arg::OpenFlags),
        F_SETSIG => Some(Arg::Signal),
        libc::F_SETOWN | libc::F_SETLEASE | libc::F_SETPIPE_SZ => Some(Arg::Int),
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | libc::F_OFD_GETLK
        | libc::F_OFD_SETLK
        | libc::F_OFD_SETLKW
        | 15
        | 16
        | 1035..=1038 => Some(Arg::Ptr),
        _ => Some(Arg::Hex),
    }
}

const FD_FLAGS: Names = names![libc::FD_CLOEXEC => "FD_CLOEXEC"];

const IOCTLS: Names = names![
    libc::TCGETS => "TCGETS",
    libc::TCSETS => "TCSETS",
    libc::TCSETSW => "TCSETSW",
    libc::TCSETSF => "TCSETSF",
    0x5405 => "TCGETA", // asm-generic/ioctls.h
    0x5406 => "TCSETA",
    0x5407 => "TCSETAW",
    0x5408 => "TCSETAF",
    libc::TCSBRK => "TCSBRK",
    libc::TCXONC => "TCXONC",
    libc::TCFLSH => "TCFLSH",
    libc::TIOCEXCL => "TIOCEXCL",
    libc::TIOCNXCL => "TIOCNXCL",
    libc::TIOCSCTTY => "TIOCSCTTY",
    libc::TIOCGPGRP => "TIOCGPGRP",
    libc::TIOCSPGRP => "TIOCSPGRP",
    libc::TIOCOUTQ => "TIOCOUTQ",
    libc::TIOCSTI => "TIOCSTI",
    libc::TIOCGWINSZ => "TIOCGWINSZ",
    libc::TIOCSWINSZ => "TIOCSWINSZ",
    libc::TIOCMGET => "TIOCMGET",
    libc::FIONREAD => "FIONREAD",
    libc::TIOCNOTTY => "TIOCNOTTY",
    libc::TIOCSETD => "TIOCSETD",
    libc::TIOCGETD => "TIOCGETD",
    libc::FIONBIO => "FIONBIO",
    libc::TIOCGSID => "TIOCGSID",
    libc::TCGETS2 => "TCGETS2",
    libc::TIOCGPTN => "TIOCGPTN",
    libc::TIOCSPTLCK => "TIOCSPTLCK",
    libc::TIOCGPTPEER => "TIOCGPTPEER",
    libc::FIONCLEX => "FIONCLEX",
    libc::FIOCLEX => "FIOCLEX",
    libc::FIOASYNC => "FIOASYNC",
    libc::TIOCGSERIAL => "TIOCGSERIAL",
    libc::FICLONE => "FICLONE",
    libc::FS_IOC_GETFLAGS => "FS_IOC_GETFLAGS",
    libc::FS_IOC_SETFLAGS => "FS_IOC_SETFLAGS",
];

const CLOCKS: Names = names![
    libc::CLOCK_REALTIME => "CLOCK_REALTIME",
    libc::CLOCK_MONOTONIC => "CLOCK_MONOTONIC",
    libc::CLOCK_PROCESS_CPUTIME_ID => "CLOCK_PROCESS_CPUTIME_ID",
    libc::CLOCK_THREAD_CPUTIME_ID => "CLOCK_THREAD_CPUTIME_ID",
    libc::CLOCK_MONOTONIC_RAW => "CLOCK_MONOTONIC_RAW",
    libc::CLOCK_REALTIME_COARSE => "CLOCK_REALTIME_COARSE",
    libc::CLOCK_MONOTONIC_COARSE => "CLOCK_MONOTONIC_COARSE",
    libc::CLOCK_BOOTTIME => "CLOCK_BOOTTIME",
    libc::CLOCK_REALTIME_ALARM => "CLOCK_REALTIME_ALARM",
    libc::CLOCK_BOOTTIME_ALARM => "CLOCK_BOOTTIME_ALARM",
    libc::CLOCK_TAI => "CLOCK_TAI",
];

// asm/prctl.h (x86); not in libc.
const ARCH_PRCTL: Names = names![
    0x1001 => "ARCH_SET_GS",
    0x1002 => "ARCH_SET_FS",
    0x1003 => "ARCH_GET_FS",
    0x1004 => "ARCH_GET_GS",
    0x1011 => "ARCH_GET_CPUID",
    0x1012 => "ARCH_SET_CPUID",
    0x1021 => "ARCH_GET_XCOMP_SUPP",
    0x1022 => "ARCH_GET_XCOMP_PERM",
    0x1023 => "ARCH_REQ_XCOMP_PERM",
    0x1024 => "ARCH_GET_XCOMP_GUEST_PERM",
    0x1025 => "ARCH_REQ_XCOMP_GUEST_PERM",
    0x2001 => "ARCH_MAP_VDSO_X32",
    0x2002 => "ARCH_MAP_VDSO_32",
    0x2003 => "ARCH_MAP_VDSO_64",
    0x4001 => "ARCH_GET_UNTAG_MASK",
    0x4002 => "ARCH_ENABLE_TAGGED_ADDR",
    0x4003 => "ARCH_GET_MAX_TAG_BITS",
    0x4004 => "ARCH_FORCE_TAGGED_SVA",
    0x5001 => "ARCH_SHSTK_ENABLE",
    0x5002 => "ARCH_SHSTK_DISABLE",
    0x5003 => "ARCH_SHSTK_LOCK",
    0x5004 => "ARCH_SHSTK_UNLOCK",
    0x5005 => "ARCH_SHSTK_STATUS",
];

const PR_SET_NAME: i32 = libc::PR_SET_NAME;
const PR_GET_NAME: i32 = libc::PR_GET_NAME;
const PRCTL: Names = names![
    libc::PR_SET_PDEATHSIG => "PR_SET_PDEATHSIG",
    libc::PR_GET_PDEATHSIG => "PR_GET_PDEATHSIG",
    libc::PR_GET_DUMPABLE => "PR_GET_DUMPABLE",
    libc::PR_SET_DUMPABLE => "PR_SET_DUMPABLE",
    libc::PR_GET_UNALIGN => "PR_GET_UNALIGN",
    libc::PR_SET_UNALIGN => "PR_SET_UNALIGN",
    libc::PR_GET_KEEPCAPS => "PR_GET_KEEPCAPS",
    libc::PR_SET_KEEPCAPS => "PR_SET_KEEPCAPS",
    libc::PR_GET_FPEMU => "PR_GET_FPEMU",
    libc::PR_SET_FPEMU => "PR_SET_FPEMU",
    libc::PR_GET_FPEXC => "PR_GET_FPEXC",
    libc::PR_SET_FPEXC => "PR_SET_FPEXC",
    libc::PR_GET_TIMING => "PR_GET_TIMING",
    libc::PR_SET_TIMING => "PR_SET_TIMING",
    libc::PR_SET_NAME => "PR_SET_NAME",
    libc::PR_GET_NAME => "PR_GET_NAME",
    libc::PR_GET_ENDIAN => "PR_GET_ENDIAN",
    libc::PR_SET_ENDIAN => "PR_SET_ENDIAN",
    libc::PR_GET_SECCOMP => "PR_GET_SECCOMP",
    libc::PR_SET_SECCOMP => "PR_SET_SECCOMP",
    libc::PR_CAPBSET_READ => "PR_CAPBSET_READ",
    libc::PR_CAPBSET_DROP => "PR_CAPBSET_DROP",
    libc::PR_GET_TSC => "PR_GET_TSC",
    libc::PR_SET_TSC => "PR_SET_TSC",
    libc::PR_GET_SECUREBITS => "PR_GET_SECUREBITS",
    libc::PR_SET_SECUREBITS => "PR_SET_SECUREBITS",
    libc::PR_SET_TIMERSLACK => "PR_SET_TIMERSLACK",
    libc::PR_GET_TIMERSLACK => "PR_GET_TIMERSLACK",
    libc::PR_TASK_PERF_EVENTS_DISABLE => "PR_TASK_PERF_EVENTS_DISABLE",
    libc::PR_TASK_PERF_EVENTS_ENABLE => "PR_TASK_PERF_EVENTS_ENABLE",
    libc::PR_MCE_KILL => "PR_MCE_KILL",
    libc::PR_MCE_KILL_GET => "PR_MCE_KILL_GET",
    libc::PR_SET_MM => "PR_SET_MM",
    libc::PR_SET_CHILD_SUBREAPER => "PR_SET_CHILD_SUBREAPER",
    libc::PR_GET_CHILD_SUBREAPER => "PR_GET_CHILD_SUBREAPER",
    libc::PR_SET_NO_NEW_PRIVS => "PR_SET_NO_NEW_PRIVS",
    libc::PR_GET_NO_NEW_PRIVS => "PR_GET_NO_NEW_PRIVS",
    libc::PR_GET_TID_ADDRESS => "PR_GET_TID_ADDRESS",
    libc::PR_SET_THP_DISABLE => "PR_SET_THP_DISABLE",
    libc::PR_GET_THP_DISABLE => "PR_GET_THP_DISABLE",
    libc::PR_MPX_ENABLE_MANAGEMENT => "PR_MPX_ENABLE_MANAGEMENT",
    libc::PR_MPX_DISABLE_MANAGEMENT => "PR_MPX_DISABLE_MANAGEMENT",
    libc::PR_SET_FP_MODE => "PR_SET_FP_MODE",
    libc::PR_GET_FP_MODE => "PR_GET_FP_MODE",
    libc::PR_CAP_AMBIENT => "PR_CAP_AMBIENT",
    // linux/prctl.h
    50 => "PR_SVE_SET_VL",
    51 => "PR_SVE_GET_VL",
    52 => "PR_GET_SPECULATION_CTRL",
    53 => "PR_SET_SPECULATION_CTRL",
    54 => "PR_PAC_RESET_KEYS",
    55 => "PR_SET_TAGGED_ADDR_CTRL",
    56 => "PR_GET_TAGGED_ADDR_CTRL",
    57 => "PR_SET_IO_FLUSHER",
    58 => "PR_GET_IO_FLUSHER",
    59 => "PR_SET_SYSCALL_USER_DISPATCH",
    60 => "PR_PAC_SET_ENABLED_KEYS",
    61 => "PR_PAC_GET_ENABLED_KEYS",
    62 => "PR_SCHED_CORE",
    63 => "PR_SME_SET_VL",
    64 => "PR_SME_GET_VL",
    65 => "PR_SET_MDWE",
    66 => "PR_GET_MDWE",
    67 => "PR_SET_MEMORY_MERGE",
    68 => "PR_GET_MEMORY_MERGE",
    69 => "PR_RISCV_V_SET_CONTROL",
    70 => "PR_RISCV_V_GET_CONTROL",
    71 => "PR_RISCV_SET_ICACHE_FLUSH_CTX",
    72 => "PR_PPC_GET_DEXCR",
    73 => "PR_PPC_SET_DEXCR",
    74 => "PR_GET_SHADOW_STACK_STATUS",
    75 => "PR_SET_SHADOW_STACK_STATUS",
    76 => "PR_LOCK_SHADOW_STACK_STATUS",
    77 => "PR_TIMER_CREATE_RESTORE_IDS",
    78 => "PR_FUTEX_HASH",
    0x4156_5856 => "PR_GET_AUXV",
    0x5356_4d41 => "PR_SET_VMA",
];

/// How the arguments after `prctl`'s option print: `Some` replaces the
/// table's kinds with a shorter list.
pub(super) fn prctl_args(option: u64) -> Option<&'static [Arg]> {
    match int(option) {
        PR_SET_NAME => Some(&[Arg::Prctl, Arg::Path]),
        PR_GET_NAME => Some(&[Arg::Prctl, Arg::OutPath]),
        libc::PR_SET_PDEATHSIG => Some(&[Arg::Prctl, Arg::Signal]),
        libc::PR_GET_DUMPABLE
        | libc::PR_GET_KEEPCAPS
        | libc::PR_GET_SECCOMP
        | libc::PR_GET_SECUREBITS
        | libc::PR_GET_TIMERSLACK
        | libc::PR_GET_NO_NEW_PRIVS
        | libc::PR_GET_THP_DISABLE => Some(&[Arg::Prctl]),
        libc::PR_SET_DUMPABLE
        | libc::PR_SET_KEEPCAPS
        | libc::PR_SET_TIMERSLACK
        | libc::PR_CAPBSET_READ
        | libc::PR_CAPBSET_DROP => Some(&[Arg::Prctl, Arg::UInt]),
        _ => None,
    }
}

// linux/futex.h
const FUTEX_PRIVATE_FLAG: u64 = libc::FUTEX_PRIVATE_FLAG as u64;
const FUTEX_CLOCK_REALTIME: u64 = libc::FUTEX_CLOCK_REALTIME as u64;
const FUTEX_CMDS: Names = names![
    libc::FUTEX_WAIT => "FUTEX_WAIT",
    libc::FUTEX_WAKE => "FUTEX_WAKE",
    libc::FUTEX_FD => "FUTEX_FD",
    libc::FUTEX_REQUEUE => "FUTEX_REQUEUE",
    libc::FUTEX_CMP_REQUEUE => "FUTEX_CMP_REQUEUE",
    libc::FUTEX_WAKE_OP => "FUTEX_WAKE_OP",
    libc::FUTEX_LOCK_PI => "FUTEX_LOCK_PI",
    libc::FUTEX_UNLOCK_PI => "FUTEX_UNLOCK_PI",
    libc::FUTEX_TRYLOCK_PI => "FUTEX_TRYLOCK_PI",
    libc::FUTEX_WAIT_BITSET => "FUTEX_WAIT_BITSET",
    libc::FUTEX_WAKE_BITSET => "FUTEX_WAKE_BITSET",
    libc::FUTEX_WAIT_REQUEUE_PI => "FUTEX_WAIT_REQUEUE_PI",
    libc::FUTEX_CMP_REQUEUE_PI => "FUTEX_CMP_REQUEUE_PI",
    libc::FUTEX_LOCK_PI2 => "FUTEX_LOCK_PI2",
];

fn futex_cmd(op: u64) -> u64 {
    op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
}

fn write_futex_op(out: &mut String, op: u64) {
    let op = u64::from(op as u32);
    let Some(name) = lookup(futex_cmd(op), FUTEX_CMDS) else {
        write_hex(out, op);
        return;
    };
    out.push_str(name);
    if op & FUTEX_PRIVATE_FLAG != 0 {
        out.push_str("_PRIVATE");
    }
    if op & FUTEX_CLOCK_REALTIME != 0 {
        out.push_str("|FUTEX_CLOCK_REALTIME");
    }
}

/// The kinds of `futex`'s arguments for `op`: only those the operation uses
/// are printed, and the fourth is a count rather than a timeout for the
/// requeue operations.
pub(super) fn futex_args(op: u64) -> &'static [Arg] {
    use Arg::{FutexOp, Hex, Int, Ptr, UInt};
    match int(futex_cmd(u64::from(op as u32))) {
        libc::FUTEX_WAKE | libc::FUTEX_FD => &[Ptr, FutexOp, Int],
        libc::FUTEX_UNLOCK_PI | libc::FUTEX_TRYLOCK_PI => &[Ptr, FutexOp],
        libc::FUTEX_WAIT | libc::FUTEX_LOCK_PI | libc::FUTEX_LOCK_PI2 => &[Ptr, FutexOp, Int, Ptr],
        libc::FUTEX_REQUEUE => &[Ptr, FutexOp, Int, UInt, Ptr],
        libc::FUTEX_CMP_REQUEUE | libc::FUTEX_CMP_REQUEUE_PI => {
            &[Ptr, FutexOp, Int, UInt, Ptr, Int]
        }
        libc::FUTEX_WAKE_OP => &[Ptr, FutexOp, Int, UInt, Ptr, Hex],
        libc::FUTEX_WAIT_REQUEUE_PI => &[Ptr, FutexOp, Int, Ptr, Ptr],
        _ => &[Ptr, FutexOp, Int, Ptr, Ptr, Hex],
    }
}

const CSIGNAL: u64 = 0xff; // linux/sched.h: exit signal in clone's flags
const CLONE_FLAGS: Names = names![
    libc::CLONE_VM => "CLONE_VM",
    libc::CLONE_FS => "CLONE_FS",
    libc::CLONE_FILES => "CLONE_FILES",
    libc::CLONE_SIGHAND => "CLONE_SIGHAND",
    libc::CLONE_PIDFD => "CLONE_PIDFD",
    libc::CLONE_PTRACE => "CLONE_PTRACE",
    libc::CLONE_VFORK => "CLONE_VFORK",
    libc::CLONE_PARENT => "CLONE_PARENT",
    libc::CLONE_THREAD => "CLONE_THREAD",
    libc::CLONE_NEWNS => "CLONE_NEWNS",
    libc::CLONE_SYSVSEM => "CLONE_SYSVSEM",
    libc::CLONE_SETTLS => "CLONE_SETTLS",
    libc::CLONE_PARENT_SETTID => "CLONE_PARENT_SETTID",
    libc::CLONE_CHILD_CLEARTID => "CLONE_CHILD_CLEARTID",
    libc::CLONE_DETACHED => "CLONE_DETACHED",
    libc::CLONE_UNTRACED => "CLONE_UNTRACED",
    libc::CLONE_CHILD_SETTID => "CLONE_CHILD_SETTID",
    libc::CLONE_NEWCGROUP => "CLONE_NEWCGROUP",
    libc::CLONE_NEWUTS => "CLONE_NEWUTS",
    libc::CLONE_NEWIPC => "CLONE_NEWIPC",
    libc::CLONE_NEWUSER => "CLONE_NEWUSER",
    libc::CLONE_NEWPID => "CLONE_NEWPID",
    libc::CLONE_NEWNET => "CLONE_NEWNET",
    libc::CLONE_IO => "CLONE_IO",
];
const CLONE_NEWTIME: Names = names![libc::CLONE_NEWTIME => "CLONE_NEWTIME"];

fn write_clone_flags(out: &mut String, v: u64) {
    let flags = v & !CSIGNAL;
    let sig = v & CSIGNAL;
    if flags != 0 {
        write_flags(out, flags, CLONE_FLAGS, "0");
    }
    if sig != 0 || flags == 0 {
        if flags != 0 {
            out.push('|');
        }
        if sig == 0 {
            out.push('0');
        } else {
            write_signal(out, sig as i32, true);
        }
    }
}

fn write_ns_flags(out: &mut String, v: u64) {
    let v = u64::from(v as u32);
    let time = v & libc::CLONE_NEWTIME as u64;
    let rest = v & !time;
    if time != 0 {
        out.push_str(CLONE_NEWTIME[0].1);
        if rest != 0 {
            out.push('|');
        }
    }
    if rest != 0 || time == 0 {
        write_flags(out, rest, CLONE_FLAGS, "0");
    }
}

const WAIT_OPTIONS: Names = names![
    libc::WNOHANG => "WNOHANG",
    libc::WUNTRACED => "WUNTRACED",
    libc::WEXITED => "WEXITED",
    libc::WCONTINUED => "WCONTINUED",
    libc::WNOWAIT => "WNOWAIT",
    libc::__WNOTHREAD => "__WNOTHREAD",
    libc::__WALL => "__WALL",
    libc::__WCLONE => "__WCLONE",
];

const SOCK_FAMILIES: Names = names![
    libc::AF_UNSPEC => "AF_UNSPEC",
    libc::AF_UNIX => "AF_UNIX",
    libc::AF_INET => "AF_INET",
    libc::AF_INET6 => "AF_INET6",
    libc::AF_NETLINK => "AF_NETLINK",
    libc::AF_PACKET => "AF_PACKET",
    libc::AF_KEY => "AF_KEY",
    libc::AF_CAN => "AF_CAN",
    libc::AF_TIPC => "AF_TIPC",
    libc::AF_BLUETOOTH => "AF_BLUETOOTH",
    libc::AF_ALG => "AF_ALG",
    libc::AF_VSOCK => "AF_VSOCK",
    libc::AF_XDP => "AF_XDP",
];

const SOCK_TYPES: Names = names![
    libc::SOCK_STREAM => "SOCK_STREAM",
    libc::SOCK_DGRAM => "SOCK_DGRAM",
    libc::SOCK_RAW => "SOCK_RAW",
    libc::SOCK_RDM => "SOCK_RDM",
    libc::SOCK_SEQPACKET => "SOCK_SEQPACKET",
    libc::SOCK_DCCP => "SOCK_DCCP",
    10 => "SOCK_PACKET", // linux/net.h (deprecated in libc)
];
const SOCK_TYPE_FLAGS: Names = names![
    libc::SOCK_NONBLOCK => "SOCK_NONBLOCK",
    libc::SOCK_CLOEXEC => "SOCK_CLOEXEC",
];

fn write_sock_type(out: &mut String, v: u64) {
    let v = u64::from(v as u32);
    let ty = v & 0xf; // SOCK_TYPE_MASK, linux/net.h
    write_enum(out, ty, SOCK_TYPES);
    let rest = v & !0xf;
    if rest != 0 {
        out.push('|');
        write_flags(out, rest, SOCK_TYPE_FLAGS, "0");
    }
}

const EPOLL_CTL: Names = names![
    libc::EPOLL_CTL_ADD => "EPOLL_CTL_ADD",
    libc::EPOLL_CTL_DEL => "EPOLL_CTL_DEL",
    libc::EPOLL_CTL_MOD => "EPOLL_CTL_MOD",
];

const RLIMITS: Names = names![
    libc::RLIMIT_CPU => "RLIMIT_CPU",
    libc::RLIMIT_FSIZE => "RLIMIT_FSIZE",
    libc::RLIMIT_DATA => "RLIMIT_DATA",
    libc::RLIMIT_STACK => "RLIMIT_STACK",
    libc::RLIMIT_CORE => "RLIMIT_CORE",
    libc::RLIMIT_RSS => "RLIMIT_RSS",
    libc::RLIMIT_NPROC => "RLIMIT_NPROC",
    libc::RLIMIT_NOFILE => "RLIMIT_NOFILE",
    libc::RLIMIT_MEMLOCK => "RLIMIT_MEMLOCK",
    libc::RLIMIT_AS => "RLIMIT_AS",
    libc::RLIMIT_LOCKS => "RLIMIT_LOCKS",
    libc::RLIMIT_SIGPENDING => "RLIMIT_SIGPENDING",
    libc::RLIMIT_MSGQUEUE => "RLIMIT_MSGQUEUE",
    libc::RLIMIT_NICE => "RLIMIT_NICE",
    libc::RLIMIT_RTPRIO => "RLIMIT_RTPRIO",
    libc::RLIMIT_RTTIME => "RLIMIT_RTTIME",
];

// ------------------------------------------------------------------ dispatch

/// Writes argument `idx` of `args` as `kind`. `ret` is the result when
/// formatting after the call returned (output buffers are shown then).
pub(super) fn write_arg(
    out: &mut String,
    kind: Arg,
    idx: usize,
    args: &[u64; 6],
    ret: Option<Result<u64, i32>>,
    mem: &dyn MemoryReader,
) {
    let v = args[idx];
    match kind {
        Arg::Fd | Arg::Int => put!(out, "{}", int(v)),
        Arg::DirFd => {
            if int(v) == libc::AT_FDCWD {
                out.push_str("AT_FDCWD");
            } else {
                put!(out, "{}", int(v));
            }
        }
        Arg::UInt => put!(out, "{v}"),
        Arg::Long => put!(out, "{}", v as i64),
        Arg::Hex | Arg::Ignored => write_hex(out, v),
        Arg::Ptr => write_ptr(out, v),
        Arg::Path => write_cstr(out, v, MAX_PATH, mem),
        Arg::Str => {
            let len = args.get(idx + 1).copied().unwrap_or(0);
            write_buf(out, v, len, mem);
        }
        Arg::StrLen(i) => {
            let len = args.get(usize::from(i)).copied().unwrap_or(0);
            write_buf(out, v, len, mem);
        }
        Arg::OutStr => match ret {
            // The buffer's size is the next argument in every syscall that
            // has one; a result beyond it (MSG_TRUNC) is not buffer content.
            Some(Ok(n)) => {
                let size = args.get(idx + 1).copied().unwrap_or(n);
                write_buf(out, v, n.min(size), mem);
            }
            _ => write_ptr(out, v),
        },
        Arg::OutPath => match ret {
            Some(Ok(_)) => write_cstr(out, v, MAX_PATH, mem),
            _ => write_ptr(out, v),
        },
        Arg::StrArray => write_str_array(out, v, mem),
        Arg::EnvArray => write_env_array(out, v, mem),
        Arg::OpenFlags => write_open_flags(out, v),
        Arg::NewFdFlags => write_flags(out, u64::from(v as u32), NEW_FD_FLAGS, "0"),
        Arg::FdFlags => write_flags(out, u64::from(v as u32), FD_FLAGS, "0"),
        Arg::Mode => write_mode(out, v),
        Arg::AccessMode => write_flags(out, u64::from(v as u32), ACCESS_MODES, "F_OK"),
        Arg::MmapProt => write_flags(out, v, PROT_FLAGS, "PROT_NONE"),
        Arg::MmapFlags => write_mmap_flags(out, v),
        Arg::MremapFlags => write_flags(out, v, MREMAP_FLAGS, "0"),
        Arg::MsyncFlags => write_flags(out, v, MSYNC_FLAGS, "0"),
        Arg::Madvise => write_enum(out, v, MADVISE),
        Arg::AtFlags => write_flags(out, u64::from(v as u32), AT_FLAGS, "0"),
        Arg::UnlinkFlags => write_flags(out, u64::from(v as u32), UNLINK_FLAGS, "0"),
        Arg::RenameFlags => write_flags(out, u64::from(v as u32), RENAME_FLAGS, "0"),
        Arg::Signal => write_signal(out, int(v), true),
        Arg::SigSet => write_sigset(out, v, mem),
        Arg::SigHow => write_enum(out, v, SIG_HOW),
        Arg::Whence => write_enum(out, v, WHENCE),
        Arg::Fcntl => write_enum(out, v, FCNTL_CMDS),
        Arg::Ioctl => write_enum_hex(out, u64::from(v as u32), IOCTLS),
        Arg::ClockId => write_enum(out, v, CLOCKS),
        Arg::ArchPrctl => write_enum_hex(out, v, ARCH_PRCTL),
        Arg::Prctl => write_enum(out, v, PRCTL),
        Arg::FutexOp => write_futex_op(out, v),
        Arg::CloneFlags => write_clone_flags(out, v),
        Arg::NsFlags => write_ns_flags(out, v),
        Arg::WaitOptions => write_flags(out, u64::from(v as u32), WAIT_OPTIONS, "0"),
        Arg::SockFamily => write_enum(out, v, SOCK_FAMILIES),
        Arg::SockType => write_sock_type(out, v),
        Arg::EpollCtl => write_enum(out, v, EPOLL_CTL),
        Arg::Rlimit => write_enum(out, v, RLIMITS),
    }
}
