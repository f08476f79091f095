#!/usr/bin/env bash
# End-to-end checks of `runsc do`: real programs give their native output.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNSC=${RUNSC:-target/release/runsc}
PLATFORM=${PLATFORM:-ptrace}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Checks on a platform other than ptrace are named e2e.PLATFORM.NAME.
prefix=e2e
[ "$PLATFORM" = ptrace ] || prefix="e2e.$PLATFORM"
ok() { echo "PASS $prefix.$1"; pass=$((pass + 1)); }
bad() { echo "FAIL $prefix.$1: $2"; fail=$((fail + 1)); }

# same NAME CMD...: stdout, stderr and exit status match the native run.
same() {
  local name=$1; shift
  "$@" >"$tmp/n.out" 2>"$tmp/n.err"; local nrc=$?
  timeout 60 "$RUNSC" --platform="$PLATFORM" do "$@" >"$tmp/s.out" 2>"$tmp/s.err"; local src=$?
  if [ "$nrc" != "$src" ]; then
    bad "$name" "exit $src, native $nrc; stderr: $(head -c 300 "$tmp/s.err")"
  elif ! cmp -s "$tmp/n.out" "$tmp/s.out"; then
    bad "$name" "stdout differs: $(diff "$tmp/n.out" "$tmp/s.out" | head -5)"
  elif ! cmp -s "$tmp/n.err" "$tmp/s.err"; then
    bad "$name" "stderr differs: $(diff "$tmp/n.err" "$tmp/s.err" | head -5)"
  else
    ok "$name"
  fi
}

# status NAME WANT CMD...: exit status of the sandboxed command.
status() {
  local name=$1 want=$2; shift 2
  timeout 60 "$RUNSC" --platform="$PLATFORM" do "$@" >"$tmp/s.out" 2>"$tmp/s.err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$name"; else bad "$name" "exit $rc, want $want: $(head -c 300 "$tmp/s.err")"; fi
}

[ -x "$RUNSC" ] || { echo "missing $RUNSC (cargo build --release)"; exit 1; }

out=$(timeout 60 "$RUNSC" --platform="$PLATFORM" do /bin/echo hello 2>&1)
[ "$out" = hello ] && ok echo_hello || bad echo_hello "got: $out"
status false 1 /bin/false
status true 0 /bin/true
status nonexistent 127 /nonexistent
grep -q "/nonexistent: No such file or directory" "$tmp/s.err" && ok nonexistent_message \
  || bad nonexistent_message "stderr: $(cat "$tmp/s.err")"
status exit_code_3 3 /bin/sh -c 'exit 3'
same ls_la_usr_share /bin/ls -la /usr/share
same busybox_echo busybox echo hello world
same busybox_ls_etc busybox ls -l /etc
same busybox_cat_os_release busybox cat /etc/os-release
same busybox_wc_services busybox wc -l /etc/services
same busybox_sha256_gcc busybox sha256sum /usr/bin/gcc
same python3_json_hashlib /usr/bin/python3 -c '
import json, hashlib, os
d = hashlib.sha256(open("/etc/services", "rb").read()).hexdigest()
print(json.dumps({"digest": d, "ls": sorted(os.listdir("/usr/share"))}))'
same shell_pipeline /bin/sh -c 'cat /etc/services | head -5 | wc -l; echo done'
# procps reads /proc/meminfo, /proc/cpuinfo and every /proc/<pid>.
status free_and_ps 0 /bin/sh -c 'free -m | grep -q "^Mem:" && ps aux | grep -q "ps aux" && grep -q "^processor" /proc/cpuinfo'
same dev_null /bin/sh -c 'echo hidden > /dev/null; head -c 4 /dev/zero | od -An -tx1'

marker="/tmp/runsc-e2e-newfile.$$"
rm -f "$marker"
out=$(timeout 60 "$RUNSC" --platform="$PLATFORM" do /bin/sh -c "echo x > $marker; cat $marker" 2>&1)
if [ "$out" = x ] && [ ! -e "$marker" ]; then ok overlay_write_stays_in_sandbox
else bad overlay_write_stays_in_sandbox "out=$out host_file_exists=$([ -e "$marker" ] && echo yes || echo no)"; fi
rm -f "$marker"

out=$(timeout 60 "$RUNSC" --platform="$PLATFORM" --strace do /bin/true 2>&1 >/dev/null)
echo "$out" | grep -qE '^\[ *1\] exit_group\(0\)' && ok strace_lines || bad strace_lines "$(echo "$out" | tail -3)"

