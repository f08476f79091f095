/* Signal delivery: handlers, siginfo, per-thread masks, pending sets,
 * restart semantics, handler flags, alternate stacks, sigsuspend,
 * sigtimedwait, default actions, SIGCHLD, SIGPIPE and synchronous faults.
 * Every case restores the handlers it installs and cancels its timers. */
#include "proc_util.h"

#include <pthread.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

static volatile sig_atomic_t hits;
static volatile sig_atomic_t hits2;
static volatile int last_sig;
static volatile pid_t handler_tid;
static siginfo_t last_info;
static volatile int order[8];
static volatile int norder;

static void count_handler(int sig)
{
    last_sig = sig;
    handler_tid = syscall(SYS_gettid);
    hits++;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_info = *si;
    handler_tid = syscall(SYS_gettid);
    hits++;
}

static void order_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (norder < 8)
        order[norder++] = sig * 1000 + si->si_value.sival_int;
}

static void reset_counters(void)
{
    hits = 0;
    hits2 = 0;
    last_sig = 0;
    handler_tid = 0;
    norder = 0;
    memset(&last_info, 0, sizeof(last_info));
}

TEST(raise_runs_handler)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old));
    EXPECT_EQ(raise(SIGUSR1), 0);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_sig, SIGUSR1);
    EXPECT_EQ(handler_tid, syscall(SYS_gettid));
    sigaction(SIGUSR1, &old, NULL);
}

TEST(kill_self_runs_handler_before_return)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR2, count_handler, 0, &old));
    EXPECT_OK(kill(getpid(), SIGUSR2));
    EXPECT_EQ(hits, 1);
    EXPECT_OK(kill(getpid(), SIGUSR2));
    EXPECT_EQ(hits, 2);
    sigaction(SIGUSR2, &old, NULL);
}

TEST(siginfo_kill_si_user)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, info_handler, SA_SIGINFO, &old));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_info.si_signo, SIGUSR1);
    EXPECT_EQ(last_info.si_code, SI_USER);
    EXPECT_EQ(last_info.si_pid, getpid());
    EXPECT_EQ(last_info.si_uid, getuid());
    sigaction(SIGUSR1, &old, NULL);
}

TEST(siginfo_tgkill_si_tkill)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, info_handler, SA_SIGINFO, &old));
    EXPECT_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_info.si_signo, SIGUSR1);
    EXPECT_EQ(last_info.si_code, SI_TKILL);
    EXPECT_EQ(last_info.si_pid, getpid());
    EXPECT_OK(syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1));
    EXPECT_EQ(hits, 2);
    EXPECT_EQ(last_info.si_code, SI_TKILL);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(siginfo_sigqueue_si_queue_value)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR2, info_handler, SA_SIGINFO, &old));
    union sigval v = {.sival_int = 12345};
    EXPECT_OK(sigqueue(getpid(), SIGUSR2, v));
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_info.si_signo, SIGUSR2);
    EXPECT_EQ(last_info.si_code, SI_QUEUE);
    EXPECT_EQ(last_info.si_pid, getpid());
    EXPECT_EQ(last_info.si_uid, getuid());
    EXPECT_EQ(last_info.si_value.sival_int, 12345);
    sigaction(SIGUSR2, &old, NULL);
}

TEST(siginfo_from_other_process)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, info_handler, SA_SIGINFO, &old));
    ASSERT_OK(pu_block(SIGUSR1));
    pid_t parent = getpid();
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        union sigval v = {.sival_int = 77};
        _exit(sigqueue(parent, SIGUSR1, v) == 0 ? 0 : 1);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    pid_t bs = pu_backstop(SIGUSR1, 1500);
    sigset_t empty;
    sigemptyset(&empty);
    EXPECT_ERRNO(sigsuspend(&empty), EINTR);
    pu_backstop_end(bs);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_info.si_pid, pid);
    EXPECT_EQ(last_info.si_code, SI_QUEUE);
    EXPECT_EQ(last_info.si_value.sival_int, 77);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(rt_sigqueueinfo_si_user_to_other_eperm)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_idle();
    }
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGUSR1;
    si.si_code = SI_USER;
    si.si_pid = getpid();
    EXPECT_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si), EPERM);
    si.si_code = SI_TKILL;
    EXPECT_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si), EPERM);
    EXPECT_OK(kill(pid, SIGKILL));
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGKILL);
}

