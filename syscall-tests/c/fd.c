/* fcntl, dup/dup2/dup3, ioctl on regular files. */
#include "harness.h"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>

static int scratch_file(const char *contents)
{
    const char *p = sct_path("f");
    if (sct_write_file(p, contents, strlen(contents)) != 0)
        return -1;
    return open(p, O_RDWR);
}

TEST(dup_returns_lowest_free)
{
    int a = open(sct_scratch(), O_RDONLY);
    int b = open(sct_scratch(), O_RDONLY);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_OK(close(a));
    int c = dup(b);
    EXPECT_EQ(c, a);
    close(b);
    close(c);
}

TEST(dup_shares_offset_and_flags)
{
    int fd = scratch_file("0123456789");
    ASSERT_OK(fd);
    int d = dup(fd);
    ASSERT_OK(d);
    EXPECT_EQ(lseek(fd, 4, SEEK_SET), 4);
    EXPECT_EQ(lseek(d, 0, SEEK_CUR), 4);
    EXPECT_OK(fcntl(fd, F_SETFL, O_APPEND));
    EXPECT_TRUE(fcntl(d, F_GETFL) & O_APPEND);
    close(fd);
    close(d);
}

TEST(dup_close_keeps_original)
{
    int fd = scratch_file("abc");
    ASSERT_OK(fd);
    int d = dup(fd);
    ASSERT_OK(d);
    EXPECT_OK(close(d));
    char buf[4] = {0};
    EXPECT_EQ(read(fd, buf, 3), 3);
    EXPECT_STREQ(buf, "abc");
    close(fd);
}

TEST(dup_bad_fd_ebadf)
{
    EXPECT_ERRNO(dup(-1), EBADF);
    EXPECT_ERRNO(dup(999), EBADF);
}

TEST(dup_clears_cloexec)
{
    int fd = open(sct_scratch(), O_RDONLY | O_CLOEXEC);
    ASSERT_OK(fd);
    int d = dup(fd);
    ASSERT_OK(d);
    EXPECT_EQ(fcntl(d, F_GETFD), 0);
    close(d);
    close(fd);
}

TEST(dup2_to_specific_fd)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_EQ(dup2(fd, 100), 100);
    struct stat a, b;
    EXPECT_OK(fstat(fd, &a));
    EXPECT_OK(fstat(100, &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    close(100);
    close(fd);
}

TEST(dup2_replaces_open_target)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    int other = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(other);
    EXPECT_EQ(dup2(fd, other), other);
    struct stat st;
    EXPECT_OK(fstat(other, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    close(other);
    close(fd);
}

TEST(dup2_same_fd_noop)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    ASSERT_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
    EXPECT_EQ(dup2(fd, fd), fd);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_ERRNO(dup2(999, 999), EBADF);
    close(fd);
}

TEST(dup2_errors)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_ERRNO(dup2(999, 100), EBADF);
    EXPECT_ERRNO(dup2(fd, -1), EBADF);
    EXPECT_ERRNO(dup2(fd, 1 << 30), EBADF);
    close(fd);
}

TEST(dup3_cloexec)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_EQ(dup3(fd, 101, O_CLOEXEC), 101);
    EXPECT_EQ(fcntl(101, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(dup3(fd, 102, 0), 102);
    EXPECT_EQ(fcntl(102, F_GETFD), 0);
    close(101);
    close(102);
    close(fd);
}

TEST(dup3_errors)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_ERRNO(dup3(fd, fd, 0), EINVAL);
    EXPECT_ERRNO(dup3(fd, 103, O_NONBLOCK), EINVAL);
    EXPECT_ERRNO(dup3(999, 103, 0), EBADF);
    EXPECT_ERRNO(fcntl(103, F_GETFD), EBADF);
    close(fd);
}

TEST(fcntl_getfd_setfd)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFD), 0);
    EXPECT_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_OK(fcntl(fd, F_SETFD, 0));
    EXPECT_EQ(fcntl(fd, F_GETFD), 0);
    close(fd);
}

