//! An application address space: its page tables, and the bookkeeping that
//! makes every vCPU running it see each change before it runs ring 3 again.
//!
//! Each changed present entry goes to a log, numbered. A vCPU that uses the space (its CR3 is the space's) writes, from
//! ring 0, every logged entry it has not written yet and reloads CR3 before
//! it next enters ring 3 (see `refill`). Vcpus running the space in the
//! guest when a change is made are kicked out first, as Linux's TLB
//! shootdown: the change is visible to every thread when the system call
//! that made it returns.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use platform::{AddressSpace, Perms, Result};

use crate::layout::area;
use crate::pagetable::PageTable;
use crate::vcpu::VcpuShared;
use crate::Shared;

/// A vCPU using the space and the number of the last log entry it wrote.
struct User {
    vcpu: Arc<VcpuShared>,
    applied: u64,
}

struct State {
    table: PageTable,
    /// Number of the last log entry.
    seq: u64,
    /// Changed entries (number, ring-0 address) some user has not written
    /// yet; all of them while the space has no users.
    log: VecDeque<(u64, u64)>,
    users: Vec<User>,
}

/// The part of an address space that vCPUs keep while they use it.
pub struct SpaceInner {
    shared: Arc<Shared>,
    state: Mutex<State>,
    cr3: u64,
    /// Application CPU time of finished KVM_RUNs in this space (ns).
    pub app_time: AtomicU64,
    /// The last value [`SpaceInner::cpu_time`] returned (keeps it monotonic).
    last_time: AtomicU64,
}

/// The kvm platform's [`AddressSpace`].
pub struct KvmSpace {
    /// Shared with the vCPUs that use it.
    pub inner: Arc<SpaceInner>,
}

impl KvmSpace {
    /// A new address space with only the trampoline mapped.
    pub fn new(shared: Arc<Shared>) -> Result<KvmSpace> {
        let table = shared.new_table()?;
        let cr3 = table.cr3();
        Ok(KvmSpace {
            inner: Arc::new(SpaceInner {
                shared,
                state: Mutex::new(State {
                    table,
                    seq: 0,
                    log: VecDeque::new(),
                    users: Vec::new(),
                }),
                cr3,
                app_time: AtomicU64::new(0),
                last_time: AtomicU64::new(0),
            }),
        })
    }
}

impl SpaceInner {
    /// Applies `f` to the page table and makes its changes reach every
    /// user before it runs ring 3 again.
    fn change(&self, f: impl FnOnce(&mut PageTable, &mut Vec<u64>) -> Result<()>) -> Result<()> {
        let mut touched = Vec::new();
        let users: Vec<Arc<VcpuShared>> = {
            let mut st = self.state.lock();
            let r = f(&mut st.table, &mut touched);
            if touched.is_empty() {
                return r;
            }
            for e in touched {
                st.seq += 1;
                let seq = st.seq;
                st.log.push_back((seq, e));
            }
            st.users.iter().map(|u| u.vcpu.clone()).collect()
        };
        crate::stats::count(&crate::stats::STATS.shootdowns);
        shoot_down(&users);
        Ok(())
    }

    /// Registers `vcpu` as a user; it writes the whole log first.
    pub fn join(&self, vcpu: &Arc<VcpuShared>) {
        self.state.lock().users.push(User {
            vcpu: vcpu.clone(),
            applied: 0,
        });
        vcpu.set_stale();
    }

    /// Removes `vcpu` from the users.
    pub fn leave(&self, vcpu: &Arc<VcpuShared>) {
        let mut st = self.state.lock();
        st.users.retain(|u| !Arc::ptr_eq(&u.vcpu, vcpu));
        trim(&mut st);
    }