TEST(standard_signal_coalesces_rt_signal_queues)
{
    struct sigaction old1, old2;
    reset_counters();
    int rt = SIGRTMIN + 3;
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old1));
    ASSERT_OK(pu_handle(rt, order_handler, SA_SIGINFO, &old2));
    ASSERT_OK(pu_block(SIGUSR1));
    ASSERT_OK(pu_block(rt));
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(raise(SIGUSR1));
        union sigval v = {.sival_int = i + 1};
        EXPECT_OK(sigqueue(getpid(), rt, v));
    }
    EXPECT_EQ(hits, 0);
    EXPECT_EQ(norder, 0);
    EXPECT_OK(pu_unblock(SIGUSR1));
    EXPECT_EQ(hits, 1);
    EXPECT_OK(pu_unblock(rt));
    EXPECT_EQ(norder, 3);
    /* Queued in order, each with its own value. */
    EXPECT_EQ(order[0], rt * 1000 + 1);
    EXPECT_EQ(order[1], rt * 1000 + 2);
    EXPECT_EQ(order[2], rt * 1000 + 3);
    sigaction(SIGUSR1, &old1, NULL);
    sigaction(rt, &old2, NULL);
}

TEST(rt_signals_dequeued_lowest_number_first)
{
    int a = SIGRTMIN + 1, b = SIGRTMIN + 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, a);
    sigaddset(&set, b);
    sigaddset(&set, SIGUSR1);
    ASSERT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    union sigval v = {.sival_int = 0};
    EXPECT_OK(sigqueue(getpid(), b, v));
    EXPECT_OK(sigqueue(getpid(), a, v));
    EXPECT_OK(raise(SIGUSR1));
    /* Standard signals first, then real-time ones by number. */
    EXPECT_EQ(sigwaitinfo(&set, NULL), SIGUSR1);
    EXPECT_EQ(sigwaitinfo(&set, NULL), a);
    EXPECT_EQ(sigwaitinfo(&set, NULL), b);
}

TEST(sigpending_blocked_signal_then_delivered_on_unblock)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old));
    ASSERT_OK(pu_block(SIGUSR1));
    sigset_t pend;
    sigemptyset(&pend);
    EXPECT_OK(sigpending(&pend));
    EXPECT_FALSE(sigismember(&pend, SIGUSR1));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(hits, 0);
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGUSR1));
    EXPECT_FALSE(sigismember(&pend, SIGUSR2));
    EXPECT_OK(pu_unblock(SIGUSR1));
    EXPECT_EQ(hits, 1);
    EXPECT_OK(sigpending(&pend));
    EXPECT_FALSE(sigismember(&pend, SIGUSR1));
    sigaction(SIGUSR1, &old, NULL);
}

TEST(sigpending_discarded_when_set_to_ignore)
{
    struct sigaction old, ign;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR2, count_handler, 0, &old));
    ASSERT_OK(pu_block(SIGUSR2));
    EXPECT_OK(raise(SIGUSR2));
    sigset_t pend;
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGUSR2));
    ASSERT_OK(pu_disp(SIGUSR2, SIG_IGN, &ign));
    EXPECT_OK(sigpending(&pend));
    EXPECT_FALSE(sigismember(&pend, SIGUSR2));
    ASSERT_OK(pu_handle(SIGUSR2, count_handler, 0, NULL));
    EXPECT_OK(pu_unblock(SIGUSR2));
    EXPECT_EQ(hits, 0);
    sigaction(SIGUSR2, &old, NULL);
}

TEST(sigpending_bad_pointer_efault)
{
    EXPECT_ERRNO(syscall(SYS_rt_sigpending, BAD_PTR, 8), EFAULT);
    sigset_t s;
    EXPECT_ERRNO(syscall(SYS_rt_sigpending, &s, 1000), EINVAL);
}

TEST(handler_mask_and_ucontext)
{
    static volatile int in_mask_self, in_mask_extra, uc_has_usr2, uc_has_usr1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    void h(int sig, siginfo_t *si, void *ucv)
    {
        (void)si;
        ucontext_t *uc = ucv;
        sigset_t cur;
        sigprocmask(SIG_SETMASK, NULL, &cur);
        in_mask_self = sigismember(&cur, sig);
        in_mask_extra = sigismember(&cur, SIGWINCH);
        uc_has_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
        uc_has_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
    }
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGWINCH);
    ASSERT_OK(sigaction(SIGUSR1, &sa, &old));
    ASSERT_OK(pu_block(SIGUSR2));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(in_mask_self, 1);
    EXPECT_EQ(in_mask_extra, 1);
    /* uc_sigmask is the mask to restore: the pre-handler one. */
    EXPECT_EQ(uc_has_usr2, 1);
    EXPECT_EQ(uc_has_usr1, 0);
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    EXPECT_FALSE(sigismember(&cur, SIGUSR1));
    EXPECT_FALSE(sigismember(&cur, SIGWINCH));
    sigaction(SIGUSR1, &old, NULL);
}

static void modify_uc_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    sigaddset(&uc->uc_sigmask, SIGUSR2);
}

