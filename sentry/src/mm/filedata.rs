//! File contents kept in the memory file (tmpfs), so that MAP_SHARED
//! mappings of a file and its read/write share the same pages.

use std::sync::Arc;

use super::memfile::global;
use super::{page_up, MemRange, PAGE};
use crate::errno::Errno;

/// The bytes of an in-memory file.
#[derive(Default)]
pub struct FileData {
    /// Backing pages (capacity is the range's length).
    range: Option<Arc<MemRange>>,
    /// File size.
    size: usize,
}

impl FileData {
    /// A file holding `data`.
    pub fn from_bytes(data: &[u8]) -> Result<FileData, Errno> {
        let mut f = FileData::default();
        f.write_at(data, 0)?;
        Ok(f)
    }

    /// The size.
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    fn capacity(&self) -> usize {
        self.range.as_ref().map_or(0, |r| r.len as usize)
    }

    fn ptr(&self, off: usize, len: usize) -> *mut u8 {
        let r = self.range.as_ref().expect("backing range");
        global().ptr(r.offset() + off as u64, len as u64)
    }

    /// Makes room for `cap` bytes, moving to a larger range if needed.
    /// (Shared mappings of the old range keep the old pages.)
    fn reserve(&mut self, cap: usize) -> Result<(), Errno> {
        if cap <= self.capacity() {
            return Ok(());
        }
        let new_cap = page_up(cap as u64)
            .max(2 * self.capacity() as u64)
            .max(PAGE);
        let range = MemRange::new(global(), new_cap)?;
        if let Some(old) = &self.range {
            global().copy_populated(old.offset(), range.offset(), page_up(self.size as u64));
        }
        self.range = Some(range);
        Ok(())
    }

    /// Reads at `off`; returns how much was read.
    pub fn read_at(&self, buf: &mut [u8], off: usize) -> usize {
        if off >= self.size {
            return 0;
        }
        let n = buf.len().min(self.size - off);
        // SAFETY: [off, off + n) is within the backing range.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr(off, n), buf.as_mut_ptr(), n) };
        n
    }

    /// Writes at `off`, growing the file.
    pub fn write_at(&mut self, buf: &[u8], off: usize) -> Result<usize, Errno> {
        let end = off.checked_add(buf.len()).ok_or(Errno::EFBIG)?;
        if buf.is_empty() {
            return Ok(0);
        }
        self.reserve(end)?;
        // SAFETY: [off, end) is within the backing range after reserve.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), self.ptr(off, buf.len()), buf.len()) };
        self.size = self.size.max(end);
        Ok(buf.len())
    }

    /// Truncates or extends with zeroes.
    pub fn resize(&mut self, size: usize) -> Result<(), Errno> {
        if size > self.size {
            self.reserve(size)?;
        } else if size < self.size {
            // Bytes past the new end must read as zero if the file grows again.
            let tail = page_up(size as u64) as usize;
            let zero_to = tail.min(self.size);
            if zero_to > size {
                // SAFETY: within the backing range.
                unsafe { std::ptr::write_bytes(self.ptr(size, zero_to - size), 0, zero_to - size) };
            }
            if self.size > tail {
                let r = self.range.as_ref().expect("backing range");
                global().punch(
                    r.offset() + tail as u64,
                    page_up(self.size as u64) - tail as u64,
                );
            }
        }
        self.size = size;
        Ok(())
    }

    /// Zeroes `[off, off + len)` within the file (a punched hole).
    pub fn zero_range(&mut self, off: usize, len: usize) {
        let end = off.saturating_add(len).min(self.size);
        if off < end {
            // SAFETY: [off, end) is within the file, hence the range.
            unsafe { std::ptr::write_bytes(self.ptr(off, end - off), 0, end - off) };
        }
    }

    /// The pages behind the file and its size, for MAP_SHARED mappings.
    pub fn shared_range(&mut self) -> Result<(Arc<MemRange>, usize), Errno> {
        self.reserve(self.size.max(1))?;
        Ok((self.range.clone().expect("backing range"), self.size))
    }
}
