/* Tests for lib/util.h: number parsing (exact, compared bit for bit with
 * strtod), 12-digit codes, UTF-8 columns and validation, file mapping and
 * the small allocation helpers.
 *
 * Expected values are written out by hand next to each check; the exactness
 * loop compares with the C library's strtod, which is correctly rounded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <float.h>
#include <math.h>
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
#include "tally/error.h"
#include "util.h"

/* ---- parse_number ------------------------------------------------------ */

static void expect_number(const char *s, double expected)
{
    double v = 12345.0;
    int rc = tally_util__parse_number(s, strlen(s), &v);
    if (rc != 0)
        print_error("parse_number(\"%s\") returned %d\n", s, rc);
    assert_int_equal(rc, 0);
    if (memcmp(&v, &expected, sizeof v) != 0)
        print_error("parse_number(\"%s\") = %.17g, expected %.17g\n", s, v, expected);
    assert_memory_equal(&v, &expected, sizeof v);
}

static void expect_number_error(const char *s, size_t len, int code)
{
    double v = 0;
    int rc = tally_util__parse_number(s, len, &v);
    if (rc != code)
        print_error("parse_number(\"%.*s\") returned %d (value %.17g), expected %d\n", (int)len,
                    s, rc, v, code);
    assert_int_equal(rc, code);
}

static void expect_relaxed(const char *s, int code, double expected)
{
    double v = 0;
    int rc = tally_util__parse_number_relaxed(s, strlen(s), &v);
    if (rc != code)
        print_error("parse_number_relaxed(\"%s\") returned %d, expected %d\n", s, rc, code);
    assert_int_equal(rc, code);
    if (code == 0)
        assert_memory_equal(&v, &expected, sizeof v);
}

