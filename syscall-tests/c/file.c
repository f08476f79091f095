/* open/openat/creat, read/write/readv/writev/pread64/pwrite64, close, lseek. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <linux/falloc.h>

static int read_all(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, n);
    close(fd);
    return (int)r;
}

TEST(creat_then_read_back)
{
    const char *p = sct_path("f");
    int fd = creat(p, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "hello", 5), 5);
    EXPECT_OK(close(fd));
    char buf[16] = {0};
    EXPECT_EQ(read_all(p, buf, sizeof(buf)), 5);
    EXPECT_STREQ(buf, "hello");
}

TEST(creat_truncates_existing)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "0123456789", 10));
    int fd = creat(p, 0644);
    ASSERT_OK(fd);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 0);
    close(fd);
}

TEST(creat_is_write_only)
{
    int fd = creat(sct_path("f"), 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    char c;
    EXPECT_ERRNO(read(fd, &c, 1), EBADF);
    close(fd);
}

TEST(open_creat_mode)
{
    int fd = open(sct_path("f"), O_CREAT | O_WRONLY, 0600);
    ASSERT_OK(fd);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 0700, 0600);
    EXPECT_EQ(st.st_mode & 0111, 0);
    close(fd);
}

TEST(open_excl_existing_eexist)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    EXPECT_ERRNO(open(p, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
}

TEST(open_excl_new_ok)
{
    int fd = open(sct_path("f"), O_CREAT | O_EXCL | O_RDWR, 0644);
    EXPECT_OK(fd);
    close(fd);
}

TEST(open_excl_dangling_symlink_eexist)
{
    const char *l = sct_path("link");
    ASSERT_OK(symlink(sct_path("target"), l));
    EXPECT_ERRNO(open(l, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    EXPECT_ERRNO(access(sct_path("target"), F_OK), ENOENT);
}

TEST(open_trunc)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "abcdef", 6));
    int fd = open(p, O_WRONLY | O_TRUNC);
    ASSERT_OK(fd);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 0);
    close(fd);
}

TEST(open_append_writes_at_end)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "abc", 3));
    int fd = open(p, O_RDWR | O_APPEND);
    ASSERT_OK(fd);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ(write(fd, "de", 2), 2);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
    close(fd);
    char buf[16] = {0};
    EXPECT_EQ(read_all(p, buf, sizeof(buf)), 5);
    EXPECT_STREQ(buf, "abcde");
}

TEST(open_directory_on_file_enotdir)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    EXPECT_ERRNO(open(p, O_RDONLY | O_DIRECTORY), ENOTDIR);
}

TEST(open_directory_on_dir_ok)
{
    int fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    EXPECT_OK(fd);
    close(fd);
}

TEST(open_nofollow_symlink_eloop)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    ASSERT_OK(symlink(p, sct_path("l")));
    EXPECT_ERRNO(open(sct_path("l"), O_RDONLY | O_NOFOLLOW), ELOOP);
    int fd = open(p, O_RDONLY | O_NOFOLLOW);
    EXPECT_OK(fd);
    close(fd);
}

TEST(open_cloexec_sets_fd_flag)
{
    int fd = open(sct_scratch(), O_RDONLY | O_CLOEXEC);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    close(fd);
    fd = open(sct_scratch(), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFD), 0);
    close(fd);
}

TEST(open_missing_enoent)
{
    EXPECT_ERRNO(open(sct_path("missing"), O_RDONLY), ENOENT);
    EXPECT_ERRNO(open(sct_path("missing/x"), O_RDONLY | O_CREAT, 0644), ENOENT);
}

TEST(open_empty_path_enoent)
{
    EXPECT_ERRNO(open("", O_RDONLY), ENOENT);
}

TEST(open_file_as_dir_component_enotdir)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    EXPECT_ERRNO(open(sct_path("f/x"), O_RDONLY), ENOTDIR);
}

TEST(open_dir_for_write_eisdir)
{
    EXPECT_ERRNO(open(sct_scratch(), O_WRONLY), EISDIR);
    EXPECT_ERRNO(open(sct_scratch(), O_RDWR), EISDIR);
}

TEST(open_creat_on_dir_eisdir)
{
    EXPECT_ERRNO(open(sct_scratch(), O_CREAT | O_RDWR, 0644), EISDIR);
}

TEST(open_name_too_long)
{
    char name[300];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    EXPECT_ERRNO(open(sct_path(name), O_RDONLY), ENAMETOOLONG);
    char *longp = malloc(PATH_MAX + 10);
    ASSERT_TRUE(longp != NULL);
    memset(longp, 'b', PATH_MAX + 9);
    longp[0] = '/';
    longp[PATH_MAX + 9] = 0;
    errno = 0;
    int r = open(longp, O_RDONLY);
    int e = errno;
    free(longp);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(e, ENAMETOOLONG);
}

TEST(open_bad_path_pointer_efault)
{
    EXPECT_ERRNO(syscall(SYS_open, BAD_PTR, O_RDONLY, 0), EFAULT);
    EXPECT_ERRNO(syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY, 0), EFAULT);
}

TEST(openat_relative_to_dirfd)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "rel", 3));
    int dfd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dfd);
    int fd = openat(dfd, "f", O_RDONLY);
    EXPECT_OK(fd);
    char buf[8] = {0};
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "rel");
    close(fd);
    close(dfd);
}

TEST(openat_bad_dirfd_ebadf)
{
    EXPECT_ERRNO(openat(999, "x", O_RDONLY), EBADF);
    /* An absolute path ignores dirfd. */
    int fd = openat(999, sct_scratch(), O_RDONLY);
    EXPECT_OK(fd);
    close(fd);
}

