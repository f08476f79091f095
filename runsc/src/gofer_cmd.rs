//! `runsc gofer`: serves one host directory to the sandbox.
//!
//! Before serving, the gofer confines itself: a private mount namespace and
//! a chroot into the directory it serves, so that even its own path
//! resolution cannot reach outside (the protocol already refuses `..`,
//! separators and symlink traversal).

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use anyhow::{bail, Context};

use crate::cli::GoferArgs;

fn confine(root: &std::path::Path) -> anyhow::Result<()> {
    let root = CString::new(root.as_os_str().as_bytes())?;
    // SAFETY: plain syscalls with valid C strings.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            bail!("unshare: {}", std::io::Error::last_os_error());
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            bail!("make mounts private: {}", std::io::Error::last_os_error());
        }
        if libc::chroot(root.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
            bail!("chroot: {}", std::io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn run(args: GoferArgs) -> anyhow::Result<i32> {
    // SAFETY: the launcher passed us this fd and nobody else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(args.fd) };
    let proc_fd = gofer::open_proc_self_fd().context("opening /proc/self/fd")?;
    confine(&args.root).with_context(|| format!("confining to {}", args.root.display()))?;
    crate::seccomp::confine_gofer()?;
    let config = gofer::ServerConfig {
        root: "/".into(),
        readonly: args.readonly,
    };
    gofer::serve_with_proc_fd(&config, sock, Some(proc_fd))
        .with_context(|| format!("serving {}", args.root.display()))?;
    Ok(0)
}
