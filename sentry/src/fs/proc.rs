//! A minimal procfs: `self`, per-process directories (exe, cwd, root, fd/,
//! cmdline, comm, stat, status, maps) and a few system files. The host's
//! /proc is never visible in the sandbox.

use std::any::Any;
use std::sync::{Arc, OnceLock, Weak};

use super::tmpfs::new_dev;
use crate::errno::Errno;
use crate::kernel::Kernel;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, Stat, Timespec};

/// The procfs instance; the kernel is attached once it exists.
pub struct ProcFs {
    kernel: OnceLock<Weak<Kernel>>,
    dev: u64,
    created: Timespec,
}

impl ProcFs {
    /// A new procfs; returns its root directory.
    pub fn new() -> Arc<ProcFs> {
        Arc::new(ProcFs {
            kernel: OnceLock::new(),
            dev: new_dev(),
            created: Timespec::now(),
        })
    }

    /// Connects the procfs to the kernel whose processes it shows.
    pub fn attach(&self, kernel: &Arc<Kernel>) {
        let _ = self.kernel.set(Arc::downgrade(kernel));
    }

    fn kernel(&self) -> Result<Arc<Kernel>, Errno> {
        self.kernel
            .get()
            .and_then(|k| k.upgrade())
            .ok_or(Errno::ENOENT)
    }

    fn stat(&self, ino: u64, mode: u32) -> Stat {
        Stat {
            dev: self.dev,
            ino,
            mode,
            nlink: if mode & libc::S_IFMT == libc::S_IFDIR {
                2
            } else {
                1
            },
            blksize: 4096,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            ..Stat::default()
        }
    }
}

/// The pid of the calling task's process.
fn current_pid() -> i32 {
    crate::kernel::wait::current().map_or(1, |t| t.group.pid)
}

/// Every node of the procfs.
#[derive(Clone)]
enum Node {
    Root,
    /// A directory under /proc/sys ("" is /proc/sys itself).
    SysDir(&'static str),
    Pid(i32),
    Fds(i32),
    /// /proc/[pid]/fdinfo.
    FdInfos(i32),
    /// A symlink whose target is computed on each readlink.
    Link(LinkKind),
    /// A file whose content is computed on each open.
    File(FileKind),
}

#[derive(Clone)]
enum LinkKind {
    SelfPid,
    ThreadSelf,
    Exe(i32),
    Cwd(i32),
    Root,
    Fd(i32, i32),
}

#[derive(Clone, Copy)]
enum FileKind {
    Cmdline(i32),
    Comm(i32),
    Stat(i32),
    Status(i32),
    Environ,
    CpuInfo,
    MemInfo,
    Uptime,
    Version,
    LoadAvg,
    Filesystems,
    Mounts,
    MountInfo,
    Cgroup,
    SysStat,
    /// A file under /proc/sys.
    Sysctl(&'static str),
    Maps(i32),
    /// /proc/[pid]/statm: memory sizes in pages.
    Statm(i32),
    /// /proc/[pid]/fdinfo/N: position, flags, mount and inode of an fd.
    FdInfo(i32, i32),
}

/// The host's /proc/cpuinfo, read before the sandbox left the host's
/// filesystem (see [`capture_host_info`]).
static HOST_CPUINFO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Reads what /proc serves from the host (the CPU description) while the
/// host's /proc is still reachable.
pub fn capture_host_info() {
    if let Ok(b) = std::fs::read("/proc/cpuinfo") {
        let _ = HOST_CPUINFO.set(b);
    }
}

/// /proc/meminfo from the host's figures (sysinfo): the sandbox has no
/// memory limit of its own yet.
fn meminfo() -> Vec<u8> {
    // SAFETY: sysinfo fills a plain struct.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    unsafe { libc::sysinfo(&mut si) };
    let kb = |v: u64| v * si.mem_unit.max(1) as u64 / 1024;
    let (total, free) = (kb(si.totalram), kb(si.freeram));
    let (buffers, shared) = (kb(si.bufferram), kb(si.sharedram));
    let rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", buffers),
        ("Cached", 0),
        ("SwapCached", 0),
        ("Active", total - free),
        ("Inactive", 0),
        ("SwapTotal", kb(si.totalswap)),
        ("SwapFree", kb(si.freeswap)),
        ("Dirty", 0),
        ("Writeback", 0),
        ("AnonPages", total - free),
        ("Mapped", 0),
        ("Shmem", shared),
        ("Slab", 0),
        ("SReclaimable", 0),
        ("SUnreclaim", 0),
        ("CommitLimit", total),
        ("Committed_AS", total - free),
        ("VmallocTotal", 34_359_738_367),
        ("HugePages_Total", 0),
        ("Hugepagesize", 2048),
    ];
    let mut out = String::new();
    for (name, v) in rows {
        let unit = if name.starts_with("HugePages_") {
            ""
        } else {
            " kB"
        };
        out.push_str(&format!("{:<16}{v:>8}{unit}\n", format!("{name}:")));
    }
    out.into_bytes()
}

const PID_ENTRIES: [&str; 14] = [
    "cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "maps", "mounts", "root", "stat",
    "statm", "status", "task",
];
const ROOT_FILES: [&str; 11] = [
    "cpuinfo",
    "filesystems",
    "loadavg",
    "meminfo",
    "mounts",
    "self",
    "stat",
    "sys",
    "thread-self",
    "uptime",
    "version",
];

/// The /proc/sys tree: (directory, entry, is a directory).
const SYSCTL: [(&str, &str, bool); 11] = [
    ("", "kernel", true),
    ("", "vm", true),
    ("kernel", "hostname", false),
    ("kernel", "osrelease", false),
    ("kernel", "ostype", false),
    ("kernel", "pid_max", false),
    ("kernel", "ngroups_max", false),
    ("kernel", "random", true),
    ("kernel/random", "boot_id", false),
    ("kernel/random", "uuid", false),
    ("vm", "overcommit_memory", false),
];

/// An inode of the procfs.
pub struct ProcInode {
    fs: Arc<ProcFs>,
    node: Node,
}

impl ProcInode {
    /// The root directory of `fs`.
    pub fn root(fs: Arc<ProcFs>) -> Arc<ProcInode> {
        Arc::new(ProcInode {
            fs,
            node: Node::Root,
        })
    }

