/* Periods: months, quarters and years as integer keys, and the public
 * tally_period made over them (so that both read the same texts).
 *
 * SPDX-License-Identifier: MIT
 */
#include "period.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
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

/* ---- the public value type ---- */

static int32_t key_of(int year, int sub) { return year * TALLY_PERIOD_BASE + sub; }

/* The key of a public period, or TALLY_EINVAL (recorded) when it is none. */
static int to_key(const tally_period *p, int32_t *key)
{
    if (!p)
        return tally_error__set(TALLY_EINVAL, "the period is NULL");
    int ok = p->year >= 1000 && p->year <= 9999;
    if (p->kind == TALLY_PERIOD_MONTH)
        ok = ok && p->index >= 1 && p->index <= 12;
    else if (p->kind == TALLY_PERIOD_QUARTER)
        ok = ok && p->index >= 1 && p->index <= 4;
    else
        ok = ok && p->kind == TALLY_PERIOD_YEAR && p->index == 0;
    if (!ok)
        return tally_error__set(TALLY_EINVAL,
                                "year %d, kind %d, index %d is not a period; expected a year "
                                "1000 to 9999 and a month (kind %d, index 1 to 12), a quarter "
                                "(kind %d, index 1 to 4) or the year (kind %d, index 0)",
                                p->year, p->kind, p->index, TALLY_PERIOD_MONTH,
                                TALLY_PERIOD_QUARTER, TALLY_PERIOD_YEAR);
    int sub = p->kind == TALLY_PERIOD_MONTH ? p->index
              : p->kind == TALLY_PERIOD_QUARTER ? 12 + p->index
                                                : 0;
    *key = key_of(p->year, sub);
    return 0;
}

TALLY_EXTERN(int) tally_period_parse(tally_period *out, const char *text, size_t len)
{
    if (!out || (!text && len))
        return tally_error__set(TALLY_EINVAL, "tally_period_parse: NULL argument");
    int32_t key;
    if (tally_period__parse(text ? text : "", len, &key))
        return tally_error__set_at(TALLY_EPARSE, NULL, 0, 0, text, len,
                                   "bad period '%.*s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                   (int)len, text ? text : "");
    int sub = key % TALLY_PERIOD_BASE;
    out->year = tally_period__year(key);
    out->kind = tally_period__kind(key);
    out->index = sub <= 12 ? sub : sub - 12;
    return 0;
}

TALLY_EXTERN(int) tally_period_format(char *buf, size_t size, const tally_period *p)
{
    if (buf && size)
        buf[0] = '\0';
    int32_t key;
    int rc = to_key(p, &key);
    if (rc)
        return rc;
    char text[TALLY_PERIOD_TEXT_MAX];
    size_t n = tally_period__format(key, text);
    if (!buf || n >= size)
        return tally_error__set(TALLY_EINVAL,
                                "a buffer of %zu bytes is too small for the period %s; expected "
                                "%zu bytes at least",
                                buf ? size : 0, text, n + 1);
    memcpy(buf, text, n + 1);
    return (int)n;
}

TALLY_EXTERN(int) tally_period_months(const tally_period *p, int *first, int *last)
{
    int32_t key;
    int rc = to_key(p, &key);
    if (rc)
        return rc;
    int base = p->year * 12;
    if (first)
        *first = tally_period__first_month(key) - base + 1;
    if (last)
        *last = tally_period__last_month(key) - base + 1;
    return 0;
}

/* Within a year: months 1..12, quarters 13..16, the year 17; what is no
 * period after them, in a fixed order. */
static long rank_in_year(const tally_period *p)
{
    if (p->kind == TALLY_PERIOD_MONTH && p->index >= 1 && p->index <= 12)
        return p->index;
    if (p->kind == TALLY_PERIOD_QUARTER && p->index >= 1 && p->index <= 4)
        return 12 + p->index;
    if (p->kind == TALLY_PERIOD_YEAR && p->index == 0)
        return 17;
    return 18;
}

TALLY_EXTERN(int) tally_period_compare(const tally_period *a, const tally_period *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    long ra = rank_in_year(a), rb = rank_in_year(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}
