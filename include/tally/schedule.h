/* tally: schedules, the expected share of an annual target by month.
 *
 * The expected cumulative share of the annual target per month, in percent,
 * instead of m / 12 * 100 (completion's time progress, tally/progress.h).
 * CSV `month,share` (columns by name): 12 rows, months 1..12 once each in
 * any order, shares 0..100, non-decreasing by month, the December share
 * exactly 100. Shares given as an array are checked by the same rules
 * (tally_schedule_check).
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

/* Checks shares the caller already has (shares[m - 1] for month m) by the
 * rules the readers apply, checked in the same order, with the same
 * messages less the file location (the month is named instead): 0 when
 * they make a schedule; TALLY_ERANGE when a share is outside 0 to 100 or
 * not a number, TALLY_EINVAL when one is below the month before or the
 * December share is not 100, or when count is not 12. Reads the shares
 * only. */
TALLY_EXTERN(int) tally_schedule_check(const double *shares, size_t count);

TALLY_END_DECLS

#endif