TEST(handler_changes_uc_sigmask_applied_at_sigreturn)
{
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGUSR1, modify_uc_handler, SA_SIGINFO, &old));
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    ASSERT_FALSE(sigismember(&cur, SIGUSR2));
    EXPECT_OK(raise(SIGUSR1));
    sigprocmask(SIG_SETMASK, NULL, &cur);
    EXPECT_TRUE(sigismember(&cur, SIGUSR2));
    sigaction(SIGUSR1, &old, NULL);
}

static void nested_outer(int sig)
{
    (void)sig;
    order[norder++] = 1;
    raise(SIGUSR2);
    order[norder++] = 3;
}

static void nested_inner(int sig)
{
    (void)sig;
    order[norder++] = 2;
}

TEST(nested_handlers_different_signals)
{
    struct sigaction o1, o2;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, nested_outer, 0, &o1));
    ASSERT_OK(pu_handle(SIGUSR2, nested_inner, 0, &o2));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(norder, 3);
    EXPECT_EQ(order[0], 1);
    EXPECT_EQ(order[1], 2);
    EXPECT_EQ(order[2], 3);
    sigaction(SIGUSR1, &o1, NULL);
    sigaction(SIGUSR2, &o2, NULL);
}

static volatile int depth, max_depth;

static void reentrant_handler(int sig)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    if (hits++ == 0)
        raise(sig);
    depth--;
}

TEST(sa_nodefer_allows_reentry)
{
    struct sigaction old;
    reset_counters();
    depth = max_depth = 0;
    ASSERT_OK(pu_handle(SIGUSR1, reentrant_handler, SA_NODEFER, &old));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(hits, 2);
    EXPECT_EQ(max_depth, 2);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(without_nodefer_signal_deferred_until_return)
{
    struct sigaction old;
    reset_counters();
    depth = max_depth = 0;
    ASSERT_OK(pu_handle(SIGUSR1, reentrant_handler, 0, &old));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(hits, 2);
    EXPECT_EQ(max_depth, 1);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(sa_resethand_restores_default)
{
    struct sigaction old, now;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, SA_RESETHAND, &old));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(hits, 1);
    EXPECT_OK(sigaction(SIGUSR1, NULL, &now));
    EXPECT_EQ(now.sa_handler, SIG_DFL);
    sigaction(SIGUSR1, &old, NULL);
    /* And the next one would kill: check in a child. */
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_handle(SIGUSR1, count_handler, SA_RESETHAND, NULL);
        raise(SIGUSR1);
        raise(SIGUSR1);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGUSR1);
}

static char *alt_lo, *alt_hi;
static volatile int on_alt, ss_flags_in_handler;

static void alt_handler(int sig)
{
    (void)sig;
    char local;
    on_alt = &local >= alt_lo && &local < alt_hi;
    stack_t cur;
    sigaltstack(NULL, &cur);
    ss_flags_in_handler = cur.ss_flags;
}

TEST(sigaltstack_sa_onstack_runs_on_alt_stack)
{
    size_t sz = 64 * 1024;
    char *mem = malloc(sz);
    ASSERT_TRUE(mem != NULL);
    alt_lo = mem;
    alt_hi = mem + sz;
    stack_t ss = {.ss_sp = mem, .ss_size = sz, .ss_flags = 0}, old;
    ASSERT_OK(sigaltstack(&ss, &old));
    struct sigaction oact;
    on_alt = -1;
    ASSERT_OK(pu_handle(SIGUSR1, alt_handler, SA_ONSTACK, &oact));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(on_alt, 1);
    EXPECT_TRUE(ss_flags_in_handler & SS_ONSTACK);
    /* Outside the handler we are not on it. */
    stack_t cur;
    EXPECT_OK(sigaltstack(NULL, &cur));
    EXPECT_EQ(cur.ss_sp, mem);
    EXPECT_EQ(cur.ss_size, sz);
    EXPECT_FALSE(cur.ss_flags & SS_ONSTACK);
    /* Without SA_ONSTACK the normal stack is used. */
    ASSERT_OK(pu_handle(SIGUSR1, alt_handler, 0, NULL));
    on_alt = -1;
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_EQ(on_alt, 0);
    sigaction(SIGUSR1, &oact, NULL);
    stack_t dis = {.ss_flags = SS_DISABLE};
    EXPECT_OK(sigaltstack(&dis, NULL));
    EXPECT_OK(sigaltstack(NULL, &cur));
    EXPECT_TRUE(cur.ss_flags & SS_DISABLE);
    free(mem);
}

static volatile int alt_eperm_errno;

static void alt_eperm_handler(int sig)
{
    (void)sig;
    stack_t ss = {.ss_sp = alt_lo, .ss_size = alt_hi - alt_lo, .ss_flags = 0};
    errno = 0;
    if (sigaltstack(&ss, NULL) == -1)
        alt_eperm_errno = errno;
    else
        alt_eperm_errno = 0;
}

