//! The amd64 system call table: number, name and argument kinds.
//!
//! Numbers and names follow `arch/x86/entry/syscalls/syscall_64.tbl` (the
//! "common" and "64" ABIs; x32-only entries at 512+ are not described).
//! Argument lists follow the kernel's `SYSCALL_DEFINEn` prototypes, with the
//! kinds chosen to print like strace does.

use super::Arg::{self, *};

/// Number of entries in the table: the highest described number plus one.
pub const SYSCALL_COUNT: usize = 470;

/// One syscall as written in [`DEFS`].
struct Def {
    nr: u16,
    name: &'static str,
    args: &'static [Arg],
}

const fn d(nr: u16, name: &'static str, args: &'static [Arg]) -> Def {
    Def { nr, name, args }
}

/// A described syscall, stored at its number in [`TABLE`].
#[derive(Clone, Copy)]
struct Entry {
    name: &'static str,
    args: &'static [Arg],
}

/// Every amd64 syscall Linux defines, in number order.
///
/// Reserved numbers that never had (or no longer have) an implementation,
/// such as `create_module` or `tuxcall`, are listed with the argument count
/// strace uses for them so that their calls still print readably.
const DEFS: &[Def] = &[
    d(0, "read", &[Fd, OutStr, UInt]),
    d(1, "write", &[Fd, Str, UInt]),
    d(2, "open", &[Path, OpenFlags, Mode]),
    d(3, "close", &[Fd]),
    d(4, "stat", &[Path, Ptr]),
    d(5, "fstat", &[Fd, Ptr]),
    d(6, "lstat", &[Path, Ptr]),
    d(7, "poll", &[Ptr, UInt, Int]),
    d(8, "lseek", &[Fd, Long, Whence]),
    d(9, "mmap", &[Ptr, UInt, MmapProt, MmapFlags, Fd, Hex]),
    d(10, "mprotect", &[Ptr, UInt, MmapProt]),
    d(11, "munmap", &[Ptr, UInt]),
    d(12, "brk", &[Ptr]),
    d(13, "rt_sigaction", &[Signal, Ptr, Ptr, UInt]),
    d(14, "rt_sigprocmask", &[SigHow, SigSet, Ptr, UInt]),
    d(15, "rt_sigreturn", &[]),
    d(16, "ioctl", &[Fd, Ioctl, Hex]),
    d(17, "pread64", &[Fd, OutStr, UInt, Long]),
    d(18, "pwrite64", &[Fd, Str, UInt, Long]),
    d(19, "readv", &[Fd, Ptr, Int]),
    d(20, "writev", &[Fd, Ptr, Int]),
    d(21, "access", &[Path, AccessMode]),
    d(22, "pipe", &[Ptr]),
    d(23, "select", &[Int, Ptr, Ptr, Ptr, Ptr]),
    d(24, "sched_yield", &[]),
    d(25, "mremap", &[Ptr, UInt, UInt, MremapFlags, Ptr]),
    d(26, "msync", &[Ptr, UInt, MsyncFlags]),
    d(27, "mincore", &[Ptr, UInt, Ptr]),
    d(28, "madvise", &[Ptr, UInt, Madvise]),
    d(29, "shmget", &[Hex, UInt, Hex]),
    d(30, "shmat", &[Int, Ptr, Hex]),
    d(31, "shmctl", &[Int, Int, Ptr]),
    d(32, "dup", &[Fd]),
    d(33, "dup2", &[Fd, Fd]),
    d(34, "pause", &[]),
    d(35, "nanosleep", &[Ptr, Ptr]),
    d(36, "getitimer", &[Int, Ptr]),
    d(37, "alarm", &[UInt]),
    d(38, "setitimer", &[Int, Ptr, Ptr]),
    d(39, "getpid", &[]),
    d(40, "sendfile", &[Fd, Fd, Ptr, UInt]),
    d(41, "socket", &[SockFamily, SockType, Int]),
    d(42, "connect", &[Fd, Ptr, Int]),
    d(43, "accept", &[Fd, Ptr, Ptr]),
    d(44, "sendto", &[Fd, Str, UInt, Hex, Ptr, Int]),
    d(45, "recvfrom", &[Fd, OutStr, UInt, Hex, Ptr, Ptr]),
    d(46, "sendmsg", &[Fd, Ptr, Hex]),
    d(47, "recvmsg", &[Fd, Ptr, Hex]),
    d(48, "shutdown", &[Fd, Int]),
    d(49, "bind", &[Fd, Ptr, Int]),
    d(50, "listen", &[Fd, Int]),
    d(51, "getsockname", &[Fd, Ptr, Ptr]),
    d(52, "getpeername", &[Fd, Ptr, Ptr]),
    d(53, "socketpair", &[SockFamily, SockType, Int, Ptr]),
    d(54, "setsockopt", &[Fd, Int, Int, Ptr, Int]),
    d(55, "getsockopt", &[Fd, Int, Int, Ptr, Ptr]),
    // amd64 order: flags, newsp, parent_tid, child_tid, tls.
    d(56, "clone", &[CloneFlags, Ptr, Ptr, Ptr, Hex]),
    d(57, "fork", &[]),
    d(58, "vfork", &[]),
    d(59, "execve", &[Path, StrArray, EnvArray]),
    d(60, "exit", &[Int]),
    d(61, "wait4", &[Int, Ptr, WaitOptions, Ptr]),
    d(62, "kill", &[Int, Signal]),
    d(63, "uname", &[Ptr]),
    d(64, "semget", &[Hex, Int, Hex]),
    d(65, "semop", &[Int, Ptr, UInt]),
    d(66, "semctl", &[Int, Int, Int, Hex]),
    d(67, "shmdt", &[Ptr]),
    d(68, "msgget", &[Hex, Hex]),
    d(69, "msgsnd", &[Int, Ptr, UInt, Hex]),
    d(70, "msgrcv", &[Int, Ptr, UInt, Long, Hex]),
    d(71, "msgctl", &[Int, Int, Ptr]),
    d(72, "fcntl", &[Fd, Fcntl, Hex]),
    d(73, "flock", &[Fd, Int]),
    d(74, "fsync", &[Fd]),
    d(75, "fdatasync", &[Fd]),
    d(76, "truncate", &[Path, Long]),
    d(77, "ftruncate", &[Fd, Long]),
    d(78, "getdents", &[Fd, Ptr, UInt]),
    d(79, "getcwd", &[OutPath, UInt]),
    d(80, "chdir", &[Path]),
    d(81, "fchdir", &[Fd]),
    d(82, "rename", &[Path, Path]),
    d(83, "mkdir", &[Path, Mode]),
    d(84, "rmdir", &[Path]),
    d(85, "creat", &[Path, Mode]),
    d(86, "link", &[Path, Path]),
    d(87, "unlink", &[Path]),
    d(88, "symlink", &[Path, Path]),
    d(89, "readlink", &[Path, OutStr, UInt]),
    d(90, "chmod", &[Path, Mode]),
    d(91, "fchmod", &[Fd, Mode]),
    d(92, "chown", &[Path, Int, Int]),
    d(93, "fchown", &[Fd, Int, Int]),
    d(94, "lchown", &[Path, Int, Int]),
    d(95, "umask", &[Mode]),
    d(96, "gettimeofday", &[Ptr, Ptr]),
    d(97, "getrlimit", &[Rlimit, Ptr]),
    d(98, "getrusage", &[Int, Ptr]),
    d(99, "sysinfo", &[Ptr]),
    d(100, "times", &[Ptr]),
    d(101, "ptrace", &[Int, Int, Ptr, Ptr]),
    d(102, "getuid", &[]),
    d(103, "syslog", &[Int, Ptr, Int]),
    d(104, "getgid", &[]),
    d(105, "setuid", &[Int]),
    d(106, "setgid", &[Int]),
    d(107, "geteuid", &[]),
    d(108, "getegid", &[]),
    d(109, "setpgid", &[Int, Int]),
    d(110, "getppid", &[]),
    d(111, "getpgrp", &[]),
    d(112, "setsid", &[]),
    d(113, "setreuid", &[Int, Int]),
    d(114, "setregid", &[Int, Int]),
    d(115, "getgroups", &[Int, Ptr]),
    d(116, "setgroups", &[Int, Ptr]),
    d(117, "setresuid", &[Int, Int, Int]),
    d(118, "getresuid", &[Ptr, Ptr, Ptr]),
    d(119, "setresgid", &[Int, Int, Int]),
    d(120, "getresgid", &[Ptr, Ptr, Ptr]),
    d(121, "getpgid", &[Int]),
    d(122, "setfsuid", &[Int]),
    d(123, "setfsgid", &[Int]),
    d(124, "getsid", &[Int]),
    d(125, "capget", &[Ptr, Ptr]),
    d(126, "capset", &[Ptr, Ptr]),
    d(127, "rt_sigpending", &[Ptr, UInt]),
    d(128, "rt_sigtimedwait", &[SigSet, Ptr, Ptr, UInt]),
    d(129, "rt_sigqueueinfo", &[Int, Signal, Ptr]),
    d(130, "rt_sigsuspend", &[SigSet, UInt]),
    d(131, "sigaltstack", &[Ptr, Ptr]),
    d(132, "utime", &[Path, Ptr]),
    d(133, "mknod", &[Path, Mode, Hex]),
    d(134, "uselib", &[Path]),
    d(135, "personality", &[Hex]),
    d(136, "ustat", &[Hex, Ptr]),
    d(137, "statfs", &[Path, Ptr]),
    d(138, "fstatfs", &[Fd, Ptr]),
    d(139, "sysfs", &[Int, Hex, Hex]),
    d(140, "getpriority", &[Int, Int]),
    d(141, "setpriority", &[Int, Int, Int]),
    d(142, "sched_setparam", &[Int, Ptr]),
    d(143, "sched_getparam", &[Int, Ptr]),
    d(144, "sched_setscheduler", &[Int, Int, Ptr]),
    d(145, "sched_getscheduler", &[Int]),
    d(146, "sched_get_priority_max", &[Int]),
    d(147, "sched_get_priority_min", &[Int]),
    d(148, "sched_rr_get_interval", &[Int, Ptr]),
    d(149, "mlock", &[Ptr, UInt]),
    d(150, "munlock", &[Ptr, UInt]),
    d(151, "mlockall", &[Hex]),
    d(152, "munlockall", &[]),
    d(153, "vhangup", &[]),
    d(154, "modify_ldt", &[Int, Ptr, UInt]),
    d(155, "pivot_root", &[Path, Path]),
    d(156, "_sysctl", &[Ptr]),
    d(157, "prctl", &[Prctl, Hex, Hex, Hex, Hex]),
    d(158, "arch_prctl", &[ArchPrctl, Hex]),
    d(159, "adjtimex", &[Ptr]),
    d(160, "setrlimit", &[Rlimit, Ptr]),
    d(161, "chroot", &[Path]),
    d(162, "sync", &[]),
    d(163, "acct", &[Path]),
    d(164, "settimeofday", &[Ptr, Ptr]),
    d(165, "mount", &[Path, Path, Path, Hex, Ptr]),
    d(166, "umount2", &[Path, Hex]),
    d(167, "swapon", &[Path, Hex]),
    d(168, "swapoff", &[Path]),
    d(169, "reboot", &[Hex, Hex, Hex, Ptr]),
    d(170, "sethostname", &[Str, UInt]),
    d(171, "setdomainname", &[Str, UInt]),
    d(172, "iopl", &[Int]),
    d(173, "ioperm", &[UInt, UInt, Int]),
    d(174, "create_module", &[Path, UInt]),
    d(175, "init_module", &[Ptr, UInt, Path]),
    d(176, "delete_module", &[Path, Hex]),
    d(177, "get_kernel_syms", &[Ptr]),
    d(178, "query_module", &[Path, Int, Ptr, UInt, Ptr]),
    d(179, "quotactl", &[Hex, Path, Int, Ptr]),
    d(180, "nfsservctl", &[Int, Ptr, Ptr]),
    d(181, "getpmsg", &[Hex, Hex, Hex, Hex, Hex]),
    d(182, "putpmsg", &[Hex, Hex, Hex, Hex, Hex]),
    d(183, "afs_syscall", &[Hex, Hex, Hex, Hex, Hex]),
    d(184, "tuxcall", &[Hex, Hex, Hex]),
    d(185, "security", &[Hex, Hex, Hex]),
    d(186, "gettid", &[]),
    d(187, "readahead", &[Fd, Long, UInt]),
    d(188, "setxattr", &[Path, Path, StrLen(3), UInt, Hex]),
    d(189, "lsetxattr", &[Path, Path, StrLen(3), UInt, Hex]),
    d(190, "fsetxattr", &[Fd, Path, StrLen(3), UInt, Hex]),
    d(191, "getxattr", &[Path, Path, OutStr, UInt]),
    d(192, "lgetxattr", &[Path, Path, OutStr, UInt]),
    d(193, "fgetxattr", &[Fd, Path, OutStr, UInt]),
    d(194, "listxattr", &[Path, OutStr, UInt]),
    d(195, "llistxattr", &[Path, OutStr, UInt]),
    d(196, "flistxattr", &[Fd, OutStr, UInt]),
    d(197, "removexattr", &[Path, Path]),
    d(198, "lremovexattr", &[Path, Path]),
    d(199, "fremovexattr", &[Fd, Path]),
    d(200, "tkill", &[Int, Signal]),
    d(201, "time", &[Ptr]),
    d(202, "futex", &[Ptr, FutexOp, Int, Ptr, Ptr, Hex]),
    d(203, "sched_setaffinity", &[Int, UInt, Ptr]),
    d(204, "sched_getaffinity", &[Int, UInt, Ptr]),
    d(205, "set_thread_area", &[Ptr]),
    d(206, "io_setup", &[UInt, Ptr]),
    d(207, "io_destroy", &[Hex]),
    d(208, "io_getevents", &[Hex, Long, Long, Ptr, Ptr]),
    d(209, "io_submit", &[Hex, Long, Ptr]),
    d(210, "io_cancel", &[Hex, Ptr, Ptr]),
    d(211, "get_thread_area", &[Ptr]),
    d(212, "lookup_dcookie", &[Hex, Ptr, UInt]),
    d(213, "epoll_create", &[Int]),
    d(214, "epoll_ctl_old", &[Hex, Hex, Hex, Hex]),
    d(215, "epoll_wait_old", &[Hex, Hex, Hex, Hex]),
    d(
        216,
        "remap_file_pages",
        &[Ptr, UInt, MmapProt, UInt, MmapFlags],
    ),
    d(217, "getdents64", &[Fd, Ptr, UInt]),
    d(218, "set_tid_address", &[Ptr]),
    d(219, "restart_syscall", &[]),
    d(220, "semtimedop", &[Int, Ptr, UInt, Ptr]),
    d(221, "fadvise64", &[Fd, Long, Long, Int]),
    d(222, "timer_create", &[ClockId, Ptr, Ptr]),
    d(223, "timer_settime", &[Int, Hex, Ptr, Ptr]),
    d(224, "timer_gettime", &[Int, Ptr]),
    d(225, "timer_getoverrun", &[Int]),
    d(226, "timer_delete", &[Int]),
    d(227, "clock_settime", &[ClockId, Ptr]),
    d(228, "clock_gettime", &[ClockId, Ptr]),
    d(229, "clock_getres", &[ClockId, Ptr]),
    d(230, "clock_nanosleep", &[ClockId, Hex, Ptr, Ptr]),
    d(231, "exit_group", &[Int]),
    d(232, "epoll_wait", &[Fd, Ptr, Int, Int]),
    d(233, "epoll_ctl", &[Fd, EpollCtl, Fd, Ptr]),
    d(234, "tgkill", &[Int, Int, Signal]),
    d(235, "utimes", &[Path, Ptr]),
    d(236, "vserver", &[Hex, Hex, Hex, Hex, Hex]),
    d(237, "mbind", &[Ptr, UInt, Int, Ptr, UInt, Hex]),
    d(238, "set_mempolicy", &[Int, Ptr, UInt]),
    d(239, "get_mempolicy", &[Ptr, Ptr, UInt, Ptr, Hex]),
    d(240, "mq_open", &[Path, OpenFlags, Mode, Ptr]),
    d(241, "mq_unlink", &[Path]),
    d(242, "mq_timedsend", &[Int, Str, UInt, UInt, Ptr]),
    d(243, "mq_timedreceive", &[Int, OutStr, UInt, Ptr, Ptr]),
    d(244, "mq_notify", &[Int, Ptr]),
    d(245, "mq_getsetattr", &[Int, Ptr, Ptr]),
    d(246, "kexec_load", &[Hex, UInt, Ptr, Hex]),
    d(247, "waitid", &[Int, Int, Ptr, WaitOptions, Ptr]),
    d(248, "add_key", &[Path, Path, StrLen(3), UInt, Int]),
    d(249, "request_key", &[Path, Path, Path, Int]),
    d(250, "keyctl", &[Int, Hex, Hex, Hex, Hex]),
    d(251, "ioprio_set", &[Int, Int, Int]),
    d(252, "ioprio_get", &[Int, Int]),
    d(253, "inotify_init", &[]),
    d(254, "inotify_add_watch", &[Fd, Path, Hex]),
    d(255, "inotify_rm_watch", &[Fd, Int]),
    d(256, "migrate_pages", &[Int, UInt, Ptr, Ptr]),
    d(257, "openat", &[DirFd, Path, OpenFlags, Mode]),
    d(258, "mkdirat", &[DirFd, Path, Mode]),
    d(259, "mknodat", &[DirFd, Path, Mode, Hex]),
    d(260, "fchownat", &[DirFd, Path, Int, Int, AtFlags]),
    d(261, "futimesat", &[DirFd, Path, Ptr]),
    d(262, "newfstatat", &[DirFd, Path, Ptr, AtFlags]),
    d(263, "unlinkat", &[DirFd, Path, UnlinkFlags]),
    d(264, "renameat", &[DirFd, Path, DirFd, Path]),
    d(265, "linkat", &[DirFd, Path, DirFd, Path, AtFlags]),
    d(266, "symlinkat", &[Path, DirFd, Path]),
    d(267, "readlinkat", &[DirFd, Path, OutStr, UInt]),
    d(268, "fchmodat", &[DirFd, Path, Mode]),
    d(269, "faccessat", &[DirFd, Path, AccessMode]),
    d(270, "pselect6", &[Int, Ptr, Ptr, Ptr, Ptr, Ptr]),
    d(271, "ppoll", &[Ptr, UInt, Ptr, SigSet, UInt]),
    d(272, "unshare", &[NsFlags]),
    d(273, "set_robust_list", &[Ptr, UInt]),
    d(274, "get_robust_list", &[Int, Ptr, Ptr]),
    d(275, "splice", &[Fd, Ptr, Fd, Ptr, UInt, Hex]),
    d(276, "tee", &[Fd, Fd, UInt, Hex]),
    d(277, "sync_file_range", &[Fd, Long, Long, Hex]),
    d(278, "vmsplice", &[Fd, Ptr, UInt, Hex]),
    d(279, "move_pages", &[Int, UInt, Ptr, Ptr, Ptr, Hex]),
    d(280, "utimensat", &[DirFd, Path, Ptr, AtFlags]),
    d(281, "epoll_pwait", &[Fd, Ptr, Int, Int, SigSet, UInt]),
    d(282, "signalfd", &[Fd, SigSet, UInt]),
    d(283, "timerfd_create", &[ClockId, NewFdFlags]),
    d(284, "eventfd", &[UInt]),
    d(285, "fallocate", &[Fd, Hex, Long, Long]),
    d(286, "timerfd_settime", &[Fd, Hex, Ptr, Ptr]),
    d(287, "timerfd_gettime", &[Fd, Ptr]),
    d(288, "accept4", &[Fd, Ptr, Ptr, NewFdFlags]),
    d(289, "signalfd4", &[Fd, SigSet, UInt, NewFdFlags]),
    d(290, "eventfd2", &[UInt, NewFdFlags]),
    d(291, "epoll_create1", &[NewFdFlags]),
    d(292, "dup3", &[Fd, Fd, NewFdFlags]),
    d(293, "pipe2", &[Ptr, NewFdFlags]),
    d(294, "inotify_init1", &[NewFdFlags]),
    // The kernel splits the offset into pos_l/pos_h; on amd64 pos_h is unused.
    d(295, "preadv", &[Fd, Ptr, Int, Long, Ignored]),
    d(296, "pwritev", &[Fd, Ptr, Int, Long, Ignored]),
    d(297, "rt_tgsigqueueinfo", &[Int, Int, Signal, Ptr]),
    d(298, "perf_event_open", &[Ptr, Int, Int, Fd, Hex]),
    d(299, "recvmmsg", &[Fd, Ptr, UInt, Hex, Ptr]),
    d(300, "fanotify_init", &[Hex, Hex]),
    d(301, "fanotify_mark", &[Fd, Hex, Hex, DirFd, Path]),
    d(302, "prlimit64", &[Int, Rlimit, Ptr, Ptr]),
    d(303, "name_to_handle_at", &[DirFd, Path, Ptr, Ptr, AtFlags]),
    d(304, "open_by_handle_at", &[Fd, Ptr, OpenFlags]),
    d(305, "clock_adjtime", &[ClockId, Ptr]),
    d(306, "syncfs", &[Fd]),
    d(307, "sendmmsg", &[Fd, Ptr, UInt, Hex]),
    d(308, "setns", &[Fd, NsFlags]),
    d(309, "getcpu", &[Ptr, Ptr, Ptr]),
    d(310, "process_vm_readv", &[Int, Ptr, UInt, Ptr, UInt, Hex]),
    d(311, "process_vm_writev", &[Int, Ptr, UInt, Ptr, UInt, Hex]),
    d(312, "kcmp", &[Int, Int, Int, Hex, Hex]),
    d(313, "finit_module", &[Fd, Path, Hex]),
    d(314, "sched_setattr", &[Int, Ptr, Hex]),
    d(315, "sched_getattr", &[Int, Ptr, UInt, Hex]),
    d(316, "renameat2", &[DirFd, Path, DirFd, Path, RenameFlags]),
    d(317, "seccomp", &[Int, Hex, Ptr]),
    d(318, "getrandom", &[OutStr, UInt, Hex]),
    d(319, "memfd_create", &[Path, Hex]),
    d(320, "kexec_file_load", &[Fd, Fd, UInt, Path, Hex]),
    d(321, "bpf", &[Int, Ptr, UInt]),
    d(322, "execveat", &[DirFd, Path, StrArray, EnvArray, AtFlags]),
    d(323, "userfaultfd", &[NewFdFlags]),
    d(324, "membarrier", &[Int, Hex, Int]),
    d(325, "mlock2", &[Ptr, UInt, Hex]),
    d(326, "copy_file_range", &[Fd, Ptr, Fd, Ptr, UInt, Hex]),
    d(327, "preadv2", &[Fd, Ptr, Int, Long, Ignored, Hex]),
    d(328, "pwritev2", &[Fd, Ptr, Int, Long, Ignored, Hex]),
    d(329, "pkey_mprotect", &[Ptr, UInt, MmapProt, Int]),
    d(330, "pkey_alloc", &[Hex, Hex]),
    d(331, "pkey_free", &[Int]),
    d(332, "statx", &[DirFd, Path, AtFlags, Hex, Ptr]),
    d(333, "io_pgetevents", &[Hex, Long, Long, Ptr, Ptr, Ptr]),
    d(334, "rseq", &[Ptr, UInt, Hex, Hex]),
    // 335..=423 are unused on amd64 (numbers kept in step with other arches).
    d(424, "pidfd_send_signal", &[Fd, Signal, Ptr, Hex]),
    d(425, "io_uring_setup", &[UInt, Ptr]),
    d(426, "io_uring_enter", &[Fd, UInt, UInt, Hex, Ptr, UInt]),
    d(427, "io_uring_register", &[Fd, UInt, Ptr, UInt]),
    d(428, "open_tree", &[DirFd, Path, Hex]),
    d(429, "move_mount", &[DirFd, Path, DirFd, Path, Hex]),
    d(430, "fsopen", &[Path, Hex]),
    d(431, "fsconfig", &[Fd, UInt, Path, Ptr, Int]),
    d(432, "fsmount", &[Fd, Hex, Hex]),
    d(433, "fspick", &[DirFd, Path, Hex]),
    d(434, "pidfd_open", &[Int, Hex]),
    d(435, "clone3", &[Ptr, UInt]),
    d(436, "close_range", &[Fd, UInt, Hex]),
    d(437, "openat2", &[DirFd, Path, Ptr, UInt]),
    d(438, "pidfd_getfd", &[Fd, Int, Hex]),
    d(439, "faccessat2", &[DirFd, Path, AccessMode, AtFlags]),
    d(440, "process_madvise", &[Fd, Ptr, UInt, Madvise, Hex]),
    d(441, "epoll_pwait2", &[Fd, Ptr, Int, Ptr, SigSet, UInt]),
    d(442, "mount_setattr", &[DirFd, Path, AtFlags, Ptr, UInt]),
    d(443, "quotactl_fd", &[Fd, Hex, Int, Ptr]),
    d(444, "landlock_create_ruleset", &[Ptr, UInt, Hex]),
    d(445, "landlock_add_rule", &[Fd, Int, Ptr, Hex]),
    d(446, "landlock_restrict_self", &[Fd, Hex]),
    d(447, "memfd_secret", &[Hex]),
    d(448, "process_mrelease", &[Fd, Hex]),
    d(449, "futex_waitv", &[Ptr, UInt, Hex, Ptr, ClockId]),
    d(450, "set_mempolicy_home_node", &[Ptr, UInt, UInt, Hex]),
    d(451, "cachestat", &[Fd, Ptr, Ptr, Hex]),
    d(452, "fchmodat2", &[DirFd, Path, Mode, AtFlags]),
    d(453, "map_shadow_stack", &[Ptr, UInt, Hex]),
    d(454, "futex_wake", &[Ptr, Hex, Int, Hex]),
    d(455, "futex_wait", &[Ptr, Hex, Hex, Hex, Ptr, ClockId]),
    d(456, "futex_requeue", &[Ptr, Hex, Int, Int]),
    d(457, "statmount", &[Ptr, Ptr, UInt, Hex]),
    d(458, "listmount", &[Ptr, Ptr, UInt, Hex]),
    d(459, "lsm_get_self_attr", &[UInt, Ptr, Ptr, Hex]),
    d(460, "lsm_set_self_attr", &[UInt, Ptr, UInt, Hex]),
    d(461, "lsm_list_modules", &[Ptr, Ptr, Hex]),
    d(462, "mseal", &[Ptr, UInt, Hex]),
    d(463, "setxattrat", &[DirFd, Path, AtFlags, Path, Ptr, UInt]),
    d(464, "getxattrat", &[DirFd, Path, AtFlags, Path, Ptr, UInt]),
    d(465, "listxattrat", &[DirFd, Path, AtFlags, OutStr, UInt]),
    d(466, "removexattrat", &[DirFd, Path, AtFlags, Path]),
    d(467, "open_tree_attr", &[DirFd, Path, Hex, Ptr, UInt]),
    d(468, "file_getattr", &[DirFd, Path, Ptr, UInt, AtFlags]),
    d(469, "file_setattr", &[DirFd, Path, Ptr, UInt, AtFlags]),
];

