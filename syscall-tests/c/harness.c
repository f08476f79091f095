/* Implementation of the test harness declared in harness.h. */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_CASES 512
#define FD_SCAN 256

struct sct_case {
    const char *file;
    int line;
    const char *name;
    void (*fn)(void);
};

static struct sct_case cases[MAX_CASES];
static int ncases;
static char program[64];

static const char *cur_name;
static int cur_failed;
static char cur_msg[1024];
static jmp_buf cur_jmp;
static char scratch[PATH_MAX];
static int scratch_made;

void sct_register(const char *file, int line, const char *name, void (*fn)(void))
{
    if (ncases >= MAX_CASES) {
        fprintf(stderr, "harness: too many cases\n");
        _exit(2);
    }
    if (!program[0]) {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        snprintf(program, sizeof(program), "%s", base);
        char *dot = strrchr(program, '.');
        if (dot)
            *dot = 0;
    }
    cases[ncases++] = (struct sct_case){file, line, name, fn};
}

/* Writes a whole line to stdout without stdio buffering. */
static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= w;
    }
}

void sct_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if (*c == '\n')
            *c = ' ';
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    fprintf(stderr, "%s.%s: %s:%d: %s\n", program, cur_name ? cur_name : "?", base, line, msg);
    fflush(stderr);
    if (!cur_failed)
        snprintf(cur_msg, sizeof(cur_msg), "%s:%d: %s", base, line, msg);
    cur_failed = 1;
}

static void fmt_val(char *buf, size_t n, long long v)
{
    if (v > 65535 || v < -65535)
        snprintf(buf, n, "%lld (%#llx)", v, (unsigned long long)v);
    else
        snprintf(buf, n, "%lld", v);
}

void sct_cmp_fail(const char *file, int line, const char *ea, const char *op,
                  const char *eb, long long a, long long b)
{
    char va[64], vb[64];
    fmt_val(va, sizeof(va), a);
    fmt_val(vb, sizeof(vb), b);
    if (strcmp(op, "==") == 0)
        sct_fail(file, line, "%s == %s, got %s want %s", ea, eb, va, vb);
    else
        sct_fail(file, line, "%s %s %s, got %s want %s %s", ea, op, eb, va, op, vb);
}

void sct_abort_case(void)
{
    longjmp(cur_jmp, 1);
}

const char *sct_errname(int e)
{
    static char buf[4][32];
    static int idx;
    const char *n = strerrorname_np(e);
    if (n)
        return n;
    char *b = buf[idx++ % 4];
    snprintf(b, sizeof(buf[0]), "errno %d", e);
    return b;
}

const char *sct_case_name(void)
{
    return cur_name;
}

const char *sct_scratch(void)
{
    if (!scratch_made) {
        snprintf(scratch, sizeof(scratch), "/tmp/sct.%d.%s", (int)getpid(), cur_name);
        if (mkdir(scratch, 0755) != 0 && errno != EEXIST) {
            sct_fail(__FILE__, __LINE__, "mkdir(%s): %s", scratch, strerror(errno));
            sct_abort_case();
        }
        scratch_made = 1;
    }
    return scratch;
}

const char *sct_path(const char *name)
{
    static char bufs[8][PATH_MAX];
    static int idx;
    char *b = bufs[idx++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", sct_scratch(), name);
    return b;
}

int sct_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        len -= w;
    }
    return close(fd);
}

/* Removes `path` and everything below it (symlinks are not followed). */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char child[PATH_MAX];
                snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        if (rmdir(path) != 0)
            fprintf(stderr, "harness: rmdir(%s): %s\n", path, strerror(errno));
    } else if (unlink(path) != 0) {
        fprintf(stderr, "harness: unlink(%s): %s\n", path, strerror(errno));
    }
}

static int cmp_case(const void *a, const void *b)
{
    const struct sct_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : x->line - y->line;
}

/* Runs one case; returns 1 if it passed. */
static int run_case(const struct sct_case *c)
{
    unsigned char open_before[FD_SCAN];
    char cwd[PATH_MAX];
    sigset_t mask;
    int have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    for (int fd = 0; fd < FD_SCAN; fd++)
        open_before[fd] = fcntl(fd, F_GETFD) != -1;

    cur_name = c->name;
    cur_failed = 0;
    cur_msg[0] = 0;
    scratch_made = 0;
    if (setjmp(cur_jmp) == 0)
        c->fn();

    if (have_cwd && chdir(cwd) != 0)
        fprintf(stderr, "harness: chdir(%s): %s\n", cwd, strerror(errno));
    sigprocmask(SIG_SETMASK, &mask, NULL);
    for (int fd = 3; fd < FD_SCAN; fd++)
        if (!open_before[fd] && fcntl(fd, F_GETFD) != -1)
            close(fd);
    if (scratch_made)
        remove_tree(scratch);

    if (cur_failed)
        out_line("FAIL %s.%s: %s", program, c->name, cur_msg);
    else
        out_line("PASS %s.%s", program, c->name);
    cur_name = NULL;
    return !cur_failed;
}

int main(int argc, char **argv)
{
    qsort(cases, ncases, sizeof(cases[0]), cmp_case);
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ncases; i++)
            out_line("%s", cases[i].name);
        return 0;
    }
    int passed = 0, failed = 0;
    if (argc > 1) {
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < ncases; i++) {
                if (strcmp(cases[i].name, argv[a]) == 0) {
                    found = 1;
                    if (run_case(&cases[i]))
                        passed++;
                    else
                        failed++;
                }
            }
            if (!found) {
                out_line("FAIL %s.%s: no such case", program, argv[a]);
                failed++;
            }
        }
    } else {
        for (int i = 0; i < ncases; i++) {
            if (run_case(&cases[i]))
                passed++;
            else
                failed++;
        }
    }
    out_line("%d passed, %d failed", passed, failed);
    return failed ? 1 : 0;
}