/* Excel's separators and full-width digits; values by hand. */
static void test_util__parse_number_relaxed(void **state)
{
    (void)state;
    expect_relaxed("1,989", 0, 1989.0);
    expect_relaxed(" 12,345.6 ", 0, 12345.6);
    expect_relaxed("-1,234,567", 0, -1234567.0);
    expect_relaxed("\xef\xbc\x91\xef\xbc\x92", 0, 12.0);                         /* １２ */
    expect_relaxed("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x8e\xef\xbc\x95", 0, 12.5); /* １２．５ */
    expect_relaxed("\xef\xbc\x8d\xef\xbc\x93", 0, -3.0);                         /* －３ */
    expect_relaxed("9,007,199,254,740,992", 0, 9007199254740992.0);
    expect_relaxed("9,007,199,254,740,993", TALLY_UTIL__INEXACT, 0);
    const char *bad[] = {"1,98", "19,89", "1989,", ",989", "1234,567", "1,9,89", "1,989,12",
                         "1.2,345", "1,989e3", "1 989", "", ",", "-", "\xef\xbc\x8c",
                         "1\xef\xbc\x8c\x39\x38\x39" /* 1，989 */, "\xef\xbc", "1-2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_relaxed(bad[i], TALLY_EPARSE, 0);
}

static void test_util__parse_number_integers(void **state)
{
    (void)state;
    expect_number("0", 0.0);
    expect_number("7", 7.0);
    expect_number("42", 42.0);
    expect_number("007", 7.0);
    expect_number("123456789", 123456789.0);
    expect_number("9007199254740992", 9007199254740992.0);   /* 2^53 */
    expect_number("9007199254740994", 9007199254740994.0);   /* even: a double holds it */
    expect_number("-9007199254740994", -9007199254740994.0);
    expect_number("18446744073709551616", 18446744073709551616.0); /* 2^64 */
    expect_number("9007199254740994.000", 9007199254740994.0);
    /* Whole numbers past 2^53 that no double holds are refused, not
     * rounded (2^53+1 would become 2^53, 2^64-1 would become 2^64). */
    static const char *const inexact[] = {
        "9007199254740993", "-9007199254740993", "9007199254740995", "9007199254740993.0",
        "18446744073709551615", "100000000000000000000000", /* 10^23 = 2^23 * 5^23 */
    };
    for (size_t i = 0; i < sizeof inexact / sizeof *inexact; i++) {
        double v = 12345.0;
        assert_int_equal(tally_util__parse_number(inexact[i], strlen(inexact[i]), &v),
                         TALLY_UTIL__INEXACT);
        assert_true(v == 12345.0);
    }
    /* Written with an exponent, or with a fraction, it is a measurement
     * and is rounded as strtod does. */
    expect_number("1e23", 1e23);
    expect_number("9007199254740993.5", 9007199254740994.0);
}

static void test_util__parse_number_signs(void **state)
{
    (void)state;
    expect_number("-7", -7.0);
    expect_number("+7", 7.0);
    expect_number("-0.5", -0.5);
    expect_number("+0.25", 0.25);
    /* "-0" keeps its sign, as strtod does. */
    expect_number("-0", -0.0);
    double v = 1;
    assert_int_equal(tally_util__parse_number("-0", 2, &v), 0);
    assert_true(signbit(v));
}

static void test_util__parse_number_decimals(void **state)
{
    (void)state;
    expect_number("3.25", 3.25);
    expect_number("0.1", 0.1);
    expect_number("0.3", 0.3);
    expect_number(".5", 0.5);
    expect_number("5.", 5.0);
    expect_number("2.675", 2.675);
    expect_number("1.005", 1.005);
    expect_number("29.5", 29.5);
    expect_number("0.000001", 1e-6);
    expect_number("123456.789", 123456.789);
    expect_number("0.1234567890123456789012", 0.1234567890123456789012);
    expect_number("3.14159265358979323846264338327950288", 3.14159265358979323846264338327950288);
}

static void test_util__parse_number_exponents(void **state)
{
    (void)state;
    expect_number("1e3", 1000.0);
    expect_number("1E3", 1000.0);
    expect_number("1e+3", 1000.0);
    expect_number("2.5e-3", 0.0025);
    expect_number("-1.5E2", -150.0);
    expect_number("0e999", 0.0);
    expect_number("1e22", 1e22);
    expect_number("1e23", 1e23);
    expect_number(".5e1", 5.0);
    expect_number("1.7976931348623157e308", DBL_MAX);
    expect_number("2.2250738585072014e-308", DBL_MIN);
    expect_number("4.9406564584124654e-324", 4.9406564584124654e-324); /* least subnormal */
}

static void test_util__parse_number_spaces(void **state)
{
    (void)state;
    expect_number("  12  ", 12.0);
    expect_number("\t-1.5\t", -1.5);
    expect_number(" \t 3e2 \t ", 300.0);
    expect_number("0.1 ", 0.1);
    /* Only spaces: not a number. */
    expect_number_error("   ", 3, TALLY_EPARSE);
    expect_number_error("\t", 1, TALLY_EPARSE);
}

static void test_util__parse_number_uses_length(void **state)
{
    (void)state;
    /* The text is a field inside a row: never read past len. */
    double v = 0;
    assert_int_equal(tally_util__parse_number("123456", 3, &v), 0);
    assert_true(v == 123.0);
    assert_int_equal(tally_util__parse_number("1e5,7", 3, &v), 0);
    assert_true(v == 1e5);
    assert_int_equal(tally_util__parse_number("0.12345678901234567890123456,9", 28, &v), 0);
    assert_true(v == 0.12345678901234567890123456);
    /* Zero length is empty. */
    expect_number_error("5", 0, TALLY_EPARSE);
}

static void test_util__parse_number_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     "-",     "+",     ".",    "-.",   "+.",    "1.2.3", "1e",   "1e+",  "1e-",
        "e5",   "E5",    ".e1",   "nan",  "NaN",  "-nan",  "inf",   "-inf", "INF",  "infinity",
        "0x10", "0X1A",  "1,000", "1,5",  "12abc", "1 2",  "--1",   "+-1",  "1e5.5", "1e 5",
        "1.5.", "1..5",  "abc",   "$5",   "5%",   "1_000", "١٢",    "１２", "0b101", "1e1e1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_number_error(bad[i], strlen(bad[i]), TALLY_EPARSE);
}

