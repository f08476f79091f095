/*
 * Helpers shared by the process/thread/signal/time test programs
 * (process.c, sigdeliver.c, thread.c, futex.c, time2.c, creds.c).
 *
 * Children never use the harness's EXPECT_/ASSERT_ macros (an ASSERT would
 * longjmp back into the harness inside the child); they check with CK() and
 * report through their exit status instead, which the parent asserts.
 */
#ifndef SCT_PROC_UTIL_H
#define SCT_PROC_UTIL_H

#include "harness.h"

#include <elf.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

/* In a child: on failure print the condition to stderr and _exit(100 + n),
 * where n is a small per-check number chosen by the caller. */
#define CKN(n, cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            dprintf(2, "%s: child check %d failed at line %d: %s (errno %d)\n", \
                    sct_case_name(), (n), __LINE__, #cond, errno);             \
            _exit(100 + (n));                                                  \
        }                                                                      \
    } while (0)
#define CK(cond) CKN(0, cond)

static inline long long pu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void pu_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static inline long long pu_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Burns about `ms` milliseconds of this thread's CPU time (gives up after
 * 2 s of wall time on a busy machine). */
static inline void pu_burn_ms(long ms)
{
    long long end_cpu = pu_cpu_ns() + ms * 1000000LL;
    long long end_wall = pu_now_ns() + 2000000000LL;
    volatile unsigned long x = 0;
    while (pu_cpu_ns() < end_cpu && pu_now_ns() < end_wall)
        for (int i = 0; i < 10000; i++)
            x += i;
}

/*
 * Waits for `pid` (a plain waitpid, retried on EINTR) for at most
 * `timeout_ms`; on timeout kills it with SIGKILL, reaps it (waiting at most
 * 2 s more) and returns -2.
 * Returns the wait status, or -1 (errno set) if waitpid failed.
 */
static inline int pu_wait_ms(pid_t pid, int timeout_ms)
{
    long long deadline = pu_now_ns() + timeout_ms * 1000000LL;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (pu_now_ns() > deadline) {
            kill(pid, SIGKILL);
            /* Bounded as well: a broken kill/wait must not hang the run. */
            long long end = pu_now_ns() + 2000000000LL;
            while (waitpid(pid, &st, WNOHANG) == 0 && pu_now_ns() < end)
                pu_sleep_ms(1);
            return -2;
        }
        pu_sleep_ms(1);
    }
}

/* pu_wait_ms with a 5 s limit. */
static inline int pu_wait(pid_t pid)
{
    return pu_wait_ms(pid, 5000);
}

/* Exit status of a normally exited child, or 1000 + signal, or the negative
 * pu_wait result: easy to compare with EXPECT_EQ. */
static inline int pu_code(int st)
{
    if (st < 0)
        return st;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    return 2000 + st;
}

/* In a child that should wait to be signalled: idles (interruptible
 * sleeps) for at most 2 s, then exits with 99 so that a signal the sandbox
 * lost cannot hang the run. */
static inline void pu_idle(void) __attribute__((noreturn));
static inline void pu_idle(void)
{
    long long end = pu_now_ns() + 2000000000LL;
    while (pu_now_ns() < end) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    _exit(99);
}

/* Forks a child that sends `sig` to us after `ms` milliseconds, so that a
 * wait for a signal the sandbox never delivers ends anyway (the case then
 * fails on its timing or siginfo checks). Stop it with pu_backstop_end. */
static inline pid_t pu_backstop(int sig, long ms)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        pu_sleep_ms(ms);
        kill(parent, sig);
        _exit(0);
    }
    return pid;
}

static inline void pu_backstop_end(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        pu_wait(pid);
    }
}

/* Reads exactly n bytes (retrying on EINTR); returns n or what read gave. */
static inline ssize_t pu_read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return got ? (ssize_t)got : r;
        got += r;
    }
    return got;
}

/* Installs `fn` for `sig` with `flags` (SA_SIGINFO selects sa_sigaction);
 * stores the previous action in *old. */
static inline int pu_handle(int sig, void *fn, int flags, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))fn;
    else
        sa.sa_handler = (void (*)(int))fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, old);
}

/* Sets the disposition of `sig` to SIG_DFL or SIG_IGN. */
static inline int pu_disp(int sig, void (*disp)(int), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = disp;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, old);
}

static inline int pu_block(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return sigprocmask(SIG_BLOCK, &s, NULL);
}

static inline int pu_unblock(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* Arms (or with 0 disarms) a one-shot ITIMER_REAL of `ms` milliseconds. */
static inline int pu_timer_ms(long ms)
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    return setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * Minimal static x86-64 ELF executables, written by the tests themselves so
 * that exec does not depend on the host's binaries:
 *   PU_ELF_EXIT:  exit(code)
 *   PU_ELF_ARGC:  exit(argc)
 *   PU_ELF_PAUSE: pause() forever
 */
enum { PU_ELF_EXIT, PU_ELF_ARGC, PU_ELF_PAUSE };

static inline int pu_write_elf(const char *path, int kind, int code)
{
    unsigned char buf[256];
    memset(buf, 0, sizeof(buf));
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
    unsigned char *code_p = buf + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    const unsigned long base = 0x400000;
    size_t off = code_p - buf;
    size_t n = 0;

    if (kind == PU_ELF_EXIT) {
        code_p[n++] = 0xbf; /* mov edi, imm32 */
        memcpy(code_p + n, &code, 4);
        n += 4;
    } else if (kind == PU_ELF_ARGC) {
        static const unsigned char mov_rdi_rsp[] = {0x48, 0x8b, 0x3c, 0x24};
        memcpy(code_p + n, mov_rdi_rsp, sizeof(mov_rdi_rsp));
        n += sizeof(mov_rdi_rsp);
    }
    if (kind == PU_ELF_PAUSE) {
        static const unsigned char loop[] = {0xb8, 34, 0, 0, 0, /* mov eax, SYS_pause */
                                             0x0f, 0x05,        /* syscall */
                                             0xeb, 0xf7};       /* jmp back */
        memcpy(code_p + n, loop, sizeof(loop));
        n += sizeof(loop);
    } else {
        static const unsigned char exit_[] = {0xb8, 60, 0, 0, 0, /* mov eax, SYS_exit */
                                              0x0f, 0x05};       /* syscall */
        memcpy(code_p + n, exit_, sizeof(exit_));
        n += sizeof(exit_);
    }
    size_t total = off + n;

    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = base + off;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 1;
    ph->p_type = PT_LOAD;
    ph->p_flags = PF_R | PF_X;
    ph->p_offset = 0;
    ph->p_vaddr = base;
    ph->p_paddr = base;
    ph->p_filesz = total;
    ph->p_memsz = total;
    ph->p_align = 0x1000;

    if (sct_write_file(path, buf, total) != 0)
        return -1;
    return chmod(path, 0755);
}

#endif
