/* Tests for tally_number_format (include/tally/number.h): rounding half away
 * from zero on the value's shortest decimal form, no "-0", large values,
 * the decimals range and the errors. Then the fast paths of the writer
 * against the plain ones: its number formatting against the exact path on
 * the shortest decimal, and tally_result_write on every thread count and
 * block size against a plain writer here, in CSV and JSON, with and
 * without a comparison, over existing files, standard output and errors.
 *
 * Expected strings are written out by hand, or computed here by exact
 * integer and decimal-string arithmetic that does not share any code with
 * lib/export.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "tally.h"

static void expect_format(double value, int decimals, const char *expected)
{
    char buf[64];
    memset(buf, 'X', sizeof buf);
    int n = tally_number_format(buf, sizeof buf, value, decimals);
    if (n < 0 || strcmp(buf, expected) != 0)
        print_error("format(%.17g, %d) = %d \"%s\", expected \"%s\"\n", value, decimals, n,
                    n < 0 ? "" : buf, expected);
    assert_true(n >= 0);
    assert_string_equal(buf, expected);
    assert_int_equal(n, (int)strlen(expected));
}

static void test_export__format_number_half_away_from_zero(void **state)
{
    (void)state;
    /* Exact binary halves at 0 decimals. */
    expect_format(0.5, 0, "1");
    expect_format(1.5, 0, "2");
    expect_format(2.5, 0, "3");
    expect_format(3.5, 0, "4");
    expect_format(-0.5, 0, "-1");
    expect_format(-1.5, 0, "-2");
    expect_format(-2.5, 0, "-3");
    expect_format(29.5, 0, "30");
    /* Not halves. */
    expect_format(0.4, 0, "0");
    expect_format(0.6, 0, "1");
    expect_format(2.49, 0, "2");
    expect_format(-2.49, 0, "-2");
    expect_format(-2.51, 0, "-3");
    /* Decimal halves that binary cannot hold exactly:
     * 2.675 is stored as 2.67499999999999982236431605997495353221893310546875,
     * 1.005 as 1.00499999999999989341858963598497211933135986328125;
     * written as 2.675 and 1.005 they are halves and go up. */
    expect_format(2.675, 2, "2.68");
    expect_format(1.005, 2, "1.01");
    expect_format(0.125, 2, "0.13");
    expect_format(-0.125, 2, "-0.13");
    expect_format(1.115, 2, "1.12");
    expect_format(8.345, 2, "8.35");
    expect_format(0.045, 2, "0.05");
    expect_format(1.45, 1, "1.5");
    expect_format(-1.45, 1, "-1.5");
    expect_format(1234.5678, 3, "1234.568");
    expect_format(0.035, 2, "0.04");
    expect_format(30.75, 1, "30.8");
    expect_format(29.45, 1, "29.5");
}

static void test_export__format_number_no_negative_zero(void **state)
{
    (void)state;
    expect_format(-0.004, 2, "0.00");
    expect_format(-0.0049, 2, "0.00");
    expect_format(-0.005, 2, "-0.01"); /* a half: away from zero */
    expect_format(-0.0, 0, "0");
    expect_format(-0.0, 2, "0.00");
    expect_format(0.0, 0, "0");
    expect_format(0.0, 3, "0.000");
    expect_format(-0.4, 0, "0");
    expect_format(-1e-300, 2, "0.00");
    expect_format(-4.9406564584124654e-324, 15, "0.000000000000000");
}

static void test_export__format_number_plain_values(void **state)
{
    (void)state;
    expect_format(42.0, 0, "42");
    expect_format(42.0, 2, "42.00");
    expect_format(-7.0, 1, "-7.0");
    expect_format(0.1, 1, "0.1");
    expect_format(0.1, 3, "0.100");
    expect_format(12345678.9, 1, "12345678.9");
    expect_format(665000.0, 0, "665000");
    expect_format(0.0005, 4, "0.0005");
    expect_format(123456789.123, 0, "123456789");
}

static void test_export__format_number_large(void **state)
{
    (void)state;
    expect_format(1e17, 2, "100000000000000000.00");
    expect_format(1e17, 0, "100000000000000000");
    expect_format(-1e17, 0, "-100000000000000000");
    expect_format(9007199254740992.0, 0, "9007199254740992");   /* 2^53 */
    expect_format(9007199254740992.0, 1, "9007199254740992.0");
    expect_format(1e22, 0, "10000000000000000000000");
    expect_format(123456789012345.0, 2, "123456789012345.00");
    expect_format(4503599627370495.5, 0, "4503599627370496"); /* exact half, away */
    expect_format(-4503599627370495.5, 0, "-4503599627370496");
}

static void test_export__format_number_whole_numbers_unchanged(void **state)
{
    (void)state;
    /* Whole numbers have nothing to round: their digits, then zeros. Sums
     * over a country reach these sizes (incomes in yuan, 10^12..10^15). */
    expect_format(600000000000000.0, 0, "600000000000000");
    expect_format(1e15, 0, "1000000000000000");
    expect_format(123456789012345.0, 0, "123456789012345");
    expect_format(4503599627370496.0, 0, "4503599627370496"); /* 2^52 */
    expect_format(-987654321098765.0, 0, "-987654321098765");
    expect_format(1e12, 3, "1000000000000.000");
    expect_format(5.6e12, 2, "5600000000000.00");
    expect_format(1e13, 2, "10000000000000.00");
    expect_format(12345678901.0, 4, "12345678901.0000");
}

static void test_export__format_number_decimals_range(void **state)
{
    (void)state;
    expect_format(3.0, 0, "3");
    expect_format(0.1, 15, "0.100000000000000");
    expect_format(1.0 / 3.0, 15, "0.333333333333333");
    expect_format(2.0 / 3.0, 15, "0.666666666666667");
    expect_format(1e-15, 15, "0.000000000000001");
    expect_format(4e-16, 15, "0.000000000000000");
    expect_format(5e-16, 15, "0.000000000000001");
    expect_format(-5e-16, 15, "-0.000000000000001");
    expect_format(1.5, 15, "1.500000000000000");
    /* The shortest form of 123.456 is 123.456: padded with zeros, not the
     * binary expansion 123.4560000000000030695446184836328029632568359375. */
    expect_format(123.456, 15, "123.456000000000000");
    expect_format(10.1, 15, "10.100000000000000");
}

static void test_export__format_number_errors(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(tally_number_format(buf, sizeof buf, NAN, 2), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, -NAN, 0), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, INFINITY, 2), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, -INFINITY, 2), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, 1.0, -1), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, 1.0, 16), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, sizeof buf, 1.0, 100), TALLY_EINVAL);
    assert_int_equal(tally_number_format(NULL, 10, 1.0, 2), TALLY_EINVAL);
}