static void test_util__parse_number_range(void **state)
{
    (void)state;
    expect_number_error("1e400", 5, TALLY_ERANGE);
    expect_number_error("-1e400", 6, TALLY_ERANGE);
    expect_number_error("1.8e308", 7, TALLY_ERANGE);
    expect_number_error("1e99999999999999999999", 22, TALLY_ERANGE);
    /* Underflow is finite: zero or a subnormal, not an error. */
    expect_number("1e-400", 0.0);
    expect_number("-1e-400", -0.0);
    expect_number("1e-320", 1e-320);
    expect_number("1e-99999999999999999999", 0.0);
}

static void test_util__parse_number_long_text(void **state)
{
    (void)state;
    /* Longer than any small internal buffer. */
    char s[400];
    strcpy(s, "0.");
    memset(s + 2, '0', 300);
    strcpy(s + 302, "15");
    expect_number(s, 1.5e-301);

    memset(s, '9', 350);
    s[350] = '\0';
    expect_number_error(s, 350, TALLY_ERANGE); /* 10^350 - 1 overflows */

    /* 200 significant digits of 1/3: the correctly rounded double of 1/3
     * is 0x1.5555555555555p-2. */
    strcpy(s, "0.");
    memset(s + 2, '3', 200);
    s[202] = '\0';
    expect_number(s, 0x1.5555555555555p-2);

    /* A long number surrounded by spaces. */
    char t[420];
    snprintf(t, sizeof t, "   %s   ", s);
    expect_number(t, 0x1.5555555555555p-2);
}

/* A small deterministic generator (xorshift64*), so a failure can be
 * reproduced. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rng_below(unsigned n) { return (unsigned)(rng() % n); }

/* Writes a random decimal: optional sign, 0..17 integer digits, 0..22
 * fraction digits (sometimes starting with zeros), at most 17 of them
 * significant (digits past the 17th are zeros), optionally an exponent. */
static size_t random_decimal(char *buf, int with_exponent)
{
    size_t n = 0;
    unsigned r = rng_below(4);
    if (r == 0)
        buf[n++] = '-';
    else if (r == 1)
        buf[n++] = '+';
    unsigned int_len = rng_below(18);
    unsigned frac_len = rng_below(23);
    unsigned zeros = 0;
    if (int_len == 0 && frac_len > 0 && rng_below(3) == 0)
        zeros = rng_below(frac_len + 1);
    unsigned sig = 0;
    if (int_len == 0) {
        buf[n++] = '0';
    } else {
        buf[n++] = (char)('1' + rng_below(9));
        sig = 1;
        for (unsigned k = 1; k < int_len; k++, sig++)
            buf[n++] = sig < 17 ? (char)('0' + rng_below(10)) : '0';
    }
    if (frac_len > 0 || (int_len > 0 && rng_below(8) == 0)) {
        buf[n++] = '.';
        for (unsigned k = 0; k < frac_len; k++) {
            char d = k < zeros || sig >= 17 ? '0' : (char)('0' + rng_below(10));
            if (sig > 0 || d != '0')
                sig++;
            buf[n++] = d;
        }
    }
    if (with_exponent) {
        buf[n++] = rng_below(2) ? 'e' : 'E';
        int e = (int)rng_below(61) - 30;
        if (rng_below(8) == 0)
            e = (int)rng_below(661) - 330; /* near the limits and beyond */
        if (e >= 0 && rng_below(2))
            n += (size_t)sprintf(buf + n, "+%d", e);
        else
            n += (size_t)sprintf(buf + n, "%d", e);
    }
    buf[n] = '\0';
    return n;
}

/* Whether s is a whole number written without an exponent that no double
 * holds exactly: 1 yes, 0 no, -1 unknown (too many digits for the
 * reference). The reference: a whole number N is a double exactly when
 * its odd part is below 2^53 (here N < 2^127, far below DBL_MAX). */
__extension__ typedef unsigned __int128 u128;