    /// Fills `vcpu`'s list (in the area of `region`) with the entries it
    /// has not written and asks for a CR3 load. If they do not fit, the
    /// stale flag stays set and ring 0 asks again.
    pub fn refill(&self, vcpu: &Arc<VcpuShared>, region: u64) {
        let mem = &self.shared.mem;
        let mut st = self.state.lock();
        let last = st.seq;
        let Some(ui) = st.users.iter().position(|u| Arc::ptr_eq(&u.vcpu, vcpu)) else {
            return;
        };
        let applied = st.users[ui].applied;
        let list = mem.u64_at(region + area::LIST);
        let mut n = 0;
        let mut done = last;
        for &(seq, e) in st.log.iter().filter(|(seq, _)| *seq > applied) {
            if n == area::LIST_CAP {
                // The rest go in the next fill.
                done = seq - 1;
                vcpu.set_stale();
                break;
            }
            // SAFETY: the list lies in this vCPU's region, which only its
            // (stopped) vCPU and this thread use.
            unsafe { std::ptr::write_volatile(list.add(n), e) };
            n += 1;
        }
        st.users[ui].applied = done;
        // SAFETY: as above.
        unsafe {
            std::ptr::write_volatile(mem.u64_at(region + area::COUNT), n as u64);
            std::ptr::write_volatile(mem.u64_at(region + area::CR3), self.cr3);
        }
        crate::stats::count(&crate::stats::STATS.refills);
        trim(&mut st);
    }

    /// Application CPU time in this space so far (ns), including the
    /// running part of KVM_RUNs in progress.
    pub fn cpu_time(&self) -> u64 {
        let mut t = self.app_time.load(Ordering::SeqCst);
        for u in &self.state.lock().users {
            let start = u.vcpu.run_start.load(Ordering::SeqCst);
            if start != 0 {
                let now = crate::vcpu::thread_cpu_ns(u.vcpu.tid.load(Ordering::Relaxed));
                t += now.saturating_sub(start);
            }
        }
        self.last_time.fetch_max(t, Ordering::SeqCst).max(t)
    }

    /// The leaf entry mapping `addr`.
    pub fn lookup(&self, addr: u64) -> u64 {
        self.state.lock().table.lookup(addr)
    }
}

/// Drops the log entries every user has written (none without users: a
/// vCPU that joins later must write them).
fn trim(st: &mut State) {
    let Some(min) = st.users.iter().map(|u| u.applied).min() else {
        return;
    };
    while st.log.front().is_some_and(|(seq, _)| *seq <= min) {
        st.log.pop_front();
    }
}

/// Makes `users` refill before ring 3, and waits until each one that is in
/// the guest has left it once.
fn shoot_down(users: &[Arc<VcpuShared>]) {
    for u in users {
        u.set_stale();
    }
    std::sync::atomic::fence(Ordering::SeqCst);
    for u in users {
        if !u.in_run.load(Ordering::SeqCst) {
            continue;
        }
        let exits = u.exits.load(Ordering::SeqCst);
        let mut spins = 0u32;
        while u.in_run.load(Ordering::SeqCst) && u.exits.load(Ordering::SeqCst) == exits {
            if spins.is_multiple_of(64) {
                crate::stats::count(&crate::stats::STATS.kicks);
                u.kick();
            }
            spins += 1;
            std::thread::yield_now();
        }
    }
}

impl Drop for SpaceInner {
    /// No vCPU uses the space any more (each keeps it while it does): its
    /// page-table pages can be reclaimed.
    fn drop(&mut self) {
        let (root, pages) = self.state.get_mut().table.pages();
        self.shared.bury(root, pages);
    }
}

impl AddressSpace for KvmSpace {
    fn map(&self, addr: u64, len: u64, memfd_offset: u64, perms: Perms) -> Result<()> {
        self.inner.shared.cover_memory_file(memfd_offset + len)?;
        self.inner
            .change(|t, touched| t.map(addr, len, memfd_offset, perms, touched))
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        self.inner.change(|t, touched| t.unmap(addr, len, touched))
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<()> {
        self.inner
            .change(|t, touched| t.protect(addr, len, perms, touched))
    }

    fn new_thread(&self) -> Result<u64> {
        Ok(0)
    }

    fn adopt_thread(&self, _token: u64) -> Result<()> {
        Ok(())
    }

    fn release_thread(&self) {}

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