static void test_export__format_number_buffer_size(void **state)
{
    (void)state;
    char buf[64];
    /* "2.68" takes 4 bytes and the NUL: 5 fit, 4 do not. */
    assert_int_equal(tally_number_format(buf, 5, 2.675, 2), 4);
    assert_string_equal(buf, "2.68");
    assert_int_equal(tally_number_format(buf, 4, 2.675, 2), TALLY_EINVAL);
    /* "-0.13": 6 bytes with the NUL. */
    assert_int_equal(tally_number_format(buf, 6, -0.125, 2), 5);
    assert_string_equal(buf, "-0.13");
    assert_int_equal(tally_number_format(buf, 5, -0.125, 2), TALLY_EINVAL);
    /* "0.00" for -0.004: no sign, so 5 bytes are enough. */
    assert_int_equal(tally_number_format(buf, 5, -0.004, 2), 4);
    assert_string_equal(buf, "0.00");
    /* "100000000000000000.00" is 21 characters. */
    assert_int_equal(tally_number_format(buf, 22, 1e17, 2), 21);
    assert_string_equal(buf, "100000000000000000.00");
    assert_int_equal(tally_number_format(buf, 21, 1e17, 2), TALLY_EINVAL);
    /* Nothing fits in nothing. */
    assert_int_equal(tally_number_format(buf, 0, 1.0, 0), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, 1, 1.0, 0), TALLY_EINVAL);
    assert_int_equal(tally_number_format(buf, 2, 1.0, 0), 1);
    assert_string_equal(buf, "1");
    /* Bytes past size are never written. */
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(tally_number_format(buf, 3, 123.0, 0), TALLY_EINVAL);
    for (size_t i = 3; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'Z');
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(tally_number_format(buf, 10, 1e17, 2), TALLY_EINVAL);
    for (size_t i = 10; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'Z');
}

/* ---- independent oracles ------------------------------------------------- */

/* xorshift64*: deterministic, so failures reproduce. */
static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t pow10u(int e)
{
    uint64_t p = 1;
    while (e-- > 0)
        p *= 10;
    return p;
}

/* Writes "[-]<digits of q with `decimals` of them after the point>" where
 * the magnitude is q / 10^decimals followed by `zeros` more zero digits
 * (the value is q * 10^zeros / 10^decimals). Never "-0...". */
static void write_fixed(char *out, int negative, uint64_t q, int zeros, int decimals)
{
    char digits[64];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)q);
    if (q != 0)
        for (int z = 0; z < zeros; z++)
            digits[n++] = '0';
    digits[n] = '\0';
    /* Pad to at least decimals + 1 digits. */
    char padded[80];
    int pad = decimals + 1 - n > 0 ? decimals + 1 - n : 0;
    memset(padded, '0', (size_t)pad);
    memcpy(padded + pad, digits, (size_t)n + 1);
    int len = pad + n;
    char *p = out;
    if (negative && q != 0)
        *p++ = '-';
    memcpy(p, padded, (size_t)(len - decimals));
    p += len - decimals;
    if (decimals) {
        *p++ = '.';
        memcpy(p, padded + len - decimals, (size_t)decimals);
        p += decimals;
    }
    *p = '\0';
}

/* The expected text of k / 10^d (k < 10^15, so its shortest decimal form
 * is exactly that) at `decimals`, by integer arithmetic: exact when no
 * digit is dropped, else the quotient, plus one when the remainder is at
 * least half the divisor. */
static void expected_k_over_10d(char *out, int negative, uint64_t k, int d, int decimals)
{
    if (decimals >= d) {
        write_fixed(out, negative, k, decimals - d, decimals);
        return;
    }
    uint64_t div = pow10u(d - decimals);
    uint64_t q = k / div, r = k % div;
    if (2 * r >= div)
        q++;
    write_fixed(out, negative, q, 0, decimals);
}

typedef struct mismatches {
    long count;
    long checked;
} mismatches;

static void check_one(mismatches *m, double v, int decimals, const char *expected)
{
    char buf[128];
    int n = tally_number_format(buf, sizeof buf, v, decimals);
    m->checked++;
    if (n < 0 || strcmp(buf, expected) != 0 || n != (int)strlen(expected)) {
        if (m->count < 12)
            print_error("format(%.17g, %d) = %d \"%s\", expected \"%s\"\n", v, decimals, n,
                        n < 0 ? "" : buf, expected);
        m->count++;
    }
}

static void report(const mismatches *m, const char *what)
{
    if (m->count)
        print_error("%s: %ld of %ld values formatted wrongly\n", what, m->count, m->checked);
    assert_int_equal(m->count, 0);
}

static void test_export__format_number_random_k_over_10d(void **state)
{
    (void)state;
    /* k / 10^d with k < 10^12 and d in 0..6, at 0..d+1 decimals: the
     * cases that round (decimals < d) or are exact. */
    mismatches m = { 0, 0 };
    for (int i = 0; i < 200000; i++) {
        int digits = 1 + (int)(rng() % 12); /* one call per statement: a fixed order */
        uint64_t k = rng() % pow10u(digits);
        int d = (int)(rng() % 7);
        int negative = (int)(rng() & 1);
        double v = (double)k / (double)pow10u(d);
        if (negative)
            v = -v;
        for (int dec = 0; dec <= d + 1; dec++) {
            char want[96];
            expected_k_over_10d(want, negative, k, d, dec);
            check_one(&m, v, dec, want);
        }
    }
    report(&m, "k / 10^d");
}

static void test_export__format_number_random_ties(void **state)
{
    (void)state;
    /* (2k+1) / (2 * 10^d) = (2k+1) * 5 / 10^(d+1): a decimal half at d
     * decimals, which must go away from zero. (2k+1) * 5 < 10^15 keeps
     * the shortest form exact. */
    mismatches m = { 0, 0 };
    for (int i = 0; i < 200000; i++) {
        int digits = 1 + (int)(rng() % 13);
        uint64_t k = rng() % pow10u(digits);
        int d = (int)(rng() % 7);
        int negative = (int)(rng() & 1);
        double v = (double)(2 * k + 1) / (double)(2 * pow10u(d));
        if (negative)
            v = -v;
        char want[96];
        /* At d decimals: k + 1 units of 10^-d. */
        write_fixed(want, negative, k + 1, 0, d);
        check_one(&m, v, d, want);
        /* At d + 1 decimals it is exact; below d, integer rounding of
         * (2k+1)*5 / 10^(d+1). */
        for (int dec = 0; dec <= d + 1; dec++) {
            expected_k_over_10d(want, negative, (2 * k + 1) * 5, d + 1, dec);
            check_one(&m, v, dec, want);
        }
    }
    report(&m, "ties");
}

