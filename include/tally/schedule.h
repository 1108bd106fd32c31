/* tally: schedules, the expected share of an annual target by month.
 *
 * The expected cumulative share of the annual target per month, in percent,
 * instead of m / 12 * 100 (completion's time progress, tally/progress.h).
 * CSV `month,share` (columns by name): 12 rows, months 1..12 once each in
 * any order, shares 0..100, non-decreasing by month, the December share
 * exactly 100.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_SCHEDULE_H
#define TALLY_SCHEDULE_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

/* Reads a schedule into shares[0..11] (share of month m at m - 1). Errors
 * with file:line:col in the last error: TALLY_EPARSE (malformed CSV, missing
 * column, wrong field count, a month that is not 1..12, a bad number),
 * TALLY_EEXIST (a month twice), TALLY_ERANGE (a share outside 0..100),
 * TALLY_EINVAL (a share below the previous month's, a December share other
 * than 100, a month missing: at the end of the file), TALLY_EIO. shares is
 * left unchanged on failure. */
TALLY_EXTERN(int) tally_schedule_from_file(double shares[12], const char *path);

/* Same, from memory; `name` stands for the path in messages. */
TALLY_EXTERN(int) tally_schedule_from_buffer(double shares[12], const char *data, size_t size,
                                             const char *name);

TALLY_END_DECLS

#endif
