/* Timers and CPU accounting: alarm, setitimer/getitimer, POSIX timers,
 * interrupted nanosleep/clock_nanosleep, times, getrusage, CPU-time clocks,
 * sched_yield/affinity/scheduler queries, getpriority/setpriority.
 * Every case disarms the timers and restores the handlers it sets. */
#include "proc_util.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/auxv.h>

static volatile sig_atomic_t ticks;

static void tick_handler(int sig)
{
    (void)sig;
    ticks++;
}

static long long tv_us(struct timeval tv)
{
    return tv.tv_sec * 1000000LL + tv.tv_usec;
}

TEST(alarm_returns_remaining_seconds)
{
    alarm(0);
    EXPECT_EQ(alarm(10), 0);
    unsigned r = alarm(5);
    EXPECT_GE(r, 9);
    EXPECT_LE(r, 10);
    r = alarm(0);
    EXPECT_GE(r, 4);
    EXPECT_LE(r, 5);
    EXPECT_EQ(alarm(0), 0);
}

TEST(alarm_shares_itimer_real)
{
    EXPECT_EQ(alarm(7), 0);
    struct itimerval it;
    EXPECT_OK(getitimer(ITIMER_REAL, &it));
    EXPECT_GT(tv_us(it.it_value), 6000000);
    EXPECT_LE(tv_us(it.it_value), 7000000);
    EXPECT_EQ(tv_us(it.it_interval), 0);
    struct itimerval zero = {{0, 0}, {0, 0}};
    EXPECT_OK(setitimer(ITIMER_REAL, &zero, NULL));
    EXPECT_EQ(alarm(0), 0);
}

