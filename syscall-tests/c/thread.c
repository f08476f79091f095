/* Threads: pthread create/join/detach, thread identity, shared state,
 * mutexes, condition variables, barriers, semaphores, raw clone with
 * CLONE_CHILD_CLEARTID/PARENT_SETTID, exit vs exit_group from threads,
 * execve and fork from a multithreaded process. Every case joins or waits
 * for what it starts. */
#include "proc_util.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>

extern char **environ;

static void *return_arg(void *arg)
{
    return arg;
}

TEST(create_join_returns_value)
{
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, return_arg, (void *)0x1234), 0);
    void *ret = NULL;
    EXPECT_EQ(pthread_join(t, &ret), 0);
    EXPECT_EQ((uintptr_t)ret, 0x1234);
}

static int counter;

static void *increment_atomic(void *arg)
{
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    return arg;
}

TEST(create_join_many_concurrent)
{
    enum { N = 32 };
    pthread_t t[N];
    counter = 0;
    for (long i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, increment_atomic, (void *)i), 0);
    for (long i = 0; i < N; i++) {
        void *ret = NULL;
        EXPECT_EQ(pthread_join(t[i], &ret), 0);
        EXPECT_EQ((long)ret, i);
    }
    EXPECT_EQ(counter, N);
}

TEST(create_join_sequential_churn)
{
    counter = 0;
    for (long i = 0; i < 200; i++) {
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, increment_atomic, NULL), 0);
        ASSERT_EQ(pthread_join(t, NULL), 0);
    }
    EXPECT_EQ(counter, 200);
}

struct ident {
    pid_t pid, tid, ppid;
};

static void *get_ident(void *arg)
{
    struct ident *id = arg;
    id->pid = getpid();
    id->tid = syscall(SYS_gettid);
    id->ppid = getppid();
    return NULL;
}

TEST(threads_share_pid_distinct_tids)
{
    enum { N = 4 };
    struct ident ids[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, get_ident, &ids[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        EXPECT_EQ(ids[i].pid, getpid());
        EXPECT_EQ(ids[i].ppid, getppid());
        EXPECT_NE(ids[i].tid, getpid());
        EXPECT_GT(ids[i].tid, 0);
        for (int j = 0; j < i; j++)
            EXPECT_NE(ids[i].tid, ids[j].tid);
    }
}

static volatile int release_flag;

static void *wait_release(void *arg)
{
    long long end = pu_now_ns() + 3000000000LL;
    while (!__atomic_load_n(&release_flag, __ATOMIC_SEQ_CST) && pu_now_ns() < end)
        pu_sleep_ms(1);
    return arg;
}

static void *exit_early(void *arg)
{
    pthread_exit(arg);
}

TEST(thread_exits_while_others_run)
{
    release_flag = 0;
    pthread_t slow, fast[4];
    ASSERT_EQ(pthread_create(&slow, NULL, wait_release, (void *)1), 0);
    for (long i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&fast[i], NULL, exit_early, (void *)(i + 10)), 0);
    for (long i = 0; i < 4; i++) {
        void *r = NULL;
        EXPECT_EQ(pthread_join(fast[i], &r), 0);
        EXPECT_EQ((long)r, i + 10);
    }
    /* The slow thread is still alive. */
    EXPECT_EQ(pthread_tryjoin_np(slow, NULL), EBUSY);
    release_flag = 1;
    void *r = NULL;
    EXPECT_EQ(pthread_join(slow, &r), 0);
    EXPECT_EQ((long)r, 1);
}

TEST(detached_thread_runs)
{
    static sem_t done;
    ASSERT_OK(sem_init(&done, 0, 0));
    void *fn(void *arg)
    {
        (void)arg;
        sem_post(&done);
        return NULL;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, &attr, fn, NULL), 0);
    pthread_attr_destroy(&attr);
    struct timespec to;
    clock_gettime(CLOCK_REALTIME, &to);
    to.tv_sec += 3;
    EXPECT_OK(sem_timedwait(&done, &to));
    /* Give the detached thread a moment to finish exiting. */
    pu_sleep_ms(5);
    sem_destroy(&done);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long shared_count;

static void *locked_increments(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&mu);
        shared_count++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

