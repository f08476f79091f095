//! Counters of what costs exits, printed at the end of a sandbox's life
//! when `RUNSC_KVM_STATS` is set (the benchmark reads them).

use std::sync::atomic::{AtomicU64, Ordering};

/// Exit counters of the whole sandbox.
#[derive(Default)]
pub struct Stats {
    /// Returns from KVM_RUN.
    pub exits: AtomicU64,
    /// System calls (exits through the trampoline).
    pub syscalls: AtomicU64,
    /// Exceptions reported to the sentry.
    pub exceptions: AtomicU64,
    /// Entries to ring 0 requested by the host (`ud2`).
    pub ring0_entries: AtomicU64,
    /// List refills.
    pub refills: AtomicU64,
    /// Changes to present page-table entries.
    pub shootdowns: AtomicU64,
    /// Kicks sent.
    pub kicks: AtomicU64,
    /// Reclaims of dead page tables (each flushes all shadow page tables).
    pub reclaims: AtomicU64,
}

/// The counters.
pub static STATS: Stats = Stats {
    exits: AtomicU64::new(0),
    syscalls: AtomicU64::new(0),
    exceptions: AtomicU64::new(0),
    ring0_entries: AtomicU64::new(0),
    refills: AtomicU64::new(0),
    shootdowns: AtomicU64::new(0),
    kicks: AtomicU64::new(0),
    reclaims: AtomicU64::new(0),
};

/// Adds one.
pub fn count(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// One line with every counter.
pub fn summary() -> String {
    let s = &STATS;
    let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let exits = g(&s.exits);
    let syscalls = g(&s.syscalls);
    format!(
        "kvm: {exits} exits, {syscalls} syscalls, {} exceptions, {} ring-0 entries, {} refills, {} page-table changes, {} kicks, {} reclaims; {:.2} exits per syscall",
        g(&s.exceptions),
        g(&s.ring0_entries),
        g(&s.refills),
        g(&s.shootdowns),
        g(&s.kicks),
        g(&s.reclaims),
        exits as f64 / syscalls.max(1) as f64
    )
}
