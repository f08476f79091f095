/* Credentials (set*uid/gid families, supplementary groups, capabilities),
 * prctl process attributes (name, pdeathsig, no_new_privs, dumpable,
 * child subreaper), process groups and sessions. Anything irreversible
 * happens in a child; every child is waited for.
 *
 * The uid/gid changes need root with ids 1000/1001 mapped: as root in a
 * user namespace that maps only 0 they fail with EINVAL, and those cases
 * then only check that failure. */
#include "proc_util.h"

#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>

extern char **environ;

/* 1 if this process may switch to uid 1000 (root with the id mapped). */
static int can_switch_uid(void)
{
    if (geteuid() != 0)
        return 0;
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0)
        _exit(setresuid(1000, 1000, 1000) == 0 ? 0 : 1);
    return pu_code(pu_wait(pid)) == 0;
}

TEST(getresuid_getresgid_match)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ASSERT_OK(getresuid(&r, &e, &s));
    EXPECT_EQ(r, getuid());
    EXPECT_EQ(e, geteuid());
    EXPECT_EQ(s, geteuid());
    ASSERT_OK(getresgid(&rg, &eg, &sg));
    EXPECT_EQ(rg, getgid());
    EXPECT_EQ(eg, getegid());
    EXPECT_EQ(sg, getegid());
    EXPECT_ERRNO(syscall(SYS_getresuid, BAD_PTR, &e, &s), EFAULT);
}

