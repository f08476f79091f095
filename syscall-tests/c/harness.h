/*
 * Tiny single-process test harness for the syscall test programs.
 *
 *   #include "harness.h"
 *   TEST(open_missing_enoent) {
 *       EXPECT_ERRNO(open(sct_path("nope"), O_RDONLY), ENOENT);
 *   }
 *
 * Cases run sequentially in one process (no fork), in source order. After
 * each case the harness closes file descriptors the case left open, removes
 * the case's scratch directory (see sct_scratch), restores the working
 * directory and the signal mask.
 *
 * Output, one flushed line per case:
 *   PASS <program>.<case>
 *   FAIL <program>.<case>: <file>:<line>: <expression>, got X want Y
 * then "N passed, N failed". `prog --list` prints the case names; extra
 * arguments select cases by exact name. Exit status 0 iff all ran cases passed.
 */
#ifndef SCT_HARNESS_H
#define SCT_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* Registers a case; called by the constructors that TEST() emits. */
void sct_register(const char *file, int line, const char *name, void (*fn)(void));
/* Records a failure (the first one of a case is reported on its FAIL line). */
void sct_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the current case (after a failed ASSERT_*). */
void sct_abort_case(void) __attribute__((noreturn));
/* Name of an errno value ("ENOENT"), or its number. */
const char *sct_errname(int e);

/* The case's scratch directory "/tmp/sct.<pid>.<case>", created on first
 * use and removed recursively after the case. */
const char *sct_scratch(void);
/* "<scratch>/<name>" (from a small ring of static buffers). */
const char *sct_path(const char *name);
/* Creates (or truncates) `path` with the given contents; 0 or -1. */
int sct_write_file(const char *path, const void *data, size_t len);
/* Name of the running case. */
const char *sct_case_name(void);

/* Defines a case. */
#define TEST(name)                                                             \
    static void sct_test_##name(void);                                         \
    __attribute__((constructor)) static void sct_register_##name(void)         \
    {                                                                          \
        sct_register(__FILE__, __LINE__, #name, sct_test_##name);              \
    }                                                                          \
    static void sct_test_##name(void)

void sct_cmp_fail(const char *file, int line, const char *ea, const char *op,
                  const char *eb, long long a, long long b);

#define SCT_CMP(fatal, a, op, b, sa, sb)                                               \
    do {                                                                       \
        long long sct_a_ = (long long)(a);                                     \
        long long sct_b_ = (long long)(b);                                     \
        if (!(sct_a_ op sct_b_)) {                                             \
            sct_cmp_fail(__FILE__, __LINE__, sa, #op, sb, sct_a_, sct_b_);     \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

#define SCT_TRUE(fatal, cond, scond)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            sct_fail(__FILE__, __LINE__, "%s, got false want true", scond);    \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

/* `call` must return -1 and set errno to `e`. */
#define SCT_ERRNO(fatal, call, e, scall, se)                                              \
    do {                                                                       \
        errno = 0;                                                             \
        long long sct_r_ = (long long)(call);                                  \
        int sct_e_ = errno;                                                    \
        if (sct_r_ != -1 || sct_e_ != (e)) {                                   \
            sct_fail(__FILE__, __LINE__,                                       \
                     "%s, got %lld errno %s want -1 errno %s", scall, sct_r_,  \
                     sct_r_ == -1 ? sct_errname(sct_e_) : "-",                 \
                     sct_errname(e));                                          \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

/* `call` must not return -1. */
#define SCT_OK(fatal, call, scall)                                                    \
    do {                                                                       \
        long long sct_r_ = (long long)(call);                                  \
        if (sct_r_ == -1) {                                                    \
            int sct_e_ = errno;                                                \
            sct_fail(__FILE__, __LINE__, "%s, got -1 errno %s (%s) want success", \
                     scall, sct_errname(sct_e_), strerror(sct_e_));            \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

#define SCT_STREQ(fatal, a, b, sa, sb)                                                 \
    do {                                                                       \
        const char *sct_sa_ = (a), *sct_sb_ = (b);                             \
        if (sct_sa_ == NULL || sct_sb_ == NULL || strcmp(sct_sa_, sct_sb_)) {  \
            sct_fail(__FILE__, __LINE__, "%s == %s, got \"%s\" want \"%s\"",   \
                     sa, sb, sct_sa_ ? sct_sa_ : "(null)",                     \
                     sct_sb_ ? sct_sb_ : "(null)");                            \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

#define SCT_MEMEQ(fatal, a, b, n, sa, sb, sn)                                              \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0) {                                      \
            sct_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s) == 0, got differing bytes want equal", \
                     sa, sb, sn);                                              \
            if (fatal)                                                         \
                sct_abort_case();                                              \
        }                                                                      \
    } while (0)

#define EXPECT_EQ(a, b) SCT_CMP(0, a, ==, b, #a, #b)
#define EXPECT_NE(a, b) SCT_CMP(0, a, !=, b, #a, #b)
#define EXPECT_LT(a, b) SCT_CMP(0, a, <, b, #a, #b)
#define EXPECT_LE(a, b) SCT_CMP(0, a, <=, b, #a, #b)
#define EXPECT_GT(a, b) SCT_CMP(0, a, >, b, #a, #b)
#define EXPECT_GE(a, b) SCT_CMP(0, a, >=, b, #a, #b)
#define EXPECT_TRUE(c) SCT_TRUE(0, c, #c)
#define EXPECT_FALSE(c) SCT_TRUE(0, !(c), "!(" #c ")")
#define EXPECT_ERRNO(call, e) SCT_ERRNO(0, call, e, #call, #e)
#define EXPECT_OK(call) SCT_OK(0, call, #call)
#define EXPECT_STREQ(a, b) SCT_STREQ(0, a, b, #a, #b)
#define EXPECT_MEMEQ(a, b, n) SCT_MEMEQ(0, a, b, n, #a, #b, #n)

#define ASSERT_EQ(a, b) SCT_CMP(1, a, ==, b, #a, #b)
#define ASSERT_NE(a, b) SCT_CMP(1, a, !=, b, #a, #b)
#define ASSERT_LT(a, b) SCT_CMP(1, a, <, b, #a, #b)
#define ASSERT_LE(a, b) SCT_CMP(1, a, <=, b, #a, #b)
#define ASSERT_GT(a, b) SCT_CMP(1, a, >, b, #a, #b)
#define ASSERT_GE(a, b) SCT_CMP(1, a, >=, b, #a, #b)
#define ASSERT_TRUE(c) SCT_TRUE(1, c, #c)
#define ASSERT_FALSE(c) SCT_TRUE(1, !(c), "!(" #c ")")
#define ASSERT_ERRNO(call, e) SCT_ERRNO(1, call, e, #call, #e)
#define ASSERT_OK(call) SCT_OK(1, call, #call)
#define ASSERT_STREQ(a, b) SCT_STREQ(1, a, b, #a, #b)
#define ASSERT_MEMEQ(a, b, n) SCT_MEMEQ(1, a, b, n, #a, #b, #n)

/* An address that is never mapped (for EFAULT checks). */
#define BAD_PTR ((void *)1)

#endif
