/* mmap/munmap/mprotect/mremap/brk/madvise. */
#include "harness.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>

static long page(void)
{
    return sysconf(_SC_PAGESIZE);
}

static char *map_anon(size_t len)
{
    return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* 1 if [addr, addr+len) is entirely mapped (mprotect succeeds). */
static int is_mapped(void *addr, size_t len)
{
    return mprotect(addr, len, PROT_READ | PROT_WRITE) == 0;
}

/* Creates the scratch file "f" with `pages` pages; byte i is (i*13)&0xff. */
static int make_file(int pages)
{
    size_t n = pages * page();
    unsigned char *buf = malloc(n);
    if (!buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 13);
    int r = sct_write_file(sct_path("f"), buf, n);
    free(buf);
    return r;
}

TEST(mmap_anonymous_rw)
{
    size_t len = 4 * page();
    unsigned char *p = (unsigned char *)map_anon(len);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_EQ((long)p % page(), 0);
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0) {
            EXPECT_EQ(p[i], 0);
            break;
        }
    memset(p, 0xab, len);
    EXPECT_EQ(p[len - 1], 0xab);
    EXPECT_OK(munmap(p, len));
}

TEST(mmap_unaligned_length_rounds_up)
{
    char *p = map_anon(10);
    ASSERT_NE(p, MAP_FAILED);
    p[page() - 1] = 1;
    EXPECT_TRUE(is_mapped(p, page()));
    EXPECT_OK(munmap(p, 10));
    EXPECT_FALSE(is_mapped(p, page()));
}

TEST(mmap_shared_anonymous)
{
    char *p = mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    strcpy(p, "shared");
    EXPECT_STREQ(p, "shared");
    EXPECT_OK(munmap(p, page()));
}

