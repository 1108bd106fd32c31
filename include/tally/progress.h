/* tally: completion of annual targets against the share of the year passed.
 *
 * Completion (tally_progress_run) as of month m of a year uses each region's
 * year-to-date actual by the indicator's time rule (flow: the sum of
 * January..m; cumulative and stock: the latest report), rolled up and with
 * formulas evaluated after aggregation, exactly as tally_rollup does:
 *
 *   higher is better:  completion = actual / target * 100 (missing when the
 *                      target is not positive)
 *                      status done (actual >= target), ahead (completion >=
 *                      time progress), behind; gap = max(target - actual, 0)
 *   lower is better:   the target is a ceiling: status met (actual <=
 *                      target) or not_met; completion is missing;
 *                      gap = actual - target when not met, else 0
 *   both:              no_target (no effective target), no_data (a target
 *                      but no actual); monthly_pace = gap / (12 - m), the
 *                      whole gap in December, 0 when done or met
 *   incomplete:        a formula indicator's actual that rests on
 *                      incomplete coverage (some region below filed some
 *                      of its operands and not others; tally_result_coverage)
 *                      is shown, never judged: status incomplete (when
 *                      there is a target), completion, gap, monthly_pace
 *                      and rank missing
 *   time progress:     m / 12 * 100, or the schedule's share for month m
 *   rank:              among siblings (same parent) that have a completion,
 *                      highest first; ties share the better rank (1, 2, 2, 4)
 *
 * The comparisons are made on the numbers, not on the rounded percentages:
 * `ahead` is actual * 12 >= target * m (actual * 100 >= target * share with a
 * schedule), so a region at exactly 8/12 of its target in August is ahead
 * even where the two percentages differ in their last binary digit.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_PROGRESS_H
#define TALLY_PROGRESS_H

#include "tally/common.h"
#include "tally/dataset.h"
#include "tally/definitions.h"
#include "tally/write.h"
#include "tally/hierarchy.h"
#include "tally/targets.h"

TALLY_BEGIN_DECLS

typedef struct tally_progress tally_progress;

typedef enum tally_target_status {
    TALLY_TARGET_NO_TARGET = 0,
    TALLY_TARGET_NO_DATA = 1,
    TALLY_TARGET_DONE = 2,
    TALLY_TARGET_AHEAD = 3,
    TALLY_TARGET_BEHIND = 4,
    TALLY_TARGET_MET = 5,
    TALLY_TARGET_NOT_MET = 6,
    TALLY_TARGET_INCOMPLETE = 7
} tally_target_status;

/* year and month: the as-of month (month 1..12). prefer: tally_prefer, as
 * for tally_rollup. schedule: 12 cumulative shares in percent (borrowed for
 * the call; validated as by tally_schedule_from_file), or NULL for
 * m / 12 * 100. */
typedef struct tally_progress_options {
    unsigned int version;
    int year;
    int month;
    int prefer;
    const double *schedule;
} tally_progress_options;

#define TALLY_PROGRESS_OPTIONS_VERSION 1
#define TALLY_PROGRESS_OPTIONS_INIT { TALLY_PROGRESS_OPTIONS_VERSION, 0, 0, 0, NULL }

/* Computes completion as of opts->month of opts->year for every node and
 * every indicator that has a target given for that year (anywhere in the
 * hierarchy). Rows are in hierarchy pre-order, then those indicators in
 * definition order: row = node * tally_progress_indicator_count() + k.
 * ds and t must be over the same hierarchy and definitions. *out belongs to
 * the caller (tally_progress_free) and borrows the hierarchy and
 * definitions (not ds or t). Errors: TALLY_EINVAL (opts NULL, month outside
 * 1..12, year outside 1000..9999, a bad schedule, ds and t over different
 * objects), TALLY_ENOMEM. Cost: one year-to-date rollup, O(nodes x
 * indicators). */
TALLY_EXTERN(int) tally_progress_run(tally_progress **out, const tally_dataset *ds,
                                     const tally_targets *t, const tally_progress_options *opts);

/* Frees a result. NULL does nothing. */
TALLY_EXTERN(void) tally_progress_free(tally_progress *r);