TEST(sigaltstack_errors)
{
    char *mem = malloc(64 * 1024);
    ASSERT_TRUE(mem != NULL);
    stack_t small = {.ss_sp = mem, .ss_size = 512, .ss_flags = 0};
    EXPECT_ERRNO(sigaltstack(&small, NULL), ENOMEM);
    stack_t badflags = {.ss_sp = mem, .ss_size = 64 * 1024, .ss_flags = 0x1234};
    EXPECT_ERRNO(sigaltstack(&badflags, NULL), EINVAL);
    EXPECT_ERRNO(sigaltstack(BAD_PTR, NULL), EFAULT);
    /* Changing the alternate stack while running on it: EPERM. */
    alt_lo = mem;
    alt_hi = mem + 64 * 1024;
    stack_t ss = {.ss_sp = mem, .ss_size = 64 * 1024, .ss_flags = 0};
    ASSERT_OK(sigaltstack(&ss, NULL));
    struct sigaction oact;
    ASSERT_OK(pu_handle(SIGUSR2, alt_eperm_handler, SA_ONSTACK, &oact));
    alt_eperm_errno = -1;
    EXPECT_OK(raise(SIGUSR2));
    EXPECT_EQ(alt_eperm_errno, EPERM);
    sigaction(SIGUSR2, &oact, NULL);
    stack_t dis = {.ss_flags = SS_DISABLE};
    EXPECT_OK(sigaltstack(&dis, NULL));
    free(mem);
}

static sigjmp_buf jump_env;
static volatile void *fault_addr;
static volatile int fault_code, fault_signo;

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_signo = sig;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jump_env, 1);
}

TEST(siglongjmp_out_of_handler_restores_mask)
{
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGUSR1, jump_handler, SA_SIGINFO, &old));
    volatile int jumped = 0;
    if (sigsetjmp(jump_env, 1) == 0) {
        raise(SIGUSR1);
    } else {
        jumped = 1;
    }
    EXPECT_EQ(jumped, 1);
    EXPECT_EQ(fault_signo, SIGUSR1);
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    EXPECT_FALSE(sigismember(&cur, SIGUSR1));
    /* The handler runs again: the signal is not left blocked. */
    jumped = 0;
    if (sigsetjmp(jump_env, 1) == 0)
        raise(SIGUSR1);
    else
        jumped = 1;
    EXPECT_EQ(jumped, 1);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(sigsegv_maperr_si_addr)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    ASSERT_OK(munmap(p, pg));
    volatile char *bad = p + 24;
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGSEGV, jump_handler, SA_SIGINFO, &old));
    fault_addr = NULL;
    fault_code = 0;
    volatile int recovered = 0;
    if (sigsetjmp(jump_env, 1) == 0)
        *bad = 1;
    else
        recovered = 1;
    sigaction(SIGSEGV, &old, NULL);
    EXPECT_EQ(recovered, 1);
    EXPECT_EQ(fault_signo, SIGSEGV);
    EXPECT_EQ(fault_code, SEGV_MAPERR);
    EXPECT_EQ((uintptr_t)fault_addr, (uintptr_t)bad);
}

TEST(sigsegv_accerr_write_to_readonly)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    volatile char *bad = p + 100;
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGSEGV, jump_handler, SA_SIGINFO, &old));
    volatile int recovered = 0;
    if (sigsetjmp(jump_env, 1) == 0)
        *bad = 1;
    else
        recovered = 1;
    sigaction(SIGSEGV, &old, NULL);
    munmap(p, pg);
    EXPECT_EQ(recovered, 1);
    EXPECT_EQ(fault_code, SEGV_ACCERR);
    EXPECT_EQ((uintptr_t)fault_addr, (uintptr_t)bad);
}

TEST(sigsegv_handler_fixes_up_and_retries)
{
    /* The handler makes the page writable and returns: the write retries. */
    static char *page;
    static volatile int calls;
    long pg = sysconf(_SC_PAGESIZE);
    page = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(page != MAP_FAILED);
    void h(int sig, siginfo_t *si, void *uc)
    {
        (void)sig;
        (void)uc;
        calls++;
        char *a = (char *)((uintptr_t)si->si_addr & ~(uintptr_t)(4096 - 1));
        mprotect(a, 4096, PROT_READ | PROT_WRITE);
    }
    struct sigaction old;
    calls = 0;
    ASSERT_OK(pu_handle(SIGSEGV, h, SA_SIGINFO, &old));
    ((volatile char *)page)[5] = 9;
    sigaction(SIGSEGV, &old, NULL);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(page[5], 9);
    munmap(page, pg);
}

