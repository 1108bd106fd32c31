/* Tests for lib/period.h: parsing and formatting months, quarters and
 * years, their spans in months, the period a year before and the previous
 * period, and ordering; and for the public tally/period.h made over it,
 * which must accept exactly the same texts.
 *
 * Keys are opaque here: every expectation is stated as period text, a kind,
 * a year, or an absolute month number year * 12 + (month - 1) worked out by
 * hand.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "period.h"
#include "tally/error.h"

static int32_t parse(const char *s)
{
    int32_t key = 0;
    int rc = tally_period__parse(s, strlen(s), &key);
    if (rc != 0)
        print_error("parse(\"%s\") returned %d\n", s, rc);
    assert_int_equal(rc, 0);
    return key;
}

/* A period as asked for (also a half or a range). */
static int32_t parse_asked(const char *s)
{
    int32_t key = 0;
    assert_int_equal(tally_period__parse_ask(s, strlen(s), &key), 0);
    return key;
}

static void expect_text(int32_t key, const char *expected)
{
    char buf[TALLY_PERIOD_TEXT_MAX];
    memset(buf, 'X', sizeof buf);
    size_t n = tally_period__format(key, buf);
    if (strcmp(buf, expected) != 0)
        print_error("formatted \"%s\", expected \"%s\"\n", buf, expected);
    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}

/* Parses `in` and expects it to format as `out`. */
static void expect_round_trip(const char *in, const char *out) { expect_text(parse(in), out); }

static void test_period__round_trip_months(void **state)
{
    (void)state;
    static const int years[] = { 1000, 1999, 2018, 2019, 2020, 9999 };
    for (size_t y = 0; y < sizeof years / sizeof years[0]; y++) {
        for (int m = 1; m <= 12; m++) {
            char s[16];
            snprintf(s, sizeof s, "%04d-%02d", years[y], m);
            int32_t k = parse(s);
            expect_text(k, s);
            assert_int_equal(tally_period__kind(k), TALLY_PERIOD_MONTH);
            assert_int_equal(tally_period__year(k), years[y]);
        }
    }
}

static void test_period__round_trip_quarters(void **state)
{
    (void)state;
    static const int years[] = { 1000, 1999, 2018, 2019, 2020, 9999 };
    for (size_t y = 0; y < sizeof years / sizeof years[0]; y++) {
        for (int q = 1; q <= 4; q++) {
            char upper[16], lower[16];
            snprintf(upper, sizeof upper, "%04d-Q%d", years[y], q);
            snprintf(lower, sizeof lower, "%04d-q%d", years[y], q);
            int32_t k = parse(upper);
            /* "q" and "Q" are the same period; it is written with "Q". */
            assert_int_equal(parse(lower), k);
            expect_text(k, upper);
            expect_round_trip(lower, upper);
            if (tally_period__kind(k) != TALLY_PERIOD_QUARTER ||
                tally_period__year(k) != years[y])
                print_error("%s: kind %d year %d\n", upper, tally_period__kind(k),
                            tally_period__year(k));
            assert_int_equal(tally_period__kind(k), TALLY_PERIOD_QUARTER);
            assert_int_equal(tally_period__year(k), years[y]);
        }
    }
}

static void test_period__round_trip_years(void **state)
{
    (void)state;
    static const char *const years[] = { "1000", "1949", "2019", "2020", "9999" };
    for (size_t y = 0; y < sizeof years / sizeof years[0]; y++) {
        int32_t k = parse(years[y]);
        expect_text(k, years[y]);
        assert_int_equal(tally_period__kind(k), TALLY_PERIOD_YEAR);
        assert_int_equal(tally_period__year(k), atoi(years[y]));
    }
}

