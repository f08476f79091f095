/* getcwd/chdir/fchdir, mkdir/rmdir/unlink/rename/symlink, chroot. */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>

TEST(chdir_getcwd)
{
    char buf[PATH_MAX];
    EXPECT_OK(chdir(sct_scratch()));
    ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
    EXPECT_STREQ(buf, sct_scratch());
    ASSERT_OK(mkdir("sub", 0755));
    EXPECT_OK(chdir("sub"));
    ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
    EXPECT_STREQ(buf, sct_path("sub"));
    EXPECT_OK(chdir(".."));
    ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
    EXPECT_STREQ(buf, sct_scratch());
}

TEST(getcwd_raw_returns_length)
{
    char buf[PATH_MAX];
    ASSERT_OK(chdir(sct_scratch()));
    long n = syscall(SYS_getcwd, buf, sizeof(buf));
    EXPECT_EQ(n, strlen(sct_scratch()) + 1);
    EXPECT_STREQ(buf, sct_scratch());
}

TEST(getcwd_small_buffer_erange)
{
    char buf[4];
    ASSERT_OK(chdir(sct_scratch()));
    EXPECT_ERRNO(syscall(SYS_getcwd, buf, sizeof(buf)), ERANGE);
    EXPECT_ERRNO(syscall(SYS_getcwd, buf, 0), ERANGE);
    EXPECT_ERRNO(syscall(SYS_getcwd, BAD_PTR, PATH_MAX), EFAULT);
}

TEST(relative_paths_follow_cwd)
{
    ASSERT_OK(chdir(sct_scratch()));
    ASSERT_OK(sct_write_file("rel", "abc", 3));
    struct stat st;
    EXPECT_OK(stat(sct_path("rel"), &st));
    EXPECT_EQ(st.st_size, 3);
    EXPECT_OK(stat("./rel", &st));
}

TEST(chdir_errors)
{
    EXPECT_ERRNO(chdir(sct_path("missing")), ENOENT);
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    EXPECT_ERRNO(chdir(sct_path("f")), ENOTDIR);
    EXPECT_ERRNO(syscall(SYS_chdir, BAD_PTR), EFAULT);
}

TEST(fchdir_dirfd)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    int fd = open(sct_path("d"), O_RDONLY | O_DIRECTORY);
    ASSERT_OK(fd);
    EXPECT_OK(fchdir(fd));
    char buf[PATH_MAX];
    ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
    EXPECT_STREQ(buf, sct_path("d"));
    close(fd);
}

TEST(fchdir_errors)
{
    EXPECT_ERRNO(fchdir(999), EBADF);
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    int fd = open(sct_path("f"), O_RDONLY);
    ASSERT_OK(fd);
    EXPECT_ERRNO(fchdir(fd), ENOTDIR);
    close(fd);
}

TEST(mkdir_and_rmdir)
{
    const char *d = sct_path("d");
    EXPECT_OK(mkdir(d, 0750));
    struct stat st;
    EXPECT_OK(stat(d, &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0700, 0700);
    EXPECT_OK(rmdir(d));
    EXPECT_ERRNO(stat(d, &st), ENOENT);
}

TEST(mkdir_errors)
{
    EXPECT_ERRNO(mkdir(sct_scratch(), 0755), EEXIST);
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    EXPECT_ERRNO(mkdir(sct_path("f"), 0755), EEXIST);
    EXPECT_ERRNO(mkdir(sct_path("missing/d"), 0755), ENOENT);
    EXPECT_ERRNO(mkdir(sct_path("f/d"), 0755), ENOTDIR);
    EXPECT_ERRNO(syscall(SYS_mkdir, BAD_PTR, 0755), EFAULT);
}

TEST(mkdir_increments_parent_nlink)
{
    struct stat before, after;
    ASSERT_OK(stat(sct_scratch(), &before));
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    ASSERT_OK(stat(sct_scratch(), &after));
    EXPECT_EQ(after.st_nlink, before.st_nlink + 1);
}

TEST(rmdir_errors)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    ASSERT_OK(sct_write_file(sct_path("d/f"), "", 0));
    EXPECT_ERRNO(rmdir(sct_path("d")), ENOTEMPTY);
    EXPECT_ERRNO(rmdir(sct_path("d/f")), ENOTDIR);
    EXPECT_ERRNO(rmdir(sct_path("missing")), ENOENT);
    EXPECT_ERRNO(rmdir(sct_path("d/.")), EINVAL);
}

TEST(unlink_file)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    EXPECT_OK(unlink(sct_path("f")));
    EXPECT_ERRNO(access(sct_path("f"), F_OK), ENOENT);
    EXPECT_ERRNO(unlink(sct_path("f")), ENOENT);
}

TEST(unlink_directory_eisdir)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    EXPECT_ERRNO(unlink(sct_path("d")), EISDIR);
}

