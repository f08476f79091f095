/* Processes: fork, vfork, clone, posix_spawn, execve (ELF, #! scripts and
 * failures), exit codes, wait4/waitpid/waitid, orphans, pid relations.
 * Every case reaps the children it creates. */
#include "proc_util.h"

#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>

extern char **environ;

static int global_value = 1;

TEST(fork_returns_child_pid_and_exit_code)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(7);
    EXPECT_GT(pid, 0);
    EXPECT_NE(pid, getpid());
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 7);
}

TEST(fork_child_pid_relations)
{
    pid_t parent = getpid();
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pid_t me = getpid();
        CKN(1, getppid() == parent);
        CKN(2, me != parent);
        CKN(3, syscall(SYS_gettid) == me);
        CKN(4, write(p[1], &me, sizeof(me)) == sizeof(me));
        _exit(0);
    }
    close(p[1]);
    pid_t reported = 0;
    EXPECT_EQ(pu_read_full(p[0], &reported, sizeof(reported)), sizeof(reported));
    EXPECT_EQ(reported, pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(fork_grandchild_ppid_is_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pid_t me = getpid();
        pid_t g = fork();
        CK(g >= 0);
        if (g == 0)
            _exit(getppid() == me ? 0 : 1);
        int st;
        CKN(1, waitpid(g, &st, 0) == g);
        CKN(2, WIFEXITED(st) && WEXITSTATUS(st) == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(exit_closes_files_before_the_parent_is_told)
{
    /* A child's files are closed before its exit is reported: once
     * waitpid returns, the pipe it held has no writer left. */
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        close(p[0]);
        _exit(0); /* the write end is closed by the exit */
    }
    close(p[1]);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    EXPECT_EQ(poll(&pfd, 1, 0), 1);
    EXPECT_TRUE(pfd.revents & POLLHUP);
    char c;
    EXPECT_EQ(read(p[0], &c, 1), 0);
    close(p[0]);
}

TEST(fork_memory_is_copied)
{
    global_value = 5;
    char *heap = malloc(64);
    ASSERT_TRUE(heap != NULL);
    strcpy(heap, "parent");
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, global_value == 5);
        CKN(2, strcmp(heap, "parent") == 0);
        global_value = 99;
        strcpy(heap, "child");
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(global_value, 5);
    EXPECT_STREQ(heap, "parent");
    free(heap);
}

TEST(fork_shared_mapping_is_shared)
{
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(shared != MAP_FAILED);
    *shared = 1;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        *shared = 42;
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(*shared, 42);
    munmap(shared, 4096);
}

TEST(fork_pipe_parent_child)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        close(p[0]);
        CK(write(p[1], "hello", 5) == 5);
        _exit(0);
    }
    close(p[1]);
    char buf[16] = {0};
    EXPECT_EQ(pu_read_full(p[0], buf, 5), 5);
    EXPECT_STREQ(buf, "hello");
    /* All writers gone: EOF. */
    EXPECT_EQ(read(p[0], buf, sizeof(buf)), 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(exit_status_truncated_to_8_bits)
{
    static const int codes[] = {0, 1, 127, 255, 256, 257};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        pid_t pid = fork();
        ASSERT_OK(pid);
        if (pid == 0)
            _exit(codes[i]);
        int st;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        EXPECT_TRUE(WIFEXITED(st));
        EXPECT_EQ(WEXITSTATUS(st), codes[i] & 0xff);
    }
}

TEST(exit_group_syscall_status)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        syscall(SYS_exit_group, 33);
    EXPECT_EQ(pu_code(pu_wait(pid)), 33);
    pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        syscall(SYS_exit, 34);
    EXPECT_EQ(pu_code(pu_wait(pid)), 34);
}

TEST(wait_any_child_collects_all)
{
    enum { N = 8 };
    pid_t pids[N];
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ASSERT_OK(pids[i]);
        if (pids[i] == 0)
            _exit(10 + i);
    }
    for (int k = 0; k < N; k++) {
        int st;
        pid_t r = wait(&st);
        ASSERT_GT(r, 0);
        int found = 0;
        for (int i = 0; i < N; i++) {
            if (pids[i] == r) {
                found = 1;
                seen[i]++;
                EXPECT_TRUE(WIFEXITED(st));
                EXPECT_EQ(WEXITSTATUS(st), 10 + i);
            }
        }
        EXPECT_TRUE(found);
    }
    for (int i = 0; i < N; i++)
        EXPECT_EQ(seen[i], 1);
    EXPECT_ERRNO(wait(NULL), ECHILD);
}

