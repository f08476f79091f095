#!/usr/bin/env bash
# Builds runsc and runs it: `bash scripts/run.sh do /bin/echo hello`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh >&2
cargo build --release -q -p runsc
exec target/release/runsc "$@"
