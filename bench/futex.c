/*
 * Futex ping-pong benchmark.
 *
 * Two threads hand a token back and forth N times (argv[1], default 100000)
 * through two futex words, after a warm-up of N/10 (at least 100) round
 * trips. The main thread ("ping") sets word a, FUTEX_WAKEs it, and
 * FUTEX_WAITs on word b until the other thread ("pong"), which waits on a,
 * sets b and wakes it. One round trip is therefore two FUTEX_WAKEs, at least
 * two FUTEX_WAITs and two thread switches. The loop is timed with
 * clock_gettime(CLOCK_MONOTONIC) and the mean cost of one round trip is
 * printed:
 *
 *     futex_pingpong_us <float>
 *
 * Raw futex(2) calls (FUTEX_PRIVATE_FLAG), no spinning, so each hand-off goes
 * through the kernel (or the sandbox). Built with `gcc -static -O2 -pthread`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* a: ping -> pong, b: pong -> ping. Each holds the number of the last
 * round trip its sender started / finished; 0 before the first. */
static _Atomic int a, b;
static long total;

static long now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(2);
	}
	return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void fwait(_Atomic int *w, int old)
{
	/* Sleep while *w still holds old; EAGAIN (changed already) and EINTR
	 * just mean "look again". */
	while (atomic_load(w) == old) {
		if (syscall(SYS_futex, w, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, old, NULL, NULL, 0) != 0
		    && errno != EAGAIN && errno != EINTR) {
			perror("futex wait");
			exit(1);
		}
	}
}

static void fwake(_Atomic int *w, int v)
{
	atomic_store(w, v);
	if (syscall(SYS_futex, w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) < 0) {
		perror("futex wake");
		exit(1);
	}
}

static void *pong(void *arg)
{
	(void)arg;
	for (long i = 1; i <= total; i++) {
		fwait(&a, (int)(i - 1));
		fwake(&b, (int)i);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = 100000;
	if (argc > 1) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0 || n > 1000000000L) {
			fprintf(stderr, "usage: %s [iterations in 1..1e9]\n", argv[0]);
			return 2;
		}
	}
	long warm = n / 10 < 100 ? 100 : n / 10;
	total = warm + n;

	pthread_t t;
	int e = pthread_create(&t, NULL, pong, NULL);
	if (e != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(e));
		return 1;
	}

	long t0 = 0;
	for (long i = 1; i <= total; i++) {
		if (i == warm + 1)
			t0 = now_ns();
		fwake(&a, (int)i);
		fwait(&b, (int)(i - 1));
	}
	long t1 = now_ns();

	e = pthread_join(t, NULL);
	if (e != 0) {
		fprintf(stderr, "pthread_join: %s\n", strerror(e));
		return 1;
	}
	if (atomic_load(&a) != (int)total || atomic_load(&b) != (int)total) {
		fprintf(stderr, "futex words ended at a=%d b=%d, expected %ld\n",
			atomic_load(&a), atomic_load(&b), total);
		return 1;
	}
	printf("futex_pingpong_us %.2f\n", (double)(t1 - t0) / (double)n / 1000.0);
	return 0;
}