TEST(setitimer_oneshot_fires_once)
{
    struct sigaction old;
    ticks = 0;
    ASSERT_OK(pu_handle(SIGALRM, tick_handler, 0, &old));
    ASSERT_OK(pu_block(SIGALRM));
    pid_t bs = pu_backstop(SIGALRM, 1500);
    long long t0 = pu_now_ns();
    ASSERT_OK(pu_timer_ms(30));
    sigset_t empty;
    sigemptyset(&empty);
    sigsuspend(&empty);
    long long dt = pu_now_ns() - t0;
    pu_backstop_end(bs);
    EXPECT_GE(dt, 28 * 1000000LL);
    EXPECT_LT(dt, 1000 * 1000000LL);
    EXPECT_EQ(ticks, 1);
    pu_sleep_ms(50);
    sigset_t pend;
    sigpending(&pend);
    EXPECT_FALSE(sigismember(&pend, SIGALRM));
    struct itimerval it;
    EXPECT_OK(getitimer(ITIMER_REAL, &it));
    EXPECT_EQ(tv_us(it.it_value), 0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(setitimer_interval_reloads)
{
    struct sigaction old;
    ticks = 0;
    ASSERT_OK(pu_handle(SIGALRM, tick_handler, 0, &old));
    ASSERT_OK(pu_block(SIGALRM));
    struct itimerval it = {{0, 10000}, {0, 10000}};
    pid_t bs = pu_backstop(SIGALRM, 1500);
    long long t0 = pu_now_ns();
    ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
    sigset_t empty;
    sigemptyset(&empty);
    long long end = t0 + 1000000000LL;
    while (ticks < 4 && pu_now_ns() < end)
        sigsuspend(&empty);
    long long dt = pu_now_ns() - t0;
    pu_backstop_end(bs);
    struct itimerval cur, zero = {{0, 0}, {0, 0}};
    EXPECT_OK(getitimer(ITIMER_REAL, &cur));
    EXPECT_EQ(tv_us(cur.it_interval), 10000);
    EXPECT_LE(tv_us(cur.it_value), 10000);
    EXPECT_OK(setitimer(ITIMER_REAL, &zero, NULL));
    EXPECT_GE(ticks, 4);
    EXPECT_GE(dt, 38 * 1000000LL);
    /* Drain a possibly pending last tick before restoring the handler. */
    struct timespec z = {0, 0};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigtimedwait(&set, NULL, &z);
    sigaction(SIGALRM, &old, NULL);
}

TEST(setitimer_returns_old_value_and_disarms)
{
    struct itimerval it = {{1, 0}, {5, 0}}, old, zero = {{0, 0}, {0, 0}};
    ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
    EXPECT_OK(getitimer(ITIMER_REAL, &old));
    EXPECT_GT(tv_us(old.it_value), 4000000);
    EXPECT_LE(tv_us(old.it_value), 5000000);
    EXPECT_EQ(tv_us(old.it_interval), 1000000);
    memset(&old, 0, sizeof(old));
    EXPECT_OK(setitimer(ITIMER_REAL, &zero, &old));
    EXPECT_GT(tv_us(old.it_value), 4000000);
    EXPECT_EQ(tv_us(old.it_interval), 1000000);
    EXPECT_OK(getitimer(ITIMER_REAL, &old));
    EXPECT_EQ(tv_us(old.it_value), 0);
    EXPECT_EQ(tv_us(old.it_interval), 0);
}

TEST(setitimer_errors)
{
    struct itimerval it = {{0, 0}, {0, 1000000}};
    EXPECT_ERRNO(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
    struct itimerval ok = {{0, 0}, {0, 0}};
    EXPECT_ERRNO(setitimer(99, &ok, NULL), EINVAL);
    struct itimerval cur;
    EXPECT_ERRNO(getitimer(99, &cur), EINVAL);
    EXPECT_ERRNO(syscall(SYS_getitimer, ITIMER_REAL, BAD_PTR), EFAULT);
}

TEST(itimer_virtual_and_prof_roundtrip)
{
    static const int which[] = {ITIMER_VIRTUAL, ITIMER_PROF};
    for (int i = 0; i < 2; i++) {
        struct itimerval it = {{2, 0}, {3, 0}}, cur, zero = {{0, 0}, {0, 0}};
        ASSERT_OK(setitimer(which[i], &it, NULL));
        EXPECT_OK(getitimer(which[i], &cur));
        EXPECT_GT(tv_us(cur.it_value), 2000000);
        /* CPU timers may round up to the tick. */
        EXPECT_LE(tv_us(cur.it_value), 3100000);
        EXPECT_EQ(tv_us(cur.it_interval), 2000000);
        EXPECT_OK(setitimer(which[i], &zero, NULL));
        EXPECT_OK(getitimer(which[i], &cur));
        EXPECT_EQ(tv_us(cur.it_value), 0);
    }
}

TEST(itimer_virtual_fires_on_cpu_time)
{
    struct sigaction old;
    ticks = 0;
    ASSERT_OK(pu_handle(SIGVTALRM, tick_handler, 0, &old));
    struct itimerval it = {{0, 0}, {0, 20000}}, zero = {{0, 0}, {0, 0}};
    ASSERT_OK(setitimer(ITIMER_VIRTUAL, &it, NULL));
    long long end = pu_now_ns() + 2000000000LL;
    volatile unsigned long x = 0;
    while (!ticks && pu_now_ns() < end)
        for (int i = 0; i < 100000; i++)
            x += i;
    EXPECT_OK(setitimer(ITIMER_VIRTUAL, &zero, NULL));
    EXPECT_EQ(ticks, 1);
    sigaction(SIGVTALRM, &old, NULL);
}

TEST(itimers_not_inherited_by_fork)
{
    struct itimerval it = {{0, 0}, {10, 0}}, zero = {{0, 0}, {0, 0}};
    ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        struct itimerval cur;
        CKN(1, getitimer(ITIMER_REAL, &cur) == 0);
        CKN(2, cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
        CKN(3, alarm(0) == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_OK(setitimer(ITIMER_REAL, &zero, NULL));
}

TEST(posix_timer_signal_with_value)
{
    ASSERT_OK(pu_block(SIGRTMIN + 5));
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 5;
    sev.sigev_value.sival_int = 999;
    timer_t tm;
    ASSERT_OK(timer_create(CLOCK_MONOTONIC, &sev, &tm));
    struct itimerspec its = {{0, 0}, {0, 20 * 1000000}};
    ASSERT_OK(timer_settime(tm, 0, &its, NULL));
    struct itimerspec cur;
    EXPECT_OK(timer_gettime(tm, &cur));
    EXPECT_LE(cur.it_value.tv_nsec, 20 * 1000000);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 5);
    struct timespec to = {2, 0};
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_EQ(sigtimedwait(&set, &si, &to), SIGRTMIN + 5);
    EXPECT_EQ(si.si_code, SI_TIMER);
    EXPECT_EQ(si.si_value.sival_int, 999);
    EXPECT_EQ(timer_getoverrun(tm), 0);
    EXPECT_OK(timer_delete(tm));
    EXPECT_ERRNO(timer_delete(tm), EINVAL);
}

TEST(nanosleep_interrupted_reports_remaining)
{
    struct sigaction old;
    ticks = 0;
    ASSERT_OK(pu_handle(SIGALRM, tick_handler, SA_RESTART, &old));
    ASSERT_OK(pu_timer_ms(30));
    struct timespec req = {1, 0}, rem = {0, 0};
    long long t0 = pu_now_ns();
    /* nanosleep is never restarted after a handler. */
    EXPECT_ERRNO(nanosleep(&req, &rem), EINTR);
    long long dt = pu_now_ns() - t0;
    EXPECT_EQ(ticks, 1);
    EXPECT_LT(dt, 900 * 1000000LL);
    long long rem_ns = rem.tv_sec * 1000000000LL + rem.tv_nsec;
    EXPECT_GT(rem_ns, 500 * 1000000LL);
    EXPECT_LT(rem_ns, 1000 * 1000000LL);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(clock_nanosleep_interrupted_relative_and_absolute)
{
    struct sigaction old;
    ticks = 0;
    ASSERT_OK(pu_handle(SIGALRM, tick_handler, 0, &old));
    ASSERT_OK(pu_timer_ms(20));
    struct timespec req = {1, 0}, rem = {0, 0};
    /* clock_nanosleep returns the error number instead of setting errno. */
    EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
    long long rem_ns = rem.tv_sec * 1000000000LL + rem.tv_nsec;
    EXPECT_GT(rem_ns, 500 * 1000000LL);
    EXPECT_LE(rem_ns, 1000 * 1000000LL);

    ASSERT_OK(pu_timer_ms(20));
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 1;
    struct timespec untouched = {123, 456};
    EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &untouched), EINTR);
    /* With TIMER_ABSTIME the remaining time is not written. */
    EXPECT_EQ(untouched.tv_sec, 123);
    EXPECT_EQ(untouched.tv_nsec, 456);
    EXPECT_EQ(ticks, 2);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(clock_nanosleep_abstime_realtime_target)
{
    struct timespec until, after;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 30 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    EXPECT_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL), 0);
    clock_gettime(CLOCK_REALTIME, &after);
    long long d = (after.tv_sec - until.tv_sec) * 1000000000LL + (after.tv_nsec - until.tv_nsec);
    EXPECT_GE(d, 0);
    EXPECT_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &until, NULL), EINVAL);
}

