use super::*;
use std::collections::HashMap;

/// App memory as a few byte ranges; everything else is unmapped.
#[derive(Default)]
struct FakeMem {
    regions: HashMap<u64, Vec<u8>>,
}

impl FakeMem {
    fn with(mut self, addr: u64, bytes: &[u8]) -> Self {
        self.regions.insert(addr, bytes.to_vec());
        self
    }

    fn slice(&self, addr: u64) -> Option<&[u8]> {
        self.regions.iter().find_map(|(&base, bytes)| {
            let off = usize::try_from(addr.checked_sub(base)?).ok()?;
            bytes.get(off..)
        })
    }
}

impl MemoryReader for FakeMem {
    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        self.slice(addr)?.get(..len).map(<[u8]>::to_vec)
    }
    fn read_cstr(&self, addr: u64, max: usize) -> Option<Vec<u8>> {
        let s = self.slice(addr)?;
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len()).min(max);
        Some(s[..end].to_vec())
    }
}

fn nr(name: &str) -> u64 {
    syscall_number(name).unwrap_or_else(|| panic!("no syscall {name}"))
}

#[test]
fn numbers_and_names() {
    let pairs = [
        (0, "read"),
        (1, "write"),
        (2, "open"),
        (9, "mmap"),
        (39, "getpid"),
        (59, "execve"),
        (60, "exit"),
        (231, "exit_group"),
        (257, "openat"),
        (262, "newfstatat"),
        (332, "statx"),
        (435, "clone3"),
        (439, "faccessat2"),
        (462, "mseal"),
    ];
    for (n, name) in pairs {
        assert_eq!(syscall_name(n), Some(name));
        assert_eq!(syscall_number(name), Some(n));
    }
    assert_eq!(syscall_name(335), None);
    assert_eq!(syscall_name(423), None);
    assert_eq!(syscall_name(SYSCALL_COUNT as u64), None);
    assert_eq!(syscall_name(u64::MAX), None);
    assert_eq!(syscall_number("no_such_call"), None);
    const { assert!(SYSCALL_COUNT > 462) };
    assert!((0..=334)
        .chain(424..=462)
        .all(|n| syscall_name(n).is_some()));
}

#[test]
fn argument_counts() {
    assert_eq!(syscall_args(0), &[Arg::Fd, Arg::OutStr, Arg::UInt]);
    assert_eq!(syscall_args(nr("getpid")).len(), 0);
    assert_eq!(syscall_args(nr("mmap")).len(), 6);
    assert_eq!(syscall_args(nr("openat")).len(), 4);
    assert_eq!(syscall_args(nr("clone")).len(), 5);
    assert_eq!(syscall_args(1000), &[]);
}

#[test]
fn openat_with_memory() {
    let mem = FakeMem::default().with(0x1000, b"/etc/passwd\0junk");
    let flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;
    let args = [libc::AT_FDCWD as u64, 0x1000, flags, 0, 0, 0];
    assert_eq!(
        format_call(257, &args, &mem),
        r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)"#
    );
    let flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as u64;
    let args = [3, 0x1000, flags, 0o644, 0, 0];
    assert_eq!(
        format_call(257, &args, &mem),
        r#"openat(3, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644)"#
    );
    assert_eq!(
        format_call(257, &args, &mem) + &format_result(257, Err(libc::ENOENT)),
        r#"openat(3, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such file or directory)"#
    );
}

#[test]
fn bad_pointer_prints_hex() {
    let mem = FakeMem::default();
    let args = [libc::AT_FDCWD as u64, 0xdead_b000, 0, 0, 0, 0];
    assert_eq!(
        format_call(257, &args, &mem),
        "openat(AT_FDCWD, 0xdeadb000, O_RDONLY)"
    );
    let args = [0, 0, 0, 0, 0, 0];
    assert_eq!(format_call(nr("chdir"), &args, &mem), "chdir(NULL)");
    assert_eq!(
        format_call(nr("stat"), &[0x10, 0x20, 0, 0, 0, 0], &NoMemory),
        "stat(0x10, 0x20)"
    );
}