TEST(waitpid_specific_pid_out_of_order)
{
    pid_t a = fork();
    ASSERT_OK(a);
    if (a == 0)
        _exit(1);
    pid_t b = fork();
    if (b == 0)
        _exit(2);
    ASSERT_OK(b);
    int st;
    EXPECT_EQ(waitpid(b, &st, 0), b);
    EXPECT_EQ(WEXITSTATUS(st), 2);
    EXPECT_EQ(waitpid(a, &st, 0), a);
    EXPECT_EQ(WEXITSTATUS(st), 1);
}

TEST(waitpid_wnohang_running_child)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
    }
    close(p[0]);
    int st = -1;
    EXPECT_EQ(waitpid(pid, &st, WNOHANG), 0);
    EXPECT_EQ(waitpid(-1, &st, WNOHANG), 0);
    close(p[1]); /* child sees EOF and exits */
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(waitpid_echild)
{
    int st;
    EXPECT_ERRNO(waitpid(-1, &st, 0), ECHILD);
    EXPECT_ERRNO(waitpid(-1, &st, WNOHANG), ECHILD);
    EXPECT_ERRNO(waitpid(getpid(), &st, 0), ECHILD);
    EXPECT_ERRNO(waitpid(999999, &st, WNOHANG), ECHILD);
}

TEST(waitpid_reaped_child_gone)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(0);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_ERRNO(waitpid(pid, &st, 0), ECHILD);
    EXPECT_ERRNO(kill(pid, 0), ESRCH);
}

TEST(zombie_exists_until_reaped)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(3);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    /* Wait for it to exit without reaping it. */
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    EXPECT_OK(kill(pid, 0));
    EXPECT_EQ(pu_code(pu_wait(pid)), 3);
}

TEST(wait4_invalid_options_einval)
{
    int st;
    EXPECT_ERRNO(syscall(SYS_wait4, -1, &st, 0x10000, NULL), EINVAL);
    EXPECT_ERRNO(syscall(SYS_wait4, -1, &st, WNOWAIT, NULL), EINVAL);
}

TEST(wait4_bad_status_pointer_efault)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(0);
    siginfo_t si;
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    EXPECT_ERRNO(syscall(SYS_wait4, pid, BAD_PTR, 0, NULL), EFAULT);
    /* Whatever happened, do not leave the child behind. */
    waitpid(pid, NULL, WNOHANG);
}

TEST(wait4_rusage_of_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_burn_ms(30);
        _exit(0);
    }
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    int st;
    ASSERT_EQ(wait4(pid, &st, 0, &ru), pid);
    EXPECT_EQ(WEXITSTATUS(st), 0);
    long long us = ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec +
                   ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
    EXPECT_GT(us, 0);
    EXPECT_LT(us, 5000000);
    EXPECT_GT(ru.ru_maxrss, 0);
}

TEST(waitid_exited_siginfo)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(42);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED));
    EXPECT_EQ(si.si_signo, SIGCHLD);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_pid, pid);
    EXPECT_EQ(si.si_status, 42);
    EXPECT_EQ(si.si_uid, getuid());
    EXPECT_ERRNO(waitid(P_PID, pid, &si, WEXITED), ECHILD);
}

TEST(waitid_killed_siginfo)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_idle();
    }
    EXPECT_OK(kill(pid, SIGKILL));
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    ASSERT_OK(waitid(P_ALL, 0, &si, WEXITED));
    EXPECT_EQ(si.si_pid, pid);
    EXPECT_EQ(si.si_code, CLD_KILLED);
    EXPECT_EQ(si.si_status, SIGKILL);
}

TEST(waitid_wnohang_nothing_zeroes_pid)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
    }
    close(p[0]);
    siginfo_t si;
    memset(&si, 0x55, sizeof(si));
    EXPECT_EQ(waitid(P_PID, pid, &si, WEXITED | WNOHANG), 0);
    EXPECT_EQ(si.si_pid, 0);
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(waitid_wnowait_keeps_zombie)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0)
        _exit(9);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    EXPECT_EQ(si.si_status, 9);
    memset(&si, 0, sizeof(si));
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    EXPECT_EQ(si.si_pid, pid);
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 9);
}