static int inexact_whole(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    u128 n = 0;
    int digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (n || s[i] != '0')
            digits++;
        if (digits > 38)
            return -1;
        n = n * 10 + (unsigned)(s[i] - '0');
    }
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (s[i] != '0')
                return 0;
    if (i != len)
        return 0; /* an exponent */
    while (n && !(n & 1))
        n >>= 1;
    return n >= ((u128)1 << 53);
}

static void compare_with_strtod(const char *s, size_t len)
{
    errno = 0;
    double want = strtod(s, NULL);
    int overflow = isinf(want);
    double got = 0;
    int rc = tally_util__parse_number(s, len, &got);
    int inexact = overflow ? 0 : inexact_whole(s, len);
    if (inexact == 1 || (inexact == -1 && rc == TALLY_UTIL__INEXACT)) {
        if (rc != TALLY_UTIL__INEXACT)
            print_error("\"%s\": a whole number no double holds, parse_number returned %d\n", s,
                        rc);
        assert_int_equal(rc, TALLY_UTIL__INEXACT);
        return;
    }
    if (overflow) {
        if (rc != TALLY_ERANGE)
            print_error("\"%s\": strtod overflows, parse_number returned %d\n", s, rc);
        assert_int_equal(rc, TALLY_ERANGE);
        return;
    }
    if (rc != 0 || memcmp(&got, &want, sizeof got) != 0)
        print_error("\"%s\": parse_number %d %a, strtod %a\n", s, rc, got, want);
    assert_int_equal(rc, 0);
    assert_memory_equal(&got, &want, sizeof got);
}

static void test_util__parse_number_matches_strtod(void **state)
{
    (void)state;
    char buf[96];
    for (int i = 0; i < 400000; i++) {
        size_t len = random_decimal(buf, 0);
        compare_with_strtod(buf, len);
    }
    for (int i = 0; i < 200000; i++) {
        size_t len = random_decimal(buf, 1);
        compare_with_strtod(buf, len);
    }
}