#[test]
fn flags_with_leftover_bits() {
    let mem = FakeMem::default().with(0x1000, b"x\0");
    let flags = (libc::O_RDWR | libc::O_NONBLOCK) as u64 | 0x4000_0000;
    let args = [libc::AT_FDCWD as u64, 0x1000, flags, 0, 0, 0];
    assert_eq!(
        format_call(257, &args, &mem),
        r#"openat(AT_FDCWD, "x", O_RDWR|O_NONBLOCK|0x40000000)"#
    );
    let args = [libc::AT_FDCWD as u64, 0x1000, 0x8000_0000 | 0x200, 0, 0, 0];
    assert_eq!(
        format_call(nr("unlinkat"), &args, &mem),
        r#"unlinkat(AT_FDCWD, "x", AT_REMOVEDIR|0x80000000)"#
    );
    // O_TMPFILE is composite (includes O_DIRECTORY) and takes a mode.
    let args = [
        libc::AT_FDCWD as u64,
        0x1000,
        (libc::O_RDWR | libc::O_TMPFILE) as u64,
        0o600,
        0,
        0,
    ];
    assert_eq!(
        format_call(257, &args, &mem),
        r#"openat(AT_FDCWD, "x", O_RDWR|O_TMPFILE, 0600)"#
    );
    let flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_DIRECTORY) as u64;
    let args = [libc::AT_FDCWD as u64, 0x1000, flags, 0, 0, 0];
    assert_eq!(
        format_call(257, &args, &mem),
        r#"openat(AT_FDCWD, "x", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY)"#
    );
}

#[test]
fn mmap_call_and_result() {
    let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
    let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64;
    let args = [0, 8192, prot, flags, u64::MAX, 0];
    assert_eq!(
        format_call(9, &args, &NoMemory),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
    );
    let flags = (libc::MAP_SHARED | libc::MAP_FIXED | libc::MAP_STACK) as u64 | 0x8000_0000;
    let args = [0x7f00_0000_0000, 4096, 0, flags, 3, 0x1000];
    assert_eq!(
        format_call(9, &args, &NoMemory),
        "mmap(0x7f0000000000, 4096, PROT_NONE, MAP_SHARED|MAP_FIXED|MAP_STACK|0x80000000, 3, 0x1000)"
    );
    assert_eq!(format_result(9, Ok(0x7f12_3456_7000)), " = 0x7f1234567000");
    assert_eq!(format_result(12, Ok(0x55_0000)), " = 0x550000");
    assert_eq!(
        format_result(9, Err(libc::ENOMEM)),
        " = -1 ENOMEM (Cannot allocate memory)"
    );
    assert_eq!(format_result(39, Ok(42)), " = 42");
}

