//! Advisory file locks: flock(2) locks and fcntl(2) byte-range locks, both
//! process-owned (POSIX) and open-file-description-owned (OFD).
//!
//! Locks belong to files, named by `(st_dev, st_ino)`, so that every open
//! of a file sees the same locks. flock locks and byte-range locks do not
//! interact, as on Linux. A POSIX lock goes away when its process closes
//! any fd of the file or exits; flock and OFD locks when the last fd of
//! their open file description closes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::{Condvar, Mutex};

use crate::errno::Errno;
use crate::kernel::wait::wait_on;

/// A file, as `(st_dev, st_ino)`.
pub type Key = (u64, u64);

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A process (POSIX record locks), by thread group id.
    Process(i32),
    /// An open file description (flock and OFD locks), by address.
    File(usize),
}

/// A byte-range lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its holder.
    pub owner: Owner,
    /// A write (exclusive) lock; else a read (shared) lock.
    pub write: bool,
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive; `u64::MAX` for "to the end of the file").
    pub end: u64,
}

impl Record {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }

    /// Whether this lock keeps `other` from being taken.
    fn blocks(&self, other: &Record) -> bool {
        self.owner != other.owner
            && self.overlaps(other.start, other.end)
            && (self.write || other.write)
    }
}

/// What flock(2) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flock {
    /// LOCK_SH.
    Shared,
    /// LOCK_EX.
    Exclusive,
    /// LOCK_UN.
    Unlock,
}

#[derive(Default)]
struct Table {
    records: HashMap<Key, Vec<Record>>,
    /// flock locks: (open file description, exclusive).
    flocks: HashMap<Key, Vec<(usize, bool)>>,
    /// The lock each blocked process waits for, for deadlock detection.
    waiting: HashMap<i32, (Key, Record)>,
}

type Locks = (Mutex<Table>, Condvar);

static LOCKS: LazyLock<Arc<Locks>> = LazyLock::new(Default::default);

fn parts(l: &Locks) -> (&Mutex<Table>, &Condvar) {
    (&l.0, &l.1)
}

/// How long a chain of blocked processes deadlock detection follows.
const MAX_DEADLOCK_DEPTH: usize = 10;

impl Table {
    /// The first (lowest) lock that keeps `want` from being taken.
    fn blocker(&self, key: Key, want: &Record) -> Option<Record> {
        self.records
            .get(&key)?
            .iter()
            .filter(|r| r.blocks(want))
            .min_by_key(|r| r.start)
            .copied()
    }

    /// Whether `me` waiting for `blocker` would close a cycle of processes
    /// waiting for each other.
    fn would_deadlock(&self, me: i32, mut blocker: Owner) -> bool {
        for _ in 0..MAX_DEADLOCK_DEPTH {
            let Owner::Process(pid) = blocker else {
                return false;
            };
            if pid == me {
                return true;
            }
            let Some((key, want)) = self.waiting.get(&pid) else {
                return false;
            };
            match self.blocker(*key, want) {
                Some(r) => blocker = r.owner,
                None => return false,
            }
        }
        false
    }

    /// Removes `owner`'s locks in `[start, end]`, splitting those that
    /// reach beyond it.
    fn unlock(&mut self, key: Key, owner: Owner, start: u64, end: u64) {
        let Some(recs) = self.records.get_mut(&key) else {
            return;
        };
        let mut out = Vec::with_capacity(recs.len() + 1);
        for r in recs.drain(..) {
            if r.owner != owner || !r.overlaps(start, end) {
                out.push(r);
                continue;
            }
            if r.start < start {
                out.push(Record {
                    end: start - 1,
                    ..r
                });
            }
            if r.end > end {
                out.push(Record {
                    start: end + 1,
                    ..r
                });
            }
        }
        *recs = out;
        if recs.is_empty() {
            self.records.remove(&key);
        }
    }

    /// Adds `rec`, merging it with its owner's touching locks of the same
    /// kind (its owner's other locks in the range are already gone).
    fn insert(&mut self, key: Key, mut rec: Record) {
        let recs = self.records.entry(key).or_default();
        recs.retain(|r| {
            let touches =
                r.start <= rec.end.saturating_add(1) && rec.start <= r.end.saturating_add(1);
            if r.owner == rec.owner && r.write == rec.write && touches {
                rec.start = rec.start.min(r.start);
                rec.end = rec.end.max(r.end);
                false
            } else {
                true
            }
        });
        recs.push(rec);
    }
}

/// Takes or releases (`write` None) a byte-range lock; with `wait`, blocks
/// until it can be taken (interruptibly), else fails with EAGAIN.
pub fn set_record(
    key: Key,
    owner: Owner,
    write: Option<bool>,
    start: u64,
    end: u64,
    wait: bool,
) -> Result<(), Errno> {
    let locks = LOCKS.clone();
    let mut t = locks.0.lock();
    let Some(write) = write else {
        t.unlock(key, owner, start, end);
        locks.1.notify_all();
        return Ok(());
    };
    let want = Record {
        owner,
        write,
        start,
        end,
    };
    while let Some(blocker) = t.blocker(key, &want) {
        if !wait {
            return Err(Errno::EAGAIN);
        }
        let me = match owner {
            Owner::Process(pid) => Some(pid),
            Owner::File(_) => None,
        };
        if let Some(pid) = me {
            if t.would_deadlock(pid, blocker.owner) {
                return Err(Errno::EDEADLK);
            }
            t.waiting.insert(pid, (key, want));
        }
        let r = wait_on(&mut t, &locks, parts, None);
        if let Some(pid) = me {
            t.waiting.remove(&pid);
        }
        r?;
    }
    t.unlock(key, owner, start, end);
    t.insert(key, want);
    // Downgrades and merges can let others in.
    locks.1.notify_all();
    Ok(())
}

