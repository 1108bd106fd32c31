/* Internal: what saving (snapshot_save.c) and loading (snapshot_load.c) a
 * snapshot share: the format's constants and the layout of a column
 * (tally/snapshot.h describes the format), and the checksums,
 * fingerprints and bit counts of snapshot.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_LIB_SNAPSHOT_H
#define TALLY_LIB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataset.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"

#define SNAP_MAGIC "TALLYSNP"
#define SNAP_BOM 0x01020304u
#define SNAP_HEADER 80
#define SNAP_COLUMN_HEADER 56    /* version 4: with the column's node range */
#define SNAP_COLUMN_HEADER_V3 40 /* version 3: every column over every node */
#define SNAP_TRAILER 8

/* Values per piece of a column's checksum (256 KiB): pieces are hashed
 * apart, so that even one column is checked on several cores, and are few
 * enough that combining their hashes costs nothing. Part of the format. */
#define SNAP_PIECE ((size_t)32768)

/* Codes per block of a fingerprint (blocks are hashed apart, on several
 * cores when loading). Part of the format. */
#define FP_BLOCK ((size_t)65536)

/* The checksum of `len` bytes: XXH3-64 (xxHash, seed 0), which runs faster
 * than memory delivers the bytes. Internal; the tests use it to forge
 * snapshots that are well sealed but wrong inside. */
uint64_t tally_snapshot__checksum(const void *data, size_t len);

/* A column's values are stored in one of two forms (tally/snapshot.h). */
#define FORM_DOUBLE 0u
#define FORM_INT32 1u

/* Slots of a column's values: one per node, and for 32-bit whole numbers
 * one more when the count is odd, so that the bits after them start at a
 * multiple of 8 bytes. */
static inline size_t value_slots(size_t nodes, unsigned form)
{
    return form == FORM_INT32 ? nodes + (nodes & 1) : nodes;
}

static inline size_t value_width(unsigned form) { return form == FORM_INT32 ? 4 : 8; }

/* Bytes of a column of `nodes` nodes (its range) after a header of `head`
 * bytes: header, values, valid and seen bits. */
static inline size_t column_bytes_after(size_t head, size_t nodes, unsigned form)
{
    return head + value_slots(nodes, form) * value_width(form) + 2 * 8 * tally_bit__words(nodes);
}

/* The same in the format this library writes. */
static inline size_t column_bytes(size_t nodes, unsigned form)
{
    return column_bytes_after(SNAP_COLUMN_HEADER, nodes, form);
}

/* Pieces in a column's checksum: the values in runs of SNAP_PIECE slots,
 * then the valid bits, then the seen bits. (An extra slot never makes
 * another piece: it is there only when the node count is odd, and so not a
 * multiple of SNAP_PIECE.) */
static inline size_t value_pieces(size_t nodes) { return (nodes + SNAP_PIECE - 1) / SNAP_PIECE; }

/* Blocks of FP_BLOCK codes in a fingerprint of n strings. */
static inline size_t fp_blocks(size_t n) { return (n + FP_BLOCK - 1) / FP_BLOCK; }

static inline int little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* The fingerprints a snapshot holds (see snapshot.c): of the hierarchy's
 * codes in pre-order, worked out once per hierarchy object
 * (tally_hierarchy__memo_*), and of the definitions' indicator ids. 0, or
 * TALLY_ENOMEM. */
int tally_snapshot__hierarchy_fingerprint(const tally_hierarchy *h, uint64_t *out);
int tally_snapshot__definitions_fingerprint(const tally_definitions *d, uint64_t *out);

/* The hash of block [begin, end) of the hierarchy's fingerprint (0, or
 * TALLY_ENOMEM), and a fingerprint from the hashes of all its blocks, in
 * order: the loader works the blocks out on two threads. */
int tally_snapshot__hierarchy_block(const tally_hierarchy *h, size_t begin, size_t end,
                                    uint64_t *out);
uint64_t tally_snapshot__fingerprint_combine(const uint64_t *blocks, size_t nblocks);

/* Bits set in the n words at w (a column's seen bits: its cells). */
size_t tally_snapshot__popcount_words(const uint64_t *w, size_t n);

#endif
