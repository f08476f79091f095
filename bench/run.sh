#!/usr/bin/env bash
# Benchmarks of our runsc beside native execution and Debian's runsc (gVisor),
# measured in one run so the ratios compare like with like.
#
#   bash bench/run.sh
#
# Figures:
#   Every figure natively, under our `runsc do` on both platforms (ptrace,
#   kvm) and under gVisor's `runsc do` (ptrace; its KVM platform hangs on
#   this machine).
#   getppid_ns   mean cost of one getppid(2) round trip (bench/getppid.c).
#                Median of $REPS runs each.
#   true_ms      wall time of `runsc do /bin/true`, ours vs gVisor, median of
#                $TRUE_RUNS runs each.
#   fork_exec_ms fork+exec+wait of /bin/true, $FORK_ITERS times from a
#                /bin/sh loop, timed inside the sandbox (ms per iteration);
#                native, ours and gVisor take turns for $FORK_REPS rounds,
#                median of each.
#   thread_us    pthread create+join, sequentially (bench/threads.c).
#   futex_pingpong_us  FUTEX_WAKE/FUTEX_WAIT round trip between two threads
#                (bench/futex.c).
#   touch_ms     writing one byte to each page of $TOUCH_MIB MiB of fresh
#                anonymous memory (bench/touch.c): page-fault heavy.
#   thread_us, futex and touch: median of $FIG_REPS runs each.
#   files        bench/fileio.c on a read-write bind mount of a host
#                directory: sequential write (with fsync) and read of a
#                $FILE_MIB MiB file (MB/s), stat and open+close of 10,000
#                files (ms), and 256 MiB through a pipe (MB/s); natively,
#                under runc, ours (both platforms) and gVisor, each with
#                `run` of one bundle (root: the host's / read-only).
#                Median of $FIO_REPS runs.
#   kvm exits    VM exits (returns of KVM_RUN) per system call in the getppid
#                run, and per touched page in the touch run, as the kvm
#                platform counts them (RUNSC_KVM_STATS).
# Targets: getppid ours <= 1/4 of gVisor's; fork_exec ours <= 1/3 of gVisor's.
#
# Environment knobs (all optional):
#   NATIVE_ITERS (200000)  OURS_ITERS (20000)  GVISOR_ITERS (10000)
#   REPS (5)  TRUE_RUNS (10)  GVISOR (/usr/bin/runsc)  RUNSC (target/release/runsc)
#   PINNED (1): also measure getppid with the whole sandbox pinned to CPU 0
#               (taskset), as an informational figure.
#   FIG_REPS (3)  FIG_TIMEOUT (20 s per run)  FORK_ITERS (200)  FORK_REPS (5)
#   THREAD_NATIVE_ITERS (2000)  THREAD_SANDBOX_ITERS (500)
#   FUTEX_NATIVE_ITERS (20000)  FUTEX_SANDBOX_ITERS (5000)  TOUCH_MIB (1024)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
RUNSC="${RUNSC:-$ROOT/target/release/runsc}"
GVISOR="${GVISOR:-/usr/bin/runsc}"
NATIVE_ITERS="${NATIVE_ITERS:-200000}"
OURS_ITERS="${OURS_ITERS:-20000}"
GVISOR_ITERS="${GVISOR_ITERS:-10000}"
REPS="${REPS:-5}"
TRUE_RUNS="${TRUE_RUNS:-10}"
PINNED="${PINNED:-1}"
FIG_REPS="${FIG_REPS:-3}"
FORK_REPS="${FORK_REPS:-5}"
FIG_TIMEOUT="${FIG_TIMEOUT:-20}"
FORK_ITERS="${FORK_ITERS:-200}"
THREAD_NATIVE_ITERS="${THREAD_NATIVE_ITERS:-2000}"
THREAD_SANDBOX_ITERS="${THREAD_SANDBOX_ITERS:-500}"
FUTEX_NATIVE_ITERS="${FUTEX_NATIVE_ITERS:-20000}"
FUTEX_SANDBOX_ITERS="${FUTEX_SANDBOX_ITERS:-5000}"
TOUCH_MIB="${TOUCH_MIB:-1024}"
FILE_MIB="${FILE_MIB:-512}"
FIO_REPS="${FIO_REPS:-3}"
RUNC="${RUNC:-$(command -v runc || true)}"
# A single sandboxed run never takes this long; a hang is reported, not waited on.
RUN_TIMEOUT=60

