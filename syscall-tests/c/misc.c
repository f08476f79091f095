/* Process identity, uname, sysinfo, rlimits, getrandom, clocks and sleeps,
 * arch_prctl, set_tid_address. */
#include "harness.h"
#include "proc_util.h"

#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <stdio.h>

TEST(getpid_consistent)
{
    pid_t pid = getpid();
    EXPECT_GT(pid, 0);
    EXPECT_EQ(syscall(SYS_getpid), pid);
    EXPECT_EQ(getpid(), pid);
}

TEST(gettid_equals_pid_single_thread)
{
    EXPECT_EQ(syscall(SYS_gettid), getpid());
    EXPECT_EQ(gettid(), getpid());
}

TEST(getppid_valid)
{
    pid_t pp = getppid();
    EXPECT_GE(pp, 0);
    EXPECT_EQ(syscall(SYS_getppid), pp);
    EXPECT_NE(pp, getpid());
}

TEST(uid_gid_consistent)
{
    EXPECT_EQ(syscall(SYS_getuid), getuid());
    EXPECT_EQ(syscall(SYS_geteuid), geteuid());
    EXPECT_EQ(syscall(SYS_getgid), getgid());
    EXPECT_EQ(syscall(SYS_getegid), getegid());
    /* Not set-id: real and effective agree. */
    EXPECT_EQ(getuid(), geteuid());
    EXPECT_EQ(getgid(), getegid());
}

TEST(new_files_owned_by_euid)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    struct stat st;
    EXPECT_OK(stat(sct_path("f"), &st));
    EXPECT_EQ(st.st_uid, geteuid());
}

TEST(getgroups_count_and_list)
{
    int n = getgroups(0, NULL);
    ASSERT_GE(n, 0);
    gid_t groups[256];
    ASSERT_LE(n, 256);
    EXPECT_EQ(getgroups(256, groups), n);
    if (n > 1)
        EXPECT_ERRNO(getgroups(n - 1, groups), EINVAL);
}

TEST(getgroups_errors)
{
    gid_t g[4];
    EXPECT_ERRNO(syscall(SYS_getgroups, -1, g), EINVAL);
    int n = getgroups(0, NULL);
    if (n > 0)
        EXPECT_ERRNO(syscall(SYS_getgroups, n, BAD_PTR), EFAULT);
}

TEST(uname_fields)
{
    struct utsname u;
    ASSERT_OK(uname(&u));
    EXPECT_STREQ(u.sysname, "Linux");
    EXPECT_STREQ(u.machine, "x86_64");
    EXPECT_GT(strlen(u.release), 0);
    EXPECT_GT(strlen(u.version), 0);
    EXPECT_TRUE(u.release[0] >= '1' && u.release[0] <= '9');
    EXPECT_ERRNO(syscall(SYS_uname, BAD_PTR), EFAULT);
}

TEST(sysinfo_sane)
{
    struct sysinfo si;
    ASSERT_OK(sysinfo(&si));
    EXPECT_GE(si.uptime, 0);
    EXPECT_GE(si.mem_unit, 1);
    EXPECT_GT(si.totalram, 0);
    EXPECT_LE(si.freeram, si.totalram);
    EXPECT_GE(si.procs, 1);
    EXPECT_ERRNO(syscall(SYS_sysinfo, BAD_PTR), EFAULT);
}

TEST(getrlimit_prlimit_agree)
{
    int res[] = {RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_AS, RLIMIT_CORE, RLIMIT_DATA};
    for (unsigned i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        struct rlimit a, b;
        EXPECT_OK(getrlimit(res[i], &a));
        EXPECT_OK(syscall(SYS_prlimit64, 0, res[i], NULL, &b));
        EXPECT_EQ(a.rlim_cur, b.rlim_cur);
        EXPECT_EQ(a.rlim_max, b.rlim_max);
        EXPECT_TRUE(a.rlim_cur <= a.rlim_max);
    }
}

