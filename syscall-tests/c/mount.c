/* mount(2) and umount2(2) by root: tmpfs, bind mounts, proc, propagation. */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char *in(const char *dir, const char *name)
{
    static char buf[4][600];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

TEST(mount_tmpfs_then_umount)
{
    const char *dir = sct_path("mnt");
    ASSERT_OK(mkdir(dir, 0755));
    ASSERT_OK(sct_write_file(in(dir, "under"), "u", 1));
    ASSERT_OK(mount("none", dir, "tmpfs", 0, "mode=0700"));
    struct stat st;
    ASSERT_OK(stat(dir, &st));
    EXPECT_EQ(st.st_mode & 07777, 0700);
    /* The directory's own file is covered. */
    EXPECT_ERRNO(access(in(dir, "under"), F_OK), ENOENT);
    ASSERT_OK(sct_write_file(in(dir, "on"), "o", 1));
    EXPECT_OK(access(in(dir, "on"), F_OK));
    /* `..` of the mount's root is the directory above the mount point. */
    char up[700];
    snprintf(up, sizeof(up), "%s/../mnt/on", dir);
    EXPECT_OK(access(up, F_OK));
    EXPECT_OK(umount2(dir, 0));
    EXPECT_ERRNO(access(in(dir, "on"), F_OK), ENOENT);
    EXPECT_OK(access(in(dir, "under"), F_OK));
    EXPECT_ERRNO(umount2(dir, 0), EINVAL);
}

TEST(bind_mount_shows_and_shares_the_source)
{
    const char *a = sct_path("a"), *b = sct_path("b");
    ASSERT_OK(mkdir(a, 0755));
    ASSERT_OK(mkdir(b, 0755));
    ASSERT_OK(sct_write_file(in(a, "f"), "from a", 6));
    ASSERT_OK(mount(a, b, NULL, MS_BIND, NULL));
    char buf[16] = {0};
    int fd = open(in(b, "f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 6);
    close(fd);
    EXPECT_STREQ(buf, "from a");
    ASSERT_OK(sct_write_file(in(b, "g"), "g", 1));
    EXPECT_OK(access(in(a, "g"), F_OK));
    EXPECT_OK(umount2(b, MNT_DETACH));
    EXPECT_ERRNO(access(in(b, "f"), F_OK), ENOENT);
}

TEST(mount_proc_again)
{
    const char *dir = sct_path("proc");
    ASSERT_OK(mkdir(dir, 0755));
    ASSERT_OK(mount("proc", dir, "proc", 0, NULL));
    char p[700];
    snprintf(p, sizeof(p), "%s/self/status", dir);
    EXPECT_OK(access(p, R_OK));
    EXPECT_OK(umount2(dir, 0));
}

TEST(mount_errors_and_propagation_flags)
{
    const char *dir = sct_path("m");
    ASSERT_OK(mkdir(dir, 0755));
    EXPECT_ERRNO(mount("none", dir, "nosuchfs", 0, NULL), ENODEV);
    EXPECT_ERRNO(mount("none", sct_path("missing"), "tmpfs", 0, NULL), ENOENT);
    EXPECT_ERRNO(umount2(dir, 0), EINVAL);
    EXPECT_ERRNO(umount2(dir, 0x100), EINVAL);
    EXPECT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(10);
        if (mount("none", dir, "tmpfs", 0, NULL) != -1 || errno != EPERM)
            _exit(1);
        if (umount2(dir, 0) != -1 || errno != EPERM)
            _exit(2);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}