static void test_util__parse_number_hard_cases_match_strtod(void **state)
{
    (void)state;
    /* Halfway and near-halfway cases that defeat naive conversion. */
    static const char *const hard[] = {
        "9007199254740993",
        "9007199254740993.0",
        "0.1",
        "0.2",
        "0.30000000000000004",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "7.038531e-26",
        "8.533e+68",
        "4.1006e-184",
        "9.998e+307",
        "9.9538452227e-280",
        "6.47660115e-260",
        "7.4e+47",
        "5.92e+48",
        "7.35e+66",
        "8.32116e+55",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "1234567.8901234567890123",
        "99999999999999999",
        "0.99999999999999999",
        "4503599627370496.5",
        "4503599627370497.5",
        "4503599627370495.5",
        "2251799813685248.25",
        "0.000000000000000000000000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++)
        compare_with_strtod(hard[i], strlen(hard[i]));
}

/* ---- code12 ---------------------------------------------------------- */

static void test_util__code12(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(tally_util__code12("110101001001", 12, &v), 1);
    assert_true(v == 110101001001ULL);
    assert_int_equal(tally_util__code12("430626100201", 12, &v), 1);
    assert_true(v == 430626100201ULL);
    assert_int_equal(tally_util__code12("000000000001", 12, &v), 1);
    assert_true(v == 1);
    assert_int_equal(tally_util__code12("999999999999", 12, &v), 1);
    assert_true(v == 999999999999ULL);
    /* Only the first 12 bytes are looked at. */
    assert_int_equal(tally_util__code12("4300000000001234", 12, &v), 1);
    assert_true(v == 430000000000ULL);

    v = 77;
    assert_int_equal(tally_util__code12("43000000000", 11, &v), 0);    /* 11 digits */
    assert_int_equal(tally_util__code12("4300000000000", 13, &v), 0);  /* 13 digits */
    assert_int_equal(tally_util__code12("43000000000a", 12, &v), 0);
    assert_int_equal(tally_util__code12("a30000000000", 12, &v), 0);
    assert_int_equal(tally_util__code12("43000000000 ", 12, &v), 0);
    assert_int_equal(tally_util__code12("+43000000000", 12, &v), 0);
    assert_int_equal(tally_util__code12("-43000000000", 12, &v), 0);
    assert_int_equal(tally_util__code12("4300000/0000", 12, &v), 0); /* '/' is '0' - 1 */
    assert_int_equal(tally_util__code12("4300000:0000", 12, &v), 0); /* ':' is '9' + 1 */
    assert_int_equal(tally_util__code12("", 0, &v), 0);
    assert_true(v == 77); /* untouched on failure */
}

/* The same as a reading of the bytes one by one, written out here, for
 * every byte value at every place among digits and for random strings of
 * digits and their neighbours: the codes are read 8 bytes at a time. */
static int code12_by_bytes(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 1;
}

static void test_util__code12_matches_a_reading_byte_by_byte(void **state)
{
    (void)state;
    char s[13] = "430626100201";
    for (int at = 0; at < 12; at++) {
        for (int b = 0; b < 256; b++) {
            char keep = s[at];
            s[at] = (char)b;
            uint64_t a = 1, r = 2;
            int ra = tally_util__code12(s, 12, &a), rr = code12_by_bytes(s, &r);
            assert_int_equal(ra, rr);
            if (ra)
                assert_true(a == r);
            s[at] = keep;
        }
    }
    static const char near[] = "0123456789/:0909 \x00\xb0\xb9\x30";
    uint64_t seed = 12;
    for (int round = 0; round < 200000; round++) {
        for (int i = 0; i < 12; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t k = (size_t)(seed >> 33) % (sizeof near - 1);
            s[i] = (seed >> 40) % 4 ? (char)('0' + (seed >> 45) % 10) : near[k];
        }
        uint64_t a = 1, r = 2;
        int ra = tally_util__code12(s, 12, &a), rr = code12_by_bytes(s, &r);
        assert_int_equal(ra, rr);
        if (ra)
            assert_true(a == r);
    }
}

/* ---- UTF-8 ----------------------------------------------------------- */

static void test_util__utf8_column(void **state)
{
    (void)state;
    const char *a = "abc,def";
    assert_int_equal(tally_util__utf8_column(a, a), 1);
    assert_int_equal(tally_util__utf8_column(a, a + 3), 4);
    assert_int_equal(tally_util__utf8_column(a, a + 7), 8);
    /* "北京市,12": three 3-byte characters, a comma, then "12" at byte 10,
     * character 5. */
    const char *z = "北京市,12";
    assert_int_equal(tally_util__utf8_column(z, z + 9), 4);
    assert_int_equal(tally_util__utf8_column(z, z + 10), 5);
    assert_int_equal(tally_util__utf8_column(z, z + 12), 7);
    /* Mixed widths: "é" (2), "😀" (4), "x" -> x is character 3. */
    const char *m = "é😀x";
    assert_int_equal(tally_util__utf8_column(m, m + 6), 3);
    assert_int_equal(tally_util__utf8_column(m, m + 2), 2);
}

static void expect_utf8(const char *s, size_t len, int valid)
{
    int got = tally_util__utf8_valid(s, len);
    if (got != valid) {
        print_error("utf8_valid(");
        for (size_t i = 0; i < len; i++)
            print_error("%02X ", (unsigned char)s[i]);
        print_error(") = %d, expected %d\n", got, valid);
    }
    assert_int_equal(got, valid);
}

#define VALID(s) expect_utf8(s, sizeof(s) - 1, 1)
#define INVALID(s) expect_utf8(s, sizeof(s) - 1, 0)

static void test_util__utf8_valid_accepts(void **state)
{
    (void)state;
    VALID("");
    VALID("plain ascii, 123");
    VALID("a\0b"); /* NUL is a character like any other */
    VALID("\xC2\x80");         /* U+0080, least 2-byte */
    VALID("\xC3\xA9");         /* é */
    VALID("\xDF\xBF");         /* U+07FF */
    VALID("\xE0\xA0\x80");     /* U+0800, least 3-byte */
    VALID("中文名称");
    VALID("\xED\x9F\xBF");     /* U+D7FF, just below the surrogates */
    VALID("\xEE\x80\x80");     /* U+E000, just above */
    VALID("\xEF\xBB\xBF");     /* U+FEFF (a BOM) */
    VALID("\xEF\xBF\xBF");     /* U+FFFF */
    VALID("\xF0\x90\x80\x80"); /* U+10000, least 4-byte */
    VALID("\xF0\x9F\x98\x80"); /* 😀 */
    VALID("\xF4\x8F\xBF\xBF"); /* U+10FFFF, the last code point */
}

static void test_util__utf8_valid_rejects(void **state)
{
    (void)state;
    /* Overlong forms. */
    INVALID("\xC0\x80");
    INVALID("\xC0\xAF");
    INVALID("\xC1\xBF");
    INVALID("\xE0\x80\x80");
    INVALID("\xE0\x80\xAF");
    INVALID("\xE0\x9F\xBF");     /* U+07FF in three bytes */
    INVALID("\xF0\x80\x80\x80");
    INVALID("\xF0\x80\x80\xAF");
    INVALID("\xF0\x8F\xBF\xBF"); /* U+FFFF in four bytes */
    /* Surrogates. */
    INVALID("\xED\xA0\x80");     /* U+D800 */
    INVALID("\xED\xAF\xBF");     /* U+DBFF */
    INVALID("\xED\xB0\x80");     /* U+DC00 */
    INVALID("\xED\xBF\xBF");     /* U+DFFF */
    INVALID("\xED\xA0\xBD\xED\xB8\x80"); /* a CESU-8 pair */
    /* Beyond U+10FFFF. */
    INVALID("\xF4\x90\x80\x80");
    INVALID("\xF5\x80\x80\x80");
    INVALID("\xF7\xBF\xBF\xBF");
    INVALID("\xF8\x88\x80\x80\x80");
    INVALID("\xFC\x84\x80\x80\x80\x80");
    INVALID("\xFE");
    INVALID("\xFF");
    /* Truncated sequences, at the end and before other characters. */
    INVALID("\xC3");
    INVALID("\xE4\xB8");
    INVALID("\xE4");
    INVALID("\xF0\x9F\x98");
    INVALID("\xF0\x9F");
    INVALID("\xE4\xB8" "a");
    INVALID("\xF0\x9F\x98" "abc");
    INVALID("ok\xC3");
    INVALID("中\xE6\x96");
    /* Stray continuation bytes. */
    INVALID("\x80");
    INVALID("\xBF");
    INVALID("a\x80" "b");
    INVALID("\xC3\xA9\xA9");
    /* Latin-1 and GB18030 bytes are not UTF-8. */
    INVALID("caf\xE9");
    INVALID("\xB1\xB1\xBE\xA9"); /* 北京 in GB18030 */
    /* The length is honoured: a character cut by len is truncated. */
    expect_utf8("中", 2, 0);
    expect_utf8("中", 3, 1);
    expect_utf8("a\xFF", 1, 1);
}

/* ---- file mapping ------------------------------------------------------ */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tally-test-util-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char p[400];
    static const char *const names[] = { "regular.csv", "empty.csv" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_util__map_regular_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/regular.csv", tmpdir);
    const char content[] = "code,name\n110000000000,北京市\n";
    write_file(path, content, sizeof content - 1);

    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), 0);
    assert_non_null(m.data);
    assert_int_equal(m.size, sizeof content - 1);
    assert_memory_equal(m.data, content, sizeof content - 1);
    tally_util__unmap(&m);
    assert_null(m.data);
    assert_int_equal(m.size, 0);
    /* Unmapping twice is harmless. */
    tally_util__unmap(&m);
}

