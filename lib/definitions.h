/* Internal: what the other modules need from a definitions object beyond
 * the public accessors (compiled formulas, their evaluation order, and
 * where each indicator is defined, for messages). */
#ifndef TALLY_LIB_DEFINITIONS_H
#define TALLY_LIB_DEFINITIONS_H

#include <stddef.h>

#include "tally/definitions.h"
#include "expr.h"

/* Limits (documented in README): YAML nesting depth and the number of
 * level names. Deeper nesting is refused before it costs memory. */
#define TALLY_DEFINITIONS_MAX_DEPTH 64
#define TALLY_DEFINITIONS_MAX_LEVELS 64

/* The compiled formula of indicator i, or NULL when it is reported (or i is
 * out of range). Borrowed: lives as long as d. Its variable indices are
 * indicator indices of d. */
const tally_expr *tally_definitions__program(const tally_definitions *d, size_t i);

/* Formula indicators in dependency order: each comes after every formula
 * indicator it reads, so evaluating them in this order sees its inputs
 * computed. Returns their count; *order (borrowed, lives as long as d) gets
 * the indicator indices. */
size_t tally_definitions__formula_order(const tally_definitions *d, const size_t **order);

/* Line and column (1-based) of indicator i's `id` value in the file, for
 * messages; 0 and 0 when i is out of range. */
void tally_definitions__position(const tally_definitions *d, size_t i, unsigned long *line,
                                 unsigned long *column);

#endif
