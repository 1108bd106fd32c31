/* Internal: hierarchy pieces shared with other modules of the library.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_LIB_HIERARCHY_H
#define TALLY_LIB_HIERARCHY_H

#include <stddef.h>
#include <stdint.h>

#include "tally/hierarchy.h"

/* A value memoized on a finished hierarchy (the snapshot fingerprint): 1 and *v when set. Thread-safe (atomic). */
int tally_hierarchy__memo_get(const tally_hierarchy *h, uint64_t *v);
void tally_hierarchy__memo_set(const tally_hierarchy *h, uint64_t v);

/* The sizes a hierarchy can hold. Nodes are kept in 32-bit form, so
 * tally_hierarchy_from_buffer refuses (TALLY_ELIMIT, at the first row past
 * the limit) more than 4294967294 regions, more than 4294967295 bytes of
 * codes and names (each with a NUL), and a region whose row starts after
 * line 4294967295; and more than 255 level names (TALLY_ELIMIT). */
typedef struct tally_hierarchy__limits {
    size_t max_nodes;       /* regions */
    size_t max_text;        /* bytes of codes and names, a NUL after each */
    unsigned long max_line; /* the last line a region's row may start on */
    /* Bits of a node's index kept in a 12-digit code's hash slot (24;
     * tests lower it to reach the layout of more than 2^24 nodes, which
     * keeps the further 8 bits in a byte beside each slot). 0: 24. */
    unsigned node_low_bits;
} tally_hierarchy__limits;

/* tally_hierarchy_from_buffer with limits lowered to `limits` (NULL: the
 * built-in ones; a value above the built-in one counts as the built-in
 * one), so that tests reach the limit checks and the wide layout with
 * small inputs. */
int tally_hierarchy__from_buffer_limited(tally_hierarchy **out, const char *data, size_t size,
                                         const char *name, const tally_hierarchy_options *opts,
                                         const tally_hierarchy__limits *limits);

#endif