TEST(waitid_errors)
{
    siginfo_t si;
    EXPECT_ERRNO(waitid(P_ALL, 0, &si, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_waitid, 99, 0, &si, WEXITED, NULL), EINVAL);
    EXPECT_ERRNO(waitid(P_PID, getpid(), &si, WEXITED), ECHILD);
    EXPECT_ERRNO(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), ECHILD);
}

TEST(wait_status_killed_by_sigterm)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pu_idle();
    }
    EXPECT_OK(kill(pid, SIGTERM));
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_FALSE(WIFEXITED(st));
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGTERM);
    EXPECT_FALSE(WCOREDUMP(st));
}

TEST(wait_status_sigsegv_not_dumpable_no_core)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        prctl(PR_SET_DUMPABLE, 0);
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)16 = 1;
        _exit(0);
    }
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGSEGV);
    /* A non-dumpable process never dumps core: the core bit stays clear. */
    EXPECT_FALSE(WCOREDUMP(st));
}

TEST(wait_status_abort_sigabrt)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        prctl(PR_SET_DUMPABLE, 0);
        abort();
    }
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGABRT);
    EXPECT_FALSE(WCOREDUMP(st));
}

TEST(waitpid_process_group)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        setpgid(0, 0);
        _exit(4);
    }
    /* Both sides set the group to avoid the race. */
    setpgid(pid, pid);
    siginfo_t si;
    ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    int st;
    /* Our own process group has no child in it now. */
    EXPECT_ERRNO(waitpid(0, &st, WNOHANG), ECHILD);
    EXPECT_EQ(waitpid(-pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 4);
}

TEST(vfork_shares_memory_and_suspends_parent)
{
    static volatile int shared;
    shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        shared = 77;
        _exit(5);
    }
    ASSERT_OK(pid);
    /* The parent resumes only after the child exited, and sees its write. */
    EXPECT_EQ(shared, 77);
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 5);
}

TEST(vfork_then_execve)
{
    ASSERT_OK(pu_write_elf(sct_path("exit42"), PU_ELF_EXIT, 42));
    const char *path = sct_path("exit42");
    char *argv[] = {(char *)path, NULL};
    pid_t pid = vfork();
    if (pid == 0) {
        execve(path, argv, environ);
        _exit(127);
    }
    ASSERT_OK(pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 42);
}

static char clone_stack[64 * 1024] __attribute__((aligned(16)));
static volatile int clone_flag;

static int clone_vm_child(void *arg)
{
    clone_flag = (int)(long)arg;
    return 6;
}

TEST(clone_vm_vfork_like_posix_spawn)
{
    clone_flag = 0;
    pid_t pid = clone(clone_vm_child, clone_stack + sizeof(clone_stack),
                      CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)123L);
    ASSERT_OK(pid);
    /* CLONE_VFORK: the child has finished by now; CLONE_VM: we see its write. */
    EXPECT_EQ(clone_flag, 123);
    EXPECT_EQ(pu_code(pu_wait(pid)), 6);
}

TEST(clone_without_vm_copies_memory)
{
    clone_flag = 0;
    pid_t pid = clone(clone_vm_child, clone_stack + sizeof(clone_stack), SIGCHLD, (void *)5L);
    ASSERT_OK(pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 6);
    EXPECT_EQ(clone_flag, 0);
}

TEST(clone_invalid_flag_combinations)
{
    /* CLONE_THREAD needs CLONE_SIGHAND; CLONE_SIGHAND needs CLONE_VM. Each
     * would otherwise behave like fork, so a wrong success exits at once. */
    long r = syscall(SYS_clone, CLONE_THREAD | SIGCHLD, 0, NULL, NULL, 0);
    if (r == 0)
        syscall(SYS_exit, 0);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, EINVAL);
    if (r > 0)
        waitpid(r, NULL, __WALL);
    r = syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, NULL, NULL, 0);
    if (r == 0)
        syscall(SYS_exit, 0);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, EINVAL);
    if (r > 0)
        waitpid(r, NULL, __WALL);
}

/* struct clone_args of <linux/sched.h>, version 2 (88 bytes). */
struct sct_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
        set_tid, set_tid_size, cgroup;
};

static long sct_clone3(struct sct_clone_args *a, size_t size)
{
    return syscall(SYS_clone3, a, size);
}