TEST(times_counts_user_time)
{
    struct tms a, b;
    clock_t r0 = times(&a);
    ASSERT_NE(r0, (clock_t)-1);
    pu_burn_ms(80);
    clock_t r1 = times(&b);
    ASSERT_NE(r1, (clock_t)-1);
    long hz = sysconf(_SC_CLK_TCK);
    EXPECT_EQ(hz, 100);
    /* Elapsed ticks track wall time: at least about 8 ticks. */
    EXPECT_GE(r1 - r0, 6);
    EXPECT_LT(r1 - r0, 200);
    EXPECT_GE((b.tms_utime + b.tms_stime) - (a.tms_utime + a.tms_stime), 3);
    EXPECT_OK(times(NULL));
}

TEST(times_children_after_wait)
{
    struct tms a, b;
    ASSERT_NE(times(&a), (clock_t)-1);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_burn_ms(60);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    ASSERT_NE(times(&b), (clock_t)-1);
    EXPECT_GE((b.tms_cutime + b.tms_cstime) - (a.tms_cutime + a.tms_cstime), 2);
}

TEST(getrusage_self_and_thread)
{
    struct rusage a, b, t;
    ASSERT_OK(getrusage(RUSAGE_SELF, &a));
    pu_burn_ms(40);
    ASSERT_OK(getrusage(RUSAGE_SELF, &b));
    long long used = tv_us(b.ru_utime) + tv_us(b.ru_stime) - tv_us(a.ru_utime) - tv_us(a.ru_stime);
    EXPECT_GE(used, 20000);
    EXPECT_LT(used, 5000000);
    EXPECT_GT(b.ru_maxrss, 0);
    EXPECT_OK(getrusage(RUSAGE_THREAD, &t));
    EXPECT_LE(tv_us(t.ru_utime), tv_us(b.ru_utime) + 20000);
}

TEST(getrusage_children_after_wait)
{
    struct rusage a, b;
    ASSERT_OK(getrusage(RUSAGE_CHILDREN, &a));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_burn_ms(40);
        _exit(0);
    }
    /* Not counted before it is waited for. */
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    ASSERT_OK(getrusage(RUSAGE_CHILDREN, &b));
    long long used = tv_us(b.ru_utime) + tv_us(b.ru_stime) - tv_us(a.ru_utime) - tv_us(a.ru_stime);
    EXPECT_GE(used, 20000);
    EXPECT_GT(b.ru_maxrss, 0);
}

