/* Tests for lib/output.h: how every writer opens its file. A regular file
 * is replaced whole through a temporary file and only once everything was
 * written; a device is written through and stays a device; a link is
 * followed and stays a link; a failure leaves the previous output and no
 * temporary file.
 *
 * Every check looks at the file system afterwards (contents, inode, mode,
 * the directory's entries), not at what the module says it did.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "output.h"
#include "tally/error.h"

/* A fresh directory per test, removed with what is in it. */
typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/tally-test-output-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
        if (unlink(p) != 0) { /* a directory made by a test */
            char q[PATH_MAX + 8];
            snprintf(q, sizeof q, "%s/x", p);
            unlink(q);
            rmdir(p);
        }
    }
    if (d)
        closedir(d);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static const char *in_dir(const fixture *fx, const char *name)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", fx->dir, name);
    return p;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* The whole file, as a string (static buffer). */
static const char *file_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Entries of the directory whose names start with '.' (the temporary
 * files are ".<name>.<8 characters>.tmp"), "." and ".." left out. */
static int hidden_entries(const fixture *fx)
{
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void write_text(tally_output *o, const char *text)
{
    assert_int_equal(tally_output__write(o, text, strlen(text)), 0);
}

/* ---- regular files ------------------------------------------------------ */

static void test_output__new_file_gets_umask_mode(void **state)
{
    fixture *fx = *state;
    const char *path = in_dir(fx, "new.csv");
    mode_t old = umask(027);
    tally_output o;
    assert_int_equal(tally_output__open(&o, path, "the result"), 0);
    write_text(&o, "a,b\n1,2\n");
    assert_int_equal(tally_output__close(&o), 0);
    umask(old);
    assert_string_equal(file_text(path), "a,b\n1,2\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* 0666 less 027 */
    assert_int_equal(hidden_entries(fx), 0);
}

static void test_output__replaces_whole_keeping_mode(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "out.csv"));
    put_file(path, "the previous output, longer than the new one\n", 0604);
    struct stat before, during, after;
    assert_int_equal(stat(path, &before), 0);

    tally_output o;
    assert_int_equal(tally_output__open(&o, path, "the result"), 0);
    write_text(&o, "new\n");
    /* Until the close, readers see the previous output, whole, and the new
     * one waits in one hidden temporary file beside it. */
    assert_string_equal(file_text(path), "the previous output, longer than the new one\n");
    assert_int_equal(stat(path, &during), 0);
    assert_int_equal(during.st_ino, before.st_ino);
    assert_int_equal(hidden_entries(fx), 1);
    assert_non_null(o.tmp);
    assert_int_equal(strncmp(o.tmp, in_dir(fx, ".out.csv."), strlen(in_dir(fx, ".out.csv."))), 0);

    assert_int_equal(tally_output__close(&o), 0);
    assert_string_equal(file_text(path), "new\n");
    assert_int_equal(stat(path, &after), 0);
    assert_int_not_equal(after.st_ino, before.st_ino); /* replaced, not written in place */
    assert_int_equal(after.st_mode & 07777, 0604);
    assert_int_equal(hidden_entries(fx), 0);
}

static void test_output__failure_keeps_previous_output(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "out.csv"));
    put_file(path, "previous\n", 0644);

    tally_output o;
    assert_int_equal(tally_output__open(&o, path, "the result"), 0);
    write_text(&o, "half of a new out");
    tally_output__fail(&o, ENOSPC); /* as a full disk would */
    assert_int_equal(tally_output__write(&o, "put", 3), -1);
    assert_int_equal(tally_output__close(&o), TALLY_EIO);

    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EIO);
    assert_string_equal(e->path, path);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s: cannot write the result: %s", path, strerror(ENOSPC));
    assert_string_equal(e->message, want);
    assert_string_equal(file_text(path), "previous\n");
    assert_int_equal(hidden_entries(fx), 0);
}

static void test_output__discard_keeps_previous_output(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "out.snap"));
    put_file(path, "previous\n", 0644);
    tally_error__set(TALLY_ENOMEM, "the caller's own error");

    tally_output o;
    assert_int_equal(tally_output__open_stream(&o, path, "the snapshot"), 0);
    fputs("part of a snapshot", o.f);
    tally_output__discard(&o);
    assert_string_equal(file_text(path), "previous\n");
    assert_int_equal(hidden_entries(fx), 0);
    /* The caller's error stays the one to report. */
    assert_string_equal(tally_error_last()->message, "the caller's own error");
}

/* An output of several writeback windows (16 MiB each, sent to the disk
 * and dropped from the page cache as the file grows): the file is every
 * byte written, in order; given up half way, the previous file stays and
 * the temporary file goes. */