static void test_util__map_larger_file(void **state)
{
    (void)state;
    /* Several pages, with bytes of every value. */
    char path[400];
    snprintf(path, sizeof path, "%s/regular.csv", tmpdir);
    size_t len = 3 * 4096 + 17;
    char *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 7 + 3);
    write_file(path, buf, len);
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), 0);
    assert_int_equal(m.size, len);
    assert_memory_equal(m.data, buf, len);
    tally_util__unmap(&m);
    free(buf);
}

/* The process's resident memory, in kB (VmRSS: mapped file pages count,
 * on any file system), or -1 when the system does not say. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void test_util__release_gives_pages_back(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/large.csv", tmpdir);
    size_t len = (8u << 20) + 123;
    char *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 131 + (i >> 12));
    write_file(path, buf, len);
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), 0);
    assert_int_equal(m.mapped, 1);
    unsigned long sum = 0, want = 0; /* every page read, so mapped */
    for (size_t i = 0; i < len; i += 512) {
        sum += (unsigned char)m.data[i];
        want += (unsigned char)buf[i];
    }
    assert_true(sum == want);
    long before = rss_kb();
    /* Six of the eight megabytes, from an odd place to an odd place:
     * the pages wholly inside go. */
    tally_util__release(&m, 1000, (6u << 20) + 1000);
    long after = rss_kb();
    if (before >= 0 && after >= 0)
        assert_true(before - after >= 5 * 1024);
    /* Read again, every byte is what the file holds. */
    assert_memory_equal(m.data, buf, len);
    /* Ranges outside or empty do nothing. */
    tally_util__release(&m, len, len + 4096);
    tally_util__release(&m, 5000, 4000);
    tally_util__release(&m, 0, len);
    assert_memory_equal(m.data, buf, len);
    tally_util__unmap(&m);
    /* A buffer read into memory (not a mapping) is never given back: its
     * pages hold the only copy. */
    tally_mapped mem = { buf, len, 0 };
    tally_util__release(&mem, 0, len);
    for (size_t i = 0; i < len; i += 4096)
        assert_int_equal(buf[i], (char)(i * 131 + (i >> 12)));
    free(buf);
}

