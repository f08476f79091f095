/* fstat/newfstatat/stat/lstat/statx, getdents64, readlink/readlinkat,
 * access/faccessat/faccessat2, utime/utimes/futimesat. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

TEST(fstat_regular_file)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "12345", 5));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 5);
    EXPECT_EQ(st.st_nlink, 1);
    EXPECT_EQ(st.st_mode & 0600, 0600);
    EXPECT_GT(st.st_blksize, 0);
    close(fd);
}

TEST(stat_directory)
{
    struct stat st;
    EXPECT_OK(stat(sct_scratch(), &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_GE(st.st_nlink, 2);
}

TEST(stat_and_fstat_same_inode)
{
    ASSERT_OK(sct_write_file(sct_path("a"), "a", 1));
    ASSERT_OK(sct_write_file(sct_path("b"), "b", 1));
    struct stat sa, sb, sf;
    EXPECT_OK(stat(sct_path("a"), &sa));
    EXPECT_OK(stat(sct_path("b"), &sb));
    int fd = open(sct_path("a"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_OK(fstat(fd, &sf));
    EXPECT_EQ(sa.st_ino, sf.st_ino);
    EXPECT_EQ(sa.st_dev, sf.st_dev);
    EXPECT_NE(sa.st_ino, sb.st_ino);
    EXPECT_EQ(sa.st_dev, sb.st_dev);
    close(fd);
}

TEST(lstat_symlink)
{
    const char *target = sct_path("target");
    ASSERT_OK(sct_write_file(target, "0123456789", 10));
    ASSERT_OK(symlink(target, sct_path("l")));
    struct stat st;
    EXPECT_OK(lstat(sct_path("l"), &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_size, strlen(target));
    EXPECT_OK(stat(sct_path("l"), &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 10);
}

TEST(stat_errors)
{
    struct stat st;
    EXPECT_ERRNO(stat(sct_path("missing"), &st), ENOENT);
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    EXPECT_ERRNO(stat(sct_path("f/x"), &st), ENOTDIR);
    EXPECT_ERRNO(stat("", &st), ENOENT);
    ASSERT_OK(symlink("dangling-target", sct_path("l")));
    EXPECT_ERRNO(stat(sct_path("l"), &st), ENOENT);
    EXPECT_OK(lstat(sct_path("l"), &st));
}

TEST(stat_efault)
{
    struct stat st;
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, BAD_PTR, &st, 0), EFAULT);
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, sct_scratch(), BAD_PTR, 0), EFAULT);
    EXPECT_ERRNO(syscall(SYS_stat, sct_scratch(), BAD_PTR), EFAULT);
    int fd = open(sct_scratch(), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_fstat, fd, BAD_PTR), EFAULT);
    close(fd);
}

TEST(fstat_bad_fd_ebadf)
{
    struct stat st;
    EXPECT_ERRNO(fstat(-1, &st), EBADF);
    EXPECT_ERRNO(fstat(999, &st), EBADF);
}

TEST(newfstatat_dirfd_and_nofollow)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "abc", 3));
    ASSERT_OK(symlink("f", sct_path("l")));
    int dfd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dfd);
    struct stat st;
    EXPECT_OK(syscall(SYS_newfstatat, dfd, "f", &st, 0));
    EXPECT_EQ(st.st_size, 3);
    EXPECT_OK(syscall(SYS_newfstatat, dfd, "l", &st, 0));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_OK(syscall(SYS_newfstatat, dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_size, 1);
    close(dfd);
}

TEST(newfstatat_empty_path)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "abcd", 4));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    struct stat st;
    EXPECT_OK(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH));
    EXPECT_EQ(st.st_size, 4);
    EXPECT_ERRNO(syscall(SYS_newfstatat, fd, "", &st, 0), ENOENT);
    close(fd);
}

TEST(newfstatat_bad_flags_einval)
{
    struct stat st;
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, sct_scratch(), &st, 0x40000000), EINVAL);
}

TEST(newfstatat_bad_dirfd_ebadf)
{
    struct stat st;
    EXPECT_ERRNO(syscall(SYS_newfstatat, 999, "x", &st, 0), EBADF);
}

TEST(statx_basic)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "hello", 5));
    struct statx sx;
    memset(&sx, 0xff, sizeof(sx));
    EXPECT_OK(syscall(SYS_statx, AT_FDCWD, sct_path("f"), 0, STATX_BASIC_STATS, &sx));
    EXPECT_EQ(sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO),
              STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO);
    EXPECT_EQ(sx.stx_size, 5);
    EXPECT_TRUE(S_ISREG(sx.stx_mode));
    struct stat st;
    EXPECT_OK(stat(sct_path("f"), &st));
    EXPECT_EQ(sx.stx_ino, st.st_ino);
    EXPECT_EQ(sx.stx_nlink, st.st_nlink);
    EXPECT_EQ(sx.stx_uid, st.st_uid);
}

TEST(statx_nofollow_and_empty_path)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "hello", 5));
    ASSERT_OK(symlink("f", sct_path("l")));
    struct statx sx;
    EXPECT_OK(syscall(SYS_statx, AT_FDCWD, sct_path("l"), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    EXPECT_TRUE(S_ISLNK(sx.stx_mode));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_OK(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    EXPECT_EQ(sx.stx_size, 5);
    close(fd);
}

TEST(statx_errors)
{
    struct statx sx;
    EXPECT_ERRNO(syscall(SYS_statx, AT_FDCWD, sct_path("missing"), 0, STATX_BASIC_STATS, &sx), ENOENT);
    EXPECT_ERRNO(syscall(SYS_statx, AT_FDCWD, sct_scratch(), 0x40000000, STATX_BASIC_STATS, &sx), EINVAL);
    EXPECT_ERRNO(syscall(SYS_statx, AT_FDCWD, sct_scratch(), 0, 0x80000000u, &sx), EINVAL);
    EXPECT_ERRNO(syscall(SYS_statx, AT_FDCWD, sct_scratch(), 0, STATX_BASIC_STATS, BAD_PTR), EFAULT);
}

/* Reads all entries of `dir` with getdents64; returns a '/'-separated list
 * "name:type/..." in `out`, or -1. */
