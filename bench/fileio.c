/* File and pipe throughput: fileio DIR MIB
 *
 * In DIR (a host directory bind-mounted into the sandbox): writes a MIB MiB
 * file sequentially in 1 MiB writes and fsyncs it, reads it back, creates
 * 10,000 small files and times stat of all of them and open+close of all
 * of them, then moves 256 MiB through a pipe between two processes.
 * Prints `write_mbps`, `read_mbps`, `stat_ms`, `open_close_ms`, `pipe_mbps`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILES 10000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fileio DIR MIB\n");
        return 2;
    }
    const char *dir = argv[1];
    long mib = atol(argv[2]);
    static char buf[1 << 20];
    memset(buf, 'x', sizeof(buf));
    char path[4096];

    snprintf(path, sizeof(path), "%s/big", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open big");
    double t0 = now();
    for (long i = 0; i < mib; i++)
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            die("write");
    if (fsync(fd) != 0)
        die("fsync");
    double t1 = now();
    close(fd);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        die("open big for reading");
    double t2 = now();
    long got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        got += n;
    double t3 = now();
    close(fd);
    unlink(path);
    if (got != mib << 20) {
        fprintf(stderr, "read %ld of %ld bytes\n", got, mib << 20);
        return 1;
    }

    snprintf(path, sizeof(path), "%s/many", dir);
    mkdir(path, 0755);
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof(path), "%s/many/f%d", dir, i);
        int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (f < 0)
            die("create");
        close(f);
    }
    struct stat st;
    double t4 = now();
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof(path), "%s/many/f%d", dir, i);
        if (stat(path, &st) != 0)
            die("stat");
    }
    double t5 = now();
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof(path), "%s/many/f%d", dir, i);
        int f = open(path, O_RDONLY);
        if (f < 0)
            die("open");
        close(f);
    }
    double t6 = now();
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof(path), "%s/many/f%d", dir, i);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/many", dir);
    rmdir(path);

    int p[2];
    if (pipe(p) != 0)
        die("pipe");
    const long pipe_bytes = 256L << 20;
    double t7 = now();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (long done = 0; done < pipe_bytes; done += 65536)
            if (write(p[1], buf, 65536) != 65536)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    long moved = 0;
    while ((n = read(p[0], buf, sizeof(buf))) > 0)
        moved += n;
    waitpid(pid, NULL, 0);
    double t8 = now();
    if (moved != pipe_bytes) {
        fprintf(stderr, "pipe moved %ld bytes\n", moved);
        return 1;
    }

    printf("write_mbps %.1f\nread_mbps %.1f\n", mib / (t1 - t0), mib / (t3 - t2));
    printf("stat_ms %.1f\nopen_close_ms %.1f\n", (t5 - t4) * 1e3, (t6 - t5) * 1e3);
    printf("pipe_mbps %.1f\n", 256 / (t8 - t7));
    return 0;
}
