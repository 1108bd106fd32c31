/* Internal: periods as small integer keys (the public tally_period of
 * tally/period.h is made over these).
 *
 * key = year * 32 + sub, where sub is 0 for the year, 1..12 for months and
 * 13..16 for quarters. Months are also numbered absolutely as
 * year * 12 + (month - 1) to compare spans. */
#ifndef TALLY_LIB_PERIOD_H
#define TALLY_LIB_PERIOD_H

#include <stddef.h>
#include <stdint.h>

/* The kinds (TALLY_PERIOD_YEAR, _QUARTER, _MONTH) and
 * TALLY_PERIOD_TEXT_MAX. */
#include "tally/period.h"

/* Parses YYYY-MM, YYYY-Qn (q or Q) or YYYY (years 1000..9999). 0 or
 * TALLY_EPARSE (no error is recorded: callers say where). */
int tally_period__parse(const char *s, size_t len, int32_t *key);

/* Also accepts what is only asked for, never recorded: ranges of months or
 * quarters of one year ("2019-01..2019-08", "2019-Q1..2019-Q2") and halves
 * ("2019-H1", "2019-H2"). */
int tally_period__parse_ask(const char *s, size_t len, int32_t *key);

/* The forms accepted when asking, for messages. */
#define TALLY_PERIOD__FORMS \
    "YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or YYYY-H2, or a range of one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn"

/* Keys of ranges and halves start here (above every year's keys). They may
 * span two years when made by tally_period__previous or _span. */
#define TALLY_PERIOD_RANGE_BASE (1 << 22)
int tally_period__is_range(int32_t key);
/* The key of the absolute months [first, last] (at most 12): a month, a
 * quarter or a year when it is one, else a range of months. */
int32_t tally_period__span(int32_t first, int32_t last);

/* A tally_period_kind (ranges: _HALF, _MONTHS, _QUARTERS). */
int tally_period__kind(int32_t key);
int tally_period__year(int32_t key);
/* First and last absolute month of the period. */
int32_t tally_period__first_month(int32_t key);
int32_t tally_period__last_month(int32_t key);
/* Writes the period text ("2019-08", "2019-Q3", "2019"); returns its length. */
size_t tally_period__format(int32_t key, char *buf);
/* The same period a year earlier, and the previous period of the same kind
 * (of a range: the preceding range of the same length, which may cross into
 * the year before). */
int32_t tally_period__year_before(int32_t key);
int32_t tally_period__previous(int32_t key);
/* Orders periods in time: by year, then months, quarters, the year. */
int tally_period__compare(int32_t a, int32_t b);

#endif
