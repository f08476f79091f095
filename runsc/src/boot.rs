//! `runsc boot`: the sandbox process. It isolates itself (fresh mount, UTS,
//! IPC and network namespaces, an empty root), then runs the sentry.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;

use anyhow::{bail, Context};
use platform::Platform;
use sentry::errno::Errno;
use sentry::fs::host::HostFile;
use sentry::mm::MemoryFile;
use sentry::vfs::{FdTable, File};
use sentry::{BootError, BootSpec, Creds, FsSource, InitProcess, KernelConfig, StartError};

use crate::cli::{BootArgs, Global, PlatformKind};
use crate::spec::{FsSpec, SandboxSpec, FIRST_GOFER_FD};

/// Size of the memory file's address range (sparse).
const MEMORY_FILE_SIZE: u64 = 1 << 40;

extern "C" fn die(sig: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(128 + sig) };
}

fn check(r: libc::c_int, what: &str) -> anyhow::Result<()> {
    if r != 0 {
        bail!("{what}: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// Leaves the host's namespaces and filesystem: afterwards the sandbox
/// process can reach no host path.
fn isolate() -> anyhow::Result<()> {
    let c = |s: &str| CString::new(s).unwrap();
    // SAFETY: plain syscalls with valid C strings.
    unsafe {
        check(
            libc::unshare(
                libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWNET,
            ),
            "unshare",
        )?;
        check(
            libc::mount(
                std::ptr::null(),
                c("/").as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ),
            "make mounts private",
        )?;
        let newroot = c("/tmp");
        check(
            libc::mount(
                c("runsc-root").as_ptr(),
                newroot.as_ptr(),
                c("tmpfs").as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                c("size=1m,mode=0555").as_ptr().cast(),
            ),
            "mount empty root",
        )?;
        check(libc::chdir(newroot.as_ptr()), "chdir new root")?;
        // pivot_root(".", ".") stacks the old root on top; detach it.
        check(
            libc::syscall(libc::SYS_pivot_root, c(".").as_ptr(), c(".").as_ptr()) as i32,
            "pivot_root",
        )?;
        check(
            libc::umount2(c(".").as_ptr(), libc::MNT_DETACH),
            "detach old root",
        )?;
        check(libc::chdir(c("/").as_ptr()), "chdir /")?;
    }
    Ok(())
}

fn dup_stdio(fd: i32) -> anyhow::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new fd we own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100) };
    if n < 0 {
        bail!("dup stdio {fd}: {}", std::io::Error::last_os_error());
    }
    // SAFETY: n is a fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn fs_source(fs: &FsSpec) -> FsSource {
    match *fs {
        FsSpec::Gofer {
            index,
            readonly,
            overlay,
        } => {
            // SAFETY: the launcher placed connection `index` at this fd.
            let fd = unsafe { OwnedFd::from_raw_fd(FIRST_GOFER_FD + index as i32) };
            FsSource::Gofer {
                client: gofer::Client::new(fd),
                readonly,
                overlay,
            }
        }
        FsSpec::Tmpfs { mode } => FsSource::Tmpfs { mode },
        FsSpec::Dev => FsSource::Dev,
        FsSpec::Proc => FsSource::Proc,
        FsSpec::Sys => FsSource::Sys,
    }
}

fn strerror(e: Errno) -> String {
    sentry::strace::errno_message(e.0).to_string()
}

pub fn run(_g: &Global, args: BootArgs) -> anyhow::Result<i32> {
    // SAFETY: the launcher passed us this fd.
    let spec_file = unsafe { std::fs::File::from_raw_fd(args.spec_fd) };
    let spec: SandboxSpec = serde_json::from_reader(spec_file).context("reading sandbox spec")?;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: installing an async-signal-safe handler.
        unsafe { libc::signal(sig, die as *const () as libc::sighandler_t) };
    }
    let mut fds = FdTable::default();
    for fd in 0..3 {
        let host = dup_stdio(fd)?;
        let flags = if fd == 0 {
            libc::O_RDONLY
        } else {
            libc::O_WRONLY
        };
        let file = File::new(Box::new(HostFile::stdio(host)), None, flags);
        fds.set(fd, file, false);
    }
    sentry::fs::proc::capture_host_info();
    let mut kvm = match spec.platform {
        PlatformKind::Kvm => Some(platform_kvm::Device::open()?),
        PlatformKind::Ptrace => None,
    };
    isolate()?;

    let mf = Arc::new(MemoryFile::new(MEMORY_FILE_SIZE).context("memory file")?);
    let platform: Arc<dyn Platform> = match spec.platform {
        PlatformKind::Ptrace => Arc::new(platform_ptrace::PtracePlatform::new(mf.fd())?),
        PlatformKind::Kvm => Arc::new(platform_kvm::KvmPlatform::open(
            kvm.take().expect("opened above"),
            mf.fd(),
        )?),
    };
    let boot = BootSpec {
        kernel: KernelConfig {
            strace: spec.strace,
            hostname: spec.hostname.clone(),
        },
        root: fs_source(&spec.root),
        mounts: spec
            .mounts
            .iter()
            .map(|m| sentry::MountSpec {
                dest: m.dest.clone(),
                source: fs_source(&m.fs),
            })
            .collect(),
        init: InitProcess {
            argv: spec.argv.clone(),
            envp: spec.env.clone(),
            cwd: spec.cwd.clone(),
            fds,
            creds: Creds::new(spec.uid, spec.gid, spec.groups.clone()),
            umask: spec.umask,
        },
    };
    crate::seccomp::confine_sentry()?;
    match sentry::boot(platform, mf, boot) {
        Ok(status) => Ok(status.shell_code()),
        Err(BootError::Start(StartError::Exec(name, e))) => {
            eprintln!("runsc: {name}: {}", strerror(e));
            Ok(if e == Errno::ENOENT { 127 } else { 126 })
        }
        Err(BootError::Start(StartError::Cwd(dir, e))) => {
            eprintln!("runsc: working directory {dir}: {}", strerror(e));
            Ok(127)
        }
        Err(e) => Err(e.into()),
    }
}