static void test_export__format_number_random_padded(void **state)
{
    (void)state;
    /* k / 10^d with up to 15 significant digits, printed with more
     * decimals than it has (up to 15): the shortest form padded with
     * zeros, never binary noise. */
    mismatches m = { 0, 0 };
    for (int i = 0; i < 100000; i++) {
        int digits = 1 + (int)(rng() % 15);
        uint64_t k = rng() % pow10u(digits);
        int d = (int)(rng() % 7);
        int negative = (int)(rng() & 1);
        double v = (double)k / (double)pow10u(d);
        if (negative)
            v = -v;
        int dec = d + (int)(rng() % (unsigned)(16 - d));
        char want[96];
        expected_k_over_10d(want, negative, k, d, dec);
        check_one(&m, v, dec, want);
    }
    report(&m, "padded");
}

/* The shortest decimal form of v > 0: digits d1..dn and an exponent e with
 * v = d1.d2...dn * 10^e, the fewest digits that read back as v. The C
 * library's %.*e is correctly rounded, so the first precision that round
 * trips gives the nearest such form. */
static int shortest_form(double v, char *digits, int *exp10)
{
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    int n = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    digits[n] = '\0';
    *exp10 = atoi(s + 1);
    return n;
}

/* Rounds the shortest form of v half away from zero at `decimals`, with
 * decimal-string arithmetic. */
static void expected_from_shortest(char *out, double v, int decimals)
{
    int negative = v < 0;
    double a = fabs(v);
    if (a == 0) {
        write_fixed(out, 0, 0, 0, decimals);
        return;
    }
    char digits[32];
    int e;
    int n = shortest_form(a, digits, &e);
    /* Scaled by 10^decimals, the integer part is the first `k` digits. */
    int k = e + decimals + 1;
    char ip[400];
    int il = 0;
    for (int i = 0; i < k; i++)
        ip[il++] = i < n ? digits[i] : '0';
    int up = k >= 0 && k < n && digits[k] >= '5';
    if (il == 0)
        ip[il++] = '0';
    ip[il] = '\0';
    if (up) {
        int i = il - 1;
        while (i >= 0 && ip[i] == '9')
            ip[i--] = '0';
        if (i >= 0) {
            ip[i]++;
        } else {
            memmove(ip + 1, ip, (size_t)il + 1);
            ip[0] = '1';
            il++;
        }
    }
    /* Strip leading zeros, keep at least decimals + 1 digits. */
    int start = 0;
    while (start < il - 1 && ip[start] == '0' && il - start > decimals + 1)
        start++;
    char padded[420];
    int pad = decimals + 1 - (il - start) > 0 ? decimals + 1 - (il - start) : 0;
    memset(padded, '0', (size_t)pad);
    memcpy(padded + pad, ip + start, (size_t)(il - start) + 1);
    int len = pad + il - start;
    int zero = 1;
    for (int i = 0; i < len; i++)
        zero &= padded[i] == '0';
    char *p = out;
    if (negative && !zero)
        *p++ = '-';
    memcpy(p, padded, (size_t)(len - decimals));
    p += len - decimals;
    if (decimals) {
        *p++ = '.';
        memcpy(p, padded + len - decimals, (size_t)decimals);
        p += decimals;
    }
    *p = '\0';
}

static void test_export__format_number_oracle_self_check(void **state)
{
    (void)state;
    /* The shortest-form oracle agrees with the hand-written cases. */
    char s[128];
    expected_from_shortest(s, 2.675, 2);
    assert_string_equal(s, "2.68");
    expected_from_shortest(s, -0.125, 2);
    assert_string_equal(s, "-0.13");
    expected_from_shortest(s, -0.004, 2);
    assert_string_equal(s, "0.00");
    expected_from_shortest(s, 9.995, 2);
    assert_string_equal(s, "10.00");
    expected_from_shortest(s, 999.5, 0);
    assert_string_equal(s, "1000");
    expected_from_shortest(s, 1e17, 2);
    assert_string_equal(s, "100000000000000000.00");
    expected_from_shortest(s, 0.049, 1);
    assert_string_equal(s, "0.0");
    expected_from_shortest(s, 0.05, 1);
    assert_string_equal(s, "0.1");
    expected_from_shortest(s, 123.456, 15);
    assert_string_equal(s, "123.456000000000000");
    expected_from_shortest(s, 0.49999999999999994, 0);
    assert_string_equal(s, "0");
    char k[96];
    expected_k_over_10d(k, 1, 25, 1, 0);
    assert_string_equal(k, "-3");
    expected_k_over_10d(k, 0, 1234, 3, 5);
    assert_string_equal(k, "1.23400");
    expected_k_over_10d(k, 1, 4, 3, 2);
    assert_string_equal(k, "0.00");
    expected_k_over_10d(k, 0, 5, 3, 2);
    assert_string_equal(k, "0.01");
}

static void test_export__format_number_random_shortest_forms(void **state)
{
    (void)state;
    /* Values of every kind (16 and 17 significant digits, tiny, large),
     * against the shortest-form oracle. */
    mismatches m = { 0, 0 };
    for (int i = 0; i < 200000; i++) {
        double v;
        uint64_t r1 = rng(), r2 = rng(); /* in this order, whatever the compiler */
        switch (i % 3) {
        case 0: /* a decimal with up to 16 digits */
            v = (double)(r1 % 9007199254740992ULL) / (double)pow10u((int)(r2 % 18));
            break;
        case 1: /* any double from 2^-20 up to 2^53 (beyond, every double is
                 * an integer whose shortest form may drop digits) */
            v = ldexp((double)(r1 >> 11) / 9007199254740992.0 + 0.5, (int)(r2 % 73) - 19);
            break;
        default: /* small integers plus a short fraction */
            v = (double)(r1 % 100000) + (double)(r2 % 1000) / 1000.0;
            break;
        }
        if (rng() & 1)
            v = -v;
        int dec = (int)(rng() % 16);
        char want[512];
        expected_from_shortest(want, v, dec);
        if (strlen(want) >= 120)
            continue;
        check_one(&m, v, dec, want);
    }
    report(&m, "shortest forms");
}

