/* Internal: the target set, for completion (lib/progress.c), which reads
 * its hierarchy and definitions and computes its effective targets. */
#ifndef TALLY_LIB_TARGETS_H
#define TALLY_LIB_TARGETS_H

#include <stddef.h>

#include "tally/targets.h"

typedef struct tally_targets__entry {
    size_t node, indicator;
    int year;
    int origin; /* FROM_* (targets.c) */
    double value; /* NaN: "no target given" */
} tally_targets__entry;

struct tally_targets {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind;
    size_t *nchildren; /* per node */
    tally_targets__entry *items;
    size_t count, cap;
    /* Open addressing (node, indicator, year) -> item index + 1 (0 = empty). */
    size_t *slots;
    size_t slots_cap; /* power of two */
};

/* Effective targets of (ind, year) into eff[n]; with `csum` and `cwith`
 * (may be NULL) also each node's children's sum and how many children have
 * one. One reverse pass over pre-order: children come after their parent,
 * so every child is final before its parent is visited.
 *
 * A parent without a target of its own takes the sum of its children's only
 * when every child has one: the sum of some children's targets would be
 * compared with the actual of all of them, understating the target (or a
 * ceiling) and overstating completion. */
int tally_targets__effective(const tally_targets *t, size_t ind, int year, double *eff,
                             double *csum, size_t *cwith);

#endif