TEST(mutex_protects_counter)
{
    enum { N = 4 };
    pthread_t t[N];
    shared_count = 0;
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, locked_increments, NULL), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ(shared_count, N * 20000);
}

TEST(mutex_trylock_and_errorcheck)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    static pthread_mutex_t m;
    pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
    EXPECT_EQ(pthread_mutex_lock(&m), 0);
    EXPECT_EQ(pthread_mutex_lock(&m), EDEADLK);
    static volatile int other;
    void *fn(void *arg)
    {
        (void)arg;
        other = pthread_mutex_trylock(&m);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_EQ(other, EBUSY);
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);
    EXPECT_EQ(pthread_mutex_unlock(&m), EPERM);
    pthread_mutex_destroy(&m);
}

TEST(mutex_contended_timedlock_times_out)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static volatile int res;
    pthread_mutex_lock(&m);
    void *fn(void *arg)
    {
        (void)arg;
        struct timespec to;
        clock_gettime(CLOCK_REALTIME, &to);
        to.tv_nsec += 50 * 1000000;
        if (to.tv_nsec >= 1000000000) {
            to.tv_sec++;
            to.tv_nsec -= 1000000000;
        }
        res = pthread_mutex_timedlock(&m, &to);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_EQ(res, ETIMEDOUT);
    pthread_mutex_unlock(&m);
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready_items;
static int woken;

static void *cond_consumer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (ready_items == 0)
        pthread_cond_wait(&cv, &mu);
    ready_items--;
    woken++;
    pthread_mutex_unlock(&mu);
    return NULL;
}

TEST(cond_signal_wakes_waiter)
{
    ready_items = 0;
    woken = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, cond_consumer, NULL), 0);
    pu_sleep_ms(10);
    pthread_mutex_lock(&mu);
    ready_items = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(ready_items, 0);
}

TEST(cond_broadcast_wakes_all)
{
    enum { N = 6 };
    ready_items = 0;
    woken = 0;
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, cond_consumer, NULL), 0);
    pu_sleep_ms(10);
    pthread_mutex_lock(&mu);
    ready_items = N;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ(woken, N);
}

TEST(cond_timedwait_times_out)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t c;
    pthread_cond_init(&c, &ca);
    pthread_condattr_destroy(&ca);
    struct timespec to;
    clock_gettime(CLOCK_MONOTONIC, &to);
    long long t0 = to.tv_sec * 1000000000LL + to.tv_nsec;
    to.tv_nsec += 50 * 1000000;
    if (to.tv_nsec >= 1000000000) {
        to.tv_sec++;
        to.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mu);
    EXPECT_EQ(pthread_cond_timedwait(&c, &mu, &to), ETIMEDOUT);
    pthread_mutex_unlock(&mu);
    EXPECT_GE(pu_now_ns() - t0, 45 * 1000000LL);
    pthread_cond_destroy(&c);
}

TEST(barrier_releases_all)
{
    enum { N = 5 };
    static pthread_barrier_t b;
    static int serial;
    ASSERT_EQ(pthread_barrier_init(&b, NULL, N + 1), 0);
    serial = 0;
    void *fn(void *arg)
    {
        (void)arg;
        if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial, 1, __ATOMIC_SEQ_CST);
        return NULL;
    }
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, fn, NULL), 0);
    if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD)
        __atomic_fetch_add(&serial, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ(serial, 1);
    pthread_barrier_destroy(&b);
}

