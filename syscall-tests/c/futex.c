/* futex(2) used directly: WAIT/WAKE, timeouts, bitsets, REQUEUE,
 * CMP_REQUEUE, WAKE_OP, private vs shared (across fork) and errors.
 * Waiters are threads (or a child process) that are always joined. */
#include "proc_util.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>

static long futex(int *uaddr, int op, int val, const struct timespec *to, int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, to, uaddr2, val3);
}

/* A waiter thread: FUTEX_WAIT(addr, expected) with a 3 s safety timeout.
 * Records the result (0, or -errno). */
struct waiter {
    int *addr;
    int expected;
    int op;
    int bitset;
    volatile long result;
    volatile int started;
    pthread_t thread;
};

static void *waiter_fn(void *arg)
{
    struct waiter *w = arg;
    struct timespec to = {3, 0};
    const struct timespec *tp = &to;
    struct timespec abs;
    if ((w->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
        clock_gettime(CLOCK_MONOTONIC, &abs);
        abs.tv_sec += 3;
        tp = &abs;
    }
    __atomic_store_n(&w->started, 1, __ATOMIC_SEQ_CST);
    long r = futex(w->addr, w->op, w->expected, tp, NULL, w->bitset);
    w->result = r == 0 ? 0 : -errno;
    return NULL;
}

static int start_waiter(struct waiter *w, int *addr, int expected, int op, int bitset)
{
    w->addr = addr;
    w->expected = expected;
    w->op = op;
    w->bitset = bitset;
    w->result = 1;
    w->started = 0;
    if (pthread_create(&w->thread, NULL, waiter_fn, w) != 0)
        return -1;
    while (!__atomic_load_n(&w->started, __ATOMIC_SEQ_CST))
        pu_sleep_ms(1);
    /* Let it get into the kernel wait. */
    pu_sleep_ms(20);
    return 0;
}

TEST(futex_wait_value_mismatch_eagain)
{
    int word = 1;
    struct timespec to = {1, 0};
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT, 0, &to, NULL, 0), EAGAIN);
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 2, &to, NULL, 0), EAGAIN);
}

TEST(futex_wait_timeout_etimedout)
{
    int word = 0;
    struct timespec to = {0, 50 * 1000000};
    long long t0 = pu_now_ns();
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0), ETIMEDOUT);
    long long dt = pu_now_ns() - t0;
    EXPECT_GE(dt, 45 * 1000000LL);
    EXPECT_LT(dt, 2000 * 1000000LL);
}

TEST(futex_wait_bitset_absolute_timeout)
{
    int word = 0;
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    long long t0 = abs.tv_sec * 1000000000LL + abs.tv_nsec;
    abs.tv_nsec += 40 * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
                 ETIMEDOUT);
    EXPECT_GE(pu_now_ns() - t0, 35 * 1000000LL);
    /* CLOCK_REALTIME variant, deadline already passed. */
    struct timespec past;
    clock_gettime(CLOCK_REALTIME, &past);
    past.tv_sec -= 1;
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &past, NULL,
                       FUTEX_BITSET_MATCH_ANY),
                 ETIMEDOUT);
}

TEST(futex_wake_without_waiters_returns_zero)
{
    int word = 0;
    EXPECT_EQ(futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
    EXPECT_EQ(futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
}

TEST(futex_wake_one_waiter)
{
    static int word;
    word = 0;
    struct waiter w;
    ASSERT_OK(start_waiter(&w, &word, 0, FUTEX_WAIT_PRIVATE, 0));
    EXPECT_EQ(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.result, 0);
}

TEST(futex_wake_count_limits)
{
    static int word;
    word = 0;
    struct waiter w[3];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(start_waiter(&w[i], &word, 0, FUTEX_WAIT_PRIVATE, 0));
    EXPECT_EQ(futex(&word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0), 2);
    EXPECT_EQ(futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(w[i].thread, NULL);
        EXPECT_EQ(w[i].result, 0);
    }
}

TEST(futex_private_and_shared_ops_on_private_memory)
{
    /* A shared (non-PRIVATE) wait on private memory is woken by a shared wake. */
    static int word;
    word = 0;
    struct waiter w;
    ASSERT_OK(start_waiter(&w, &word, 0, FUTEX_WAIT, 0));
    EXPECT_EQ(futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.result, 0);
}

TEST(futex_wake_bitset_selects_waiters)
{
    static int word;
    word = 0;
    struct waiter w;
    ASSERT_OK(start_waiter(&w, &word, 0, FUTEX_WAIT_BITSET_PRIVATE, 0x1));
    EXPECT_EQ(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0x2), 0);
    EXPECT_EQ(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0x3), 1);
    pthread_join(w.thread, NULL);
    EXPECT_EQ(w.result, 0);
}

