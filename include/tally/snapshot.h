/* tally: binary snapshots of a dataset.
 *
 * A snapshot holds a dataset's reported values (values, validity and
 * "filed" bits per column) in the form they are used in, so that reading
 * it back costs little more than reading its bytes: no text is parsed, no
 * code is looked up, and a file is used in place. It is tied to the
 * hierarchy and definitions it was made over: it records their sizes and
 * fingerprints, and is refused over any other.
 *
 * A column whose every value is a whole number times a power of ten
 * (counts; amounts with a few decimals) is written as 32-bit whole
 * numbers, half the bytes of doubles, and read back as the same doubles,
 * bit for bit; any other column is written as doubles. Which form a
 * column takes changes only the size of the file and the time to load
 * it, never a value.
 *
 * File format, version 4 (all integers little-endian; every section starts
 * at a multiple of 8 bytes, so the arrays are used in place from a
 * mapping). A column holds the range of nodes [lo, hi) the dataset's
 * column holds (the regions that filed it, docs/internals.md), so a
 * snapshot of one county on the national table holds the county:
 *
 *   header, 80 bytes:
 *     0   magic "TALLYSNP"
 *     8   u32 format version (4)
 *     12  u32 byte order mark 0x01020304 as written by the saving machine
 *     16  u64 file size in bytes
 *     24  u64 hierarchy node count        32  u64 hierarchy fingerprint
 *     40  u64 indicator count             48  u64 definitions fingerprint
 *     56  u64 column count                64  u64 cell count (values filed,
 *                                               empty cells included)
 *     72  u64 reserved (0)
 *   per column, sorted by indicator then period key, a 56-byte header:
 *     0   u64 indicator index
 *     8   i64 period key (year * 32 + 0 for the year, 1..12 for months,
 *         13..16 for quarters)
 *     16  u64 cells filed in the column
 *     24  u64 checksum of the column's three arrays (below)
 *     32  u32 form of the values: 0 doubles, 1 whole numbers
 *     36  u32 scale: 0..9 for whole numbers, 0 for doubles
 *     40  u64 lo: the first node the column holds, a multiple of 64
 *     48  u64 hi: one past the last (lo <= hi <= node count); the column's
 *         len = hi - lo nodes follow, node lo + i at index i
 *   then the values, in slots, by form:
 *     0: f64 values[len]           (NaN where no value was filed)
 *     1: i32 values[len], and one more slot when len is odd: the
 *        value times 10^scale, 0 where no value was filed and in the
 *        extra slot. The value is the i32 divided by 10^scale as a
 *        double (correctly rounded). A column is written so exactly when
 *        for some scale every value it holds is that of a 32-bit number
 *        (so not -0, NaN or 0.1 + 0.2), at the smallest such scale.
 *   then the bits:
 *     u64 valid[(len + 63) / 64] (bit i % 64 of word i / 64: node lo + i
 *                                 has a value; none past len)
 *     u64 seen[(len + 63) / 64]  (also set where an empty cell was filed)
 *   u64 trailer: XXH3 of the header followed by every column header.
 *
 * XXH3 is xxHash's XXH3_64bits (seed 0; libxxhash, `xxhsum -H3`). A
 * column's checksum is the XXH3 of the XXH3 hashes (u64 each, in order) of
 * its pieces: the value slots 0..32767, 32768..65535, ... as stored (the
 * last run shorter), then the valid array, then the seen array. So every byte
 * is covered by a checksum, and the pieces of the columns can be checked
 * on several cores at once.
 *
 * The hierarchy fingerprint is the XXH3 of the XXH3 hashes (u64 each, in
 * order) of blocks of 65,536 codes in pre-order (the last block shorter):
 * what ties a node index to a region. A block is hashed as its codes one
 * after the other, each as a record: a code of exactly 12 ASCII digits is
 * the byte 'N' and the code's value as a u64; any other code is the byte
 * 'T', the code's bytes and a NUL. The definitions fingerprint is the same
 * over the indicator ids in order. Both are printed in hexadecimal in
 * messages.
 *
 * Version 3 is version 4 without the range: 40-byte column headers (the
 * trailer hashes those), and every column over every node (lo 0, hi the
 * node count). It is still read.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_SNAPSHOT_H
#define TALLY_SNAPSHOT_H

#include "tally/common.h"
#include "tally/dataset.h"

TALLY_BEGIN_DECLS

/* The snapshot format version this library writes and reads. */
#define TALLY_SNAPSHOT_VERSION 4