static void test_output__large_output_whole(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "big.csv"));
    put_file(path, "previous\n", 0644);
    enum { CHUNK = 1 << 20, CHUNKS = 50 }; /* 50 MiB: three windows and more */
    unsigned char *chunk = malloc(CHUNK);
    assert_non_null(chunk);
    for (int give_up = 1; give_up >= 0; give_up--) {
        tally_output o;
        assert_int_equal(tally_output__open(&o, path, "the result"), 0);
        for (size_t c = 0; c < CHUNKS; c++) {
            for (size_t k = 0; k < CHUNK; k++) /* byte i of the file: (i * 7 + i / 4099) mod 256 */
                chunk[k] = (unsigned char)((c * CHUNK + k) * 7 + (c * CHUNK + k) / 4099);
            /* An odd length, so that windows end inside writes. */
            assert_int_equal(tally_output__write(&o, chunk, CHUNK - (c == 0 ? 3 : 0)), 0);
            if (c == 0)
                assert_int_equal(tally_output__write(&o, chunk + CHUNK - 3, 3), 0);
            if (give_up && c == CHUNKS / 2)
                break;
        }
        if (give_up) {
            tally_output__discard(&o);
            assert_string_equal(file_text(path), "previous\n");
            assert_int_equal(hidden_entries(fx), 0);
            continue;
        }
        assert_int_equal(tally_output__close(&o), 0);
        assert_int_equal(hidden_entries(fx), 0);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t i = 0, n, bad = 0;
        while ((n = fread(chunk, 1, CHUNK, f)) > 0)
            for (size_t k = 0; k < n; k++, i++)
                bad += chunk[k] != (unsigned char)(i * 7 + i / 4099);
        fclose(f);
        assert_int_equal(i, (size_t)CHUNK * CHUNKS);
        assert_int_equal(bad, 0);
    }
    free(chunk);
}

static void test_output__stream(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "findings.csv"));
    tally_output o;
    assert_int_equal(tally_output__open_stream(&o, path, "the findings"), 0);
    for (int i = 0; i < 3; i++)
        fprintf(o.f, "row %d\n", i);
    assert_int_equal(tally_output__close(&o), 0);
    assert_string_equal(file_text(path), "row 0\nrow 1\nrow 2\n");
    assert_int_equal(hidden_entries(fx), 0);
}

/* Two writers of one path at once: each has its own temporary file, and
 * the one renamed last is the whole file. */
static void test_output__two_writers_last_wins_whole(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "same.csv"));
    tally_output a, b;
    assert_int_equal(tally_output__open(&a, path, "the result"), 0);
    assert_int_equal(tally_output__open(&b, path, "the result"), 0);
    assert_string_not_equal(a.tmp, b.tmp);
    assert_int_equal(hidden_entries(fx), 2);
    write_text(&a, "first writer, line 1\n");
    write_text(&b, "second writer, line 1\n");
    write_text(&a, "first writer, line 2\n");
    assert_int_equal(tally_output__close(&a), 0);
    assert_string_equal(file_text(path), "first writer, line 1\nfirst writer, line 2\n");
    write_text(&b, "second writer, line 2\n");
    assert_int_equal(tally_output__close(&b), 0);
    assert_string_equal(file_text(path), "second writer, line 1\nsecond writer, line 2\n");
    assert_int_equal(hidden_entries(fx), 0);
}

static void test_output__long_name(void **state)
{
    fixture *fx = *state;
    char name[256];
    memset(name, 'n', 255);
    name[255] = '\0';
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, name));
    tally_output o;
    assert_int_equal(tally_output__open(&o, path, "the result"), 0);
    write_text(&o, "x\n");
    assert_int_equal(tally_output__close(&o), 0);
    assert_string_equal(file_text(path), "x\n");
    assert_int_equal(hidden_entries(fx), 0);
}

/* ---- what cannot be opened ---------------------------------------------- */

static void test_output__missing_directory(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(fx, "no-such-dir/out.csv"));
    tally_output o;
    assert_int_equal(tally_output__open(&o, path, "the result"), TALLY_EIO);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s: cannot write the result: %s", path, strerror(ENOENT));
    assert_string_equal(tally_error_last()->message, want);
    tally_output__discard(&o); /* nothing left to close: does nothing */
}

/* Where no file may be made beside the destination (sysfs refuses even
 * root), the message says that it is the temporary file that failed. */
static void test_output__directory_refuses_new_files(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/sys/kernel", &st) != 0) {
        skip(); /* no sysfs here */
        return;
    }
    tally_output o;
    int rc = tally_output__open(&o, "/sys/out.csv", "the result");
    assert_int_equal(rc, TALLY_EIO);
    char want[256];
    snprintf(want, sizeof want,
             "/sys/out.csv: cannot write the result: cannot create a temporary file in /sys: %s",
             strerror(EACCES));
    assert_string_equal(tally_error_last()->message, want);
}

static void test_output__directory(void **state)
{
    fixture *fx = *state;
    tally_output o;
    assert_int_equal(tally_output__open(&o, fx->dir, "the result"), TALLY_EIO);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s: cannot write the result: %s", fx->dir, strerror(EISDIR));
    assert_string_equal(tally_error_last()->message, want);
}

