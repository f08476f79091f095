/* The sandbox vDSO: clock_gettime, gettimeofday and time computed from
 * the TSC and parameters the sentry keeps in the page before this image
 * (runsc_vvar); anything it cannot serve falls back to a real syscall. */
#include <stdint.h>

typedef int clockid_t;
typedef long time_t;
struct timespec { long tv_sec; long tv_nsec; };
struct timeval { long tv_sec; long tv_usec; };
struct timezone { int tz_minuteswest; int tz_dsttime; };
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

struct vdso_params {
    volatile uint32_t seq;
    uint32_t enabled;
    uint64_t tsc_base;
    uint64_t mult;
    int64_t mono_base;
    int64_t real_base;
    int64_t boot_base;
};

extern const struct vdso_params runsc_vvar __attribute__((visibility("hidden")));

static inline long sys2(long nr, long a, long b) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}
static inline long sys3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Nanoseconds on `clock` from the parameters; -1 if not served here. */
static int64_t now_ns(clockid_t clock) {
    const struct vdso_params *p = &runsc_vvar;
    for (;;) {
        uint32_t seq = p->seq;
        __asm__ volatile("" ::: "memory");
        if (seq & 1) continue;
        if (!p->enabled) return -1;
        int64_t base;
        switch (clock) {
        case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: base = p->real_base; break;
        case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_COARSE: case CLOCK_MONOTONIC_RAW: base = p->mono_base; break;
        case CLOCK_BOOTTIME: base = p->boot_base; break;
        default: return -1;
        }
        uint64_t delta = rdtsc() - p->tsc_base;
        int64_t ns = base + (int64_t)(((unsigned __int128)delta * p->mult) >> 32);
        __asm__ volatile("" ::: "memory");
        if (p->seq == seq) return ns;
    }
}

int __vdso_clock_gettime(clockid_t clock, struct timespec *ts) {
    int64_t ns = now_ns(clock);
    if (ns < 0) return (int)sys2(228, clock, (long)ts);
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return 0;
}

int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz) {
    int64_t ns = tz ? -1 : now_ns(CLOCK_REALTIME);
    if (ns < 0) return (int)sys2(96, (long)tv, (long)tz);
    if (tv) { tv->tv_sec = ns / 1000000000; tv->tv_usec = (ns % 1000000000) / 1000; }
    return 0;
}

time_t __vdso_time(time_t *t) {
    int64_t ns = now_ns(CLOCK_REALTIME);
    time_t s = ns < 0 ? (time_t)sys2(201, 0, 0) : ns / 1000000000;
    if (t) *t = s;
    return s;
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
    return sys3(309, (long)cpu, (long)node, (long)unused);
}

