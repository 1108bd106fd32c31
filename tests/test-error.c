/* Tests for include/tally/error.h and lib/error.h: status texts, the
 * calling thread's last error record, message formats, shortening of the
 * offending text and per-thread isolation.
 *
 * Expected values are written out by hand next to each check.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "tally/error.h"

#if !defined(__STDC_NO_THREADS__)
#include <threads.h>
#define HAVE_C11_THREADS 1
#else
#define HAVE_C11_THREADS 0
#endif

/* 1 when [s, s+len) is well-formed UTF-8; written here independently of
 * lib/util.c so the shortening check does not trust the code under test. */
static int valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        if (c < 0x80)
            n = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3;
        else
            return 0;
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

static void test_error__strerror_fixed_texts(void **state)
{
    (void)state;
    /* The texts are part of what users see in messages and bindings. */
    assert_string_equal(tally_strerror(TALLY_OK), "success");
    assert_string_equal(tally_strerror(TALLY_ENOMEM), "out of memory");
    assert_string_equal(tally_strerror(TALLY_EIO), "input/output error");
    assert_string_equal(tally_strerror(TALLY_EPARSE), "malformed input");
    assert_string_equal(tally_strerror(TALLY_ENOTFOUND), "not found");
    assert_string_equal(tally_strerror(TALLY_EINVAL), "invalid argument or value");
    assert_string_equal(tally_strerror(TALLY_EEXIST), "given twice");
    assert_string_equal(tally_strerror(TALLY_ERANGE), "number out of range");
    assert_string_equal(tally_strerror(TALLY_ENOTSUP), "not supported");
    assert_string_equal(tally_strerror(TALLY_ECYCLE), "cycle");
    assert_string_equal(tally_strerror(TALLY_ELIMIT), "limit exceeded");
}

static void test_error__codes_never_renumbered(void **state)
{
    (void)state;
    /* Bindings hard-code these numbers (error.h: never renumbered). */
    assert_int_equal(TALLY_OK, 0);
    assert_int_equal(TALLY_ENOMEM, -1);
    assert_int_equal(TALLY_EIO, -2);
    assert_int_equal(TALLY_EPARSE, -3);
    assert_int_equal(TALLY_ENOTFOUND, -4);
    assert_int_equal(TALLY_EINVAL, -5);
    assert_int_equal(TALLY_EEXIST, -6);
    assert_int_equal(TALLY_ERANGE, -7);
    assert_int_equal(TALLY_ENOTSUP, -8);
    assert_int_equal(TALLY_ECYCLE, -9);
    assert_int_equal(TALLY_ELIMIT, -10);
}

static void test_error__strerror_texts_distinct(void **state)
{
    (void)state;
    for (int a = TALLY_ELIMIT; a <= TALLY_OK; a++) {
        assert_non_null(tally_strerror(a));
        assert_true(strlen(tally_strerror(a)) > 0);
        assert_string_not_equal(tally_strerror(a), "unknown error");
        for (int b = TALLY_ELIMIT; b < a; b++)
            assert_string_not_equal(tally_strerror(a), tally_strerror(b));
    }
}

static void test_error__strerror_unknown(void **state)
{
    (void)state;
    static const int unknown[] = { 1, 2, 42, -11, -12, -100, INT_MAX, INT_MIN };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(tally_strerror(unknown[i]), "unknown error");
}

static void expect_clear_record(void)
{
    const tally_error *e = tally_error_last();
    assert_non_null(e);
    assert_int_equal(e->code, 0);
    assert_non_null(e->message);
    assert_string_equal(e->message, "");
    assert_null(e->path);
    assert_int_equal(e->line, 0);
    assert_int_equal(e->column, 0);
    assert_null(e->text);
}

static void test_error__fresh_record_empty(void **state)
{
    (void)state;
    /* Runs first: nothing has failed on this thread yet. */
    expect_clear_record();
    assert_string_equal(tally_error__reason(), "");
}