die() { echo "bench: $*" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/runsc-bench.XXXXXXXX")"
cleanup() {
	local pids
	# Processes a timed-out sandbox left behind carry our temp dir in their
	# command line (--root / the benchmark binary); end exactly those.
	pids="$(pgrep -f -- "$TMP" 2>/dev/null | grep -vx "$$" || true)"
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
	fi
	rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ------------------------------------------------------------------
command -v gcc >/dev/null 2>&1 || die "gcc not found: install gcc (and libc6-dev for static linking)"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) not found"
gcc -static -O2 -Wall -o "$TMP/getppid" "$BENCH/getppid.c" \
	|| die "gcc -static failed (is libc6-dev installed?)"
gcc -static -O2 -Wall -o "$TMP/touch" "$BENCH/touch.c" || die "gcc -static touch.c failed"
gcc -static -O2 -Wall -o "$TMP/fileio" "$BENCH/fileio.c" || die "gcc -static fileio.c failed"
for prog in threads futex; do
	gcc -static -O2 -Wall -pthread -o "$TMP/$prog" "$BENCH/$prog.c" \
		|| die "gcc -static -pthread $prog.c failed"
done

if [ ! -x "$RUNSC" ]; then
	echo "bench: $RUNSC missing, building it" >&2
	(cd "$ROOT" && cargo build --release -p runsc) || die "cargo build --release -p runsc failed"
	[ -x "$RUNSC" ] || die "$RUNSC still missing after build"
fi

# State directories inside the temp dir, so nothing is left elsewhere.
mkdir -p "$TMP/ours-root" "$TMP/gvisor-root"
OURS=("$RUNSC" --root "$TMP/ours-root" --platform=ptrace --network=none do)
KVM=("$RUNSC" --root "$TMP/ours-root" --platform=kvm --network=none do)
# gVisor 2022 as root: `do` works with ptrace and no network. Its KVM platform
# hangs on this machine, so ptrace only. Its stdout must be a pipe (with a
# regular file as stdout its output is lost), hence $(...) capture below.
GV=("$GVISOR" --root "$TMP/gvisor-root" --platform=ptrace --network=none do)

HAVE_GVISOR=0
GVISOR_WHY="not installed"
if [ -x "$GVISOR" ]; then
	rc=0
	out="$(timeout -k 5 "$RUN_TIMEOUT" "${GV[@]}" /bin/echo ok 2>"$TMP/gv.err")" || rc=$?
	if [ "$rc" = 0 ] && [ "$out" = ok ]; then
		HAVE_GVISOR=1
	else
		GVISOR_WHY="installed but \`$GVISOR ... do /bin/echo ok\` failed (exit $rc$([ "$rc" = 124 ] && echo ', timed out'), stdout '$out'): $(tr '\n' ' ' <"$TMP/gv.err" | cut -c1-300)"
	fi
fi
out="$(timeout -k 5 "$RUN_TIMEOUT" "${OURS[@]}" /bin/echo ok 2>"$TMP/ours.err")" && [ "$out" = ok ] \
	|| die "our runsc cannot run /bin/echo: $(cat "$TMP/ours.err")"

HAVE_KVM=0
KVM_WHY=""
rc=0
out="$(timeout -k 5 "$RUN_TIMEOUT" "${KVM[@]}" /bin/echo ok 2>"$TMP/kvm.err")" || rc=$?
if [ "$rc" = 0 ] && [ "$out" = ok ]; then
	HAVE_KVM=1
else
	KVM_WHY="our runsc --platform=kvm cannot run /bin/echo (exit $rc): $(tr '\n' ' ' <"$TMP/kvm.err" | cut -c1-300)"
fi

HAVE_TASKSET=0
command -v taskset >/dev/null 2>&1 && HAVE_TASKSET=1

# --- helpers ----------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f\n", a / b }'; }

# getppid_ns LABEL CMD...: run CMD (which ends in the benchmark binary and
# its iteration count) REPS times and print the median ns per call.
getppid_ns() {
	local label="$1"; shift
	local i out
	for ((i = 0; i < REPS; i++)); do
		if ! out="$(timeout -k 5 "$RUN_TIMEOUT" "$@" 2>"$TMP/err")"; then
			echo "bench: getppid under $label failed: $(cat "$TMP/err")" >&2
			return 1
		fi
		awk '$1 == "getppid_ns" { print $2; found = 1 } END { exit !found }' <<<"$out" \
			|| { echo "bench: no getppid_ns line from $label: $out" >&2; return 1; }
	done | median
}

# true_ms CMD...: median wall time in ms of CMD /bin/true over TRUE_RUNS runs.
true_ms() {
	local i t0 t1
	for ((i = 0; i < TRUE_RUNS; i++)); do
		t0="$(date +%s%N)"
		timeout -k 5 "$RUN_TIMEOUT" "$@" /bin/true >/dev/null 2>"$TMP/err" \
			|| { echo "bench: $* /bin/true failed: $(cat "$TMP/err")" >&2; return 1; }
		t1="$(date +%s%N)"
		echo $(((t1 - t0) / 1000))
	done | median | awk '{ printf "%.2f\n", $1 / 1000 }'
}

# figure SLOT LABEL KEY CMD...: run CMD (whose stdout has a line `KEY value`)
# FIG_REPS times and print the median value. A failed, timed-out or
# unparsable run stops the figure: the reason goes to $TMP/why.SLOT (shown in
# the report) and the function fails, so the caller leaves the cell empty and
# carries on. stdout is always a pipe (see gVisor's note above).
figure() {
	local slot="$1" label="$2" key="$3"; shift 3
	local i rc out v vals=""
	rm -f "$TMP/why.$slot"
	for ((i = 0; i < FIG_REPS; i++)); do
		rc=0
		out="$(timeout -k 5 "$FIG_TIMEOUT" "$@" 2>"$TMP/err")" || rc=$?
		if [ "$rc" != 0 ]; then
			{
				printf '%s failed (exit %s' "$label" "$rc"
				[ "$rc" = 124 ] && printf ', timed out after %ss' "$FIG_TIMEOUT"
				printf ' on run %d of %d' $((i + 1)) "$FIG_REPS"
				[ -n "$vals" ] && printf '; earlier runs gave %s' "$(printf '%s' "$vals" | tr '\n' ' ' | sed 's/ $//')"
				printf '): '
				if [ -s "$TMP/err" ]; then tr '\n' ' ' <"$TMP/err" | cut -c1-300; else printf '(no stderr)'; fi
				echo
			} >"$TMP/why.$slot"
			return 1
		fi
		if ! v="$(awk -v k="$key" '$1 == k { print $2; found = 1 } END { exit !found }' <<<"$out")"; then
			echo "$label printed no \`$key\` line: $(tr '\n' ' ' <<<"$out" | cut -c1-300)" >"$TMP/why.$slot"
			return 1
		fi
		vals+="$v"$'\n'
	done
	printf '%s' "$vals" | median
}

# The fork+exec+wait loop, timed inside the sandbox so that the figure is the
# loop alone (sandbox setup is `true_ms`). The two `date` calls add one
# fork+exec each to the FORK_ITERS timed ones.
FORK_SH='i=0; t0=$(date +%s%N); while [ $i -lt '"$FORK_ITERS"' ]; do /bin/true; i=$((i+1)); done; t1=$(date +%s%N); echo fork_exec_ns $((t1 - t0))'
ns_to_ms_per_iter() { [ -n "$1" ] && awk -v ns="$1" -v n="$FORK_ITERS" 'BEGIN { printf "%.3f\n", ns / n / 1e6 }'; }

# --- measure ----------------------------------------------------------------
echo "bench: $(nproc) CPUs, kernel $(uname -r); ours=$RUNSC gvisor=$GVISOR" >&2
echo "bench: measuring getppid (native $NATIVE_ITERS, ours $OURS_ITERS, gVisor $GVISOR_ITERS iterations; median of $REPS)" >&2
G_NATIVE="$(getppid_ns native "$TMP/getppid" "$NATIVE_ITERS")"
G_OURS="$(getppid_ns ours "${OURS[@]}" "$TMP/getppid" "$OURS_ITERS")"
G_KVM=""
[ "$HAVE_KVM" = 1 ] && G_KVM="$(getppid_ns kvm "${KVM[@]}" "$TMP/getppid" "$OURS_ITERS")"
G_GV=""
[ "$HAVE_GVISOR" = 1 ] && G_GV="$(getppid_ns gvisor "${GV[@]}" "$TMP/getppid" "$GVISOR_ITERS")"

P_OURS="" P_GV=""
if [ "$PINNED" = 1 ] && [ "$HAVE_TASKSET" = 1 ]; then
	echo "bench: measuring getppid pinned to CPU 0" >&2
	P_OURS="$(getppid_ns "ours pinned" taskset -c 0 "${OURS[@]}" "$TMP/getppid" "$OURS_ITERS")"
	[ "$HAVE_GVISOR" = 1 ] && P_GV="$(getppid_ns "gvisor pinned" taskset -c 0 "${GV[@]}" "$TMP/getppid" "$GVISOR_ITERS")"
fi

echo "bench: measuring \`do /bin/true\` wall time (median of $TRUE_RUNS)" >&2
T_OURS="$(true_ms "${OURS[@]}")"
T_KVM=""
[ "$HAVE_KVM" = 1 ] && T_KVM="$(true_ms "${KVM[@]}")"
T_GV=""
[ "$HAVE_GVISOR" = 1 ] && T_GV="$(true_ms "${GV[@]}")"

echo "bench: measuring fork+exec+wait of /bin/true ($FORK_ITERS per run from /bin/sh; $FORK_REPS rounds, median)" >&2
# The three take turns, round after round, so that a slow or a fast phase
# of the machine (they last seconds here) hits all of them alike.
FV_NATIVE="" FV_OURS="" FV_KVM="" FV_GV=""
F_OK_NATIVE=1 F_OK_OURS=1 F_OK_KVM="$HAVE_KVM" F_OK_GV="$HAVE_GVISOR"
for ((r = 0; r < FORK_REPS; r++)); do
	if [ "$F_OK_NATIVE" = 1 ]; then
		v="$(FIG_REPS=1 figure f_native "native fork loop" fork_exec_ns /bin/sh -c "$FORK_SH")" && FV_NATIVE+="$v"$'\n' || F_OK_NATIVE=0
	fi
	if [ "$F_OK_OURS" = 1 ]; then
		v="$(FIG_REPS=1 figure f_ours "ours fork loop" fork_exec_ns "${OURS[@]}" /bin/sh -c "$FORK_SH")" && FV_OURS+="$v"$'\n' || F_OK_OURS=0
	fi
	if [ "$F_OK_KVM" = 1 ]; then
		v="$(FIG_REPS=1 figure f_kvm "kvm fork loop" fork_exec_ns "${KVM[@]}" /bin/sh -c "$FORK_SH")" && FV_KVM+="$v"$'\n' || F_OK_KVM=0
	fi
	if [ "$F_OK_GV" = 1 ]; then
		v="$(FIG_REPS=1 figure f_gv "gvisor fork loop" fork_exec_ns "${GV[@]}" /bin/sh -c "$FORK_SH")" && FV_GV+="$v"$'\n' || F_OK_GV=0
	fi
done
F_NATIVE="" F_OURS="" F_KVM="" F_GV=""
[ "$F_OK_NATIVE" = 1 ] && F_NATIVE="$(printf '%s' "$FV_NATIVE" | median)"
[ "$F_OK_OURS" = 1 ] && F_OURS="$(printf '%s' "$FV_OURS" | median)"
[ "$F_OK_KVM" = 1 ] && F_KVM="$(printf '%s' "$FV_KVM" | median)"
[ "$F_OK_GV" = 1 ] && F_GV="$(printf '%s' "$FV_GV" | median)"
F_NATIVE="$(ns_to_ms_per_iter "$F_NATIVE")" || true
F_OURS="$(ns_to_ms_per_iter "$F_OURS")" || true
F_KVM="$(ns_to_ms_per_iter "$F_KVM")" || true
F_GV="$(ns_to_ms_per_iter "$F_GV")" || true

echo "bench: measuring thread create+join (native $THREAD_NATIVE_ITERS, sandboxes $THREAD_SANDBOX_ITERS threads; median of $FIG_REPS)" >&2
TH_NATIVE="$(figure th_native "native threads" thread_us "$TMP/threads" "$THREAD_NATIVE_ITERS")" || TH_NATIVE=""
TH_OURS="$(figure th_ours "ours threads" thread_us "${OURS[@]}" "$TMP/threads" "$THREAD_SANDBOX_ITERS")" || TH_OURS=""
TH_KVM=""
[ "$HAVE_KVM" = 1 ] && { TH_KVM="$(figure th_kvm "kvm threads" thread_us "${KVM[@]}" "$TMP/threads" "$THREAD_SANDBOX_ITERS")" || TH_KVM=""; }
TH_GV=""
[ "$HAVE_GVISOR" = 1 ] && { TH_GV="$(figure th_gv "gvisor threads" thread_us "${GV[@]}" "$TMP/threads" "$THREAD_SANDBOX_ITERS")" || TH_GV=""; }

echo "bench: measuring futex ping-pong (native $FUTEX_NATIVE_ITERS, sandboxes $FUTEX_SANDBOX_ITERS round trips; median of $FIG_REPS)" >&2
FX_NATIVE="$(figure fx_native "native futex" futex_pingpong_us "$TMP/futex" "$FUTEX_NATIVE_ITERS")" || FX_NATIVE=""
FX_OURS="$(figure fx_ours "ours futex" futex_pingpong_us "${OURS[@]}" "$TMP/futex" "$FUTEX_SANDBOX_ITERS")" || FX_OURS=""
FX_KVM=""
[ "$HAVE_KVM" = 1 ] && { FX_KVM="$(figure fx_kvm "kvm futex" futex_pingpong_us "${KVM[@]}" "$TMP/futex" "$FUTEX_SANDBOX_ITERS")" || FX_KVM=""; }
FX_GV=""
[ "$HAVE_GVISOR" = 1 ] && { FX_GV="$(figure fx_gv "gvisor futex" futex_pingpong_us "${GV[@]}" "$TMP/futex" "$FUTEX_SANDBOX_ITERS")" || FX_GV=""; }

echo "bench: measuring page faults: touch $TOUCH_MIB MiB of fresh memory (median of $FIG_REPS)" >&2
TO_NATIVE="$(figure to_native "native touch" touch_ms "$TMP/touch" "$TOUCH_MIB")" || TO_NATIVE=""
TO_OURS="$(figure to_ours "ours touch" touch_ms "${OURS[@]}" "$TMP/touch" "$TOUCH_MIB")" || TO_OURS=""
TO_KVM=""
[ "$HAVE_KVM" = 1 ] && { TO_KVM="$(figure to_kvm "kvm touch" touch_ms "${KVM[@]}" "$TMP/touch" "$TOUCH_MIB")" || TO_KVM=""; }
TO_GV=""
[ "$HAVE_GVISOR" = 1 ] && { TO_GV="$(figure to_gv "gvisor touch" touch_ms "${GV[@]}" "$TMP/touch" "$TOUCH_MIB")" || TO_GV=""; }

# kvm_exits CMD...: the kvm platform's exit summary line of one run.
kvm_exits() {
	RUNSC_KVM_STATS=1 timeout -k 5 "$RUN_TIMEOUT" "${KVM[@]}" "$@" 2>&1 >/dev/null | grep '^kvm: ' | tail -1
}
X_SYSCALL="" X_PAGE=""
if [ "$HAVE_KVM" = 1 ]; then
	echo "bench: counting kvm exits" >&2
	line="$(kvm_exits "$TMP/getppid" "$OURS_ITERS")" || true
	X_SYSCALL="$(sed -nE 's/.* ([0-9.]+) exits per syscall.*/\1/p' <<<"$line")"
	line="$(kvm_exits "$TMP/touch" "$TOUCH_MIB")" || true
	X_PAGE="$(awk -v pages=$((TOUCH_MIB * 256)) '{ printf "%.4f\n", $2 / pages }' <<<"$line")"
fi

# fileio_run LABEL CMD...: runs fileio (via CMD) FIO_REPS times; prints
# "key median" lines. The io directory is emptied between runs.
FIO_KEYS="write_mbps read_mbps stat_ms open_close_ms pipe_mbps"
fileio_run() {
	local label="$1"; shift
	local i out
	: >"$TMP/fio.$label"
	for ((i = 0; i < FIO_REPS; i++)); do
		rm -rf "$TMP/io" && mkdir -p "$TMP/io"
		if ! out="$(timeout -k 5 300 "$@" 2>"$TMP/err")"; then
			echo "$label fileio failed: $(tr '\n' ' ' <"$TMP/err" | cut -c1-300)" >"$TMP/why.fio_$label"
			return 1
		fi
		echo "$out" >>"$TMP/fio.$label"
	done
	for k in $FIO_KEYS; do
		awk -v k="$k" '$1 == k { print $2 }' "$TMP/fio.$label" | median | sed "s/^/$k /"
	done
}
fio_get() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }

