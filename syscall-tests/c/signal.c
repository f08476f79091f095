/* rt_sigaction/rt_sigprocmask: installing and reading back handlers and
 * masks. No signal is ever delivered. */
#include "harness.h"

#include <signal.h>

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct k_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

#define SA_RESTORER_FLAG 0x04000000

static void handler_a(int sig)
{
    (void)sig;
}

static void restorer(void)
{
}

TEST(sigaction_install_and_read_back)
{
    struct sigaction sa, old, now;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler_a;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    ASSERT_OK(sigaction(SIGUSR1, &sa, &old));
    EXPECT_OK(sigaction(SIGUSR1, NULL, &now));
    EXPECT_EQ(now.sa_handler, handler_a);
    EXPECT_TRUE(now.sa_flags & SA_RESTART);
    EXPECT_TRUE(sigismember(&now.sa_mask, SIGUSR2));
    EXPECT_FALSE(sigismember(&now.sa_mask, SIGTERM));
    EXPECT_OK(sigaction(SIGUSR1, &old, NULL));
    EXPECT_OK(sigaction(SIGUSR1, NULL, &now));
    EXPECT_EQ(now.sa_handler, old.sa_handler);
}

TEST(rt_sigaction_raw_roundtrip)
{
    struct k_sigaction act = {handler_a, SA_RESTORER_FLAG | SA_SIGINFO | SA_ONSTACK, restorer,
                              (1ULL << (SIGINT - 1)) | (1ULL << (SIGHUP - 1))};
    struct k_sigaction old, now;
    ASSERT_OK(syscall(SYS_rt_sigaction, SIGUSR2, &act, &old, 8));
    EXPECT_OK(syscall(SYS_rt_sigaction, SIGUSR2, NULL, &now, 8));
    EXPECT_EQ(now.handler, handler_a);
    EXPECT_EQ(now.flags, act.flags);
    EXPECT_EQ(now.restorer, restorer);
    EXPECT_EQ(now.mask, act.mask);
    EXPECT_OK(syscall(SYS_rt_sigaction, SIGUSR2, &old, NULL, 8));
}

TEST(rt_sigaction_mask_drops_kill_stop)
{
    struct k_sigaction act = {handler_a, SA_RESTORER_FLAG, restorer,
                              (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)) | (1ULL << (SIGINT - 1))};
    struct k_sigaction old, now;
    ASSERT_OK(syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8));
    EXPECT_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &now, 8));
    EXPECT_EQ(now.mask, 1ULL << (SIGINT - 1));
    EXPECT_OK(syscall(SYS_rt_sigaction, SIGUSR1, &old, NULL, 8));
}

TEST(sigaction_ignore_and_default)
{
    struct sigaction sa, old, now;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    ASSERT_OK(sigaction(SIGWINCH, &sa, &old));
    EXPECT_OK(sigaction(SIGWINCH, NULL, &now));
    EXPECT_EQ(now.sa_handler, SIG_IGN);
    sa.sa_handler = SIG_DFL;
    EXPECT_OK(sigaction(SIGWINCH, &sa, NULL));
    EXPECT_OK(sigaction(SIGWINCH, NULL, &now));
    EXPECT_EQ(now.sa_handler, SIG_DFL);
    EXPECT_OK(sigaction(SIGWINCH, &old, NULL));
}

TEST(sigaction_realtime_signal)
{
    struct sigaction sa, old, now;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler_a;
    int sig = SIGRTMAX;
    ASSERT_OK(sigaction(sig, &sa, &old));
    EXPECT_OK(sigaction(sig, NULL, &now));
    EXPECT_EQ(now.sa_handler, handler_a);
    EXPECT_OK(sigaction(sig, &old, NULL));
}

TEST(sigaction_kill_stop_einval)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler_a;
    EXPECT_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    EXPECT_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sa.sa_handler = SIG_IGN;
    EXPECT_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    /* Reading their action is allowed. */
    EXPECT_OK(sigaction(SIGKILL, NULL, &old));
    EXPECT_EQ(old.sa_handler, SIG_DFL);
    EXPECT_OK(sigaction(SIGSTOP, NULL, &old));
}

TEST(rt_sigaction_errors)
{
    struct k_sigaction act = {handler_a, SA_RESTORER_FLAG, restorer, 0}, old;
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, 0, &act, &old, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, 65, &act, &old, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, -1, NULL, &old, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 4), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, BAD_PTR, NULL, 8), EFAULT);
    EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD_PTR, 8), EFAULT);
}

TEST(sigprocmask_block_unblock)
{
    sigset_t set, old, now;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    ASSERT_OK(sigprocmask(SIG_BLOCK, &set, &old));
    EXPECT_OK(sigprocmask(SIG_BLOCK, NULL, &now));
    EXPECT_TRUE(sigismember(&now, SIGUSR1));
    EXPECT_TRUE(sigismember(&now, SIGTERM));
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
    EXPECT_OK(sigprocmask(SIG_BLOCK, NULL, &now));
    EXPECT_FALSE(sigismember(&now, SIGUSR1));
    EXPECT_TRUE(sigismember(&now, SIGTERM));
    EXPECT_OK(sigprocmask(SIG_SETMASK, &old, NULL));
    EXPECT_OK(sigprocmask(SIG_BLOCK, NULL, &now));
    EXPECT_FALSE(sigismember(&now, SIGTERM));
}

TEST(rt_sigprocmask_raw_setmask)
{
    uint64_t old, want = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 2 - 1)), now = 0;
    ASSERT_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &want, &old, 8));
    EXPECT_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &now, 8));
    EXPECT_EQ(now, want);
    EXPECT_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8));
}

TEST(sigprocmask_cannot_block_kill_stop)
{
    uint64_t old, set = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)) | (1ULL << (SIGHUP - 1)), now = 0;
    ASSERT_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
    EXPECT_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8));
    EXPECT_EQ(now & (1ULL << (SIGKILL - 1)), 0);
    EXPECT_EQ(now & (1ULL << (SIGSTOP - 1)), 0);
    EXPECT_NE(now & (1ULL << (SIGHUP - 1)), 0);
    EXPECT_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8));
}

TEST(rt_sigprocmask_errors)
{
    uint64_t set = 0, old;
    EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, 42, &set, &old, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 4), EINVAL);
    EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8), EFAULT);
    EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, BAD_PTR, 8), EFAULT);
}
