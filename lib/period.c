/* Periods: months, quarters and years as integer keys.
 *
 * SPDX-License-Identifier: MIT
 */
#include "period.h"

#include <stdio.h>

#include "tally/error.h"

/* Keys are year * TALLY_PERIOD_BASE + sub (sub 0..16): the base must exceed 16
 * so that the fourth quarter does not meet the next year. */
enum { TALLY_PERIOD_BASE = 32 };

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        v = v * 10 + (int)d;
    }
    *out = v;
    return 1;
}

int tally_period__parse(const char *s, size_t len, int32_t *key)
{
    int year, sub;
    if (len < 4 || !digits(s, 4, &year) || year < 1000)
        return TALLY_EPARSE;
    if (len == 4) {
        *key = year * TALLY_PERIOD_BASE;
        return 0;
    }
    if (s[4] != '-')
        return TALLY_EPARSE;
    if (len == 7 && (s[5] == 'Q' || s[5] == 'q') && s[6] >= '1' && s[6] <= '4') {
        *key = year * TALLY_PERIOD_BASE + 12 + (s[6] - '0');
        return 0;
    }
    if (len == 7 && digits(s + 5, 2, &sub) && sub >= 1 && sub <= 12) {
        *key = year * TALLY_PERIOD_BASE + sub;
        return 0;
    }
    return TALLY_EPARSE;
}

int tally_period__kind(int32_t key)
{
    int sub = key % TALLY_PERIOD_BASE;
    return sub == 0 ? TALLY_PERIOD_YEAR : sub <= 12 ? TALLY_PERIOD_MONTH : TALLY_PERIOD_QUARTER;
}

int tally_period__year(int32_t key) { return key / TALLY_PERIOD_BASE; }

int32_t tally_period__first_month(int32_t key)
{
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    if (sub == 0)
        return y * 12;
    if (sub <= 12)
        return y * 12 + sub - 1;
    return y * 12 + (sub - 13) * 3;
}

int32_t tally_period__last_month(int32_t key)
{
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    if (sub == 0)
        return y * 12 + 11;
    if (sub <= 12)
        return y * 12 + sub - 1;
    return y * 12 + (sub - 13) * 3 + 2;
}

size_t tally_period__format(int32_t key, char *buf)
{
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    int n;
    if (sub == 0)
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d", y);
    else if (sub <= 12)
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-%02d", y, sub);
    else
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-Q%d", y, sub - 12);
    return n < 0 ? 0 : (size_t)n;
}

int32_t tally_period__year_before(int32_t key) { return key - TALLY_PERIOD_BASE; }

int32_t tally_period__previous(int32_t key)
{
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    if (sub == 0)
        return (y - 1) * TALLY_PERIOD_BASE;
    if (sub == 1)
        return (y - 1) * TALLY_PERIOD_BASE + 12;
    if (sub == 13)
        return (y - 1) * TALLY_PERIOD_BASE + 16;
    return key - 1;
}

int tally_period__compare(int32_t a, int32_t b)
{
    int ya = a / TALLY_PERIOD_BASE, yb = b / TALLY_PERIOD_BASE;
    if (ya != yb)
        return ya < yb ? -1 : 1;
    /* Within a year: months (1..12), quarters (13..16), then the year (0). */
    int sa = a % TALLY_PERIOD_BASE == 0 ? 17 : a % TALLY_PERIOD_BASE, sb = b % TALLY_PERIOD_BASE == 0 ? 17 : b % TALLY_PERIOD_BASE;
    return sa < sb ? -1 : sa > sb;
}
