//! `runsc run --bundle DIR ID`: run an OCI bundle's process in the
//! foreground, with the spec's root and bind/tmpfs mounts.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use oci_spec::runtime::Spec;

use crate::cli::{Global, RunArgs};
use crate::sandbox::{launch, GoferMount};
use crate::spec::{system_mounts, FsSpec, MountSpec, SandboxSpec};

fn tmpfs_mode(options: &[String]) -> u32 {
    options
        .iter()
        .find_map(|o| o.strip_prefix("mode="))
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(0o1777)
}

pub fn run(g: &Global, args: RunArgs) -> anyhow::Result<i32> {
    let config = args.bundle.join("config.json");
    let spec = Spec::load(&config).with_context(|| format!("loading {}", config.display()))?;
    let root = spec.root().as_ref().context("config.json has no root")?;
    let root_path: PathBuf = if root.path().is_absolute() {
        root.path().clone()
    } else {
        args.bundle.join(root.path())
    };
    if !root_path.is_dir() {
        bail!("root {} is not a directory", root_path.display());
    }
    let readonly = root.readonly().unwrap_or(false);
    let process = spec
        .process()
        .as_ref()
        .context("config.json has no process")?;
    let argv = process.args().clone().unwrap_or_default();
    if argv.is_empty() {
        bail!("process.args is empty");
    }
    let mut gofers = vec![GoferMount {
        host_path: root_path,
        readonly: readonly || args.overlay,
    }];
    let mut mounts = system_mounts();
    for m in spec.mounts().clone().unwrap_or_default() {
        let opts = m.options().clone().unwrap_or_default();
        let kind = m.typ().clone().unwrap_or_default();
        let dest = m.destination().as_os_str().as_bytes().to_vec();
        let is_bind = kind == "bind" || opts.iter().any(|o| o == "bind" || o == "rbind");
        if is_bind {
            let src = m.source().clone().context("bind mount without source")?;
            let src = if src.is_absolute() {
                src
            } else {
                args.bundle.join(src)
            };
            let ro = opts.iter().any(|o| o == "ro");
            mounts.push(MountSpec {
                dest,
                fs: FsSpec::Gofer {
                    index: gofers.len(),
                    readonly: ro,
                    overlay: false,
                },
            });
            gofers.push(GoferMount {
                host_path: src,
                readonly: ro,
            });
        } else if kind == "tmpfs" {
            mounts.push(MountSpec {
                dest,
                fs: FsSpec::Tmpfs {
                    mode: tmpfs_mode(&opts),
                },
            });
        } else if system_mounts().iter().any(|m| m.dest == dest) {
            // The sandbox always has its own /dev, /proc and /sys.
        } else {
            log::debug!(
                "mount type {kind:?} at {:?} not supported yet; skipped",
                m.destination()
            );
        }
    }
    let user = process.user();
    let sandbox = SandboxSpec {
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        env: process
            .env()
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|e| e.as_bytes().to_vec())
            .collect(),
        cwd: Path::new(process.cwd()).as_os_str().as_bytes().to_vec(),
        hostname: spec.hostname().clone().unwrap_or_else(|| args.id.clone()),
        uid: user.uid(),
        gid: user.gid(),
        groups: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask().unwrap_or(0o022),
        root: FsSpec::Gofer {
            index: 0,
            readonly,
            overlay: args.overlay,
        },
        mounts,
        platform: g.platform,
        strace: g.strace,
    };
    launch(g, &sandbox, &gofers)
}