TEST(clone3_fork_like)
{
    struct sct_clone_args a = {.exit_signal = SIGCHLD};
    clone_flag = 1;
    long pid = sct_clone3(&a, sizeof(a));
    if (pid == 0) {
        clone_flag = 2;
        _exit(getppid() > 0 ? 9 : 1);
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 9);
    EXPECT_EQ(clone_flag, 1);
}

TEST(clone3_parent_settid_and_child_settid)
{
    static pid_t ptid, ctid;
    ptid = ctid = 0;
    struct sct_clone_args a = {
        .flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID,
        .parent_tid = (uint64_t)&ptid,
        .child_tid = (uint64_t)&ctid,
        .exit_signal = SIGCHLD,
    };
    long pid = sct_clone3(&a, sizeof(a));
    if (pid == 0)
        _exit(ctid == getpid() ? 0 : 1);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(ptid, pid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

static void sct_usr1(int sig)
{
    (void)sig;
}

TEST(clone3_clear_sighand_resets_handlers_keeps_ignored)
{
    struct sigaction sa = {.sa_handler = sct_usr1};
    ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
    ASSERT_NE(signal(SIGUSR2, SIG_IGN), SIG_ERR);
    struct sct_clone_args a = {.flags = 0x100000000ULL /* CLONE_CLEAR_SIGHAND */,
                               .exit_signal = SIGCHLD};
    long pid = sct_clone3(&a, sizeof(a));
    if (pid == 0) {
        struct sigaction o1, o2;
        sigaction(SIGUSR1, NULL, &o1);
        sigaction(SIGUSR2, NULL, &o2);
        _exit((o1.sa_handler == SIG_DFL ? 0 : 1) | (o2.sa_handler == SIG_IGN ? 0 : 2));
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

TEST(clone3_argument_errors)
{
    struct sct_clone_args a = {.exit_signal = SIGCHLD};
    /* Smaller than the first version of the structure. */
    EXPECT_ERRNO(sct_clone3(&a, 63), EINVAL);
    /* Larger than a page. */
    EXPECT_ERRNO(sct_clone3(&a, 8192), E2BIG);
    /* An unknown trailing field that is not zero. */
    struct {
        struct sct_clone_args a;
        uint64_t future;
    } big = {.a = {.exit_signal = SIGCHLD}, .future = 1};
    EXPECT_ERRNO(sct_clone3(&big.a, sizeof(big)), E2BIG);
    /* The exit signal goes in its own field, not in the flags. */
    struct sct_clone_args b = {.flags = SIGCHLD};
    EXPECT_ERRNO(sct_clone3(&b, sizeof(b)), EINVAL);
    /* A stack needs a size. */
    struct sct_clone_args c = {.stack = (uint64_t)clone_stack, .exit_signal = SIGCHLD};
    EXPECT_ERRNO(sct_clone3(&c, sizeof(c)), EINVAL);
    /* CLONE_CLEAR_SIGHAND and CLONE_SIGHAND together. */
    struct sct_clone_args d = {.flags = 0x100000000ULL | CLONE_SIGHAND | CLONE_VM,
                               .exit_signal = SIGCHLD};
    EXPECT_ERRNO(sct_clone3(&d, sizeof(d)), EINVAL);
    EXPECT_ERRNO(sct_clone3(NULL, sizeof(a)), EFAULT);
}

TEST(pidfd_poll_waitid_and_signal)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(p[0], &c, 1);
        _exit(4);
    }
    ASSERT_GT(pid, 0);
    int fd = syscall(SYS_pidfd_open, pid, 0);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    EXPECT_EQ(poll(&pfd, 1, 0), 0);
    EXPECT_OK(write(p[1], "x", 1));
    EXPECT_EQ(poll(&pfd, 1, 5000), 1);
    EXPECT_EQ(pfd.revents & POLLIN, POLLIN);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_OK(waitid(3 /* P_PIDFD */, fd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, pid);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_status, 4);
    /* Reaped: signals find nobody. */
    EXPECT_ERRNO(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0), ESRCH);
    close(fd);
    close(p[0]);
    close(p[1]);

    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    fd = syscall(SYS_pidfd_open, pid, 0);
    ASSERT_OK(fd);
    EXPECT_OK(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0));
    int st = pu_wait(pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(fd);
}

TEST(pidfd_errors)
{
    EXPECT_ERRNO(syscall(SYS_pidfd_open, getpid(), 0x1234), EINVAL);
    EXPECT_ERRNO(syscall(SYS_pidfd_open, 0, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_pidfd_open, 99999, 0), ESRCH);
    int fd = syscall(SYS_pidfd_open, getpid(), 0);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_pidfd_send_signal, fd, SIGUSR1, NULL, 0x100), EINVAL);
    EXPECT_OK(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0));
    char buf[8];
    EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
    close(fd);
    EXPECT_ERRNO(syscall(SYS_pidfd_send_signal, 0 /* stdin */, 0, NULL, 0), EBADF);
    siginfo_t si;
    EXPECT_ERRNO(waitid(3 /* P_PIDFD */, 0, &si, WEXITED), EBADF);
}