echo "bench: measuring file I/O on a bind mount (fileio, $FILE_MIB MiB; median of $FIO_REPS)" >&2
# The bundle's root is a directory holding only the (static) benchmark:
# runc must get a mount namespace of its own and a root it can pivot into;
# run without one it stacks its mounts on the host's.
mkdir -p "$TMP/fiobundle/rootfs/io" "$TMP/fiobundle/rootfs/proc" "$TMP/runc-root"
cp "$TMP/fileio" "$TMP/fiobundle/rootfs/fileio"
python3 - "$TMP/fiobundle" "$TMP/io" "$FILE_MIB" <<'PY'
import json, sys
bundle, io, mib = sys.argv[1:4]
spec = {
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["/fileio", "/io", mib], "env": ["PATH=/"], "cwd": "/"},
    "root": {"path": "rootfs", "readonly": True},
    "mounts": [
        {"destination": "/io", "type": "bind", "source": io, "options": ["rbind", "rw"]},
        {"destination": "/proc", "type": "proc", "source": "proc"},
    ],
    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}]},
}
json.dump(spec, open(bundle + "/config.json", "w"))
PY
FIO_NATIVE="$(fileio_run native "$TMP/fileio" "$TMP/io" "$FILE_MIB")" || FIO_NATIVE=""
FIO_RUNC=""
[ -n "$RUNC" ] && { FIO_RUNC="$(fileio_run runc "$RUNC" --root "$TMP/runc-root" run --bundle "$TMP/fiobundle" "bench-fio-$$")" || FIO_RUNC=""; }
FIO_OURS="$(fileio_run ours "$RUNSC" --root "$TMP/ours-root" --platform=ptrace run --bundle "$TMP/fiobundle" "bench-fio-p-$$")" || FIO_OURS=""
FIO_KVM=""
[ "$HAVE_KVM" = 1 ] && { FIO_KVM="$(fileio_run kvm "$RUNSC" --root "$TMP/ours-root" --platform=kvm run --bundle "$TMP/fiobundle" "bench-fio-k-$$")" || FIO_KVM=""; }
FIO_GV=""
[ "$HAVE_GVISOR" = 1 ] && { FIO_GV="$(fileio_run gvisor "$GVISOR" --root "$TMP/gvisor-root" --platform=ptrace --network=none run --bundle "$TMP/fiobundle" "bench-fio-g-$$")" || FIO_GV=""; }

