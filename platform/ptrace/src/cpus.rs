//! Where tracers run. Each tracer thread keeps to one CPU and its stub
//! follows it: a wakeup across CPUs costs ~50 us under nested
//! virtualization against ~6 us on the same CPU, and the host scheduler,
//! left alone, often wakes a tracer on the other CPU than its stub.
//!
//! Pinning alone would leave CPU-bound tasks that started on one CPU
//! sharing it while another idles, so every switch into application code
//! counts as activity on the tracer's CPU; a tracer that finds its CPU
//! busy with another running task moves to an idle one.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The CPUs of the sandbox and how many tasks run application code on each.
pub struct Cpus {
    active: Vec<AtomicUsize>,
    next: AtomicUsize,
}

impl Cpus {
    /// Measures the CPUs (before any thread is pinned: a pinned thread
    /// sees only its own CPU).
    pub fn new() -> Cpus {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        Cpus {
            active: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A CPU for a new tracer: `home` when given, else the next in turn.
    pub fn place(&self, home: Option<usize>) -> usize {
        match home {
            Some(cpu) if cpu < self.active.len() => cpu,
            _ => self.next.fetch_add(1, Ordering::Relaxed) % self.active.len(),
        }
    }

    /// Marks a task as running application code on `cpu`; returns the CPU
    /// it should run on instead when `cpu` is busy and another is idle (the
    /// task is then counted there).
    pub fn enter(&self, cpu: usize) -> usize {
        if self.active[cpu].fetch_add(1, Ordering::SeqCst) == 0 {
            return cpu;
        }
        for (other, n) in self.active.iter().enumerate() {
            if other != cpu
                && n.compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
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
        Cpus {
            active: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    #[test]
    fn busy_cpu_sends_the_second_task_to_an_idle_one() {
        let c = cpus(2);
        assert_eq!(c.enter(0), 0);
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
