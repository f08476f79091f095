/* Data moved between files by the kernel: sendfile, splice, tee, vmsplice,
 * copy_file_range; pipe capacity (F_GETPIPE_SZ/F_SETPIPE_SZ). */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

static int file_with(const char *p, const char *data)
{
    if (sct_write_file(p, data, strlen(data)) != 0)
        return -1;
    return open(p, O_RDWR);
}

TEST(sendfile_file_to_pipe_uses_and_advances_the_offset)
{
    int in = file_with(sct_path("in"), "hello, sendfile");
    ASSERT_OK(in);
    int p[2];
    ASSERT_OK(pipe(p));
    EXPECT_EQ(lseek(in, 7, SEEK_SET), 7);
    EXPECT_EQ(sendfile(p[1], in, NULL, 100), 8);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 15);
    char buf[32] = {0};
    EXPECT_EQ(read(p[0], buf, sizeof(buf)), 8);
    EXPECT_STREQ(buf, "sendfile");
    close(in);
    close(p[0]);
    close(p[1]);
}

TEST(sendfile_with_offset_leaves_the_file_offset)
{
    int in = file_with(sct_path("in"), "0123456789");
    int out = open(sct_path("out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    ASSERT_OK(in);
    ASSERT_OK(out);
    off_t off = 2;
    EXPECT_EQ(sendfile(out, in, &off, 5), 5);
    EXPECT_EQ(off, 7);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 0);
    /* At the end of the input it returns 0. */
    off = 10;
    EXPECT_EQ(sendfile(out, in, &off, 5), 0);
    char buf[16] = {0};
    EXPECT_EQ(pread(out, buf, sizeof(buf), 0), 5);
    EXPECT_STREQ(buf, "23456");
    close(in);
    close(out);
}

TEST(sendfile_errors)
{
    int in = file_with(sct_path("in"), "abc");
    int app = open(sct_path("out"), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int ro = open(sct_path("in"), O_RDONLY);
    int p[2];
    ASSERT_OK(pipe(p));
    EXPECT_ERRNO(sendfile(app, in, NULL, 3), EINVAL);
    EXPECT_ERRNO(sendfile(ro, in, NULL, 3), EBADF);
    EXPECT_ERRNO(sendfile(p[1], 999, NULL, 3), EBADF);
    off_t off = 0;
    EXPECT_ERRNO(sendfile(ro, p[0], &off, 3), ESPIPE);
    off = -1;
    EXPECT_ERRNO(sendfile(p[1], in, &off, 3), EINVAL);
    close(in);
    close(app);
    close(ro);
    close(p[0]);
    close(p[1]);
}

TEST(splice_file_to_pipe_and_pipe_to_file)
{
    int in = file_with(sct_path("in"), "splice me please");
    int out = open(sct_path("out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    int p[2];
    ASSERT_OK(pipe(p));
    loff_t off = 7;
    EXPECT_EQ(splice(in, &off, p[1], NULL, 2, 0), 2);
    EXPECT_EQ(off, 9);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 0);
    EXPECT_EQ(splice(in, NULL, p[1], NULL, 6, 0), 6);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 6);
    EXPECT_EQ(splice(p[0], NULL, out, NULL, 100, 0), 8);
    char buf[16] = {0};
    EXPECT_EQ(pread(out, buf, sizeof(buf), 0), 8);
    EXPECT_STREQ(buf, "mesplice");
    close(in);
    close(out);
    close(p[0]);
    close(p[1]);
}

TEST(splice_needs_a_pipe_and_no_offset_on_it)
{
    int a = file_with(sct_path("a"), "x");
    int b = open(sct_path("b"), O_RDWR | O_CREAT, 0644);
    int p[2];
    ASSERT_OK(pipe(p));
    EXPECT_ERRNO(splice(a, NULL, b, NULL, 1, 0), EINVAL);
    loff_t off = 0;
    EXPECT_ERRNO(splice(p[0], &off, b, NULL, 1, 0), ESPIPE);
    EXPECT_ERRNO(splice(a, NULL, p[1], &off, 1, 0), ESPIPE);
    /* An empty pipe with SPLICE_F_NONBLOCK. */
    EXPECT_ERRNO(splice(p[0], NULL, b, NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    /* All writers gone: end of data. */
    close(p[1]);
    EXPECT_EQ(splice(p[0], NULL, b, NULL, 1, 0), 0);
    close(a);
    close(b);
    close(p[0]);
}

TEST(tee_copies_without_consuming)
{
    int a[2], b[2];
    ASSERT_OK(pipe(a));
    ASSERT_OK(pipe(b));
    ASSERT_EQ(write(a[1], "teedata", 7), 7);
    EXPECT_EQ(tee(a[0], b[1], 3, 0), 3);
    char buf[16] = {0};
    EXPECT_EQ(read(b[0], buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "tee");
    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(read(a[0], buf, sizeof(buf)), 7);
    EXPECT_STREQ(buf, "teedata");
    EXPECT_ERRNO(tee(a[0], b[1], 3, SPLICE_F_NONBLOCK), EAGAIN);
    int f = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    EXPECT_ERRNO(tee(f, b[1], 3, 0), EINVAL);
    EXPECT_ERRNO(tee(a[0], a[1], 3, 0), EINVAL);
    close(f);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

TEST(vmsplice_writes_user_memory_into_a_pipe)
{
    int p[2];
    ASSERT_OK(pipe(p));
    char x[] = "vm", y[] = "splice";
    struct iovec iov[2] = {{x, 2}, {y, 6}};
    EXPECT_EQ(vmsplice(p[1], iov, 2, 0), 8);
    char buf[16] = {0};
    EXPECT_EQ(read(p[0], buf, sizeof(buf)), 8);
    EXPECT_STREQ(buf, "vmsplice");
    int f = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    EXPECT_ERRNO(vmsplice(f, iov, 2, 0), EBADF);
    close(f);
    close(p[0]);
    close(p[1]);
}

TEST(copy_file_range_copies_between_files)
{
    int in = file_with(sct_path("in"), "copy_file_range!");
    int out = open(sct_path("out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    loff_t oin = 5, oout = 2;
    EXPECT_EQ(copy_file_range(in, &oin, out, &oout, 100, 0), 11);
    EXPECT_EQ(oin, 16);
    EXPECT_EQ(oout, 13);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 0);
    EXPECT_EQ(lseek(out, 0, SEEK_CUR), 0);
    /* Without offsets the file offsets move. */
    EXPECT_EQ(copy_file_range(in, NULL, out, NULL, 4, 0), 4);
    EXPECT_EQ(lseek(in, 0, SEEK_CUR), 4);
    EXPECT_EQ(lseek(out, 0, SEEK_CUR), 4);
    char buf[32] = {0};
    EXPECT_EQ(pread(out, buf, sizeof(buf), 0), 13);
    EXPECT_MEMEQ(buf, "copyle_range!", 13);
    close(in);
    close(out);
}

TEST(copy_file_range_errors)
{
    int in = file_with(sct_path("in"), "0123456789");
    int app = open(sct_path("out"), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int p[2];
    ASSERT_OK(pipe(p));
    EXPECT_ERRNO(copy_file_range(in, NULL, in, NULL, 5, 1), EINVAL);
    EXPECT_ERRNO(copy_file_range(in, NULL, app, NULL, 5, 0), EBADF);
    EXPECT_ERRNO(copy_file_range(in, NULL, p[1], NULL, 5, 0), EINVAL);
    /* Overlapping ranges of one file. */
    loff_t a = 0, b = 3;
    EXPECT_ERRNO(copy_file_range(in, &a, in, &b, 5, 0), EINVAL);
    int dir = open(sct_path(""), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dir);
    EXPECT_ERRNO(copy_file_range(dir, NULL, in, NULL, 5, 0), EISDIR);
    close(dir);
    close(in);
    close(app);
    close(p[0]);
    close(p[1]);
}

TEST(pipe_size_can_be_read_and_changed)
{
    int p[2];
    ASSERT_OK(pipe(p));
    EXPECT_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
    /* Rounded up to a power of two of pages. */
    EXPECT_EQ(fcntl(p[1], F_SETPIPE_SZ, 5000), 8192);
    EXPECT_EQ(fcntl(p[0], F_GETPIPE_SZ), 8192);
    /* A nonblocking writer now fills it at 8 KiB. */
    ASSERT_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
    static char big[20000];
    EXPECT_EQ(write(p[1], big, sizeof(big)), 8192);
    EXPECT_ERRNO(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    int f = open(sct_path("f"), O_RDWR | O_CREAT, 0644);
    EXPECT_ERRNO(fcntl(f, F_GETPIPE_SZ), EBADF);
    close(f);
    close(p[0]);
    close(p[1]);
}