TEST(sigsegv_default_kills_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)8 = 0;
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGSEGV);
}

TEST(sigsegv_while_blocked_kills)
{
    /* A synchronous fault with the signal blocked still kills. */
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_handle(SIGSEGV, count_handler, 0, NULL);
        pu_block(SIGSEGV);
        *(volatile int *)8 = 0;
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGSEGV);
}

TEST(sigfpe_integer_divide_by_zero)
{
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGFPE, jump_handler, SA_SIGINFO, &old));
    volatile int zero = 0, num = 10, res = 0;
    volatile int recovered = 0;
    fault_code = 0;
    if (sigsetjmp(jump_env, 1) == 0)
        res = num / zero;
    else
        recovered = 1;
    sigaction(SIGFPE, &old, NULL);
    (void)res;
    EXPECT_EQ(recovered, 1);
    EXPECT_EQ(fault_signo, SIGFPE);
    EXPECT_EQ(fault_code, FPE_INTDIV);
}

TEST(sigill_ud2)
{
    struct sigaction old;
    ASSERT_OK(pu_handle(SIGILL, jump_handler, SA_SIGINFO, &old));
    volatile int recovered = 0;
    fault_code = 0;
    fault_signo = 0;
    if (sigsetjmp(jump_env, 1) == 0)
        __asm__ volatile("ud2");
    else
        recovered = 1;
    sigaction(SIGILL, &old, NULL);
    EXPECT_EQ(recovered, 1);
    EXPECT_EQ(fault_signo, SIGILL);
    EXPECT_EQ(fault_code, ILL_ILLOPN);
}

TEST(sigtrap_int3_handler_returns)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGTRAP, info_handler, SA_SIGINFO, &old));
    __asm__ volatile("int3");
    sigaction(SIGTRAP, &old, NULL);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_sig, SIGTRAP);
    EXPECT_EQ(last_info.si_signo, SIGTRAP);
}

TEST(sigtrap_int3_default_kills_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        signal(SIGTRAP, SIG_DFL);
        __asm__ volatile("int3");
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGTRAP);
}

TEST(default_action_terminate_signals)
{
    static const int sigs[] = {SIGTERM, SIGKILL, SIGUSR1, SIGHUP, SIGALRM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        pid_t pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
            pu_idle();
        }
        EXPECT_OK(kill(pid, sigs[i]));
        int st = pu_wait(pid);
        EXPECT_TRUE(st >= 0 && WIFSIGNALED(st));
        EXPECT_EQ(pu_code(st), 1000 + sigs[i]);
    }
}

TEST(default_action_ignore_signals)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        raise(SIGCHLD);
        raise(SIGWINCH);
        raise(SIGURG);
        kill(getpid(), SIGCONT);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(sigkill_cannot_be_blocked_or_ignored)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        for (int s = 1; s < 32; s++)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_IGN);
        pu_idle();
    }
    pu_sleep_ms(5);
    EXPECT_OK(kill(pid, SIGTERM));
    EXPECT_OK(kill(pid, SIGKILL));
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGKILL);
}

TEST(sigstop_sigcont_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_idle();
    }
    int st;
    EXPECT_OK(kill(pid, SIGSTOP));
    ASSERT_EQ(waitpid(pid, &st, WUNTRACED), pid);
    EXPECT_TRUE(WIFSTOPPED(st));
    EXPECT_EQ(WSTOPSIG(st), SIGSTOP);
    EXPECT_OK(kill(pid, SIGCONT));
    ASSERT_EQ(waitpid(pid, &st, WCONTINUED), pid);
    EXPECT_TRUE(WIFCONTINUED(st));
    EXPECT_OK(kill(pid, SIGKILL));
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGKILL);
}

TEST(sigchld_generated_on_child_exit)
{
    ASSERT_OK(pu_block(SIGCHLD));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(3);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    struct timespec to = {2, 0};
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_EQ(sigtimedwait(&set, &si, &to), SIGCHLD);
    EXPECT_EQ(si.si_signo, SIGCHLD);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_pid, pid);
    EXPECT_EQ(si.si_status, 3);
    EXPECT_EQ(pu_code(pu_wait(pid)), 3);
}

TEST(sigchld_handler_runs)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_block(SIGCHLD));
    ASSERT_OK(pu_handle(SIGCHLD, info_handler, SA_SIGINFO, &old));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_idle();
    }
    EXPECT_OK(kill(pid, SIGTERM));
    sigset_t empty;
    sigemptyset(&empty);
    EXPECT_ERRNO(sigsuspend(&empty), EINTR);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(last_info.si_code, CLD_KILLED);
    EXPECT_EQ(last_info.si_status, SIGTERM);
    EXPECT_EQ(last_info.si_pid, pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGTERM);
    sigaction(SIGCHLD, &old, NULL);
}

