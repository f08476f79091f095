//! A minimal /dev: the memory character devices every program expects
//! (null, zero, full, random, urandom). Host devices are never visible.

use std::any::Any;
use std::sync::Arc;

use super::tmpfs::new_dev;
use crate::errno::Errno;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, Stat, Timespec};

/// A memory character device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
}

const DEVICES: [(&str, Device, u64); 5] = [
    ("full", Device::Full, 7),
    ("null", Device::Null, 3),
    ("random", Device::Random, 8),
    ("urandom", Device::Urandom, 9),
    ("zero", Device::Zero, 5),
];

/// The /dev directory.
pub struct DevDir {
    dev: u64,
    created: Timespec,
}

impl DevDir {
    /// A new /dev.
    pub fn new() -> Arc<DevDir> {
        Arc::new(DevDir {
            dev: new_dev(),
            created: Timespec::now(),
        })
    }
}

impl Inode for DevDir {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::synthetic_dir(self.dev, self.created))
    }

    fn open(self: Arc<Self>, _flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Box::new(DirFile(self)))
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        match name {
            b"ptmx" => {
                let mut st = self.stat()?;
                st.ino = 2 + DEVICES.len() as u64;
                st.mode = libc::S_IFCHR | 0o666;
                st.nlink = 1;
                st.rdev = libc::makedev(5, 2);
                return Ok(Arc::new(super::pty::PtmxNode(st)));
            }
            b"pts" => {
                return Ok(Arc::new(super::pty::PtsDir {
                    created: self.created,
                }))
            }
            _ => {}
        }
        let (i, &(_, kind, minor)) = DEVICES
            .iter()
            .enumerate()
            .find(|(_, (n, _, _))| n.as_bytes() == name)
            .ok_or(Errno::ENOENT)?;
        Ok(Arc::new(DevNode {
            kind,
            stat: Stat {
                dev: self.dev,
                ino: 2 + i as u64,
                mode: libc::S_IFCHR | 0o666,
                nlink: 1,
                rdev: libc::makedev(1, minor as u32),
                blksize: 4096,
                atime: self.created,
                mtime: self.created,
                ctime: self.created,
                ..Stat::default()
            },
        }))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut out: Vec<DirEntry> = DEVICES
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| DirEntry {
                name: n.as_bytes().to_vec(),
                ino: 2 + i as u64,
                kind: libc::DT_CHR,
            })
            .collect();
        out.push(DirEntry {
            name: b"ptmx".to_vec(),
            ino: 2 + DEVICES.len() as u64,
            kind: libc::DT_CHR,
        });
        out.push(DirEntry {
            name: b"pts".to_vec(),
            ino: 3 + DEVICES.len() as u64,
            kind: libc::DT_DIR,
        });
        Ok(out)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One device node.
struct DevNode {
    kind: Device,
    stat: Stat,
}

impl Inode for DevNode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn open(self: Arc<Self>, _flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Box::new(DevFile {
            kind: self.kind,
            stat: self.stat,
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct DevFile {
    kind: Device,
    stat: Stat,
}

impl FileOps for DevFile {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        match self.kind {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random | Device::Urandom => {
                crate::loader::getrandom(buf);
                Ok(buf.len())
            }
        }
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        match self.kind {
            Device::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }

    fn mappable(&self) -> bool {
        self.kind == Device::Zero
    }
}