TEST(setresuid_temporarily_and_back)
{
    if (!can_switch_uid()) {
        EXPECT_TRUE(geteuid() != 0 || setresuid(-1, 1000, -1) == -1);
        return;
    }
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        uid_t r, e, s;
        CKN(1, setresuid(-1, 1000, -1) == 0);
        CKN(2, getresuid(&r, &e, &s) == 0 && r == 0 && e == 1000 && s == 0);
        CKN(3, geteuid() == 1000 && getuid() == 0);
        /* Back to root through the saved set-user-ID. */
        CKN(4, setresuid(-1, 0, -1) == 0);
        CKN(5, geteuid() == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setresuid_unprivileged_rules)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, setresuid(1000, 1001, 1002) == 0);
        /* Unprivileged: may only pick among the current r/e/s ids. */
        CKN(2, setresuid(-1, 1002, -1) == 0);
        CKN(3, setresuid(-1, 1000, -1) == 0);
        errno = 0;
        CKN(4, setresuid(-1, 0, -1) == -1 && errno == EPERM);
        errno = 0;
        CKN(5, setresuid(2000, -1, -1) == -1 && errno == EPERM);
        CKN(6, setresuid(1002, 1002, 1002) == 0);
        errno = 0;
        CKN(7, setresuid(-1, 1000, -1) == -1 && errno == EPERM);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setuid_as_root_is_permanent)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        uid_t r, e, s;
        CKN(1, setuid(1000) == 0);
        CKN(2, getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 1000);
        errno = 0;
        CKN(3, setuid(0) == -1 && errno == EPERM);
        CKN(4, seteuid(0) == -1 && errno == EPERM);
        /* Setting to the current id is allowed. */
        CKN(5, setuid(1000) == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(seteuid_changes_file_access)
{
    if (!can_switch_uid())
        return;
    ASSERT_OK(sct_write_file(sct_path("secret"), "x", 1));
    ASSERT_OK(chmod(sct_path("secret"), 0600));
    ASSERT_OK(chmod(sct_scratch(), 0755));
    static char path[512];
    snprintf(path, sizeof(path), "%s", sct_path("secret"));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, seteuid(1000) == 0);
        errno = 0;
        CKN(2, open(path, O_RDONLY) == -1 && errno == EACCES);
        CKN(3, seteuid(0) == 0);
        int fd = open(path, O_RDONLY);
        CKN(4, fd >= 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setreuid_and_setregid)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        uid_t r, e, s;
        gid_t rg, eg, sg;
        CKN(1, setregid(1000, 1001) == 0);
        CKN(2, getresgid(&rg, &eg, &sg) == 0 && rg == 1000 && eg == 1001);
        /* Setting the real id (or euid != ruid) also sets the saved id. */
        CKN(3, sg == 1001);
        CKN(4, setreuid(-1, 1000) == 0);
        CKN(5, getresuid(&r, &e, &s) == 0 && r == 0 && e == 1000 && s == 1000);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setresgid_roundtrip)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        gid_t r, e, s;
        CKN(1, setresgid(1000, 1001, 1002) == 0);
        CKN(2, getresgid(&r, &e, &s) == 0 && r == 1000 && e == 1001 && s == 1002);
        CKN(3, getgid() == 1000 && getegid() == 1001);
        CKN(4, setresgid(0, 0, 0) == 0);
        CKN(5, getgid() == 0 && getegid() == 0);
        /* After dropping root, gid changes are restricted. */
        CKN(6, setresgid(1000, 1000, 1000) == 0);
        CKN(7, setresuid(1000, 1000, 1000) == 0);
        errno = 0;
        CKN(8, setresgid(0, -1, -1) == -1 && errno == EPERM);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setfsuid_returns_previous)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, setfsuid(1000) == 0);
        CKN(2, setfsuid(-1) == 1000);
        CKN(3, setfsuid(0) == 1000);
        CKN(4, setfsgid(1000) == 0);
        CKN(5, setfsgid(-1) == 1000);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setgroups_getgroups_in_child)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        gid_t set[3] = {1001, 1002, 1003}, got[8];
        CKN(1, setgroups(3, set) == 0);
        CKN(2, getgroups(0, NULL) == 3);
        CKN(3, getgroups(8, got) == 3);
        CKN(4, got[0] == 1001 && got[1] == 1002 && got[2] == 1003);
        errno = 0;
        CKN(5, getgroups(1, got) == -1 && errno == EINVAL);
        CKN(6, setgroups(0, NULL) == 0);
        CKN(7, getgroups(0, NULL) == 0);
        /* Unprivileged processes cannot set groups. */
        CKN(8, setresuid(1000, 1000, 1000) == 0);
        errno = 0;
        CKN(9, setgroups(1, set) == -1 && errno == EPERM);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setgroups_errors)
{
    gid_t g = 0;
    EXPECT_ERRNO(syscall(SYS_getgroups, -1, &g), EINVAL);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        /* Without the right to set groups (e.g. a user namespace with
         * setgroups denied) everything is EPERM. */
        if (setgroups(0, NULL) != 0)
            _exit(errno == EPERM ? 0 : 1);
        errno = 0;
        CKN(1, setgroups(65537, &g) == -1 && errno == EINVAL);
        errno = 0;
        CKN(2, syscall(SYS_setgroups, 1, BAD_PTR) == -1 && errno == EFAULT);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(capget_current_process)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    ASSERT_OK(syscall(SYS_capget, &hdr, data));
    /* Effective and inheritable are subsets of permitted. */
    EXPECT_EQ(data[0].effective & ~data[0].permitted, 0);
    EXPECT_EQ(data[1].effective & ~data[1].permitted, 0);
    if (geteuid() == 0) {
        EXPECT_TRUE(data[0].effective & (1u << CAP_SETUID));
        EXPECT_TRUE(data[0].effective & (1u << CAP_KILL));
        EXPECT_TRUE(data[0].effective & (1u << CAP_SYS_ADMIN));
    }
    /* Our pid is the same as 0. */
    struct __user_cap_data_struct d2[2];
    hdr.pid = getpid();
    ASSERT_OK(syscall(SYS_capget, &hdr, d2));
    EXPECT_EQ(d2[0].effective, data[0].effective);
    EXPECT_EQ(d2[0].permitted, data[0].permitted);
}