TEST(clone3_pidfd)
{
    int pidfd = -1;
    struct sct_clone_args a = {
        .flags = CLONE_PIDFD,
        .pidfd = (uint64_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    long pid = sct_clone3(&a, sizeof(a));
    if (pid == 0)
        _exit(12);
    ASSERT_GT(pid, 0);
    ASSERT_GE(pidfd, 0);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    EXPECT_OK(waitid(3 /* P_PIDFD */, pidfd, &si, WEXITED));
    EXPECT_EQ(si.si_pid, (pid_t)pid);
    EXPECT_EQ(si.si_status, 12);
    close(pidfd);
}

static int clone_exit_child(void *arg)
{
    (void)arg;
    return 7;
}

TEST(clone_exit_signal_and_wclone)
{
    /* A child with exit signal SIGUSR2 is a "clone" child: plain waits do
     * not see it, __WCLONE and __WALL do, and the parent gets SIGUSR2. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    ASSERT_OK(sigprocmask(SIG_BLOCK, &set, &old));
    pid_t pid = clone(clone_exit_child, clone_stack + sizeof(clone_stack), SIGUSR2, NULL);
    ASSERT_GT(pid, 0);
    int st = 0;
    EXPECT_ERRNO(waitpid(pid, &st, 0), ECHILD);
    EXPECT_EQ(waitpid(pid, &st, __WCLONE), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGUSR2), 1);
    EXPECT_EQ(sigismember(&pending, SIGCHLD), 0);
    /* Exit signal 0: nothing is sent; __WALL finds it. */
    pid = clone(clone_exit_child, clone_stack + sizeof(clone_stack), 0, NULL);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(waitpid(pid, &st, __WALL), pid);
    EXPECT_EQ(WEXITSTATUS(st), 7);
    siginfo_t si;
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, &si, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static int nnp_child(void *arg)
{
    (void)arg;
    return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 3 : 4;
}

TEST(personality_and_no_new_privs_are_inherited)
{
    pid_t pid = fork();
    if (pid == 0) {
        unsigned old = personality(0xffffffff);
        CKN(1, personality(old | ADDR_NO_RANDOMIZE) == (int)old);
        CKN(2, personality(0xffffffff) == (int)(old | ADDR_NO_RANDOMIZE));
        CKN(3, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        /* A fork child and a CLONE_VM child (posix_spawn's way) both inherit. */
        pid_t c = fork();
        if (c == 0)
            _exit(personality(0xffffffff) == (int)(old | ADDR_NO_RANDOMIZE) &&
                          prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1
                      ? 0
                      : 1);
        CKN(4, pu_code(pu_wait(c)) == 0);
        c = clone(nnp_child, clone_stack + sizeof(clone_stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
                  NULL);
        CKN(5, c > 0 && pu_code(pu_wait(c)) == 3);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(posix_spawn_runs_program)
{
    ASSERT_OK(pu_write_elf(sct_path("exit17"), PU_ELF_EXIT, 17));
    char *argv[] = {(char *)sct_path("exit17"), NULL};
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 17);
}

TEST(posix_spawn_missing_enoent)
{
    char *argv[] = {"nope", NULL};
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, sct_path("nope"), NULL, NULL, argv, environ), ENOENT);
    /* glibc reaps the failed child itself. */
    EXPECT_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);
}

/* Runs execve(path, argv) in a child; returns pu_code of its status. On
 * failure the child exits with 200 + errno. */
static int exec_in_child(const char *path, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -100;
    if (pid == 0) {
        execve(path, argv, environ);
        _exit(200 + errno);
    }
    return pu_code(pu_wait(pid));
}

TEST(execve_static_elf_exit_code)
{
    ASSERT_OK(pu_write_elf(sct_path("exit42"), PU_ELF_EXIT, 42));
    char *argv[] = {"exit42", NULL};
    EXPECT_EQ(exec_in_child(sct_path("exit42"), argv), 42);
}

TEST(execve_passes_argv)
{
    ASSERT_OK(pu_write_elf(sct_path("argc"), PU_ELF_ARGC, 0));
    char *argv3[] = {"a", "b", "c", NULL};
    EXPECT_EQ(exec_in_child(sct_path("argc"), argv3), 3);
    char *argv1[] = {"a", NULL};
    EXPECT_EQ(exec_in_child(sct_path("argc"), argv1), 1);
}

TEST(execve_shebang_script)
{
    ASSERT_OK(pu_write_elf(sct_path("argc"), PU_ELF_ARGC, 0));
    char script[512];
    /* Interpreter gets: interp, [arg], script path, argv[1..]. */
    snprintf(script, sizeof(script), "#!%s\n", sct_path("argc"));
    ASSERT_OK(sct_write_file(sct_path("s1"), script, strlen(script)));
    ASSERT_OK(chmod(sct_path("s1"), 0755));
    char *argv[] = {"s1", "x", "y", NULL};
    EXPECT_EQ(exec_in_child(sct_path("s1"), argv), 4);

    snprintf(script, sizeof(script), "#! %s  one-arg \nignored\n", sct_path("argc"));
    ASSERT_OK(sct_write_file(sct_path("s2"), script, strlen(script)));
    ASSERT_OK(chmod(sct_path("s2"), 0755));
    EXPECT_EQ(exec_in_child(sct_path("s2"), argv), 5);
}

TEST(execve_shebang_bin_sh)
{
    static const char script[] = "#!/bin/sh\nexit 5\n";
    ASSERT_OK(sct_write_file(sct_path("s.sh"), script, strlen(script)));
    ASSERT_OK(chmod(sct_path("s.sh"), 0755));
    char *argv[] = {"s.sh", NULL};
    EXPECT_EQ(exec_in_child(sct_path("s.sh"), argv), 5);
}

TEST(execve_enoent)
{
    char *argv[] = {"x", NULL};
    EXPECT_EQ(exec_in_child(sct_path("missing"), argv), 200 + ENOENT);
    EXPECT_EQ(exec_in_child("", argv), 200 + ENOENT);
}

TEST(execve_eacces_no_exec_bit)
{
    ASSERT_OK(pu_write_elf(sct_path("noexec"), PU_ELF_EXIT, 0));
    ASSERT_OK(chmod(sct_path("noexec"), 0644));
    char *argv[] = {"x", NULL};
    EXPECT_EQ(exec_in_child(sct_path("noexec"), argv), 200 + EACCES);
    /* A directory is not executable either. */
    EXPECT_EQ(exec_in_child(sct_scratch(), argv), 200 + EACCES);
}

TEST(execve_enoexec_garbage)
{
    static const char junk[] = "\x01\x02\x03 this is not an executable format\n";
    ASSERT_OK(sct_write_file(sct_path("junk"), junk, sizeof(junk) - 1));
    ASSERT_OK(chmod(sct_path("junk"), 0755));
    char *argv[] = {"x", NULL};
    EXPECT_EQ(exec_in_child(sct_path("junk"), argv), 200 + ENOEXEC);
}

TEST(execve_shebang_missing_interpreter)
{
    static const char script[] = "#!/nonexistent/interpreter\n";
    ASSERT_OK(sct_write_file(sct_path("s"), script, strlen(script)));
    ASSERT_OK(chmod(sct_path("s"), 0755));
    char *argv[] = {"x", NULL};
    EXPECT_EQ(exec_in_child(sct_path("s"), argv), 200 + ENOENT);
}

TEST(execve_enotdir_and_efault)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    char *argv[] = {"x", NULL};
    EXPECT_EQ(exec_in_child(sct_path("f/x"), argv), 200 + ENOTDIR);
    EXPECT_EQ(exec_in_child(BAD_PTR, argv), 200 + EFAULT);
}

TEST(execveat_nofollow_and_empty_path)
{
    ASSERT_OK(pu_write_elf(sct_path("exit5"), PU_ELF_EXIT, 5));
    unlink(sct_path("link"));
    ASSERT_OK(symlink(sct_path("exit5"), sct_path("link")));
    char *argv[] = {"x", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        syscall(SYS_execveat, AT_FDCWD, sct_path("link"), argv, environ, AT_SYMLINK_NOFOLLOW);
        _exit(200 + errno);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 200 + ELOOP);
    /* An fd and an empty path run the file itself. */
    pid = fork();
    if (pid == 0) {
        int fd = open(sct_path("exit5"), O_RDONLY);
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        _exit(200 + errno);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 5);
    /* Following the link (no flag) runs the target. */
    pid = fork();
    if (pid == 0) {
        syscall(SYS_execveat, AT_FDCWD, sct_path("link"), argv, environ, 0);
        _exit(200 + errno);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 5);
}

TEST(execve_keeps_pid_and_parent)
{
    /* The exec'd program pauses; the pid we forked must be the one we kill. */
    ASSERT_OK(pu_write_elf(sct_path("pause"), PU_ELF_PAUSE, 0));
    int p[2];
    ASSERT_OK(pipe2(p, O_CLOEXEC));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char *argv[] = {"pause", NULL};
        execve(sct_path("pause"), argv, environ);
        _exit(127);
    }
    close(p[1]);
    char c;
    /* The close-on-exec write end closes at exec: EOF means exec happened. */
    EXPECT_EQ(read(p[0], &c, 1), 0);
    EXPECT_OK(kill(pid, 0));
    EXPECT_EQ(waitpid(pid, NULL, WNOHANG), 0);
    EXPECT_OK(kill(pid, SIGTERM));
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGTERM);
}