TEST(sigchld_ignored_autoreaps)
{
    struct sigaction old;
    ASSERT_OK(pu_disp(SIGCHLD, SIG_IGN, &old));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(0);
    /* wait blocks until the child is gone, then fails with ECHILD. */
    int st;
    EXPECT_ERRNO(waitpid(pid, &st, 0), ECHILD);
    sigaction(SIGCHLD, &old, NULL);
}

TEST(sigpipe_default_kills_writer)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        int p[2];
        signal(SIGPIPE, SIG_DFL);
        CK(pipe(p) == 0);
        close(p[0]);
        write(p[1], "x", 1);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGPIPE);
}

TEST(sigpipe_ignored_gives_epipe)
{
    struct sigaction old;
    ASSERT_OK(pu_disp(SIGPIPE, SIG_IGN, &old));
    int p[2];
    ASSERT_OK(pipe(p));
    close(p[0]);
    EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
    sigaction(SIGPIPE, &old, NULL);
}

TEST(sigpipe_blocked_epipe_and_pending)
{
    ASSERT_OK(pu_block(SIGPIPE));
    int p[2];
    ASSERT_OK(pipe(p));
    close(p[0]);
    EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
    sigset_t pend;
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGPIPE));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    siginfo_t si;
    EXPECT_EQ(sigtimedwait(&set, &si, &zero), SIGPIPE);
    EXPECT_OK(sigpending(&pend));
    EXPECT_FALSE(sigismember(&pend, SIGPIPE));
}

static volatile int pipe_write_fd = -1;

static void alarm_handler(int sig)
{
    (void)sig;
    hits++;
}

TEST(read_pipe_eintr_without_sa_restart)
{
    struct sigaction old;
    reset_counters();
    int p[2];
    ASSERT_OK(pipe(p));
    /* Backstop writer so a wrongly restarted read cannot hang the run. */
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_sleep_ms(1500);
        write(p[1], "z", 1);
        _exit(0);
    }
    ASSERT_OK(pu_handle(SIGALRM, alarm_handler, 0, &old));
    ASSERT_OK(pu_timer_ms(30));
    char c;
    EXPECT_ERRNO(read(p[0], &c, 1), EINTR);
    EXPECT_EQ(hits, 1);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
    kill(pid, SIGKILL);
    pu_wait(pid);
}

TEST(read_pipe_restarted_with_sa_restart)
{
    struct sigaction old;
    reset_counters();
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_sleep_ms(400); /* well after the 30 ms alarm, even on a loaded machine */
        write(p[1], "r", 1);
        _exit(0);
    }
    ASSERT_OK(pu_handle(SIGALRM, alarm_handler, SA_RESTART, &old));
    ASSERT_OK(pu_timer_ms(30));
    char c = 0;
    long long t0 = pu_now_ns();
    EXPECT_EQ(read(p[0], &c, 1), 1);
    long long dt = pu_now_ns() - t0;
    EXPECT_EQ(c, 'r');
    EXPECT_EQ(hits, 1);
    EXPECT_GE(dt, 60 * 1000000LL);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

static void write_pipe_handler(int sig)
{
    (void)sig;
    hits++;
    write(pipe_write_fd, "h", 1);
}

TEST(read_pipe_handler_writes_restart_returns_data)
{
    struct sigaction old;
    reset_counters();
    int p[2];
    ASSERT_OK(pipe(p));
    pipe_write_fd = p[1];
    ASSERT_OK(pu_handle(SIGALRM, write_pipe_handler, SA_RESTART, &old));
    ASSERT_OK(pu_timer_ms(20));
    char c = 0;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'h');
    EXPECT_EQ(hits, 1);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(pause_returns_eintr)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGALRM, alarm_handler, SA_RESTART, &old));
    pid_t bs = pu_backstop(SIGALRM, 1500);
    long long t0 = pu_now_ns();
    ASSERT_OK(pu_timer_ms(20));
    /* pause is never restarted, even with SA_RESTART. */
    EXPECT_ERRNO(pause(), EINTR);
    EXPECT_LT(pu_now_ns() - t0, 1000 * 1000000LL);
    pu_backstop_end(bs);
    EXPECT_EQ(hits, 1);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(sigsuspend_pending_signal_returns_eintr)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old));
    ASSERT_OK(pu_block(SIGUSR1));
    ASSERT_OK(pu_block(SIGUSR2));
    EXPECT_OK(raise(SIGUSR1));
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    EXPECT_ERRNO(sigsuspend(&m), EINTR);
    EXPECT_EQ(hits, 1);
    /* The old mask is back. */
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    EXPECT_TRUE(sigismember(&cur, SIGUSR1));
    EXPECT_TRUE(sigismember(&cur, SIGUSR2));
    sigaction(SIGUSR1, &old, NULL);
}