static int list_dir(int fd, char *out, size_t outlen)
{
    char buf[4096];
    out[0] = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            size_t l = strlen(out);
            snprintf(out + l, outlen - l, "%s:%d/", d->d_name, d->d_type);
            off += d->d_reclen;
        }
    }
}

TEST(getdents64_lists_entries)
{
    ASSERT_OK(sct_write_file(sct_path("file"), "", 0));
    ASSERT_OK(mkdir(sct_path("dir"), 0755));
    ASSERT_OK(symlink("file", sct_path("link")));
    int fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    char list[1024];
    EXPECT_OK(list_dir(fd, list, sizeof(list)));
    char want[64];
    snprintf(want, sizeof(want), "/file:%d/", DT_REG);
    char full[1100];
    snprintf(full, sizeof(full), "/%s", list);
    EXPECT_TRUE(strstr(full, want) != NULL);
    snprintf(want, sizeof(want), "/dir:%d/", DT_DIR);
    EXPECT_TRUE(strstr(full, want) != NULL);
    snprintf(want, sizeof(want), "/link:%d/", DT_LNK);
    EXPECT_TRUE(strstr(full, want) != NULL);
    snprintf(want, sizeof(want), "/.:%d/", DT_DIR);
    EXPECT_TRUE(strstr(full, want) != NULL);
    snprintf(want, sizeof(want), "/..:%d/", DT_DIR);
    EXPECT_TRUE(strstr(full, want) != NULL);
    int count = 0;
    for (char *c = list; *c; c++)
        count += *c == '/';
    EXPECT_EQ(count, 5);
    close(fd);
}

TEST(getdents64_rewind)
{
    ASSERT_OK(sct_write_file(sct_path("a"), "", 0));
    int fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    char l1[512], l2[512];
    EXPECT_OK(list_dir(fd, l1, sizeof(l1)));
    char buf[512];
    EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    EXPECT_OK(list_dir(fd, l2, sizeof(l2)));
    EXPECT_STREQ(l1, l2);
    close(fd);
}

TEST(getdents64_errors)
{
    char buf[512];
    EXPECT_ERRNO(syscall(SYS_getdents64, 999, buf, sizeof(buf)), EBADF);
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
    close(fd);
    fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, 1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, BAD_PTR, sizeof(buf)), EFAULT);
    close(fd);
}

TEST(readlink_basic)
{
    ASSERT_OK(symlink("some/target", sct_path("l")));
    char buf[64];
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(readlink(sct_path("l"), buf, sizeof(buf)), 11);
    EXPECT_MEMEQ(buf, "some/target", 11);
    EXPECT_EQ(buf[11], 'X');
}

TEST(readlink_truncates)
{
    ASSERT_OK(symlink("some/target", sct_path("l")));
    char buf[4];
    EXPECT_EQ(readlink(sct_path("l"), buf, sizeof(buf)), 4);
    EXPECT_MEMEQ(buf, "some", 4);
}