    fn child(&self, node: Node) -> Arc<dyn Inode> {
        Arc::new(ProcInode {
            fs: self.fs.clone(),
            node,
        })
    }

    fn ino(&self) -> u64 {
        match &self.node {
            Node::Root => 1,
            Node::Pid(p) => (*p as u64) << 8,
            Node::Fds(p) => ((*p as u64) << 8) | 1,
            Node::FdInfos(p) => ((*p as u64) << 8) | 2,
            Node::SysDir(_) => 3,
            Node::Link(_) | Node::File(_) => 2,
        }
    }

    fn process_exists(&self, pid: i32) -> Result<(), Errno> {
        if self.fs.kernel()?.groups.lock().contains_key(&pid) {
            Ok(())
        } else {
            Err(Errno::ENOENT)
        }
    }

    fn info<T>(
        &self,
        pid: i32,
        f: impl FnOnce(&crate::kernel::thread_group::ProcessInfo) -> T,
    ) -> Result<T, Errno> {
        let group = self
            .fs
            .kernel()?
            .groups
            .lock()
            .get(&pid)
            .cloned()
            .ok_or(Errno::ENOENT)?;
        let info = group.info.lock();
        Ok(f(&info))
    }

    fn link_target(&self, kind: &LinkKind) -> Result<Vec<u8>, Errno> {
        Ok(match kind {
            LinkKind::SelfPid => current_pid().to_string().into_bytes(),
            LinkKind::ThreadSelf => {
                let tid = crate::kernel::wait::current().map_or(1, |t| t.tid);
                format!("{}/task/{tid}", current_pid()).into_bytes()
            }
            LinkKind::Exe(p) => self
                .info(*p, |i| i.exe.as_ref().map(|d| d.path()))?
                .ok_or(Errno::ENOENT)?,
            LinkKind::Cwd(p) => self
                .info(*p, |i| i.cwd.as_ref().map(|d| d.path()))?
                .ok_or(Errno::ENOENT)?,
            LinkKind::Root => b"/".to_vec(),
            LinkKind::Fd(p, fd) => {
                let fds = self.info(*p, |i| i.fds.clone())?.ok_or(Errno::ENOENT)?;
                let f = fds.get(*fd).map_err(|_| Errno::ENOENT)?;
                match &f.dentry {
                    Some(d) => d.path(),
                    None => {
                        let st = f.ops.stat()?;
                        match st.file_type() {
                            libc::S_IFIFO => format!("pipe:[{}]", st.ino).into_bytes(),
                            _ => format!("anon_inode:[{}]", st.ino).into_bytes(),
                        }
                    }
                }
            }
        })
    }