TEST(fcntl_getfl_access_mode)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int r = open(sct_path("f"), O_RDONLY);
    int w = open(sct_path("f"), O_WRONLY | O_APPEND);
    int rw = open(sct_path("f"), O_RDWR);
    ASSERT_OK(r);
    ASSERT_OK(w);
    ASSERT_OK(rw);
    EXPECT_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
    EXPECT_TRUE(fcntl(w, F_GETFL) & O_APPEND);
    EXPECT_EQ(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_FALSE(fcntl(rw, F_GETFL) & O_APPEND);
    close(r);
    close(w);
    close(rw);
}

TEST(fcntl_setfl_append_not_accmode)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_OK(fcntl(fd, F_SETFL, O_RDWR | O_APPEND | O_NONBLOCK));
    int fl = fcntl(fd, F_GETFL);
    EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
    EXPECT_TRUE(fl & O_APPEND);
    EXPECT_TRUE(fl & O_NONBLOCK);
    EXPECT_ERRNO(write(fd, "y", 1), EBADF);
    EXPECT_OK(fcntl(fd, F_SETFL, 0));
    EXPECT_FALSE(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK));
    close(fd);
}

TEST(fcntl_setfl_append_effect)
{
    int fd = scratch_file("abc");
    ASSERT_OK(fd);
    EXPECT_OK(fcntl(fd, F_SETFL, O_APPEND));
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ(write(fd, "d", 1), 1);
    char buf[5] = {0};
    EXPECT_EQ(pread(fd, buf, 4, 0), 4);
    EXPECT_STREQ(buf, "abcd");
    close(fd);
}

TEST(fcntl_dupfd)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    int d = fcntl(fd, F_DUPFD, 150);
    EXPECT_EQ(d, 150);
    EXPECT_EQ(fcntl(d, F_GETFD), 0);
    int e = fcntl(fd, F_DUPFD, 150);
    EXPECT_EQ(e, 151);
    int c = fcntl(fd, F_DUPFD_CLOEXEC, 150);
    EXPECT_EQ(c, 152);
    EXPECT_EQ(fcntl(c, F_GETFD), FD_CLOEXEC);
    close(c);
    close(e);
    close(d);
    close(fd);
}

TEST(fcntl_errors)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    EXPECT_ERRNO(fcntl(999, F_GETFD), EBADF);
    EXPECT_ERRNO(fcntl(999, F_GETFL), EBADF);
    EXPECT_ERRNO(fcntl(fd, F_DUPFD, -1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_fcntl, fd, 0x7fff, 0), EINVAL);
    close(fd);
}

TEST(rlimit_nofile_limits_fds)
{
    struct rlimit old, lim;
    ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    lim = old;
    lim.rlim_cur = 64;
    ASSERT_OK(setrlimit(RLIMIT_NOFILE, &lim));
    EXPECT_ERRNO(dup2(fd, 64), EBADF);
    EXPECT_ERRNO(fcntl(fd, F_DUPFD, 64), EINVAL);
    EXPECT_EQ(dup2(fd, 63), 63);
    close(63);
    EXPECT_OK(setrlimit(RLIMIT_NOFILE, &old));
    close(fd);
}

TEST(ioctl_tty_on_regular_file_enotty)
{
    int fd = scratch_file("x");
    ASSERT_OK(fd);
    struct termios t;
    struct winsize ws;
    EXPECT_ERRNO(ioctl(fd, TCGETS, &t), ENOTTY);
    EXPECT_ERRNO(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY);
    EXPECT_ERRNO(ioctl(fd, TCSETS, &t), ENOTTY);
    close(fd);
}

TEST(ioctl_bad_fd_ebadf)
{
    struct winsize ws;
    EXPECT_ERRNO(ioctl(999, TIOCGWINSZ, &ws), EBADF);
}