/// [`DEFS`] indexed by number, built at compile time (a duplicate or
/// out-of-range number in `DEFS` fails the build).
static TABLE: [Option<Entry>; SYSCALL_COUNT] = build_table();

const fn build_table() -> [Option<Entry>; SYSCALL_COUNT] {
    let mut table: [Option<Entry>; SYSCALL_COUNT] = [None; SYSCALL_COUNT];
    let mut i = 0;
    while i < DEFS.len() {
        let def = &DEFS[i];
        let nr = def.nr as usize;
        assert!(nr < SYSCALL_COUNT, "syscall number beyond SYSCALL_COUNT");
        assert!(table[nr].is_none(), "syscall number listed twice");
        assert!(def.args.len() <= 6, "a syscall has at most six arguments");
        table[nr] = Some(Entry {
            name: def.name,
            args: def.args,
        });
        i += 1;
    }
    table
}

fn entry(nr: u64) -> Option<&'static Entry> {
    usize::try_from(nr)
        .ok()
        .and_then(|i| TABLE.get(i))
        .and_then(Option::as_ref)
}

/// The name of an amd64 syscall ("read", "openat", ...), or `None` for a
/// number Linux does not define. Used by `--strace` and by the "unsupported
/// syscall" log line.
pub fn syscall_name(nr: u64) -> Option<&'static str> {
    entry(nr).map(|e| e.name)
}

