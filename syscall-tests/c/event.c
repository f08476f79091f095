/* epoll, eventfd and unix socket pairs: readiness, edge and one-shot
 * triggering, blocking and non-blocking reads, errors. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

TEST(eventfd_counter_and_semaphore)
{
    int fd = eventfd(3, 0);
    ASSERT_OK(fd);
    uint64_t v = 0;
    EXPECT_EQ(read(fd, &v, 8), 8);
    EXPECT_EQ(v, 3);
    v = 2;
    EXPECT_EQ(write(fd, &v, 8), 8);
    EXPECT_EQ(write(fd, &v, 8), 8);
    EXPECT_EQ(read(fd, &v, 8), 8);
    EXPECT_EQ(v, 4);
    close(fd);
    fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    ASSERT_OK(fd);
    EXPECT_EQ(read(fd, &v, 8), 8);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(read(fd, &v, 8), 8);
    EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
    close(fd);
}

TEST(eventfd_errors)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    ASSERT_OK(fd);
    uint32_t small = 1;
    EXPECT_ERRNO(read(fd, &small, 4), EINVAL);
    EXPECT_ERRNO(write(fd, &small, 4), EINVAL);
    uint64_t max = UINT64_MAX;
    EXPECT_ERRNO(write(fd, &max, 8), EINVAL);
    close(fd);
    EXPECT_ERRNO(eventfd(0, 0x12345), EINVAL);
}

TEST(epoll_level_triggered_pipe)
{
    int p[2];
    ASSERT_OK(pipe(p));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ASSERT_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    struct epoll_event out[4];
    EXPECT_EQ(epoll_wait(ep, out, 4, 0), 0);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(epoll_wait(ep, out, 4, 1000), 1);
    EXPECT_EQ(out[0].data.u64, 77);
    EXPECT_TRUE(out[0].events & EPOLLIN);
    /* Level-triggered: still ready until read. */
    EXPECT_EQ(epoll_wait(ep, out, 4, 0), 1);
    close(p[0]);
    close(p[1]);
    close(ep);
}

TEST(epoll_edge_triggered_and_oneshot)
{
    int p[2];
    ASSERT_OK(pipe(p));
    int ep = epoll_create1(0);
    ASSERT_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = p[0]};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    struct epoll_event out[2];
    EXPECT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(epoll_wait(ep, out, 2, 1000), 1);
    EXPECT_EQ(epoll_wait(ep, out, 2, 0), 0);
    ev.events = EPOLLIN | EPOLLONESHOT;
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    EXPECT_EQ(epoll_wait(ep, out, 2, 0), 1);
    EXPECT_EQ(epoll_wait(ep, out, 2, 0), 0);
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    EXPECT_EQ(epoll_wait(ep, out, 2, 0), 1);
    close(p[0]);
    close(p[1]);
    close(ep);
}

TEST(epoll_ctl_errors)
{
    int ep = epoll_create1(0);
    ASSERT_OK(ep);
    int p[2];
    ASSERT_OK(pipe(p));
    struct epoll_event ev = {.events = EPOLLIN};
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev), ENOENT);
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    EXPECT_ERRNO(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, 9999, &ev), EBADF);
    EXPECT_ERRNO(epoll_create1(0x1234), EINVAL);
    EXPECT_ERRNO(epoll_create(0), EINVAL);
    struct epoll_event out[1];
    EXPECT_ERRNO(epoll_wait(ep, out, 0, 0), EINVAL);
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    close(p[0]);
    close(p[1]);
    close(ep);
}

TEST(epoll_wait_timeout)
{
    int ep = epoll_create1(0);
    ASSERT_OK(ep);
    int fd = eventfd(0, 0);
    struct epoll_event ev = {.events = EPOLLIN};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out[1];
    EXPECT_EQ(epoll_wait(ep, out, 1, 30), 0);
    uint64_t one = 1;
    EXPECT_EQ(write(fd, &one, 8), 8);
    EXPECT_EQ(epoll_wait(ep, out, 1, 30), 1);
    close(fd);
    close(ep);
}

TEST(socketpair_stream_both_ways)
{
    int sv[2];
    ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    EXPECT_EQ(write(sv[0], "ping", 4), 4);
    char buf[8] = {0};
    EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 4);
    EXPECT_EQ(memcmp(buf, "ping", 4), 0);
    EXPECT_EQ(send(sv[1], "pong", 4, 0), 4);
    EXPECT_EQ(recv(sv[0], buf, sizeof(buf), 0), 4);
    EXPECT_EQ(memcmp(buf, "pong", 4), 0);
    EXPECT_ERRNO(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
    int type = 0;
    socklen_t len = sizeof(type);
    EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
    EXPECT_EQ(type, SOCK_STREAM);
    close(sv[1]);
    EXPECT_EQ(read(sv[0], buf, sizeof(buf)), 0);
    close(sv[0]);
}

TEST(socketpair_errors)
{
    int sv[2];
    EXPECT_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
    int p[2];
    ASSERT_OK(pipe(p));
    char c;
    EXPECT_ERRNO(recv(p[0], &c, 1, MSG_DONTWAIT), ENOTSOCK);
    close(p[0]);
    close(p[1]);
}

TEST(timerfd_expirations_and_epoll)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    ASSERT_OK(fd);
    uint64_t n = 0;
    EXPECT_ERRNO(read(fd, &n, 8), EAGAIN);
    struct itimerspec its = {.it_interval = {0, 10 * 1000 * 1000}, .it_value = {0, 10 * 1000 * 1000}};
    EXPECT_OK(timerfd_settime(fd, 0, &its, NULL));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event out[1];
    EXPECT_EQ(epoll_wait(ep, out, 1, 1000), 1);
    usleep(30 * 1000);
    EXPECT_EQ(read(fd, &n, 8), 8);
    EXPECT_TRUE(n >= 2);
    struct itimerspec cur;
    EXPECT_OK(timerfd_gettime(fd, &cur));
    EXPECT_EQ(cur.it_interval.tv_nsec, 10 * 1000 * 1000);
    struct itimerspec off = {0};
    EXPECT_OK(timerfd_settime(fd, 0, &off, NULL));
    EXPECT_ERRNO(read(fd, &n, 8), EAGAIN);
    EXPECT_ERRNO(timerfd_create(12345, 0), EINVAL);
    close(ep);
    close(fd);
}

TEST(signalfd_reads_blocked_signals)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    ASSERT_OK(sigprocmask(SIG_BLOCK, &set, &old));
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    ASSERT_OK(fd);
    struct signalfd_siginfo si;
    EXPECT_ERRNO(read(fd, &si, sizeof(si)), EAGAIN);
    EXPECT_OK(kill(getpid(), SIGUSR2));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    EXPECT_EQ(poll(&p, 1, 1000), 1);
    EXPECT_EQ(read(fd, &si, sizeof(si)), (ssize_t)sizeof(si));
    EXPECT_EQ(si.ssi_signo, SIGUSR2);
    EXPECT_EQ(si.ssi_code, SI_USER);
    EXPECT_EQ(si.ssi_pid, (uint32_t)getpid());
    EXPECT_ERRNO(read(fd, &si, 8), EINVAL);
    /* Updating the mask of an existing signalfd. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    EXPECT_EQ(signalfd(fd, &set, 0), fd);
    close(fd);
    ASSERT_OK(sigprocmask(SIG_SETMASK, &old, NULL));
}
