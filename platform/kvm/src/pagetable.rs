//! One address space's guest page tables (4-level, 4 KiB leaves).
//!
//! The host writes the tables; it is their source of truth. Because a
//! shadow-paging hypervisor only follows page-table writes the guest makes,
//! every change to an entry that was present is reported to the caller
//! (`touched`, as ring-0 addresses of the entries) so that ring-0 code can
//! write the entry again before any vCPU relies on it (see README).
//! Entries that were not present need nothing: no translation of them can
//! be cached.

use std::sync::Arc;

use platform::{Perms, Result};

use crate::layout::{platform_mem, PLATFORM_PML4_SLOT, TRAMPOLINE_PML4_SLOT, TRAMPOLINE_VA};
use crate::memory::{gpa, off_of_gpa, va, PlatformMemory, PAGE};

/// Present.
pub const P: u64 = 1;
/// Writable.
pub const RW: u64 = 1 << 1;
/// User accessible.
pub const US: u64 = 1 << 2;
/// Accessed.
pub const A: u64 = 1 << 5;
/// Dirty.
pub const D: u64 = 1 << 6;
/// Large page (in a PD entry).
pub const PS: u64 = 1 << 7;
/// No execute.
pub const NX: u64 = 1 << 63;
/// Software bit: a PROT_NONE mapping, not present but keeping its frame.
pub const NONE: u64 = 1 << 9;
/// The frame address bits of an entry.
pub const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// Flags of the entries that point to lower tables.
const TABLE: u64 = P | RW | US;

/// The leaf entry mapping guest-physical `frame` with `perms`.
pub fn leaf(frame: u64, perms: Perms) -> u64 {
    if !perms.read && !perms.write && !perms.exec {
        return frame | NONE;
    }
    let mut e = frame | P | US | A | D;
    if perms.write {
        e |= RW;
    }
    if !perms.exec {
        e |= NX;
    }
    e
}

/// The page tables of one address space.
pub struct PageTable {
    mem: Arc<PlatformMemory>,
    /// Platform memory offset of the PML4.
    root: u64,
}

/// Index of `va` at `level` (4 = PML4 ... 1 = PT).
fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * (level - 1))) & 511
}

impl PageTable {
    /// A table with nothing mapped below [`crate::layout::APP_END`], and
    /// the shared trampoline and platform slots.
    pub fn new(mem: Arc<PlatformMemory>) -> Result<PageTable> {
        let root = mem.alloc_root()?;
        let mut t = PageTable { mem, root };
        t.set(
            root,
            PLATFORM_PML4_SLOT as u64,
            gpa(platform_mem::UPPER_PDPT) | P | RW,
        );
        t.set(
            root,
            TRAMPOLINE_PML4_SLOT as u64,
            gpa(platform_mem::TRAMPOLINE_PDPT) | TABLE,
        );
        Ok(t)
    }

    /// Builds the shared tables of the trampoline's slot (once per VM).
    pub fn install_trampoline(mem: &PlatformMemory) {
        let entry = |table: u64, i: u64, v: u64| mem.write(table + i * 8, &v.to_le_bytes());
        entry(
            platform_mem::TRAMPOLINE_PDPT,
            index(TRAMPOLINE_VA, 3),
            gpa(platform_mem::TRAMPOLINE_PD) | TABLE,
        );
        entry(
            platform_mem::TRAMPOLINE_PD,
            index(TRAMPOLINE_VA, 2),
            gpa(platform_mem::TRAMPOLINE_PT) | TABLE,
        );
        entry(
            platform_mem::TRAMPOLINE_PT,
            index(TRAMPOLINE_VA, 1),
            gpa(platform_mem::TRAMPOLINE) | P | US | A,
        );
    }

    /// The table's pages for reuse once it is dead: the root, and the
    /// application's PDPT, PD and PT pages.
    pub fn pages(&self) -> (u64, Vec<u64>) {
        let mut pages = Vec::new();
        let mut tables = vec![(self.root, 4u32)];
        while let Some((table, level)) = tables.pop() {
            let n = if level == 4 {
                TRAMPOLINE_PML4_SLOT as u64
            } else {
                512
            };
            for i in 0..n {
                let e = self.get(table, i);
                if e & P != 0 && level > 1 {
                    let lower = off_of_gpa(e & ADDR);
                    pages.push(lower);
                    if level > 2 {
                        tables.push((lower, level - 1));
                    }
                }
            }
        }
        (self.root, pages)
    }

    /// Guest-physical address of the PML4 (the CR3 value).
    pub fn cr3(&self) -> u64 {
        gpa(self.root)
    }

    fn get(&self, table: u64, i: u64) -> u64 {
        // SAFETY: `table` is a page-table page of platform memory; aligned.
        unsafe { std::ptr::read_volatile(self.mem.u64_at(table + i * 8)) }
    }

    fn set(&mut self, table: u64, i: u64, v: u64) {
        // SAFETY: as in `get`. Ring-0 code may rewrite the same entry at the
        // same time, but only with a locked read-modify-write that keeps
        // this value.
        unsafe { std::ptr::write_volatile(self.mem.u64_at(table + i * 8), v) }
    }

    /// The PT page (offset) covering `va`; with `alloc`, missing tables are
    /// made. Without, `Ok(Err(next))` says where the missing part ends.
    fn table_for(&mut self, addr: u64, alloc: bool) -> Result<std::result::Result<u64, u64>> {
        let mut table = self.root;
        for level in (2..=4).rev() {
            let i = index(addr, level);
            let e = self.get(table, i);
            table = if e & P != 0 {
                off_of_gpa(e & ADDR)
            } else if alloc {
                let t = self.mem.alloc_table()?;
                self.set(table, i, gpa(t) | TABLE);
                t
            } else {
                let span = 1u64 << (12 + 9 * (level - 1));
                return Ok(Err((addr & !(span - 1)).saturating_add(span)));
            };
        }
        Ok(Ok(table))
    }