TEST(sigsuspend_waits_for_timer)
{
    struct sigaction old;
    reset_counters();
    ASSERT_OK(pu_handle(SIGALRM, alarm_handler, 0, &old));
    ASSERT_OK(pu_block(SIGALRM));
    pid_t bs = pu_backstop(SIGALRM, 1500);
    ASSERT_OK(pu_timer_ms(30));
    long long t0 = pu_now_ns();
    sigset_t empty;
    sigemptyset(&empty);
    EXPECT_ERRNO(sigsuspend(&empty), EINTR);
    long long dt = pu_now_ns() - t0;
    pu_backstop_end(bs);
    EXPECT_GE(dt, 25 * 1000000LL);
    EXPECT_LT(dt, 1000 * 1000000LL);
    EXPECT_EQ(hits, 1);
    pu_timer_ms(0);
    sigaction(SIGALRM, &old, NULL);
}

TEST(sigtimedwait_timeout_eagain)
{
    ASSERT_OK(pu_block(SIGUSR2));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    struct timespec to = {0, 50 * 1000000};
    long long t0 = pu_now_ns();
    EXPECT_ERRNO(sigtimedwait(&set, NULL, &to), EAGAIN);
    long long dt = pu_now_ns() - t0;
    EXPECT_GE(dt, 45 * 1000000LL);
    EXPECT_LT(dt, 2000 * 1000000LL);
    struct timespec zero = {0, 0};
    EXPECT_ERRNO(sigtimedwait(&set, NULL, &zero), EAGAIN);
}

TEST(sigtimedwait_pending_signal)
{
    ASSERT_OK(pu_block(SIGUSR1));
    EXPECT_OK(raise(SIGUSR1));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    struct timespec to = {1, 0};
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    /* Raw: glibc's sigtimedwait reports SI_TKILL as SI_USER. */
    EXPECT_EQ(syscall(SYS_rt_sigtimedwait, &set, &si, &to, 8), SIGUSR1);
    EXPECT_EQ(si.si_signo, SIGUSR1);
    EXPECT_EQ(si.si_code, SI_TKILL);
    EXPECT_EQ(si.si_pid, getpid());
    sigset_t pend;
    EXPECT_OK(sigpending(&pend));
    EXPECT_FALSE(sigismember(&pend, SIGUSR1));
}

TEST(sigwaitinfo_sigqueue_value)
{
    int rt = SIGRTMIN + 4;
    ASSERT_OK(pu_block(rt));
    union sigval v = {.sival_int = 4242};
    EXPECT_OK(sigqueue(getpid(), rt, v));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, rt);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_EQ(sigwaitinfo(&set, &si), rt);
    EXPECT_EQ(si.si_code, SI_QUEUE);
    EXPECT_EQ(si.si_value.sival_int, 4242);
}

TEST(sigtimedwait_signal_from_timer)
{
    ASSERT_OK(pu_block(SIGALRM));
    ASSERT_OK(pu_timer_ms(20));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    struct timespec to = {2, 0};
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_EQ(sigtimedwait(&set, &si, &to), SIGALRM);
    EXPECT_EQ(si.si_signo, SIGALRM);
    EXPECT_EQ(si.si_code, SI_KERNEL);
    pu_timer_ms(0);
}

TEST(sigtimedwait_errors)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    ASSERT_OK(pu_block(SIGUSR2));
    struct timespec bad = {0, 1000000000};
    EXPECT_ERRNO(sigtimedwait(&set, NULL, &bad), EINVAL);
    struct timespec neg = {-1, 0};
    EXPECT_ERRNO(sigtimedwait(&set, NULL, &neg), EINVAL);
    struct timespec to = {0, 0};
    EXPECT_ERRNO(syscall(SYS_rt_sigtimedwait, &set, NULL, &to, 4), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigtimedwait, BAD_PTR, NULL, &to, 8), EFAULT);
}

/* ---- threads ---- */

static volatile int thread_ready, thread_go;

static void *wait_thread(void *arg)
{
    *(volatile pid_t *)arg = syscall(SYS_gettid);
    __atomic_store_n(&thread_ready, 1, __ATOMIC_SEQ_CST);
    long long end = pu_now_ns() + 3000000000LL;
    while (!__atomic_load_n(&thread_go, __ATOMIC_SEQ_CST) && pu_now_ns() < end)
        pu_sleep_ms(1);
    return NULL;
}

