/* Pseudo-terminals: /dev/ptmx, /dev/pts/N and the line discipline. */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <signal.h>
#include <sys/wait.h>

/* A master and its slave, unlocked. */
static int pair(int *master, int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
        return -1;
    const char *name = ptsname(m);
    if (!name)
        return -1;
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0)
        return -1;
    *master = m;
    *slave = s;
    return 0;
}

TEST(pty_master_and_slave_talk_through_the_line_discipline)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    EXPECT_TRUE(isatty(s));
    EXPECT_TRUE(isatty(m));
    EXPECT_EQ(write(m, "hi\r", 3), 3);
    char buf[32] = {0};
    /* CR became NL; a whole line is read. */
    EXPECT_EQ(read(s, buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "hi\n");
    /* The echo, with NL output as CR NL. */
    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(read(m, buf, sizeof(buf)), 4);
    EXPECT_STREQ(buf, "hi\r\n");
    EXPECT_EQ(write(s, "out\n", 4), 4);
    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(read(m, buf, sizeof(buf)), 5);
    EXPECT_STREQ(buf, "out\r\n");
    close(s);
    close(m);
}

TEST(pty_slave_of_a_locked_pty_does_not_open)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_OK(m);
    char name[64];
    ASSERT_EQ(ptsname_r(m, name, sizeof(name)), 0);
    EXPECT_ERRNO(open(name, O_RDWR | O_NOCTTY), EIO);
    ASSERT_OK(unlockpt(m));
    int s = open(name, O_RDWR | O_NOCTTY);
    EXPECT_OK(s);
    struct stat st;
    ASSERT_OK(fstat(s, &st));
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143, 1);
    close(s);
    close(m);
}

TEST(pty_canonical_mode_edits_lines_and_eof)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    /* erase (DEL) removes a character, kill (^U) the whole line. */
    EXPECT_EQ(write(m, "ab\x7f" "c\x15xyz\n", 9), 9);
    char buf[32] = {0};
    EXPECT_EQ(read(s, buf, sizeof(buf)), 4);
    EXPECT_STREQ(buf, "xyz\n");
    /* ^D at the start of a line: end of file. */
    EXPECT_EQ(write(m, "\x04", 1), 1);
    EXPECT_EQ(read(s, buf, sizeof(buf)), 0);
    /* ^D after text: the text, without a newline. */
    EXPECT_EQ(write(m, "pq\x04", 3), 3);
    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(read(s, buf, sizeof(buf)), 2);
    EXPECT_STREQ(buf, "pq");
    close(s);
    close(m);
}

TEST(pty_raw_mode_passes_bytes_without_echo)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    struct termios t;
    ASSERT_OK(tcgetattr(s, &t));
    EXPECT_TRUE(t.c_lflag & ICANON);
    EXPECT_TRUE(t.c_lflag & ECHO);
    cfmakeraw(&t);
    ASSERT_OK(tcsetattr(s, TCSANOW, &t));
    struct termios back;
    ASSERT_OK(tcgetattr(m, &back));
    EXPECT_FALSE(back.c_lflag & ICANON);
    EXPECT_EQ(write(m, "a\rb", 3), 3);
    char buf[8] = {0};
    EXPECT_EQ(read(s, buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "a\rb");
    int fl = fcntl(m, F_GETFL);
    ASSERT_OK(fcntl(m, F_SETFL, fl | O_NONBLOCK));
    EXPECT_ERRNO(read(m, buf, sizeof(buf)), EAGAIN);
    /* No output processing either. */
    EXPECT_EQ(write(s, "x\n", 2), 2);
    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(read(m, buf, sizeof(buf)), 2);
    EXPECT_STREQ(buf, "x\n");
    close(s);
    close(m);
}

TEST(pty_window_size_is_shared)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    struct winsize w = {.ws_row = 24, .ws_col = 80};
    ASSERT_OK(ioctl(m, TIOCSWINSZ, &w));
    struct winsize g = {0};
    ASSERT_OK(ioctl(s, TIOCGWINSZ, &g));
    EXPECT_EQ(g.ws_row, 24);
    EXPECT_EQ(g.ws_col, 80);
    close(s);
    close(m);
}

TEST(pty_hangups)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    close(s);
    char buf[8];
    EXPECT_ERRNO(read(m, buf, sizeof(buf)), EIO);
    close(m);
    ASSERT_OK(pair(&m, &s));
    close(m);
    EXPECT_EQ(read(s, buf, sizeof(buf)), 0);
    EXPECT_ERRNO(write(s, "x", 1), EIO);
    close(s);
}

TEST(pty_slaves_are_listed_in_dev_pts)
{
    int m, s;
    ASSERT_OK(pair(&m, &s));
    unsigned n = 0;
    ASSERT_OK(ioctl(m, TIOCGPTN, &n));
    char want[16];
    snprintf(want, sizeof(want), "%u", n);
    DIR *d = opendir("/dev/pts");
    ASSERT_TRUE(d != NULL);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, want) == 0)
            found = 1;
    closedir(d);
    EXPECT_TRUE(found);
    close(s);
    close(m);
}

TEST(pty_interrupt_character_signals_the_foreground_group)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_OK(m);
    ASSERT_OK(grantpt(m));
    ASSERT_OK(unlockpt(m));
    char name[64];
    ASSERT_EQ(ptsname_r(m, name, sizeof(name)), 0);
    int ready[2];
    ASSERT_OK(pipe(ready));
    pid_t pid = fork();
    if (pid == 0) {
        if (setsid() < 0)
            _exit(10);
        /* A session leader opening a terminal without O_NOCTTY: it is
         * the controlling terminal, this process group the foreground. */
        int s = open(name, O_RDWR);
        if (s < 0)
            _exit(11);
        if (tcgetpgrp(s) != getpgrp())
            _exit(12);
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    EXPECT_EQ(write(m, "\x03", 1), 1);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGINT);
    char buf[8] = {0};
    EXPECT_EQ(read(m, buf, sizeof(buf)), 2);
    EXPECT_STREQ(buf, "^C");
    close(ready[0]);
    close(ready[1]);
    close(m);
}
