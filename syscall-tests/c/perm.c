/* Directory permissions for creating and removing names, and sticky
 * directories. Each case drops to unprivileged users in children. */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ALICE 65534
#define BOB 65533

/* Runs fn(dir) as `uid` in a child; returns its exit code. */
static int as_user(uid_t uid, const char *dir, int (*fn)(const char *))
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(uid) != 0 || setuid(uid) != 0)
            _exit(100);
        _exit(fn(dir));
    }
    return pu_code(pu_wait(pid));
}

static char *in(const char *dir, const char *name)
{
    static char buf[4][600];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static int try_create_everything(const char *dir)
{
    if (open(in(dir, "f"), O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES)
        return 1;
    if (mkdir(in(dir, "d"), 0755) != -1 || errno != EACCES)
        return 2;
    if (symlink("x", in(dir, "l")) != -1 || errno != EACCES)
        return 3;
    if (mkfifo(in(dir, "p"), 0644) != -1 || errno != EACCES)
        return 4;
    if (link(in(dir, "existing"), in(dir, "hl")) != -1 || errno != EACCES)
        return 5;
    if (unlink(in(dir, "existing")) != -1 || errno != EACCES)
        return 6;
    if (rename(in(dir, "existing"), in(dir, "moved")) != -1 || errno != EACCES)
        return 7;
    return 0;
}

TEST(a_read_only_directory_refuses_new_and_removed_names)
{
    const char *dir = sct_path("ro");
    ASSERT_OK(mkdir(dir, 0755));
    ASSERT_OK(sct_write_file(in(dir, "existing"), "x", 1));
    ASSERT_OK(chmod(in(dir, "existing"), 0666));
    /* The parent of dir must be searchable by the users. */
    ASSERT_OK(chmod(sct_path(""), 0755));
    EXPECT_EQ(as_user(ALICE, dir, try_create_everything), 0);
    /* Root is not bound by the mode. */
    EXPECT_OK(mkdir(in(dir, "rootdir"), 0755));
}

static int alice_makes_a_file(const char *dir)
{
    int fd = open(in(dir, "alices"), O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

static int bob_cannot_remove_it(const char *dir)
{
    if (unlink(in(dir, "alices")) != -1 || errno != EPERM)
        return 1;
    if (rename(in(dir, "alices"), in(dir, "bobs")) != -1 || errno != EPERM)
        return 2;
    /* His own file he may remove. */
    int fd = open(in(dir, "bobs-own"), O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return 3;
    close(fd);
    if (unlink(in(dir, "bobs-own")) != 0)
        return 4;
    return 0;
}

static int alice_removes_hers(const char *dir)
{
    return unlink(in(dir, "alices")) == 0 ? 0 : 1;
}

TEST(sticky_directory_keeps_others_from_removing_entries)
{
    const char *dir = sct_path("sticky");
    ASSERT_OK(mkdir(dir, 0777));
    ASSERT_OK(chmod(dir, 01777));
    ASSERT_OK(chmod(sct_path(""), 0755));
    EXPECT_EQ(as_user(ALICE, dir, alice_makes_a_file), 0);
    EXPECT_EQ(as_user(BOB, dir, bob_cannot_remove_it), 0);
    EXPECT_EQ(as_user(ALICE, dir, alice_removes_hers), 0);
    /* Without the sticky bit Bob could have. */
    EXPECT_EQ(as_user(ALICE, dir, alice_makes_a_file), 0);
    ASSERT_OK(chmod(dir, 0777));
    EXPECT_EQ(as_user(BOB, dir, alice_removes_hers), 0);
}

static int alice_creates(const char *dir)
{
    int fd = open(in(dir, "file"), O_WRONLY | O_CREAT, 0444);
    if (fd < 0)
        return 1; /* a new file opens for writing whatever its mode */
    close(fd);
    if (mkdir(in(dir, "sub"), 0755) != 0 || symlink("x", in(dir, "ln")) != 0)
        return 2;
    return 0;
}

TEST(new_names_belong_to_their_creator_and_setgid_directories_pass_their_group)
{
    const char *dir = sct_path("shared");
    ASSERT_OK(mkdir(dir, 0777));
    ASSERT_OK(chown(dir, 0, 4242));
    ASSERT_OK(chmod(dir, 02777));
    ASSERT_OK(chmod(sct_path(""), 0755));
    EXPECT_EQ(as_user(ALICE, dir, alice_creates), 0);
    struct stat st;
    ASSERT_OK(stat(in(dir, "file"), &st));
    EXPECT_EQ(st.st_uid, ALICE);
    EXPECT_EQ(st.st_gid, 4242);
    ASSERT_OK(stat(in(dir, "sub"), &st));
    EXPECT_EQ(st.st_uid, ALICE);
    EXPECT_EQ(st.st_gid, 4242);
    EXPECT_TRUE(st.st_mode & S_ISGID);
    ASSERT_OK(lstat(in(dir, "ln"), &st));
    EXPECT_EQ(st.st_uid, ALICE);
    /* Outside a set-gid directory: the creator's group. */
    ASSERT_OK(chmod(dir, 0777));
    EXPECT_EQ(as_user(ALICE, dir, alice_makes_a_file), 0);
    ASSERT_OK(stat(in(dir, "alices"), &st));
    EXPECT_EQ(st.st_gid, ALICE);
}
