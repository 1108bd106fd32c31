/* Internal: categories and the indicator slots they make (see
 * definitions_categories.c), for the records reader, the rollup, the
 * writers and the checks.
 *
 * An indicator broken down by categories (`by: [cause]`) is expanded in
 * the definitions into slots: the declared indicator itself is the total,
 * and each option combination is one more indicator right after it, with
 * the id `poor_population[cause=illness]` and the declared indicator's
 * aggregation, time rule and decimals. The dataset and the rollup treat a
 * slot as any other indicator; these functions say which is which. */
#ifndef TALLY_LIB_DEFINITIONS_CATEGORIES_H
#define TALLY_LIB_DEFINITIONS_CATEGORIES_H

#include <stddef.h>

#include "tally/definitions.h"

/* Categories an indicator may be broken down by at once. */
#define TALLY_DEFINITIONS__MAX_BY 4

/* The declared indicator of indicator i: i itself unless i is a slot. */
size_t tally_definitions__base(const tally_definitions *d, size_t i);

/* The categories the declared indicator of i is broken down by (0: none),
 * and the category index of the j-th of them. */
size_t tally_definitions__by_count(const tally_definitions *d, size_t i);
size_t tally_definitions__by(const tally_definitions *d, size_t i, size_t j);

/* Slot i's option of its j-th `by` category: -1 for the total of it (and
 * for a declared indicator). */
int tally_definitions__slot_option(const tally_definitions *d, size_t i, size_t j);

/* The slot of declared indicator `base` with option opt[j] for each of its
 * `by` categories (-1: the total). */
size_t tally_definitions__slot_at(const tally_definitions *d, size_t base, const int *opt);

/* The position j of category c in the `by` of the declared indicator of i,
 * or -1 when i is not broken down by c. */
long tally_definitions__by_position(const tally_definitions *d, size_t i, size_t c);

/* The index of the category with id [s, s + len), or -1. */
long tally_definitions__find_category(const tally_definitions *d, const char *s, size_t len);

/* The index of option [s, s + len) of category c, or -1. */
long tally_definitions__find_option(const tally_definitions *d, size_t c, const char *s,
                                    size_t len);

#endif
