/* Internal: rollup pieces shared with later computations (completion,
 * checks), which need a node's value over arbitrary month spans. */
#ifndef TALLY_LIB_ROLLUP_H
#define TALLY_LIB_ROLLUP_H

#include <stdint.h>

#include "tally/rollup.h"

/* Fills own[node] (n nodes) with each node's own value for indicator `ind`
 * over the absolute months [first, last] by the time rule `over_time`;
 * NaN where the node filed nothing there. */
int tally_rollup__own(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                      int32_t last, double *own);

/* Computes every indicator over the absolute months [first, last]
 * (year * 12 + month - 1) as if that span were a period: time rules, then
 * aggregation by `prefer`, then formulas. out (required), reported and
 * computed (may be NULL) are arrays of one caller-allocated column of
 * tally_hierarchy_size() doubles per indicator; NaN is missing. This is how
 * a year-to-date value (January to the as-of month) is computed. */
int tally_rollup__span(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                       double **out, double **reported, double **computed);

/* The most threads a rollup uses. */
#define TALLY_ROLLUP_MAX_THREADS 16

/* tally_rollup with the indicators of each period shared among `threads`
 * threads (1: all on the calling thread). The result is the same for every
 * thread count: each indicator is computed whole by one thread. */
int tally_rollup__threads(tally_result **out, const tally_dataset *ds,
                          const tally_rollup_options *opts, size_t threads);

/* The thread count tally_rollup uses: the online processors (at most
 * TALLY_ROLLUP_MAX_THREADS and the indicator count), 1 for small data. */
size_t tally_rollup__default_threads(const tally_dataset *ds);

#endif
