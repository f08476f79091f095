//! Runner for the C syscall test programs in `syscall-tests/c/`.
//!
//! ```text
//! syscall-tests [--runsc PATH] [--platform ptrace,kvm] [--build-dir DIR]
//!               [--native-only] [--timeout SECS] [--runsc-flag FLAG]... [FILTER]
//! ```
//!
//! The runner compiles every `c/<name>.c` (except the harness) with
//! `gcc -static -O1 -Wall -Werror`, then runs each program
//!
//! 1. natively, inside fresh mount/UTS/IPC/PID/network namespaces with a
//!    private tmpfs on `/tmp`, so that cases cannot change the machine;
//! 2. under `RUNSC --platform=P do PROG` for every requested platform.
//!
//! It parses the `PASS`/`FAIL` lines the harness prints and reports per
//! case. A case that fails natively is a *broken* test. A case missing from
//! the output (the program crashed or hung) is a failure that carries the
//! exit status and the last lines of stderr. A platform that `runsc` reports
//! as unavailable is skipped, never counted as passed.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Directory of this crate, fixed at compile time.
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Default time limit for one run of one program.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many trailing stderr lines are quoted when a case is missing.
const STDERR_TAIL: usize = 5;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the `runsc` binary.
    pub runsc: PathBuf,
    /// Platforms to run the sandboxed programs on.
    pub platforms: Vec<String>,
    /// Where the compiled programs go.
    pub build_dir: PathBuf,
    /// Only run natively (no `runsc`).
    pub native_only: bool,
    /// Time limit of one program run.
    pub timeout: Duration,
    /// Extra global flags passed to `runsc` before `do`.
    pub runsc_flags: Vec<String>,
    /// Substring that `<program>.<case>` must contain to be run.
    pub filter: Option<String>,
}

const USAGE: &str =
    "usage: syscall-tests [--runsc PATH] [--platform ptrace,kvm] [--build-dir DIR] \
[--native-only] [--timeout SECS] [--runsc-flag FLAG]... [FILTER]";

impl Options {
    /// Parses the command line (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options> {
        let root = workspace_root();
        let mut opts = Options {
            runsc: root.join("target/release/runsc"),
            platforms: vec!["ptrace".into(), "kvm".into()],
            build_dir: Path::new(MANIFEST_DIR).join("build"),
            native_only: false,
            timeout: DEFAULT_TIMEOUT,
            runsc_flags: Vec::new(),
            filter: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // Accept both "--flag value" and "--flag=value".
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| -> Result<String> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => args
                        .next()
                        .with_context(|| format!("{name} needs a value\n{USAGE}")),
                }
            };
            match flag.as_str() {
                "--runsc" => opts.runsc = PathBuf::from(value("--runsc")?),
                "--platform" => {
                    opts.platforms = value("--platform")?
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect();
                }
                "--build-dir" => opts.build_dir = PathBuf::from(value("--build-dir")?),
                "--native-only" => opts.native_only = true,
                "--timeout" => {
                    let v = value("--timeout")?;
                    let secs: u64 = v.parse().with_context(|| format!("bad --timeout {v:?}"))?;
                    opts.timeout = Duration::from_secs(secs);
                }
                "--runsc-flag" => opts.runsc_flags.push(value("--runsc-flag")?),
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                f if f.starts_with('-') => bail!("unknown option {f}\n{USAGE}"),
                _ => {
                    if opts.filter.is_some() {
                        bail!("only one FILTER may be given\n{USAGE}");
                    }
                    opts.filter = Some(arg);
                }
            }
        }
        if !opts.native_only && opts.platforms.is_empty() {
            bail!("--platform lists no platform");
        }
        Ok(opts)
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let dir = Path::new(MANIFEST_DIR);
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// What one line of harness output says about a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseLine {
    /// `PASS <program>.<case>`
    Pass,
    /// `FAIL <program>.<case>: <message>`
    Fail(String),
}

/// Harness output of one program run, parsed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Case name (without the program prefix) to its result, in the order
    /// the results were printed.
    pub cases: Vec<(String, CaseLine)>,
    /// The final `N passed, N failed` line, if it was printed.
    pub summary: Option<(u32, u32)>,
}

impl Parsed {
    /// The result printed for `case`, if any.
    pub fn get(&self, case: &str) -> Option<&CaseLine> {
        self.cases.iter().find(|(c, _)| c == case).map(|(_, r)| r)
    }
}