    fn content(&self, kind: FileKind) -> Result<Vec<u8>, Errno> {
        let host = |path: &str| std::fs::read(path).unwrap_or_default();
        Ok(match kind {
            FileKind::Cmdline(p) => self.info(p, |i| i.cmdline.clone())?,
            FileKind::Comm(p) => {
                let mut c = self.info(p, |i| i.comm.clone())?;
                c.push(b'\n');
                c
            }
            FileKind::Stat(p) => {
                let comm = self.info(p, |i| String::from_utf8_lossy(&i.comm).into_owned())?;
                let ppid = self.fs.kernel()?.procs.parent(p);
                let mut s = format!("{p} ({comm}) R {ppid} {p} {p} 0 -1 4194560");
                for _ in 0..44 {
                    s.push_str(" 0");
                }
                s.push('\n');
                s.into_bytes()
            }
            FileKind::Status(p) => {
                let comm = self.info(p, |i| String::from_utf8_lossy(&i.comm).into_owned())?;
                let k = self.fs.kernel()?;
                let ppid = k.procs.parent(p);
                let threads = k
                    .groups
                    .lock()
                    .get(&p)
                    .map_or(1, |g| g.threads.lock().len());
                format!(
                    "Name:\t{comm}\nState:\tR (running)\nTgid:\t{p}\nPid:\t{p}\nPPid:\t{ppid}\n\
                     Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t{threads}\n"
                )
                .into_bytes()
            }
            FileKind::Environ => Vec::new(),
            FileKind::MountInfo => b"1 0 0:1 / / rw - overlay none rw\n2 1 0:2 / /proc rw - proc proc rw\n3 1 0:3 / /dev rw - devtmpfs dev rw\n4 3 0:4 / /dev/shm rw - tmpfs shm rw\n5 1 0:5 / /sys ro - sysfs sys ro\n".to_vec(),
            FileKind::Cgroup => b"0::/\n".to_vec(),
            FileKind::SysStat => {
                let k = self.fs.kernel()?;
                let up = k.boot.elapsed().as_secs();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let ncpu = crate::kernel::ncpus();
                let mut out = String::from("cpu  0 0 0 0 0 0 0 0 0 0\n");
                for c in 0..ncpu {
                    out.push_str(&format!("cpu{c} 0 0 0 0 0 0 0 0 0 0\n"));
                }
                let procs = k.groups.lock().len();
                out.push_str(&format!(
                    "intr 0\nctxt 0\nbtime {}\nprocesses {procs}\nprocs_running 1\nprocs_blocked 0\n",
                    now.saturating_sub(up)
                ));
                out.into_bytes()
            }
            FileKind::Sysctl(path) => {
                let k = self.fs.kernel()?;
                let uuid = || {
                    let mut b = [0u8; 16];
                    crate::loader::getrandom(&mut b);
                    b[6] = (b[6] & 0x0f) | 0x40;
                    b[8] = (b[8] & 0x3f) | 0x80;
                    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
                    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
                };
                let v = match path {
                    "kernel/hostname" => k.config.hostname.clone(),
                    "kernel/osrelease" => crate::syscalls::RELEASE.to_string(),
                    "kernel/ostype" => "Linux".to_string(),
                    "kernel/pid_max" => "4194304".to_string(),
                    "kernel/ngroups_max" => "65536".to_string(),
                    "kernel/random/boot_id" => k.boot_id.clone(),
                    "kernel/random/uuid" => uuid(),
                    _ => "0".to_string(),
                };
                format!("{v}\n").into_bytes()
            }
            FileKind::FdInfo(p, fd) => {
                let fds = self.info(p, |i| i.fds.clone())?.ok_or(Errno::ENOENT)?;
                let f = fds.get(fd).map_err(|_| Errno::ENOENT)?;
                let cloexec = if fds.cloexec(fd).unwrap_or(false) {
                    libc::O_CLOEXEC
                } else {
                    0
                };
                let st = f.ops.stat()?;
                let pos = *f.offset.lock();
                format!(
                    "pos:\t{pos}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
                    f.flags() | cloexec,
                    st.dev,
                    st.ino
                )
                .into_bytes()
            }
            FileKind::Statm(p) => {
                let mm = self.info(p, |i| i.mm.clone())?.ok_or(Errno::ENOENT)?;
                let vmas = mm.vmas();
                let pages = |f: &dyn Fn(&crate::mm::Vma) -> bool| -> u64 {
                    vmas.iter().filter(|v| f(v)).map(|v| (v.end - v.start) / 4096).sum()
                };
                // Every mapped page counts as resident: nothing is swapped.
                let size = pages(&|_| true);
                let shared = pages(&|v| v.shared);
                let text = pages(&|v| v.perms.exec && !v.perms.write);
                let data = pages(&|v| v.perms.write && !v.shared);
                format!("{size} {size} {shared} {text} 0 {data} 0\n").into_bytes()
            }
            FileKind::Maps(p) => {
                let mm = self.info(p, |i| i.mm.clone())?.ok_or(Errno::ENOENT)?;
                let stack_top = mm.stack_top();
                let mut out = String::new();
                for v in mm.vmas() {
                    let perms = format!(
                        "{}{}{}{}",
                        if v.perms.read { 'r' } else { '-' },
                        if v.perms.write { 'w' } else { '-' },
                        if v.perms.exec { 'x' } else { '-' },
                        if v.shared { 's' } else { 'p' }
                    );
                    let offset = v.file.as_ref().map_or(0, |f| f.offset);
                    let name = match &v.name {
                        Some(n) => n.to_string(),
                        None if v.end == stack_top => "[stack]".to_string(),
                        None => String::new(),
                    };
                    let line =
                        format!("{:08x}-{:08x} {perms} {offset:08x} 00:00 0", v.start, v.end);
                    if name.is_empty() {
                        out.push_str(&line);
                    } else {
                        out.push_str(&format!("{line:<73}{name}"));
                    }
                    out.push('\n');
                }
                out.into_bytes()
            }
            FileKind::CpuInfo => HOST_CPUINFO
                .get()
                .cloned()
                .unwrap_or_else(|| host("/proc/cpuinfo")),
            FileKind::MemInfo => meminfo(),
            FileKind::Uptime => {
                let up = self.fs.kernel()?.boot.elapsed().as_secs_f64();
                format!("{up:.2} {up:.2}\n").into_bytes()
            }
            FileKind::Version => format!(
                "Linux version {} (runsc) {}\n",
                crate::syscalls::RELEASE,
                crate::syscalls::VERSION
            )
            .into_bytes(),
            FileKind::LoadAvg => b"0.00 0.00 0.00 1/1 1\n".to_vec(),
            FileKind::Filesystems => {
                b"nodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\n".to_vec()
            }
            FileKind::Mounts => {
                b"none / overlay rw 0 0\nproc /proc proc rw 0 0\ndev /dev devtmpfs rw 0 0\n"
                    .to_vec()
            }
        })
    }
}

impl Inode for ProcInode {
    fn stat(&self) -> Result<Stat, Errno> {
        let mode = match &self.node {
            Node::Root | Node::Pid(_) | Node::Fds(_) | Node::FdInfos(_) | Node::SysDir(_) => {
                libc::S_IFDIR | 0o555
            }
            Node::Link(_) => libc::S_IFLNK | 0o777,
            Node::File(_) => libc::S_IFREG | 0o444,
        };
        Ok(self.fs.stat(self.ino(), mode))
    }

