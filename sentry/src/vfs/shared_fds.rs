//! An fd table shared by the threads of a process (CLONE_FILES).

use std::sync::Arc;

use parking_lot::Mutex;

use super::{FdTable, File};
use crate::errno::Errno;

/// A shared, locked [`FdTable`] with the same operations.
#[derive(Clone, Default)]
pub struct SharedFds(Arc<Mutex<FdTable>>);

impl SharedFds {
    /// Shares `table`.
    pub fn new(table: FdTable) -> SharedFds {
        SharedFds(Arc::new(Mutex::new(table)))
    }

    /// A private copy (fork without CLONE_FILES).
    pub fn copy(&self) -> SharedFds {
        SharedFds::new(self.0.lock().clone())
    }

    /// See [`FdTable::get`].
    pub fn get(&self, fd: i32) -> Result<Arc<File>, Errno> {
        self.0.lock().get(fd)
    }

    /// See [`FdTable::insert`].
    pub fn insert(&self, file: Arc<File>, cloexec: bool) -> Result<i32, Errno> {
        self.0.lock().insert(file, cloexec)
    }

    /// See [`FdTable::insert_from`].
    pub fn insert_from(&self, min: usize, file: Arc<File>, cloexec: bool) -> Result<i32, Errno> {
        self.0.lock().insert_from(min, file, cloexec)
    }

    /// See [`FdTable::set`]; the replaced file is closed outside the lock.
    pub fn set(&self, fd: i32, file: Arc<File>, cloexec: bool) -> Option<Arc<File>> {
        self.0.lock().set(fd, file, cloexec)
    }

    /// See [`FdTable::remove`].
    pub fn remove(&self, fd: i32) -> Result<Arc<File>, Errno> {
        self.0.lock().remove(fd)
    }

    /// See [`FdTable::cloexec`].
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        self.0.lock().cloexec(fd)
    }

    /// See [`FdTable::set_cloexec`].
    pub fn set_cloexec(&self, fd: i32, on: bool) -> Result<(), Errno> {
        self.0.lock().set_cloexec(fd, on)
    }

    /// See [`FdTable::list`].
    pub fn list(&self) -> Vec<(i32, Arc<File>)> {
        self.0.lock().list()
    }

    /// Closes the close-on-exec fds of process `pid` (which execs).
    pub fn close_on_exec(&self, pid: i32) {
        let closed = self.0.lock().take_cloexec();
        for f in closed {
            f.closed_by(pid);
        }
    }
}
