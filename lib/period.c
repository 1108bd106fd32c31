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

enum { RANGE_MONTHS = 0, RANGE_QUARTERS = 1, RANGE_HALF = 2 };
static int32_t range_key(int32_t first, int32_t length, int form);

/* Matches the UTF-8 text `w` at *p (advancing it). */
static int take(const char **p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* A number 1..99 in ASCII digits, or one of 一二三四 (quarters). */
static int small_number(const char **p, const char *end, int *n)
{
    static const char *const cn[4] = { "一", "二", "三", "四" };
    for (int i = 0; i < 4; i++)
        if (take(p, end, cn[i])) {
            *n = i + 1;
            return 1;
        }
    int v = 0, k = 0;
    while (*p < end && **p >= '0' && **p <= '9' && k < 2) {
        v = v * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    *n = v;
    return k > 0;
}

/* The forms Excel sheets in Chinese write: 2019年, 2019年8月, 2019年08月,
 * 2019年第一季度, 2019年1季度; with `ask`, also 2019年上半年/下半年 and
 * 2019年1-8月. s starts with the year and 年. */
static int parse_chinese(const char *s, size_t len, int year, int ask, int32_t *key)
{
    const char *p = s + 7, *end = s + len;
    int a, b;
    if (p == end) {
        *key = year * TALLY_PERIOD_BASE;
        return 0;
    }
    int upper = take(&p, end, "上半年");
    if (ask && (upper || take(&p, end, "下半年")) && p == end) {
        *key = range_key(year * 12 + (upper ? 0 : 6), 6, RANGE_HALF);
        return 0;
    }
    p = s + 7;
    int nth = take(&p, end, "第");
    if (!small_number(&p, end, &a))
        return TALLY_EPARSE;
    if ((take(&p, end, "季度") || take(&p, end, "季")) && p == end) {
        if (a < 1 || a > 4)
            return TALLY_EPARSE;
        *key = year * TALLY_PERIOD_BASE + 12 + a;
        return 0;
    }
    if (nth)
        return TALLY_EPARSE;
    if (take(&p, end, "月") && p == end && a >= 1 && a <= 12) {
        *key = year * TALLY_PERIOD_BASE + a;
        return 0;
    }
    if (ask && (take(&p, end, "-") || take(&p, end, "至")) && small_number(&p, end, &b) &&
        take(&p, end, "月") && p == end && a >= 1 && b <= 12 && a <= b) {
        *key = range_key(year * 12 + a - 1, b - a + 1, RANGE_MONTHS);
        return 0;
    }
    return TALLY_EPARSE;
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
        return len >= 7 && memcmp(s + 4, "年", 3) == 0 ? parse_chinese(s, len, year, 0, key)
                                                        : TALLY_EPARSE;
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

/* ---- spans asked for: ranges and halves ----
 *
 * key = TALLY_PERIOD_RANGE_BASE + (first * 12 + (length - 1)) * 4 + form,
 * first the absolute month, length 1..12 months, form how it is written
 * (RANGE_MONTHS "2019-01..2019-08", RANGE_QUARTERS "2019-Q1..2019-Q2",
 * RANGE_HALF "2019-H1"). Above every month, quarter and year key. */

int tally_period__is_range(int32_t key) { return key >= TALLY_PERIOD_RANGE_BASE; }

static int32_t range_first(int32_t key) { return (key - TALLY_PERIOD_RANGE_BASE) / 4 / 12; }
static int32_t range_length(int32_t key) { return (key - TALLY_PERIOD_RANGE_BASE) / 4 % 12 + 1; }
static int range_form(int32_t key) { return (key - TALLY_PERIOD_RANGE_BASE) % 4; }

static int32_t range_key(int32_t first, int32_t length, int form)
{
    return TALLY_PERIOD_RANGE_BASE + (first * 12 + (length - 1)) * 4 + form;
}

int32_t tally_period__span(int32_t first, int32_t last)
{
    int32_t len = last - first + 1;
    if (len == 1)
        return (first / 12) * TALLY_PERIOD_BASE + first % 12 + 1;
    if (len == 3 && first % 3 == 0)
        return (first / 12) * TALLY_PERIOD_BASE + 13 + first % 12 / 3;
    if (len == 12 && first % 12 == 0)
        return (first / 12) * TALLY_PERIOD_BASE;
    return range_key(first, len, RANGE_MONTHS);
}

int tally_period__parse_ask(const char *s, size_t len, int32_t *key)
{
    if (tally_period__parse(s, len, key) == 0)
        return 0;
    int year;
    if (len >= 7 && digits(s, 4, &year) && year >= 1000 && memcmp(s + 4, "年", 3) == 0)
        return parse_chinese(s, len, year, 1, key);
    if (len == 7 && digits(s, 4, &year) && year >= 1000 && s[4] == '-' &&
        (s[5] == 'H' || s[5] == 'h') && (s[6] == '1' || s[6] == '2')) {
        *key = range_key(year * 12 + (s[6] - '1') * 6, 6, RANGE_HALF);
        return 0;
    }
    const char *dots = len >= 2 ? memchr(s, '.', len - 1) : NULL;
    if (!dots || dots[1] != '.')
        return TALLY_EPARSE;
    size_t la = (size_t)(dots - s), lb = len - la - 2;
    int32_t a, b;
    if (la != 7 || lb != 7 || tally_period__parse(s, la, &a) || tally_period__parse(dots + 2, lb, &b))
        return TALLY_EPARSE;
    int kind = tally_period__kind(a);
    if (kind != tally_period__kind(b) || tally_period__year(a) != tally_period__year(b))
        return TALLY_EPARSE;
    int32_t first = tally_period__first_month(a), last = tally_period__last_month(b);
    if (last < first)
        return TALLY_EPARSE;
    *key = range_key(first, last - first + 1,
                     kind == TALLY_PERIOD_QUARTER ? RANGE_QUARTERS : RANGE_MONTHS);
    return 0;
}

int tally_period__kind(int32_t key)
{
    if (tally_period__is_range(key)) {
        int form = range_form(key);
        return form == RANGE_HALF       ? TALLY_PERIOD_HALF
               : form == RANGE_QUARTERS ? TALLY_PERIOD_QUARTERS
                                        : TALLY_PERIOD_MONTHS;
    }
    int sub = key % TALLY_PERIOD_BASE;
    return sub == 0 ? TALLY_PERIOD_YEAR : sub <= 12 ? TALLY_PERIOD_MONTH : TALLY_PERIOD_QUARTER;
}

int tally_period__year(int32_t key)
{
    return tally_period__is_range(key) ? range_first(key) / 12 : key / TALLY_PERIOD_BASE;
}

int32_t tally_period__first_month(int32_t key)
{
    if (tally_period__is_range(key))
        return range_first(key);
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    if (sub == 0)
        return y * 12;
    if (sub <= 12)
        return y * 12 + sub - 1;
    return y * 12 + (sub - 13) * 3;
}

int32_t tally_period__last_month(int32_t key)
{
    if (tally_period__is_range(key))
        return range_first(key) + range_length(key) - 1;
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
    if (tally_period__is_range(key)) {
        int32_t f = range_first(key), l = f + range_length(key) - 1;
        int form = range_form(key);
        if (form == RANGE_HALF)
            n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-H%d", (int)(f / 12), f % 12 < 6 ? 1 : 2);
        else if (form == RANGE_QUARTERS)
            n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-Q%d..%04d-Q%d", (int)(f / 12),
                         (int)(f % 12 / 3 + 1), (int)(l / 12), (int)(l % 12 / 3 + 1));
        else
            n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-%02d..%04d-%02d", (int)(f / 12),
                         (int)(f % 12 + 1), (int)(l / 12), (int)(l % 12 + 1));
    } else if (sub == 0)
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d", y);
    else if (sub <= 12)
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-%02d", y, sub);
    else
        n = snprintf(buf, TALLY_PERIOD_TEXT_MAX, "%04d-Q%d", y, sub - 12);
    return n < 0 ? 0 : (size_t)n;
}

int32_t tally_period__year_before(int32_t key)
{
    if (tally_period__is_range(key))
        return range_key(range_first(key) - 12, range_length(key), range_form(key));
    return key - TALLY_PERIOD_BASE;
}

int32_t tally_period__previous(int32_t key)
{
    if (tally_period__is_range(key))
        return range_key(range_first(key) - range_length(key), range_length(key),
                         range_form(key));
    int y = key / TALLY_PERIOD_BASE, sub = key % TALLY_PERIOD_BASE;
    if (sub == 0)
        return (y - 1) * TALLY_PERIOD_BASE;
    if (sub == 1)
        return (y - 1) * TALLY_PERIOD_BASE + 12;
    if (sub == 13)
        return (y - 1) * TALLY_PERIOD_BASE + 16;
    return key - 1;
}

/* Ranges and halves sort after a year's quarters, before the year, by
 * their first month, length and form. */
static int64_t order_key(int32_t k)
{
    if (tally_period__is_range(k)) {
        int32_t f = range_first(k);
        return ((int64_t)(f / 12) * 1000000) + 17 * 1000 + (f % 12) * 64 + range_length(k) * 4 +
               range_form(k);
    }
    int s = k % TALLY_PERIOD_BASE;
    return (int64_t)(k / TALLY_PERIOD_BASE) * 1000000 + (s == 0 ? 999999 : s * 1000);
}

int tally_period__compare(int32_t a, int32_t b)
{
    if (tally_period__is_range(a) || tally_period__is_range(b)) {
        int64_t x = order_key(a), y = order_key(b);
        return x < y ? -1 : x > y;
    }
    int ya = a / TALLY_PERIOD_BASE, yb = b / TALLY_PERIOD_BASE;
    if (ya != yb)
        return ya < yb ? -1 : 1;
    /* Within a year: months (1..12), quarters (13..16), then the year (0). */
    int sa = a % TALLY_PERIOD_BASE == 0 ? 17 : a % TALLY_PERIOD_BASE, sb = b % TALLY_PERIOD_BASE == 0 ? 17 : b % TALLY_PERIOD_BASE;
    return sa < sb ? -1 : sa > sb;
}

/* ---- the public value type ---- */

static int32_t key_of(int year, int sub) { return year * TALLY_PERIOD_BASE + sub; }

/* The key of a public period: 1, or 0 when it is none. */
static int key_from(const tally_period *p, int32_t *key)
{
    int ok = p->year >= 1000 && p->year <= 9999;
    int32_t y12 = p->year * 12;
    switch (p->kind) {
    case TALLY_PERIOD_MONTH:
        ok = ok && p->index >= 1 && p->index <= 12;
        *key = key_of(p->year, p->index);
        break;
    case TALLY_PERIOD_QUARTER:
        ok = ok && p->index >= 1 && p->index <= 4;
        *key = key_of(p->year, 12 + p->index);
        break;
    case TALLY_PERIOD_YEAR:
        ok = ok && p->index == 0;
        *key = key_of(p->year, 0);
        break;
    case TALLY_PERIOD_HALF:
        ok = ok && p->index >= 1 && p->index <= 2;
        *key = range_key(y12 + (p->index - 1) * 6, 6, RANGE_HALF);
        break;
    case TALLY_PERIOD_MONTHS:
        ok = ok && p->index >= 1 && p->index <= p->end && p->end <= 12;
        *key = range_key(y12 + p->index - 1, p->end - p->index + 1, RANGE_MONTHS);
        break;
    case TALLY_PERIOD_QUARTERS:
        ok = ok && p->index >= 1 && p->index <= p->end && p->end <= 4;
        *key = range_key(y12 + (p->index - 1) * 3, (p->end - p->index + 1) * 3, RANGE_QUARTERS);
        break;
    default: ok = 0;
    }
    return ok;
}

/* The key of a public period, or TALLY_EINVAL (recorded) when it is none. */
static int to_key(const tally_period *p, int32_t *key)
{
    if (!p)
        return tally_error__set(TALLY_EINVAL, "the period is NULL");
    if (!key_from(p, key))
        return tally_error__set(TALLY_EINVAL,
                                "year %d, kind %d, index %d, end %d is not a period; expected a "
                                "year 1000 to 9999 and a month (kind %d, index 1 to 12), a "
                                "quarter (kind %d, index 1 to 4), the year (kind %d, index 0), a "
                                "half (kind %d, index 1 or 2), or a range of months (kind %d, "
                                "index to end within 1 to 12) or of quarters (kind %d, within 1 "
                                "to 4)",
                                p->year, p->kind, p->index, p->end, TALLY_PERIOD_MONTH,
                                TALLY_PERIOD_QUARTER, TALLY_PERIOD_YEAR, TALLY_PERIOD_HALF,
                                TALLY_PERIOD_MONTHS, TALLY_PERIOD_QUARTERS);
    return 0;
}

TALLY_EXTERN(int) tally_period_parse(tally_period *out, const char *text, size_t len)
{
    if (!out || (!text && len))
        return tally_error__set(TALLY_EINVAL, "tally_period_parse: NULL argument");
    int32_t key;
    if (tally_period__parse_ask(text ? text : "", len, &key))
        return tally_error__set_at(TALLY_EPARSE, NULL, 0, 0, text, len,
                                   "bad period '%.*s'; expected " TALLY_PERIOD__FORMS, (int)len,
                                   text ? text : "");
    out->year = tally_period__year(key);
    out->kind = tally_period__kind(key);
    out->end = 0;
    int32_t f = tally_period__first_month(key) % 12, l = tally_period__last_month(key) % 12;
    switch (out->kind) {
    case TALLY_PERIOD_MONTH: out->index = f + 1; break;
    case TALLY_PERIOD_QUARTER: out->index = f / 3 + 1; break;
    case TALLY_PERIOD_HALF: out->index = f / 6 + 1; break;
    case TALLY_PERIOD_MONTHS:
        out->index = f + 1;
        out->end = l + 1;
        break;
    case TALLY_PERIOD_QUARTERS:
        out->index = f / 3 + 1;
        out->end = l / 3 + 1;
        break;
    default: out->index = 0; break;
    }
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

TALLY_EXTERN(int) tally_period_compare(const tally_period *a, const tally_period *b)
{
    int32_t ka, kb;
    int va = key_from(a, &ka), vb = key_from(b, &kb);
    if (va && vb)
        return tally_period__compare(ka, kb);
    /* What is no period after every period, in a fixed order. */
    if (va != vb)
        return va ? -1 : 1;
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}