TEST(capget_version_probe_and_errors)
{
    struct __user_cap_header_struct hdr = {0, 0};
    struct __user_cap_data_struct data[2];
    /* An unknown version: EINVAL, and the preferred version is written back. */
    EXPECT_ERRNO(syscall(SYS_capget, &hdr, data), EINVAL);
    EXPECT_EQ(hdr.version, _LINUX_CAPABILITY_VERSION_3);
    hdr.version = 0;
    EXPECT_OK(syscall(SYS_capget, &hdr, NULL));
    EXPECT_EQ(hdr.version, _LINUX_CAPABILITY_VERSION_3);
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 999999;
    EXPECT_ERRNO(syscall(SYS_capget, &hdr, data), ESRCH);
    hdr.pid = -1;
    EXPECT_ERRNO(syscall(SYS_capget, &hdr, data), EINVAL);
    EXPECT_ERRNO(syscall(SYS_capget, BAD_PTR, data), EFAULT);
}

TEST(capset_drop_in_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2];
        CKN(1, syscall(SYS_capget, &hdr, data) == 0);
        data[0].effective &= ~(1u << CAP_KILL);
        data[0].permitted &= ~(1u << CAP_KILL);
        data[0].inheritable &= ~(1u << CAP_KILL);
        CKN(2, syscall(SYS_capset, &hdr, data) == 0);
        struct __user_cap_data_struct now[2];
        CKN(3, syscall(SYS_capget, &hdr, now) == 0);
        CKN(4, !(now[0].effective & (1u << CAP_KILL)));
        CKN(5, !(now[0].permitted & (1u << CAP_KILL)));
        /* Cannot regain a dropped permitted capability. */
        now[0].permitted |= 1u << CAP_KILL;
        errno = 0;
        CKN(6, syscall(SYS_capset, &hdr, now) == -1 && errno == EPERM);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setuid_drops_capabilities)
{
    if (!can_switch_uid())
        return;
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, setresuid(1000, 1000, 1000) == 0);
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2];
        CKN(2, syscall(SYS_capget, &hdr, data) == 0);
        CKN(3, data[0].effective == 0 && data[0].permitted == 0);
        CKN(4, data[1].effective == 0 && data[1].permitted == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

/* ---- prctl ---- */

TEST(prctl_set_get_name)
{
    char old[16] = {0}, now[32];
    ASSERT_OK(prctl(PR_GET_NAME, old));
    EXPECT_OK(prctl(PR_SET_NAME, "sct-name"));
    memset(now, 'x', sizeof(now));
    EXPECT_OK(prctl(PR_GET_NAME, now));
    EXPECT_STREQ(now, "sct-name");
    /* Names are truncated to 15 bytes. */
    EXPECT_OK(prctl(PR_SET_NAME, "0123456789abcdefghij"));
    EXPECT_OK(prctl(PR_GET_NAME, now));
    EXPECT_STREQ(now, "0123456789abcde");
    EXPECT_ERRNO(prctl(PR_SET_NAME, BAD_PTR), EFAULT);
    EXPECT_OK(prctl(PR_SET_NAME, old));
}

TEST(prctl_name_is_per_thread)
{
    static char seen[16];
    char old[16] = {0}, now[16];
    ASSERT_OK(prctl(PR_GET_NAME, old));
    void *fn(void *arg)
    {
        (void)arg;
        prctl(PR_SET_NAME, "worker");
        prctl(PR_GET_NAME, seen);
        return NULL;
    }
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
    EXPECT_STREQ(seen, "worker");
    EXPECT_OK(prctl(PR_GET_NAME, now));
    EXPECT_STREQ(now, old);
}

TEST(prctl_name_inherited_by_fork)
{
    char old[16] = {0};
    ASSERT_OK(prctl(PR_GET_NAME, old));
    ASSERT_OK(prctl(PR_SET_NAME, "inherit-me"));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char n[16];
        CK(prctl(PR_GET_NAME, n) == 0 && strcmp(n, "inherit-me") == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_OK(prctl(PR_SET_NAME, old));
}

TEST(prctl_pdeathsig_set_get)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        int sig = -1;
        CKN(1, prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == 0);
        CKN(2, prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0);
        CKN(3, prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGUSR1);
        errno = 0;
        CKN(4, prctl(PR_SET_PDEATHSIG, 99) == -1 && errno == EINVAL);
        /* Not inherited by children. */
        pid_t g = fork();
        CKN(5, g >= 0);
        if (g == 0) {
            int s = -1;
            _exit(prctl(PR_GET_PDEATHSIG, &s) == 0 && s == 0 ? 0 : 1);
        }
        int st;
        CKN(6, waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CKN(7, prctl(PR_SET_PDEATHSIG, 0) == 0);
        CKN(8, prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(prctl_pdeathsig_delivered_on_parent_exit)
{
    ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t mid = fork();
    ASSERT_OK(mid);
    if (mid == 0) {
        pid_t me = getpid();
        pid_t g = fork();
        CK(g >= 0);
        if (g == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != me)
                _exit(50); /* parent already gone: race lost */
            write(p[1], &g, sizeof(g)); /* g == 0 here: just "ready" */
            for (int i = 0; i < 3000; i++)
                pu_sleep_ms(1);
            _exit(51);
        }
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(g > 0 ? 0 : 1);
    }
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(mid)), 0);
    /* The grandchild is now ours (subreaper); find and reap it. */
    int st;
    pid_t g = waitpid(-1, &st, 0);
    EXPECT_GT(g, 0);
    if (g > 0)
        EXPECT_EQ(pu_code(st), 1000 + SIGTERM);
    EXPECT_OK(prctl(PR_SET_CHILD_SUBREAPER, 0));
}

TEST(prctl_no_new_privs)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
        errno = 0;
        CKN(2, prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0) == -1 && errno == EINVAL);
        CKN(3, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        CKN(4, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        /* Cannot be unset... */
        errno = 0;
        CKN(5, prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 && errno == EINVAL);
        /* ...and is inherited. */
        pid_t g = fork();
        CKN(6, g >= 0);
        if (g == 0)
            _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
        int st;
        CKN(7, waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(prctl_dumpable)
{
    int old = prctl(PR_GET_DUMPABLE);
    ASSERT_GE(old, 0);
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 0));
    EXPECT_EQ(prctl(PR_GET_DUMPABLE), 0);
    EXPECT_OK(prctl(PR_SET_DUMPABLE, 1));
    EXPECT_EQ(prctl(PR_GET_DUMPABLE), 1);
    EXPECT_ERRNO(prctl(PR_SET_DUMPABLE, 2), EINVAL);
    EXPECT_ERRNO(prctl(PR_SET_DUMPABLE, 3), EINVAL);
    EXPECT_OK(prctl(PR_SET_DUMPABLE, old));
}

TEST(prctl_child_subreaper_get_set)
{
    int v = -1;
    ASSERT_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
    EXPECT_EQ(v, 0);
    EXPECT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
    EXPECT_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
    EXPECT_EQ(v, 1);
    /* Not inherited across fork. */
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        int c = -1;
        _exit(prctl(PR_GET_CHILD_SUBREAPER, &c) == 0 && c == 0 ? 0 : 1);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_OK(prctl(PR_SET_CHILD_SUBREAPER, 0));
    EXPECT_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
    EXPECT_EQ(v, 0);
    EXPECT_ERRNO(prctl(PR_GET_CHILD_SUBREAPER, BAD_PTR), EFAULT);
}

TEST(prctl_unknown_option_einval)
{
    EXPECT_ERRNO(prctl(0x7fff1234, 0, 0, 0, 0), EINVAL);
}

/* ---- process groups and sessions ---- */

TEST(getpgrp_getpgid_agree)
{
    EXPECT_EQ(getpgrp(), getpgid(0));
    EXPECT_EQ(getpgid(getpid()), getpgid(0));
    EXPECT_EQ(getsid(getpid()), getsid(0));
    EXPECT_ERRNO(getpgid(999999), ESRCH);
    EXPECT_ERRNO(getsid(999999), ESRCH);
}

TEST(child_inherits_group_and_session)
{
    pid_t pgid = getpgrp(), sid = getsid(0);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, getpgrp() == pgid);
        CKN(2, getsid(0) == sid);
        _exit(0);
    }
    EXPECT_EQ(getpgid(pid), pgid);
    EXPECT_EQ(getsid(pid), sid);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setpgid_child_new_group_and_join)
{
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t a = fork();
    ASSERT_OK(a);
    if (a == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(0);
    }
    pid_t b = fork();
    ASSERT_OK(b);
    if (b == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    EXPECT_OK(setpgid(a, 0)); /* 0: use a's pid */
    EXPECT_EQ(getpgid(a), a);
    EXPECT_OK(setpgid(b, a)); /* join a's group */
    EXPECT_EQ(getpgid(b), a);
    EXPECT_OK(setpgid(b, b));
    EXPECT_EQ(getpgid(b), b);
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(a)), 0);
    EXPECT_EQ(pu_code(pu_wait(b)), 0);
}