TEST(mmap_errors_einval)
{
    EXPECT_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERRNO(mmap(NULL, page(), PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    char *p = map_anon(2 * page());
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_ERRNO(mmap(p + 1, page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
    EXPECT_OK(munmap(p, 2 * page()));
}

TEST(mmap_fixed_replaces_middle)
{
    size_t ps = page();
    char *p = map_anon(3 * ps);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 'x', 3 * ps);
    char *q = mmap(p + ps, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    EXPECT_EQ(q, p + ps);
    EXPECT_EQ(p[0], 'x');
    EXPECT_EQ(p[ps], 0);
    EXPECT_EQ(p[2 * ps - 1], 0);
    EXPECT_EQ(p[2 * ps], 'x');
    EXPECT_OK(munmap(p, 3 * ps));
}

TEST(mmap_fixed_noreplace)
{
    size_t ps = page();
    char *p = map_anon(2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_ERRNO(mmap(p, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    ASSERT_OK(munmap(p + ps, ps));
    char *q = mmap(p + ps, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    EXPECT_EQ(q, p + ps);
    EXPECT_OK(munmap(p, 2 * ps));
}

TEST(mmap_hint_is_used_when_free)
{
    size_t ps = page();
    char *p = map_anon(4 * ps);
    ASSERT_NE(p, MAP_FAILED);
    ASSERT_OK(munmap(p, 4 * ps));
    char *q = mmap(p + ps, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_EQ(q, p + ps);
    if (q != MAP_FAILED)
        munmap(q, ps);
}

TEST(munmap_middle_part)
{
    size_t ps = page();
    char *p = map_anon(3 * ps);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 'y', 3 * ps);
    EXPECT_OK(munmap(p + ps, ps));
    EXPECT_TRUE(is_mapped(p, ps));
    EXPECT_FALSE(is_mapped(p + ps, ps));
    EXPECT_ERRNO(mprotect(p + ps, ps, PROT_READ), ENOMEM);
    EXPECT_TRUE(is_mapped(p + 2 * ps, ps));
    EXPECT_EQ(p[0], 'y');
    EXPECT_EQ(p[2 * ps], 'y');
    EXPECT_OK(munmap(p, 3 * ps));
}

TEST(munmap_errors_einval)
{
    char *p = map_anon(page());
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_ERRNO(munmap(p, 0), EINVAL);
    EXPECT_ERRNO(munmap(p + 1, page()), EINVAL);
    EXPECT_OK(munmap(p, page()));
    /* Unmapping an unmapped range is fine. */
    EXPECT_OK(munmap(p, page()));
}

TEST(mprotect_changes_protection)
{
    size_t ps = page();
    char *p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_OK(mprotect(p, ps, PROT_READ | PROT_WRITE));
    p[0] = 'z';
    EXPECT_OK(mprotect(p, ps, PROT_READ));
    EXPECT_EQ(p[0], 'z');
    EXPECT_OK(munmap(p, ps));
}

TEST(mprotect_errors)
{
    size_t ps = page();
    char *p = map_anon(ps);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_ERRNO(mprotect(p + 1, ps, PROT_READ), EINVAL);
    EXPECT_ERRNO(mprotect(p, ps, 0x1000), EINVAL);
    EXPECT_OK(munmap(p, ps));
    EXPECT_ERRNO(mprotect(p, ps, PROT_READ), ENOMEM);
}

TEST(mmap_file_private_reads_contents)
{
    ASSERT_OK(make_file(2));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    size_t len = 2 * page();
    unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    int bad = -1;
    for (size_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(i * 13)) {
            bad = i;
            break;
        }
    EXPECT_EQ(bad, -1);
    EXPECT_OK(munmap(p, len));
    close(fd);
}

TEST(mmap_file_offset)
{
    ASSERT_OK(make_file(3));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    size_t ps = page();
    unsigned char *p = mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_EQ(p[0], (unsigned char)(2 * ps * 13));
    EXPECT_EQ(p[5], (unsigned char)((2 * ps + 5) * 13));
    EXPECT_OK(munmap(p, ps));
    EXPECT_ERRNO(mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    close(fd);
}

TEST(mmap_file_private_write_not_in_file)
{
    ASSERT_OK(make_file(1));
    int fd = open(sct_path("f"), O_RDWR);
    ASSERT_OK(fd);
    size_t ps = page();
    unsigned char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    unsigned char orig = p[10];
    p[10] = orig ^ 0xff;
    EXPECT_EQ(p[10], orig ^ 0xff);
    EXPECT_OK(munmap(p, ps));
    unsigned char c = 0;
    EXPECT_EQ(pread(fd, &c, 1, 10), 1);
    EXPECT_EQ(c, orig);
    EXPECT_EQ(c, (unsigned char)(10 * 13));
    close(fd);
}

TEST(mmap_file_tail_past_eof_is_zero)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "tail", 4));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    char *p = mmap(NULL, page(), PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_MEMEQ(p, "tail", 4);
    EXPECT_EQ(p[4], 0);
    EXPECT_EQ(p[page() - 1], 0);
    EXPECT_OK(munmap(p, page()));
    close(fd);
}

TEST(mmap_file_errors)
{
    ASSERT_OK(make_file(1));
    EXPECT_ERRNO(mmap(NULL, page(), PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
    int fd = open(sct_path("f"), O_WRONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(mmap(NULL, page(), PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
    close(fd);
    fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    close(fd);
}

TEST(mmap_survives_close)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "keep", 4));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    char *p = mmap(NULL, page(), PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    close(fd);
    EXPECT_MEMEQ(p, "keep", 4);
    EXPECT_OK(munmap(p, page()));
}

TEST(mremap_grow_maymove)
{
    size_t ps = page();
    char *p = map_anon(ps);
    ASSERT_NE(p, MAP_FAILED);
    strcpy(p, "grow");
    char *q = mremap(p, ps, 4 * ps, MREMAP_MAYMOVE);
    ASSERT_NE(q, MAP_FAILED);
    EXPECT_STREQ(q, "grow");
    q[4 * ps - 1] = 1;
    EXPECT_EQ(q[2 * ps], 0);
    EXPECT_OK(munmap(q, 4 * ps));
}

TEST(mremap_grow_blocked_enomem)
{
    size_t ps = page();
    char *p = map_anon(2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    /* The second page is in the way and moving is not allowed. */
    EXPECT_ERRNO(mremap(p, ps, 2 * ps, 0), ENOMEM);
    char *q = mremap(p, ps, 2 * ps, MREMAP_MAYMOVE);
    EXPECT_NE(q, MAP_FAILED);
    EXPECT_NE(q, p);
    if (q != MAP_FAILED)
        munmap(q, 2 * ps);
    munmap(p, 2 * ps);
}

TEST(mremap_shrink)
{
    size_t ps = page();
    char *p = map_anon(3 * ps);
    ASSERT_NE(p, MAP_FAILED);
    p[0] = 's';
    char *q = mremap(p, 3 * ps, ps, 0);
    EXPECT_EQ(q, p);
    EXPECT_EQ(p[0], 's');
    EXPECT_FALSE(is_mapped(p + ps, ps));
    EXPECT_OK(munmap(p, ps));
}

TEST(mremap_fixed_moves)
{
    size_t ps = page();
    char *p = map_anon(ps);
    char *dst = map_anon(2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    ASSERT_NE(dst, MAP_FAILED);
    strcpy(p, "moved");
    char *q = mremap(p, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, dst + ps);
    EXPECT_EQ(q, dst + ps);
    EXPECT_STREQ(dst + ps, "moved");
    EXPECT_FALSE(is_mapped(p, ps));
    EXPECT_OK(munmap(dst, 2 * ps));
}

TEST(mremap_errors_einval)
{
    size_t ps = page();
    char *p = map_anon(ps);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_ERRNO(mremap(p, ps, 2 * ps, 0x100), EINVAL);
    EXPECT_ERRNO(syscall(SYS_mremap, p, ps, ps, MREMAP_FIXED, p + 4 * ps), EINVAL);
    EXPECT_ERRNO(mremap(p + 1, ps, 2 * ps, MREMAP_MAYMOVE), EINVAL);
    EXPECT_ERRNO(mremap(p, ps, 0, MREMAP_MAYMOVE), EINVAL);
    EXPECT_OK(munmap(p, ps));
}

TEST(mremap_file_mapping_grow)
{
    ASSERT_OK(make_file(2));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    size_t ps = page();
    unsigned char *p = mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    unsigned char *q = mremap(p, ps, 2 * ps, MREMAP_MAYMOVE);
    ASSERT_NE(q, MAP_FAILED);
    EXPECT_EQ(q[1], 13);
    EXPECT_EQ(q[ps + 1], (unsigned char)((ps + 1) * 13));
    EXPECT_OK(munmap(q, 2 * ps));
    close(fd);
}

TEST(brk_grow_and_shrink)
{
    long ps = page();
    char *cur = (char *)syscall(SYS_brk, 0);
    ASSERT_NE(cur, NULL);
    char *want = (char *)(((long)cur + ps - 1) / ps * ps + ps);
    char *got = (char *)syscall(SYS_brk, want);
    EXPECT_EQ(got, want);
    if (got == want) {
        want[-1] = 7;
        EXPECT_EQ(want[-1], 7);
    }
    EXPECT_EQ(syscall(SYS_brk, cur), cur);
    EXPECT_EQ(syscall(SYS_brk, 0), cur);
}

TEST(brk_below_start_ignored)
{
    long cur = syscall(SYS_brk, 0);
    EXPECT_EQ(syscall(SYS_brk, 4096), cur);
    EXPECT_EQ(syscall(SYS_brk, 0), cur);
}

TEST(madvise_dontneed_zeroes_anon)
{
    size_t ps = page();
    char *p = map_anon(2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 'm', 2 * ps);
    EXPECT_OK(madvise(p, ps, MADV_DONTNEED));
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[ps - 1], 0);
    EXPECT_EQ(p[ps], 'm');
    EXPECT_OK(munmap(p, 2 * ps));
}

TEST(madvise_dontneed_file_private_rereads)
{
    ASSERT_OK(make_file(1));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    unsigned char *p = mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    p[3] = 0;
    EXPECT_OK(madvise(p, page(), MADV_DONTNEED));
    EXPECT_EQ(p[3], 39);
    EXPECT_OK(munmap(p, page()));
    close(fd);
}

TEST(madvise_hints_and_errors)
{
    size_t ps = page();
    char *p = map_anon(ps);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_OK(madvise(p, ps, MADV_NORMAL));
    EXPECT_OK(madvise(p, ps, MADV_WILLNEED));
    EXPECT_OK(madvise(p, ps, MADV_SEQUENTIAL));
    EXPECT_ERRNO(madvise(p + 1, ps, MADV_NORMAL), EINVAL);
    EXPECT_ERRNO(madvise(p, ps, 12345), EINVAL);
    EXPECT_OK(munmap(p, ps));
    EXPECT_ERRNO(madvise(p, ps, MADV_NORMAL), ENOMEM);
}

TEST(mlock_family_on_mapped_and_unmapped_memory)
{
    size_t ps = page();
    char *p = map_anon(2 * ps);
    ASSERT_NE(p, MAP_FAILED);
    /* Unaligned starts are rounded down, lengths up. */
    EXPECT_OK(mlock(p + 10, ps));
    EXPECT_OK(munlock(p + 10, ps));
    EXPECT_OK(mlock(p, 0));
    EXPECT_OK(syscall(SYS_mlock2, p, ps, 0));
    EXPECT_ERRNO(syscall(SYS_mlock2, p, ps, 0x100), EINVAL);
    EXPECT_OK(mlockall(MCL_CURRENT));
    EXPECT_OK(munlockall());
    EXPECT_ERRNO(mlockall(0), EINVAL);
    EXPECT_ERRNO(mlockall(MCL_ONFAULT), EINVAL);
    EXPECT_OK(munmap(p + ps, ps));
    EXPECT_ERRNO(mlock(p, 2 * ps), ENOMEM);
    EXPECT_OK(munmap(p, ps));
}

TEST(mincore_reports_touched_pages_and_errors)
{
    size_t ps = page();
    char *p = map_anon(3 * ps);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 1, 3 * ps);
    unsigned char v[3] = {0, 0, 0};
    EXPECT_OK(mincore(p, 3 * ps, v));
    EXPECT_EQ(v[0] & 1, 1);
    EXPECT_EQ(v[2] & 1, 1);
    EXPECT_ERRNO(mincore(p + 1, ps, v), EINVAL);
    EXPECT_ERRNO(mincore(p, ps, NULL), EFAULT);
    EXPECT_OK(munmap(p, 3 * ps));
    EXPECT_ERRNO(mincore(p, ps, v), ENOMEM);
}

TEST(syscall_right_after_mprotect_is_emulated)
{
    /* In the sandbox the stub returns to the application by itself after
     * making the mprotect: the system call after it must still reach the
     * sentry (a pid of the sandbox, a write to the sandbox's pipe). */
    size_t ps = page();
    char *p = map_anon(ps);
    ASSERT_NE(p, MAP_FAILED);
    pid_t pid = getpid();
    int fds[2];
    ASSERT_OK(pipe(fds));
    for (int i = 0; i < 200; i++) {
        ASSERT_OK(mprotect(p, ps, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ));
        ASSERT_EQ(syscall(SYS_getpid), pid);
        ASSERT_OK(mprotect(p, ps, PROT_READ | PROT_WRITE));
        ASSERT_EQ(syscall(SYS_write, fds[1], "x", 1), 1);
        p[i] = 1;
    }
    char buf[256];
    EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 200);
    close(fds[0]);
    close(fds[1]);
    EXPECT_OK(munmap(p, ps));
}

static volatile sig_atomic_t mm_alarms;
static void mm_on_alarm(int sig)
{
    (void)sig;
    mm_alarms++;
}

TEST(mprotect_churn_under_timer_signals_keeps_protections)
{
    /* Signals that interrupt the application while its mapping changes
     * are being made must not lose any of them. */
    size_t ps = page();
    volatile char *p = map_anon(4 * ps);
    ASSERT_NE(p, MAP_FAILED);
    struct sigaction sa = {0};
    sa.sa_handler = mm_on_alarm;
    sa.sa_flags = SA_RESTART;
    ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
    struct itimerval it = {{0, 200}, {0, 200}};
    ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
    long sum = 0;
    for (int i = 0; i < 5000; i++) {
        char *q = (char *)p + (i % 4) * ps;
        ASSERT_OK(mprotect(q, ps, PROT_READ));
        sum += q[0];
        ASSERT_OK(mprotect(q, ps, PROT_READ | PROT_WRITE));
        q[0]++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    ASSERT_OK(setitimer(ITIMER_REAL, &off, NULL));
    signal(SIGALRM, SIG_DFL);
    for (int k = 0; k < 4; k++)
        EXPECT_EQ((unsigned char)p[k * ps], 5000 / 4 % 256);
    EXPECT_TRUE(mm_alarms > 0);
    EXPECT_OK(munmap((void *)p, 4 * ps));
    (void)sum;
}
