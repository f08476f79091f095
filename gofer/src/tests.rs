//! End-to-end tests: a real server thread on a temporary root, a real client.

use crate::message::Request;
use crate::wire::{recv_frame, send_frame, Decoder};
use crate::*;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory `base` holding the served `base/root` and, outside
/// the root, `base/secret`, which no request may reach.
struct Fixture {
    base: PathBuf,
    root: PathBuf,
    secret_uid: u32,
    client: Option<Client>,
    server: Option<JoinHandle<Result<()>>>,
}

impl Fixture {
    fn new(readonly: bool) -> Fixture {
        let base = std::env::temp_dir().join(format!(
            "gofer-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(base.join("secret"), b"secret").unwrap();
        fs::set_permissions(base.join("secret"), fs::Permissions::from_mode(0o640)).unwrap();
        let secret_uid = fs::metadata(base.join("secret")).unwrap().uid();
        fs::write(root.join("a.txt"), b"hello").unwrap();
        fs::write(root.join("sub/b"), b"bee").unwrap();
        symlink("a.txt", root.join("lnk")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        symlink("../../..", root.join("up")).unwrap();
        symlink("/etc/passwd", root.join("passwd")).unwrap();
        symlink("../secret", root.join("out")).unwrap();
        symlink(base.join("secret"), root.join("abs_out")).unwrap();
        let (c, s) = socket_pair().unwrap();
        let config = ServerConfig {
            root: root.clone(),
            readonly,
        };
        let server = std::thread::spawn(move || serve(&config, s));
        Fixture {
            base,
            root,
            secret_uid,
            client: Some(Client::new(c)),
            server: Some(server),
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    fn root_node(&self) -> NodeId {
        self.c().root().unwrap().0
    }

    fn secret_intact(&self) {
        assert_eq!(fs::read(self.base.join("secret")).unwrap(), b"secret");
        let md = fs::symlink_metadata(self.base.join("secret")).unwrap();
        assert_eq!(md.permissions().mode() & 0o7777, 0o640);
        assert_eq!((md.uid(), md.len()), (self.secret_uid, 6));
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        drop(self.client.take());
        if let Some(h) = self.server.take() {
            let r = h.join().expect("server panicked");
            if !std::thread::panicking() {
                r.expect("server failed");
            }
        }
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn errno_of<T: std::fmt::Debug>(r: Result<T>) -> i32 {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.errno(),
    }
}

fn read_all(fd: std::os::fd::OwnedFd) -> Vec<u8> {
    let mut f = fs::File::from(fd);
    let mut v = Vec::new();
    f.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn walk_stat_open_read() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let (root, rst) = c.root().unwrap();
    assert!(rst.is_dir());
    let (a, st) = c.walk(root, b"a.txt").unwrap();
    assert!(st.is_file());
    assert_eq!(st.size, 5);
    let md = fs::metadata(fx.root.join("a.txt")).unwrap();
    assert_eq!((st.ino, st.dev), (md.ino(), md.dev()));
    assert_eq!(c.stat(a).unwrap(), st);
    assert_eq!(read_all(c.open(a, libc::O_RDONLY).unwrap()), b"hello");
    // The donated fd is close-on-exec.
    let fd = c.open(a, libc::O_RDONLY).unwrap();
    // SAFETY: F_GETFD on a valid fd has no memory effects.
    let fl = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_GETFD) };
    assert_eq!(fl & libc::FD_CLOEXEC, libc::FD_CLOEXEC);

    let walked = c.walk_many(root, &[b"sub", b"b"]).unwrap();
    assert_eq!(walked.len(), 2);
    assert!(walked[0].1.is_dir());
    assert_eq!(
        read_all(c.open(walked[1].0, libc::O_RDONLY).unwrap()),
        b"bee"
    );
    // Stops at a missing component; fails only on the first.
    assert_eq!(
        c.walk_many(root, &[b"sub", b"nope", b"x"]).unwrap().len(),
        1
    );
    assert_eq!(errno_of(c.walk_many(root, &[b"nope", b"x"])), libc::ENOENT);
    assert_eq!(errno_of(c.walk(root, b"missing")), libc::ENOENT);
    // Stops after a non-directory.
    assert_eq!(c.walk_many(root, &[b"a.txt", b"x"]).unwrap().len(), 1);
    assert_eq!(errno_of(c.walk(a, b"x")), libc::ENOTDIR);

    // Directories open, O_DIRECTORY on a file does not.
    let d = c
        .open(walked[0].0, libc::O_RDONLY | libc::O_DIRECTORY)
        .unwrap();
    drop(d);
    assert_eq!(
        errno_of(c.open(a, libc::O_RDONLY | libc::O_DIRECTORY)),
        libc::ENOTDIR
    );
    assert_eq!(errno_of(c.open(root, libc::O_RDWR)), libc::EISDIR);
    assert_eq!(errno_of(c.open(a, libc::O_ACCMODE)), libc::EINVAL);
    // O_CREAT is dropped, not honoured.
    let fd = c
        .open(
            a,
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_APPEND,
        )
        .unwrap();
    fs::File::from(fd).write_all(b"!").unwrap();
    assert_eq!(fs::read(fx.root.join("a.txt")).unwrap(), b"hello!");

    let sfs = c.statfs(root).unwrap();
    assert!(sfs.bsize > 0 && sfs.namelen > 0);

    c.close(a);
    assert_eq!(errno_of(c.stat(a)), libc::EBADF);
    assert_eq!(errno_of(c.stat(NodeId(999_999))), libc::EBADF);
    assert_eq!(errno_of(c.walk(NodeId(424242), b"a.txt")), libc::EBADF);
}

#[test]
fn getdents_lists_entries() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();
    let mut names: Vec<Vec<u8>> = c
        .getdents(root)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    let want: Vec<&[u8]> = vec![
        b"a.txt", b"abs_out", b"lnk", b"out", b"passwd", b"slash", b"sub", b"up",
    ];
    assert_eq!(names, want);
    let ents = c.getdents(root).unwrap();
    let sub = ents.iter().find(|e| e.name == b"sub").unwrap();
    assert_eq!(sub.kind, libc::DT_DIR);
    let lnk = ents.iter().find(|e| e.name == b"lnk").unwrap();
    assert_eq!(lnk.kind, libc::DT_LNK);
    let (a, _) = c.walk(root, b"a.txt").unwrap();
    assert_eq!(errno_of(c.getdents(a)), libc::ENOTDIR);

    // A directory too big for one message is paged.
    let big = fx.root.join("big");
    fs::create_dir(&big).unwrap();
    let pad = "x".repeat(200);
    for i in 0..6000 {
        fs::File::create(big.join(format!("{i:05}{pad}"))).unwrap();
    }
    let (bn, _) = c.walk(root, b"big").unwrap();
    let ents = c.getdents(bn).unwrap();
    assert_eq!(ents.len(), 6000);
    let mut seen: Vec<_> = ents.into_iter().map(|e| e.name).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6000);
}

#[test]
fn readlink_does_not_follow() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();
    let (l, st) = c.walk(root, b"lnk").unwrap();
    assert!(st.is_symlink());
    assert_eq!(c.readlink(l).unwrap(), b"a.txt");
    let (a, _) = c.walk(root, b"a.txt").unwrap();
    assert_eq!(errno_of(c.readlink(a)), libc::EINVAL);
    assert_eq!(errno_of(c.open(l, libc::O_RDONLY)), libc::ELOOP);
}

#[test]
fn escapes_fail() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();
    for bad in [&b".."[..], b".", b"/etc", b"a/b", b"sub/b", b"/", b"a\0b"] {
        assert_eq!(errno_of(c.walk(root, bad)), libc::EINVAL, "{:?}", bad);
    }
    assert_eq!(errno_of(c.walk(root, b"")), libc::ENOENT);
    assert_eq!(errno_of(c.walk_many(root, &[b"sub", b".."])), libc::EINVAL);
    assert_eq!(errno_of(c.walk(root, &[b'x'; 300])), libc::ENAMETOOLONG);

