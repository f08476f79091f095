/* Extended attributes: set/get/list/remove by path, lpath and fd. */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

/* Whether "user.a\0user.b\0"-style list `buf` of `n` bytes has `name`. */
static int listed(const char *buf, ssize_t n, const char *name)
{
    for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, name) == 0)
            return 1;
    return 0;
}

TEST(xattr_set_get_list_remove)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    EXPECT_OK(setxattr(p, "user.color", "blue", 4, 0));
    EXPECT_OK(setxattr(p, "user.empty", "", 0, 0));
    char buf[64] = {0};
    EXPECT_EQ(getxattr(p, "user.color", buf, sizeof(buf)), 4);
    EXPECT_MEMEQ(buf, "blue", 4);
    /* Size 0 asks for the size; too small a buffer is ERANGE. */
    EXPECT_EQ(getxattr(p, "user.color", NULL, 0), 4);
    EXPECT_ERRNO(getxattr(p, "user.color", buf, 2), ERANGE);
    EXPECT_EQ(getxattr(p, "user.empty", buf, sizeof(buf)), 0);
    ssize_t n = listxattr(p, buf, sizeof(buf));
    EXPECT_EQ(n, (ssize_t)(strlen("user.color") + 1 + strlen("user.empty") + 1));
    EXPECT_TRUE(listed(buf, n, "user.color"));
    EXPECT_TRUE(listed(buf, n, "user.empty"));
    EXPECT_EQ(listxattr(p, NULL, 0), n);
    EXPECT_ERRNO(listxattr(p, buf, 3), ERANGE);
    EXPECT_OK(removexattr(p, "user.color"));
    EXPECT_ERRNO(getxattr(p, "user.color", buf, sizeof(buf)), ENODATA);
    EXPECT_ERRNO(removexattr(p, "user.color"), ENODATA);
    EXPECT_EQ(listxattr(p, buf, sizeof(buf)), (ssize_t)strlen("user.empty") + 1);
}

TEST(xattr_create_and_replace_flags)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    EXPECT_ERRNO(setxattr(p, "user.k", "1", 1, XATTR_REPLACE), ENODATA);
    EXPECT_OK(setxattr(p, "user.k", "1", 1, XATTR_CREATE));
    EXPECT_ERRNO(setxattr(p, "user.k", "2", 1, XATTR_CREATE), EEXIST);
    EXPECT_OK(setxattr(p, "user.k", "22", 2, XATTR_REPLACE));
    char buf[8] = {0};
    EXPECT_EQ(getxattr(p, "user.k", buf, sizeof(buf)), 2);
    EXPECT_MEMEQ(buf, "22", 2);
    EXPECT_ERRNO(setxattr(p, "user.k", "2", 1, 4), EINVAL);
}

TEST(xattr_by_fd_and_on_directories)
{
    const char *d = sct_path("d");
    ASSERT_OK(mkdir(d, 0755));
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    EXPECT_OK(fsetxattr(fd, "user.dir", "yes", 3, 0));
    char buf[32] = {0};
    EXPECT_EQ(getxattr(d, "user.dir", buf, sizeof(buf)), 3);
    EXPECT_EQ(fgetxattr(fd, "user.dir", buf, sizeof(buf)), 3);
    EXPECT_EQ(flistxattr(fd, buf, sizeof(buf)), 9);
    EXPECT_ERRNO(flistxattr(fd, buf, 8), ERANGE);
    EXPECT_OK(fremovexattr(fd, "user.dir"));
    EXPECT_ERRNO(fgetxattr(fd, "user.dir", buf, sizeof(buf)), ENODATA);
    close(fd);
}

TEST(xattr_symlinks_follow_unless_l_variant)
{
    const char *p = sct_path("f"), *l = sct_path("l");
    ASSERT_OK(sct_write_file(p, "x", 1));
    ASSERT_OK(symlink(p, l));
    EXPECT_OK(setxattr(l, "user.via", "link", 4, 0));
    char buf[8] = {0};
    EXPECT_EQ(getxattr(p, "user.via", buf, sizeof(buf)), 4);
    EXPECT_ERRNO(lgetxattr(l, "user.via", buf, sizeof(buf)), ENODATA);
    /* user attributes are not allowed on the symlink itself. */
    EXPECT_ERRNO(lsetxattr(l, "user.self", "x", 1, 0), EPERM);
}

TEST(xattr_name_and_namespace_errors)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    char buf[8];
    EXPECT_ERRNO(setxattr(p, "nonamespace", "x", 1, 0), EOPNOTSUPP);
    EXPECT_ERRNO(getxattr(p, "bogus.name", buf, sizeof(buf)), EOPNOTSUPP);
    EXPECT_ERRNO(setxattr(p, "", "x", 1, 0), ERANGE);
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname, "user.", 5);
    longname[299] = 0;
    EXPECT_ERRNO(setxattr(p, longname, "x", 1, 0), ERANGE);
    static char big[65537];
    EXPECT_ERRNO(setxattr(p, "user.big", big, sizeof(big), 0), E2BIG);
    EXPECT_ERRNO(getxattr(sct_path("missing"), "user.x", buf, sizeof(buf)), ENOENT);
    EXPECT_ERRNO(fgetxattr(999, "user.x", buf, sizeof(buf)), EBADF);
}

TEST(xattr_trusted_is_for_root_and_user_needs_permission)
{
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    ASSERT_OK(chmod(p, 0644));
    EXPECT_OK(setxattr(p, "trusted.t", "root", 4, 0));
    EXPECT_OK(setxattr(p, "user.u", "all", 3, 0));
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(10);
        char buf[64];
        if (getxattr(p, "trusted.t", buf, sizeof(buf)) != -1 || errno != ENODATA)
            _exit(1);
        ssize_t n = listxattr(p, buf, sizeof(buf));
        if (n < 0 || listed(buf, n, "trusted.t") || !listed(buf, n, "user.u"))
            _exit(2);
        if (setxattr(p, "user.u", "x", 1, 0) != -1 || errno != EACCES)
            _exit(3);
        if (setxattr(p, "trusted.t", "x", 1, 0) != -1 || errno != EPERM)
            _exit(4);
        if (getxattr(p, "user.u", buf, sizeof(buf)) != 3)
            _exit(5);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}
