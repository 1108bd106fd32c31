/* tally: rolling reported values up the hierarchy.
 *
 * Time first, then space. For each requested period, every region that
 * reported gets its period value from its own reports by the indicator's
 * time rule:
 *   - the reports used are those inside the period at the finest
 *     granularity the region filed there (months, else quarters, else the
 *     year itself), so nothing is counted twice;
 *   - flow: their sum; cumulative and stock: the latest of them.
 * Then values are aggregated over the hierarchy. A region's value "counts"
 * once: a region contributes its own value when nothing below it reported;
 * when something below it did, its contribution is what its subtree
 * contributes. So a node's computed value aggregates the regions that
 * count in its subtree, below it:
 *   sum (compensated, Neumaier), mean (over those regions, not a mean of
 *   means), min, max, count (how many regions count).
 * A node's output value is the computed one when anything below it
 * reported, else its own reported value; TALLY_PREFER_REPORTED flips that
 * precedence (a region that filed a value contributes it, and the values
 * below it are not used for it or above it).
 * Formula indicators are then evaluated at every node (in dependency
 * order) on matched coverage: their reported operands aggregated over the
 * same regions, those that have every operand, so a rate is a ratio of
 * sums over one set of regions. A node where some region below reported
 * some operands and not others is incomplete for the formula
 * (tally_result_coverage); its value is the matched one.
 * Division by zero and missing operands give missing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_ROLLUP_H
#define TALLY_ROLLUP_H

#include "tally/common.h"
#include "tally/dataset.h"

TALLY_BEGIN_DECLS

typedef struct tally_result tally_result;

typedef enum tally_prefer {
    TALLY_PREFER_COMPUTED = 0,
    TALLY_PREFER_REPORTED = 1
} tally_prefer;

typedef enum tally_compare {
    TALLY_COMPARE_NONE = 0,
    TALLY_COMPARE_YOY = 1, /* the same period a year earlier (like for like:
                            * tally_result_compared) */
    TALLY_COMPARE_POP = 2  /* the previous period of the same length; for a
                            * cumulative indicator the period before one that
                            * starts in January and is shorter than a year is
                            * 0 (the year-to-date restarts), so the change is
                            * the increment */
} tally_compare;

/* periods: period strings (YYYY-MM, YYYY-Qn, YYYY, and the spans YYYY-Hn,
 * YYYY-MM..YYYY-MM, YYYY-Qn..YYYY-Qn of tally/period.h), borrowed for the call;
 * NULL (or period_count 0) means every period that occurs in the data, in
 * time order. coverage (version 2): 1 to have tally_result_write add the
 * columns regions,regions_complete,as_of (see tally/export.h) and to keep
 * the as_of of stock and cumulative values (tally_result_as_of); the
 * counts are kept either way. */
typedef struct tally_rollup_options {
    unsigned int version;
    int prefer;  /* tally_prefer */
    int compare; /* tally_compare */
    const char *const *periods;
    size_t period_count;
    int coverage;
} tally_rollup_options;

#define TALLY_ROLLUP_OPTIONS_VERSION 2
#define TALLY_ROLLUP_OPTIONS_INIT { TALLY_ROLLUP_OPTIONS_VERSION, TALLY_PREFER_COMPUTED, TALLY_COMPARE_NONE, NULL, 0, 0 }

/* Rolls the dataset up. *out belongs to the caller (tally_result_free) and
 * borrows the dataset's hierarchy and definitions (not the dataset).
 * Errors: TALLY_EPARSE (a bad period string), TALLY_ENOMEM.
 * Cost: O(nodes x indicators x periods x reports per period). */
TALLY_EXTERN(int) tally_rollup(tally_result **out, const tally_dataset *ds,
                               const tally_rollup_options *opts);

/* tally_rollup for a dataset that is not needed afterwards: where a
 * reported column is exactly what an indicator's output starts from (no
 * comparison; the indicator's only column inside a period of the result,
 * and inside no other), its array moves into the result and is rolled up
 * in place, so the values are held once instead of twice. Whether or not
 * the call succeeds, the dataset is left empty (as from
 * tally_dataset_new: same hierarchy and definitions, no values), ready to
 * be read into or freed. The result is the same as tally_rollup's. */
TALLY_EXTERN(int) tally_rollup_take(tally_result **out, tally_dataset *ds,
                                    const tally_rollup_options *opts);

