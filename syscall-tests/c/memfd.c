/* memfd_create and file seals (F_ADD_SEALS / F_GET_SEALS). */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

TEST(memfd_is_a_regular_file_that_maps_shared)
{
    int fd = memfd_create("test", MFD_CLOEXEC);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(write(fd, "hello", 5), 5);
    char buf[8] = {0};
    EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
    EXPECT_STREQ(buf, "hello");
    ASSERT_OK(ftruncate(fd, 4096));
    struct stat st;
    ASSERT_OK(fstat(fd, &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 4096);
    EXPECT_EQ(st.st_nlink, 0);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_TRUE(m != MAP_FAILED);
    EXPECT_EQ(m[1], 'e');
    pid_t pid = fork();
    if (pid == 0) {
        m[0] = 'J';
        _exit(0);
    }
    EXPECT_EQ(pu_code(pu_wait(pid)), 0);
    EXPECT_EQ(pread(fd, buf, 5, 0), 5);
    EXPECT_STREQ(buf, "Jello");
    munmap(m, 4096);
    close(fd);
}

TEST(memfd_without_allow_sealing_is_sealed_against_seals)
{
    int fd = memfd_create("plain", 0);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
    EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    EXPECT_EQ(write(fd, "x", 1), 1);
    close(fd);
}

TEST(memfd_seals_shrink_grow_write)
{
    int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    ASSERT_OK(fd);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0);
    ASSERT_OK(ftruncate(fd, 8192));
    EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    EXPECT_ERRNO(ftruncate(fd, 4096), EPERM);
    EXPECT_OK(ftruncate(fd, 12288));
    EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    EXPECT_ERRNO(ftruncate(fd, 16384), EPERM);
    EXPECT_ERRNO(pwrite(fd, "x", 1, 12288), EPERM);
    EXPECT_EQ(pwrite(fd, "x", 1, 100), 1);
    EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    EXPECT_ERRNO(pwrite(fd, "y", 1, 100), EPERM);
    EXPECT_TRUE(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    EXPECT_EQ(errno, EPERM);
    void *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    EXPECT_TRUE(ro != MAP_FAILED);
    munmap(ro, 4096);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
    EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
    close(fd);
}

TEST(memfd_errors)
{
    EXPECT_ERRNO(memfd_create("x", 0x1000), EINVAL);
    char name[300];
    memset(name, 'n', sizeof(name));
    name[sizeof(name) - 1] = 0;
    EXPECT_ERRNO(memfd_create(name, 0), EINVAL);
    EXPECT_ERRNO(memfd_create((const char *)8, 0), EFAULT);
    int fd = memfd_create("s", MFD_ALLOW_SEALING);
    EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, 0x4000), EINVAL);
    close(fd);
    const char *p = sct_path("f");
    ASSERT_OK(sct_write_file(p, "x", 1));
    int reg = open(p, O_RDWR);
    /* A file that cannot be sealed reads as sealed against seals. */
    EXPECT_EQ(fcntl(reg, F_GET_SEALS), F_SEAL_SEAL);
    EXPECT_ERRNO(fcntl(reg, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    close(reg);
}