/// The first lock that keeps `owner` from taking `(write, start, end)`.
pub fn test_record(key: Key, owner: Owner, write: bool, start: u64, end: u64) -> Option<Record> {
    LOCKS.0.lock().blocker(
        key,
        &Record {
            owner,
            write,
            start,
            end,
        },
    )
}

/// flock(2) for open file description `file`. A held lock of the other
/// kind is dropped before the new one is waited for, as on Linux.
pub fn flock(key: Key, file: usize, op: Flock, wait: bool) -> Result<(), Errno> {
    let locks = LOCKS.clone();
    let mut t = locks.0.lock();
    let exclusive = match op {
        Flock::Unlock => {
            remove_flock(&mut t, key, file);
            locks.1.notify_all();
            return Ok(());
        }
        Flock::Shared => false,
        Flock::Exclusive => true,
    };
    let held = t
        .flocks
        .get(&key)
        .and_then(|v| v.iter().find(|(f, _)| *f == file).copied());
    if held == Some((file, exclusive)) {
        return Ok(());
    }
    if held.is_some() {
        remove_flock(&mut t, key, file);
        locks.1.notify_all();
    }
    loop {
        let busy = t
            .flocks
            .get(&key)
            .is_some_and(|v| v.iter().any(|&(f, ex)| f != file && (ex || exclusive)));
        if !busy {
            break;
        }
        if !wait {
            return Err(Errno::EAGAIN);
        }
        wait_on(&mut t, &locks, parts, None)?;
    }
    t.flocks.entry(key).or_default().push((file, exclusive));
    Ok(())
}

fn remove_flock(t: &mut Table, key: Key, file: usize) {
    if let Some(v) = t.flocks.get_mut(&key) {
        v.retain(|(f, _)| *f != file);
        if v.is_empty() {
            t.flocks.remove(&key);
        }
    }
}

/// Releases the flock and OFD locks of open file description `file`
/// (its last fd closed).
pub fn release_file(key: Key, file: usize) {
    let mut t = LOCKS.0.lock();
    remove_flock(&mut t, key, file);
    t.unlock(key, Owner::File(file), 0, u64::MAX);
    LOCKS.1.notify_all();
}

/// Releases process `pid`'s POSIX locks on `key` (it closed an fd of it).
pub fn release_process_file(key: Key, pid: i32) {
    let mut t = LOCKS.0.lock();
    if t.records.contains_key(&key) {
        t.unlock(key, Owner::Process(pid), 0, u64::MAX);
        LOCKS.1.notify_all();
    }
}

/// Whether process `pid` holds any POSIX lock.
pub fn holds_records(pid: i32) -> bool {
    LOCKS
        .0
        .lock()
        .records
        .values()
        .any(|v| v.iter().any(|r| r.owner == Owner::Process(pid)))
}

/// Releases every POSIX lock of process `pid` (it exited).
pub fn release_process(pid: i32) {
    let mut t = LOCKS.0.lock();
    let keys: Vec<Key> = t.records.keys().copied().collect();
    for key in keys {
        t.unlock(key, Owner::Process(pid), 0, u64::MAX);
    }
    LOCKS.1.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: Key = (0xfeed, 1);

    #[test]
    fn unlock_splits_and_insert_merges() {
        let mut t = Table::default();
        let me = Owner::Process(1);
        t.insert(
            K,
            Record {
                owner: me,
                write: true,
                start: 0,
                end: 99,
            },
        );
        t.unlock(K, me, 10, 19);
        let mut r: Vec<(u64, u64)> = t.records[&K].iter().map(|r| (r.start, r.end)).collect();
        r.sort();
        assert_eq!(r, vec![(0, 9), (20, 99)]);
        t.insert(
            K,
            Record {
                owner: me,
                write: true,
                start: 10,
                end: 19,
            },
        );
        let r: Vec<(u64, u64)> = t.records[&K].iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(r, vec![(0, 99)]);
    }

    #[test]
    fn read_locks_share_write_locks_exclude_and_cycles_are_found() {
        let mut t = Table::default();
        let (a, b) = (Owner::Process(10), Owner::Process(11));
        t.insert(
            K,
            Record {
                owner: a,
                write: false,
                start: 0,
                end: u64::MAX,
            },
        );
        let read = Record {
            owner: b,
            write: false,
            start: 5,
            end: 5,
        };
        let write = Record {
            owner: b,
            write: true,
            start: 5,
            end: 5,
        };
        assert!(t.blocker(K, &read).is_none());
        assert_eq!(t.blocker(K, &write).map(|r| r.owner), Some(a));
        // b holds byte 100 and waits for a; a asking for byte 100 deadlocks.
        t.insert(
            K,
            Record {
                owner: b,
                write: true,
                start: 100,
                end: 100,
            },
        );
        t.waiting.insert(11, (K, write));
        assert!(t.would_deadlock(10, b));
        assert!(!t.would_deadlock(12, b));
    }
}