/* Frees a result. NULL does nothing. */
TALLY_EXTERN(void) tally_result_free(tally_result *r);

TALLY_EXTERN(const tally_hierarchy *) tally_result_hierarchy(const tally_result *r);
TALLY_EXTERN(const tally_definitions *) tally_result_definitions(const tally_result *r);

/* The periods of the result, in the order requested (or time order). */
TALLY_EXTERN(size_t) tally_result_period_count(const tally_result *r);
TALLY_EXTERN(const char *) tally_result_period(const tally_result *r, size_t i);
TALLY_EXTERN(int) tally_result_period_find(const tally_result *r, const char *period,
                                           size_t *index);
/* The comparison the result was made with (tally_compare). */
TALLY_EXTERN(int) tally_result_compare(const tally_result *r);

/* The period a period of the result is compared with, as text: for pop the
 * previous period of the same length ("2019-H1" for 2019-H2,
 * "2018-05..2018-12" for 2019-01..2019-08); for yoy the same period a year
 * earlier, but like for like when the period's reports (of any indicator)
 * end before the period does: a 2019 whose latest report is 2019-08 is
 * compared with "2018-01..2018-08" (累计同比), and *matched is then 1, else
 * 0. Borrowed; lives as long as r. NULL (and *matched 0) when the result
 * has no comparison or the index is out of range. matched may be NULL. */
TALLY_EXTERN(const char *) tally_result_compared(const tally_result *r, size_t period,
                                                 int *matched);

/* The output value of a node for an indicator and period (indices).
 * *present is 0 when it is missing (then *value is NaN). TALLY_EINVAL for
 * an index out of range. An option of a category is an indicator index of
 * its own: tally_definitions_slot(d, base, category, option, &indicator). */
TALLY_EXTERN(int) tally_result_value(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, double *value, int *present);

/* Both sides of a node's value: what it reported itself for the period
 * (after the time rule) and what its subtree gives. Either pointer may be
 * NULL; a missing side is NaN. For formula indicators, "computed" is the
 * formula over the operands' output values. */
TALLY_EXTERN(int) tally_result_sides(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, double *reported, double *computed);

/* The value of the comparison period (NaN when missing or when the result
 * has no comparison). */
TALLY_EXTERN(int) tally_result_previous(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, double *value, int *present);

/* The coverage of a formula indicator's value at a node: *regions is how
 * many regions at or below it reported some operand of the formula for the
 * period (a region whose own value counts, by the precedence rule), and
 * *complete how many of them reported every operand; the value is computed
 * over those. The value is complete when the two are equal. For an
 * indicator that is not a formula both are 0 (its values are always
 * complete). Either pointer may be NULL. TALLY_EINVAL for an index out of
 * range. */
TALLY_EXTERN(int) tally_result_coverage(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, size_t *regions, size_t *complete);

/* *complete is 1 when the value rests on complete coverage (always, for an
 * indicator that is not a formula), else 0. TALLY_EINVAL for an index out
 * of range (then *complete is 0). */
TALLY_EXTERN(int) tally_result_complete(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, int *complete);

/* How old a stock or cumulative value is: *year and *month of the oldest
 * report it rests on. A region's own value is its report ending latest in
 * the period (carried, however old, unless the indicator has stale_after);
 * a node's value is made of the regions that count in it (by the
 * precedence rule), and its month is the earliest of theirs. Kept only
 * when the rollup was asked for coverage (opts->coverage); both are 0 for
 * a missing value, a flow or formula indicator, or a result made without
 * coverage. Either pointer may be NULL. TALLY_EINVAL for an index out of
 * range. */
TALLY_EXTERN(int) tally_result_as_of(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, int *year, int *month);

/* A whole column of output values over all nodes in pre-order, NaN where
 * missing. Borrowed; lives as long as r. NULL for indices out of range.
 * A result of data filed by a few regions holds only those regions and
 * their ancestors (docs/internals.md): the first call for a column then
 * makes it over every node (8 bytes a region) and keeps it, so it is not
 * to be called from two threads at once on one result, and it is NULL
 * too when that memory cannot be had. tally_result_value reads one value
 * without it. */
TALLY_EXTERN(const double *) tally_result_column(const tally_result *r, size_t indicator,
                                                 size_t period);

TALLY_END_DECLS

#endif