static void test_period__distinct_keys(void **state)
{
    (void)state;
    /* Every month, quarter and year of 2018..2020 is its own period
     * (including the fourth quarters: a clash with the next year shows
     * here). */
    int32_t keys[3 * 17];
    size_t n = 0;
    for (int y = 2018; y <= 2020; y++) {
        char s[16];
        for (int m = 1; m <= 12; m++) {
            snprintf(s, sizeof s, "%d-%02d", y, m);
            keys[n++] = parse(s);
        }
        for (int q = 1; q <= 4; q++) {
            snprintf(s, sizeof s, "%d-Q%d", y, q);
            keys[n++] = parse(s);
        }
        snprintf(s, sizeof s, "%d", y);
        keys[n++] = parse(s);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (keys[i] == keys[j]) {
                char a[TALLY_PERIOD_TEXT_MAX], b[TALLY_PERIOD_TEXT_MAX];
                tally_period__format(keys[i], a);
                tally_period__format(keys[j], b);
                print_error("periods #%zu and #%zu share a key (formatted %s, %s)\n", i, j, a, b);
            }
            assert_true(keys[i] != keys[j]);
        }
}

static void test_period__parse_uses_length(void **state)
{
    (void)state;
    /* A field inside a row: only len bytes are the period. */
    int32_t k = 0;
    assert_int_equal(tally_period__parse("2019-08,12", 7, &k), 0);
    expect_text(k, "2019-08");
    assert_int_equal(tally_period__parse("2019,", 4, &k), 0);
    expect_text(k, "2019");
    assert_int_equal(tally_period__parse("2019-Q2x", 7, &k), 0);
    expect_text(k, "2019-Q2");
    assert_int_equal(tally_period__parse("2019-08", 6, &k), TALLY_EPARSE); /* "2019-0" */
}

/* The forms Excel sheets in Chinese write, as the periods they are (the
 * expected texts written by hand). */
static void test_period__chinese_forms(void **state)
{
    (void)state;
    expect_round_trip("2019年", "2019");
    expect_round_trip("2019年1月", "2019-01");
    expect_round_trip("2019年01月", "2019-01");
    expect_round_trip("2019年12月", "2019-12");
    expect_round_trip("2019年第一季度", "2019-Q1");
    expect_round_trip("2019年第4季度", "2019-Q4");
    expect_round_trip("2019年1季度", "2019-Q1");
    expect_text(parse_asked("2019年上半年"), "2019-H1");
    expect_text(parse_asked("2019年下半年"), "2019-H2");
    expect_text(parse_asked("2019年1-8月"), "2019-01..2019-08");
    expect_text(parse_asked("2019年8月"), "2019-08");
    /* Halves and ranges are asked for only; nonsense is refused. */
    static const char *const bad[] = { "2019年上半年", "2019年1-8月", "2019年13月", "2019年0月",
                                       "2019年第五季度", "2019年第1月", "2019年1", "2019年8-1月",
                                       "2019年1月x", "2019年5季度" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t k;
        assert_int_equal(tally_period__parse(bad[i], strlen(bad[i]), &k), TALLY_EPARSE);
    }
    int32_t k;
    assert_int_equal(tally_period__parse_ask("2019年8-1月", strlen("2019年8-1月"), &k),
                     TALLY_EPARSE);
}

static void test_period__rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2019-13", "2019-00", "2019-Q5", "2019-Q0", "2019-q5", "2019-8",  "19-08",   "2019/08",
        "2019.08", "0999",    "999",     "",        "2019-",   "2019-Q",  "2019-081", "2019-Q12",
        "20190",   "201908",  " 2019",   "2019 ",   "2019-08 ", "abcd",   "2019-1a", "2019-Qx",
        "2019-W01", "2019-H1", "-2019",  "+2019",   "2019-99", "2019--8", "0000",    "10000",
        "２０１９",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t k = 12345;
        int rc = tally_period__parse(bad[i], strlen(bad[i]), &k);
        if (rc != TALLY_EPARSE)
            print_error("parse(\"%s\") returned %d, expected TALLY_EPARSE\n", bad[i], rc);
        assert_int_equal(rc, TALLY_EPARSE);
    }
}

/* Absolute month: year * 12 + (month - 1). */
static int32_t abs_month(int year, int month) { return year * 12 + month - 1; }

static void expect_span(const char *period, int32_t first, int32_t last)
{
    int32_t k = parse(period);
    int32_t f = tally_period__first_month(k), l = tally_period__last_month(k);
    if (f != first || l != last)
        print_error("%s: months %d..%d, expected %d..%d\n", period, f, l, first, last);
    assert_int_equal(f, first);
    assert_int_equal(l, last);
}