/// Parses the standard output of test program `program`. Lines that are not
/// harness lines for that program are ignored.
pub fn parse_output(program: &str, stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let prefix = format!("{program}.");
    for line in stdout.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("PASS ") {
            if let Some(case) = rest.trim().strip_prefix(&prefix) {
                parsed.cases.push((case.to_string(), CaseLine::Pass));
            }
        } else if let Some(rest) = line.strip_prefix("FAIL ") {
            let (name, msg) = match rest.split_once(": ") {
                Some((n, m)) => (n, m.to_string()),
                None => (rest.trim_end_matches(':'), String::new()),
            };
            if let Some(case) = name.trim().strip_prefix(&prefix) {
                parsed.cases.push((case.to_string(), CaseLine::Fail(msg)));
            }
        } else if let Some(summary) = parse_summary(line) {
            parsed.summary = Some(summary);
        }
    }
    parsed
}

/// Parses "N passed, N failed".
fn parse_summary(line: &str) -> Option<(u32, u32)> {
    let (p, f) = line.trim().split_once(", ")?;
    let passed = p.strip_suffix(" passed")?.parse().ok()?;
    let failed = f.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

/// The result of running one program once.
#[derive(Debug)]
struct RunOutput {
    status: Option<ExitStatus>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

impl RunOutput {
    /// "exit status 1", "killed by signal 11", "timed out after 60s", ...
    fn describe(&self, timeout: Duration) -> String {
        use std::os::unix::process::ExitStatusExt;
        if self.timed_out {
            return format!("timed out after {}s and was killed", timeout.as_secs());
        }
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => format!("{s}"),
            },
            None => "no exit status".into(),
        }
    }

    /// The last `n` non-empty lines of stderr, joined with " | ".
    fn stderr_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines[lines.len().saturating_sub(n)..].join(" | ")
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn geteuid() -> u32;
}

const SIGKILL: i32 = 9;