TEST(prlimit_set_and_restore)
{
    struct rlimit old, lim, now;
    ASSERT_OK(getrlimit(RLIMIT_CORE, &old));
    lim.rlim_cur = 0;
    lim.rlim_max = old.rlim_max;
    struct rlimit prev;
    EXPECT_OK(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &lim, &prev));
    EXPECT_EQ(prev.rlim_cur, old.rlim_cur);
    EXPECT_OK(getrlimit(RLIMIT_CORE, &now));
    EXPECT_EQ(now.rlim_cur, 0);
    EXPECT_OK(syscall(SYS_prlimit64, getpid(), RLIMIT_CORE, &old, NULL));
    EXPECT_OK(getrlimit(RLIMIT_CORE, &now));
    EXPECT_EQ(now.rlim_cur, old.rlim_cur);
}

TEST(rlimit_errors)
{
    struct rlimit r;
    EXPECT_ERRNO(syscall(SYS_prlimit64, 0, 1000, NULL, &r), EINVAL);
    EXPECT_ERRNO(getrlimit(1000, &r), EINVAL);
    ASSERT_OK(getrlimit(RLIMIT_NOFILE, &r));
    struct rlimit bad = {r.rlim_max, r.rlim_max - 1};
    if (r.rlim_max > 0)
        EXPECT_ERRNO(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
    EXPECT_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, BAD_PTR), EFAULT);
}

TEST(getrandom_fills)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    EXPECT_EQ(syscall(SYS_getrandom, a, sizeof(a), 0), sizeof(a));
    EXPECT_EQ(syscall(SYS_getrandom, b, sizeof(b), GRND_NONBLOCK), sizeof(b));
    EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
    int zeros = 0;
    for (unsigned i = 0; i < sizeof(a); i++)
        zeros += a[i] == 0;
    EXPECT_LT(zeros, 16);
    EXPECT_EQ(syscall(SYS_getrandom, a, 0, 0), 0);
}

TEST(getrandom_errors)
{
    char buf[16];
    EXPECT_ERRNO(syscall(SYS_getrandom, buf, sizeof(buf), 0x100), EINVAL);
    EXPECT_ERRNO(syscall(SYS_getrandom, BAD_PTR, 16, 0), EFAULT);
}

static long long ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

TEST(clock_gettime_realtime)
{
    struct timespec t;
    ASSERT_OK(clock_gettime(CLOCK_REALTIME, &t));
    EXPECT_GT(t.tv_sec, 1577836800); /* 2020-01-01 */
    EXPECT_GE(t.tv_nsec, 0);
    EXPECT_LT(t.tv_nsec, 1000000000);
    struct timespec r;
    ASSERT_OK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &r));
    EXPECT_LT(ns(&r) - ns(&t), 5000000000LL);
    EXPECT_GE(ns(&r) - ns(&t), 0);
}

TEST(clock_gettime_monotonic_nondecreasing)
{
    struct timespec a, b;
    ASSERT_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a));
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
        ASSERT_GE(ns(&b), ns(&a));
        a = b;
    }
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
    EXPECT_GE(ns(&b), ns(&a));
}

TEST(clock_gettime_other_clocks)
{
    clockid_t ids[] = {CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE,
                       CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct timespec t;
        EXPECT_OK(syscall(SYS_clock_gettime, ids[i], &t));
        EXPECT_GE(t.tv_sec, 0);
    }
}

TEST(clock_gettime_errors)
{
    struct timespec t;
    EXPECT_ERRNO(syscall(SYS_clock_gettime, 1000, &t), EINVAL);
    EXPECT_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR), EFAULT);
}

TEST(clock_getres)
{
    struct timespec r;
    ASSERT_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r));
    EXPECT_EQ(r.tv_sec, 0);
    EXPECT_GT(r.tv_nsec, 0);
    EXPECT_LE(r.tv_nsec, 1000000);
    ASSERT_OK(syscall(SYS_clock_getres, CLOCK_REALTIME, &r));
    EXPECT_EQ(r.tv_sec, 0);
    EXPECT_GT(r.tv_nsec, 0);
    EXPECT_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    EXPECT_ERRNO(syscall(SYS_clock_getres, 1000, &r), EINVAL);
}

TEST(gettimeofday_matches_realtime)
{
    struct timeval tv;
    struct timespec ts;
    ASSERT_OK(syscall(SYS_gettimeofday, &tv, NULL));
    ASSERT_OK(clock_gettime(CLOCK_REALTIME, &ts));
    long long a = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    long long b = ns(&ts) / 1000;
    EXPECT_GE(b - a, -1000);
    EXPECT_LT(b - a, 5000000);
    EXPECT_GE(tv.tv_usec, 0);
    EXPECT_LT(tv.tv_usec, 1000000);
    EXPECT_ERRNO(syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT);
}

