/* Tests for tally_format_number (include/tally/export.h): rounding half away
 * from zero on the value's shortest decimal form, no "-0", large values,
 * the decimals range and the errors.
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

#include "tally/error.h"
#include "tally/export.h"

static void expect_format(double value, int decimals, const char *expected)
{
    char buf[64];
    memset(buf, 'X', sizeof buf);
    int n = tally_format_number(buf, sizeof buf, value, decimals);
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
    assert_int_equal(tally_format_number(buf, sizeof buf, NAN, 2), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, -NAN, 0), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, INFINITY, 2), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, -INFINITY, 2), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, 1.0, -1), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, 1.0, 16), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, sizeof buf, 1.0, 100), TALLY_EINVAL);
    assert_int_equal(tally_format_number(NULL, 10, 1.0, 2), TALLY_EINVAL);
}

static void test_export__format_number_buffer_size(void **state)
{
    (void)state;
    char buf[64];
    /* "2.68" takes 4 bytes and the NUL: 5 fit, 4 do not. */
    assert_int_equal(tally_format_number(buf, 5, 2.675, 2), 4);
    assert_string_equal(buf, "2.68");
    assert_int_equal(tally_format_number(buf, 4, 2.675, 2), TALLY_EINVAL);
    /* "-0.13": 6 bytes with the NUL. */
    assert_int_equal(tally_format_number(buf, 6, -0.125, 2), 5);
    assert_string_equal(buf, "-0.13");
    assert_int_equal(tally_format_number(buf, 5, -0.125, 2), TALLY_EINVAL);
    /* "0.00" for -0.004: no sign, so 5 bytes are enough. */
    assert_int_equal(tally_format_number(buf, 5, -0.004, 2), 4);
    assert_string_equal(buf, "0.00");
    /* "100000000000000000.00" is 21 characters. */
    assert_int_equal(tally_format_number(buf, 22, 1e17, 2), 21);
    assert_string_equal(buf, "100000000000000000.00");
    assert_int_equal(tally_format_number(buf, 21, 1e17, 2), TALLY_EINVAL);
    /* Nothing fits in nothing. */
    assert_int_equal(tally_format_number(buf, 0, 1.0, 0), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, 1, 1.0, 0), TALLY_EINVAL);
    assert_int_equal(tally_format_number(buf, 2, 1.0, 0), 1);
    assert_string_equal(buf, "1");
    /* Bytes past size are never written. */
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(tally_format_number(buf, 3, 123.0, 0), TALLY_EINVAL);
    for (size_t i = 3; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'Z');
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(tally_format_number(buf, 10, 1e17, 2), TALLY_EINVAL);
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
    int n = tally_format_number(buf, sizeof buf, v, decimals);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
