//! `runsc do`: run a host command in a fresh sandbox over the host's root,
//! with writes kept in sandbox memory.

use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::cli::{DoArgs, Global};
use crate::sandbox::{launch, GoferMount};
use crate::spec::{system_mounts, FsSpec, SandboxSpec};

pub fn run(g: &Global, args: DoArgs) -> anyhow::Result<i32> {
    let cwd = match args.cwd {
        Some(c) => c,
        None => std::env::current_dir()?,
    };
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.into_vec();
            e.push(b'=');
            e.extend(v.into_vec());
            e
        })
        .collect();
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into());
    let spec = SandboxSpec {
        argv: args.command.iter().map(|a| a.as_bytes().to_vec()).collect(),
        env,
        cwd: cwd.as_os_str().as_bytes().to_vec(),
        hostname,
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        groups: Vec::new(),
        umask: current_umask(),
        root: FsSpec::Gofer {
            index: 0,
            readonly: true,
            overlay: true,
        },
        mounts: system_mounts(),
        platform: g.platform,
        strace: g.strace,
    };
    let mounts = [GoferMount {
        host_path: "/".into(),
        readonly: true,
    }];
    launch(g, &spec, &mounts)
}

fn current_umask() -> u32 {
    // SAFETY: umask has no preconditions; we restore the value at once.
    unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    }
}