TEST(semaphore_between_threads_and_timeout)
{
    static sem_t s;
    ASSERT_OK(sem_init(&s, 0, 0));
    void *fn(void *arg)
    {
        (void)arg;
        pu_sleep_ms(10);
        sem_post(&s);
        sem_post(&s);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    EXPECT_OK(sem_wait(&s));
    EXPECT_OK(sem_wait(&s));
    pthread_join(t, NULL);
    EXPECT_ERRNO(sem_trywait(&s), EAGAIN);
    struct timespec to;
    clock_gettime(CLOCK_REALTIME, &to);
    to.tv_nsec += 30 * 1000000;
    if (to.tv_nsec >= 1000000000) {
        to.tv_sec++;
        to.tv_nsec -= 1000000000;
    }
    EXPECT_ERRNO(sem_timedwait(&s, &to), ETIMEDOUT);
    sem_destroy(&s);
}

static __thread int tls_value = 7;

TEST(thread_local_storage_is_per_thread)
{
    static volatile int seen_initial, seen_after;
    tls_value = 100;
    void *fn(void *arg)
    {
        (void)arg;
        seen_initial = tls_value;
        tls_value = 200;
        seen_after = tls_value;
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_EQ(seen_initial, 7);
    EXPECT_EQ(seen_after, 200);
    EXPECT_EQ(tls_value, 100);
    tls_value = 7;
}

TEST(thread_shares_fds_and_memory)
{
    static int fds[2];
    static char *heap;
    ASSERT_OK(pipe(fds));
    heap = malloc(32);
    ASSERT_TRUE(heap != NULL);
    void *fn(void *arg)
    {
        (void)arg;
        strcpy(heap, "from thread");
        write(fds[1], "t", 1);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    char c = 0;
    EXPECT_EQ(read(fds[0], &c, 1), 1);
    EXPECT_EQ(c, 't');
    pthread_join(t, NULL);
    EXPECT_STREQ(heap, "from thread");
    free(heap);
}

TEST(thread_custom_stack)
{
    size_t sz = 256 * 1024;
    void *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(stk != MAP_FAILED);
    static char *lo, *hi;
    static volatile int inside;
    lo = stk;
    hi = (char *)stk + sz;
    void *fn(void *arg)
    {
        (void)arg;
        char local;
        inside = &local >= lo && &local < hi;
        return NULL;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stk, sz);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, &attr, fn, NULL), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    EXPECT_EQ(inside, 1);
    munmap(stk, sz);
}

/* ---- raw clone ---- */

static char raw_stack[64 * 1024] __attribute__((aligned(16)));
static volatile int raw_child_ran;
static int other_tid_word;

static int raw_thread_fn(void *arg)
{
    raw_child_ran = 1;
    if (arg)
        syscall(SYS_set_tid_address, arg);
    return 0; /* the clone wrapper then calls SYS_exit for this thread only */
}

static long futex_wait_while(int *addr, int val, long ms)
{
    struct timespec to = {ms / 1000, (ms % 1000) * 1000000L};
    return syscall(SYS_futex, addr, FUTEX_WAIT, val, &to, NULL, 0);
}

TEST(clone_thread_parent_settid_child_cleartid)
{
    static int ptid, ctid;
    raw_child_ran = 0;
    ptid = 0;
    ctid = -1;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    long tid = clone(raw_thread_fn, raw_stack + sizeof(raw_stack), flags, NULL, &ptid, NULL, &ctid);
    ASSERT_OK(tid);
    EXPECT_GT(tid, 0);
    /* Wait until the kernel clears ctid and wakes us (bounded). */
    long long end = pu_now_ns() + 3000000000LL;
    int v;
    while ((v = __atomic_load_n(&ctid, __ATOMIC_SEQ_CST)) != 0 && pu_now_ns() < end)
        futex_wait_while(&ctid, v, 100);
    EXPECT_EQ(ctid, 0);
    EXPECT_EQ(ptid, tid);
    EXPECT_EQ(raw_child_ran, 1);
    /* A thread is not a waitable child. */
    EXPECT_ERRNO(waitpid(tid, NULL, WNOHANG), ECHILD);
}

TEST(set_tid_address_in_thread_clears_new_word)
{
    static int ctid;
    raw_child_ran = 0;
    other_tid_word = -1;
    ctid = -1;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                CLONE_SYSVSEM | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
    long tid = clone(raw_thread_fn, raw_stack + sizeof(raw_stack), flags, &other_tid_word, NULL,
                     NULL, &ctid);
    ASSERT_OK(tid);
    long long end = pu_now_ns() + 3000000000LL;
    int v;
    while ((v = __atomic_load_n(&other_tid_word, __ATOMIC_SEQ_CST)) != 0 && pu_now_ns() < end)
        futex_wait_while(&other_tid_word, v, 100);
    EXPECT_EQ(other_tid_word, 0);
    /* CLONE_CHILD_SETTID stored the tid; set_tid_address moved the clear. */
    EXPECT_EQ(ctid, tid);
}

/* ---- exit / exit_group / exec from threads (in a child process) ---- */

static void *exit_group_thread(void *arg)
{
    pu_sleep_ms(10);
    syscall(SYS_exit_group, (int)(long)arg);
    return NULL;
}

TEST(exit_group_from_thread_ends_process)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pthread_t t;
        CK(pthread_create(&t, NULL, exit_group_thread, (void *)21L) == 0);
        pu_idle(); /* main thread blocks; the group exit ends it */
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 21);
}

