/*
 * getppid round-trip benchmark.
 *
 * Calls syscall(SYS_getppid) N times (argv[1], default 200000) after a
 * warm-up of N/10 calls (at least 1000), timing the loop with
 * clock_gettime(CLOCK_MONOTONIC), and prints the mean cost of one call:
 *
 *     getppid_ns <float>
 *
 * Built with `gcc -static -O2` so that it runs unchanged natively and in
 * either sandbox. getppid is used because it does no work in any kernel:
 * the figure is the cost of the system call round trip itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(2);
	}
	return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = 200000;
	if (argc > 1) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0) {
			fprintf(stderr, "usage: %s [iterations > 0]\n", argv[0]);
			return 2;
		}
	}

	long warm = n / 10 < 1000 ? 1000 : n / 10;
	long expect = syscall(SYS_getppid);
	for (long i = 0; i < warm; i++)
		syscall(SYS_getppid);

	long bad = 0;
	long t0 = now_ns();
	for (long i = 0; i < n; i++)
		bad += syscall(SYS_getppid) != expect;
	long t1 = now_ns();

	if (bad != 0) {
		fprintf(stderr, "getppid returned an unexpected value %ld times\n", bad);
		return 1;
	}
	printf("getppid_ns %.1f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