TEST(unlink_symlink_not_target)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "x", 1));
    ASSERT_OK(symlink("f", sct_path("l")));
    EXPECT_OK(unlink(sct_path("l")));
    EXPECT_OK(access(sct_path("f"), F_OK));
}

TEST(unlinked_open_file_still_readable)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "still", 5));
    int fd = open(sct_path("f"), O_RDWR);
    ASSERT_OK(fd);
    EXPECT_OK(unlink(sct_path("f")));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_nlink, 0);
    char buf[8] = {0};
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 5);
    EXPECT_STREQ(buf, "still");
    EXPECT_EQ(write(fd, "!", 1), 1);
    close(fd);
}

TEST(rename_file)
{
    ASSERT_OK(sct_write_file(sct_path("a"), "A", 1));
    EXPECT_OK(rename(sct_path("a"), sct_path("b")));
    EXPECT_ERRNO(access(sct_path("a"), F_OK), ENOENT);
    struct stat st;
    EXPECT_OK(stat(sct_path("b"), &st));
    EXPECT_EQ(st.st_size, 1);
}

TEST(rename_replaces_file)
{
    ASSERT_OK(sct_write_file(sct_path("a"), "AAA", 3));
    ASSERT_OK(sct_write_file(sct_path("b"), "B", 1));
    struct stat sa, sb;
    ASSERT_OK(stat(sct_path("a"), &sa));
    EXPECT_OK(rename(sct_path("a"), sct_path("b")));
    EXPECT_OK(stat(sct_path("b"), &sb));
    EXPECT_EQ(sb.st_ino, sa.st_ino);
    EXPECT_EQ(sb.st_size, 3);
}

TEST(rename_directory)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    ASSERT_OK(sct_write_file(sct_path("d/f"), "x", 1));
    ASSERT_OK(mkdir(sct_path("empty"), 0755));
    EXPECT_OK(rename(sct_path("d"), sct_path("e")));
    EXPECT_OK(access(sct_path("e/f"), F_OK));
    /* A directory may replace an empty directory. */
    EXPECT_OK(rename(sct_path("e"), sct_path("empty")));
    EXPECT_OK(access(sct_path("empty/f"), F_OK));
}

TEST(rename_same_path_noop)
{
    ASSERT_OK(sct_write_file(sct_path("a"), "A", 1));
    EXPECT_OK(rename(sct_path("a"), sct_path("a")));
    EXPECT_OK(access(sct_path("a"), F_OK));
}

TEST(rename_errors)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    ASSERT_OK(mkdir(sct_path("full"), 0755));
    ASSERT_OK(sct_write_file(sct_path("full/x"), "", 0));
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    EXPECT_ERRNO(rename(sct_path("missing"), sct_path("z")), ENOENT);
    EXPECT_ERRNO(rename(sct_path("d"), sct_path("full")), ENOTEMPTY);
    EXPECT_ERRNO(rename(sct_path("d"), sct_path("f")), ENOTDIR);
    EXPECT_ERRNO(rename(sct_path("f"), sct_path("d")), EISDIR);
    EXPECT_ERRNO(rename(sct_path("d"), sct_path("d/sub")), EINVAL);
    EXPECT_ERRNO(rename(sct_path("f"), sct_path("missing/f")), ENOENT);
}

TEST(symlink_create_and_follow)
{
    ASSERT_OK(mkdir(sct_path("d"), 0755));
    ASSERT_OK(sct_write_file(sct_path("d/f"), "via", 3));
    EXPECT_OK(symlink("d", sct_path("ld")));
    int fd = open(sct_path("ld/f"), O_RDONLY);
    ASSERT_OK(fd);
    char buf[4] = {0};
    EXPECT_EQ(read(fd, buf, 3), 3);
    EXPECT_STREQ(buf, "via");
    close(fd);
}

TEST(symlink_errors)
{
    ASSERT_OK(sct_write_file(sct_path("f"), "", 0));
    EXPECT_ERRNO(symlink("x", sct_path("f")), EEXIST);
    EXPECT_ERRNO(symlink("x", sct_path("missing/l")), ENOENT);
    EXPECT_ERRNO(symlink("", sct_path("l")), ENOENT);
}

TEST(symlink_loop_eloop)
{
    ASSERT_OK(symlink("b", sct_path("a")));
    ASSERT_OK(symlink("a", sct_path("b")));
    EXPECT_ERRNO(open(sct_path("a"), O_RDONLY), ELOOP);
    struct stat st;
    EXPECT_ERRNO(stat(sct_path("a"), &st), ELOOP);
    EXPECT_OK(lstat(sct_path("a"), &st));
}