static void test_export__format_number_near_half_not_half(void **state)
{
    (void)state;
    /* Shortest forms just below a half are not halves. The largest double
     * below 0.5 is 0.49999999999999994; below 2.5, 2.4999999999999996. */
    expect_format(0.49999999999999994, 0, "0");
    expect_format(2.4999999999999996, 0, "2");
    expect_format(-2.4999999999999996, 0, "-2");
    /* 16 significant digits: 123456789012345.4 (stored as
     * 123456789012345.40625) rounds down at 0 decimals. */
    expect_format(123456789012345.4, 0, "123456789012345");
    /* 1234567890123.454 at 2 decimals: the dropped digit is a 4. */
    expect_format(1234567890123.454, 2, "1234567890123.45");
    expect_format(1234567890123.444, 2, "1234567890123.44");
    expect_format(-1234567890123.454, 2, "-1234567890123.45");
}


/* ---- the writer's numbers against the exact path ------------------------ */

/* Formats v at every number of decimals three ways: the writer's fast path
 * (tally_export__number), tally_number_format and the exact path on the
 * shortest decimal for every value (tally_export__number_plain), and
 * counts any difference in code or text. */
static void check_paths(mismatches *m, double v)
{
    for (int dec = 0; dec <= 15; dec++) {
        char fast[512], pub[512], plain[512];
        int nf = tally_export__number(fast, sizeof fast, v, dec);
        int np = tally_number_format(pub, sizeof pub, v, dec);
        int nx = tally_export__number_plain(plain, sizeof plain, v, dec);
        m->checked++;
        if (nf != nx || np != nx || (nx >= 0 && (strcmp(fast, plain) || strcmp(pub, plain)))) {
            if (m->count < 12)
                print_error("%.17g at %d: fast %d \"%s\", public %d \"%s\", plain %d \"%s\"\n", v,
                            dec, nf, nf < 0 ? "" : fast, np, np < 0 ? "" : pub, nx,
                            nx < 0 ? "" : plain);
            m->count++;
        }
    }
}

static void test_export__fast_numbers_equal_the_exact_path(void **state)
{
    (void)state;
    mismatches m = { 0, 0 };
    /* By hand: zeros, halves, the 2^52 edge of the fast path, the ends of
     * the double range, and what is missing or not finite. */
    static const double fixed[] = { 0.0,
                                    -0.0,
                                    0.5,
                                    -0.5,
                                    1.5,
                                    2.5,
                                    2.675,
                                    -2.675,
                                    1.005,
                                    0.125,
                                    -0.125,
                                    0.045,
                                    9.995,
                                    999999.5,
                                    4503599627370495.0,
                                    4503599627370495.5,
                                    4503599627370496.0,
                                    4503599627370497.0,
                                    9007199254740991.0,
                                    9007199254740992.0,
                                    9007199254740993.0,
                                    450359962737049.55,
                                    45035996273704.955,
                                    1e14,
                                    99999999999999.99,
                                    1e15,
                                    1e16,
                                    1e17,
                                    1e22,
                                    1e23,
                                    1e300,
                                    -1e300,
                                    DBL_MAX,
                                    -DBL_MAX,
                                    DBL_MIN,
                                    5e-324,
                                    -5e-324,
                                    1e-300,
                                    0.49999999999999994,
                                    2.4999999999999996,
                                    NAN,
                                    INFINITY,
                                    -INFINITY };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        check_paths(&m, fixed[i]);
    /* Random: whole numbers (sums of counts) of every size, decimals with
     * up to 15 digits and their halves, any double, each either sign, and
     * the neighbours of each (one ulp either way). */
    rng_state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 8000; i++) {
        uint64_t r1 = rng(), r2 = rng(), r3 = rng();
        double v;
        switch (i % 5) {
        case 0: /* whole, up to 2^63 */
            v = (double)(r1 >> (r2 % 64));
            break;
        case 1: /* k / 10^d */
            v = (double)(r1 % pow10u(1 + (int)(r2 % 15))) / (double)pow10u((int)(r3 % 16));
            break;
        case 2: /* a decimal half: (2k + 1) / (2 x 10^d) */
            v = (double)(2 * (r1 % 100000000000ULL) + 1) / (double)(2 * pow10u((int)(r2 % 7)));
            break;
        case 3: /* any finite double, from tiny to huge */
            v = ldexp((double)(r1 >> 11) / 9007199254740992.0 + 0.5, (int)(r2 % 2100) - 1074);
            break;
        default: /* around 2^52 and 2^53, where the fast path ends */
            v = ldexp(1.0, 50 + (int)(r2 % 5)) + (double)(r1 % 4096) / 2 - 1024;
            break;
        }
        if (r3 & 1)
            v = -v;
        check_paths(&m, v);
        check_paths(&m, nextafter(v, INFINITY));
        check_paths(&m, nextafter(v, -INFINITY));
    }
    report(&m, "fast against exact");
}

/* ---- the writer against a plain one ------------------------------------- */

/* Three provinces, each with cities, counties, towns and villages (every
 * subtree a few nodes), names that need quoting in CSV and escaping in
 * JSON, and one name longer than any buffer the writer starts with. */
static char *wide_hierarchy(size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n, "code,name,level,parent_code\n");
    static const char *const odd[] = { "\"A, B\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"",
                                       "tab\there", "back\\slash", "\"cr\rlf\"" };
    int k = 0;
    for (int p = 1; p <= 3; p++) {
        n += (size_t)snprintf(s + n, cap - n, "%02d0000000000,省%d,province,\n", p, p);
        for (int c = 1; c <= 2; c++) {
            n += (size_t)snprintf(s + n, cap - n, "%02d%02d00000000,%s,city,%02d0000000000\n", p,
                                  c, odd[k++ % 6], p);
            for (int d = 1; d <= 3; d++) {
                n += (size_t)snprintf(s + n, cap - n, "%02d%02d%02d000000,县%d,county,%02d%02d00000000\n",
                                      p, c, d, d, p, c);
                for (int t = 1; t <= 4; t++) {
                    n += (size_t)snprintf(s + n, cap - n,
                                          "%02d%02d%02d%03d000,%s,town,%02d%02d%02d000000\n", p, c, d,
                                          t, odd[k++ % 6], p, c, d);
                    for (int v = 1; v <= 5; v++)
                        n += (size_t)snprintf(s + n, cap - n,
                                              "%02d%02d%02d%03d%03d,村%d,village,%02d%02d%02d%03d000\n",
                                              p, c, d, t, v, v, p, c, d, t);
                }
            }
        }
    }
    /* Names around the length where the writer's one-pass copy of a
     * node's text gives way to the general one (its first buffer, 4 KiB). */
    n += (size_t)snprintf(s + n, cap - n, "980000000000,边,province,\n");
    for (int t = 0; t < 16; t++) {
        n += (size_t)snprintf(s + n, cap - n, "98%02d00000000,", t + 1);
        for (int i = 0; i < 3990 + 7 * t; i++)
            s[n++] = (char)('A' + (i + t) % 26);
        n += (size_t)snprintf(s + n, cap - n, ",town,980000000000\n");
    }
    /* Long codes with long names: both share the room of the one pass. */
    for (int t = 0; t < 6; t++) {
        for (int i = 0; i < 1990 + 9 * t; i++)
            s[n++] = (char)('0' + (i + t) % 10);
        n += (size_t)snprintf(s + n, cap - n, ",");
        for (int i = 0; i < 1990 + 11 * t; i++)
            s[n++] = 'n';
        n += (size_t)snprintf(s + n, cap - n, ",town,980000000000\n");
    }
    /* A town whose name is 100 000 bytes. */
    n += (size_t)snprintf(s + n, cap - n, "990000000000,长,province,\n990100000000,");
    for (int i = 0; i < 100000; i++)
        s[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(s + n, cap - n, ",town,990000000000\n");
    *len = n;
    return s;
}