static void test_util__prefault_keeps_contents(void **state)
{
    (void)state;
    size_t len = (3u << 20) + 777;
    unsigned char *p = malloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 17 + 5);
    tally_util__prefault(p + 3, len - 3);
    tally_util__prefault(p, 100); /* small: nothing to do */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(p[i], (unsigned char)(i * 17 + 5));
    free(p);
}

static void test_util__map_empty_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/empty.csv", tmpdir);
    write_file(path, "", 0);
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), 0);
    assert_non_null(m.data); /* a valid zero-length buffer */
    assert_int_equal(m.size, 0);
    tally_util__unmap(&m);
    assert_int_equal(m.size, 0);
}

static void test_util__map_missing_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/no-such-file.csv", tmpdir);
    tally_error_clear();
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), TALLY_EIO);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EIO);
    assert_non_null(e->path);
    assert_string_equal(e->path, path);
    /* "path: cannot open: <reason>" */
    char prefix[420];
    snprintf(prefix, sizeof prefix, "%s: cannot open: ", path);
    assert_true(strncmp(e->message, prefix, strlen(prefix)) == 0);
    assert_true(strlen(e->message) > strlen(prefix));
    assert_string_equal(tally_error__reason(), e->message + strlen(path) + 2);
}

static void test_util__map_directory_fails(void **state)
{
    (void)state;
    /* A directory opens but cannot be read: an error naming the path. */
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, tmpdir), TALLY_EIO);
    assert_int_equal(tally_error_last()->code, TALLY_EIO);
    assert_string_equal(tally_error_last()->path, tmpdir);
    assert_true(strncmp(tally_error_last()->message, tmpdir, strlen(tmpdir)) == 0);
}

static void test_util__map_pipe(void **state)
{
    (void)state;
    /* Not a regular file: read into memory instead of mapped. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char content[] = "a,b\n1,2\n";
    assert_int_equal(write(fds[1], content, sizeof content - 1), (ssize_t)(sizeof content - 1));
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, path), 0);
    close(fds[0]);
    assert_int_equal(m.size, sizeof content - 1);
    assert_memory_equal(m.data, content, sizeof content - 1);
    tally_util__unmap(&m);
    assert_null(m.data);
}

static void test_util__map_empty_non_regular(void **state)
{
    (void)state;
    /* /dev/null reads as empty. Under the leak checker this also proves
     * the read buffer is released by unmap when nothing was read. */
    tally_mapped m;
    assert_int_equal(tally_util__map_file(&m, "/dev/null"), 0);
    assert_non_null(m.data);
    assert_int_equal(m.size, 0);
    tally_util__unmap(&m);
    assert_null(m.data);
}