TEST(futex_bitset_zero_einval)
{
    int word = 0;
    struct timespec to = {0, 1000};
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &to, NULL, 0), EINVAL);
    EXPECT_ERRNO(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
}

TEST(futex_requeue_moves_waiters)
{
    static int f1, f2;
    f1 = f2 = 0;
    struct waiter w[3];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(start_waiter(&w[i], &f1, 0, FUTEX_WAIT_PRIVATE, 0));
    /* Wake one, requeue the rest onto f2. */
    long r = futex(&f1, FUTEX_REQUEUE_PRIVATE, 1, (struct timespec *)(long)INT_MAX, &f2, 0);
    EXPECT_GE(r, 1);
    EXPECT_LE(r, 3);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
    EXPECT_EQ(futex(&f2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 2);
    for (int i = 0; i < 3; i++) {
        pthread_join(w[i].thread, NULL);
        EXPECT_EQ(w[i].result, 0);
    }
}

TEST(futex_cmp_requeue_counts_and_eagain)
{
    static int f1, f2;
    f1 = f2 = 0;
    struct waiter w[3];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(start_waiter(&w[i], &f1, 0, FUTEX_WAIT_PRIVATE, 0));
    /* val3 must equal *f1. */
    EXPECT_ERRNO(futex(&f1, FUTEX_CMP_REQUEUE_PRIVATE, 0, (struct timespec *)2L, &f2, 7), EAGAIN);
    /* Wake none, requeue two: returns woken + requeued. */
    EXPECT_EQ(futex(&f1, FUTEX_CMP_REQUEUE_PRIVATE, 0, (struct timespec *)2L, &f2, 0), 2);
    EXPECT_EQ(futex(&f2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 2);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(w[i].thread, NULL);
        EXPECT_EQ(w[i].result, 0);
    }
}

TEST(futex_requeue_negative_counts_einval)
{
    int f = 0, g = 0;
    EXPECT_ERRNO(futex(&f, FUTEX_CMP_REQUEUE_PRIVATE, -1, (struct timespec *)1L, &g, 0), EINVAL);
    EXPECT_ERRNO(futex(&f, FUTEX_CMP_REQUEUE_PRIVATE, 1, (struct timespec *)-1L, &g, 0), EINVAL);
}

TEST(futex_wake_op_modifies_second_word)
{
    int f1 = 0, f2 = 3;
    /* *f2 = 5 (old 3); wake f2 waiters if old == 3. No waiters: 0. */
    int op = FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 3);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 0);
    EXPECT_EQ(f2, 5);
    op = FUTEX_OP(FUTEX_OP_ADD, 10, FUTEX_OP_CMP_LT, 0);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 0);
    EXPECT_EQ(f2, 15);
    op = FUTEX_OP(FUTEX_OP_OR, 0x100, FUTEX_OP_CMP_NE, 0);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 0);
    EXPECT_EQ(f2, 0x10f);
    op = FUTEX_OP(FUTEX_OP_ANDN, 0xf, FUTEX_OP_CMP_EQ, 0);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 0);
    EXPECT_EQ(f2, 0x100);
    op = FUTEX_OP(FUTEX_OP_XOR, 0x101, FUTEX_OP_CMP_EQ, 0);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 0);
    EXPECT_EQ(f2, 1);
}