    for (name, target) in [
        (&b"slash"[..], &b"/"[..]),
        (b"up", b"../../.."),
        (b"passwd", b"/etc/passwd"),
        (b"out", b"../secret"),
    ] {
        let (n, st) = c.walk(root, name).unwrap();
        assert!(st.is_symlink(), "{:?}", name);
        assert_eq!(c.readlink(n).unwrap(), target);
        for flags in [
            libc::O_RDONLY,
            libc::O_RDWR,
            libc::O_RDONLY | libc::O_DIRECTORY,
            libc::O_WRONLY | libc::O_TRUNC,
        ] {
            assert_eq!(errno_of(c.open(n, flags)), libc::ELOOP);
        }
        // Walking through it fails; walk_many stops at it.
        assert_eq!(errno_of(c.walk(n, b"etc")), libc::ENOTDIR);
        let w = c.walk_many(root, &[name, b"etc", b"passwd"]).unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].1.is_symlink());
        assert_eq!(errno_of(c.getdents(n)), libc::ENOTDIR);
        assert_eq!(
            errno_of(c.create(n, b"x", libc::O_RDWR, 0o644, 0, 0)),
            libc::ENOTDIR
        );
        assert_eq!(errno_of(c.mkdir(n, b"x", 0o755, 0, 0)), libc::ENOTDIR);
        assert_eq!(errno_of(c.unlink(n, b"secret", 0)), libc::ENOTDIR);
        // Attribute changes apply to the link itself, never to its target.
        let sa = SetAttr {
            size: Some(0),
            ..Default::default()
        };
        assert_eq!(errno_of(c.setattr(n, &sa)), libc::EINVAL);
        let sa = SetAttr {
            mode: Some(0o777),
            ..Default::default()
        };
        assert_eq!(errno_of(c.setattr(n, &sa)), libc::EOPNOTSUPP);
        let t = Timespec { sec: 1000, nsec: 0 };
        let sa = SetAttr {
            mtime: Some(TimeSet::At(t)),
            ..Default::default()
        };
        assert_eq!(c.setattr(n, &sa).unwrap().mtime, t);
        assert_eq!(errno_of(c.getxattr(n, b"user.x")), libc::ENODATA);
        assert_eq!(errno_of(c.setxattr(n, b"user.x", b"v", 0)), libc::EPERM);
        fx.secret_intact();
    }
    let (abs, _) = c.walk(root, b"abs_out").unwrap();
    assert_eq!(errno_of(c.open(abs, libc::O_RDWR)), libc::ELOOP);
    if is_root() {
        let sa = SetAttr {
            uid: Some(4321),
            ..Default::default()
        };
        c.setattr(abs, &sa).unwrap();
    }
    assert_ne!(fs::metadata(fx.base.join("secret")).unwrap().uid(), 4321);
    fx.secret_intact();

    // Mutations with bad names.
    let (sub, _) = c.walk(root, b"sub").unwrap();
    let (a, _) = c.walk(root, b"a.txt").unwrap();
    for bad in [&b".."[..], b".", b"../secret", b"sub/b", b"/tmp/x", b""] {
        assert_ne!(
            c.rename(root, bad, sub, b"x", 0).err().map(|e| e.errno()),
            None
        );
        assert!(c.rename(root, b"a.txt", sub, bad, 0).is_err());
        assert!(c.link(a, root, bad).is_err());
        assert!(c.unlink(root, bad, 0).is_err());
        assert!(c.unlink(root, bad, libc::AT_REMOVEDIR).is_err());
        assert!(c.create(root, bad, libc::O_RDWR, 0o644, 0, 0).is_err());
        assert!(c.mkdir(root, bad, 0o755, 0, 0).is_err());
        assert!(c.symlink(root, bad, b"/", 0, 0).is_err());
        assert!(c.mknod(root, bad, libc::S_IFREG | 0o644, 0, 0, 0).is_err());
    }
    assert_eq!(
        errno_of(c.rename(root, b"a.txt", root, b"../escaped", 0)),
        libc::EINVAL
    );
    assert!(!fx.base.join("escaped").exists());
    assert!(fx.root.join("a.txt").exists());
    assert!(fx.root.join("sub/b").exists());
    fx.secret_intact();
}