static void test_error__clear(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EPARSE, "a.csv", 3, 4, "xyz", 3, "bad %s", "thing");
    assert_int_equal(tally_error_last()->code, TALLY_EPARSE);
    tally_error_clear();
    expect_clear_record();
    assert_string_equal(tally_error__reason(), "");
    /* Clearing twice is harmless. */
    tally_error_clear();
    expect_clear_record();
}

static void test_error__set_without_location(void **state)
{
    (void)state;
    tally_error_clear();
    int rc = tally_error__set(TALLY_EINVAL, "indicator %s: decimals %d out of range", "poor", 99);
    assert_int_equal(rc, TALLY_EINVAL);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EINVAL);
    assert_string_equal(e->message, "indicator poor: decimals 99 out of range");
    assert_null(e->path);
    assert_int_equal(e->line, 0);
    assert_int_equal(e->column, 0);
    assert_null(e->text);
    /* No location: the reason is the whole message. */
    assert_string_equal(tally_error__reason(), "indicator poor: decimals 99 out of range");
}

static void test_error__set_at_line_and_column(void **state)
{
    (void)state;
    int rc = tally_error__set_at(TALLY_EPARSE, "records.csv", 12, 7, "1,5", 3,
                                 "bad number '%s'; expected a decimal", "1,5");
    assert_int_equal(rc, TALLY_EPARSE);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EPARSE);
    assert_string_equal(e->message, "records.csv:12:7: bad number '1,5'; expected a decimal");
    assert_string_equal(e->path, "records.csv");
    assert_int_equal(e->line, 12);
    assert_int_equal(e->column, 7);
    assert_string_equal(e->text, "1,5");
    assert_string_equal(tally_error__reason(), "bad number '1,5'; expected a decimal");
}

static void test_error__set_at_line_only(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EEXIST, "h.csv", 5, 0, NULL, 0, "code %s given twice", "11");
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EEXIST);
    assert_string_equal(e->message, "h.csv:5: code 11 given twice");
    assert_string_equal(e->path, "h.csv");
    assert_int_equal(e->line, 5);
    assert_int_equal(e->column, 0);
    assert_null(e->text);
    assert_string_equal(tally_error__reason(), "code 11 given twice");
}

static void test_error__set_at_path_only(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EIO, "/no/such/file.csv", 0, 0, NULL, 0, "cannot open: %s",
                        "No such file or directory");
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EIO);
    assert_string_equal(e->message, "/no/such/file.csv: cannot open: No such file or directory");
    assert_string_equal(e->path, "/no/such/file.csv");
    assert_int_equal(e->line, 0);
    assert_int_equal(e->column, 0);
    assert_string_equal(tally_error__reason(), "cannot open: No such file or directory");
}

static void test_error__set_at_without_path(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EPARSE, NULL, 0, 0, "abc", 3, "not a period");
    const tally_error *e = tally_error_last();
    assert_string_equal(e->message, "not a period");
    assert_null(e->path);
    assert_string_equal(e->text, "abc");
    assert_string_equal(tally_error__reason(), "not a period");
}

static void test_error__record_overwritten(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EPARSE, "a.csv", 1, 2, "t", 1, "first");
    tally_error__set(TALLY_ENOMEM, "second");
    const tally_error *e = tally_error_last();
    /* Nothing of the first record may survive into the second. */
    assert_int_equal(e->code, TALLY_ENOMEM);
    assert_string_equal(e->message, "second");
    assert_null(e->path);
    assert_int_equal(e->line, 0);
    assert_int_equal(e->column, 0);
    assert_null(e->text);
}