TEST(orphan_reparented_away_from_dead_parent)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t mid = fork();
    ASSERT_OK(mid);
    if (mid == 0) {
        pid_t old = getpid();
        pid_t g = fork();
        CK(g >= 0);
        if (g == 0) {
            /* Wait (bounded) until the parent has gone. */
            long long end = pu_now_ns() + 3000000000LL;
            while (getppid() == old && pu_now_ns() < end)
                pu_sleep_ms(1);
            pid_t res[3] = {getpid(), old, getppid()};
            write(p[1], res, sizeof(res));
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(mid)), 0);
    pid_t res[3] = {0, 0, 0};
    EXPECT_EQ(pu_read_full(p[0], res, sizeof(res)), sizeof(res));
    EXPECT_EQ(res[1], mid);
    EXPECT_NE(res[2], mid);
    EXPECT_GE(res[2], 0);
    /* If we are the namespace's init, the orphan became our child. */
    if (res[0] > 0 && res[2] == getpid())
        pu_wait(res[0]);
}

TEST(orphan_reparented_to_subreaper)
{
    ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t mid = fork();
    ASSERT_OK(mid);
    if (mid == 0) {
        pid_t me = getpid();
        pid_t g = fork();
        CK(g >= 0);
        if (g == 0) {
            long long end = pu_now_ns() + 3000000000LL;
            while (getppid() == me && pu_now_ns() < end)
                pu_sleep_ms(1);
            pid_t np = getppid();
            write(p[1], &np, sizeof(np));
            _exit(12);
        }
        pid_t gp = g;
        write(p[1], &gp, sizeof(gp));
        _exit(0);
    }
    close(p[1]);
    pid_t g = 0, np = 0;
    EXPECT_EQ(pu_read_full(p[0], &g, sizeof(g)), sizeof(g));
    EXPECT_EQ(pu_code(pu_wait(mid)), 0);
    EXPECT_EQ(pu_read_full(p[0], &np, sizeof(np)), sizeof(np));
    EXPECT_EQ(np, getpid());
    /* The grandchild is now our child: we can reap it. */
    if (g > 0)
        EXPECT_EQ(pu_code(pu_wait(g)), 12);
    EXPECT_OK(prctl(PR_SET_CHILD_SUBREAPER, 0));
}

