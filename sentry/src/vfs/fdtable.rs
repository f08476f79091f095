//! The fd table of a process: small integers to open file descriptions.

use std::sync::Arc;

use super::File;
use crate::errno::Errno;

/// One slot of the table.
#[derive(Clone)]
struct Slot {
    file: Arc<File>,
    cloexec: bool,
}

/// A table of fds. The limit is RLIMIT_NOFILE's.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

/// Default RLIMIT_NOFILE.
pub const NOFILE: usize = 1024 * 1024;

impl FdTable {
    /// The file at `fd`.
    pub fn get(&self, fd: i32) -> Result<Arc<File>, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.slots
            .get(fd as usize)
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free fd >= `min`.
    pub fn insert_from(
        &mut self,
        min: usize,
        file: Arc<File>,
        cloexec: bool,
    ) -> Result<i32, Errno> {
        let mut fd = min;
        while fd < self.slots.len() && self.slots[fd].is_some() {
            fd += 1;
        }
        if fd >= NOFILE {
            return Err(Errno::EMFILE);
        }
        self.set(fd as i32, file, cloexec);
        Ok(fd as i32)
    }

    /// Installs `file` at the lowest free fd.
    pub fn insert(&mut self, file: Arc<File>, cloexec: bool) -> Result<i32, Errno> {
        self.insert_from(0, file, cloexec)
    }

    /// Installs `file` at exactly `fd`, returning what was there.
    pub fn set(&mut self, fd: i32, file: Arc<File>, cloexec: bool) -> Option<Arc<File>> {
        let fd = fd as usize;
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd]
            .replace(Slot { file, cloexec })
            .map(|s| s.file)
    }

    /// Removes `fd`.
    pub fn remove(&mut self, fd: i32) -> Result<Arc<File>, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.slots
            .get_mut(fd as usize)
            .and_then(|s| s.take())
            .map(|s| s.file)
            .ok_or(Errno::EBADF)
    }

    /// FD_CLOEXEC of `fd`.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.slots
            .get(fd as usize)
            .and_then(|s| s.as_ref())
            .map(|s| s.cloexec)
            .ok_or(Errno::EBADF)
    }

    /// Sets FD_CLOEXEC of `fd`.
    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<(), Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        match self.slots.get_mut(fd as usize).and_then(|s| s.as_mut()) {
            Some(s) => {
                s.cloexec = on;
                Ok(())
            }
            None => Err(Errno::EBADF),
        }
    }

    /// Every open fd with its file, in order.
    pub fn list(&self) -> Vec<(i32, Arc<File>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as i32, s.file.clone())))
            .collect()
    }

    /// Removes every fd marked close-on-exec and returns their files, so
    /// the caller can drop them outside any lock.
    pub fn take_cloexec(&mut self) -> Vec<Arc<File>> {
        let mut out = Vec::new();
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                out.extend(s.take().map(|s| s.file));
            }
        }
        out
    }
}