/* ---- allocation helpers -------------------------------------------------- */

static void test_util__grow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    assert_int_equal(tally_util__grow((void **)&a, &cap, 1, sizeof *a), 0);
    assert_non_null(a);
    assert_true(cap >= 1);
    a[0] = 41;
    assert_int_equal(tally_util__grow((void **)&a, &cap, 1000, sizeof *a), 0);
    assert_true(cap >= 1000);
    assert_int_equal(a[0], 41); /* contents kept */
    for (size_t i = 0; i < 1000; i++)
        a[i] = (int)i;
    size_t before = cap;
    int *p = a;
    assert_int_equal(tally_util__grow((void **)&a, &cap, 10, sizeof *a), 0);
    assert_int_equal(cap, before); /* no shrinking, no move */
    assert_ptr_equal(a, p);
    /* A size that cannot be represented: ENOMEM, array untouched. */
    assert_int_equal(tally_util__grow((void **)&a, &cap, SIZE_MAX / 4, 64), TALLY_ENOMEM);
    assert_ptr_equal(a, p);
    assert_int_equal(cap, before);
    assert_int_equal(a[999], 999);
    free(a);
}

static void test_util__strndup(void **state)
{
    (void)state;
    char *s = tally_util__strndup("北京市,12", 9);
    assert_non_null(s);
    assert_string_equal(s, "北京市");
    free(s);
    s = tally_util__strndup("x", 0);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    /* Embedded NUL: len bytes are copied. */
    s = tally_util__strndup("a\0b", 3);
    assert_non_null(s);
    assert_memory_equal(s, "a\0b", 4);
    free(s);
}

static void test_util__hash(void **state)
{
    (void)state;
    assert_true(tally_util__hash_bytes("abc", 3) == tally_util__hash_bytes("abc", 3));
    assert_true(tally_util__hash_bytes("abc", 3) != tally_util__hash_bytes("abd", 3));
    /* The length takes part: "a" and "a\0" differ. */
    assert_true(tally_util__hash_bytes("a\0", 1) != tally_util__hash_bytes("a\0", 2));
    assert_true(tally_util__hash_u64(1) != tally_util__hash_u64(2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_util__parse_number_integers),
        cmocka_unit_test(test_util__parse_number_signs),
        cmocka_unit_test(test_util__parse_number_decimals),
        cmocka_unit_test(test_util__parse_number_exponents),
        cmocka_unit_test(test_util__parse_number_spaces),
        cmocka_unit_test(test_util__parse_number_uses_length),
        cmocka_unit_test(test_util__parse_number_rejects),
        cmocka_unit_test(test_util__parse_number_range),
        cmocka_unit_test(test_util__parse_number_long_text),
        cmocka_unit_test(test_util__parse_number_matches_strtod),
        cmocka_unit_test(test_util__parse_number_hard_cases_match_strtod),
        cmocka_unit_test(test_util__code12),
        cmocka_unit_test(test_util__code12_matches_a_reading_byte_by_byte),
        cmocka_unit_test(test_util__release_gives_pages_back),
        cmocka_unit_test(test_util__prefault_keeps_contents),
        cmocka_unit_test(test_util__utf8_column),
        cmocka_unit_test(test_util__utf8_valid_accepts),
        cmocka_unit_test(test_util__utf8_valid_rejects),
        cmocka_unit_test(test_util__map_regular_file),
        cmocka_unit_test(test_util__map_larger_file),
        cmocka_unit_test(test_util__map_empty_file),
        cmocka_unit_test(test_util__map_missing_file),
        cmocka_unit_test(test_util__map_directory_fails),
        cmocka_unit_test(test_util__map_pipe),
        cmocka_unit_test(test_util__map_empty_non_regular),
        cmocka_unit_test(test_util__parse_number_relaxed),
        cmocka_unit_test(test_util__grow),
        cmocka_unit_test(test_util__strndup),
        cmocka_unit_test(test_util__hash),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