TEST(futex_wake_op_wakes_both)
{
    static int f1, f2;
    f1 = 0;
    f2 = 0;
    struct waiter a, b;
    ASSERT_OK(start_waiter(&a, &f1, 0, FUTEX_WAIT_PRIVATE, 0));
    ASSERT_OK(start_waiter(&b, &f2, 0, FUTEX_WAIT_PRIVATE, 0));
    /* Set *f2 = 1; old value 0 == 0, so one f2 waiter is woken as well. */
    int op = FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 2);
    EXPECT_EQ(f2, 1);
    pthread_join(a.thread, NULL);
    pthread_join(b.thread, NULL);
    EXPECT_EQ(a.result, 0);
    EXPECT_EQ(b.result, 0);
}

TEST(futex_wake_op_condition_false_wakes_first_only)
{
    static int f1, f2;
    f1 = 0;
    f2 = 0;
    struct waiter a, b;
    ASSERT_OK(start_waiter(&a, &f1, 0, FUTEX_WAIT_PRIVATE, 0));
    ASSERT_OK(start_waiter(&b, &f2, 0, FUTEX_WAIT_PRIVATE, 0));
    int op = FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 5);
    EXPECT_EQ(futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (struct timespec *)1L, &f2, op), 1);
    pthread_join(a.thread, NULL);
    EXPECT_EQ(a.result, 0);
    EXPECT_EQ(futex(&f2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
    pthread_join(b.thread, NULL);
    EXPECT_EQ(b.result, 0);
}

TEST(futex_shared_mapping_across_fork)
{
    int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(word != MAP_FAILED);
    word[0] = 0; /* futex */
    word[1] = 0; /* child is about to wait */
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        __atomic_store_n(&word[1], 1, __ATOMIC_SEQ_CST);
        struct timespec to = {3, 0};
        long r = futex(&word[0], FUTEX_WAIT, 0, &to, NULL, 0);
        _exit(r == 0 ? 0 : (errno == ETIMEDOUT ? 2 : 3));
    }
    long long end = pu_now_ns() + 2000000000LL;
    while (!__atomic_load_n(&word[1], __ATOMIC_SEQ_CST) && pu_now_ns() < end)
        pu_sleep_ms(1);
    pu_sleep_ms(20);
    EXPECT_EQ(futex(&word[0], FUTEX_WAKE, 1, NULL, NULL, 0), 1);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    munmap(word, 4096);
}

TEST(futex_private_wake_does_not_cross_processes)
{
    int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(word != MAP_FAILED);
    word[0] = 0;
    word[1] = 0;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        __atomic_store_n(&word[1], 1, __ATOMIC_SEQ_CST);
        struct timespec to = {0, 300 * 1000000};
        long r = futex(&word[0], FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
        _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
    }
    long long end = pu_now_ns() + 2000000000LL;
    while (!__atomic_load_n(&word[1], __ATOMIC_SEQ_CST) && pu_now_ns() < end)
        pu_sleep_ms(1);
    pu_sleep_ms(20);
    /* A private futex is keyed by mm: another process cannot wake it. */
    EXPECT_EQ(futex(&word[0], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    munmap(word, 4096);
}

static void noop_handler(int sig)
{
    (void)sig;
}

TEST(futex_wait_interrupted_by_signal)
{
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGALRM, noop_handler, 0, &old));
    ASSERT_OK(pu_timer_ms(20));
    int word = 0;
    struct timespec to = {2, 0};
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0), EINTR);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(futex_errors)
{
    int word = 0;
    struct timespec bad = {0, 1000000000};
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0), EINVAL);
    struct timespec neg = {-1, 0};
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &neg, NULL, 0), EINVAL);
    /* Unaligned address. */
    char buf[8] __attribute__((aligned(4))) = {0};
    EXPECT_ERRNO(futex((int *)(buf + 1), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINVAL);
    /* Aligned but unmapped. */
    EXPECT_ERRNO(futex((int *)4096, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
    EXPECT_ERRNO(futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
    /* FUTEX_CLOCK_REALTIME is only for WAIT_BITSET / LOCK_PI-style ops, not WAKE. */
    EXPECT_ERRNO(futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
}