    fn open(self: Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        match &self.node {
            Node::File(kind) => {
                if flags & libc::O_ACCMODE != libc::O_RDONLY {
                    return Err(Errno::EACCES);
                }
                let data = self.content(*kind)?;
                let stat = self.stat()?;
                Ok(Box::new(ProcFile { data, stat }))
            }
            Node::Link(_) => Err(Errno::ELOOP),
            _ => Ok(Box::new(DirFile(self))),
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let name = std::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let node = match &self.node {
            Node::Root => match name {
                "self" => Node::Link(LinkKind::SelfPid),
                "thread-self" => Node::Link(LinkKind::ThreadSelf),
                "cpuinfo" => Node::File(FileKind::CpuInfo),
                "meminfo" => Node::File(FileKind::MemInfo),
                "uptime" => Node::File(FileKind::Uptime),
                "version" => Node::File(FileKind::Version),
                "loadavg" => Node::File(FileKind::LoadAvg),
                "filesystems" => Node::File(FileKind::Filesystems),
                "mounts" => Node::File(FileKind::Mounts),
                "stat" => Node::File(FileKind::SysStat),
                "sys" => Node::SysDir(""),
                n => {
                    let pid: i32 = n.parse().map_err(|_| Errno::ENOENT)?;
                    self.process_exists(pid)?;
                    Node::Pid(pid)
                }
            },
            Node::Pid(p) => {
                let p = *p;
                match name {
                    "exe" => Node::Link(LinkKind::Exe(p)),
                    "cwd" => Node::Link(LinkKind::Cwd(p)),
                    "root" => Node::Link(LinkKind::Root),
                    "fd" => Node::Fds(p),
                    "fdinfo" => Node::FdInfos(p),
                    "cmdline" => Node::File(FileKind::Cmdline(p)),
                    "comm" => Node::File(FileKind::Comm(p)),
                    "stat" => Node::File(FileKind::Stat(p)),
                    "status" => Node::File(FileKind::Status(p)),
                    "environ" => Node::File(FileKind::Environ),
                    "mounts" => Node::File(FileKind::Mounts),
                    "mountinfo" => Node::File(FileKind::MountInfo),
                    "cgroup" => Node::File(FileKind::Cgroup),
                    "maps" => Node::File(FileKind::Maps(p)),
                    "statm" => Node::File(FileKind::Statm(p)),
                    "task" => Node::Root,
                    _ => return Err(Errno::ENOENT),
                }
            }
            Node::Fds(p) | Node::FdInfos(p) => {
                let fd: i32 = name.parse().map_err(|_| Errno::ENOENT)?;
                let fds = self.info(*p, |i| i.fds.clone())?.ok_or(Errno::ENOENT)?;
                fds.get(fd).map_err(|_| Errno::ENOENT)?;
                if matches!(self.node, Node::Fds(_)) {
                    Node::Link(LinkKind::Fd(*p, fd))
                } else {
                    Node::File(FileKind::FdInfo(*p, fd))
                }
            }
            Node::SysDir(dir) => {
                let &(d, e, is_dir) = SYSCTL
                    .iter()
                    .find(|(d, e, _)| d == dir && *e == name)
                    .ok_or(Errno::ENOENT)?;
                let path: &'static str = match (d, e) {
                    ("", e) => e,
                    ("kernel", "random") => "kernel/random",
                    ("kernel", e) => match e {
                        "hostname" => "kernel/hostname",
                        "osrelease" => "kernel/osrelease",
                        "ostype" => "kernel/ostype",
                        "pid_max" => "kernel/pid_max",
                        _ => "kernel/ngroups_max",
                    },
                    ("kernel/random", "boot_id") => "kernel/random/boot_id",
                    ("kernel/random", _) => "kernel/random/uuid",
                    _ => "vm/overcommit_memory",
                };
                if is_dir {
                    Node::SysDir(path)
                } else {
                    Node::File(FileKind::Sysctl(path))
                }
            }
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(self.child(node))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let entry = |name: String, kind: u8| DirEntry {
            name: name.into_bytes(),
            ino: 2,
            kind,
        };
        Ok(match &self.node {
            Node::Root => {
                let mut v: Vec<DirEntry> = ROOT_FILES
                    .iter()
                    .map(|n| entry(n.to_string(), libc::DT_REG))
                    .collect();
                let mut pids: Vec<i32> = self.fs.kernel()?.groups.lock().keys().copied().collect();
                pids.sort();
                v.extend(pids.into_iter().map(|p| entry(p.to_string(), libc::DT_DIR)));
                v
            }
            Node::SysDir(dir) => SYSCTL
                .iter()
                .filter(|(d, _, _)| d == dir)
                .map(|(_, e, is_dir)| {
                    entry(
                        e.to_string(),
                        if *is_dir { libc::DT_DIR } else { libc::DT_REG },
                    )
                })
                .collect(),
            Node::Pid(_) => PID_ENTRIES
                .iter()
                .map(|n| entry(n.to_string(), libc::DT_REG))
                .collect(),
            Node::Fds(p) | Node::FdInfos(p) => {
                let kind = if matches!(self.node, Node::Fds(_)) {
                    libc::DT_LNK
                } else {
                    libc::DT_REG
                };
                let fds = self.info(*p, |i| i.fds.clone())?.ok_or(Errno::ENOENT)?;
                fds.list()
                    .into_iter()
                    .map(|(fd, _)| entry(fd.to_string(), kind))
                    .collect()
            }
            _ => return Err(Errno::ENOTDIR),
        })
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.node {
            Node::Link(k) => self.link_target(k),
            _ => Err(Errno::EINVAL),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A generated file, fixed when opened.
struct ProcFile {
    data: Vec<u8>,
    stat: Stat,
}

impl FileOps for ProcFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let off = off as usize;
        if off >= self.data.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.data.len() - off);
        buf[..n].copy_from_slice(&self.data[off..off + n]);
        Ok(n)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
}