TALLY_EXTERN(const tally_hierarchy *) tally_progress_hierarchy(const tally_progress *r);
TALLY_EXTERN(const tally_definitions *) tally_progress_definitions(const tally_progress *r);
TALLY_EXTERN(int) tally_progress_year(const tally_progress *r);
TALLY_EXTERN(int) tally_progress_month(const tally_progress *r);

/* The indicators with rows (those with a target that year), in definition
 * order: their count, and the definitions index of the k-th. */
TALLY_EXTERN(size_t) tally_progress_indicator_count(const tally_progress *r);
TALLY_EXTERN(size_t) tally_progress_indicator(const tally_progress *r, size_t k);

/* Number of rows: nodes x indicators with rows. */
TALLY_EXTERN(size_t) tally_progress_count(const tally_progress *r);

/* The row of a node and indicator (definitions index). TALLY_ENOTFOUND
 * (*row = TALLY_NONE) when the indicator has no rows or node is out of
 * range. */
TALLY_EXTERN(int) tally_progress_find(const tally_progress *r, size_t node,
                                      size_t indicator, size_t *row);

/* Accessors by row (out of range: TALLY_NONE, NaN, -1 or 0). Missing
 * numbers are NaN. */
TALLY_EXTERN(size_t) tally_progress_node(const tally_progress *r, size_t row);
TALLY_EXTERN(size_t) tally_progress_row_indicator(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_actual(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_target(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_completion(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_time_progress(const tally_progress *r, size_t row);
/* tally_target_status. */
TALLY_EXTERN(int) tally_progress_status(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_gap(const tally_progress *r, size_t row);
TALLY_EXTERN(double) tally_progress_monthly_pace(const tally_progress *r, size_t row);
/* 1 when the row's actual rests on complete coverage (always, for an
 * indicator that is not a formula), 0 when it is matched over fewer regions
 * than reported some operand of the formula (then a row with a target has
 * status TALLY_TARGET_INCOMPLETE), -1 for a row out of range. */
TALLY_EXTERN(int) tally_progress_complete(const tally_progress *r, size_t row);
/* Rank among siblings, 1 = highest completion; 0 when the row has no
 * completion. */
TALLY_EXTERN(size_t) tally_progress_rank(const tally_progress *r, size_t row);

/* The status as written in output: "no_target", "no_data", "done", "ahead",
 * "behind", "met", "not_met", "incomplete"; "" for an unknown value. Static
 * text. */
TALLY_EXTERN(const char *) tally_target_status_name(int status);

/* Writes the rows to `path` (NULL: standard output) as CSV with columns
 *   region_code,region_name,level,indicator,year,as_of,actual,target,
 *   completion,time_progress,status,gap,monthly_pace,rank
 * or as a JSON array of objects with those keys (year and rank numbers,
 * null for missing). actual, target, gap and monthly_pace have the
 * indicator's decimals, completion and time_progress 2; missing values are
 * empty. opts->levels filters by level (NULL: every level). Errors:
 * TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_progress_write(const tally_progress *r, const char *path,
                                       const tally_write_options *opts);

/* level: the level index to chart; -1 for the level of the first node
 * below the first root. indicator: a definitions index with rows;
 * TALLY_NONE for the first one. title: UTF-8 text (borrowed for the call),
 * NULL for one made from the indicator's name, the year and the as-of
 * month. */
typedef struct tally_progress_svg_options {
    unsigned int version;
    int level;
    size_t indicator;
    const char *title;
} tally_progress_svg_options;

#define TALLY_PROGRESS_SVG_OPTIONS_VERSION 1
#define TALLY_PROGRESS_SVG_OPTIONS_INIT { TALLY_PROGRESS_SVG_OPTIONS_VERSION, -1, TALLY_NONE, NULL }

/* Writes a self-contained SVG chart to `path` (NULL: standard output): one
 * horizontal bar per region at the level, for the indicator, sorted by
 * completion (highest first; regions without one last), coloured by status
 * with a legend, the region names, each bar's percentage and status, and
 * the time-progress line labelled. For a lower-is-better indicator the
 * bars are actual / ceiling * 100 (lowest first) against a line at 100.
 * Each bar is a <rect class="bar"> with data-region (the code) and
 * data-status attributes. Errors: TALLY_EINVAL (an indicator without rows,
 * a level out of range, no region at the level), TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_progress_write_svg(const tally_progress *r, const char *path,
                                           const tally_progress_svg_options *opts);

TALLY_END_DECLS

#endif