TEST(tgkill_other_thread_runs_handler_there)
{
    struct sigaction old;
    reset_counters();
    thread_ready = thread_go = 0;
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old));
    pthread_t t;
    volatile pid_t tid = 0;
    ASSERT_EQ(pthread_create(&t, NULL, wait_thread, (void *)&tid), 0);
    while (!__atomic_load_n(&thread_ready, __ATOMIC_SEQ_CST))
        pu_sleep_ms(1);
    EXPECT_NE(tid, getpid());
    EXPECT_OK(syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
    long long end = pu_now_ns() + 2000000000LL;
    while (!hits && pu_now_ns() < end)
        pu_sleep_ms(1);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(handler_tid, tid);
    thread_go = 1;
    pthread_join(t, NULL);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(pthread_kill_targets_thread)
{
    struct sigaction old;
    reset_counters();
    thread_ready = thread_go = 0;
    ASSERT_OK(pu_handle(SIGUSR2, info_handler, SA_SIGINFO, &old));
    pthread_t t;
    volatile pid_t tid = 0;
    ASSERT_EQ(pthread_create(&t, NULL, wait_thread, (void *)&tid), 0);
    while (!__atomic_load_n(&thread_ready, __ATOMIC_SEQ_CST))
        pu_sleep_ms(1);
    EXPECT_EQ(pthread_kill(t, SIGUSR2), 0);
    long long end = pu_now_ns() + 2000000000LL;
    while (!hits && pu_now_ns() < end)
        pu_sleep_ms(1);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(handler_tid, tid);
    EXPECT_EQ(last_info.si_code, SI_TKILL);
    thread_go = 1;
    pthread_join(t, NULL);
    sigaction(SIGUSR2, &old, NULL);
}

TEST(process_signal_goes_to_unblocked_thread)
{
    struct sigaction old;
    reset_counters();
    thread_ready = thread_go = 0;
    ASSERT_OK(pu_handle(SIGUSR1, count_handler, 0, &old));
    ASSERT_OK(pu_block(SIGUSR1)); /* the new thread inherits... */
    pthread_t t;
    volatile pid_t tid = 0;
    void *unblocking(void *arg)
    {
        pu_unblock(SIGUSR1); /* ...and unblocks it for itself only. */
        return wait_thread(arg);
    }
    ASSERT_EQ(pthread_create(&t, NULL, unblocking, (void *)&tid), 0);
    while (!__atomic_load_n(&thread_ready, __ATOMIC_SEQ_CST))
        pu_sleep_ms(1);
    EXPECT_OK(kill(getpid(), SIGUSR1));
    long long end = pu_now_ns() + 2000000000LL;
    while (!hits && pu_now_ns() < end)
        pu_sleep_ms(1);
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(handler_tid, tid);
    thread_go = 1;
    pthread_join(t, NULL);
    sigaction(SIGUSR1, &old, NULL);
}

TEST(pthread_sigmask_is_per_thread)
{
    static volatile int inherited, after_main;
    ASSERT_OK(pu_block(SIGUSR1));
    void *fn(void *arg)
    {
        (void)arg;
        sigset_t cur;
        pthread_sigmask(SIG_SETMASK, NULL, &cur);
        inherited = sigismember(&cur, SIGUSR1);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
        sigaddset(&s, SIGUSR2);
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &s, NULL);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_EQ(inherited, 1);
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    after_main = sigismember(&cur, SIGUSR1);
    EXPECT_EQ(after_main, 1);
    EXPECT_FALSE(sigismember(&cur, SIGUSR2));
}

TEST(thread_directed_pending_not_visible_to_other_thread)
{
    static volatile int other_sees;
    ASSERT_OK(pu_block(SIGUSR2));
    ASSERT_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2));
    void *fn(void *arg)
    {
        (void)arg;
        sigset_t pend;
        sigpending(&pend);
        other_sees = sigismember(&pend, SIGUSR2);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_EQ(other_sees, 0);
    sigset_t pend;
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGUSR2));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    struct timespec zero = {0, 0};
    EXPECT_EQ(sigtimedwait(&set, NULL, &zero), SIGUSR2);
}

TEST(sigwait_in_thread_receives_process_signal)
{
    static volatile int got;
    ASSERT_OK(pu_block(SIGUSR1));
    void *fn(void *arg)
    {
        (void)arg;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        struct timespec to = {2, 0};
        got = sigtimedwait(&set, NULL, &to);
        return NULL;
    }
    got = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pu_sleep_ms(10);
    EXPECT_OK(kill(getpid(), SIGUSR1));
    pthread_join(t, NULL);
    EXPECT_EQ(got, SIGUSR1);
}

TEST(tgkill_errors)
{
    EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), 999999, SIGUSR1), ESRCH);
    EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 99), EINVAL);
    EXPECT_ERRNO(syscall(SYS_tgkill, 0, syscall(SYS_gettid), SIGUSR1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_tkill, 0, SIGUSR1), EINVAL);
    EXPECT_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
}
