/* inotify: watches, the common events, and the fd's read/poll rules. */
#define _GNU_SOURCE
#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

struct ev {
    int wd;
    uint32_t mask;
    uint32_t cookie;
    char name[64];
};

/* Reads every queued event (nonblocking) into evs; returns how many. */
static int drain(int fd, struct ev *evs, int max)
{
    char buf[4096] __attribute__((aligned(8)));
    int n = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0)
            return n;
        for (ssize_t off = 0; off < r;) {
            struct inotify_event *e = (struct inotify_event *)(buf + off);
            if (n < max) {
                evs[n].wd = e->wd;
                evs[n].mask = e->mask;
                evs[n].cookie = e->cookie;
                snprintf(evs[n].name, sizeof(evs[n].name), "%s", e->len ? e->name : "");
                n++;
            }
            off += sizeof(*e) + e->len;
        }
    }
}

static int new_fd(void)
{
    return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

TEST(inotify_create_open_modify_close_in_a_directory)
{
    int fd = new_fd();
    ASSERT_OK(fd);
    int wd = inotify_add_watch(fd, sct_path(""), IN_ALL_EVENTS);
    ASSERT_OK(wd);
    int f = open(sct_path("f"), O_WRONLY | O_CREAT, 0644);
    ASSERT_OK(f);
    EXPECT_EQ(write(f, "abc", 3), 3);
    close(f);
    struct ev e[8];
    int n = drain(fd, e, 8);
    ASSERT_EQ(n, 4);
    uint32_t want[4] = {IN_CREATE, IN_OPEN, IN_MODIFY, IN_CLOSE_WRITE};
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(e[i].wd, wd);
        EXPECT_EQ(e[i].mask, want[i]);
        EXPECT_STREQ(e[i].name, "f");
    }
    close(fd);
}

TEST(inotify_watch_on_a_file_reports_without_names)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "data", 4));
    int fd = new_fd();
    int wd = inotify_add_watch(fd, p, IN_OPEN | IN_ACCESS | IN_CLOSE | IN_ATTRIB);
    ASSERT_OK(wd);
    int f = open(p, O_RDONLY);
    char buf[8];
    EXPECT_EQ(read(f, buf, sizeof(buf)), 4);
    close(f);
    EXPECT_OK(chmod(p, 0600));
    struct ev e[8];
    int n = drain(fd, e, 8);
    ASSERT_EQ(n, 4);
    uint32_t want[4] = {IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE, IN_ATTRIB};
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(e[i].mask, want[i]);
        EXPECT_STREQ(e[i].name, "");
    }
    close(fd);
}

TEST(inotify_unlink_reports_delete_and_delete_self)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    int fd = new_fd();
    int dwd = inotify_add_watch(fd, sct_path(""), IN_DELETE);
    int fwd = inotify_add_watch(fd, p, IN_ATTRIB | IN_DELETE_SELF);
    ASSERT_OK(dwd);
    ASSERT_OK(fwd);
    EXPECT_OK(unlink(p));
    struct ev e[8];
    int n = drain(fd, e, 8);
    ASSERT_EQ(n, 4);
    /* The file's watch first (its last link went, so did the file), then
     * the directory's. */
    EXPECT_EQ(e[0].wd, fwd);
    EXPECT_EQ(e[0].mask, IN_ATTRIB);
    EXPECT_EQ(e[1].wd, fwd);
    EXPECT_EQ(e[1].mask, IN_DELETE_SELF);
    EXPECT_EQ(e[2].wd, fwd);
    EXPECT_EQ(e[2].mask, IN_IGNORED);
    EXPECT_EQ(e[3].wd, dwd);
    EXPECT_EQ(e[3].mask, IN_DELETE);
    EXPECT_STREQ(e[3].name, "f");
    /* The watch is gone. */
    EXPECT_ERRNO(inotify_rm_watch(fd, fwd), EINVAL);
    close(fd);
}

TEST(inotify_rename_pairs_moves_by_cookie)
{
    const char *a = sct_path("a"), *b = sct_path("b");
    ASSERT_OK(sct_write_file(a, "x", 1));
    int fd = new_fd();
    int wd = inotify_add_watch(fd, sct_path(""), IN_MOVE);
    ASSERT_OK(wd);
    EXPECT_OK(rename(a, b));
    struct ev e[4];
    int n = drain(fd, e, 4);
    ASSERT_EQ(n, 2);
    EXPECT_EQ(e[0].mask, IN_MOVED_FROM);
    EXPECT_STREQ(e[0].name, "a");
    EXPECT_EQ(e[1].mask, IN_MOVED_TO);
    EXPECT_STREQ(e[1].name, "b");
    EXPECT_NE(e[0].cookie, 0);
    EXPECT_EQ(e[0].cookie, e[1].cookie);
    close(fd);
}

