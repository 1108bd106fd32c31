/* Internal: hierarchy pieces shared with other modules of the library.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_LIB_HIERARCHY_H
#define TALLY_LIB_HIERARCHY_H

#include <stddef.h>
#include <stdint.h>

#include "tally/hierarchy.h"

/* Codes without their text. A 12-digit code is kept as its number, and
 * tally_hierarchy_code writes its text out (13 bytes a region, in blocks of
 * 4096 regions) the first time a block is asked for. Code that visits every
 * region (writers, fingerprints, readers comparing codes) uses these
 * instead, so that nothing is written out. All are safe on a hierarchy
 * shared between threads, and give NULL / 0 for i out of range. */

/* Bytes of the buffer tally_hierarchy__code_text fills: 12 digits, a NUL. */
#define TALLY_HIERARCHY__CODE_BUF 13

/* The code of region i as text: a pointer into the hierarchy for codes kept
 * as text, or `buf` (at least TALLY_HIERARCHY__CODE_BUF bytes) filled with
 * the 12 digits (the pointer then lives as long as buf's contents). Never
 * writes anything into the hierarchy. */
const char *tally_hierarchy__code_text(const tally_hierarchy *h, size_t i, char *buf);

/* 1 and *v (v may be NULL) when region i has a 12-digit code (leading
 * zeros included: "000000000001" is 1); else 0 and *v untouched. */
int tally_hierarchy__code_number(const tally_hierarchy *h, size_t i, uint64_t *v);

/* 1 when the code of region i is exactly the len bytes at s (need not be
 * NUL-terminated), as tally_hierarchy_find(h, s, len) == i would say, but
 * without the lookup. */
int tally_hierarchy__code_is(const tally_hierarchy *h, size_t i, const char *s, size_t len);

/* For tests: how many blocks of 12-digit codes have been written out as
 * text so far. */
size_t tally_hierarchy__code_blocks_written(const tally_hierarchy *h);

/* The parents as the hierarchy keeps them: 32-bit pre-order indices,
 * TALLY_HIERARCHY__ROOT for a root (NULL for h NULL). The library's own
 * passes over the tree use this array; tally_hierarchy_parents writes out a
 * size_t copy, 8 bytes a region, the first time it is called. */
#define TALLY_HIERARCHY__ROOT UINT32_MAX
const uint32_t *tally_hierarchy__parents(const tally_hierarchy *h);

/* parents[i] as a size_t index, TALLY_NONE for a root. */
static inline size_t tally_hierarchy__up(const uint32_t *parents, size_t i)
{
    return parents[i] == TALLY_HIERARCHY__ROOT ? TALLY_NONE : (size_t)parents[i];
}

/* The level of every region, one byte each (the array the hierarchy
 * keeps; NULL for h NULL), for passes that scan levels. */
const uint8_t *tally_hierarchy__levels(const tally_hierarchy *h);

/* A value memoized on a finished hierarchy (the snapshot fingerprint): 1 and *v when set. Thread-safe (atomic). */
int tally_hierarchy__memo_get(const tally_hierarchy *h, uint64_t *v);
void tally_hierarchy__memo_set(const tally_hierarchy *h, uint64_t v);

/* The sizes a hierarchy can hold. Nodes are kept in 32-bit form, so
 * tally_hierarchy_from_buffer refuses (TALLY_ELIMIT, at the first row past
 * the limit) more than 4294967294 regions, more than 4294967295 bytes of
 * names and codes that are not 12 digits (each with a NUL, every row's name
 * counted, repeated or not), and a region whose row starts after line
 * 4294967295; and more than 255 level names (TALLY_ELIMIT). */
typedef struct tally_hierarchy__limits {
    size_t max_nodes;       /* regions */
    size_t max_text;        /* bytes of names and text codes, a NUL after each */
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
