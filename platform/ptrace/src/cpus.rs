//! Where tracers run. Each tracer thread keeps to one CPU and its stub
//! follows it: a wakeup across CPUs costs ~50 us under nested
//! virtualization against ~6 us on the same CPU, and the host scheduler,
//! left alone, often wakes a tracer on the other CPU than its stub.
//!
//! Pinning alone would leave CPU-bound tasks that started on one CPU
//! sharing it while another idles, so every switch into application code
//! counts as activity on the tracer's CPU; a tracer that finds its CPU
//! busy with another running task, for longer than a hand-over between a
//! parent and its child takes, moves to an idle one.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// A CPU busy for less than this is not worth leaving (a parent that
/// resumes for a moment while its vfork child starts).
const BUSY_NS: u64 = 50_000;

/// The CPUs of the sandbox and how many tasks run application code on each.
pub struct Cpus {
    active: Vec<AtomicUsize>,
    /// When each CPU last went from idle to busy (ns since `epoch`).
    busy_since: Vec<AtomicU64>,
    epoch: Instant,
    next: AtomicUsize,
}

impl Cpus {
    /// Measures the CPUs (before any thread is pinned: a pinned thread
    /// sees only its own CPU).
    pub fn new() -> Cpus {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        Cpus::with(n)
    }

    fn with(n: usize) -> Cpus {
        Cpus {
            active: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            busy_since: (0..n).map(|_| AtomicU64::new(0)).collect(),
            epoch: Instant::now(),
            next: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// A CPU for a new tracer: `home` when given, else the next in turn.
    pub fn place(&self, home: Option<usize>) -> usize {
        match home {
            Some(cpu) if cpu < self.active.len() => cpu,
            _ => self.next.fetch_add(1, Ordering::Relaxed) % self.active.len(),
        }
    }

    /// Marks a task as running application code on `cpu`; returns the CPU
    /// it should run on instead when `cpu` has been busy with another task
    /// for a while and another is idle (the task is then counted there).
    pub fn enter(&self, cpu: usize) -> usize {
        let now = self.now();
        if self.active[cpu].fetch_add(1, Ordering::SeqCst) == 0 {
            self.busy_since[cpu].store(now, Ordering::Relaxed);
            return cpu;
        }
        if now.saturating_sub(self.busy_since[cpu].load(Ordering::Relaxed)) < BUSY_NS {
            return cpu;
        }
        for (other, n) in self.active.iter().enumerate() {
            if other != cpu
                && n.compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
                self.busy_since[other].store(now, Ordering::Relaxed);
                self.active[cpu].fetch_sub(1, Ordering::SeqCst);
                return other;
            }
        }
        cpu
    }

    /// The task on `cpu` stopped running application code.
    pub fn leave(&self, cpu: usize) {
        self.active[cpu].fetch_sub(1, Ordering::SeqCst);
    }
}

/// Pins thread `tid` (0: the caller) to `cpu`.
pub fn pin(tid: libc::pid_t, cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpus(n: usize) -> Cpus {
        Cpus::with(n)
    }

    #[test]
    fn busy_cpu_sends_the_second_task_to_an_idle_one() {
        let c = cpus(2);
        assert_eq!(c.enter(0), 0);
        // A moment later: still a hand-over, stay.
        assert_eq!(c.enter(0), 0);
        c.leave(0);
        std::thread::sleep(std::time::Duration::from_nanos(2 * BUSY_NS));
        assert_eq!(c.enter(0), 1);
        // Both busy now: stay.
        assert_eq!(c.enter(1), 1);
        c.leave(1);
        c.leave(1);
        c.leave(0);
        assert_eq!(c.enter(1), 1);
    }

    #[test]
    fn placement_honours_home_and_takes_turns() {
        let c = cpus(2);
        assert_eq!(c.place(Some(1)), 1);
        assert_eq!(c.place(Some(7)), 0);
        assert_eq!(c.place(None), 1);
        assert_eq!(c.place(None), 0);
    }
}