TEST(exit_from_thread_keeps_process)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        void *fn(void *arg)
        {
            (void)arg;
            syscall(SYS_exit, 55); /* only this thread */
            return NULL;
        }
        pthread_t t;
        CK(pthread_create(&t, NULL, fn, NULL) == 0);
        CK(pthread_join(t, NULL) == 0);
        _exit(8);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 8);
}

TEST(fork_from_multithreaded_process)
{
    enum { N = 4 };
    release_flag = 0;
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, wait_release, NULL), 0);
    pthread_mutex_lock(&mu);
    pid_t pid = fork();
    if (pid == 0) {
        /* Only the forking thread exists; locks held by it stay usable. */
        pthread_mutex_unlock(&mu);
        CKN(1, syscall(SYS_gettid) == getpid());
        char *m = malloc(1000);
        CKN(2, m != NULL);
        free(m);
        pthread_t c;
        CKN(3, pthread_create(&c, NULL, return_arg, (void *)5L) == 0);
        void *r = NULL;
        CKN(4, pthread_join(c, &r) == 0 && (long)r == 5);
        _exit(0);
    }
    pthread_mutex_unlock(&mu);
    ASSERT_OK(pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    release_flag = 1;
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
}

/* After fork, memory is copy-on-write: two threads that write to the same
 * pages at once both fault; the second must see the first one's copy, not
 * a SIGSEGV. */
enum { COW_PAGES = 256, COW_ROUNDS = 100 };
static volatile char *cow_buf;
static volatile int cow_go;
static void *cow_writer(void *arg)
{
    long k = (long)arg;
    while (!cow_go)
        ;
    for (int i = 0; i < COW_PAGES; i++)
        cow_buf[(long)i * 4096 + k * 64]++;
    return NULL;
}

