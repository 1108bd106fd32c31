/* tally: reported values, read from records CSV or added one by one.
 *
 * A dataset holds what each region filed itself, per indicator and period,
 * in columns with a validity bit beside every value (missing is not zero);
 * a column holds the range of regions that filed it, so memory follows
 * what was reported, not regions x indicators x periods. It borrows its hierarchy and definitions: both must
 * outlive it. A dataset is used by one thread at a time.
 *
 * Records CSV (UTF-8, optional BOM, RFC 4180: quotes, doubled quotes, CRLF):
 *   long:  region_code,indicator,period,value
 *   wide:  region_code,period,<indicator id>,<indicator id>...
 * Columns are found by name, in any order. A header with `indicator` and
 * `value` is long; otherwise every column besides region_code and period
 * must be an indicator id. Periods: YYYY-MM, YYYY-Qn, YYYY. Values: decimal
 * numbers (sign, digits, point, exponent); an empty cell is missing; nan,
 * inf, hexadecimal and numbers that overflow are refused.
 *
 * Every row read is either accepted or rejected; a rejected row has a
 * reason with file, line and column: unknown region, unknown indicator, bad
 * period, bad number, wrong field count, duplicate (same region, indicator
 * and period given twice, in any of the files read into the dataset).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_DATASET_H
#define TALLY_DATASET_H

#include "tally/common.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"
#include "tally/read.h"

TALLY_BEGIN_DECLS

typedef struct tally_dataset tally_dataset;

/* Creates an empty dataset over h and d (borrowed; they must outlive it).
 * *out belongs to the caller (tally_dataset_free). */
TALLY_EXTERN(int) tally_dataset_new(tally_dataset **out, const tally_hierarchy *h,
                                    const tally_definitions *d);

/* Frees a dataset. NULL does nothing. */
TALLY_EXTERN(void) tally_dataset_free(tally_dataset *ds);

/* The hierarchy and definitions the dataset was made over (borrowed). */
TALLY_EXTERN(const tally_hierarchy *) tally_dataset_hierarchy(const tally_dataset *ds);
TALLY_EXTERN(const tally_definitions *) tally_dataset_definitions(const tally_dataset *ds);

/* Reads a records CSV into the dataset (the file is mapped, not copied;
 * the pages already read are given back as the read goes on, so a large
 * file does not stay resident: a pipe, which cannot be mapped, is read
 * into memory whole).
 *
 * With TALLY_ON_ERROR_STOP the first bad row stops the read: the function
 * returns its code (TALLY_EPARSE, TALLY_ENOTFOUND, TALLY_EEXIST,
 * TALLY_ERANGE) with the location in tally_error_last(); rows accepted
 * before it stay in the dataset. With TALLY_ON_ERROR_COLLECT every bad row
 * is appended to `rejects` and the read goes on; it returns 0 unless the
 * file cannot be read or its header is unusable (then nothing is read).
 * `rejects` may be NULL in stop mode; in collecting mode it is required.
 * `stats` may be NULL. opts NULL means TALLY_READ_OPTIONS_INIT. */
TALLY_EXTERN(int) tally_dataset_read_file(tally_dataset *ds, const char *path,
                                          const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats);

/* Same, from memory; `name` stands for the path in messages and rejects. */
TALLY_EXTERN(int) tally_dataset_read_buffer(tally_dataset *ds, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats);

/* Adds one reported value. `value` NaN records a missing value (the cell
 * was filed empty). Errors: TALLY_ENOTFOUND (region or indicator),
 * TALLY_EPARSE (period), TALLY_EEXIST (already given), TALLY_ERANGE
 * (infinite value). Formula indicators may be reported too: the checks
 * compare what was filed with what the formula gives. */
TALLY_EXTERN(int) tally_dataset_add(tally_dataset *ds, const char *region_code,
                                    const char *indicator, const char *period, double value);

/* Adds n values at once, from arrays: element i is region_codes[i],
 * indicators[i], periods[i] and values[i] (NUL-terminated strings, which
 * may repeat: one indicator or period for every element is the same
 * pointer n times). The elements are added in order, each as by
 * tally_dataset_add: an unknown region (TALLY_ENOTFOUND), a bad period
 * (TALLY_EPARSE), an unknown indicator (TALLY_ENOTFOUND), an infinite
 * value (TALLY_ERANGE), a cell already given, in the dataset or by an
 * element before (TALLY_EEXIST), a NULL string (TALLY_EINVAL) make the
 * element bad; NaN records a missing value. The message names the element
 * and says why as the records reader would, e.g. "element 2 (region V9,
 * indicator poor, period 2019-01): unknown region code 'V9'; expected a
 * code of the hierarchy"; the error's text is the offending string.
 *
 * on_error works as for the readers, an element for a row. With
 * TALLY_ON_ERROR_STOP the first bad element stops the call, which returns
 * its code; the elements before it stay added, so the bad one is element
 * stats->rows_accepted. With TALLY_ON_ERROR_COLLECT every bad element is
 * appended to `rejects` (required then) and the others are added; the call
 * returns 0. A rejected element is listed with path "<values>", line i + 1
 * (elements counted from 1, as lines are), column 0, and as its row the
 * element as CSV text region_code,indicator,period,value. `stats` (may be
 * NULL) counts elements: rows_read == rows_accepted + rows_rejected.
 * TALLY_EINVAL with nothing added when ds, or an array with n > 0, is NULL,
 * or when collecting without rejects; TALLY_ENOMEM stops in either mode.
 * Cost: O(n) expected; a region, indicator or period given as in the
 * element before is not looked up again. */
TALLY_EXTERN(int) tally_dataset_add_values(tally_dataset *ds, size_t n,
                                           const char *const *region_codes,
                                           const char *const *indicators,
                                           const char *const *periods, const double *values,
                                           tally_on_error on_error, tally_rejects *rejects,
                                           tally_read_stats *stats);

/* The value region `node` filed itself for an indicator and period string
 * exactly as given (no time rule). *present is 1 when a value was filed,
 * 0 when nothing or an empty cell was. */
TALLY_EXTERN(int) tally_dataset_reported(const tally_dataset *ds, size_t node, size_t indicator,
                                         const char *period, double *value, int *present);

/* Number of values (cells) accepted so far, missing ones included. */
TALLY_EXTERN(size_t) tally_dataset_value_count(const tally_dataset *ds);

/* The periods the dataset has values for (empty cells do not count), as
 * text separated by commas, in time order ("2019-01,2019-02,2019"; "" for
 * none). *out is the caller's, freed with tally_free. 0, TALLY_EINVAL or
 * TALLY_ENOMEM. O(columns^2) over the dataset's reported columns. */
TALLY_EXTERN(int) tally_dataset_periods(const tally_dataset *ds, char **out);

/* 1 when some value lies inside `period` (a month, quarter or year: a
 * month of a year asked for counts), 0 when none does (a rollup of it
 * would be empty), TALLY_EPARSE for a bad period, TALLY_EINVAL for NULL. */
TALLY_EXTERN(int) tally_dataset_period_has_values(const tally_dataset *ds, const char *period);

TALLY_END_DECLS

#endif