static void test_period__first_last_month(void **state)
{
    (void)state;
    expect_span("2019-01", abs_month(2019, 1), abs_month(2019, 1));
    expect_span("2019-08", abs_month(2019, 8), abs_month(2019, 8));
    expect_span("2019-12", abs_month(2019, 12), abs_month(2019, 12));
    expect_span("2019-Q1", abs_month(2019, 1), abs_month(2019, 3));
    expect_span("2019-Q2", abs_month(2019, 4), abs_month(2019, 6));
    expect_span("2019-Q3", abs_month(2019, 7), abs_month(2019, 9));
    expect_span("2019", abs_month(2019, 1), abs_month(2019, 12));
    expect_span("1000", abs_month(1000, 1), abs_month(1000, 12));
    /* Consecutive months are consecutive numbers across a year end. */
    assert_int_equal(tally_period__first_month(parse("2020-01")),
                     tally_period__first_month(parse("2019-12")) + 1);
}

static void expect_year_before(const char *in, const char *out)
{
    expect_text(tally_period__year_before(parse(in)), out);
}

static void expect_previous(const char *in, const char *out)
{
    expect_text(tally_period__previous(parse(in)), out);
}

static void test_period__year_before(void **state)
{
    (void)state;
    expect_year_before("2019-08", "2018-08");
    expect_year_before("2019-01", "2018-01");
    expect_year_before("2019-12", "2018-12");
    expect_year_before("2019-Q1", "2018-Q1");
    expect_year_before("2019-Q2", "2018-Q2");
    expect_year_before("2019-Q3", "2018-Q3");
    expect_year_before("2019", "2018");
    expect_year_before("2000", "1999");
}

static void test_period__previous(void **state)
{
    (void)state;
    /* Months. */
    expect_previous("2019-08", "2019-07");
    expect_previous("2019-02", "2019-01");
    expect_previous("2019-01", "2018-12");
    expect_previous("2019-12", "2019-11");
    expect_previous("2000-01", "1999-12");
    /* Quarters. */
    expect_previous("2019-Q3", "2019-Q2");
    expect_previous("2019-Q2", "2019-Q1");
    /* Years. */
    expect_previous("2019", "2018");
    expect_previous("2000", "1999");
}

static void test_period__previous_walks_back(void **state)
{
    (void)state;
    /* 25 steps back from 2020-01 visit every month down to 2017-12, in
     * order, each exactly once. */
    int32_t k = parse("2020-01");
    int year = 2020, month = 1;
    for (int i = 0; i < 25; i++) {
        k = tally_period__previous(k);
        if (--month == 0) {
            month = 12;
            year--;
        }
        char want[16];
        snprintf(want, sizeof want, "%d-%02d", year, month);
        expect_text(k, want);
    }
}

static int sign(int x) { return (x > 0) - (x < 0); }

static void test_period__compare(void **state)
{
    (void)state;
    /* In time order: a year's months, then its quarters, then the year. */
    static const char *const order[] = {
        "2018-01", "2018-12", "2018-Q1", "2018-Q4", "2018",
        "2019-01", "2019-02", "2019-08", "2019-09", "2019-10", "2019-11", "2019-12",
        "2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4",
        "2019-01..2019-06", "2019-H1", "2019-01..2019-08", "2019-Q1..2019-Q3", "2019-H2",
        "2019",
        "2020-01", "2020-Q1", "2020",
    };
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++) {
        int32_t a = parse_asked(order[i]);
        for (size_t j = 0; j < n; j++) {
            int32_t b = parse_asked(order[j]);
            int want = i < j ? -1 : i > j ? 1 : 0;
            int got = sign(tally_period__compare(a, b));
            if (got != want)
                print_error("compare(%s, %s) = %d, expected %d\n", order[i], order[j], got, want);
            assert_int_equal(got, want);
        }
    }
}