TEST(setpgid_errors)
{
    EXPECT_ERRNO(setpgid(0, -1), EINVAL);
    EXPECT_ERRNO(setpgid(999999, 0), ESRCH);
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, setpgid(0, 0) == 0);
        /* A group that does not exist in our session. */
        errno = 0;
        CKN(2, setpgid(0, 999999) == -1 && errno == EPERM);
        /* The parent is not our child. */
        errno = 0;
        CKN(3, setpgid(getppid(), 0) == -1 && (errno == ESRCH || errno == EPERM));
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setpgid_after_child_exec_eacces)
{
    ASSERT_OK(pu_write_elf(sct_path("pause"), PU_ELF_PAUSE, 0));
    int p[2];
    ASSERT_OK(pipe2(p, O_CLOEXEC));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char *argv[] = {"pause", NULL};
        execve(sct_path("pause"), argv, environ);
        _exit(127);
    }
    close(p[1]);
    char c;
    ASSERT_EQ(read(p[0], &c, 1), 0); /* exec happened */
    EXPECT_ERRNO(setpgid(pid, pid), EACCES);
    kill(pid, SIGKILL);
    EXPECT_EQ(pu_code(pu_wait(pid)), 1000 + SIGKILL);
}

TEST(setsid_in_child)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pid_t me = getpid();
        CKN(1, setsid() == me);
        CKN(2, getsid(0) == me);
        CKN(3, getpgrp() == me);
        /* Already a group (and session) leader. */
        errno = 0;
        CKN(4, setsid() == -1 && errno == EPERM);
        /* Cannot move into a group of another session... */
        errno = 0;
        CKN(5, setpgid(0, getpgid(getppid())) == -1 && errno == EPERM);
        /* ...and a session leader cannot change its group. */
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setsid_group_leader_eperm)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        CKN(1, setpgid(0, 0) == 0);
        errno = 0;
        CKN(2, setsid() == -1 && errno == EPERM);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(setpgid_child_in_other_session_eperm)
{
    int p[2], q[2];
    ASSERT_OK(pipe(p));
    ASSERT_OK(pipe(q));
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        char c;
        close(p[1]);
        close(q[0]);
        pid_t s = setsid();
        write(q[1], &s, sizeof(s));
        read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    close(q[1]);
    pid_t s = 0;
    EXPECT_EQ(pu_read_full(q[0], &s, sizeof(s)), sizeof(s));
    EXPECT_EQ(s, pid);
    EXPECT_EQ(getsid(pid), pid);
    /* The child is a session leader in another session: EPERM. */
    EXPECT_ERRNO(setpgid(pid, pid), EPERM);
    EXPECT_ERRNO(setpgid(pid, getpgrp()), EPERM);
    close(p[1]);
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}

TEST(session_of_grandchild_follows_setsid)
{
    pid_t pid = fork();
    ASSERT_OK(pid);
    if (pid == 0) {
        pid_t s = setsid();
        CKN(1, s == getpid());
        pid_t g = fork();
        CKN(2, g >= 0);
        if (g == 0)
            _exit(getsid(0) == s && getpgrp() == s ? 0 : 1);
        int st;
        CKN(3, waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
}