static const char wide_definitions[] = "indicators:\n"
                                       "  - { id: count, over_time: flow }\n"
                                       "  - { id: amount, over_time: flow, decimals: 2 }\n"
                                       "  - { id: fine, over_time: stock, decimals: 15 }\n"
                                       "  - { id: big, over_time: stock, decimals: 1 }\n"
                                       "  - id: share\n"
                                       "    unit: \"%\"\n"
                                       "    formula: count / amount * 100\n"
                                       "    decimals: 2\n"
                                       "  - id: per_amount\n"
                                       "    formula: amount / count\n"
                                       "    decimals: 3\n";

typedef struct wide {
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *ds;
} wide;

/* A value for a village, drawn so that every kind occurs: whole, with
 * cents and halves of cents, negative, tiny, huge (when `huge`), missing
 * (NAN). */
static double wide_value(int ind, int huge)
{
    uint64_t r = rng();
    if (r % 9 == 0)
        return NAN;
    switch (ind) {
    case 0: return (double)(r % 100000) - (r % 7 == 0 ? 50000 : 0);
    case 1: return (double)((r >> 8) % 1000000) / ((r & 1) ? 100.0 : 1000.0) - (r % 5 == 0 ? 5000 : 0);
    case 2: return ldexp((double)(r >> 11), -53 - (int)(r % 40));
    default: return (huge && r % 3 == 0) ? 1e300 * (double)(r % 50) : (double)(r % 1000) + 0.05;
    }
}

static void wide_load(wide *w)
{
    size_t len;
    char *text = wide_hierarchy(&len);
    assert_int_equal(tally_hierarchy_from_buffer(&w->h, text, len, "wide.csv", NULL), 0);
    free(text);
    assert_int_equal(tally_definitions_from_buffer(&w->d, wide_definitions,
                                                   sizeof wide_definitions - 1, "wide.yaml"),
                     0);
    assert_int_equal(tally_dataset_new(&w->ds, w->h, w->d), 0);
    static const char *const ids[] = { "count", "amount", "fine", "big" };
    static const char *const periods[] = { "2018-01", "2018-02", "2019-01", "2019-02" };
    rng_state = 77;
    for (size_t node = 0; node < tally_hierarchy_size(w->h); node++) {
        if (strcmp(tally_hierarchy_level_name(w->h, tally_hierarchy_level(w->h, node)),
                   "village"))
            continue;
        for (int i = 0; i < 4; i++)
            for (int p = 0; p < 4; p++) {
                /* Huge values in one county only: they are slow to check. */
                double v = wide_value(i, !strncmp(tally_hierarchy_code(w->h, node), "030203", 6));
                if (!isnan(v))
                    assert_int_equal(tally_dataset_add(w->ds, tally_hierarchy_code(w->h, node),
                                                       ids[i], periods[p], v),
                                     0);
            }
    }
}

static void wide_free(wide *w)
{
    tally_dataset_free(w->ds);
    tally_definitions_free(w->d);
    tally_hierarchy_free(w->h);
}

static tally_result *wide_roll(const wide *w, int compare)
{
    static const char *const periods[] = { "2019-01", "2019-02", "2019" };
    tally_rollup_options o = TALLY_ROLLUP_OPTIONS_INIT;
    o.periods = periods;
    o.period_count = 3;
    o.compare = compare;
    tally_result *r = NULL;
    assert_int_equal(tally_rollup(&r, w->ds, &o), 0);
    return r;
}

/* A growing string for the plain writer. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }

/* RFC 4180: quoted when it holds a comma, quote, CR or LF. */
static void put_csv(text *t, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        puts_(t, s);
        return;
    }
    puts_(t, "\"");
    for (; *s; s++) {
        if (*s == '"')
            puts_(t, "\"");
        put(t, s, 1);
    }
    puts_(t, "\"");
}

static void put_json(text *t, const char *s)
{
    puts_(t, "\"");
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        char esc[8];
        if (*q == '"' || *q == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*q;
            put(t, esc, 2);
        } else if (*q < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *q);
            put(t, esc, 6);
        } else {
            put(t, (const char *)q, 1);
        }
    }
    puts_(t, "\"");
}

/* A number by the shortest-form oracle above; missing is empty or null. */
static void put_number(text *t, double v, int decimals, int json)
{
    if (!isfinite(v)) {
        if (json)
            puts_(t, "null");
        return;
    }
    char buf[512];
    expected_from_shortest(buf, v, decimals);
    puts_(t, buf);
}

/* The result as tally_result_write documents it, row by row through the
 * public accessors. `levels` NULL: all. */
/* all: every row (all_regions); else only the rows with a value or, with
 * a comparison, a previous value. */