static int compare_keys(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

static void test_period__compare_sorts(void **state)
{
    (void)state;
    static const char *const shuffled[] = { "2019", "2019-Q3", "2018-12", "2019-12", "2019-Q1",
                                            "2019-01", "2018",    "2020-01", "2019-07" };
    static const char *const sorted[] = { "2018-12", "2018",    "2019-01", "2019-07", "2019-12",
                                          "2019-Q1", "2019-Q3", "2019",    "2020-01" };
    int32_t keys[9];
    for (size_t i = 0; i < 9; i++)
        keys[i] = parse(shuffled[i]);
    qsort(keys, 9, sizeof keys[0], compare_keys);
    for (size_t i = 0; i < 9; i++)
        expect_text(keys[i], sorted[i]);
}

/* The fourth quarter on its own: with sixteen sub-periods a key scheme
 * year * 16 + sub makes 2019-Q4 (sub 16) the same key as the year 2020. */
static void test_period__fourth_quarter(void **state)
{
    (void)state;
    int32_t q4 = parse("2019-Q4");
    /* Not the same period as the next year (or any year). */
    assert_true(q4 != parse("2020"));
    assert_true(q4 != parse("2019"));
    expect_text(q4, "2019-Q4");
    expect_round_trip("2019-q4", "2019-Q4");
    expect_round_trip("9999-Q4", "9999-Q4");
    assert_int_equal(tally_period__kind(q4), TALLY_PERIOD_QUARTER);
    assert_int_equal(tally_period__year(q4), 2019);
    expect_span("2019-Q4", abs_month(2019, 10), abs_month(2019, 12));
    expect_span("9999-Q4", abs_month(9999, 10), abs_month(9999, 12));
    expect_year_before("2019-Q4", "2018-Q4");
    expect_previous("2019-Q4", "2019-Q3");
    expect_previous("2019-Q1", "2018-Q4");
    expect_previous("2000-Q1", "1999-Q4");
    /* After 2019-Q3, before the year 2019 and before 2020-01. */
    assert_true(tally_period__compare(parse("2019-Q3"), q4) < 0);
    assert_true(tally_period__compare(q4, parse("2019-Q3")) > 0);
    assert_true(tally_period__compare(q4, parse("2019")) < 0);
    assert_true(tally_period__compare(parse("2019"), q4) > 0);
    assert_true(tally_period__compare(q4, parse("2020-01")) < 0);
    assert_true(tally_period__compare(parse("2019-12"), q4) < 0);
    assert_int_equal(tally_period__compare(q4, parse("2019-q4")), 0);
    /* Nine quarters back from 2020-Q2: 2018-Q1, through two Q4s. */
    int32_t k = parse("2020-Q2");
    for (int i = 0; i < 9; i++)
        k = tally_period__previous(k);
    expect_text(k, "2018-Q1");
}

/* ---- the public value type (tally/period.h) ---- */

/* Both parsers on one text: the same answer, and the same period. */
static void expect_same_answer(const char *text, size_t len)
{
    int32_t key = 0;
    tally_period p = { -1, -1, -1, -1 };
    int internal = tally_period__parse_ask(text, len, &key);
    int public = tally_period_parse(&p, text, len);
    if (internal != public)
        print_error("\"%.*s\": internal %d, public %d\n", (int)len, text, internal, public);
    assert_int_equal(internal, public);
    if (public) {
        /* Unchanged on failure. */
        assert_int_equal(p.year, -1);
        assert_int_equal(p.kind, -1);
        return;
    }
    assert_int_equal(p.year, tally_period__year(key));
    assert_int_equal(p.kind, tally_period__kind(key));
    char a[TALLY_PERIOD_TEXT_MAX], b[TALLY_PERIOD_TEXT_MAX];
    size_t n = tally_period__format(key, a);
    assert_int_equal(tally_period_format(b, sizeof b, &p), (int)n);
    assert_string_equal(a, b);
    int first, last;
    assert_int_equal(tally_period_months(&p, &first, &last), 0);
    assert_int_equal(first, tally_period__first_month(key) - p.year * 12 + 1);
    assert_int_equal(last, tally_period__last_month(key) - p.year * 12 + 1);
}

static void test_period__public_parser_accepts_the_same_texts(void **state)
{
    (void)state;
    static const char *const table[] = {
        /* Accepted. */
        "2019-08", "2019-01", "2019-12", "2019-Q1", "2019-q4", "2019", "1000", "9999",
        "1000-01", "9999-Q4", "2019-H1", "2019-h2", "2019-01..2019-08", "2019-Q1..2019-Q2",
        "2019-03..2019-03",
        /* Refused (as in test_period__rejects). */
        "2019-13", "2019-00", "2019-Q5", "2019-Q0", "2019-q5", "2019-8", "19-08", "2019/08",
        "2019.08", "0999", "999", "", "2019-", "2019-Q", "2019-081", "2019-Q12", "20190",
        "201908", " 2019", "2019 ", "2019-08 ", "abcd", "2019-1a", "2019-Qx", "2019-W01",
        "2019-H3", "2019-H0", "2019-08..2019-01", "2018-12..2019-01", "2019-01..2019-Q1",
        "2019..2019", "2019-01...2019-02", "2019-01..", "..2019-01", "-2019", "+2019", "2019-99", "2019--8", "0000", "10000", "２０１９",
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        expect_same_answer(table[i], strlen(table[i]));
    /* Every text "2019-xy" and "2019xy" over characters near the valid
     * ones, and every prefix of "2019-Q3x". */
    static const char chars[] = "0123459QqW-x ";
    for (size_t i = 0; chars[i]; i++)
        for (size_t j = 0; chars[j]; j++) {
            char t[8] = { '2', '0', '1', '9', '-', chars[i], chars[j], '\0' };
            expect_same_answer(t, 7);
            char u[7] = { '2', '0', '1', '9', chars[i], chars[j], '\0' };
            expect_same_answer(u, 6);
        }
    for (size_t len = 0; len <= 8; len++)
        expect_same_answer("2019-Q3x", len);
}

static void test_period__public_parse_by_hand(void **state)
{
    (void)state;
    tally_period p;
    assert_int_equal(tally_period_parse(&p, "2019-08", 7), 0);
    assert_int_equal(p.year, 2019);
    assert_int_equal(p.kind, TALLY_PERIOD_MONTH);
    assert_int_equal(p.index, 8);
    assert_int_equal(tally_period_parse(&p, "2019-q3", 7), 0);
    assert_int_equal(p.kind, TALLY_PERIOD_QUARTER);
    assert_int_equal(p.index, 3);
    /* Only len bytes: "2019" of "2019,". */
    assert_int_equal(tally_period_parse(&p, "2019,", 4), 0);
    assert_int_equal(p.kind, TALLY_PERIOD_YEAR);
    assert_int_equal(p.index, 0);
    assert_int_equal(p.year, 2019);

    /* The message names the text and the forms accepted. */
    assert_int_equal(tally_period_parse(&p, "2019-13", 7), TALLY_EPARSE);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EPARSE);
    assert_string_equal(e->message, "bad period '2019-13'; expected YYYY-MM, YYYY-Qn, YYYY, a half "
                        "YYYY-H1 or YYYY-H2, or a range of one year YYYY-MM..YYYY-MM or "
                        "YYYY-Qn..YYYY-Qn");
    assert_string_equal(e->text, "2019-13");
    assert_null(e->path);
    assert_int_equal(tally_period_parse(NULL, "2019", 4), TALLY_EINVAL);
    assert_int_equal(tally_period_parse(&p, NULL, 4), TALLY_EINVAL);
    assert_int_equal(tally_period_parse(&p, NULL, 0), TALLY_EPARSE);
}

static void expect_months(tally_period p, int first, int last)
{
    int f = 0, l = 0;
    assert_int_equal(tally_period_months(&p, &f, &l), 0);
    if (f != first || l != last)
        print_error("%d/%d/%d: months %d..%d, expected %d..%d\n", p.year, p.kind, p.index, f, l,
                    first, last);
    assert_int_equal(f, first);
    assert_int_equal(l, last);
}

static void test_period__public_months_and_text(void **state)
{
    (void)state;
    tally_period aug = { 2019, TALLY_PERIOD_MONTH, 8, 0 }, q3 = { 2019, TALLY_PERIOD_QUARTER, 3, 0 },
                 q4 = { 2019, TALLY_PERIOD_QUARTER, 4, 0 }, y = { 2019, TALLY_PERIOD_YEAR, 0, 0 };
    expect_months(aug, 8, 8);
    expect_months(q3, 7, 9);
    expect_months(q4, 10, 12);
    expect_months(y, 1, 12);
    int last = 0;
    assert_int_equal(tally_period_months(&q3, NULL, &last), 0);
    assert_int_equal(last, 9);

    char buf[TALLY_PERIOD_TEXT_MAX];
    assert_int_equal(tally_period_format(buf, sizeof buf, &aug), 7);
    assert_string_equal(buf, "2019-08");
    assert_int_equal(tally_period_format(buf, sizeof buf, &q3), 7);
    assert_string_equal(buf, "2019-Q3");
    /* "2019" and its NUL fit in 5 bytes, not 4. */
    assert_int_equal(tally_period_format(buf, 5, &y), 4);
    assert_string_equal(buf, "2019");
    assert_int_equal(tally_period_format(buf, 4, &y), TALLY_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(tally_period_format(buf, 7, &aug), TALLY_EINVAL);
    assert_int_equal(tally_period_format(NULL, 0, &aug), TALLY_EINVAL);

    /* Values that are no period. */
    static const tally_period bad[] = {
        { 999, TALLY_PERIOD_MONTH, 1, 0 },  { 10000, TALLY_PERIOD_YEAR, 0, 0 },
        { 2019, TALLY_PERIOD_MONTH, 0, 0 }, { 2019, TALLY_PERIOD_MONTH, 13, 0 },
        { 2019, TALLY_PERIOD_QUARTER, 0, 0 }, { 2019, TALLY_PERIOD_QUARTER, 5, 0 },
        { 2019, TALLY_PERIOD_YEAR, 1, 0 },  { 2019, 6, 1, 0 }, { 2019, TALLY_PERIOD_HALF, 3, 0 },
        { 2019, TALLY_PERIOD_MONTHS, 3, 2 }, { 2019, TALLY_PERIOD_QUARTERS, 1, 5 },
        { 2019, -1, 0, 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int f = -7;
        assert_int_equal(tally_period_format(buf, sizeof buf, &bad[i]), TALLY_EINVAL);
        assert_string_equal(buf, "");
        assert_int_equal(tally_period_months(&bad[i], &f, NULL), TALLY_EINVAL);
        assert_int_equal(f, -7);
    }
    assert_non_null(strstr(tally_error_last()->message, "is not a period"));
}

static void test_period__public_compare(void **state)
{
    (void)state;
    /* The order of test_period__compare, through the public type. */
    static const char *const order[] = {
        "2018-01", "2018-12", "2018-Q1", "2018-Q4", "2018",
        "2019-01", "2019-02", "2019-08", "2019-09", "2019-10", "2019-11", "2019-12",
        "2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4",
        "2019-01..2019-06", "2019-H1", "2019-01..2019-08", "2019-Q1..2019-Q3", "2019-H2",
        "2019",
        "2020-01", "2020-Q1", "2020",
    };
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++) {
        tally_period a, b;
        assert_int_equal(tally_period_parse(&a, order[i], strlen(order[i])), 0);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(tally_period_parse(&b, order[j], strlen(order[j])), 0);
            int want = i < j ? -1 : i > j ? 1 : 0;
            int got = sign(tally_period_compare(&a, &b));
            if (got != want)
                print_error("compare(%s, %s) = %d, expected %d\n", order[i], order[j], got, want);
            assert_int_equal(got, want);
        }
    }
    /* Values that are no period still order, and equal ones are equal. */
    tally_period x = { 2019, 9, 9, 0 }, x2 = { 2019, 9, 9, 0 }, y = { 2019, TALLY_PERIOD_YEAR, 0, 0 };
    assert_int_equal(tally_period_compare(&x, &x2), 0);
    assert_true(tally_period_compare(&y, &x) < 0);
    assert_true(tally_period_compare(&x, &y) > 0);
}

/* Spans asked for: halves and ranges of one year, their months, text,
 * year before and preceding span (worked out by hand). */
static void test_period__ranges(void **state)
{
    (void)state;
    int32_t k;
    assert_int_equal(tally_period__parse_ask("2019-01..2019-08", 16, &k), 0);
    assert_int_equal(tally_period__first_month(k), 2019 * 12 + 0);
    assert_int_equal(tally_period__last_month(k), 2019 * 12 + 7);
    expect_text(k, "2019-01..2019-08");
    expect_text(tally_period__year_before(k), "2018-01..2018-08");
    /* Eight months before January-August 2019: May-December 2018. */
    expect_text(tally_period__previous(k), "2018-05..2018-12");
    assert_int_equal(tally_period__parse_ask("2019-H1", 7, &k), 0);
    assert_int_equal(tally_period__first_month(k), 2019 * 12);
    assert_int_equal(tally_period__last_month(k), 2019 * 12 + 5);
    expect_text(tally_period__previous(k), "2018-H2");
    expect_text(tally_period__previous(tally_period__previous(k)), "2018-H1");
    assert_int_equal(tally_period__parse_ask("2019-Q2..2019-Q3", 16, &k), 0);
    assert_int_equal(tally_period__first_month(k), 2019 * 12 + 3);
    assert_int_equal(tally_period__last_month(k), 2019 * 12 + 8);
    expect_text(tally_period__previous(k), "2018-Q4..2019-Q1");
    /* The records' parser refuses them. */
    assert_int_equal(tally_period__parse("2019-H1", 7, &k), TALLY_EPARSE);
    assert_int_equal(tally_period__parse("2019-01..2019-08", 16, &k), TALLY_EPARSE);
    /* Spans of whole periods are those periods. */
    expect_text(tally_period__span(2019 * 12 + 3, 2019 * 12 + 5), "2019-Q2");
    expect_text(tally_period__span(2019 * 12, 2019 * 12 + 11), "2019");
    expect_text(tally_period__span(2019 * 12 + 4, 2019 * 12 + 4), "2019-05");
    expect_text(tally_period__span(2018 * 12, 2018 * 12 + 7), "2018-01..2018-08");

    tally_period p;
    assert_int_equal(tally_period_parse(&p, "2019-Q1..2019-Q2", 16), 0);
    assert_int_equal(p.kind, TALLY_PERIOD_QUARTERS);
    assert_int_equal(p.index, 1);
    assert_int_equal(p.end, 2);
    expect_months(p, 1, 6);
    assert_int_equal(tally_period_parse(&p, "2019-02..2019-08", 16), 0);
    assert_int_equal(p.kind, TALLY_PERIOD_MONTHS);
    assert_int_equal(p.index, 2);
    assert_int_equal(p.end, 8);
    assert_int_equal(tally_period_parse(&p, "2019-h2", 7), 0);
    assert_int_equal(p.kind, TALLY_PERIOD_HALF);
    assert_int_equal(p.index, 2);
    expect_months(p, 7, 12);
    char buf[TALLY_PERIOD_TEXT_MAX];
    assert_int_equal(tally_period_format(buf, sizeof buf, &p), 7);
    assert_string_equal(buf, "2019-H2");
    tally_period r = { 2019, TALLY_PERIOD_MONTHS, 1, 12 };
    assert_int_equal(tally_period_format(buf, sizeof buf, &r), 16);
    assert_string_equal(buf, "2019-01..2019-12");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period__round_trip_months),
        cmocka_unit_test(test_period__round_trip_quarters),
        cmocka_unit_test(test_period__round_trip_years),
        cmocka_unit_test(test_period__distinct_keys),
        cmocka_unit_test(test_period__parse_uses_length),
        cmocka_unit_test(test_period__rejects),
        cmocka_unit_test(test_period__chinese_forms),
        cmocka_unit_test(test_period__first_last_month),
        cmocka_unit_test(test_period__year_before),
        cmocka_unit_test(test_period__previous),
        cmocka_unit_test(test_period__previous_walks_back),
        cmocka_unit_test(test_period__compare),
        cmocka_unit_test(test_period__compare_sorts),
        cmocka_unit_test(test_period__fourth_quarter),
        cmocka_unit_test(test_period__public_parser_accepts_the_same_texts),
        cmocka_unit_test(test_period__public_parse_by_hand),
        cmocka_unit_test(test_period__public_months_and_text),
        cmocka_unit_test(test_period__public_compare),
        cmocka_unit_test(test_period__ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