TEST(time_matches_realtime)
{
    time_t out = 0;
    time_t t = syscall(SYS_time, &out);
    EXPECT_EQ(out, t);
    struct timespec ts;
    ASSERT_OK(clock_gettime(CLOCK_REALTIME, &ts));
    EXPECT_GE(ts.tv_sec, t);
    EXPECT_LE(ts.tv_sec - t, 5);
    EXPECT_GE(syscall(SYS_time, NULL), t);
    EXPECT_GE(time(NULL), t);
}

TEST(nanosleep_sleeps)
{
    struct timespec a, b, req = {0, 20 * 1000 * 1000};
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    EXPECT_OK(syscall(SYS_nanosleep, &req, NULL));
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
    EXPECT_GE(ns(&b) - ns(&a), 20 * 1000 * 1000);
    EXPECT_LT(ns(&b) - ns(&a), 5000LL * 1000 * 1000);
    struct timespec zero = {0, 0};
    EXPECT_OK(syscall(SYS_nanosleep, &zero, NULL));
}

TEST(nanosleep_errors)
{
    struct timespec bad = {0, 1000000000};
    EXPECT_ERRNO(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
    struct timespec neg = {-1, 0};
    EXPECT_ERRNO(syscall(SYS_nanosleep, &neg, NULL), EINVAL);
    EXPECT_ERRNO(syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT);
}

TEST(clock_nanosleep_relative_and_absolute)
{
    struct timespec a, b, req = {0, 10 * 1000 * 1000};
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    EXPECT_OK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
    EXPECT_GE(ns(&b) - ns(&a), 10 * 1000 * 1000);

    struct timespec until = b;
    until.tv_nsec += 10 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    EXPECT_OK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    EXPECT_GE(ns(&a), ns(&until));

    /* An absolute time in the past returns at once. */
    struct timespec past = {0, 1};
    EXPECT_OK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &past, NULL));
}

TEST(clock_nanosleep_errors)
{
    struct timespec req = {0, 1000};
    EXPECT_ERRNO(syscall(SYS_clock_nanosleep, 1000, 0, &req, NULL), EINVAL);
    struct timespec bad = {0, -1};
    EXPECT_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
    EXPECT_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BAD_PTR, NULL), EFAULT);
}

TEST(arch_prctl_get_fs_is_tls)
{
    unsigned long fs = 0, self = 0;
    ASSERT_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
    EXPECT_NE(fs, 0);
    /* On x86-64 glibc the thread control block starts with a pointer to
     * itself. */
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    EXPECT_EQ(fs, self);
}

TEST(arch_prctl_set_fs_roundtrip)
{
    unsigned long orig = 0, seen = 0;
    ASSERT_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &orig));
    static unsigned long fake_tcb[64];
    unsigned long want = (unsigned long)fake_tcb;
    long r1, r2, r3;
    /* Switch FS, read it back and restore it without touching TLS (errno
     * and the stack protector live there) in between. */
    __asm__ volatile(
        "mov %[set], %%edi\n\t"
        "mov %[want], %%rsi\n\t"
        "mov %[nr], %%eax\n\t"
        "syscall\n\t"
        "mov %%rax, %[r1]\n\t"
        "mov %[get], %%edi\n\t"
        "mov %[seenp], %%rsi\n\t"
        "mov %[nr], %%eax\n\t"
        "syscall\n\t"
        "mov %%rax, %[r2]\n\t"
        "mov %[set], %%edi\n\t"
        "mov %[orig], %%rsi\n\t"
        "mov %[nr], %%eax\n\t"
        "syscall\n\t"
        "mov %%rax, %[r3]\n\t"
        : [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)
        : [set] "i"(ARCH_SET_FS), [get] "i"(ARCH_GET_FS), [nr] "i"(SYS_arch_prctl),
          [want] "r"(want), [orig] "r"(orig), [seenp] "r"(&seen)
        : "rax", "rdi", "rsi", "rcx", "r11", "memory");
    EXPECT_EQ(r1, 0);
    EXPECT_EQ(r2, 0);
    EXPECT_EQ(r3, 0);
    EXPECT_EQ(seen, want);
    unsigned long now = 0;
    EXPECT_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &now));
    EXPECT_EQ(now, orig);
}