TEST(openat_file_dirfd_enotdir)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(openat(fd, "x", O_RDONLY), ENOTDIR);
    close(fd);
}

TEST(read_write_roundtrip)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "abcdef", 6), 6);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    char buf[16] = {0};
    EXPECT_EQ(read(fd, buf, 4), 4);
    EXPECT_STREQ(buf, "abcd");
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 2);
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
    close(fd);
}

TEST(read_write_large)
{
    size_t n = 1 << 20;
    char *a = malloc(n), *b = malloc(n);
    ASSERT_TRUE(a && b);
    for (size_t i = 0; i < n; i++)
        a[i] = (char)(i * 7 + (i >> 9));
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    if (fd >= 0) {
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fd, a + done, n - done);
            if (w <= 0)
                break;
            done += w;
        }
        EXPECT_EQ(done, n);
        EXPECT_EQ(pread(fd, b, n, 0), n);
        EXPECT_MEMEQ(a, b, n);
        close(fd);
    }
    free(a);
    free(b);
    EXPECT_OK(fd);
}

TEST(read_on_wronly_ebadf)
{
    int fd = open(sct_path("f"), O_WRONLY | O_CREAT, 0644);
    ASSERT_OK(fd);
    char c;
    EXPECT_ERRNO(read(fd, &c, 1), EBADF);
    close(fd);
}

TEST(write_on_rdonly_ebadf)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(write(fd, "y", 1), EBADF);
    EXPECT_ERRNO(pwrite(fd, "y", 1, 0), EBADF);
    close(fd);
}

TEST(read_write_bad_fd_ebadf)
{
    char c = 0;
    EXPECT_ERRNO(read(-1, &c, 1), EBADF);
    EXPECT_ERRNO(write(-1, &c, 1), EBADF);
    EXPECT_ERRNO(read(999, &c, 1), EBADF);
    int fd = open(sct_scratch(), O_RDONLY);
    ASSERT_OK(fd);
    close(fd);
    EXPECT_ERRNO(read(fd, &c, 1), EBADF);
}

TEST(read_bad_buffer_efault)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "data", 4));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_read, fd, BAD_PTR, 4), EFAULT);
    close(fd);
}

