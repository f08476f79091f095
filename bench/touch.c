/* Page-fault-heavy workload: maps MiB of fresh anonymous memory and writes
 * one byte to every 4 KiB page, so that every page is faulted in once.
 * Prints `touch_ms <wall time of the touching>` and `touch_pages <n>`. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1024;
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    double t0 = now_ms();
    for (size_t off = 0; off < len; off += 4096)
        p[off] = 1;
    double t1 = now_ms();
    long sum = 0;
    for (size_t off = 0; off < len; off += 1 << 20)
        sum += p[off];
    if (sum != (long)(len >> 20)) {
        fprintf(stderr, "touch: wrong contents\n");
        return 1;
    }
    printf("touch_ms %.1f\ntouch_pages %zu\n", t1 - t0, len / 4096);
    return 0;
}