TEST(arch_prctl_gs_base_reaches_the_cpu)
{
    /* GS is free for applications on x86-64 (glibc uses FS): the base set
     * by ARCH_SET_GS is the one %gs-relative loads use, across a system
     * call and a signal delivered in between. */
    static unsigned long slots[2] = {0x1234567890abcdefUL, 42};
    unsigned long orig = 0;
    ASSERT_OK(syscall(SYS_arch_prctl, ARCH_GET_GS, &orig));
    ASSERT_OK(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)slots));
    EXPECT_OK(getppid());
    EXPECT_OK(raise(SIGWINCH));
    unsigned long a, b;
    __asm__ volatile("mov %%gs:0, %0\n\tmov %%gs:8, %1" : "=r"(a), "=r"(b));
    EXPECT_EQ(a, slots[0]);
    EXPECT_EQ(b, 42);
    unsigned long now = 0;
    EXPECT_OK(syscall(SYS_arch_prctl, ARCH_GET_GS, &now));
    EXPECT_EQ(now, (unsigned long)slots);
    ASSERT_OK(syscall(SYS_arch_prctl, ARCH_SET_GS, orig));
}

TEST(arch_prctl_errors)
{
    unsigned long v;
    EXPECT_ERRNO(syscall(SYS_arch_prctl, 0x9999, &v), EINVAL);
    /* A non-canonical base is refused and FS stays unchanged. */
    EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_FS, 0x800000000000000UL << 4), EPERM);
    EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_GET_FS, BAD_PTR), EFAULT);
}

TEST(set_tid_address_returns_tid)
{
    static int ctid;
    EXPECT_EQ(syscall(SYS_set_tid_address, &ctid), gettid());
    EXPECT_EQ(syscall(SYS_set_tid_address, &ctid), getpid());
}

TEST(rlimit_fsize_truncates_then_efbig)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit r = {1000, 1000};
        if (setrlimit(RLIMIT_FSIZE, &r) != 0)
            _exit(1);
        char path[] = "/tmp/sct-fsize-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
            _exit(2);
        unlink(path);
        static char buf[2000];
        if (write(fd, buf, sizeof(buf)) != 1000)
            _exit(3);
        errno = 0;
        if (write(fd, buf, 10) != -1 || errno != EFBIG)
            _exit(4);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(rlimit_as_limits_mmap)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit r = {1UL << 30, 1UL << 30};
        if (setrlimit(RLIMIT_AS, &r) != 0)
            _exit(1);
        void *p = mmap(NULL, 2UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED || errno != ENOMEM)
            _exit(2);
        p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _exit(p == MAP_FAILED ? 3 : 0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

static int read_statm(long v[7])
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
    fclose(f);
    return n == 7 ? 0 : -1;
}

TEST(proc_self_statm_counts_mappings_in_pages)
{
    long a[7], b[7];
    ASSERT_OK(read_statm(a));
    EXPECT_GT(a[0], 0);
    EXPECT_GE(a[0], a[1]);
    void *p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    ASSERT_OK(read_statm(b));
    EXPECT_GE(b[0] - a[0], 1024);
    munmap(p, 4 << 20);
}

TEST(proc_self_fdinfo_shows_position_and_flags)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "0123456789", 10));
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ASSERT_OK(fd);
    ASSERT_EQ(lseek(fd, 3, SEEK_SET), 3);
    /* x86-64 Linux marks every open file O_LARGEFILE. */
    EXPECT_EQ(fcntl(fd, F_GETFL), 0100000);
    char path[64], buf[256] = {0};
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    int info = open(path, O_RDONLY);
    ASSERT_OK(info);
    EXPECT_GT(read(info, buf, sizeof(buf) - 1), 0);
    close(info);
    EXPECT_TRUE(strstr(buf, "pos:\t3\n") != NULL);
    EXPECT_TRUE(strstr(buf, "flags:\t02100000\n") != NULL);
    close(fd);
}