/// Spawns `cmd` in its own process group, collects its output and kills the
/// whole group if it runs longer than `timeout`.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<RunOutput> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().with_context(|| format!("spawning {cmd:?}"))?;
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    let mut readers = 0;
    if let Some(mut out) = child.stdout.take() {
        let tx = tx.clone();
        readers += 1;
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            let _ = tx.send((true, buf));
        });
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        readers += 1;
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            let _ = tx.send((false, buf));
        });
    }
    drop(tx);

    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            // SAFETY: plain kill(2) of the process group we created.
            unsafe {
                kill(-pid, SIGKILL);
            }
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Kill leftovers of the group (e.g. a sandbox that outlived runsc) so
    // the pipes close.
    // SAFETY: as above.
    unsafe {
        kill(-pid, SIGKILL);
    }

    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    for _ in 0..readers {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((true, b)) => stdout = b,
            Ok((false, b)) => stderr = b,
            Err(_) => break,
        }
    }
    Ok(RunOutput {
        status,
        timed_out,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Lists the test programs: every `c/*.c` but the harness, sorted.
fn find_programs(src_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(src_dir).with_context(|| format!("reading {src_dir:?}"))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("c") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem != "harness" {
            names.push(stem.to_string());
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("no test programs in {src_dir:?}");
    }
    Ok(names)
}

/// Compiles every program with gcc, in parallel, into `out`.
fn build_programs(src_dir: &Path, out: &Path, programs: &[String]) -> Result<()> {
    match Command::new("gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => bail!("`gcc --version` failed ({s}); a working gcc is needed to build the tests"),
        Err(e) => bail!(
            "gcc not found ({e}); install gcc (with static glibc, libc6-dev) to build the tests"
        ),
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {out:?}"))?;
    let harness = src_dir.join("harness.c");
    let results: Vec<(String, Result<std::process::Output>)> = std::thread::scope(|s| {
        let handles: Vec<_> = programs
            .iter()
            .map(|name| {
                let harness = &harness;
                s.spawn(move || {
                    let res = Command::new("gcc")
                        .args(["-static", "-O1", "-Wall", "-Werror", "-o"])
                        .arg(out.join(name))
                        .arg(src_dir.join(format!("{name}.c")))
                        .arg(harness)
                        .output()
                        .context("running gcc");
                    (name.clone(), res)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("build thread panicked"))
            .collect()
    });
    let mut failed = Vec::new();
    for (name, res) in results {
        let output = res?;
        if !output.status.success() {
            eprintln!(
                "gcc failed for {name}.c ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        bail!("building {} failed", failed.join(", "));
    }
    Ok(())
}

/// Asks a built program for its case names (`PROG --list`).
fn list_cases(prog: &Path) -> Result<Vec<String>> {
    let out = Command::new(prog)
        .arg("--list")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {prog:?} --list"))?;
    if !out.status.success() {
        bail!("{prog:?} --list failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Builds the command that runs `prog` natively in fresh namespaces with a
/// private tmpfs on /tmp.
fn native_command(prog: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new("unshare");
    // SAFETY: geteuid(2) cannot fail and has no side effects.
    if unsafe { geteuid() } != 0 {
        cmd.args(["--user", "--map-root-user"]);
    }
    cmd.args([
        "--mount",
        "--uts",
        "--ipc",
        "--pid",
        "--net",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "sh",
        "-c",
    ]);
    if prog.starts_with("/tmp") {
        // The fresh tmpfs hides the program: copy it in through a fd
        // opened before the mount.
        cmd.arg(
            "exec 3<\"$0\" && mount -t tmpfs tmpfs /tmp && mkdir /tmp/.sct-bin && \
             p=\"/tmp/.sct-bin/${0##*/}\" && cat <&3 >\"$p\" && exec 3<&- && \
             chmod 755 \"$p\" && exec \"$p\" \"$@\"",
        );
    } else {
        cmd.arg("mount -t tmpfs tmpfs /tmp && exec \"$0\" \"$@\"");
    }
    cmd.arg(prog).args(args);
    cmd
}

/// Builds the command that runs `prog` under runsc on `platform`.
fn runsc_command(opts: &Options, platform: &str, prog: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(&opts.runsc);
    cmd.arg(format!("--platform={platform}"))
        .args(&opts.runsc_flags)
        .arg("do")
        .arg(prog)
        .args(args);
    cmd
}

/// If a runsc run says its platform cannot be used here, the reason.
///
/// Only a run that printed no case result and failed counts, and only when
/// a stderr line names the platform (or "platform") together with wording
/// such as "unavailable" or "not implemented".
fn platform_unavailable(platform: &str, run: &RunOutput, parsed: &Parsed) -> Option<String> {
    if !parsed.cases.is_empty() || run.timed_out || run.status.is_some_and(|s| s.success()) {
        return None;
    }
    const SUBJECT: [&str; 3] = ["platform", "/dev/kvm", "kvm"];
    const WORDING: [&str; 11] = [
        "unavailable",
        "not available",
        "not implemented",
        "unimplemented",
        "not supported",
        "unsupported",
        "unknown",
        "no such",
        "cannot",
        "can't",
        "failed to open",
    ];
    let platform = platform.to_ascii_lowercase();
    run.stderr.lines().find_map(|line| {
        let l = line.to_ascii_lowercase();
        let subject = l.contains(&platform) || SUBJECT.iter().any(|s| l.contains(s));
        let wording = WORDING.iter().any(|w| l.contains(w));
        (subject && wording).then(|| {
            let reason = format!("{} ({})", line.trim(), run.describe(Duration::ZERO));
            reason.chars().take(300).collect()
        })
    })
}

/// The outcome of one case in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// Turns one run into per-case outcomes for `cases`.
fn outcomes(program: &str, cases: &[String], run: &RunOutput, timeout: Duration) -> Vec<Outcome> {
    let parsed = parse_output(program, &run.stdout);
    cases
        .iter()
        .map(|case| match parsed.get(case) {
            Some(CaseLine::Pass) => Outcome::Pass,
            Some(CaseLine::Fail(msg)) => Outcome::Fail(msg.clone()),
            None => {
                let tail = run.stderr_tail(STDERR_TAIL);
                Outcome::Fail(format!(
                    "no result (program {}){}",
                    run.describe(timeout),
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!("; stderr: {tail}")
                    }
                ))
            }
        })
        .collect()
}

/// Everything known about one case.
struct CaseReport {
    name: String,
    native: Outcome,
    /// One outcome per platform, in `Options::platforms` order.
    sandbox: Vec<Outcome>,
}

/// Totals printed on the last line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    broken: usize,
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "syscall-tests: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Counts (case, platform) pairs. With no platforms (--native-only) the
/// native run is the only column counted.
fn totals(reports: &[CaseReport], native_only: bool) -> Totals {
    let mut t = Totals::default();
    for r in reports {
        let broken = r.native != Outcome::Pass;
        if broken {
            t.broken += 1;
        }
        if native_only {
            match &r.native {
                Outcome::Pass => t.passed += 1,
                Outcome::Fail(_) => t.failed += 1,
                Outcome::Skip(_) => t.skipped += 1,
            }
            continue;
        }
        for o in &r.sandbox {
            match o {
                Outcome::Skip(_) => t.skipped += 1,
                _ if broken => t.failed += 1,
                Outcome::Pass => t.passed += 1,
                Outcome::Fail(_) => t.failed += 1,
            }
        }
    }
    t
}

fn cell(o: &Outcome, native: bool) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail(_) if native => "BROKEN",
        Outcome::Fail(_) => "FAIL",
        Outcome::Skip(_) => "SKIP",
    }
}

fn print_report(opts: &Options, reports: &[CaseReport], skipped: &BTreeMap<String, String>) {
    let platforms: &[String] = if opts.native_only {
        &[]
    } else {
        &opts.platforms
    };
    for (p, reason) in skipped {
        println!("SKIP platform {p}: {reason}");
    }
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut header = format!("{:<width$}  {:<7}", "case", "native");
    for p in platforms {
        header.push_str(&format!("  {p:<7}"));
    }
    println!("{}", header.trim_end());
    for r in reports {
        let mut line = format!("{:<width$}  {:<7}", r.name, cell(&r.native, true));
        for o in &r.sandbox {
            line.push_str(&format!("  {:<7}", cell(o, false)));
        }
        println!("{}", line.trim_end());
    }
    let mut details = Vec::new();
    for r in reports {
        if let Outcome::Fail(msg) = &r.native {
            details.push(format!("BROKEN {} (native): {msg}", r.name));
        }
        for (p, o) in platforms.iter().zip(&r.sandbox) {
            if let Outcome::Fail(msg) = o {
                details.push(format!("FAIL {} [{p}]: {msg}", r.name));
            }
        }
    }
    if !details.is_empty() {
        println!();
        for d in details {
            println!("{d}");
        }
    }
}

fn run(opts: &Options) -> Result<bool> {
    let src_dir = Path::new(MANIFEST_DIR).join("c");
    let programs = find_programs(&src_dir)?;
    if !opts.native_only && !opts.runsc.is_file() {
        bail!(
            "runsc not found at {} (build it with `cargo build --release -p runsc`, \
             pass --runsc PATH, or use --native-only)",
            opts.runsc.display()
        );
    }
    build_programs(&src_dir, &opts.build_dir, &programs)?;
    let build_dir = std::fs::canonicalize(&opts.build_dir)
        .with_context(|| format!("resolving {:?}", opts.build_dir))?;

    let platforms: Vec<String> = if opts.native_only {
        Vec::new()
    } else {
        opts.platforms.clone()
    };
    let mut reports = Vec::new();
    let mut skipped: BTreeMap<String, String> = BTreeMap::new();
    for program in &programs {
        let prog = build_dir.join(program);
        let all = list_cases(&prog)?;
        let cases: Vec<String> = match &opts.filter {
            Some(f) => all
                .into_iter()
                .filter(|c| format!("{program}.{c}").contains(f.as_str()))
                .collect(),
            None => all,
        };
        if cases.is_empty() {
            continue;
        }
        // Name the cases only when filtering, so a plain run is exactly
        // `PROG`.
        let args: Vec<String> = if opts.filter.is_some() {
            cases.clone()
        } else {
            Vec::new()
        };
        eprintln!("running {program} ({} cases) natively", cases.len());
        let native_run = run_with_timeout(native_command(&prog, &args), opts.timeout)?;
        let native = outcomes(program, &cases, &native_run, opts.timeout);

        let mut sandbox: Vec<Vec<Outcome>> = Vec::new();
        for platform in &platforms {
            if let Some(reason) = skipped.get(platform) {
                sandbox.push(vec![Outcome::Skip(reason.clone()); cases.len()]);
                continue;
            }
            eprintln!("running {program} on {platform}");
            let r = run_with_timeout(runsc_command(opts, platform, &prog, &args), opts.timeout)?;
            let parsed = parse_output(program, &r.stdout);
            if let Some(reason) = platform_unavailable(platform, &r, &parsed) {
                eprintln!("SKIP platform {platform}: {reason}");
                skipped.insert(platform.clone(), reason.clone());
                sandbox.push(vec![Outcome::Skip(reason); cases.len()]);
                continue;
            }
            sandbox.push(outcomes(program, &cases, &r, opts.timeout));
        }

        for (i, case) in cases.iter().enumerate() {
            reports.push(CaseReport {
                name: format!("{program}.{case}"),
                native: native[i].clone(),
                sandbox: sandbox.iter().map(|v| v[i].clone()).collect(),
            });
        }
    }
    if reports.is_empty() {
        bail!("no case matches the filter {:?}", opts.filter);
    }

    print_report(opts, &reports, &skipped);
    let t = totals(&reports, opts.native_only);
    println!();
    if t.broken > 0 {
        println!("{} broken case(s): they fail natively", t.broken);
    }
    println!("{t}");
    Ok(t.failed == 0 && t.broken == 0)
}

fn main() {
    let result = Options::parse(std::env::args().skip(1)).and_then(|opts| run(&opts));
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("syscall-tests: error: {e:#}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pass_fail_and_summary() {
        let out = "PASS file.open_ok\n\
                   some noise\n\
                   FAIL file.read_efault: file.c:12: r == -1, got 0 want -1\n\
                   PASS other.not_mine\n\
                   FAIL file.no_msg\n\
                   2 passed, 2 failed\n";
        let p = parse_output("file", out);
        assert_eq!(
            p.cases,
            vec![
                ("open_ok".to_string(), CaseLine::Pass),
                (
                    "read_efault".to_string(),
                    CaseLine::Fail("file.c:12: r == -1, got 0 want -1".into())
                ),
                ("no_msg".to_string(), CaseLine::Fail(String::new())),
            ]
        );
        assert_eq!(p.summary, Some((2, 2)));
        assert_eq!(p.get("open_ok"), Some(&CaseLine::Pass));
        assert_eq!(p.get("missing"), None);
    }

    #[test]
    fn crash_leaves_missing_cases_failed() {
        use std::os::unix::process::ExitStatusExt;
        let run = RunOutput {
            status: Some(ExitStatus::from_raw(11)),
            timed_out: false,
            stdout: "PASS mm.a\n".into(),
            stderr: "x\ny\n".into(),
        };
        let cases = vec!["a".to_string(), "b".to_string()];
        let o = outcomes("mm", &cases, &run, DEFAULT_TIMEOUT);
        assert_eq!(o[0], Outcome::Pass);
        match &o[1] {
            Outcome::Fail(m) => {
                assert!(m.contains("killed by signal 11"), "{m}");
                assert!(m.contains("x | y"), "{m}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn detects_unavailable_platform() {
        use std::os::unix::process::ExitStatusExt;
        let run = RunOutput {
            status: Some(ExitStatus::from_raw(1 << 8)),
            timed_out: false,
            stdout: String::new(),
            stderr: "runsc: platform kvm: /dev/kvm not available\n".into(),
        };
        let parsed = parse_output("mm", &run.stdout);
        assert!(platform_unavailable("kvm", &run, &parsed).is_some());
        let crash = RunOutput {
            stderr: "sentry: syscall 999 not implemented\n".into(),
            ..run
        };
        assert!(platform_unavailable("ptrace", &crash, &parsed).is_none());
    }

    #[test]
    fn totals_count_pairs() {
        let reports = vec![
            CaseReport {
                name: "a.x".into(),
                native: Outcome::Pass,
                sandbox: vec![Outcome::Pass, Outcome::Skip("no kvm".into())],
            },
            CaseReport {
                name: "a.y".into(),
                native: Outcome::Fail("m".into()),
                sandbox: vec![Outcome::Pass, Outcome::Skip("no kvm".into())],
            },
            CaseReport {
                name: "a.z".into(),
                native: Outcome::Pass,
                sandbox: vec![Outcome::Fail("m".into()), Outcome::Skip("no kvm".into())],
            },
        ];
        let t = totals(&reports, false);
        assert_eq!(
            t,
            Totals {
                passed: 1,
                failed: 2,
                skipped: 3,
                broken: 1
            }
        );
        assert_eq!(
            t.to_string(),
            "syscall-tests: 1 passed, 2 failed, 3 skipped"
        );
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(
            [
                "--platform=ptrace",
                "--native-only",
                "--build-dir",
                "/x",
                "mm.",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(o.platforms, vec!["ptrace"]);
        assert!(o.native_only);
        assert_eq!(o.build_dir, PathBuf::from("/x"));
        assert_eq!(o.filter.as_deref(), Some("mm."));
        assert!(o.runsc.ends_with("target/release/runsc"));
    }
}