TEST(dotdot_of_root_is_root)
{
    struct stat a, b;
    EXPECT_OK(stat("/", &a));
    EXPECT_OK(stat("/..", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_dev, b.st_dev);
}

static int jailed(const char *jail)
{
    if (chroot(jail) != 0)
        return 1;
    if (chdir("/") != 0)
        return 2;
    char buf[16] = {0};
    int fd = open("/sub/f", O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof(buf)) != 7 || strcmp(buf, "in jail") != 0)
        return 3;
    close(fd);
    /* ".." at the new root stays there. */
    if (access("/../../sub/f", F_OK) != 0)
        return 4;
    if (access("/jail", F_OK) == 0)
        return 5;
    char cwd[64];
    if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") != 0)
        return 6;
    if (chdir("sub") != 0 || !getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/sub") != 0)
        return 7;
    return 0;
}

TEST(chroot_confines_path_walks_of_the_process)
{
    const char *jail = sct_path("jail");
    ASSERT_OK(mkdir(jail, 0755));
    char sub[512];
    snprintf(sub, sizeof(sub), "%s/sub", jail);
    ASSERT_OK(mkdir(sub, 0755));
    char f[600];
    snprintf(f, sizeof(f), "%s/f", sub);
    ASSERT_OK(sct_write_file(f, "in jail", 7));
    pid_t pid = fork();
    if (pid == 0)
        _exit(jailed(jail));
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    /* The parent's root did not move. */
    EXPECT_OK(access(f, F_OK));
}

TEST(chroot_errors)
{
    const char *file = sct_path("file");
    ASSERT_OK(sct_write_file(file, "x", 1));
    EXPECT_ERRNO(chroot(file), ENOTDIR);
    EXPECT_ERRNO(chroot(sct_path("missing")), ENOENT);
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(10);
        _exit(chroot("/") == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

static int slurp(const char *p, char *buf, size_t n)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return -1;
    memset(buf, 0, n);
    int r = read(fd, buf, n - 1);
    close(fd);
    return r;
}

TEST(renameat2_exchange_swaps_two_names)
{
    const char *a = sct_path("a"), *b = sct_path("b");
    ASSERT_OK(sct_write_file(a, "A", 1));
    ASSERT_OK(sct_write_file(b, "B", 1));
    EXPECT_OK(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE));
    char buf[8];
    EXPECT_EQ(slurp(a, buf, sizeof(buf)), 1);
    EXPECT_STREQ(buf, "B");
    EXPECT_EQ(slurp(b, buf, sizeof(buf)), 1);
    EXPECT_STREQ(buf, "A");
}

TEST(renameat2_exchange_of_a_file_and_a_directory_moves_the_link_counts)
{
    char d1[512], d2[512], x[600], y[600], inner[700];
    snprintf(d1, sizeof(d1), "%s", sct_path("d1"));
    snprintf(d2, sizeof(d2), "%s", sct_path("d2"));
    ASSERT_OK(mkdir(d1, 0755));
    ASSERT_OK(mkdir(d2, 0755));
    snprintf(x, sizeof(x), "%s/x", d1);
    snprintf(y, sizeof(y), "%s/y", d2);
    ASSERT_OK(sct_write_file(x, "file", 4));
    ASSERT_OK(mkdir(y, 0755));
    snprintf(inner, sizeof(inner), "%s/inner", y);
    ASSERT_OK(sct_write_file(inner, "in", 2));
    struct stat s1, s2;
    ASSERT_OK(stat(d1, &s1));
    ASSERT_OK(stat(d2, &s2));
    EXPECT_OK(renameat2(AT_FDCWD, x, AT_FDCWD, y, RENAME_EXCHANGE));
    struct stat st;
    ASSERT_OK(stat(x, &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_OK(stat(y, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    char moved[700], buf[8];
    snprintf(moved, sizeof(moved), "%s/inner", x);
    EXPECT_EQ(slurp(moved, buf, sizeof(buf)), 2);
    ASSERT_OK(stat(d1, &st));
    EXPECT_EQ(st.st_nlink, s1.st_nlink + 1);
    ASSERT_OK(stat(d2, &st));
    EXPECT_EQ(st.st_nlink, s2.st_nlink - 1);
}

TEST(renameat2_exchange_errors)
{
    const char *a = sct_path("a"), *d = sct_path("d");
    ASSERT_OK(sct_write_file(a, "A", 1));
    ASSERT_OK(mkdir(d, 0755));
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/sub", d);
    ASSERT_OK(mkdir(sub, 0755));
    EXPECT_ERRNO(renameat2(AT_FDCWD, a, AT_FDCWD, sct_path("missing"), RENAME_EXCHANGE), ENOENT);
    EXPECT_ERRNO(renameat2(AT_FDCWD, a, AT_FDCWD, d, RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
    EXPECT_ERRNO(renameat2(AT_FDCWD, d, AT_FDCWD, sub, RENAME_EXCHANGE), EINVAL);
    EXPECT_ERRNO(renameat2(AT_FDCWD, a, AT_FDCWD, d, 1 << 6), EINVAL);
}