# --- report -----------------------------------------------------------------
show() { [ -n "$1" ] && echo "$1" || echo "-"; }
row() { # LABEL NATIVE PTRACE KVM GVISOR
	printf '%-34s %10s %10s %10s %10s %11s %11s %11s\n' "$1" "$(show "$2")" "$(show "$3")" "$(show "$4")" "$(show "$5")" \
		"$(ratio "$3" "$5")" "$(ratio "$4" "$5")" "$(ratio "$3" "$2")"
}

echo
[ "$HAVE_GVISOR" = 1 ] || echo "gvisor: $GVISOR_WHY"
[ "$HAVE_KVM" = 1 ] || echo "kvm: $KVM_WHY"
printf '%-34s %10s %10s %10s %10s %11s %11s %11s\n' figure native ptrace kvm gvisor ptrace/gv kvm/gv ptrace/nat
row "getppid round trip (ns/call)" "$G_NATIVE" "$G_OURS" "$G_KVM" "$G_GV"
if [ -n "$P_OURS" ]; then
	row "  same, pinned to CPU 0 (info)" "" "$P_OURS" "" "$P_GV"
fi
row "do /bin/true wall time (ms)" "" "$T_OURS" "$T_KVM" "$T_GV"
row "fork+exec+wait /bin/true (ms/it)" "$F_NATIVE" "$F_OURS" "$F_KVM" "$F_GV"
row "thread create+join (us)" "$TH_NATIVE" "$TH_OURS" "$TH_KVM" "$TH_GV"
row "futex ping-pong round trip (us)" "$FX_NATIVE" "$FX_OURS" "$FX_KVM" "$FX_GV"
row "touch $TOUCH_MIB MiB fresh memory (ms)" "$TO_NATIVE" "$TO_OURS" "$TO_KVM" "$TO_GV"
echo "kvm exits: $(show "$X_SYSCALL") per getppid system call, $(show "$X_PAGE") per touched page"
echo
echo "files on a bind mount (runc: $([ -n "$RUNC" ] && echo "$RUNC" || echo "not installed"))"
printf '%-34s %10s %10s %10s %10s %10s %11s %11s\n' figure native runc ptrace kvm gvisor ptrace/gv ptrace/nat
for k in $FIO_KEYS; do
	n="$(fio_get "$FIO_NATIVE" "$k")" r="$(fio_get "$FIO_RUNC" "$k")" o="$(fio_get "$FIO_OURS" "$k")"
	v="$(fio_get "$FIO_KVM" "$k")" g="$(fio_get "$FIO_GV" "$k")"
	printf '%-34s %10s %10s %10s %10s %10s %11s %11s\n' "$k" "$(show "$n")" "$(show "$r")" "$(show "$o")" \
		"$(show "$v")" "$(show "$g")" "$(ratio "$o" "$g")" "$(ratio "$o" "$n")"
