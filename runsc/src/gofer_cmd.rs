//! `runsc gofer`: serves one host directory to the sandbox.

use std::os::fd::{FromRawFd, OwnedFd};

use anyhow::Context;

use crate::cli::GoferArgs;

pub fn run(args: GoferArgs) -> anyhow::Result<i32> {
    // SAFETY: the launcher passed us this fd and nobody else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(args.fd) };
    let config = gofer::ServerConfig {
        root: args.root.clone(),
        readonly: args.readonly,
    };
    gofer::serve(&config, sock).with_context(|| format!("serving {}", args.root.display()))?;
    Ok(0)
}