    /// Calls `f(addr, old entry)` for each page of `[start, end)` whose PT
    /// exists (all of them with `alloc`); `f` returns the new entry.
    fn update(
        &mut self,
        start: u64,
        end: u64,
        alloc: bool,
        touched: &mut Vec<u64>,
        mut f: impl FnMut(u64, u64) -> u64,
    ) -> Result<()> {
        let mut addr = start;
        while addr < end {
            let pt = match self.table_for(addr, alloc)? {
                Ok(pt) => pt,
                Err(next) => {
                    addr = next;
                    continue;
                }
            };
            let mut i = index(addr, 1);
            while i < 512 && addr < end {
                let old = self.get(pt, i);
                let new = f(addr, old);
                if new != old {
                    self.set(pt, i, new);
                    if old & P != 0 {
                        touched.push(va(pt + i * 8));
                    }
                }
                i += 1;
                addr += PAGE;
            }
        }
        Ok(())
    }

    /// Maps `[addr, addr + len)` to guest-physical `frame` onwards.
    pub fn map(
        &mut self,
        addr: u64,
        len: u64,
        frame: u64,
        perms: Perms,
        touched: &mut Vec<u64>,
    ) -> Result<()> {
        self.update(addr, addr + len, true, touched, |a, _| {
            leaf(frame + (a - addr), perms)
        })
    }

    /// Unmaps `[addr, addr + len)`.
    pub fn unmap(&mut self, addr: u64, len: u64, touched: &mut Vec<u64>) -> Result<()> {
        self.update(addr, addr + len, false, touched, |_, _| 0)
    }

    /// Changes the protection of the mapped pages of `[addr, addr + len)`.
    pub fn protect(
        &mut self,
        addr: u64,
        len: u64,
        perms: Perms,
        touched: &mut Vec<u64>,
    ) -> Result<()> {
        self.update(addr, addr + len, false, touched, |_, old| {
            if old & (P | NONE) == 0 {
                old
            } else {
                leaf(old & ADDR, perms)
            }
        })
    }

    /// The leaf entry for `addr` (0 when there is none).
    pub fn lookup(&mut self, addr: u64) -> u64 {
        match self.table_for(addr, false) {
            Ok(Ok(pt)) => self.get(pt, index(addr, 1)),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW_PERMS: Perms = Perms {
        read: true,
        write: true,
        exec: false,
    };
    const RO_PERMS: Perms = Perms {
        read: true,
        write: false,
        exec: false,
    };

    fn table() -> PageTable {
        PageTable::new(Arc::new(PlatformMemory::new().unwrap())).unwrap()
    }

    #[test]
    fn new_mappings_need_no_guest_writes_but_changes_of_present_ones_do() {
        let mut t = table();
        let mut touched = Vec::new();
        t.map(0x40_0000, 3 * PAGE, 0x10_0000, RW_PERMS, &mut touched)
            .unwrap();
        assert!(touched.is_empty());
        let e = t.lookup(0x40_1000);
        assert_eq!(e & ADDR, 0x10_1000);
        assert_eq!(e & (P | RW | US | NX), P | RW | US | NX);

        t.protect(0x40_0000, 2 * PAGE, RO_PERMS, &mut touched)
            .unwrap();
        assert_eq!(touched.len(), 2);
        assert_eq!(t.lookup(0x40_0000) & RW, 0);
        assert_ne!(t.lookup(0x40_2000) & RW, 0);

        // PROT_NONE keeps the frame but is not present; making it present
        // again is not a change the guest must write.
        touched.clear();
        t.protect(0x40_0000, PAGE, Perms::NONE, &mut touched)
            .unwrap();
        assert_eq!(touched.len(), 1);
        assert_eq!(t.lookup(0x40_0000), 0x10_0000 | NONE);
        touched.clear();
        t.protect(0x40_0000, PAGE, RW_PERMS, &mut touched).unwrap();
        assert!(touched.is_empty());
        assert_eq!(t.lookup(0x40_0000) & ADDR, 0x10_0000);

        t.unmap(0x40_0000, 3 * PAGE, &mut touched).unwrap();
        assert_eq!(touched.len(), 3);
        assert_eq!(t.lookup(0x40_1000), 0);
        // Unmapping what has no tables is a no-op.
        t.unmap(0x1000_0000_0000, 1 << 30, &mut touched).unwrap();
        assert_eq!(touched.len(), 3);
    }

    #[test]
    fn dead_tables_list_their_pages_but_not_the_shared_ones() {
        let mut t = table();
        let mut touched = Vec::new();
        t.map(0x40_0000, PAGE, 0, RW_PERMS, &mut touched).unwrap();
        t.map(0x7f00_0000_0000, PAGE, 0, RW_PERMS, &mut touched)
            .unwrap();
        let (root, pages) = t.pages();
        assert_eq!(gpa(root), t.cr3());
        // Two PDPT, PD and PT pages each; the trampoline's and the
        // platform's tables are shared and not listed.
        assert_eq!(pages.len(), 6);
        for shared in [
            platform_mem::TRAMPOLINE_PDPT,
            platform_mem::TRAMPOLINE_PD,
            platform_mem::TRAMPOLINE_PT,
            platform_mem::UPPER_PDPT,
        ] {
            assert!(!pages.contains(&shared));
        }
    }
}