static char *plain_write(const tally_result *r, const int *levels, size_t nlev, int json, int all)
{
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    int compare = tally_result_compare(r) != TALLY_COMPARE_NONE;
    text t = { NULL, 0, 0 };
    puts_(&t, json ? "[" : compare ? "region_code,region_name,level,indicator,period,value,previous,change,change_pct\n"
                                   : "region_code,region_name,level,indicator,period,value\n");
    int rows = 0;
    for (size_t node = 0; node < tally_hierarchy_size(h); node++) {
        int level = tally_hierarchy_level(h, node), wanted = !levels;
        for (size_t k = 0; levels && k < nlev; k++)
            wanted |= levels[k] == level;
        if (!wanted)
            continue;
        for (size_t i = 0; i < tally_definitions_indicator_count(d); i++) {
            int dec = tally_definitions_decimals(d, i);
            for (size_t p = 0; p < tally_result_period_count(r); p++) {
                double v, prev = NAN, change = NAN, pct = NAN;
                int present;
                assert_int_equal(tally_result_value(r, node, i, p, &v, &present), 0);
                if (compare) {
                    tally_result_previous(r, node, i, p, &prev, &present);
                    change = v - prev;
                    /* A change of something in % is in points: no percent. */
                    if (strcmp(tally_definitions_unit(d, i), "%") && !isnan(change) && prev != 0)
                        pct = change / fabs(prev) * 100.0;
                }
                if (!all && isnan(v) && isnan(prev))
                    continue;
                const char *f[5] = { tally_hierarchy_code(h, node), tally_hierarchy_name(h, node),
                                     tally_hierarchy_level_name(h, level),
                                     tally_definitions_id(d, i), tally_result_period(r, p) };
                if (json) {
                    static const char *const keys[5] = { "region_code", "region_name", "level",
                                                         "indicator", "period" };
                    puts_(&t, rows ? ",\n{" : "\n{");
                    for (int c = 0; c < 5; c++) {
                        if (c)
                            puts_(&t, ",");
                        put_json(&t, keys[c]);
                        puts_(&t, ":");
                        put_json(&t, f[c]);
                    }
                    puts_(&t, ",\"value\":");
                    put_number(&t, v, dec, 1);
                    if (compare) {
                        puts_(&t, ",\"previous\":");
                        put_number(&t, prev, dec, 1);
                        puts_(&t, ",\"change\":");
                        put_number(&t, change, dec, 1);
                        puts_(&t, ",\"change_pct\":");
                        put_number(&t, pct, 2, 1);
                    }
                    puts_(&t, "}");
                } else {
                    for (int c = 0; c < 5; c++) {
                        if (c == 4)
                            puts_(&t, f[c]); /* periods as they are */
                        else
                            put_csv(&t, f[c]);
                        puts_(&t, ",");
                    }
                    put_number(&t, v, dec, 0);
                    if (compare) {
                        puts_(&t, ",");
                        put_number(&t, prev, dec, 0);
                        puts_(&t, ",");
                        put_number(&t, change, dec, 0);
                        puts_(&t, ",");
                        put_number(&t, pct, 2, 0);
                    }
                    puts_(&t, "\n");
                }
                rows++;
            }
        }
    }
    if (json)
        puts_(&t, rows ? "\n]\n" : "]\n");
    return t.s;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    text t = { NULL, 0, 0 };
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        put(&t, buf, n);
    fclose(f);
    if (!t.s)
        put(&t, "", 0);
    *len = t.len;
    return t.s;
}

static void expect_file(const char *path, const char *want, const char *what)
{
    size_t len;
    char *got = slurp(path, &len);
    if (len != strlen(want) || memcmp(got, want, len)) {
        size_t at = 0;
        while (at < len && got[at] == want[at])
            at++;
        print_error("%s: %zu bytes, expected %zu; first difference at byte %zu\n", what, len,
                    strlen(want), at);
    }
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

static void test_export__write_equals_plain_writer(void **state)
{
    (void)state;
    wide w;
    wide_load(&w);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int village = tally_hierarchy_level_find(w.h, "village");
    int above[] = { village - 1, 0, village - 2, 1 }, nothing[] = { 99 };
    struct {
        const int *levels;
        size_t n;
    } sel[] = { { NULL, 0 }, { above, 4 }, { nothing, 1 } };
    /* One thread, as many as blocks or more; blocks of one node, a few,
     * and the default (all in one here). */
    static const size_t threads[] = { 1, 2, 3, 8 };
    static const size_t blocks[] = { 1, 7, 0 };
    for (int compare = 0; compare <= 1; compare++) {
        tally_result *r = wide_roll(&w, compare ? TALLY_COMPARE_YOY : TALLY_COMPARE_NONE);
        /* Only the rows with data, then every row; CSV, then JSON. */
        for (int k = 0; k < 4; k++)
            for (size_t s = 0; s < sizeof sel / sizeof *sel; s++) {
                int all = k / 2, json = k % 2;
                char *want = plain_write(r, sel[s].levels, sel[s].n, json, all);
                tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
                o.format = json ? TALLY_FORMAT_JSON : TALLY_FORMAT_CSV;
                o.levels = sel[s].levels;
                o.level_count = sel[s].n;
                o.all_regions = all;
                /* Every row: the thread counts at the ends. */
                for (size_t t = 0; t < sizeof threads / sizeof *threads; t += all ? 3 : 1)
                    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
                        char what[128];
                        snprintf(what, sizeof what,
                                 "compare %d all %d json %d levels %zu threads %zu block %zu",
                                 compare, all, json, s, threads[t], blocks[b]);
                        assert_int_equal(tally_export__write(r, path, &o, threads[t], blocks[b]), 0);
                        expect_file(path, want, what);
                    }
                assert_int_equal(tally_result_write(r, path, &o), 0);
                expect_file(path, want, "tally_result_write");
                free(want);
            }
        tally_result_free(r);
    }
    unlink(path);
    wide_free(&w);
}

