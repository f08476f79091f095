//! Control pages: memory the sentry writes and every stub can only read,
//! through which the sentry hands a stub a batch of system calls to run
//! (see `runsc_stub_batch`), so that the mappings of an exec cost one stop
//! instead of one each.
//!
//! Each tracer thread owns one page (a slot) while it lives; stubs map the
//! whole file read-only at [`crate::StubPage::ctrl_addr`], so that no
//! application thread can change what another tracer's stub will run.
//!
//! A second file of the same kind, the frames file, has one page per stub,
//! mapped read-only in that stub only ([`crate::StubPage::frame_addr`]):
//! it carries that stub's batches and the application's registers for
//! `runsc_stub_return`, which no other application may read. The shared
//! pages above serve only stubs that got no page of their own (more than
//! `SLOTS` at once).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use parking_lot::Mutex;
use platform::{Error, Result};

use crate::ranges::RangeSet;
use crate::PAGE_SIZE;

/// How many tracer threads can batch at once; the others inject one system
/// call at a time.
const SLOTS: u64 = 1024;
/// Length of the control file and of its mapping in every stub.
pub const CTRL_LEN: u64 = SLOTS * PAGE_SIZE;

/// One system call of a batch, laid out as the stub reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Op {
    /// System call number.
    pub nr: u64,
    /// Its arguments.
    pub args: [u64; 6],
}

impl Op {
    /// The address range the op changes.
    pub fn range(&self) -> (u64, u64) {
        (self.args[0], self.args[0].saturating_add(self.args[1]))
    }

    /// Whether the op replaces whatever was mapped in its range (mmap with
    /// MAP_FIXED, munmap), rather than changing it (mprotect).
    fn replaces(&self) -> bool {
        self.nr == libc::SYS_mmap as u64 || self.nr == libc::SYS_munmap as u64
    }

    /// Records what the op did to the host's mappings.
    pub fn apply_to(&self, mapped: &mut RangeSet) {
        let (start, end) = self.range();
        if self.nr == libc::SYS_mmap as u64 {
            mapped.insert(start, end);
        } else if self.nr == libc::SYS_munmap as u64 {
            mapped.remove(start, end);
        }
    }
}

/// Drops the ops whose whole range later ops replace (an exec maps an
/// image's reservation and then every segment over it). What the host
/// ends up with is the same.
pub fn drop_overwritten(ops: &mut Vec<Op>) {
    // What the ops after the current one replace.
    let mut covered = RangeSet::default();
    let mut keep = vec![true; ops.len()];
    for (i, op) in ops.iter().enumerate().rev() {
        let (start, end) = op.range();
        keep[i] = !covered.covers(start, end);
        if op.replaces() {
            covered.insert(start, end);
        }
    }
    let mut i = 0;
    ops.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Bytes at the end of a slot for a register frame (see
/// `runsc_stub_return`): user_regs_struct up to ss.
const FRAME_LEN: usize = 21 * 8;

/// How many ops fit in one slot (before its frame).
pub const OPS_PER_SLOT: usize = (PAGE_SIZE as usize - FRAME_LEN) / std::mem::size_of::<Op>();

/// The control file, mapped writable in the sentry.
pub struct ControlFile {
    fd: OwnedFd,
    base: *mut Op,
    free: Mutex<Vec<u64>>,
}

// SAFETY: `base` is a shared mapping that lives as long as `self`; each slot
// is written only by the thread that owns it.
unsafe impl Send for ControlFile {}
// SAFETY: see above.
unsafe impl Sync for ControlFile {}

impl ControlFile {
    /// Creates and maps a (sparse) control file named `name`.
    pub fn new(name: &std::ffi::CStr) -> Result<Arc<ControlFile>> {
        // SAFETY: the name is a valid C string.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::last_os("memfd_create control"));
        }
        // SAFETY: fd was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain ftruncate on our fd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), CTRL_LEN as i64) } != 0 {
            return Err(Error::last_os("ftruncate control"));
        }
        // SAFETY: mapping our own memfd.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CTRL_LEN as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::last_os("mmap control"));
        }
        Ok(Arc::new(ControlFile {
            fd,
            base: base.cast(),
            free: Mutex::new((0..SLOTS).rev().collect()),
        }))
    }

    /// The fd stubs map.
    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// A free slot, if any.
    pub fn take(self: &Arc<Self>) -> Option<Slot> {
        let index = self.free.lock().pop()?;
        Some(Slot {
            file: self.clone(),
            index,
        })
    }
}