done
echo
FAILED=0
for slot in f_native f_ours f_kvm f_gv th_native th_ours th_kvm th_gv fx_native fx_ours fx_kvm fx_gv to_native to_ours to_kvm to_gv fio_native fio_runc fio_ours fio_kvm fio_gvisor; do
	if [ -s "$TMP/why.$slot" ]; then
		echo "failed: $(cat "$TMP/why.$slot")"
		FAILED=1
	fi
done
if [ "$FAILED" = 1 ]; then echo; fi
R_G_GV="$(ratio "$G_OURS" "$G_GV")"
R_F_GV="$(ratio "$F_OURS" "$F_GV")"

if [ "$HAVE_GVISOR" = 1 ]; then
	verdict="$(awk -v r="$R_G_GV" 'BEGIN { print (r + 0 <= 0.25) ? "MET" : "NOT MET" }')"
	echo "target: getppid ours <= 1/4 of gVisor's (ratio_ours_gvisor <= 0.25): $verdict (ratio $R_G_GV)"
else
	echo "target: getppid ours <= 1/4 of gVisor's: not measured (gvisor $GVISOR_WHY)"
fi
if [ -n "$F_OURS" ] && [ -n "$F_GV" ]; then
	verdict="$(awk -v r="$R_F_GV" 'BEGIN { print (r + 0 <= 1 / 3) ? "MET" : "NOT MET" }')"
	echo "target: fork+exec+wait ours <= 1/3 of gVisor's time (ratio_ours_gvisor <= 0.333): $verdict (ratio $R_F_GV)"