TEST(readlink_errors)
{
    char buf[64];
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    EXPECT_ERRNO(readlink(sct_path("f"), buf, sizeof(buf)), EINVAL);
    EXPECT_ERRNO(readlink(sct_scratch(), buf, sizeof(buf)), EINVAL);
    EXPECT_ERRNO(readlink(sct_path("missing"), buf, sizeof(buf)), ENOENT);
    ASSERT_OK(symlink("t", sct_path("l")));
    EXPECT_ERRNO(syscall(SYS_readlink, sct_path("l"), buf, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_readlink, sct_path("l"), BAD_PTR, 64), EFAULT);
    EXPECT_ERRNO(syscall(SYS_readlink, BAD_PTR, buf, 64), EFAULT);
}

TEST(readlinkat_dirfd)
{
    ASSERT_OK(symlink("abc", sct_path("l")));
    int dfd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dfd);
    char buf[16] = {0};
    EXPECT_EQ(readlinkat(dfd, "l", buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "abc");
    EXPECT_ERRNO(readlinkat(999, "l", buf, sizeof(buf)), EBADF);
    close(dfd);
}

TEST(access_modes)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    EXPECT_OK(access(sct_path("f"), F_OK));
    EXPECT_OK(access(sct_path("f"), R_OK));
    EXPECT_OK(access(sct_scratch(), R_OK | X_OK));
    EXPECT_OK(access("/etc/passwd", R_OK));
    /* No execute bit at all: EACCES even for root. */
    EXPECT_ERRNO(access(sct_path("f"), X_OK), EACCES);
}

TEST(access_errors)
{
    EXPECT_ERRNO(access(sct_path("missing"), F_OK), ENOENT);
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    EXPECT_ERRNO(access(sct_path("f/x"), F_OK), ENOTDIR);
    EXPECT_ERRNO(syscall(SYS_access, sct_path("f"), 0x100), EINVAL);
    EXPECT_ERRNO(syscall(SYS_access, BAD_PTR, F_OK), EFAULT);
}

TEST(faccessat_dirfd)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int dfd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dfd);
    EXPECT_OK(syscall(SYS_faccessat, dfd, "f", R_OK));
    EXPECT_ERRNO(syscall(SYS_faccessat, dfd, "g", F_OK), ENOENT);
    EXPECT_ERRNO(syscall(SYS_faccessat, 999, "f", F_OK), EBADF);
    EXPECT_OK(syscall(SYS_faccessat, AT_FDCWD, sct_path("f"), F_OK));
    close(dfd);
}

TEST(faccessat2_flags)
{
    ASSERT_OK(symlink("dangling", sct_path("l")));
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, sct_path("l"), F_OK, 0), ENOENT);
    EXPECT_OK(syscall(SYS_faccessat2, AT_FDCWD, sct_path("l"), F_OK, AT_SYMLINK_NOFOLLOW));
    EXPECT_OK(syscall(SYS_faccessat2, AT_FDCWD, sct_scratch(), R_OK, AT_EACCESS));
    EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, sct_scratch(), F_OK, 0x40000000), EINVAL);
    int fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    EXPECT_OK(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
    close(fd);
}

TEST(utime_sets_whole_seconds_and_null_means_now)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    struct utimbuf b = {1000000000, 1100000000};
    EXPECT_OK(utime(p, &b));
    struct stat st;
    ASSERT_OK(stat(p, &st));
    EXPECT_EQ(st.st_atime, 1000000000);
    EXPECT_EQ(st.st_mtime, 1100000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 0);
    time_t before = time(NULL);
    EXPECT_OK(utime(p, NULL));
    ASSERT_OK(stat(p, &st));
    EXPECT_GE(st.st_mtime, before);
    EXPECT_ERRNO(utime(sct_path("missing"), NULL), ENOENT);
}

TEST(utimes_and_futimesat_take_microseconds)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    struct timeval tv[2] = {{1200000000, 5}, {1300000000, 999999}};
    EXPECT_OK(utimes(p, tv));
    struct stat st;
    ASSERT_OK(stat(p, &st));
    EXPECT_EQ(st.st_atim.tv_sec, 1200000000);
    EXPECT_EQ(st.st_atim.tv_nsec, 5000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 999999000);
    int dir = open(sct_path(""), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dir);
    tv[1].tv_sec = 1400000000;
    EXPECT_OK(futimesat(dir, "f", tv));
    ASSERT_OK(stat(p, &st));
    EXPECT_EQ(st.st_mtime, 1400000000);
    tv[0].tv_usec = 1000000;
    EXPECT_ERRNO(utimes(p, tv), EINVAL);
    EXPECT_ERRNO(futimesat(dir, "missing", NULL), ENOENT);
    close(dir);
}