static void test_error__reraise_reason_with_location(void **state)
{
    (void)state;
    /* A helper fails without a location; its caller adds one, passing the
     * old reason as an argument that points into the record itself. */
    tally_error__set(TALLY_EPARSE, "expected YYYY-MM, YYYY-Qn or YYYY");
    tally_error__set_at(TALLY_EPARSE, "r.csv", 4, 9, "2019/08", 7, "%s", tally_error__reason());
    assert_string_equal(tally_error_last()->message,
                        "r.csv:4:9: expected YYYY-MM, YYYY-Qn or YYYY");
    assert_string_equal(tally_error__reason(), "expected YYYY-MM, YYYY-Qn or YYYY");
    /* And again, from a record that already has a location. */
    tally_error__set_at(TALLY_EPARSE, "s.csv", 1, 1, NULL, 0, "%s", tally_error__reason());
    assert_string_equal(tally_error_last()->message, "s.csv:1:1: expected YYYY-MM, YYYY-Qn or YYYY");
    /* The whole message as an argument. */
    tally_error__set(TALLY_EINVAL, "outer: %s", tally_error_last()->message);
    assert_string_equal(tally_error_last()->message,
                        "outer: s.csv:1:1: expected YYYY-MM, YYYY-Qn or YYYY");
}

static void test_error__text_uses_length_not_nul(void **state)
{
    (void)state;
    /* Fields point into a larger buffer: only text_len bytes belong. */
    tally_error__set_at(TALLY_EPARSE, "f", 1, 1, "abcdef", 3, "x");
    assert_string_equal(tally_error_last()->text, "abc");
    tally_error__set_at(TALLY_EPARSE, "f", 1, 1, "abcdef", 0, "x");
    assert_non_null(tally_error_last()->text);
    assert_string_equal(tally_error_last()->text, "");
}

static void test_error__short_text_kept(void **state)
{
    (void)state;
    /* 20 Chinese characters, 60 bytes: "a few dozen characters" fit. */
    const char *t = "湖南省岳阳市岳阳楼区街道村民委员会第一组";
    tally_error__set_at(TALLY_EPARSE, "f", 1, 1, t, strlen(t), "x");
    assert_string_equal(tally_error_last()->text, t);
    /* 40 ASCII characters. */
    const char *a = "0123456789012345678901234567890123456789";
    tally_error__set_at(TALLY_EPARSE, "f", 1, 1, a, strlen(a), "x");
    assert_string_equal(tally_error_last()->text, a);
}

/* Checks the shortened form of `src`: a proper prefix cut on a character
 * boundary, followed by "...", and no longer than the input. */
static void expect_shortened(const char *src, size_t len)
{
    const char *t = tally_error_last()->text;
    assert_non_null(t);
    size_t tl = strlen(t);
    assert_true(tl >= 3);
    assert_string_equal(t + tl - 3, "...");
    size_t keep = tl - 3;
    assert_true(keep > 0);   /* something of the text is kept */
    assert_true(keep < len); /* and it was really shortened */
    assert_memory_equal(t, src, keep);
    /* Cut on a boundary: the kept prefix is valid UTF-8 and the next input
     * byte starts a character. */
    assert_true(valid_utf8((const unsigned char *)t, keep));
    assert_true(((unsigned char)src[keep] & 0xC0) != 0x80);
}

static void test_error__long_text_shortened_ascii(void **state)
{
    (void)state;
    char src[1000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)('a' + i % 26);
    tally_error__set_at(TALLY_EPARSE, "f", 2, 3, src, sizeof src, "too long");
    expect_shortened(src, sizeof src);
    /* The rest of the record is not disturbed by the long text. */
    assert_string_equal(tally_error_last()->message, "f:2:3: too long");
}

static void test_error__long_text_shortened_utf8_boundary(void **state)
{
    (void)state;
    /* Every alignment of 2-, 3- and 4-byte characters against the cut:
     * 0..3 ASCII bytes, then multi-byte characters. */
    static const char *const chars[] = { "é", "中", "😀" };
    for (size_t c = 0; c < 3; c++) {
        for (size_t pad = 0; pad < 4; pad++) {
            char src[600];
            size_t n = 0;
            for (size_t k = 0; k < pad; k++)
                src[n++] = 'x';
            size_t cl = strlen(chars[c]);
            while (n + cl < sizeof src) {
                memcpy(src + n, chars[c], cl);
                n += cl;
            }
            tally_error__set_at(TALLY_EPARSE, "f", 1, 1, src, n, "x");
            expect_shortened(src, n);
        }
    }
}

