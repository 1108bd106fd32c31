/* Schedules: the expected cumulative share of the annual target per month,
 * read from a CSV `month,share` or given as an array, and checked whole
 * (12 months, shares 0 to 100, never decreasing, December 100) by the same
 * rules either way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "number.h"
#include "util.h"

/* The rules a whole schedule keeps, in the order they are checked: every
 * share 0 to 100 (the reader checks it row by row), never below the month
 * before, December 100. */
enum { RULE_NONE, RULE_RANGE, RULE_DECREASES, RULE_DECEMBER };

#define RANGE_MESSAGE "share %s for month %d is outside 0 to 100; expected a percentage"
#define DECREASES_MESSAGE                                                                      \
    "share %s for month %d is below month %d's %s; shares are cumulative and never decrease"
#define DECEMBER_MESSAGE                                                                       \
    "share %s for month 12; expected 100 (the whole target by the end of the year)"

/* The first rule shares[0..11] break, with its month (1..12) in *month. */
static int broken_rule(const double shares[12], int *month)
{
    for (int m = 1; m <= 12; m++) {
        *month = m;
        if (!(shares[m - 1] >= 0 && shares[m - 1] <= 100)) /* NaN too */
            return RULE_RANGE;
    }
    for (int m = 2; m <= 12; m++) {
        *month = m;
        if (shares[m - 1] < shares[m - 2])
            return RULE_DECREASES;
    }
    *month = 12;
    return shares[11] != 100 ? RULE_DECEMBER : RULE_NONE;
}

typedef struct share_at {
    int seen;
    double share;
    unsigned long line, column;
    char text[32];
    size_t text_len;
} share_at;

/* Error at a remembered field (the row it was in is gone). */
static int error_at_share(int code, const char *name, const share_at *s, const char *fmt, ...)
    TALLY_PRINTF(4, 5);

static int error_at_share(int code, const char *name, const share_at *s, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    return tally_error__set_at(code, name, s->line, s->column, s->text, s->text_len, "%s", reason);
}

static int parse_month(const char *s, size_t len, int *month)
{
    if (len < 1 || len > 2)
        return TALLY_EPARSE;
    int m = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TALLY_EPARSE;
        m = m * 10 + (s[i] - '0');
    }
    if (m < 1 || m > 12)
        return TALLY_EPARSE;
    *month = m;
    return 0;
}

static int read_schedule(tally_csv *c, share_at at[12], unsigned long *end_line)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row month,share");
    size_t nf = c->nfields;
    long mcol = tally_csv__find_column(c, "month"), scol = tally_csv__find_column(c, "share");
    if (mcol < 0 || scol < 0)
        return tally_csv__error_at_field(c, 0, TALLY_EPARSE,
                                         "header has no '%s' column; expected month,share",
                                         mcol < 0 ? "month" : "share");
    while ((rc = tally_csv__next(c)) > 0) {
        if (c->nfields != nf)
            return tally_csv__error_at_field(c, c->nfields < nf ? c->nfields : nf, TALLY_EPARSE,
                                             "row has %zu fields; expected %zu as in the header",
                                             c->nfields, nf);
        const tally_csv_field *mf = &c->fields[mcol], *sf = &c->fields[scol];
        int month;
        if (parse_month(mf->ptr, mf->len, &month))
            return tally_csv__error_at_field(c, (size_t)mcol, TALLY_EPARSE,
                                             "bad month '%.*s'; expected 1 to 12",
                                             (int)mf->len, mf->ptr);
        if (at[month - 1].seen)
            return tally_csv__error_at_field(c, (size_t)mcol, TALLY_EEXIST,
                                             "month %d given twice; expected each month once",
                                             month);
        double v;
        int r = sf->len ? tally_util__parse_number(sf->ptr, sf->len, &v) : TALLY_EPARSE;
        if (r)
            return tally_csv__error_at_field(
                c, (size_t)scol, r == TALLY_ERANGE ? TALLY_ERANGE : TALLY_EPARSE,
                "bad share '%.*s'; expected the cumulative share of the annual target in percent, "
                "0 to 100",
                (int)sf->len, sf->ptr);
        if (v < 0 || v > 100)
            return tally_csv__error_at_field(c, (size_t)scol, TALLY_ERANGE,
                                             "share %.*s is outside 0 to 100; expected a percentage",
                                             (int)sf->len, sf->ptr);
        share_at *s = &at[month - 1];
        s->seen = 1;
        s->share = v;
        tally_csv__locate(c, sf->offset, &s->line, &s->column);
        s->text_len = sf->len < sizeof s->text ? sf->len : sizeof s->text - 1;
        memcpy(s->text, sf->ptr, s->text_len);
        s->text[s->text_len] = '\0';
        *end_line = c->next_line;
    }
    return rc;
}

TALLY_EXTERN(int) tally_schedule_from_buffer(double shares[12], const char *data, size_t size,
                                             const char *name)
{
    if (!shares || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_schedule_from_buffer: NULL argument");
    tally_csv c;
    tally_csv__init(&c, data ? data : "", size, name);
    share_at at[12];
    memset(at, 0, sizeof at);
    unsigned long end_line = 2;
    int rc = read_schedule(&c, at, &end_line);
    const char *path = c.name;
    tally_csv__fini(&c);
    if (rc)
        return rc;
    for (int m = 1; m <= 12; m++)
        if (!at[m - 1].seen)
            return tally_error__set_at(TALLY_EINVAL, path, end_line, 1, NULL, 0,
                                       "no row for month %d; expected 12 rows, months 1 to 12 "
                                       "once each",
                                       m);
    double read[12];
    for (int m = 0; m < 12; m++)
        read[m] = at[m].share;
    int m, rule = broken_rule(read, &m);
    if (rule == RULE_DECREASES)
        return error_at_share(TALLY_EINVAL, path, &at[m - 1], DECREASES_MESSAGE,
                              at[m - 1].text, m, m - 1, at[m - 2].text);
    if (rule == RULE_DECEMBER)
        return error_at_share(TALLY_EINVAL, path, &at[11], DECEMBER_MESSAGE, at[11].text);
    memcpy(shares, read, sizeof read);
    return 0;
}

TALLY_EXTERN(int) tally_schedule_from_file(double shares[12], const char *path)
{
    if (!shares || !path)
        return tally_error__set(TALLY_EINVAL, "tally_schedule_from_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = tally_schedule_from_buffer(shares, m.data, m.size, path);
    tally_util__unmap(&m);
    return rc;
}

TALLY_EXTERN(int) tally_schedule_check(const double *shares, size_t count)
{
    if (!shares && count)
        return tally_error__set(TALLY_EINVAL, "tally_schedule_check: shares is NULL");
    if (count != 12)
        return tally_error__set(TALLY_EINVAL,
                                "%zu shares given; expected 12, the cumulative shares of months "
                                "1 to 12",
                                count);
    int m, rule = broken_rule(shares, &m);
    char a[32], b[32];
    tally_number__shortest(a, sizeof a, shares[m - 1]);
    switch (rule) {
    case RULE_RANGE:
        return tally_error__set(TALLY_ERANGE, RANGE_MESSAGE, a, m);
    case RULE_DECREASES:
        tally_number__shortest(b, sizeof b, shares[m - 2]);
        return tally_error__set(TALLY_EINVAL, DECREASES_MESSAGE, a, m, m - 1, b);
    case RULE_DECEMBER:
        return tally_error__set(TALLY_EINVAL, DECEMBER_MESSAGE, a);
    default:
        return 0;
    }
}