TEST(kill_errors)
{
    EXPECT_ERRNO(kill(getpid(), 65), EINVAL);
    EXPECT_ERRNO(kill(getpid(), -1), EINVAL);
    EXPECT_ERRNO(kill(999999, 0), ESRCH);
    EXPECT_OK(kill(getpid(), 0));
}

TEST(kill_process_group_kills_all)
{
    pid_t a = fork();
    ASSERT_OK(a);
    if (a == 0) {
        setpgid(0, 0);
        pu_idle();
    }
    setpgid(a, a);
    pid_t b = fork();
    ASSERT_OK(b);
    if (b == 0) {
        setpgid(0, a);
        pu_idle();
    }
    setpgid(b, a);
    EXPECT_EQ(getpgid(b), a);
    EXPECT_OK(kill(-a, SIGTERM));
    EXPECT_EQ(pu_code(pu_wait(a)), 1000 + SIGTERM);
    EXPECT_EQ(pu_code(pu_wait(b)), 1000 + SIGTERM);
    EXPECT_ERRNO(kill(-a, 0), ESRCH);
}

TEST(shm_file_shared_mapping_across_fork)
{
    /* A file in /dev/shm mapped MAP_SHARED is the same memory in both
     * processes, and read() sees what the mapping wrote. */
    char path[64];
    snprintf(path, sizeof(path), "/dev/shm/sct.%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_OK(fd);
    ASSERT_OK(ftruncate(fd, 4096));
    int *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        p[0] = 4242;
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(p[0], 4242);
    int v = 0;
    EXPECT_EQ(pread(fd, &v, sizeof(v), 0), (ssize_t)sizeof(v));
    EXPECT_EQ(v, 4242);
    char link_path[80];
    snprintf(link_path, sizeof(link_path), "%s.link", path);
    EXPECT_OK(link(path, link_path));
    struct stat st;
    EXPECT_OK(stat(link_path, &st));
    EXPECT_EQ(st.st_nlink, 2);
    unlink(link_path);
    munmap(p, 4096);
    close(fd);
    unlink(path);
}

/* seccomp: filters run by the kernel (here, the sentry) before each call. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <stddef.h>

/* A filter: `action` for system call `nr`, allow the rest. */
static int install_filter(int nr, unsigned action)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

TEST(seccomp_errno_and_inheritance)
{
    pid_t pid = fork();
    if (pid == 0) {
        CKN(1, prctl(PR_GET_SECCOMP) == 0);
        CKN(2, install_filter(SYS_getppid, SECCOMP_RET_ERRNO | EPERM) == 0);
        CKN(3, prctl(PR_GET_SECCOMP) == 2);
        errno = 0;
        CKN(4, syscall(SYS_getppid) == -1 && errno == EPERM);
        CKN(5, syscall(SYS_getpid) == getpid());
        pid_t c = fork();
        if (c == 0)
            _exit(syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1);
        CKN(6, pu_code(pu_wait(c)) == 0);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

static volatile int sys_code, sys_nr;
static volatile unsigned sys_arch;
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    sys_code = si->si_code;
    sys_nr = si->si_syscall;
    sys_arch = si->si_arch;
}

TEST(seccomp_trap_sends_sigsys)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        sigaction(SIGSYS, &sa, NULL);
        CKN(1, install_filter(SYS_getppid, SECCOMP_RET_TRAP | 7) == 0);
        /* The call does not run; rax keeps the call's number. */
        long r = syscall(SYS_getppid);
        CKN(2, r == SYS_getppid);
        CKN(3, sys_code == 1 /* SYS_SECCOMP */);
        CKN(4, sys_nr == SYS_getppid);
        CKN(5, sys_arch == AUDIT_ARCH_X86_64);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(seccomp_kill_process_and_strict_mode)
{
    pid_t pid = fork();
    if (pid == 0) {
        install_filter(SYS_getppid, SECCOMP_RET_KILL_PROCESS);
        syscall(SYS_getppid);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    int st = pu_wait(pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);

    pid = fork();
    if (pid == 0) {
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
            _exit(1);
        write(1, "", 0);
        syscall(SYS_getpid);
        syscall(SYS_exit, 2);
    }
    ASSERT_GT(pid, 0);
    st = pu_wait(pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

TEST(seccomp_bad_filters)
{
    pid_t pid = fork();
    if (pid == 0) {
        CKN(1, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        struct sock_filter bad[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
                                    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog p = {.len = 2, .filter = bad};
        CKN(2, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) == -1 && errno == EINVAL);
        struct sock_fprog empty = {.len = 0, .filter = bad};
        CKN(3, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &empty) == -1 &&
                   errno == EINVAL);
        CKN(4, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0x1000, &p) == -1 &&
                   errno == EINVAL);
        unsigned act = SECCOMP_RET_ERRNO;
        CKN(5, syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0);
        act = 0x12340000;
        CKN(6, syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == -1 &&
                   errno == EOPNOTSUPP);
        _exit(0);
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}