TEST(getrusage_errors)
{
    struct rusage ru;
    EXPECT_ERRNO(getrusage(99, &ru), EINVAL);
    EXPECT_ERRNO(syscall(SYS_getrusage, RUSAGE_SELF, BAD_PTR), EFAULT);
}

TEST(cputime_clocks_advance)
{
    struct timespec p0, p1, t0, t1;
    ASSERT_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0));
    ASSERT_OK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0));
    pu_burn_ms(20);
    ASSERT_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1));
    ASSERT_OK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1));
    long long dp = (p1.tv_sec - p0.tv_sec) * 1000000000LL + p1.tv_nsec - p0.tv_nsec;
    long long dt = (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec;
    EXPECT_GE(dp, 10 * 1000000LL);
    EXPECT_GE(dt, 10 * 1000000LL);
    EXPECT_LT(dp, 5000 * 1000000LL);
    struct timespec res;
    EXPECT_OK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
    EXPECT_OK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &res));
}

TEST(thread_cputime_clock_of_other_thread)
{
    static volatile int stop;
    stop = 0;
    void *fn(void *arg)
    {
        (void)arg;
        long long end = pu_now_ns() + 2000000000LL;
        volatile unsigned long x = 0;
        while (!stop && pu_now_ns() < end)
            x++;
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    clockid_t cid;
    EXPECT_EQ(pthread_getcpuclockid(t, &cid), 0);
    pu_sleep_ms(40);
    struct timespec ts;
    EXPECT_OK(clock_gettime(cid, &ts));
    stop = 1;
    pthread_join(t, NULL);
    long long ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    EXPECT_GT(ns, 1000000);
    /* Our own thread barely ran meanwhile, the process clock includes both. */
    struct timespec p;
    EXPECT_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p));
    EXPECT_GE(p.tv_sec * 1000000000LL + p.tv_nsec, ns);
}

TEST(sched_yield_and_scheduler_queries)
{
    EXPECT_OK(sched_yield());
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
    struct sched_param sp = {.sched_priority = 5};
    EXPECT_OK(sched_getparam(0, &sp));
    EXPECT_EQ(sp.sched_priority, 0);
    EXPECT_EQ(sched_get_priority_max(SCHED_FIFO), 99);
    EXPECT_EQ(sched_get_priority_min(SCHED_FIFO), 1);
    EXPECT_EQ(sched_get_priority_max(SCHED_OTHER), 0);
    EXPECT_ERRNO(sched_get_priority_max(99), EINVAL);
    EXPECT_ERRNO(sched_getscheduler(-1), EINVAL);
    EXPECT_ERRNO(sched_getscheduler(999999), ESRCH);
    struct timespec rr;
    EXPECT_OK(sched_rr_get_interval(0, &rr));
}

TEST(sched_getaffinity_basic)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_OK(sched_getaffinity(0, sizeof(set), &set));
    int n = CPU_COUNT(&set);
    EXPECT_GE(n, 1);
    int cpu = sched_getcpu();
    if (cpu >= 0)
        EXPECT_TRUE(CPU_ISSET(cpu, &set));
    /* The raw syscall returns the number of bytes written. */
    unsigned long mask[16];
    long r = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    EXPECT_GT(r, 0);
    EXPECT_EQ(r % sizeof(long), 0);
    /* Setting the same mask back is fine. */
    EXPECT_OK(sched_setaffinity(0, sizeof(set), &set));
    /* A thread's own tid works as well. */
    EXPECT_OK(sched_getaffinity(syscall(SYS_gettid), sizeof(set), &set));
}

TEST(sched_affinity_errors)
{
    unsigned long mask[16];
    EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, 0, mask), EINVAL);
    EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, 3, mask), EINVAL);
    EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 999999, sizeof(mask), mask), ESRCH);
    EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, sizeof(mask), BAD_PTR), EFAULT);
    cpu_set_t empty;
    CPU_ZERO(&empty);
    EXPECT_ERRNO(sched_setaffinity(0, sizeof(empty), &empty), EINVAL);
}

TEST(sched_affinity_inherited_by_child)
{
    cpu_set_t set;
    ASSERT_OK(sched_getaffinity(0, sizeof(set), &set));
    int n = CPU_COUNT(&set);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        cpu_set_t c;
        CKN(1, sched_getaffinity(0, sizeof(c), &c) == 0);
        CKN(2, CPU_COUNT(&c) == n);
        /* Restrict the child to one CPU. */
        int first = -1;
        for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
            if (CPU_ISSET(i, &c))
                first = i;
        CPU_ZERO(&c);
        CPU_SET(first, &c);
        CKN(3, sched_setaffinity(0, sizeof(c), &c) == 0);
        CKN(4, sched_getaffinity(0, sizeof(c), &c) == 0 && CPU_COUNT(&c) == 1);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    ASSERT_OK(sched_getaffinity(0, sizeof(set), &set));
    EXPECT_EQ(CPU_COUNT(&set), n);
}

