/* openat2(2): struct open_how and the RESOLVE_* restrictions on path walks. */
#define _GNU_SOURCE
#include "harness.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int o2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
    struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
    return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* scratch/sub/f ("beneath"), scratch/abs -> /etc, scratch/rel -> sub. */
static int layout(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s", sct_path("sub"));
    if (mkdir(p, 0755) != 0)
        return -1;
    if (sct_write_file(sct_path("sub/f"), "beneath", 7) != 0)
        return -1;
    if (symlink("/etc", sct_path("abs")) != 0 || symlink("sub", sct_path("rel")) != 0)
        return -1;
    if (symlink("/sub/f", sct_path("rootlink")) != 0)
        return -1;
    return open(sct_path(""), O_RDONLY | O_DIRECTORY);
}

static int read_is(int fd, const char *want)
{
    char buf[32] = {0};
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n == (ssize_t)strlen(want) && strcmp(buf, want) == 0;
}

TEST(openat2_without_restrictions_is_openat)
{
    int dir = layout();
    ASSERT_OK(dir);
    int fd = o2(dir, "sub/f", O_RDONLY, 0);
    ASSERT_OK(fd);
    EXPECT_TRUE(read_is(fd, "beneath"));
    fd = o2(dir, "rel/f", O_RDONLY, 0);
    ASSERT_OK(fd);
    close(fd);
    close(dir);
}

TEST(openat2_resolve_beneath)
{
    int dir = layout();
    ASSERT_OK(dir);
    int fd = o2(dir, "sub/../sub/f", O_RDONLY, RESOLVE_BENEATH);
    ASSERT_OK(fd);
    EXPECT_TRUE(read_is(fd, "beneath"));
    fd = o2(dir, "rel/f", O_RDONLY, RESOLVE_BENEATH);
    ASSERT_OK(fd);
    close(fd);
    EXPECT_ERRNO(o2(dir, "../x", O_RDONLY, RESOLVE_BENEATH), EXDEV);
    EXPECT_ERRNO(o2(dir, "sub/../..", O_RDONLY, RESOLVE_BENEATH), EXDEV);
    EXPECT_ERRNO(o2(dir, "/etc/passwd", O_RDONLY, RESOLVE_BENEATH), EXDEV);
    EXPECT_ERRNO(o2(dir, "abs/passwd", O_RDONLY, RESOLVE_BENEATH), EXDEV);
    close(dir);
}

TEST(openat2_resolve_in_root)
{
    int dir = layout();
    ASSERT_OK(dir);
    int fd = o2(dir, "/sub/f", O_RDONLY, RESOLVE_IN_ROOT);
    ASSERT_OK(fd);
    EXPECT_TRUE(read_is(fd, "beneath"));
    fd = o2(dir, "../../../sub/f", O_RDONLY, RESOLVE_IN_ROOT);
    ASSERT_OK(fd);
    EXPECT_TRUE(read_is(fd, "beneath"));
    /* An absolute symlink resolves inside the root too. */
    fd = o2(dir, "rootlink", O_RDONLY, RESOLVE_IN_ROOT);
    ASSERT_OK(fd);
    EXPECT_TRUE(read_is(fd, "beneath"));
    EXPECT_ERRNO(o2(dir, "abs/passwd", O_RDONLY, RESOLVE_IN_ROOT), ENOENT);
    close(dir);
}

TEST(openat2_resolve_no_symlinks)
{
    int dir = layout();
    ASSERT_OK(dir);
    EXPECT_ERRNO(o2(dir, "rel/f", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
    EXPECT_ERRNO(o2(dir, "rootlink", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
    int fd = o2(dir, "sub/f", O_RDONLY, RESOLVE_NO_SYMLINKS);
    ASSERT_OK(fd);
    close(fd);
    close(dir);
}

TEST(openat2_resolve_no_xdev)
{
    int dir = layout();
    ASSERT_OK(dir);
    int fd = o2(dir, "sub/f", O_RDONLY, RESOLVE_NO_XDEV);
    ASSERT_OK(fd);
    close(fd);
    EXPECT_ERRNO(o2(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
    close(dir);
}

TEST(openat2_argument_errors)
{
    int dir = layout();
    ASSERT_OK(dir);
    struct {
        struct open_how how;
        uint64_t extra;
    } big = {{.flags = O_RDONLY}, 0};
    EXPECT_ERRNO(syscall(SYS_openat2, dir, "sub/f", &big.how, 8), EINVAL);
    EXPECT_ERRNO(syscall(SYS_openat2, dir, "sub/f", &big.how, 4097), E2BIG);
    int fd = syscall(SYS_openat2, dir, "sub/f", &big, sizeof(big));
    ASSERT_OK(fd);
    close(fd);
    big.extra = 1;
    EXPECT_ERRNO(syscall(SYS_openat2, dir, "sub/f", &big, sizeof(big)), E2BIG);
    EXPECT_ERRNO(o2(dir, "sub/f", 1ULL << 40, 0), EINVAL);
    struct open_how how = {.flags = O_RDONLY, .mode = 0644};
    EXPECT_ERRNO(syscall(SYS_openat2, dir, "sub/f", &how, sizeof(how)), EINVAL);
    EXPECT_ERRNO(o2(dir, "sub/f", O_RDONLY, 1ULL << 20), EINVAL);
    EXPECT_ERRNO(o2(dir, "sub/f", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
    EXPECT_ERRNO(o2(dir, "sub/new", O_RDWR | O_CREAT, RESOLVE_CACHED), EAGAIN);
    EXPECT_ERRNO(syscall(SYS_openat2, dir, "sub/f", (void *)8, sizeof(how)), EFAULT);
    close(dir);
}
