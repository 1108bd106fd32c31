/* tally: writing rollup results as CSV or JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_EXPORT_H
#define TALLY_EXPORT_H

#include "tally/common.h"
#include "tally/number.h"
#include "tally/rollup.h"
#include "tally/write.h"

TALLY_BEGIN_DECLS

/* Writes a rollup result to `path` (NULL: standard output), one row per
 * node, indicator and period, nodes in pre-order, indicators in definition
 * order, periods in result order. CSV columns:
 *   region_code,region_name,level,indicator,period,value
 * plus previous,change,change_pct when the result has a comparison, and
 * regions,regions_complete,as_of when the rollup was asked for coverage
 * (tally_result_coverage for formulas, tally_result_as_of as YYYY-MM for
 * stock and cumulative values; empty otherwise). JSON is
 * an array of objects with the same keys. Numbers have the indicator's
 * decimals (change_pct: 2); missing values are empty (null in JSON).
 * The rows are made on up to 8 threads (one for small outputs) and written
 * in order; the bytes are the same for any thread count. A regular file
 * is replaced whole once all is written, a device or FIFO written through
 * (docs/output.md); on an error an earlier file at `path` stays as it was.
 * Errors: TALLY_EIO, TALLY_ENOMEM, TALLY_EINVAL (NULL result). */
TALLY_EXTERN(int) tally_result_write(const tally_result *r, const char *path,
                                     const tally_write_options *opts);

TALLY_END_DECLS

#endif
