//! Launching a sandbox: one gofer process per host directory, and the
//! sandbox process (the sentry) in fresh namespaces, fed a [`SandboxSpec`].

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{bail, Context};

use crate::cli::{Global, PlatformKind};
use crate::spec::{SandboxSpec, FIRST_GOFER_FD};

/// A host directory served to the sandbox by its own gofer process.
pub struct GoferMount {
    /// Host path.
    pub host_path: PathBuf,
    /// Refuse writes.
    pub readonly: bool,
}

/// The sandbox process, for the signal forwarder.
static SANDBOX_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let pid = SANDBOX_PID.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Flags that the sandbox and gofer processes inherit from the command line.
fn forwarded_flags(g: &Global) -> Vec<String> {
    let mut v = vec![format!(
        "--platform={}",
        match g.platform {
            PlatformKind::Ptrace => "ptrace",
            PlatformKind::Kvm => "kvm",
        }
    )];
    if g.strace {
        v.push("--strace".into());
    }
    if g.debug {
        v.push("--debug".into());
    }
    if let Some(d) = &g.debug_log {
        v.push(format!("--debug-log={}", d.display()));
    }
    v
}

/// In a forked child: places each `src` fd at `dst` (without close-on-exec).
/// Sources are first moved out of the way so that no `dst` clobbers a later
/// `src`. Only async-signal-safe calls.
fn remap_fds(pairs: &[(i32, i32)]) -> std::io::Result<()> {
    let mut tmp = [0i32; 16];
    for (i, &(src, _)) in pairs.iter().enumerate() {
        // SAFETY: plain fcntl in the child.
        let t = unsafe { libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 256) };
        if t < 0 {
            return Err(std::io::Error::last_os_error());
        }
        tmp[i] = t;
    }
    for (i, &(_, dst)) in pairs.iter().enumerate() {
        // SAFETY: plain dup2 in the child; dup2 clears close-on-exec on dst.
        if unsafe { libc::dup2(tmp[i], dst) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn spawn_gofer(g: &Global, m: &GoferMount) -> anyhow::Result<(Child, OwnedFd)> {
    let (client, server) = gofer::socket_pair().context("gofer socket")?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(forwarded_flags(g))
        .arg("gofer")
        .arg("--root")
        .arg(&m.host_path)
        .arg("--fd")
        .arg("3");
    if m.readonly {
        cmd.arg("--readonly");
    }
    let raw = server.as_raw_fd();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            remap_fds(&[(raw, 3)])?;
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.stdin(std::process::Stdio::null());
    let child = cmd.spawn().context("starting the gofer")?;
    drop(server);
    Ok((child, client))
}

/// Starts gofers and the sandbox, waits for the sandbox and returns the exit
/// code of its first process (128 + N if killed by signal N).
pub fn launch(g: &Global, spec: &SandboxSpec, mounts: &[GoferMount]) -> anyhow::Result<i32> {
    if spec.platform == PlatformKind::Kvm {
        if let Err(e) = platform_kvm::KvmPlatform::check() {
            bail!("{e}");
        }
    }
    let mut gofers = Vec::new();
    let mut clients = Vec::new();
    for m in mounts {
        let (child, client) = spawn_gofer(g, m)?;
        gofers.push(child);
        clients.push(client);
    }
    let (spec_r, spec_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;

    // The sandbox is the first process of a new pid namespace.
    // SAFETY: plain unshare; only affects children created from now on.
    if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        bail!(
            "cannot create a pid namespace (are you root?): {}",
            std::io::Error::last_os_error()
        );
    }
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(forwarded_flags(g))
        .arg("boot")
        .arg("--spec-fd")
        .arg("3");
    if clients.len() > 15 {
        bail!("too many mounts from the host ({})", clients.len());
    }
    let mut remap = vec![(spec_r.as_raw_fd(), 3)];
    for (i, c) in clients.iter().enumerate() {
        remap.push((c.as_raw_fd(), FIRST_GOFER_FD + i as i32));
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            remap_fds(&remap)?;
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut sandbox = cmd.spawn().context("starting the sandbox")?;
    drop(spec_r);
    drop(clients);
    SANDBOX_PID.store(sandbox.id() as i32, Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: installing an async-signal-safe handler.
        unsafe { libc::signal(sig, forward_signal as *const () as libc::sighandler_t) };
    }
    {
        // SAFETY: spec_w is ours; File takes ownership.
        let mut w =
            unsafe { std::fs::File::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(spec_w)) };
        let _ = w.write_all(&serde_json::to_vec(spec)?);
    }
    let status = sandbox.wait().context("waiting for the sandbox")?;
    for mut gf in gofers {
        let _ = gf.kill();
        let _ = gf.wait();
    }
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 1,
    })
}
