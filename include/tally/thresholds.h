/* tally: poverty incidence against exit thresholds.
 *
 * From records (tally_poverty_thresholds): an indicator such as
 * incidence = poor_population / rural_population * 100 is rolled up as
 * usual (tally_rollup); its `thresholds:` in the definitions give, per
 * level, a limit the value must stay under (`max`) or over (`min`),
 * strictly unless `inclusive: true`, with overrides by region code
 * prefix (the longest matching prefix wins). Every node then gets its
 * threshold, whether it meets it, and the margin.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_THRESHOLDS_H
#define TALLY_THRESHOLDS_H

#include "tally/common.h"
#include "tally/write.h"
#include "tally/rollup.h"

TALLY_BEGIN_DECLS

/* Each node's value of thresholded indicators against its threshold. */
typedef struct tally_thresholds tally_thresholds;

/* indicators: indicator indices to judge (borrowed for the call); NULL or
 * indicator_count 0 means every indicator that has `thresholds:`. */
typedef struct tally_thresholds_options {
    unsigned int version;
    const size_t *indicators;
    size_t indicator_count;
} tally_thresholds_options;

#define TALLY_THRESHOLDS_OPTIONS_VERSION 1
#define TALLY_THRESHOLDS_OPTIONS_INIT { TALLY_THRESHOLDS_OPTIONS_VERSION, NULL, 0 }

/* One node's standing for one indicator and period. */
typedef struct tally_threshold_status {
    double value;     /* the rolled-up value; NaN when missing */
    double threshold; /* NaN when the node's level has no threshold */
    int is_max;       /* 1: the value must stay under the threshold; 0: over it */
    int inclusive;    /* 1: equal to the threshold meets it; 0: it does not */
    int meets;        /* 1 yes, 0 no, -1 unknown (value or threshold missing),
                       * -2 incomplete: the value rests on incomplete
                       * coverage (tally_result_complete); then no margin */
    double margin;    /* how far inside the threshold the value is: threshold -
                       * value for a max, value - threshold for a min;
                       * negative when it is outside; NaN when unknown */
} tally_threshold_status;

/* Judges every node of the rollup result, for each indicator with
 * thresholds and each period of the result. A node's threshold is its
 * level's entry (levels are matched by name), with the limit of the
 * override whose region prefix is the longest prefix of the node's code;
 * a level without an entry has no threshold. Values are compared at full
 * precision, not as printed.
 * Errors: TALLY_ENOTFOUND (no indicator has thresholds; an entry's level
 * is not a level of the hierarchy), TALLY_EINVAL (an indicator index out
 * of range), TALLY_ENOMEM.
 * *out belongs to the caller (tally_thresholds_free); it borrows the
 * result's hierarchy and definitions, not the result. */
TALLY_EXTERN(int) tally_poverty_thresholds(tally_thresholds **out, const tally_result *r,
                                           const tally_thresholds_options *opts);

/* Frees thresholds. NULL does nothing. */
TALLY_EXTERN(void) tally_thresholds_free(tally_thresholds *t);

/* The indicators judged (indices into the definitions), in definition
 * order, and the periods (as in the rollup result). */
TALLY_EXTERN(size_t) tally_thresholds_indicator_count(const tally_thresholds *t);
TALLY_EXTERN(size_t) tally_thresholds_indicator(const tally_thresholds *t, size_t k);
TALLY_EXTERN(size_t) tally_thresholds_period_count(const tally_thresholds *t);
TALLY_EXTERN(const char *) tally_thresholds_period(const tally_thresholds *t, size_t p);

/* The standing of `node` for the k-th judged indicator and period p.
 * TALLY_EINVAL for an index out of range. */
TALLY_EXTERN(int) tally_thresholds_status(const tally_thresholds *t, size_t node, size_t k,
                                          size_t p, tally_threshold_status *out);

/* Writes one row per node (pre-order, at opts->levels), judged indicator
 * and period:
 *   region_code,region_name,level,period,indicator,value,threshold,
 *   meets_threshold,margin
 * value, threshold and margin with the indicator's decimals;
 * meets_threshold yes / no, empty when unknown, incomplete when the value
 * rests on incomplete coverage (then no margin) (JSON: true / false / null /
 * "incomplete").
 * Errors: TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_thresholds_write(const tally_thresholds *t, const char *path,
                                         const tally_write_options *opts);

TALLY_END_DECLS

#endif