TEST(getpriority_setpriority_in_child)
{
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    EXPECT_EQ(errno, 0);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        errno = 0;
        CKN(1, getpriority(PRIO_PROCESS, 0) == base && errno == 0);
        CKN(2, setpriority(PRIO_PROCESS, 0, 10) == 0);
        errno = 0;
        CKN(3, getpriority(PRIO_PROCESS, 0) == 10 && errno == 0);
        /* Values are clamped to [-20, 19]. */
        CKN(4, setpriority(PRIO_PROCESS, 0, 50) == 0);
        CKN(5, getpriority(PRIO_PROCESS, 0) == 19);
        /* The raw syscall returns 20 - nice. */
        CKN(6, syscall(SYS_getpriority, PRIO_PROCESS, 0) == 1);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(getpriority(PRIO_PROCESS, 0), base);
}

TEST(setpriority_of_child_by_pid)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        errno = 0;
        _exit(getpriority(PRIO_PROCESS, 0) == 7 ? 0 : 1);
    }
    close(p[0]);
    EXPECT_OK(setpriority(PRIO_PROCESS, pid, 7));
    errno = 0;
    EXPECT_EQ(getpriority(PRIO_PROCESS, pid), 7);
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(priority_errors)
{
    EXPECT_ERRNO(getpriority(99, 0), EINVAL);
    EXPECT_ERRNO(setpriority(99, 0, 0), EINVAL);
    EXPECT_ERRNO(getpriority(PRIO_PROCESS, 999999), ESRCH);
    EXPECT_ERRNO(setpriority(PRIO_PROCESS, 999999, 0), ESRCH);
}

TEST(nice_raises_niceness_in_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        errno = 0;
        int before = getpriority(PRIO_PROCESS, 0);
        int r = nice(3);
        CKN(1, r == before + 3 || (before + 3 > 19 && r == 19));
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(vdso_present_and_consistent_with_syscalls)
{
    EXPECT_TRUE(getauxval(AT_SYSINFO_EHDR) != 0);
    struct timespec v, s;
    for (int clock = 0; clock < 2; clock++) {
        ASSERT_OK(clock_gettime(clock, &v));
        ASSERT_OK(syscall(SYS_clock_gettime, clock, &s));
        long long dv = v.tv_sec * 1000000000LL + v.tv_nsec;
        long long ds = s.tv_sec * 1000000000LL + s.tv_nsec;
        /* The vDSO read comes first; allow 50 ms either way for load. */
        EXPECT_TRUE(ds - dv > -50000000LL && ds - dv < 50000000LL);
    }
    struct timespec a, b;
    ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &a));
    for (int i = 0; i < 100000; i++) {
        ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &b));
        EXPECT_TRUE(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
        a = b;
    }
}

TEST(sched_policies_recorded_and_inherited)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct sched_param zero = {.sched_priority = 0}, ten = {.sched_priority = 10};
        if (sched_setscheduler(0, SCHED_BATCH, &zero) != 0)
            _exit(1);
        if (sched_getscheduler(0) != SCHED_BATCH)
            _exit(2);
        if (sched_setscheduler(0, SCHED_OTHER, &ten) != -1 || errno != EINVAL)
            _exit(3);
        if (sched_setscheduler(0, SCHED_FIFO, &zero) != -1 || errno != EINVAL)
            _exit(4);
        pid_t c = fork();
        if (c == 0)
            _exit(sched_getscheduler(0) == SCHED_BATCH ? 0 : 1);
        int st;
        waitpid(c, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            _exit(5);
        if (sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &zero) != 0)
            _exit(6);
        if (sched_getscheduler(0) != (SCHED_IDLE | SCHED_RESET_ON_FORK))
            _exit(7);
        /* Real-time needs CAP_SYS_NICE (and room in the cgroup): if it is
         * granted, it is what the thread reports. */
        if (sched_setscheduler(0, SCHED_FIFO, &ten) == 0) {
            struct sched_param got;
            if (sched_getscheduler(0) != SCHED_FIFO || sched_getparam(0, &got) != 0 ||
                got.sched_priority != 10)
                _exit(8);
        }
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}
