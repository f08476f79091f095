//! The command line: runc's global flags plus gVisor's, and subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Container runtime with a user-space kernel (sentry) between the
/// application and the host.
#[derive(Parser, Debug)]
#[command(name = "runsc", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Which platform runs application code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum PlatformKind {
    /// Stub processes traced with PTRACE_SYSEMU.
    Ptrace,
    /// Guest ring 3 of a KVM virtual machine (needs /dev/kvm).
    Kvm,
}

/// Flags accepted before or after the subcommand.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Platform that runs application code.
    #[arg(long, global = true, value_enum, default_value = "ptrace")]
    pub platform: PlatformKind,
    /// Log every application system call (to stderr, or the debug log).
    #[arg(long, global = true)]
    pub strace: bool,
    /// Directory for per-process debug logs.
    #[arg(long = "debug-log", global = true, value_name = "DIR")]
    pub debug_log: Option<PathBuf>,
    /// Verbose logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Root directory for container state.
    #[arg(long, global = true, default_value = "/run/runsc-rs")]
    pub root: PathBuf,
    /// Networking mode (only "none" and "sandbox" are accepted; the sandbox
    /// has no network yet).
    #[arg(long, global = true, default_value = "sandbox")]
    pub network: String,
    /// Log file (runc compatibility).
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format: text or json (runc compatibility).
    #[arg(long = "log-format", global = true, default_value = "text")]
    pub log_format: String,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a host command in a fresh sandbox: the host filesystem is seen
    /// read-only through a gofer, with writes kept in sandbox memory.
    Do(DoArgs),
    /// Run a container from an OCI bundle in the foreground.
    Run(RunArgs),
    /// (internal) The sandbox process: runs the sentry.
    #[command(hide = true)]
    Boot(BootArgs),
    /// (internal) The gofer process: serves a directory to the sentry.
    #[command(hide = true)]
    Gofer(GoferArgs),
}

#[derive(Args, Debug)]
pub struct DoArgs {
    /// Working directory in the sandbox (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Path to the OCI bundle (directory with config.json).
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// Keep writes to the root filesystem in sandbox memory.
    #[arg(long)]
    pub overlay: bool,
    /// Container id.
    pub id: String,
}

#[derive(Args, Debug)]
pub struct BootArgs {
    /// Fd from which the sandbox spec (JSON) is read.
    #[arg(long = "spec-fd")]
    pub spec_fd: i32,
}

#[derive(Args, Debug)]
pub struct GoferArgs {
    /// Directory to serve.
    #[arg(long)]
    pub root: PathBuf,
    /// Connected socket to serve on.
    #[arg(long)]
    pub fd: i32,
    /// Refuse writes.
    #[arg(long)]
    pub readonly: bool,
}
