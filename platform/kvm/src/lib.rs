//! The KVM platform: application code in guest ring 3 of a virtual machine.
//!
//! Not implemented yet. It exists so that `--platform=kvm` is a known choice
//! that fails with a clear message instead of an unknown-flag error.

use platform::{Error, Platform, Result};

/// The KVM platform.
pub struct KvmPlatform;

impl KvmPlatform {
    /// Opens /dev/kvm and prepares a VM; today always reports that the
    /// platform is not ready.
    pub fn open(_memfd: i32) -> Result<Box<dyn Platform>> {
        if let Err(e) = std::fs::metadata("/dev/kvm") {
            return Err(Error::Unavailable(format!("/dev/kvm: {e}")));
        }
        Err(Error::Unavailable(
            "the kvm platform is not implemented yet; use --platform=ptrace".into(),
        ))
    }
}
