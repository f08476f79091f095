/*
 * Thread create+join benchmark.
 *
 * Creates and joins N threads one after the other (argv[1], default 2000),
 * after a warm-up of N/10 (at least 10), timing the loop with
 * clock_gettime(CLOCK_MONOTONIC), and prints the mean cost of one
 * pthread_create + pthread_join pair:
 *
 *     thread_us <float>
 *
 * Each thread only returns its argument, which the joiner checks, so the
 * figure is clone(CLONE_THREAD|CLONE_VM|...), the new thread's startup
 * (set_robust_list, rseq, ...), its exit and the CLONE_CHILD_CLEARTID futex
 * wake that pthread_join waits for. Built with `gcc -static -O2 -pthread` so
 * that it runs unchanged natively and in either sandbox.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(2);
	}
	return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *body(void *arg)
{
	return arg;
}

static void one(long i)
{
	pthread_t t;
	void *ret;
	int e = pthread_create(&t, NULL, body, (void *)(intptr_t)i);
	if (e != 0) {
		fprintf(stderr, "pthread_create #%ld: %s\n", i, strerror(e));
		exit(1);
	}
	e = pthread_join(t, &ret);
	if (e != 0) {
		fprintf(stderr, "pthread_join #%ld: %s\n", i, strerror(e));
		exit(1);
	}
	if ((intptr_t)ret != (intptr_t)i) {
		fprintf(stderr, "thread #%ld returned %ld\n", i, (long)(intptr_t)ret);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	long n = 2000;
	if (argc > 1) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0) {
			fprintf(stderr, "usage: %s [iterations > 0]\n", argv[0]);
			return 2;
		}
	}

	long warm = n / 10 < 10 ? 10 : n / 10;
	for (long i = 0; i < warm; i++)
		one(i);

	long t0 = now_ns();
	for (long i = 0; i < n; i++)
		one(i);
	long t1 = now_ns();

	printf("thread_us %.2f\n", (double)(t1 - t0) / (double)n / 1000.0);
	return 0;
}
