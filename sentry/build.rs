//! Builds the vDSO image that the sentry maps into every process.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("vdso");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("vdso.so");
    for f in ["vdso.c", "vdso.ver", "vdso.lds"] {
        println!("cargo:rerun-if-changed=vdso/{f}");
    }
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args([
            "-shared",
            "-fPIC",
            "-O2",
            "-nostdlib",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--hash-style=both",
            "-Wl,--build-id=none",
        ])
        .arg(format!(
            "-Wl,--version-script={}",
            dir.join("vdso.ver").display()
        ))
        .arg(format!("-Wl,-T,{}", dir.join("vdso.lds").display()))
        .arg("-o")
        .arg(&out)
        .arg(dir.join("vdso.c"))
        .status()
        .expect("running gcc to build the vDSO (install gcc)");
    assert!(status.success(), "building the vDSO failed");
}