#[test]
fn errno_names_and_messages() {
    assert_eq!(errno_name(libc::ENOENT), Some("ENOENT"));
    assert_eq!(errno_name(libc::EFAULT), Some("EFAULT"));
    assert_eq!(errno_name(libc::ENOSYS), Some("ENOSYS"));
    assert_eq!(errno_name(libc::EWOULDBLOCK), Some("EAGAIN"));
    assert_eq!(errno_message(libc::ENOSYS), "Function not implemented");
    assert_eq!(errno_message(libc::EFAULT), "Bad address");
    assert_eq!(errno_name(4000), None);
    assert_eq!(errno_message(4000), "Unknown error");
    assert_eq!(
        format_result(0, Err(4000)),
        " = -1 4000 (Unknown error 4000)"
    );
    assert_eq!(
        format_result(0, Err(-libc::EBADF)),
        " = -1 EBADF (Bad file descriptor)"
    );
    assert_eq!(
        format_result(0, Err(512)),
        " = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    );
    for e in 1..=133 {
        if e == 41 || e == 58 {
            continue; // unused numbers (EWOULDBLOCK/EDEADLOCK are aliases)
        }
        assert!(errno_name(e).is_some(), "errno {e}");
    }
}

#[test]
fn write_and_read_buffers() {
    let mem = FakeMem::default()
        .with(0x2000, b"hello\n\"q\"\\\x01\x7f0\0")
        .with(0x3000, &[b'a'; 100]);
    let args = [1, 0x2000, 13, 0, 0, 0];
    assert_eq!(
        format_call(1, &args, &mem),
        r#"write(1, "hello\n\"q\"\\\1\1770", 13)"#
    );
    // Cut at 64 bytes.
    let args = [1, 0x3000, 100, 0, 0, 0];
    let line = format_call(1, &args, &mem);
    assert_eq!(line, format!("write(1, \"{}\"..., 100)", "a".repeat(64)));
    // read: pointer on entry, data on exit (only what was read).
    let args = [3, 0x3000, 100, 0, 0, 0];
    assert_eq!(format_call(0, &args, &mem), "read(3, 0x3000, 100)");
    assert_eq!(
        format_call_exit(0, &args, Ok(3), &mem),
        r#"read(3, "aaa", 100)"#
    );
    assert_eq!(
        format_call_exit(0, &args, Err(libc::EAGAIN), &mem),
        "read(3, 0x3000, 100)"
    );
    // A result beyond the buffer's size shows only the buffer.
    let args = [3, 0x3000, 2, 0, 0, 0];
    assert_eq!(
        format_call_exit(nr("recvfrom"), &args, Ok(50), &mem),
        r#"recvfrom(3, "aa", 2, 0, NULL, NULL)"#
    );
    assert_eq!(
        format_call(1, &[1, 0, 0, 0, 0, 0], &mem),
        "write(1, NULL, 0)"
    );
    // Unreadable buffer.
    let args = [1, 0x9000, 5, 0, 0, 0];
    assert_eq!(format_call(1, &args, &mem), "write(1, 0x9000, 5)");
}

#[test]
fn getcwd_and_readlink_on_exit() {
    let mem = FakeMem::default().with(0x4000, b"/home/app\0\0\0");
    let args = [0x4000, 4096, 0, 0, 0, 0];
    assert_eq!(
        format_call(nr("getcwd"), &args, &mem),
        "getcwd(0x4000, 4096)"
    );
    assert_eq!(
        format_call_exit(nr("getcwd"), &args, Ok(10), &mem),
        r#"getcwd("/home/app", 4096)"#
    );
    let mem = mem
        .with(0x5000, b"/proc/self/exe\0")
        .with(0x6000, b"/bin/busyboxZZZ");
    let args = [0x5000, 0x6000, 4096, 0, 0, 0];
    assert_eq!(
        format_call_exit(nr("readlink"), &args, Ok(12), &mem),
        r#"readlink("/proc/self/exe", "/bin/busybox", 4096)"#
    );
}

#[test]
fn execve_argv() {
    let mut argv = Vec::new();
    for p in [0x7000u64, 0x7010, 0] {
        argv.extend_from_slice(&p.to_le_bytes());
    }
    let mem = FakeMem::default()
        .with(0x6000, b"/bin/sh\0")
        .with(0x7000, b"sh\0")
        .with(0x7010, b"-c\0")
        .with(0x8000, &argv);
    let args = [0x6000, 0x8000, 0x9000, 0, 0, 0];
    assert_eq!(
        format_call(59, &args, &mem),
        r#"execve("/bin/sh", ["sh", "-c"], 0x9000)"#
    );
    // envp is shown as its address and entry count.
    let args = [0x6000, 0x8000, 0x8000, 0, 0, 0];
    assert_eq!(
        format_call(59, &args, &mem),
        r#"execve("/bin/sh", ["sh", "-c"], 0x8000 /* 2 vars */)"#
    );
    let args = [0x6000, 0xa000, 0, 0, 0, 0];
    assert_eq!(
        format_call(59, &args, &mem),
        r#"execve("/bin/sh", 0xa000, NULL)"#
    );
}

#[test]
fn signals_and_sigsets() {
    let args = [42, libc::SIGKILL as u64, 0, 0, 0, 0];
    assert_eq!(
        format_call(nr("kill"), &args, &NoMemory),
        "kill(42, SIGKILL)"
    );
    let args = [1, 2, 34, 0, 0, 0];
    assert_eq!(
        format_call(nr("tgkill"), &args, &NoMemory),
        "tgkill(1, 2, SIGRT_2)"
    );
    let set: u64 = (1 << (libc::SIGCHLD - 1)) | (1 << (libc::SIGINT - 1));
    let mem = FakeMem::default()
        .with(0x1000, &set.to_le_bytes())
        .with(0x2000, &(!(1u64 << 31)).to_le_bytes());
    let args = [libc::SIG_BLOCK as u64, 0x1000, 0, 8, 0, 0];
    assert_eq!(
        format_call(14, &args, &mem),
        "rt_sigprocmask(SIG_BLOCK, [INT CHLD], NULL, 8)"
    );
    let args = [libc::SIG_SETMASK as u64, 0x2000, 0x3000, 8, 0, 0];
    assert_eq!(
        format_call(14, &args, &mem),
        "rt_sigprocmask(SIG_SETMASK, ~[RTMIN], 0x3000, 8)"
    );
    let args = [libc::SIGSEGV as u64, 0x10, 0, 8, 0, 0];
    assert_eq!(
        format_call(13, &args, &NoMemory),
        "rt_sigaction(SIGSEGV, 0x10, NULL, 8)"
    );
}

#[test]
fn misc_decoders() {
    let m = &NoMemory;
    assert_eq!(
        format_call(nr("lseek"), &[3, (-5i64) as u64, 2, 0, 0, 0], m),
        "lseek(3, -5, SEEK_END)"
    );
    assert_eq!(
        format_call(nr("fcntl"), &[3, libc::F_GETFL as u64, 0, 0, 0, 0], m),
        "fcntl(3, F_GETFL)"
    );
    assert_eq!(
        format_call(nr("fcntl"), &[3, libc::F_SETFD as u64, 1, 0, 0, 0], m),
        "fcntl(3, F_SETFD, FD_CLOEXEC)"
    );
    assert_eq!(
        format_call(nr("fcntl"), &[3, libc::F_SETFL as u64, 0o4002, 0, 0, 0], m),
        "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK)"
    );
    assert_eq!(
        format_call(
            nr("fcntl"),
            &[3, libc::F_DUPFD_CLOEXEC as u64, 10, 0, 0, 0],
            m
        ),
        "fcntl(3, F_DUPFD_CLOEXEC, 10)"
    );
    assert_eq!(
        format_call(16, &[1, libc::TIOCGWINSZ, 0x7ff0, 0, 0, 0], m),
        "ioctl(1, TIOCGWINSZ, 0x7ff0)"
    );
    assert_eq!(
        format_call(16, &[1, 0x1234_5678, 0, 0, 0, 0], m),
        "ioctl(1, 0x12345678, 0)"
    );
    assert_eq!(
        format_call(nr("clock_gettime"), &[1, 0x10, 0, 0, 0, 0], m),
        "clock_gettime(CLOCK_MONOTONIC, 0x10)"
    );
    assert_eq!(
        format_call(nr("arch_prctl"), &[0x1002, 0x7f00, 0, 0, 0, 0], m),
        "arch_prctl(ARCH_SET_FS, 0x7f00)"
    );
    assert_eq!(
        format_call(
            nr("prctl"),
            &[libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0],
            m
        ),
        "prctl(PR_SET_NO_NEW_PRIVS, 0x1, 0, 0, 0)"
    );
    let name = FakeMem::default().with(0x10, b"worker\0");
    assert_eq!(
        format_call(
            nr("prctl"),
            &[libc::PR_SET_NAME as u64, 0x10, 0, 0, 0, 0],
            &name
        ),
        r#"prctl(PR_SET_NAME, "worker")"#
    );
    let op = (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64;
    assert_eq!(
        format_call(nr("futex"), &[0x1000, op, 1, 0, 0, 0], m),
        "futex(0x1000, FUTEX_WAKE_PRIVATE, 1)"
    );
    let op =
        (libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME) as u64;
    assert_eq!(
        format_call(nr("futex"), &[0x1000, op, 0, 0, 0, 0xffff_ffff], m),
        "futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0xffffffff)"
    );
    let flags = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_SETTLS | libc::SIGCHLD) as u64;
    assert_eq!(
        format_call(56, &[flags, 0x7000, 0, 0, 0x10, 0], m),
        "clone(CLONE_VM|CLONE_FS|CLONE_SETTLS|SIGCHLD, 0x7000, NULL, NULL, 0x10)"
    );
    assert_eq!(
        format_call(
            nr("unshare"),
            &[
                (libc::CLONE_NEWNS | libc::CLONE_NEWTIME) as u64,
                0,
                0,
                0,
                0,
                0
            ],
            m
        ),
        "unshare(CLONE_NEWTIME|CLONE_NEWNS)"
    );
    assert_eq!(
        format_call(
            nr("socket"),
            &[
                2,
                (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64,
                0,
                0,
                0,
                0
            ],
            m
        ),
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)"
    );
    assert_eq!(
        format_call(nr("pipe2"), &[0x10, libc::O_CLOEXEC as u64, 0, 0, 0, 0], m),
        "pipe2(0x10, O_CLOEXEC)"
    );
    assert_eq!(
        format_call(
            nr("faccessat2"),
            &[(-100i64) as u64, 0x1, 6, 0x200, 0, 0],
            m
        ),
        "faccessat2(AT_FDCWD, 0x1, R_OK|W_OK, AT_EACCESS)"
    );
    assert_eq!(
        format_call(nr("mknodat"), &[5, 0x1, 0o20600, 0x103, 0, 0], m),
        "mknodat(5, 0x1, S_IFCHR|0600, 0x103)"
    );
    assert_eq!(
        format_call(nr("preadv2"), &[3, 0x10, 2, 100, 0, 0x8], m),
        "preadv2(3, 0x10, 2, 100, 0x8)"
    );
    assert_eq!(
        format_call(nr("umask"), &[0o22, 0, 0, 0, 0, 0], m),
        "umask(022)"
    );
    assert_eq!(format_result(nr("umask"), Ok(0o22)), " = 022");
    assert_eq!(format_call(39, &[0; 6], m), "getpid()");
    assert_eq!(
        format_call(400, &[1, 0, 0, 0, 0, 0xff], m),
        "syscall_0x190(0x1, 0, 0, 0, 0, 0xff)"
    );
}

#[test]
fn signal_names() {
    assert_eq!(signal_name(libc::SIGKILL), Some("SIGKILL"));
    assert_eq!(signal_name(0), None);
    assert_eq!(signal_name(40), None);
}