TEST(write_bad_buffer_efault)
{
    int fd = open(sct_path("f"), O_WRONLY | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_write, fd, BAD_PTR, 4), EFAULT);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 0);
    close(fd);
}

TEST(read_directory_eisdir)
{
    int fd = open(sct_scratch(), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    char buf[16];
    EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EISDIR);
    close(fd);
}

TEST(read_write_zero_length)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "", 0), 0);
    char c;
    EXPECT_EQ(read(fd, &c, 0), 0);
    close(fd);
}

TEST(writev_readv_scatter_gather)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    struct iovec w[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
    EXPECT_EQ(writev(fd, w, 3), 6);
    EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
    char a[3] = {0}, b[4] = {0};
    struct iovec r[2] = {{a, 2}, {b, 3}};
    EXPECT_EQ(readv(fd, r, 2), 5);
    EXPECT_STREQ(a, "ab");
    EXPECT_STREQ(b, "cde");
    close(fd);
}

TEST(readv_zero_iovcnt)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(readv(fd, NULL, 0), 0);
    EXPECT_EQ(writev(fd, NULL, 0), 0);
    close(fd);
}

TEST(writev_bad_iovcnt_einval)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    struct iovec v = {"a", 1};
    EXPECT_ERRNO(syscall(SYS_writev, fd, &v, -1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_writev, fd, &v, 1025), EINVAL);
    EXPECT_ERRNO(syscall(SYS_readv, fd, &v, -1), EINVAL);
    close(fd);
}

TEST(writev_bad_iov_pointer_efault)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_ERRNO(syscall(SYS_writev, fd, BAD_PTR, 1), EFAULT);
    close(fd);
}

TEST(pread_pwrite_keep_offset)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "0123456789", 10), 10);
    EXPECT_EQ(lseek(fd, 2, SEEK_SET), 2);
    char buf[4] = {0};
    EXPECT_EQ(pread(fd, buf, 3, 5), 3);
    EXPECT_STREQ(buf, "567");
    EXPECT_EQ(pwrite(fd, "XY", 2, 8), 2);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 2);
    EXPECT_EQ(pread(fd, buf, 3, 7), 3);
    EXPECT_STREQ(buf, "7XY");
    EXPECT_EQ(pread(fd, buf, 3, 100), 0);
    close(fd);
}

TEST(pwrite_beyond_eof_extends)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(pwrite(fd, "z", 1, 4096), 1);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 4097);
    char buf[4] = {1, 1, 1, 1};
    EXPECT_EQ(pread(fd, buf, 4, 100), 4);
    EXPECT_EQ(buf[0] | buf[1] | buf[2] | buf[3], 0);
    close(fd);
}

TEST(pread_negative_offset_einval)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    char c;
    EXPECT_ERRNO(pread(fd, &c, 1, -1), EINVAL);
    EXPECT_ERRNO(pwrite(fd, "a", 1, -1), EINVAL);
    close(fd);
}

TEST(pwrite_on_append_file_appends)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "abc", 3));
    int fd = open(p, O_WRONLY | O_APPEND);
    ASSERT_OK(fd);
    /* Linux ignores the offset of pwrite on an O_APPEND file. */
    EXPECT_EQ(pwrite(fd, "Z", 1, 0), 1);
    close(fd);
    char buf[8] = {0};
    EXPECT_EQ(read_all(p, buf, sizeof(buf)), 4);
    EXPECT_STREQ(buf, "abcZ");
}

TEST(close_bad_fd_ebadf)
{
    EXPECT_ERRNO(close(-1), EBADF);
    EXPECT_ERRNO(close(999), EBADF);
    int fd = open(sct_scratch(), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_OK(close(fd));
    EXPECT_ERRNO(close(fd), EBADF);
}

TEST(lseek_whence)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "0123456789", 10), 10);
    EXPECT_EQ(lseek(fd, 3, SEEK_SET), 3);
    EXPECT_EQ(lseek(fd, 2, SEEK_CUR), 5);
    EXPECT_EQ(lseek(fd, -1, SEEK_CUR), 4);
    EXPECT_EQ(lseek(fd, -2, SEEK_END), 8);
    EXPECT_EQ(lseek(fd, 0, SEEK_END), 10);
    EXPECT_EQ(lseek(fd, 5, SEEK_END), 15);
    char c = 0;
    EXPECT_EQ(lseek(fd, 7, SEEK_SET), 7);
    EXPECT_EQ(read(fd, &c, 1), 1);
    EXPECT_EQ(c, '7');
    close(fd);
}