/* ---- devices: written through, still devices ---------------------------- */

static void test_output__dev_null_written_through(void **state)
{
    (void)state;
    tally_output o;
    assert_int_equal(tally_output__open(&o, "/dev/null", "the result"), 0);
    assert_null(o.tmp);
    write_text(&o, "gone\n");
    assert_int_equal(tally_output__close(&o), 0);
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_output__dev_full_fails_with_errno_text(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/dev/full", &st) != 0) {
        skip(); /* no /dev/full on this system */
        return;
    }
    tally_output o;
    assert_int_equal(tally_output__open_stream(&o, "/dev/full", "the snapshot"), 0);
    for (int i = 0; i < 10000; i++)
        fputs("a line that does not fit\n", o.f);
    assert_int_equal(tally_output__close(&o), TALLY_EIO);
    char want[128];
    snprintf(want, sizeof want, "/dev/full: cannot write the snapshot: %s", strerror(ENOSPC));
    assert_string_equal(tally_error_last()->message, want);
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* ---- symbolic links: followed, and still links --------------------------- */

static void test_output__link_followed_and_kept(void **state)
{
    fixture *fx = *state;
    char target[PATH_MAX], link[PATH_MAX];
    snprintf(target, sizeof target, "%s", in_dir(fx, "real.csv"));
    snprintf(link, sizeof link, "%s", in_dir(fx, "link.csv"));
    put_file(target, "old\n", 0600);
    assert_int_equal(symlink("real.csv", link), 0); /* relative to the link's directory */

    tally_output o;
    assert_int_equal(tally_output__open(&o, link, "the result"), 0);
    write_text(&o, "through the link\n");
    assert_int_equal(tally_output__close(&o), 0);

    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char to[PATH_MAX];
    ssize_t n = readlink(link, to, sizeof to - 1);
    assert_int_equal(n, 8);
    to[n] = '\0';
    assert_string_equal(to, "real.csv");
    assert_string_equal(file_text(target), "through the link\n");
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(hidden_entries(fx), 0);
}

static void test_output__dangling_link_makes_its_file(void **state)
{
    fixture *fx = *state;
    char target[PATH_MAX], link[PATH_MAX];
    snprintf(target, sizeof target, "%s", in_dir(fx, "later.csv"));
    snprintf(link, sizeof link, "%s", in_dir(fx, "dangling.csv"));
    assert_int_equal(symlink(target, link), 0); /* absolute */
    tally_output o;
    assert_int_equal(tally_output__open(&o, link, "the result"), 0);
    write_text(&o, "made\n");
    assert_int_equal(tally_output__close(&o), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(file_text(target), "made\n");
}

static void test_output__link_loop(void **state)
{
    fixture *fx = *state;
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof a, "%s", in_dir(fx, "a"));
    snprintf(b, sizeof b, "%s", in_dir(fx, "b"));
    assert_int_equal(symlink("b", a), 0);
    assert_int_equal(symlink("a", b), 0);
    tally_output o;
    assert_int_equal(tally_output__open(&o, a, "the result"), TALLY_EIO);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s: cannot write the result: %s", a, strerror(ELOOP));
    assert_string_equal(tally_error_last()->message, want);
}

/* A failure behind a link names the file the link leads to. */
static void test_output__failure_behind_link_names_target(void **state)
{
    fixture *fx = *state;
    char target[PATH_MAX], link[PATH_MAX];
    snprintf(target, sizeof target, "%s", in_dir(fx, "real.csv"));
    snprintf(link, sizeof link, "%s", in_dir(fx, "link.csv"));
    put_file(target, "kept\n", 0644);
    assert_int_equal(symlink("real.csv", link), 0);
    tally_output o;
    assert_int_equal(tally_output__open(&o, link, "the result"), 0);
    tally_output__fail(&o, EIO);
    assert_int_equal(tally_output__close(&o), TALLY_EIO);
    char want[3 * PATH_MAX];
    snprintf(want, sizeof want, "%s: cannot write the result to %s, where the link leads: %s",
             link, target, strerror(EIO));
    assert_string_equal(tally_error_last()->message, want);
    assert_string_equal(file_text(target), "kept\n");
    assert_int_equal(hidden_entries(fx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_output__new_file_gets_umask_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__replaces_whole_keeping_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__failure_keeps_previous_output, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output__discard_keeps_previous_output, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output__large_output_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__two_writers_last_wins_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__long_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__missing_directory, setup, teardown),
        cmocka_unit_test(test_output__directory_refuses_new_files),
        cmocka_unit_test_setup_teardown(test_output__directory, setup, teardown),
        cmocka_unit_test(test_output__dev_null_written_through),
        cmocka_unit_test(test_output__dev_full_fails_with_errno_text),
        cmocka_unit_test_setup_teardown(test_output__link_followed_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__dangling_link_makes_its_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output__link_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output__failure_behind_link_names_target, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
