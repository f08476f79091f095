//! docs/syscalls.md must match the dispatch table.

use std::path::PathBuf;

#[test]
fn compat_doc_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/syscalls.md");
    let want = sentry::syscalls::compat_table();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/syscalls.md is stale: run `UPDATE_DOCS=1 cargo test -p sentry --test syscall_table`"
    );
}