TEST(lseek_negative_result_einval)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "abc", 3), 3);
    EXPECT_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
    EXPECT_ERRNO(lseek(fd, -4, SEEK_END), EINVAL);
    EXPECT_EQ(lseek(fd, 1, SEEK_SET), 1);
    EXPECT_ERRNO(lseek(fd, -2, SEEK_CUR), EINVAL);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 1);
    close(fd);
}

TEST(lseek_bad_whence_einval)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_ERRNO(lseek(fd, 0, 42), EINVAL);
    EXPECT_ERRNO(lseek(fd, 0, -1), EINVAL);
    close(fd);
}

TEST(lseek_bad_fd_ebadf)
{
    EXPECT_ERRNO(lseek(-1, 0, SEEK_SET), EBADF);
    EXPECT_ERRNO(lseek(999, 0, SEEK_SET), EBADF);
}

TEST(lseek_past_eof_write_makes_hole)
{
    int fd = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "a", 1), 1);
    EXPECT_EQ(lseek(fd, 10, SEEK_SET), 10);
    EXPECT_EQ(write(fd, "b", 1), 1);
    char buf[11];
    EXPECT_EQ(pread(fd, buf, 11, 0), 11);
    EXPECT_EQ(buf[0], 'a');
    EXPECT_EQ(buf[5], 0);
    EXPECT_EQ(buf[10], 'b');
    close(fd);
}

TEST(fallocate_grows_the_file_unless_keep_size)
{
    const char *p = sct_path("f");
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ASSERT_OK(fd);
    EXPECT_OK(fallocate(fd, 0, 0, 8192));
    struct stat st;
    ASSERT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 8192);
    char buf[16];
    memset(buf, 'x', sizeof(buf));
    EXPECT_EQ(pread(fd, buf, sizeof(buf), 4000), 16);
    EXPECT_EQ(buf[0], 0);
    EXPECT_EQ(buf[15], 0);
    EXPECT_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 4096));
    ASSERT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 8192);
    /* Inside the file: no change of size. */
    EXPECT_OK(fallocate(fd, 0, 0, 100));
    ASSERT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 8192);
    close(fd);
}

TEST(fallocate_punch_hole_zeroes_and_keeps_the_size)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "abcdefghij", 10));
    int fd = open(p, O_RDWR);
    ASSERT_OK(fd);
    EXPECT_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3));
    char buf[16] = {0};
    EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 10);
    EXPECT_MEMEQ(buf, "ab\0\0\0fghij", 10);
    /* A hole past the end changes nothing. */
    EXPECT_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 10));
    struct stat st;
    ASSERT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 10);
    close(fd);
}

TEST(fallocate_errors)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    int rw = open(p, O_RDWR), ro = open(p, O_RDONLY);
    EXPECT_ERRNO(fallocate(rw, 0, 0, 0), EINVAL);
    EXPECT_ERRNO(fallocate(rw, 0, -1, 10), EINVAL);
    EXPECT_ERRNO(fallocate(rw, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
    EXPECT_ERRNO(fallocate(ro, 0, 0, 10), EBADF);
    int pp[2];
    ASSERT_OK(pipe(pp));
    EXPECT_ERRNO(fallocate(pp[1], 0, 0, 10), ESPIPE);
    EXPECT_ERRNO(fallocate(999, 0, 0, 10), EBADF);
    close(pp[0]);
    close(pp[1]);
    close(rw);
    close(ro);
}