static void test_error__long_message_truncated_safely(void **state)
{
    (void)state;
    /* Longer than any message buffer: must be cut, NUL-terminated, and
     * keep its beginning. */
    char big[5000];
    memset(big, 'r', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tally_error__set_at(TALLY_EPARSE, "p.csv", 1, 2, NULL, 0, "%s", big);
    const char *m = tally_error_last()->message;
    assert_true(strlen(m) < sizeof big);
    assert_true(strncmp(m, "p.csv:1:2: rrrr", 15) == 0);

    /* A very long path: the message still starts with the reason or the
     * path, and nothing overflows. */
    char path[3000];
    memset(path, 'd', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open");
    m = tally_error_last()->message;
    assert_true(strlen(m) < sizeof path + 20);
    assert_int_equal(tally_error_last()->code, TALLY_EIO);
    assert_non_null(tally_error_last()->path);
    assert_true(strncmp(tally_error_last()->path, "ddd", 3) == 0);
}

#if HAVE_C11_THREADS
typedef struct thread_report {
    int initial_code;
    char initial_message[64];
    const void *record;
    int own_code;
    char own_message[64];
} thread_report;

static int other_thread(void *arg)
{
    thread_report *r = arg;
    const tally_error *e = tally_error_last();
    r->record = e;
    r->initial_code = e->code;
    snprintf(r->initial_message, sizeof r->initial_message, "%s", e->message ? e->message : "(null)");
    tally_error__set_at(TALLY_ECYCLE, "t.yaml", 9, 9, NULL, 0, "in the thread");
    r->own_code = tally_error_last()->code;
    snprintf(r->own_message, sizeof r->own_message, "%s", tally_error_last()->message);
    return 0;
}

static void test_error__record_is_per_thread(void **state)
{
    (void)state;
    tally_error__set_at(TALLY_EPARSE, "main.csv", 2, 5, "zz", 2, "in main");
    thread_report r;
    memset(&r, 0, sizeof r);
    thrd_t t;
    assert_int_equal(thrd_create(&t, other_thread, &r), thrd_success);
    int res = -1;
    assert_int_equal(thrd_join(t, &res), thrd_success);
    assert_int_equal(res, 0);

    /* A new thread starts with no error, not the main thread's. */
    assert_int_equal(r.initial_code, 0);
    assert_string_equal(r.initial_message, "");
    assert_ptr_not_equal(r.record, tally_error_last());
    assert_int_equal(r.own_code, TALLY_ECYCLE);
    assert_string_equal(r.own_message, "t.yaml:9:9: in the thread");

    /* The thread's error did not touch the main thread's record. */
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EPARSE);
    assert_string_equal(e->message, "main.csv:2:5: in main");
    assert_string_equal(e->path, "main.csv");
    assert_string_equal(e->text, "zz");
    assert_string_equal(tally_error__reason(), "in main");
}
#else
static void test_error__record_is_per_thread(void **state)
{
    (void)state;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error__fresh_record_empty),
        cmocka_unit_test(test_error__strerror_fixed_texts),
        cmocka_unit_test(test_error__codes_never_renumbered),
        cmocka_unit_test(test_error__strerror_texts_distinct),
        cmocka_unit_test(test_error__strerror_unknown),
        cmocka_unit_test(test_error__clear),
        cmocka_unit_test(test_error__set_without_location),
        cmocka_unit_test(test_error__set_at_line_and_column),
        cmocka_unit_test(test_error__set_at_line_only),
        cmocka_unit_test(test_error__set_at_path_only),
        cmocka_unit_test(test_error__set_at_without_path),
        cmocka_unit_test(test_error__record_overwritten),
        cmocka_unit_test(test_error__reraise_reason_with_location),
        cmocka_unit_test(test_error__text_uses_length_not_nul),
        cmocka_unit_test(test_error__short_text_kept),
        cmocka_unit_test(test_error__long_text_shortened_ascii),
        cmocka_unit_test(test_error__long_text_shortened_utf8_boundary),
        cmocka_unit_test(test_error__long_message_truncated_safely),
        cmocka_unit_test(test_error__record_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