#[test]
fn malformed_requests_get_einval() {
    let dir = std::env::temp_dir().join(format!("gofer-raw-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let (c, s) = socket_pair().unwrap();
    let config = ServerConfig {
        root: dir.clone(),
        readonly: false,
    };
    let server = std::thread::spawn(move || serve(&config, s));
    let mut buf = Vec::new();
    let mut fds = Vec::new();
    let mut roundtrip = |frame: &[u8]| -> (u64, i32) {
        send_frame(c.as_fd(), frame, &[]).unwrap();
        let mut reply = Vec::new();
        assert!(recv_frame(c.as_fd(), &mut reply, &mut fds).unwrap());
        let mut d = Decoder::new(&reply);
        let h = message::ReplyHeader::decode(&mut d).unwrap();
        (h.id, h.errno)
    };
    // Unknown opcode, truncated fields, trailing garbage.
    let raw = |id: u64, body: &[u8]| {
        let mut f = Vec::new();
        f.extend_from_slice(&((8 + body.len()) as u32).to_le_bytes());
        f.extend_from_slice(&id.to_le_bytes());
        f.extend_from_slice(body);
        f
    };
    assert_eq!(roundtrip(&raw(7, &[0xff, 0xff])), (7, libc::EINVAL));
    assert_eq!(roundtrip(&raw(8, &[2, 0, 1])), (8, libc::EINVAL));
    assert_eq!(roundtrip(&raw(9, &[1, 0, 0])), (9, libc::EINVAL));
    // Walk with a huge name count.
    assert_eq!(
        roundtrip(&raw(
            10,
            &[2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        )),
        (10, libc::EINVAL)
    );
    // Still serving.
    Request::Root.encode(11, &mut buf).unwrap();
    assert_eq!(roundtrip(&buf), (11, 0));
    // An oversized length drops the connection without a panic.
    let mut f = Vec::new();
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    send_frame(c.as_fd(), &f, &[]).unwrap();
    assert!(server.join().unwrap().is_err());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn mutations_work() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();

    // create: exact mode despite the process umask, O_EXCL semantics.
    let (f, st, fd) = c
        .create(root, b"new", libc::O_RDWR, 0o666, 1234, 5678)
        .unwrap();
    assert!(st.is_file());
    assert_eq!(st.mode & 0o7777, 0o666);
    if is_root() {
        assert_eq!((st.uid, st.gid), (1234, 5678));
    }
    fs::File::from(fd).write_all(b"data").unwrap();
    assert_eq!(fs::read(fx.root.join("new")).unwrap(), b"data");
    assert_eq!(c.stat(f).unwrap().size, 4);
    assert_eq!(
        errno_of(c.create(root, b"new", libc::O_RDWR, 0o644, 0, 0)),
        libc::EEXIST
    );
    assert_eq!(
        errno_of(c.create(root, b"lnk", libc::O_RDWR, 0o644, 0, 0)),
        libc::EEXIST
    );

    // mkdir
    let (d, st) = c.mkdir(root, b"dir", 0o777, 0, 0).unwrap();
    assert!(st.is_dir());
    assert_eq!(st.mode & 0o777, 0o777);
    let (_, st) = c.mkdir(d, b"inner", 0o700, 0, 0).unwrap();
    assert_eq!(st.mode & 0o777, 0o700);
    assert!(fx.root.join("dir/inner").is_dir());

    // mknod: regular files and fifos only.
    let (_, st) = c
        .mknod(root, b"fifo", libc::S_IFIFO | 0o600, 0, 0, 0)
        .unwrap();
    assert_eq!(st.file_type(), libc::S_IFIFO);
    let (fifo, _) = c.walk(root, b"fifo").unwrap();
    assert_eq!(errno_of(c.open(fifo, libc::O_RDONLY)), libc::EACCES);
    let (_, st) = c.mknod(root, b"reg", 0o640, 0, 0, 0).unwrap();
    assert!(st.is_file());
    assert_eq!(
        errno_of(c.mknod(root, b"chr", libc::S_IFCHR | 0o600, 0x0103, 0, 0)),
        libc::EPERM
    );
    assert_eq!(
        errno_of(c.mknod(root, b"blk", libc::S_IFBLK | 0o600, 0x0800, 0, 0)),
        libc::EPERM
    );

    // symlink
    let (s, st) = c.symlink(d, b"sl", b"../../../etc/shadow", 0, 0).unwrap();
    assert!(st.is_symlink());
    assert_eq!(c.readlink(s).unwrap(), b"../../../etc/shadow");
    assert_eq!(errno_of(c.open(s, libc::O_RDONLY)), libc::ELOOP);
    assert_eq!(errno_of(c.symlink(d, b"empty", b"", 0, 0)), libc::ENOENT);

    // link
    let (l, st) = c.link(f, d, b"hard").unwrap();
    assert_eq!(st.nlink, 2);
    assert_eq!(st.ino, c.stat(f).unwrap().ino);
    assert_eq!(read_all(c.open(l, libc::O_RDONLY).unwrap()), b"data");
    assert_eq!(errno_of(c.link(d, root, b"dirlink")), libc::EPERM);
    let (_, st) = c.link(s, root, b"symhard").unwrap();
    assert!(st.is_symlink());

    // rename
    c.rename(d, b"hard", root, b"moved", 0).unwrap();
    assert!(fx.root.join("moved").exists() && !fx.root.join("dir/hard").exists());
    assert_eq!(
        errno_of(c.rename(root, b"moved", root, b"new", libc::RENAME_NOREPLACE)),
        libc::EEXIST
    );
    c.rename(root, b"a.txt", root, b"new", libc::RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(fs::read(fx.root.join("new")).unwrap(), b"hello");
    assert_eq!(
        errno_of(c.rename(root, b"new", root, b"x", 0x80)),
        libc::EINVAL
    );

    // unlink
    c.unlink(root, b"moved", 0).unwrap();
    assert!(!fx.root.join("moved").exists());
    assert_eq!(errno_of(c.unlink(d, b"inner", 0)), libc::EISDIR);
    c.unlink(d, b"inner", libc::AT_REMOVEDIR).unwrap();
    assert_eq!(errno_of(c.unlink(root, b"dir", 0x1)), libc::EINVAL);
    assert_eq!(errno_of(c.unlink(root, b"gone", 0)), libc::ENOENT);

    // setattr
    let t = Timespec {
        sec: 1_000_000,
        nsec: 5,
    };
    let (uid, gid) = if is_root() {
        (42, 43)
    } else {
        (st.uid, st.gid)
    };
    let sa = SetAttr {
        mode: Some(0o604),
        uid: Some(uid),
        gid: Some(gid),
        size: Some(2),
        atime: Some(TimeSet::At(t)),
        mtime: Some(TimeSet::Now),
    };
    let st = c.setattr(f, &sa).unwrap();
    assert_eq!(st.mode & 0o7777, 0o604);
    assert_eq!((st.uid, st.gid, st.size), (uid, gid, 2));
    assert_eq!(st.atime, t);
    assert!(st.mtime.sec > 1_000_000);
    assert_eq!(
        errno_of(c.setattr(
            d,
            &SetAttr {
                size: Some(0),
                ..Default::default()
            }
        )),
        libc::EISDIR
    );
    let st = c
        .setattr(
            d,
            &SetAttr {
                mode: Some(0o711),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(st.mode & 0o7777, 0o711);

    // xattrs (user namespace only)
    match c.setxattr(f, b"user.k", b"v1", 0) {
        Ok(()) => {
            eprintln!("xattrs supported on the test filesystem");
            assert_eq!(c.getxattr(f, b"user.k").unwrap(), b"v1");
            assert_eq!(c.listxattr(f).unwrap(), vec![b"user.k".to_vec()]);
            assert_eq!(
                errno_of(c.setxattr(f, b"user.k", b"v2", libc::XATTR_CREATE)),
                libc::EEXIST
            );
            c.removexattr(f, b"user.k").unwrap();
            assert_eq!(errno_of(c.getxattr(f, b"user.k")), libc::ENODATA);
        }
        Err(e) => assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}"),
    }
    assert_eq!(
        errno_of(c.setxattr(f, b"security.capability", b"x", 0)),
        libc::EOPNOTSUPP
    );
    assert_eq!(errno_of(c.getxattr(f, b"trusted.x")), libc::EOPNOTSUPP);
}

#[test]
fn readonly_refuses_mutations() {
    let fx = Fixture::new(true);
    let c = fx.c();
    let root = fx.root_node();
    let (a, _) = c.walk(root, b"a.txt").unwrap();
    let (l, _) = c.walk(root, b"lnk").unwrap();
    assert_eq!(read_all(c.open(a, libc::O_RDONLY).unwrap()), b"hello");
    assert_eq!(c.readlink(l).unwrap(), b"a.txt");
    assert!(!c.getdents(root).unwrap().is_empty());
    let rofs = libc::EROFS;
    assert_eq!(errno_of(c.open(a, libc::O_WRONLY)), rofs);
    assert_eq!(errno_of(c.open(a, libc::O_RDWR)), rofs);
    assert_eq!(errno_of(c.open(a, libc::O_RDONLY | libc::O_TRUNC)), rofs);
    assert_eq!(
        errno_of(c.create(root, b"n", libc::O_RDWR, 0o644, 0, 0)),
        rofs
    );
    assert_eq!(errno_of(c.mkdir(root, b"n", 0o755, 0, 0)), rofs);
    assert_eq!(
        errno_of(c.mknod(root, b"n", libc::S_IFREG | 0o644, 0, 0, 0)),
        rofs
    );
    assert_eq!(errno_of(c.symlink(root, b"n", b"x", 0, 0)), rofs);
    assert_eq!(errno_of(c.link(a, root, b"n")), rofs);
    assert_eq!(errno_of(c.unlink(root, b"a.txt", 0)), rofs);
    assert_eq!(errno_of(c.rename(root, b"a.txt", root, b"n", 0)), rofs);
    assert_eq!(
        errno_of(c.setattr(
            a,
            &SetAttr {
                size: Some(0),
                ..Default::default()
            }
        )),
        rofs
    );
    assert_eq!(errno_of(c.setxattr(a, b"user.x", b"v", 0)), rofs);
    assert_eq!(errno_of(c.removexattr(a, b"user.x")), rofs);
    assert_eq!(fs::read(fx.root.join("a.txt")).unwrap(), b"hello");
}

#[test]
fn concurrent_clients() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();
    std::thread::scope(|s| {
        for t in 0..8 {
            s.spawn(move || {
                for i in 0..200 {
                    let (n, st) = c.walk(root, b"a.txt").unwrap();
                    assert_eq!(st.size, 5);
                    assert_eq!(read_all(c.open(n, libc::O_RDONLY).unwrap()), b"hello");
                    let name = format!("t{t}-{i}");
                    let (m, _) = c.mkdir(root, name.as_bytes(), 0o755, 0, 0).unwrap();
                    assert!(c.stat(m).unwrap().is_dir());
                    c.unlink(root, name.as_bytes(), libc::AT_REMOVEDIR).unwrap();
                    c.close(m);
                    c.close(n);
                }
            });
        }
    });
    assert_eq!(c.getdents(root).unwrap().len(), 8);
}

#[test]
fn client_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Client>();
}

#[test]
fn server_fails_on_missing_root() {
    let (_c, s) = socket_pair().unwrap();
    let config = ServerConfig {
        root: Path::new("/nonexistent/gofer/root").into(),
        readonly: false,
    };
    assert_eq!(serve(&config, s).unwrap_err().errno(), libc::ENOENT);
}

#[test]
fn long_walks_are_chunked() {
    let fx = Fixture::new(false);
    let c = fx.c();
    let root = fx.root_node();
    let depth = message::MAX_WALK + 100;
    fs::create_dir(fx.root.join("deep")).unwrap();
    // Build the chain through the gofer itself (host paths would exceed PATH_MAX).
    let (mut cur, _) = c.walk(root, b"deep").unwrap();
    for _ in 0..depth {
        cur = c.mkdir(cur, b"d", 0o755, 0, 0).unwrap().0;
    }
    let mut names: Vec<&[u8]> = vec![b"deep"];
    names.extend(std::iter::repeat_n(&b"d"[..], depth));
    let w = c.walk_many(root, &names).unwrap();
    assert_eq!(w.len(), depth + 1);
    assert_eq!(w.last().unwrap().1.ino, c.stat(cur).unwrap().ino);
    // A missing component in the second chunk stops the walk there.
    names[message::MAX_WALK + 10] = b"nope";
    assert_eq!(
        c.walk_many(root, &names).unwrap().len(),
        message::MAX_WALK + 10
    );
    // A missing first component of the second chunk also just stops it.
    names[message::MAX_WALK + 10] = b"d";
    names[message::MAX_WALK] = b"nope";
    assert_eq!(c.walk_many(root, &names).unwrap().len(), message::MAX_WALK);
}

#[test]
fn serve_without_proc() {
    let dir = std::env::temp_dir().join(format!("gofer-noproc-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("f"), b"x").unwrap();
    let (cs, ss) = socket_pair().unwrap();
    let config = ServerConfig {
        root: dir.clone(),
        readonly: false,
    };
    let server = std::thread::spawn(move || serve_with_proc_fd(&config, ss, None));
    let c = Client::new(cs);
    let root = c.root().unwrap().0;
    let (f, _) = c.walk(root, b"f").unwrap();
    assert_eq!(errno_of(c.open(f, libc::O_RDONLY)), libc::EOPNOTSUPP);
    assert!(c.open(root, libc::O_RDONLY).is_ok());
    assert_eq!(c.getdents(root).unwrap().len(), 1);
    drop(c);
    server.join().unwrap().unwrap();
    let _ = fs::remove_dir_all(&dir);
}
