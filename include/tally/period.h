/* tally: periods as the readers take them and the results write them.
 *
 * A period is a month ("2019-08"), a quarter ("2019-Q3"; "2019-q3" reads
 * the same) or a year ("2019"), of a year 1000 to 9999: records are dated
 * so. Asking for results (the `periods` option, --period, tally check) also
 * takes spans that are never recorded: a half ("2019-H1", "2019-H2") and a
 * range of months or of quarters of one year ("2019-01..2019-08",
 * "2019-Q1..2019-Q2"). tally_period_parse accepts every form; the readers
 * of records refuse the spans with a message saying so.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_PERIOD_H
#define TALLY_PERIOD_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

typedef enum tally_period_kind {
    TALLY_PERIOD_YEAR = 0,
    TALLY_PERIOD_QUARTER = 1,
    TALLY_PERIOD_MONTH = 2,
    TALLY_PERIOD_HALF = 3,    /* asked for only */
    TALLY_PERIOD_MONTHS = 4,  /* a range of months, asked for only */
    TALLY_PERIOD_QUARTERS = 5 /* a range of quarters, asked for only */
} tally_period_kind;

/* A period as plain values. year: 1000..9999; kind: a tally_period_kind;
 * index: the month 1..12 of a month, the quarter 1..4 of a quarter, the
 * half 1..2 of a half, 0 for a year, the first month (quarter) of a range
 * of months (quarters); end: the last month (quarter) of a range, not less
 * than index, and not read for the other kinds (0 from tally_period_parse). */
typedef struct tally_period {
    int year;
    int kind;
    int index;
    int end;
} tally_period;

/* The longest text of a period ("2019-01..2019-08"), with its NUL. */
#define TALLY_PERIOD_TEXT_MAX 17

/* Parses `len` bytes of `text` (no NUL needed; nothing around the period,
 * not even spaces): YYYY-MM, YYYY-Qn, YYYY, YYYY-Hn, YYYY-MM..YYYY-MM or
 * YYYY-Qn..YYYY-Qn (one year, the first end not after the last). 0 with *out set, or
 * TALLY_EPARSE with a message that names the text and the forms accepted
 * (*out unchanged). TALLY_EINVAL when out, or text with len > 0, is NULL. */
TALLY_EXTERN(int) tally_period_parse(tally_period *out, const char *text, size_t len);

/* Writes the period's text ("2019-08", "2019-Q3", "2019", "2019-H1",
 * "2019-01..2019-08") and a NUL into
 * buf, at most `size` bytes (TALLY_PERIOD_TEXT_MAX always do). Returns the
 * length written, without the NUL; TALLY_EINVAL when p is not a period (see
 * above) or size is too small (buf then holds "" when size > 0). */
TALLY_EXTERN(int) tally_period_format(char *buf, size_t size, const tally_period *p);

/* The first and last month (1..12) of the period within its year: a month
 * is itself, 2019-Q3 is 7 to 9, a year 1 to 12, 2019-H2 7 to 12,
 * 2019-Q1..2019-Q2 1 to 6. 0, or TALLY_EINVAL when p
 * is not a period. first or last may be NULL. */
TALLY_EXTERN(int) tally_period_months(const tally_period *p, int *first, int *last);

/* Orders periods in time, as results list them: by year, and within a year
 * its months, then its quarters, then its halves and ranges (by first
 * month, then length), then the year itself. Negative, 0 or
 * positive. For periods that are not valid, a fixed order that keeps 0 for
 * equal values. */
TALLY_EXTERN(int) tally_period_compare(const tally_period *a, const tally_period *b);

TALLY_END_DECLS

#endif
