/* Advisory locks: flock(2), fcntl(2) F_GETLK/F_SETLK/F_SETLKW (POSIX,
 * owned by the process) and F_OFD_* (owned by the open file description). */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>

static int open_rw(const char *p)
{
    return open(p, O_RDWR | O_CREAT, 0644);
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {0};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK for (type, start, len); returns the answer in *out. */
static int getlk(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
    memset(out, 0, sizeof(*out));
    out->l_type = type;
    out->l_whence = SEEK_SET;
    out->l_start = start;
    out->l_len = len;
    return fcntl(fd, cmd, out);
}

/* Runs fn(path) in a child and returns its exit code (or 1000 + signal). */
static int in_child(const char *p, int (*fn)(const char *))
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(p));
    return pu_code(pu_wait(pid));
}

TEST(flock_exclusive_excludes_other_descriptions)
{
    const char *p = sct_path("f");
    int a = open_rw(p), b = open_rw(p);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_OK(flock(a, LOCK_EX));
    EXPECT_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    EXPECT_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    EXPECT_OK(flock(a, LOCK_EX)); /* again: no change */
    EXPECT_OK(flock(a, LOCK_UN));
    EXPECT_OK(flock(b, LOCK_EX | LOCK_NB));
    close(a);
    close(b);
}

TEST(flock_shared_locks_coexist)
{
    const char *p = sct_path("f");
    int a = open_rw(p), b = open_rw(p), c = open_rw(p);
    EXPECT_OK(flock(a, LOCK_SH));
    EXPECT_OK(flock(b, LOCK_SH | LOCK_NB));
    EXPECT_ERRNO(flock(c, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    /* A failed upgrade has already dropped the shared lock, as on Linux. */
    EXPECT_ERRNO(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    EXPECT_OK(flock(b, LOCK_EX | LOCK_NB));
    close(a);
    close(b);
    close(c);
}

TEST(flock_belongs_to_the_open_file_description)
{
    const char *p = sct_path("f");
    int a = open_rw(p), other = open_rw(p);
    int a2 = dup(a);
    ASSERT_OK(a2);
    EXPECT_OK(flock(a, LOCK_EX));
    EXPECT_OK(flock(a2, LOCK_EX | LOCK_NB)); /* same description */
    close(a);
    EXPECT_ERRNO(flock(other, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    close(a2); /* the last fd of the description: the lock goes */
    EXPECT_OK(flock(other, LOCK_EX | LOCK_NB));
    close(other);
}

TEST(flock_inherited_across_fork_until_both_close)
{
    const char *p = sct_path("f");
    int a = open_rw(p), other = open_rw(p);
    ASSERT_OK(flock(a, LOCK_EX));
    int tochild[2];
    ASSERT_OK(pipe(tochild));
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(tochild[1]);
        read(tochild[0], &c, 1);
        _exit(0); /* closes its copy of a */
    }
    close(tochild[0]);
    close(a);
    /* The child still holds the description. */
    EXPECT_ERRNO(flock(other, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    write(tochild[1], "x", 1);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_OK(flock(other, LOCK_EX | LOCK_NB));
    close(tochild[1]);
    close(other);
}

TEST(flock_waits_for_the_holder)
{
    const char *p = sct_path("f");
    int a = open_rw(p);
    ASSERT_OK(flock(a, LOCK_EX));
    pid_t pid = fork();
    if (pid == 0) {
        int b = open_rw(p);
        long long t0 = pu_now_ns();
        if (flock(b, LOCK_EX) != 0)
            _exit(1);
        _exit(pu_now_ns() - t0 >= 50 * 1000000LL ? 0 : 2);
    }
    pu_sleep_ms(150);
    EXPECT_OK(flock(a, LOCK_UN));
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    close(a);
}

TEST(flock_errors)
{
    const char *p = sct_path("f");
    int a = open_rw(p);
    EXPECT_ERRNO(flock(a, 0), EINVAL);
    EXPECT_ERRNO(flock(a, LOCK_SH | LOCK_EX), EINVAL);
    EXPECT_ERRNO(flock(999, LOCK_SH), EBADF);
    int path = open(p, O_PATH);
    ASSERT_OK(path);
    EXPECT_ERRNO(flock(path, LOCK_SH), EBADF);
    close(path);
    close(a);
}

TEST(flock_and_fcntl_locks_do_not_interact)
{
    const char *p = sct_path("f");
    int a = open_rw(p);
    ASSERT_OK(flock(a, LOCK_EX));
    pid_t pid = fork();
    if (pid == 0) {
        int b = open_rw(p);
        _exit(setlk(b, F_SETLK, F_WRLCK, 0, 0) == 0 ? 0 : 1);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    close(a);
}

static int child_conflicts(const char *p)
{
    int fd = open_rw(p);
    if (setlk(fd, F_SETLK, F_WRLCK, 5, 1) != -1 || errno != EAGAIN)
        return 1;
    if (setlk(fd, F_SETLK, F_RDLCK, 5, 1) != -1 || errno != EAGAIN)
        return 2;
    if (setlk(fd, F_SETLK, F_WRLCK, 10, 10) != 0) /* just past the lock */
        return 3;
    struct flock fl;
    if (getlk(fd, F_GETLK, F_RDLCK, 0, 100, &fl) != 0)
        return 4;
    if (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 10 || fl.l_pid != getppid())
        return 5;
    return 0;
}

TEST(fcntl_write_lock_excludes_other_processes)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
    EXPECT_EQ(in_child(p, child_conflicts), 0);
    close(fd);
}

static int child_reads_share(const char *p)
{
    int fd = open_rw(p);
    if (setlk(fd, F_SETLK, F_RDLCK, 0, 0) != 0)
        return 1;
    if (setlk(fd, F_SETLK, F_WRLCK, 0, 1) != -1 || errno != EAGAIN)
        return 2;
    return 0;
}

TEST(fcntl_read_locks_share)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(setlk(fd, F_SETLK, F_RDLCK, 0, 0));
    EXPECT_EQ(in_child(p, child_reads_share), 0);
    close(fd);
}

TEST(fcntl_own_locks_never_conflict)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    EXPECT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    EXPECT_OK(setlk(fd, F_SETLK, F_RDLCK, 50, 10));
    struct flock fl;
    EXPECT_OK(getlk(fd, F_GETLK, F_WRLCK, 0, 0, &fl));
    EXPECT_EQ(fl.l_type, F_UNLCK);
    close(fd);
}

static int child_sees_split(const char *p)
{
    int fd = open_rw(p);
    struct flock fl;
    if (getlk(fd, F_GETLK, F_WRLCK, 10, 10, &fl) != 0 || fl.l_type != F_UNLCK)
        return 1;
    /* Relocking 40..49 for reading split the write lock 20..99. */
    if (getlk(fd, F_GETLK, F_WRLCK, 15, 100, &fl) != 0 || fl.l_type != F_WRLCK || fl.l_start != 20 ||
        fl.l_len != 20)
        return 2;
    if (getlk(fd, F_GETLK, F_RDLCK, 40, 10, &fl) != 0 || fl.l_type != F_UNLCK)
        return 5;
    /* The shared part in the middle lets readers in. */
    if (setlk(fd, F_SETLK, F_RDLCK, 40, 5) != 0)
        return 3;
    if (setlk(fd, F_SETLK, F_RDLCK, 30, 5) != -1)
        return 4;
    return 0;
}

TEST(fcntl_unlock_splits_and_relock_changes_type)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    ASSERT_OK(setlk(fd, F_SETLK, F_UNLCK, 10, 10));
    ASSERT_OK(setlk(fd, F_SETLK, F_RDLCK, 40, 10));
    EXPECT_EQ(in_child(p, child_sees_split), 0);
    close(fd);
}

static int child_locks_all(const char *p)
{
    int fd = open_rw(p);
    return setlk(fd, F_SETLK, F_WRLCK, 0, 0) == 0 ? 0 : 1;
}

TEST(fcntl_locks_go_when_any_fd_of_the_file_closes)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
    EXPECT_EQ(in_child(p, child_locks_all), 1);
    int other = open(p, O_RDONLY);
    ASSERT_OK(other);
    close(other); /* POSIX: this drops the locks taken through fd too */
    EXPECT_EQ(in_child(p, child_locks_all), 0);
    close(fd);
}

TEST(fcntl_locks_go_when_the_process_exits)
{
    const char *p = sct_path("f");
    int sync[2];
    ASSERT_OK(pipe(sync));
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open_rw(p);
        setlk(fd, F_SETLK, F_WRLCK, 0, 0);
        write(sync[1], "x", 1);
        pu_sleep_ms(100);
        _exit(0);
    }
    char c;
    ASSERT_EQ(read(sync[0], &c, 1), 1);
    int fd = open_rw(p);
    EXPECT_ERRNO(setlk(fd, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
    /* F_SETLKW waits for the exit. */
    EXPECT_OK(setlk(fd, F_SETLKW, F_WRLCK, 0, 1));
    pu_wait(pid);
    close(fd);
    close(sync[0]);
    close(sync[1]);
}

TEST(fcntl_setlkw_detects_deadlock)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
    int sync[2];
    ASSERT_OK(pipe(sync));
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open_rw(p);
        if (setlk(cfd, F_SETLK, F_WRLCK, 1, 1) != 0)
            _exit(1);
        write(sync[1], "x", 1);
        /* Blocks on the parent's byte 0. */
        _exit(setlk(cfd, F_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 2);
    }
    char c;
    ASSERT_EQ(read(sync[0], &c, 1), 1);
    pu_sleep_ms(100); /* let the child block */
    EXPECT_ERRNO(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
    EXPECT_OK(setlk(fd, F_SETLK, F_UNLCK, 0, 1));
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    close(fd);
    close(sync[0]);
    close(sync[1]);
}

TEST(fcntl_lock_argument_errors)
{
    const char *p = sct_path("f");
    int rd = open(p, O_RDONLY | O_CREAT, 0644), wr = open(p, O_WRONLY);
    ASSERT_OK(rd);
    ASSERT_OK(wr);
    EXPECT_ERRNO(setlk(rd, F_SETLK, F_WRLCK, 0, 1), EBADF);
    EXPECT_ERRNO(setlk(wr, F_SETLK, F_RDLCK, 0, 1), EBADF);
    EXPECT_OK(setlk(rd, F_SETLK, F_RDLCK, 0, 1));
    EXPECT_ERRNO(setlk(rd, F_SETLK, 42, 0, 1), EINVAL);
    EXPECT_ERRNO(setlk(rd, F_SETLK, F_RDLCK, -5, 1), EINVAL);
    EXPECT_ERRNO(setlk(rd, F_SETLK, F_RDLCK, 2, -5), EINVAL);
    struct flock fl = {0};
    fl.l_type = F_RDLCK;
    fl.l_whence = 7;
    EXPECT_ERRNO(fcntl(rd, F_SETLK, &fl), EINVAL);
    EXPECT_ERRNO(fcntl(rd, F_SETLK, (void *)8), EFAULT);
    close(rd);
    close(wr);
}

TEST(fcntl_lock_ranges_from_seek_cur_and_negative_length)
{
    const char *p = sct_path("f");
    int fd = open_rw(p);
    ASSERT_OK(sct_write_file(p, "0123456789", 10));
    ASSERT_EQ(lseek(fd, 6, SEEK_SET), 6);
    struct flock fl = {0};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_CUR;
    fl.l_start = 0;
    fl.l_len = -4; /* bytes 2..5 */
    ASSERT_OK(fcntl(fd, F_SETLK, &fl));
    pid_t pid = fork();
    if (pid == 0) {
        int c = open_rw(p);
        struct flock g;
        if (getlk(c, F_GETLK, F_WRLCK, 0, 0, &g) != 0)
            _exit(1);
        _exit(g.l_type == F_WRLCK && g.l_start == 2 && g.l_len == 4 ? 0 : 2);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    close(fd);
}

TEST(ofd_locks_belong_to_the_description)
{
    const char *p = sct_path("f");
    int a = open_rw(p), b = open_rw(p);
    EXPECT_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
    /* The same process, another description: a conflict. */
    EXPECT_ERRNO(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1), EAGAIN);
    struct flock fl;
    EXPECT_OK(getlk(b, F_OFD_GETLK, F_RDLCK, 0, 0, &fl));
    EXPECT_EQ(fl.l_type, F_WRLCK);
    EXPECT_EQ(fl.l_pid, -1);
    /* Closing another fd of the file does not drop it (unlike POSIX). */
    close(open(p, O_RDONLY));
    EXPECT_ERRNO(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1), EAGAIN);
    /* A POSIX lock of this process conflicts with it too. */
    EXPECT_ERRNO(setlk(b, F_SETLK, F_WRLCK, 5, 1), EAGAIN);
    close(a);
    EXPECT_OK(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1));
    close(b);
}

TEST(ofd_lock_requires_zero_pid)
{
    const char *p = sct_path("f");
    int a = open_rw(p);
    struct flock fl = {0};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_pid = getpid();
    EXPECT_ERRNO(fcntl(a, F_OFD_SETLK, &fl), EINVAL);
    close(a);
}