TEST(inotify_directories_carry_isdir)
{
    int fd = new_fd();
    ASSERT_OK(inotify_add_watch(fd, sct_path(""), IN_CREATE | IN_DELETE));
    EXPECT_OK(mkdir(sct_path("sub"), 0755));
    EXPECT_OK(rmdir(sct_path("sub")));
    struct ev e[4];
    int n = drain(fd, e, 4);
    ASSERT_EQ(n, 2);
    EXPECT_EQ(e[0].mask, IN_CREATE | IN_ISDIR);
    EXPECT_EQ(e[1].mask, IN_DELETE | IN_ISDIR);
    EXPECT_STREQ(e[1].name, "sub");
    close(fd);
}

TEST(inotify_watch_management_and_errors)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    int fd = new_fd();
    int wd = inotify_add_watch(fd, p, IN_MODIFY);
    ASSERT_OK(wd);
    /* The same file again: the same watch, its mask replaced. */
    EXPECT_EQ(inotify_add_watch(fd, p, IN_ATTRIB), wd);
    EXPECT_ERRNO(inotify_add_watch(fd, p, IN_ATTRIB | IN_MASK_CREATE), EEXIST);
    EXPECT_ERRNO(inotify_add_watch(fd, p, 0), EINVAL);
    EXPECT_ERRNO(inotify_add_watch(fd, p, IN_MODIFY | IN_ONLYDIR), ENOTDIR);
    EXPECT_ERRNO(inotify_add_watch(fd, sct_path("missing"), IN_MODIFY), ENOENT);
    int notino = open(p, O_RDONLY);
    EXPECT_ERRNO(inotify_add_watch(notino, p, IN_MODIFY), EINVAL);
    close(notino);
    EXPECT_OK(inotify_rm_watch(fd, wd));
    EXPECT_ERRNO(inotify_rm_watch(fd, wd), EINVAL);
    struct ev e[2];
    ASSERT_EQ(drain(fd, e, 2), 1);
    EXPECT_EQ(e[0].mask, IN_IGNORED);
    EXPECT_ERRNO(inotify_init1(IN_NONBLOCK | 1), EINVAL);
    close(fd);
}

TEST(inotify_read_rules_poll_and_fionread)
{
    int fd = new_fd();
    char buf[64];
    EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
    ASSERT_OK(inotify_add_watch(fd, sct_path(""), IN_CREATE));
    struct pollfd pfd = {fd, POLLIN, 0};
    EXPECT_EQ(poll(&pfd, 1, 0), 0);
    ASSERT_OK(sct_write_file(sct_path("named"), "x", 1));
    EXPECT_EQ(poll(&pfd, 1, 0), 1);
    int avail = 0;
    EXPECT_OK(ioctl(fd, FIONREAD, &avail));
    EXPECT_EQ(avail, (int)(sizeof(struct inotify_event) + 16));
    /* A buffer too small for the first event. */
    EXPECT_ERRNO(read(fd, buf, sizeof(struct inotify_event)), EINVAL);
    EXPECT_EQ(read(fd, buf, sizeof(buf)), avail);
    close(fd);
}

TEST(inotify_oneshot_and_coalescing)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    int fd = new_fd();
    int wd = inotify_add_watch(fd, p, IN_MODIFY);
    int f = open(p, O_WRONLY);
    /* Identical events back to back are merged. */
    EXPECT_EQ(write(f, "a", 1), 1);
    EXPECT_EQ(write(f, "b", 1), 1);
    struct ev e[4];
    EXPECT_EQ(drain(fd, e, 4), 1);
    EXPECT_OK(inotify_rm_watch(fd, wd));
    drain(fd, e, 4);
    wd = inotify_add_watch(fd, p, IN_MODIFY | IN_ONESHOT);
    ASSERT_OK(wd);
    EXPECT_EQ(write(f, "c", 1), 1);
    EXPECT_EQ(drain(fd, e, 4), 2);
    EXPECT_EQ(e[0].mask, IN_MODIFY);
    EXPECT_EQ(e[1].mask, IN_IGNORED);
    EXPECT_EQ(write(f, "d", 1), 1);
    EXPECT_EQ(drain(fd, e, 4), 0);
    close(f);
    close(fd);
}