/* 1 when `data` (size bytes) starts with the snapshot magic "TALLYSNP",
 * else 0: to tell a snapshot from a CSV file before reading it. */
TALLY_EXTERN(int) tally_snapshot_is(const void *data, size_t size);

/* Writes every value of `ds` to a snapshot file at `path` (replaced if it
 * exists; written to a temporary file of a unique name beside it and
 * renamed, so a reader never sees half a snapshot and a failed save keeps
 * the previous one; a device or FIFO is written through: docs/output.md).
 * Errors: TALLY_EINVAL (NULL argument), TALLY_EIO (cannot write, with the
 * errno text), TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_snapshot_save(const tally_dataset *ds, const char *path);

/* The same snapshot in memory: *out, of *size bytes, belongs to the
 * caller, who frees it with tally_free() (not free()). On error *out is
 * NULL and *size 0. */
TALLY_EXTERN(int) tally_snapshot_save_buffer(const tally_dataset *ds, void **out, size_t *size);

/* Adds the values of the snapshot at `path` (mapped, not copied) to `ds`,
 * which may be empty or hold values already, as a records file would: a
 * cell given both in `ds` and in the snapshot is a duplicate.
 *
 * The snapshot is checked whole before anything is added, so on any error
 * `ds` is unchanged (except when memory runs out while the checked columns
 * are installed: those installed stay). A snapshot file is used in place:
 * its columns stay mapped (copy on write) as long as `ds` lives; replace a
 * snapshot by writing a new file and renaming it over the old one, as
 * tally_snapshot_save does, never by rewriting it in place. Errors, with the path in tally_error_last():
 * TALLY_EIO (cannot read), TALLY_EPARSE (not a snapshot, truncated, sizes
 * that do not add up, checksum mismatch: the file is damaged). The
 * checksums (XXH3, not keyed) detect accidental damage (truncation, bit
 * flips), not forgery: a file rewritten with its checksums recomputed loads
 * with other numbers; check the origin of an untrusted file by other means
 * (a signature) before loading it (docs/snapshot-format.md),
 * TALLY_ENOTSUP (a format version or byte order this library does not
 * read), TALLY_EINVAL (made over another hierarchy or other definitions:
 * the message gives both sizes and fingerprints), TALLY_EEXIST (a cell
 * already in `ds`; the message names region, indicator and period),
 * TALLY_ENOMEM. Time is linear in the snapshot's size (every byte is
 * checked), shared with a second thread for large snapshots; the first
 * snapshot saved or loaded over a hierarchy object also reads every code
 * of it once (its fingerprint is then kept with it).
 *
 * Columns of whole numbers stay so in `ds`, read in place. Values added to
 * such a column later (records, tally_dataset_add, another snapshot) turn
 * it into doubles first: a copy of 8 bytes a region, made once. Reading
 * records into `ds` does so for every column of whole numbers. */
TALLY_EXTERN(int) tally_snapshot_load(tally_dataset *ds, const char *path);

/* Same, from memory (any alignment; the values are copied); `name` stands
 * for the path in messages (NULL: "<buffer>"). The buffer is only read
 * during the call. */
TALLY_EXTERN(int) tally_snapshot_load_buffer(tally_dataset *ds, const void *data, size_t size,
                                             const char *name);

TALLY_END_DECLS

#endif