TEST(cow_write_race_between_threads_after_fork)
{
    cow_buf = mmap(NULL, COW_PAGES * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(cow_buf != MAP_FAILED);
    for (int round = 0; round < COW_ROUNDS; round++) {
        for (long i = 0; i < COW_PAGES * 4096L; i += 4096)
            cow_buf[i] = 1;
        pid_t pid = fork();
        if (pid == 0)
            _exit(cow_buf[0] == 1 ? 0 : 1);
        ASSERT_OK(pid);
        cow_go = 0;
        pthread_t t[2];
        for (long k = 0; k < 2; k++)
            ASSERT_EQ(pthread_create(&t[k], NULL, cow_writer, (void *)k), 0);
        cow_go = 1;
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    }
    EXPECT_EQ(cow_buf[0], 2);
    munmap((void *)cow_buf, COW_PAGES * 4096);
}

TEST(fork_in_thread_child_parent_is_process)
{
    static volatile pid_t child_ppid, child_pid;
    static volatile int code;
    void *fn(void *arg)
    {
        (void)arg;
        int p[2];
        if (pipe(p) != 0)
            return NULL;
        pid_t pid = fork();
        if (pid == 0) {
            pid_t v[1] = {getppid()};
            write(p[1], v, sizeof(v));
            _exit(3);
        }
        pid_t pp = 0;
        pu_read_full(p[0], &pp, sizeof(pp));
        child_ppid = pp;
        child_pid = pid;
        close(p[0]);
        close(p[1]);
        code = pu_code(pu_wait(pid));
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_GT(child_pid, 0);
    EXPECT_EQ(child_ppid, getpid());
    EXPECT_EQ(code, 3);
}

TEST(child_of_thread_waitable_from_main)
{
    static volatile pid_t child;
    void *fn(void *arg)
    {
        (void)arg;
        pid_t pid = fork();
        if (pid == 0)
            _exit(6);
        child = pid;
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    ASSERT_GT(child, 0);
    /* Children belong to the thread group: the main thread reaps it. */
    EXPECT_EQ(pu_code(pu_wait(child)), 6);
}

TEST(sched_yield_between_threads)
{
    static volatile int turn;
    turn = 0;
    void *fn(void *arg)
    {
        (void)arg;
        long long end = pu_now_ns() + 2000000000LL;
        while (turn != 1 && pu_now_ns() < end)
            sched_yield();
        turn = 2;
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    EXPECT_OK(sched_yield());
    turn = 1;
    long long end = pu_now_ns() + 2000000000LL;
    while (turn != 2 && pu_now_ns() < end)
        sched_yield();
    EXPECT_EQ(turn, 2);
    pthread_join(t, NULL);
}

/* Last: a sandbox that mishandles a leader exiting before its threads, or
 * an exec from a non-leader thread, may hang here, and then no later case
 * would report. */
TEST(main_thread_exit_others_continue)
{
    int p[2];
    ASSERT_OK(pipe(p));
    static int wfd;
    wfd = p[1];
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        void *fn(void *arg)
        {
            (void)arg;
            pu_sleep_ms(20);
            write(wfd, "a", 1);
            syscall(SYS_exit, 9);
            return NULL;
        }
        pthread_t t;
        CK(pthread_create(&t, NULL, fn, NULL) == 0);
        syscall(SYS_exit, 4); /* main thread only */
        _exit(99);
    }
    close(p[1]);
    char c = 0;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'a');
    /* The status is the leader's code on older kernels, the last thread's
     * since Linux 6.0 (synchronize_group_exit): accept either. */
    int code = pu_code(pu_wait(pid));
    EXPECT_TRUE(code == 4 || code == 9);
}

TEST(execve_from_non_main_thread)
{
    ASSERT_OK(pu_write_elf(sct_path("exit42"), PU_ELF_EXIT, 42));
    static char path[512];
    snprintf(path, sizeof(path), "%s", sct_path("exit42"));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        void *fn(void *arg)
        {
            (void)arg;
            char *argv[] = {path, NULL};
            execve(path, argv, environ);
            _exit(127);
        }
        pthread_t t;
        CK(pthread_create(&t, NULL, fn, NULL) == 0);
        pu_idle();
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 42);
}

static pthread_mutex_t robust_mu;

static void *robust_holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust_mu);
    return NULL; /* exits holding the lock */
}

TEST(robust_mutex_owner_died)
{
    pthread_mutexattr_t at;
    ASSERT_EQ(pthread_mutexattr_init(&at), 0);
    ASSERT_EQ(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
    ASSERT_EQ(pthread_mutex_init(&robust_mu, &at), 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, robust_holder, NULL), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    EXPECT_EQ(pthread_mutex_lock(&robust_mu), EOWNERDEAD);
    EXPECT_EQ(pthread_mutex_consistent(&robust_mu), 0);
    EXPECT_EQ(pthread_mutex_unlock(&robust_mu), 0);
    pthread_mutex_destroy(&robust_mu);
}

/* Threads made with CLONE_FS (all pthreads) share the working directory
 * and the umask; a change in one is seen by the others. */
static volatile int fs_step;
static void *fs_thread(void *arg)
{
    (void)arg;
    while (fs_step != 1)
        ;
    char buf[256];
    int ok = getcwd(buf, sizeof(buf)) != NULL && strcmp(buf, "/") == 0;
    mode_t m = umask(022);
    ok = ok && m == 077;
    fs_step = 2;
    return (void *)(long)ok;
}

TEST(threads_share_cwd_and_umask)
{
    int old = open(".", O_RDONLY | O_DIRECTORY);
    ASSERT_OK(old);
    mode_t oldmask = umask(022);
    fs_step = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fs_thread, NULL), 0);
    ASSERT_OK(chdir("/"));
    umask(077);
    fs_step = 1;
    void *ok = NULL;
    pthread_join(t, &ok);
    EXPECT_EQ((long)ok, 1);
    /* The thread's umask(022) is ours too. */
    EXPECT_EQ(umask(oldmask), 022);
    ASSERT_OK(fchdir(old));
    close(old);
}