static void test_export__write_prints_huge_and_tiny_numbers_whole(void **state)
{
    (void)state;
    /* 3e300 (big, 1 decimal) is 3 and 300 zeros; 5e-324 (fine, 15
     * decimals) rounds to 0.000000000000000. Both used to be cut off or
     * shown as they are here only through a 400-byte buffer. */
    tally_hierarchy *h = NULL;
    tally_definitions *d = NULL;
    tally_dataset *ds = NULL;
    tally_result *r = NULL;
    static const char hier[] = "code,name,level,parent_code\n110000000000,北京市,province,\n";
    assert_int_equal(tally_hierarchy_from_buffer(&h, hier, sizeof hier - 1, "h.csv", NULL), 0);
    assert_int_equal(tally_definitions_from_buffer(&d, wide_definitions,
                                                   sizeof wide_definitions - 1, "wide.yaml"),
                     0);
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    assert_int_equal(tally_dataset_add(ds, "110000000000", "big", "2019-01", 3e300), 0);
    assert_int_equal(tally_dataset_add(ds, "110000000000", "fine", "2019-01", 5e-324), 0);
    assert_int_equal(tally_rollup(&r, ds, NULL), 0);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(tally_result_write(r, path, NULL), 0);
    char want[1024];
    int n = snprintf(want, sizeof want,
                     "region_code,region_name,level,indicator,period,value\n"
                     "110000000000,北京市,province,fine,2019-01,0.000000000000000\n"
                     "110000000000,北京市,province,big,2019-01,3");
    for (int i = 0; i < 300; i++)
        want[n++] = '0';
    snprintf(want + n, sizeof want - (size_t)n,
             ".0\n");
    expect_file(path, want, "huge and tiny");
    unlink(path);
    tally_result_free(r);
    tally_dataset_free(ds);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

/* Which rows are written without all_regions, with --coverage: a formula
 * whose value is missing because an operand is, but whose regions count
 * is not 0, keeps its row; a value that is missing with nothing else to
 * show does not. Also options of version 2, which write every row. The
 * expected text is written by hand. */
static void test_export__write_rows_with_data(void **state)
{
    (void)state;
    tally_hierarchy *h = NULL;
    tally_definitions *d = NULL;
    tally_dataset *ds = NULL;
    static const char hier[] = "code,name,level,parent_code\n"
                               "110000000000,北京市,province,\n"
                               "110100000000,市辖区,city,110000000000\n"
                               "120000000000,天津市,province,\n";
    assert_int_equal(tally_hierarchy_from_buffer(&h, hier, sizeof hier - 1, "h.csv", NULL), 0);
    assert_int_equal(tally_definitions_from_buffer(&d, wide_definitions,
                                                   sizeof wide_definitions - 1, "wide.yaml"),
                     0);
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    /* count without amount: share and per_amount have no value, but one
     * region filed an operand. 天津市 has nothing at all. */
    assert_int_equal(tally_dataset_add(ds, "110100000000", "count", "2019-01", 5), 0);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int coverage = 0; coverage <= 1; coverage++) {
        tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
        ro.coverage = coverage;
        tally_result *r = NULL;
        assert_int_equal(tally_rollup(&r, ds, &ro), 0);
        assert_int_equal(tally_result_write(r, path, NULL), 0);
        expect_file(path,
                    coverage ? "region_code,region_name,level,indicator,period,value,regions,"
                               "regions_complete,as_of\n"
                               "110000000000,北京市,province,count,2019-01,5,,,\n"
                               "110000000000,北京市,province,share,2019-01,,1,0,\n"
                               "110000000000,北京市,province,per_amount,2019-01,,1,0,\n"
                               "110100000000,市辖区,city,count,2019-01,5,,,\n"
                               "110100000000,市辖区,city,share,2019-01,,1,0,\n"
                               "110100000000,市辖区,city,per_amount,2019-01,,1,0,\n"
                             : "region_code,region_name,level,indicator,period,value\n"
                               "110000000000,北京市,province,count,2019-01,5\n"
                               "110100000000,市辖区,city,count,2019-01,5\n",
                    coverage ? "rows with data, coverage" : "rows with data");
        /* A wide row when any cell has a value: not 天津市. */
        tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
        o.layout = TALLY_LAYOUT_WIDE;
        if (!coverage) {
            assert_int_equal(tally_result_write(r, path, &o), 0);
            expect_file(path,
                        "region_code,region_name,level,count 2019-01,amount 2019-01,"
                        "fine 2019-01,big 2019-01,share 2019-01,per_amount 2019-01\n"
                        "110000000000,北京市,province,5,,,,,\n"
                        "110100000000,市辖区,city,5,,,,,\n",
                        "wide rows with data");
            /* Options of version 2 have no all_regions: every row. */
            o.version = 2;
            assert_int_equal(tally_result_write(r, path, &o), 0);
            expect_file(path,
                        "region_code,region_name,level,count 2019-01,amount 2019-01,"
                        "fine 2019-01,big 2019-01,share 2019-01,per_amount 2019-01\n"
                        "110000000000,北京市,province,5,,,,,\n"
                        "110100000000,市辖区,city,5,,,,,\n"
                        "120000000000,天津市,province,,,,,,\n",
                        "wide, version 2");
        }
        tally_result_free(r);
    }
    unlink(path);
    tally_dataset_free(ds);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

/* --under, --indicator, --names and --bom on the long writer, on several
 * threads and blocks of one node; and options of version 1, whose later
 * fields are not read. The expected text is written by hand. */
static void test_export__write_scope_names_bom(void **state)
{
    (void)state;
    tally_hierarchy *h = NULL;
    tally_definitions *d = NULL;
    tally_dataset *ds = NULL;
    tally_result *r = NULL;
    static const char hier[] = "code,name,level,parent_code\n"
                               "430000000000,湖南省,province,\n"
                               "430600000000,岳阳市,city,430000000000\n"
                               "430621000000,岳阳县,county,430600000000\n"
                               "430700000000,常德市,city,430000000000\n";
    /* rate is summed up as any stock (no formula): 1.23 above the county. */
    static const char defs[] = "indicators:\n"
                               "  - { id: poor, name: 贫困人口, unit: 人, over_time: stock }\n"
                               "  - { id: rate, name: \"rate, %\", unit: \"%\", over_time: stock,"
                               " decimals: 2 }\n";
    assert_int_equal(tally_hierarchy_from_buffer(&h, hier, sizeof hier - 1, "h.csv", NULL), 0);
    assert_int_equal(tally_definitions_from_buffer(&d, defs, sizeof defs - 1, "d.yaml"), 0);
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    assert_int_equal(tally_dataset_add(ds, "430621000000", "poor", "2019", 12), 0);
    assert_int_equal(tally_dataset_add(ds, "430700000000", "poor", "2019", 5), 0);
    assert_int_equal(tally_dataset_add(ds, "430621000000", "rate", "2019", 1.234), 0);
    assert_int_equal(tally_rollup(&r, ds, NULL), 0);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *const inds[] = { "rate" };
    tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
    o.under = "430600000000";
    o.indicators = inds;
    o.indicator_count = 1;
    o.names = 1;
    o.bom = 1;
    static const char want[] =
        "\xEF\xBB\xBFregion_code,region_name,level,indicator,indicator_name,unit,period,value\n"
        "430600000000,岳阳市,city,rate,\"rate, %\",%,2019,1.23\n"
        "430621000000,岳阳县,county,rate,\"rate, %\",%,2019,1.23\n";
    for (size_t t = 1; t <= 3; t++) {
        assert_int_equal(tally_export__write(r, path, &o, t, 1), 0);
        expect_file(path, want, "under, indicator, names, bom");
    }
    o.layout = TALLY_LAYOUT_WIDE;
    o.indicators = NULL;
    o.indicator_count = 0;
    o.bom = 0;
    assert_int_equal(tally_result_write(r, path, &o), 0);
    expect_file(path,
                "region_code,region_name,level,贫困人口 (人) 2019,\"rate, % (%) 2019\"\n"
                "430600000000,岳阳市,city,12,1.23\n"
                "430621000000,岳阳县,county,12,1.23\n",
                "wide with names under a city");
    /* Version 1: under, names, bom and the layout are not read. */
    o.version = 1;
    o.levels = NULL;
    assert_int_equal(tally_result_write(r, path, &o), 0);
    expect_file(path,
                "region_code,region_name,level,indicator,period,value\n"
                "430000000000,湖南省,province,poor,2019,17\n"
                "430000000000,湖南省,province,rate,2019,1.23\n"
                "430600000000,岳阳市,city,poor,2019,12\n"
                "430600000000,岳阳市,city,rate,2019,1.23\n"
                "430621000000,岳阳县,county,poor,2019,12\n"
                "430621000000,岳阳县,county,rate,2019,1.23\n"
                "430700000000,常德市,city,poor,2019,5\n"
                "430700000000,常德市,city,rate,2019,\n",
                "version 1");
    o.version = TALLY_WRITE_OPTIONS_VERSION;
    o.layout = TALLY_LAYOUT_LONG;
    o.under = "430699999999";
    assert_int_equal(tally_result_write(r, path, &o), TALLY_ENOTFOUND);
    o.under = NULL;
    o.indicators = (const char *const[]){ "povrety" };
    o.indicator_count = 1;
    assert_int_equal(tally_result_write(r, path, &o), TALLY_ENOTFOUND);
    unlink(path);
    tally_result_free(r);
    tally_dataset_free(ds);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

static void test_export__write_replaces_an_existing_file(void **state)
{
    (void)state;
    wide w;
    wide_load(&w);
    tally_result *r = wide_roll(&w, TALLY_COMPARE_NONE);
    int towns[] = { tally_hierarchy_level_find(w.h, "town") };
    tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
    o.levels = towns;
    o.level_count = 1;
    char *want = plain_write(r, towns, 1, 0, 0);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* Longer than the output, then shorter: either way the file ends up
     * exactly the output, and keeps its mode. */
    static const size_t sizes[] = { 3u << 20, 10 };
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(ftruncate(fd, 0), 0);
        char junk[4096];
        memset(junk, 'X', sizeof junk);
        for (size_t n = 0; n < sizes[k]; n += sizeof junk)
            assert_true(pwrite(fd, junk, sizeof junk, (off_t)n) > 0);
        assert_int_equal(fchmod(fd, 0640), 0);
        assert_int_equal(tally_export__write(r, path, &o, 2, 3), 0);
        expect_file(path, want, "over an existing file");
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
    }
    close(fd);
    /* A device is written, not cut. */
    assert_int_equal(tally_result_write(r, "/dev/null", &o), 0);
    unlink(path);
    free(want);
    tally_result_free(r);
    wide_free(&w);
}

static void test_export__write_to_standard_output_after_stdio(void **state)
{
    (void)state;
    wide w;
    wide_load(&w);
    tally_result *r = wide_roll(&w, TALLY_COMPARE_NONE);
    int towns[] = { tally_hierarchy_level_find(w.h, "town") };
    tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
    o.levels = towns;
    o.level_count = 1;
    o.format = TALLY_FORMAT_JSON;
    o.all_regions = 1;
    char *rows = plain_write(r, towns, 1, 1, 1);
    char path[] = "/tmp/tally-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 1) == 1);
    /* Still in stdio's buffer when the result is written: it comes first. */
    fputs("before\n", stdout);
    int rc = tally_export__write(r, NULL, &o, 2, 5);
    fputs("after\n", stdout);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    assert_int_equal(rc, 0);
    text want = { NULL, 0, 0 };
    puts_(&want, "before\n");
    puts_(&want, rows);
    puts_(&want, "after\n");
    expect_file(path, want.s, "standard output");
    unlink(path);
    free(want.s);
    free(rows);
    tally_result_free(r);
    wide_free(&w);
}

static void test_export__write_errors(void **state)
{
    (void)state;
    wide w;
    wide_load(&w);
    tally_result *r = wide_roll(&w, TALLY_COMPARE_NONE);
    assert_int_equal(tally_result_write(r, "/nonexistent/dir/out.csv", NULL), TALLY_EIO);
    assert_string_equal(tally_error_last()->message,
                        "/nonexistent/dir/out.csv: cannot write the result: No such file or "
                        "directory");
    /* A full device: the first write fails, on any thread count. */
    for (size_t t = 1; t <= 3; t++) {
        assert_int_equal(tally_export__write(r, "/dev/full", NULL, t, 2), TALLY_EIO);
        assert_string_equal(tally_error_last()->message,
                            "/dev/full: cannot write the result: No space left on device");
    }
    assert_int_equal(tally_result_write(NULL, "/dev/null", NULL), TALLY_EINVAL);
    tally_result_free(r);
    wide_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export__format_number_half_away_from_zero),
        cmocka_unit_test(test_export__format_number_no_negative_zero),
        cmocka_unit_test(test_export__format_number_plain_values),
        cmocka_unit_test(test_export__format_number_large),
        cmocka_unit_test(test_export__format_number_whole_numbers_unchanged),
        cmocka_unit_test(test_export__format_number_decimals_range),
        cmocka_unit_test(test_export__format_number_errors),
        cmocka_unit_test(test_export__format_number_buffer_size),
        cmocka_unit_test(test_export__format_number_oracle_self_check),
        cmocka_unit_test(test_export__format_number_random_k_over_10d),
        cmocka_unit_test(test_export__format_number_random_ties),
        cmocka_unit_test(test_export__format_number_random_padded),
        cmocka_unit_test(test_export__format_number_random_shortest_forms),
        cmocka_unit_test(test_export__format_number_near_half_not_half),
        cmocka_unit_test(test_export__fast_numbers_equal_the_exact_path),
        cmocka_unit_test(test_export__write_equals_plain_writer),
        cmocka_unit_test(test_export__write_rows_with_data),
        cmocka_unit_test(test_export__write_prints_huge_and_tiny_numbers_whole),
        cmocka_unit_test(test_export__write_replaces_an_existing_file),
        cmocka_unit_test(test_export__write_scope_names_bom),
        cmocka_unit_test(test_export__write_to_standard_output_after_stdio),
        cmocka_unit_test(test_export__write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