/// The number of the amd64 syscall called `name`, for tests and tools
/// (a linear search: not meant for hot paths).
pub fn syscall_number(name: &str) -> Option<u64> {
    DEFS.iter()
        .find(|def| def.name == name)
        .map(|def| u64::from(def.nr))
}

/// How each argument of syscall `nr` is printed, in order; the length is the
/// syscall's argument count. Empty for an unknown number.
pub fn syscall_args(nr: u64) -> &'static [Arg] {
    entry(nr).map_or(&[], |e| e.args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_args_consistent() {
        for (i, a) in DEFS.iter().enumerate() {
            assert!(
                DEFS[i + 1..].iter().all(|b| b.name != a.name),
                "duplicate name {}",
                a.name
            );
            for (j, arg) in a.args.iter().enumerate() {
                if let StrLen(k) = arg {
                    assert!(usize::from(*k) < a.args.len(), "{}: bad StrLen", a.name);
                    assert_ne!(usize::from(*k), j, "{}: StrLen points at itself", a.name);
                }
                if *arg == Str {
                    assert!(j + 1 < a.args.len(), "{}: Str without length", a.name);
                }
            }
        }
    }

    #[test]
    fn numbering_matches_libc() {
        let known: &[(&str, libc::c_long)] = &[
            ("read", libc::SYS_read),
            ("rt_sigreturn", libc::SYS_rt_sigreturn),
            ("clone", libc::SYS_clone),
            ("execve", libc::SYS_execve),
            ("wait4", libc::SYS_wait4),
            ("getcwd", libc::SYS_getcwd),
            ("prctl", libc::SYS_prctl),
            ("arch_prctl", libc::SYS_arch_prctl),
            ("gettid", libc::SYS_gettid),
            ("futex", libc::SYS_futex),
            ("set_tid_address", libc::SYS_set_tid_address),
            ("exit_group", libc::SYS_exit_group),
            ("openat", libc::SYS_openat),
            ("pselect6", libc::SYS_pselect6),
            ("epoll_pwait", libc::SYS_epoll_pwait),
            ("accept4", libc::SYS_accept4),
            ("prlimit64", libc::SYS_prlimit64),
            ("getrandom", libc::SYS_getrandom),
            ("memfd_create", libc::SYS_memfd_create),
            ("statx", libc::SYS_statx),
            ("rseq", libc::SYS_rseq),
            ("pidfd_send_signal", libc::SYS_pidfd_send_signal),
            ("clone3", libc::SYS_clone3),
            ("close_range", libc::SYS_close_range),
            ("openat2", libc::SYS_openat2),
            ("faccessat2", libc::SYS_faccessat2),
            ("epoll_pwait2", libc::SYS_epoll_pwait2),
            ("landlock_restrict_self", libc::SYS_landlock_restrict_self),
            ("futex_waitv", libc::SYS_futex_waitv),
            ("set_mempolicy_home_node", libc::SYS_set_mempolicy_home_node),
            ("fchmodat2", libc::SYS_fchmodat2),
            ("mseal", libc::SYS_mseal),
        ];
        for &(name, nr) in known {
            assert_eq!(syscall_number(name), Some(nr as u64), "{name}");
        }
    }
}
