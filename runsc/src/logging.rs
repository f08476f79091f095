//! Logging to stderr or to a file in the --debug-log directory.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

use log::{Level, LevelFilter, Metadata, Record};

use crate::cli::Global;

struct Logger {
    sink: Mutex<Box<dyn Write + Send>>,
    level: Level,
    strace: bool,
}

impl log::Log for Logger {
    fn enabled(&self, m: &Metadata) -> bool {
        if m.target() == "strace" {
            return self.strace;
        }
        m.level() <= self.level
    }

    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let mut sink = self.sink.lock().unwrap();
        let _ = if r.target() == "strace" {
            writeln!(sink, "{}", r.args())
        } else {
            writeln!(
                sink,
                "runsc[{}] {}: {}",
                std::process::id(),
                r.level(),
                r.args()
            )
        };
    }

    fn flush(&self) {
        let _ = self.sink.lock().unwrap().flush();
    }
}

/// Installs the logger: `--debug-log DIR` writes
/// `DIR/runsc.<time>.<command>.<pid>.log`, one file per process.
pub fn init(g: &Global, command: &str) -> anyhow::Result<()> {
    let sink: Box<dyn Write + Send> = match &g.debug_log {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let name = format!(
                "runsc.{}.{:06}.{command}.{}.log",
                now.as_secs(),
                now.subsec_micros(),
                std::process::id()
            );
            Box::new(File::create(dir.join(name))?)
        }
        None => Box::new(std::io::stderr()),
    };
    let level = if g.debug || g.debug_log.is_some() {
        Level::Debug
    } else {
        Level::Warn
    };
    let logger = Logger {
        sink: Mutex::new(sink),
        level,
        strace: g.strace,
    };
    log::set_boxed_logger(Box::new(logger))?;
    log::set_max_level(LevelFilter::Debug);
    Ok(())
}