# Processes, threads and signals.
same busybox_pipeline_and_jobs busybox sh -c 'seq 1 20000 | sort -rn | head -3; (sleep 0.2; echo late) & wait; echo done'
status kill_self_9 137 /bin/sh -c 'kill -9 $$'
same python3_processes_threads_signals /usr/bin/python3 -c '
import subprocess, threading, signal, os, time
print(subprocess.run(["ls", "/"], capture_output=True).stdout.decode().split())
lock = threading.Lock(); cond = threading.Condition(lock); total = [0]; done = [0]
def work():
    for i in range(1000):
        with lock: total[0] += 1
    with cond:
        done[0] += 1; cond.notify_all()
ts = [threading.Thread(target=work) for i in range(8)]
[t.start() for t in ts]
with cond:
    while done[0] < 8: cond.wait()
[t.join() for t in ts]
print("threads", total[0])
got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
signal.alarm(1); time.sleep(2); print("alarm", got)
pid = os.fork()
if pid == 0:
    os._exit(7)
print("waitpid", os.waitpid(pid, 0)[1] >> 8)
import concurrent.futures
def sq(x): return x * x
with concurrent.futures.ProcessPoolExecutor(2) as ex:
    print("pool", sum(ex.map(sq, range(10))))'

# A shell on a pseudo-terminal, as script(1) runs one.
same python3_pty_shell /usr/bin/python3 -c '
import pty, os
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", "echo on $(tty | cut -c1-9); stty size; exit 3"])
out = b""
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
print(repr(out), os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
m, s = pty.openpty()
os.write(m, b"abc\x7fd\r")
print(repr(os.read(s, 100)), repr(os.read(m, 100)))'

mkdir -p "$tmp/cproj"
for i in 1 2 3; do printf 'int f%d(void){return %d;}\n' $i $i >"$tmp/cproj/f$i.c"; done
printf '#include <stdio.h>\nint f1(void);int f2(void);int f3(void);\nint main(){printf("sum %%d\\n",f1()+f2()+f3());return 0;}\n' >"$tmp/cproj/main.c"
printf 'prog: main.o f1.o f2.o f3.o\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' >"$tmp/cproj/Makefile"
out=$(timeout 120 "$RUNSC" --platform="$PLATFORM" do sh -c "cd $tmp/cproj && make -s -j2 && ./prog && gcc -O2 -o /tmp/hello-e2e main.c f1.c f2.c f3.c && /tmp/hello-e2e" 2>&1)
if [ "$out" = $'sum 6\nsum 6' ] && [ ! -e "$tmp/cproj/prog" ] && [ ! -e /tmp/hello-e2e ]; then ok gcc_make_in_sandbox
else bad gcc_make_in_sandbox "$out"; fi

rt_target="$PWD/target/rust-threads"
if CARGO_TARGET_DIR="$rt_target" RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build -q --release --manifest-path tests/rust-threads/Cargo.toml 2>"$tmp/cargo.err"; then
  same rust_static_threads "$rt_target/release/rust-threads"
else
  bad rust_static_threads "build failed: $(tail -3 "$tmp/cargo.err")"
fi

# runsc run: an OCI bundle with a busybox rootfs (read-only), a read-write
# bind mount and a tmpfs.
bundle="$tmp/bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$tmp/shared"
cp /bin/busybox "$bundle/rootfs/bin/"
for a in sh cat touch; do ln -s busybox "$bundle/rootfs/bin/$a"; done
echo "hello from rootfs" >"$bundle/rootfs/etc/greeting"
echo "from host" >"$tmp/shared/in"
python3 - "$bundle" "$tmp/shared" <<'PY'
import json, sys
bundle, shared = sys.argv[1], sys.argv[2]
spec = {
    "ociVersion": "1.0.2",
    "process": {
        "user": {"uid": 0, "gid": 0},
        "args": ["/bin/sh", "-c",
                 "cat /etc/greeting; echo $FOO; cat /data/in; echo written > /data/out;"
                 " echo t > /scratch/t && cat /scratch/t; touch /etc/x 2>/dev/null || echo ro; exit 7"],
        "env": ["PATH=/bin", "FOO=bar"],
        "cwd": "/",
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "box",
    "mounts": [
        {"destination": "/data", "type": "bind", "source": shared, "options": ["rbind", "rw"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]},
    ],
}
json.dump(spec, open(bundle + "/config.json", "w"))
PY
out=$(timeout 60 "$RUNSC" --platform="$PLATFORM" run --bundle "$bundle" e2e-run 2>&1); rc=$?
want=$'hello from rootfs\nbar\nfrom host\nt\nro'
if [ "$rc" = 7 ] && [ "$out" = "$want" ] && [ "$(cat "$tmp/shared/out" 2>/dev/null)" = written ]; then
  ok run_bundle
else
  bad run_bundle "exit $rc, output: $out"
fi

# Escapes: a host file just outside a bind mount stays out of reach by
# `..`, by symlinks planted on the host (absolute and relative) or made
# inside, by /proc/self/root and /proc/self/fd, and by renames racing with
# a walk.
esc="$tmp/escape"
mkdir -p "$esc/rootfs/bin" "$esc/shared/sub"
cp /bin/busybox "$esc/rootfs/bin/"
for a in sh cat ln mv ls readlink; do ln -sf busybox "$esc/rootfs/bin/$a"; done
echo SECRET >"$tmp/escape-secret"
ln -s "$tmp/escape-secret" "$esc/shared/abs"
ln -s ../../escape-secret "$esc/shared/rel"
ln -s ../../../../../../../../.. "$esc/shared/up"
python3 - "$esc" <<'PY'
import json, sys
esc = sys.argv[1]
script = r"""
for p in /data/abs /data/rel /data/../escape-secret /data/up/tmp/escape-secret \
    /proc/self/root/../escape-secret /proc/self/root/data/../../escape-secret; do
  cat "$p" 2>/dev/null
done
ln -s /.. /data/mine && cat /data/mine/escape-secret 2>/dev/null
cd /data && cat ../../../escape-secret 2>/dev/null
exec 3</data/sub && cat /proc/self/fd/3/../../escape-secret 2>/dev/null
i=0; while [ $i -lt 200 ]; do mv /data/sub /data/sub2 2>/dev/null; mv /data/sub2 /data/sub 2>/dev/null; i=$((i+1)); done &
j=0; while [ $j -lt 200 ]; do cat /data/sub/../../escape-secret /data/sub2/../../escape-secret 2>/dev/null; j=$((j+1)); done
wait
echo end
"""
spec = {
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", script], "env": ["PATH=/bin"], "cwd": "/"},
    "root": {"path": "rootfs", "readonly": True},
    "mounts": [{"destination": "/data", "type": "bind", "source": esc + "/shared", "options": ["rbind", "rw"]}],
}
json.dump(spec, open(esc + "/config.json", "w"))
PY
out=$(timeout 120 "$RUNSC" --platform="$PLATFORM" run --bundle "$esc" "e2e-escape-$$" 2>&1); rc=$?
if [ "$rc" = 0 ] && [ "$out" = end ]; then
  ok no_escape_from_a_bind_mount
else
  bad no_escape_from_a_bind_mount "exit $rc, output: $(echo "$out" | head -5)"
fi
[ -L "$esc/shared/mine" ] && [ "$(readlink "$esc/shared/mine")" = /.. ] || bad symlink_made_inside_is_verbatim "host sees: $(readlink "$esc/shared/mine" 2>&1)"

# Real programs on a read-write bind mount of a host directory: what they
# write is there on the host afterwards, and opens natively.
work="$tmp/work"
mkdir -p "$work" "$tmp/hostbundle"
python3 - "$tmp/hostbundle" "$work" <<'PY'
import json, sys
bundle, work = sys.argv[1], sys.argv[2]
script = """set -e; cd /work
sqlite3 db.sqlite "create table t(a integer, b text); with recursive c(x) as (select 1 union all select x+1 from c where x<10000) insert into t select x, 'row'||x from c;"
git init -q repo && cd repo && echo hi > f && git add f && git -c user.email=a@b -c user.name=n commit -qm first
cd /work && mkdir -p tree/d && echo x > tree/d/f && ln -s d/f tree/sl && ln tree/d/f tree/hl && chmod 741 tree/d/f
tar czf t.tgz tree && mkdir out && tar xzf t.tgz -C out"""
spec = {
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/bash", "-c", script],
                "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp"], "cwd": "/"},
    "root": {"path": "/", "readonly": True},
    "mounts": [
        {"destination": "/work", "type": "bind", "source": work, "options": ["rbind", "rw"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]},
    ],
}
json.dump(spec, open(bundle + "/config.json", "w"))
PY
out=$(timeout 120 "$RUNSC" --platform="$PLATFORM" run --bundle "$tmp/hostbundle" "e2e-host-$$" 2>&1); rc=$?
rows=$(sqlite3 "$work/db.sqlite" "select count(*), sum(a) from t" 2>&1)
commits=$(git -C "$work/repo" log --oneline 2>&1 | wc -l)
perms=$(stat -c '%a %h' "$work/out/tree/d/f" "$work/out/tree/hl" 2>&1 | tr '\n' ' ')
link=$(readlink "$work/out/tree/sl" 2>&1)
if [ "$rc" = 0 ] && [ "$rows" = "10000|50005000" ] && [ "$commits" = 1 ] && [ "$perms" = "741 2 741 2 " ] && [ "$link" = d/f ]; then
  ok sqlite_git_tar_on_a_host_bind_mount
else
  bad sqlite_git_tar_on_a_host_bind_mount "exit $rc, rows '$rows', commits $commits, perms '$perms', link '$link': $(echo "$out" | tail -3)"
fi

echo "e2e: $pass passed, $fail failed"
echo "$pass $fail" >"/tmp/e2e-summary.$PLATFORM"
[ "$fail" -eq 0 ]