else
	echo "target: fork+exec+wait ours <= 1/3 of gVisor's time: not measured ($([ "$HAVE_GVISOR" = 1 ] || echo "gvisor $GVISOR_WHY")$([ -n "$F_OURS" ] || echo "ours failed")$([ -n "$F_GV" ] || [ "$HAVE_GVISOR" = 0 ] || echo "gvisor failed"))"
fi
echo "target: do /bin/true, thread create+join and futex ping-pong reported for comparison (no fixed target)"
echo

na() { [ -n "$1" ] && echo "$1" || echo "n/a"; }
line() { # NAME NATIVE PTRACE KVM GVISOR
	echo "bench $1 native=$(na "$2") ours=$(na "$3") kvm=$(na "$4") gvisor=$(na "$5") ratio_ours_gvisor=$(ratio "$3" "$5") ratio_kvm_gvisor=$(ratio "$4" "$5") ratio_ours_native=$(ratio "$3" "$2")"
}
line getppid_ns "$G_NATIVE" "$G_OURS" "$G_KVM" "$G_GV"
[ -n "$P_OURS" ] && echo "bench getppid_pinned_ns ours=$P_OURS gvisor=$(na "$P_GV") ratio_ours_gvisor=$(ratio "$P_OURS" "$P_GV")"
line true_ms "" "$T_OURS" "$T_KVM" "$T_GV"
line fork_exec_ms "$F_NATIVE" "$F_OURS" "$F_KVM" "$F_GV"
line thread_us "$TH_NATIVE" "$TH_OURS" "$TH_KVM" "$TH_GV"
line futex_pingpong_us "$FX_NATIVE" "$FX_OURS" "$FX_KVM" "$FX_GV"
line touch_ms "$TO_NATIVE" "$TO_OURS" "$TO_KVM" "$TO_GV"
echo "bench kvm_exits per_syscall=$(na "$X_SYSCALL") per_touched_page=$(na "$X_PAGE")"
for k in $FIO_KEYS; do
	echo "bench files_$k native=$(na "$(fio_get "$FIO_NATIVE" "$k")") runc=$(na "$(fio_get "$FIO_RUNC" "$k")") ours=$(na "$(fio_get "$FIO_OURS" "$k")") kvm=$(na "$(fio_get "$FIO_KVM" "$k")") gvisor=$(na "$(fio_get "$FIO_GV" "$k")")"
done
exit 0