impl Drop for ControlFile {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; no slot outlives the file.
        unsafe { libc::munmap(self.base.cast(), CTRL_LEN as usize) };
    }
}

/// One page of the control file, owned by one tracer thread.
pub struct Slot {
    file: Arc<ControlFile>,
    index: u64,
}

impl Slot {
    /// Offset of the slot in the control file (and in the stubs' mapping).
    pub fn offset(&self) -> u64 {
        self.index * PAGE_SIZE
    }

    /// Writes `ops` (at most [`OPS_PER_SLOT`]) into the slot.
    pub fn write(&self, ops: &[Op]) {
        assert!(ops.len() <= OPS_PER_SLOT);
        // SAFETY: the slot lies inside the mapping and belongs to us; stubs
        // only read it while we wait for them.
        unsafe {
            let dst = self.file.base.cast::<u8>().add(self.offset() as usize);
            std::ptr::copy_nonoverlapping(ops.as_ptr(), dst.cast::<Op>(), ops.len());
        }
    }
}

impl Slot {
    /// Offset of the slot's register frame in the control file.
    pub fn frame_offset(&self) -> u64 {
        self.offset() + PAGE_SIZE - FRAME_LEN as u64
    }

    /// Writes the register frame `runsc_stub_return` loads: `regs` up to
    /// and including ss.
    pub fn write_frame(&self, regs: &platform::Regs) {
        const _: () = assert!(std::mem::size_of::<platform::Regs>() >= FRAME_LEN);
        // SAFETY: as in `write`; Regs is plain u64s in user_regs_struct
        // order, of which the first FRAME_LEN bytes are copied.
        unsafe {
            let dst = self
                .file
                .base
                .cast::<u8>()
                .add(self.frame_offset() as usize);
            std::ptr::copy_nonoverlapping(
                (regs as *const platform::Regs).cast::<u8>(),
                dst,
                FRAME_LEN,
            );
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.file.free.lock().push(self.index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(nr: i64, addr: u64, len: u64) -> Op {
        Op {
            nr: nr as u64,
            args: [addr, len, 0, 0, 0, 0],
        }
    }

    #[test]
    fn reservation_covered_by_segments_is_dropped() {
        let mut ops = vec![
            op(libc::SYS_mmap, 0x1000, 0x4000),
            op(libc::SYS_mmap, 0x1000, 0x2000),
            op(libc::SYS_mprotect, 0x1000, 0x1000),
            op(libc::SYS_mmap, 0x3000, 0x2000),
        ];
        drop_overwritten(&mut ops);
        let starts: Vec<u64> = ops.iter().map(|o| o.args[0]).collect();
        assert_eq!(starts, vec![0x1000, 0x1000, 0x3000]);
        assert_eq!(ops[0].args[1], 0x2000);
    }

    #[test]
    fn partly_covered_ops_stay() {
        let mut ops = vec![
            op(libc::SYS_mmap, 0x1000, 0x4000),
            op(libc::SYS_mmap, 0x1000, 0x2000),
            op(libc::SYS_mprotect, 0x2000, 0x1000),
            op(libc::SYS_munmap, 0x4000, 0x1000),
        ];
        drop_overwritten(&mut ops);
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn protect_does_not_cover() {
        let mut ops = vec![
            op(libc::SYS_mmap, 0x1000, 0x1000),
            op(libc::SYS_mprotect, 0x1000, 0x1000),
        ];
        drop_overwritten(&mut ops);
        assert_eq!(ops.len(), 2);
    }
}
