/* Named pipes (mkfifo) and the other mknod(2) file types. */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TEST(mkfifo_makes_a_fifo_with_the_umask_applied)
{
    const char *p = sct_path("fifo");
    mode_t old = umask(022);
    EXPECT_OK(mkfifo(p, 0666));
    umask(old);
    struct stat st;
    ASSERT_OK(stat(p, &st));
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0644);
    EXPECT_ERRNO(mkfifo(p, 0666), EEXIST);
}

TEST(fifo_nonblocking_opens)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    /* No reader: a nonblocking writer is refused. */
    EXPECT_ERRNO(open(p, O_WRONLY | O_NONBLOCK), ENXIO);
    int r = open(p, O_RDONLY | O_NONBLOCK);
    ASSERT_OK(r);
    char buf[8] = {0};
    /* No writer yet: end of file, not EAGAIN. */
    EXPECT_EQ(read(r, buf, sizeof(buf)), 0);
    int w = open(p, O_WRONLY | O_NONBLOCK);
    ASSERT_OK(w);
    EXPECT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
    EXPECT_EQ(write(w, "hi", 2), 2);
    EXPECT_EQ(read(r, buf, sizeof(buf)), 2);
    EXPECT_STREQ(buf, "hi");
    close(w);
    EXPECT_EQ(read(r, buf, sizeof(buf)), 0);
    close(r);
}

TEST(fifo_blocking_open_waits_for_the_other_end)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    pid_t pid = fork();
    if (pid == 0) {
        pu_sleep_ms(100);
        int w = open(p, O_WRONLY);
        if (w < 0)
            _exit(1);
        write(w, "x", 1);
        _exit(0);
    }
    long long t0 = pu_now_ns();
    int r = open(p, O_RDONLY);
    ASSERT_OK(r);
    EXPECT_GE(pu_now_ns() - t0, 50 * 1000000LL);
    char c = 0;
    EXPECT_EQ(read(r, &c, 1), 1);
    EXPECT_EQ(c, 'x');
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(read(r, &c, 1), 0);
    close(r);
}

TEST(fifo_blocking_writer_waits_for_a_reader)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    pid_t pid = fork();
    if (pid == 0) {
        pu_sleep_ms(100);
        int r = open(p, O_RDONLY);
        char c = 0;
        if (r < 0 || read(r, &c, 1) != 1)
            _exit(1);
        _exit(c == 'y' ? 0 : 2);
    }
    long long t0 = pu_now_ns();
    int w = open(p, O_WRONLY);
    ASSERT_OK(w);
    EXPECT_GE(pu_now_ns() - t0, 50 * 1000000LL);
    EXPECT_EQ(write(w, "y", 1), 1);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    close(w);
}

TEST(fifo_opened_read_write_does_not_block)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    int fd = open(p, O_RDWR);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "abc", 3), 3);
    char buf[4] = {0};
    EXPECT_EQ(read(fd, buf, 3), 3);
    EXPECT_STREQ(buf, "abc");
    struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
    EXPECT_EQ(poll(&pfd, 1, 0), 1);
    EXPECT_EQ(pfd.revents, POLLOUT);
    close(fd);
}

TEST(fifo_data_goes_when_the_last_end_closes)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    int fd = open(p, O_RDWR);
    ASSERT_OK(fd);
    EXPECT_EQ(write(fd, "left", 4), 4);
    close(fd);
    fd = open(p, O_RDWR | O_NONBLOCK);
    ASSERT_OK(fd);
    char buf[8];
    EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
    close(fd);
}

TEST(fifo_fstat_is_the_inode_and_it_works_after_unlink)
{
    const char *p = sct_path("fifo");
    ASSERT_OK(mkfifo(p, 0600));
    int fd = open(p, O_RDWR);
    ASSERT_OK(fd);
    struct stat a, b;
    ASSERT_OK(stat(p, &a));
    ASSERT_OK(fstat(fd, &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_TRUE(S_ISFIFO(b.st_mode));
    EXPECT_OK(unlink(p));
    EXPECT_EQ(write(fd, "z", 1), 1);
    char c = 0;
    EXPECT_EQ(read(fd, &c, 1), 1);
    EXPECT_EQ(c, 'z');
    EXPECT_ERRNO(lseek(fd, 0, SEEK_SET), ESPIPE);
    close(fd);
}

TEST(mknod_file_types)
{
    const char *reg = sct_path("reg"), *sock = sct_path("sock");
    EXPECT_OK(mknod(reg, S_IFREG | 0600, 0));
    EXPECT_OK(mknod(sct_path("plain"), 0600, 0)); /* type 0: a regular file */
    EXPECT_OK(mknod(sock, S_IFSOCK | 0600, 0));
    struct stat st;
    ASSERT_OK(stat(reg, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
    ASSERT_OK(stat(sct_path("plain"), &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    ASSERT_OK(stat(sock, &st));
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_ERRNO(open(sock, O_RDWR), ENXIO);
    EXPECT_ERRNO(mknod(reg, S_IFIFO | 0600, 0), EEXIST);
    EXPECT_ERRNO(mknod(sct_path("d"), S_IFDIR | 0700, 0), EPERM);
    EXPECT_ERRNO(mknod(sct_path("bad"), 0170000 | 0600, 0), EINVAL);
    EXPECT_ERRNO(mknod(sct_path("no/such"), S_IFIFO | 0600, 0), ENOENT);
}

TEST(mknodat_device_node_keeps_its_numbers)
{
    int dir = open(sct_path(""), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(dir);
    EXPECT_OK(mknodat(dir, "null2", S_IFCHR | 0600, makedev(1, 3)));
    EXPECT_OK(mknodat(dir, "blk", S_IFBLK | 0600, makedev(7, 0)));
    struct stat st;
    ASSERT_OK(fstatat(dir, "null2", &st, 0));
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1);
    EXPECT_EQ(minor(st.st_rdev), 3);
    ASSERT_OK(fstatat(dir, "blk", &st, 0));
    EXPECT_TRUE(S_ISBLK(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 7);
    close(dir);
}
