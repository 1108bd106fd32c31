/* Internal: rollup pieces shared with later computations (completion,
 * checks), which need a node's value over arbitrary month spans. */
#ifndef TALLY_LIB_ROLLUP_H
#define TALLY_LIB_ROLLUP_H

#include <stdint.h>

#include "tally/rollup.h"

/* Fills own[node] (n nodes) with each node's own value for indicator `ind`
 * over the absolute months [first, last] by the time rule `over_time`;
 * NaN where the node filed nothing there. `self` is the period key whose
 * own column may also be used (the period itself), or -1. */
int tally_rollup__own(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                      int32_t last, double *own);

#endif
