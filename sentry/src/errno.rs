//! Linux error numbers as the sentry returns them to the application.

/// A Linux errno. Syscall handlers return `Err(Errno)`; the dispatcher turns
/// it into `-errno` in `rax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[allow(missing_docs)]
                pub const $name: Errno = Errno(libc::$name);
            )*
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    ERANGE,
    ENAMETOOLONG,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENODATA,
    EOVERFLOW,
    EOPNOTSUPP,
    ENOTSUP,
    ETIMEDOUT,
    ENOTSOCK,
    EMSGSIZE,
    ENOPROTOOPT,
    EDEADLK,
    ENOLCK
);

impl Errno {
    /// Restart the syscall if the signal handler has SA_RESTART, else EINTR.
    pub const ERESTARTSYS: Errno = Errno(512);
    /// Always restart the syscall.
    pub const ERESTARTNOINTR: Errno = Errno(513);
    /// Restart unless a handler runs.
    pub const ERESTARTNOHAND: Errno = Errno(514);

    /// Whether this is one of the internal restart codes.
    pub fn is_restart(self) -> bool {
        (512..=516).contains(&self.0)
    }

    /// The errno of the last failed host call.
    pub fn last() -> Errno {
        Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// Maps a host I/O error to the errno the application should see.
    pub fn from_io(e: &std::io::Error) -> Errno {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

impl From<gofer::Error> for Errno {
    fn from(e: gofer::Error) -> Errno {
        Errno(e.errno())
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Errno {
        Errno(e as i32)
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "errno {}", self.0)
    }
}

/// What a syscall handler returns.
pub type SysResult = Result<u64, Errno>;
