/* Internal: the number formatter's fast path, for the writers that format
 * numbers by the million (tally_result_write's rows): inline, so that a
 * row's numbers are formatted without a call. */
#ifndef TALLY_LIB_NUMBER_H
#define TALLY_LIB_NUMBER_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tally/number.h"

/* 10^k, exactly: as whole numbers for k in 0..19, as doubles for 0..15. */
static const uint64_t tally_number__pow10_u64[] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL
};
static const double tally_number__pow10[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/* N = a * 10^decimals (a = |v|) rounded as tally_number_format rounds,
 * into *u: 1, or 0 when only the exact path on the shortest decimal can
 * tell (and for NaN and infinities).
 * - A whole number below 2^53 is its own shortest decimal, so N is it
 *   times 10^decimals (kept below 10^16); sums of counts, mostly.
 * - Otherwise N is the scaled binary value rounded half up. That agrees
 *   with rounding the shortest decimal except near a tie (2.675 is stored
 *   as 2.67499999999999982236431605997495353221893310546875, and a person
 *   who wrote 2.675 expects 2.68) and where the scaled value has no
 *   fraction bits left (from 2^52). Scaling is one multiplication, so the
 *   scaled value is within an ulp of the exact product: far inside the
 *   8 ulp kept away from a tie. */
static inline int tally_number__fast_units(double a, int decimals, uint64_t *u)
{
    if (a < 9007199254740992.0 /* 2^53 */) {
        int64_t w = (int64_t)a;
        if ((double)w == a && (uint64_t)w < tally_number__pow10_u64[16 - decimals]) {
            *u = (uint64_t)w * tally_number__pow10_u64[decimals];
            return 1;
        }
    }
    double scaled = a * tally_number__pow10[decimals];
    if (!(scaled < 4503599627370496.0 /* 2^52 */))
        return 0;
    /* floor(scaled), as 0 <= scaled < 2^52: truncation to an integer and
     * back, without a call. */
    int64_t ip = (int64_t)scaled;
    double frac = scaled - (double)ip;
    if (!(fabs(frac - 0.5) > 8 * DBL_EPSILON * (scaled > 1 ? scaled : 1)))
        return 0;
    *u = (uint64_t)ip + (frac > 0.5);
    return 1;
}

/* "00" to "99", two characters each. */
static const char tally_number__two_digits[201] = "00010203040506070809"
                                                  "10111213141516171819"
                                                  "20212223242526272829"
                                                  "30313233343536373839"
                                                  "40414243444546474849"
                                                  "50515253545556575859"
                                                  "60616263646566676869"
                                                  "70717273747576777879"
                                                  "80818283848586878889"
                                                  "90919293949596979899";

/* Decimal digits of u (1 for 0). */
static inline int tally_number__digit_count(uint64_t u)
{
#if defined(__GNUC__)
    /* t = floor(log10(2^bits)) is the count or one more (Bit Twiddling
     * Hacks); u | 1 has the digits of u and is never 0. */
    uint64_t v = u | 1;
    int t = ((64 - __builtin_clzll(v)) * 1233) >> 12;
    return t + 1 - (v < tally_number__pow10_u64[t]);
#else
    int n = 1;
    while (n < 20 && u >= tally_number__pow10_u64[n])
        n++;
    return n;
#endif
}

/* Writes u (< 10^16) with `decimals` digits after the point and at least
 * one before it, '-' first when neg: at most 18 bytes, no NUL (o must have
 * 19). Returns the end.
 * The length is known first and the digits go straight to their place,
 * from the right, two at a time: building them elsewhere and copying cost
 * a stalled load per number. */
static inline char *tally_number__put_units(char *o, uint64_t u, int decimals, int neg)
{
    int nd = tally_number__digit_count(u);
    if (nd < decimals + 1)
        nd = decimals + 1;
    *o = '-';
    o += neg;
    char *end = o + nd + (decimals ? 1 : 0), *q = end;
    if (decimals) {
        int d = decimals;
        for (; d >= 2; d -= 2) {
            q -= 2;
            memcpy(q, tally_number__two_digits + (u % 100) * 2, 2);
            u /= 100;
        }
        if (d) {
            *--q = (char)('0' + u % 10);
            u /= 10;
        }
        *--q = '.';
    }
    while (u > UINT32_MAX) {
        q -= 2;
        memcpy(q, tally_number__two_digits + (u % 100) * 2, 2);
        u /= 100;
    }
    /* The rest in 32 bits, where dividing by 100 is cheaper. */
    uint32_t x = (uint32_t)u;
    while (x >= 100) {
        q -= 2;
        memcpy(q, tally_number__two_digits + (x % 100) * 2, 2);
        x /= 100;
    }
    if (x >= 10) {
        q -= 2;
        memcpy(q, tally_number__two_digits + x * 2, 2);
    } else {
        *--q = (char)('0' + x);
    }
    return end;
}

/* tally_number_format by the exact path on the shortest decimal for every
 * value (no fast path). */
int tally_number__plain(char *buf, size_t size, double v, int decimals);

/* The shortest text that reads back as v ("12.5", "100", "0.1",
 * "1e+20"; "nan", "inf"), as a person would have written the number: for messages
 * about numbers the caller gave as doubles. Writes at most size bytes (32
 * always do). */
void tally_number__shortest(char *buf, size_t size, double v);

#endif
