#!/usr/bin/env bash
# The whole test suite: formatting and lints, unit tests, the syscall tests
# (natively and in the sandbox on every platform), and end-to-end checks.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh || exit 1
set -e
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -q -- -D warnings
cargo build --release --workspace -q
set +e
cargo test --release --workspace >/tmp/unit-tests.$$ 2>&1
unit_rc=$?
grep -E "^test result|FAILED|panicked" /tmp/unit-tests.$$
if [ "$unit_rc" -ne 0 ]; then
  cat /tmp/unit-tests.$$
  rm -f /tmp/unit-tests.$$
  echo "unit tests failed"
  exit 1
fi
rm -f /tmp/unit-tests.$$
fail=0
./target/release/syscall-tests --platform ptrace,kvm 2>&1 | tee /tmp/syscall-tests.$$ | grep -vE "^[a-z_0-9]+\.[a-z_0-9]+ +PASS +PASS"
st_rc=${PIPESTATUS[0]}
st_line=$(grep -E "^syscall-tests: [0-9]+ passed" /tmp/syscall-tests.$$ | tail -1)
rm -f /tmp/syscall-tests.$$
[ "$st_rc" -eq 0 ] || fail=1
e_pass=0
e_fail=0
for platform in ptrace kvm; do
  rm -f "/tmp/e2e-summary.$platform"
  PLATFORM=$platform bash tests/e2e.sh || fail=1
  read -r p f <<<"$(cat "/tmp/e2e-summary.$platform" 2>/dev/null || echo "0 1")"
  e_pass=$((e_pass + p))
  e_fail=$((e_fail + f))
done
st_pass=$(echo "$st_line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
st_fail=$(echo "$st_line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
echo
echo "all: $((st_pass + e_pass)) passed, $((st_fail + e_fail)) failed"
exit $fail
