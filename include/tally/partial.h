/* tally: mergeable partials, so that parts of the input read in separate
 * processes (or on separate machines) give the figures one process gives.
 *
 * A partial is made from what one part of the input left in a dataset
 * (records) or in a households store. It can be saved to bytes, loaded
 * back, merged with another partial of the same kind over the same
 * hierarchy (and definitions), and finished into the ordinary result:
 * tally_partial_rollup gives the tally_result of tally_rollup, and
 * tally_partial_poverty the tally_poverty of tally_poverty_households.
 * Formulas, coverage and stocks are worked out at the finish, after every
 * merge, from all the parts at once.
 *
 * What a partial holds (docs/partials.md):
 *   - records: every reported cell (region, indicator, period, value, or
 *     the mark of a cell filed empty), sorted by indicator, period and
 *     region; 24 bytes a cell;
 *   - households: every household (id, region, year, income and person
 *     weight) in the order of the input; 48 bytes plus its id.
 * So its size follows the reported cells or households of its part, not
 * the hierarchy.
 *
 * Each partial is made with a `source`: the place of its part in the
 * whole input (0, 1, 2... in the order one process would read the parts).
 * A merge is associative and commutative: whatever the tree of merges, the
 * merged partial is the same. A cell given in two parts is a duplicate,
 * as one process reading the parts in source order finds it: the value of
 * the lower source is kept and the other is listed as a duplicate (with
 * --on-error collect, one process rejects the same row). Households are
 * finished in (source, order within the part) order, which is the order
 * one process reads them in, so every sum is made in the same order and
 * the finished measures are the same doubles.
 *
 * Records carried through a crosswalk (tally/carry.h) are not held by a
 * partial yet: making one of a dataset with carried values is refused.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_PARTIAL_H
#define TALLY_PARTIAL_H

#include <stdint.h>

#include "tally/common.h"
#include "tally/dataset.h"
#include "tally/households.h"
#include "tally/poverty.h"
#include "tally/rollup.h"

TALLY_BEGIN_DECLS

typedef struct tally_partial tally_partial;

/* What a partial holds. */
typedef enum tally_partial_kind {
    TALLY_PARTIAL_RECORDS = 1,
    TALLY_PARTIAL_HOUSEHOLDS = 2
} tally_partial_kind;

/* The partial of the cells reported in ds (values and cells filed empty),
 * from part `source`. The partial borrows ds's hierarchy and definitions
 * (they must outlive it), not ds. *out is the caller's
 * (tally_partial_free). Errors: TALLY_EINVAL (NULL), TALLY_ENOTSUP (ds
 * holds values carried from old codes), TALLY_ENOMEM.
 * O(cells + columns * regions / 64). */
TALLY_EXTERN(int) tally_partial_from_dataset(tally_partial **out, const tally_dataset *ds,
                                             uint32_t source);

/* The partial of the households in hh, from part `source`; it borrows
 * hh's hierarchy. *out is the caller's. TALLY_EINVAL or TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_partial_from_households(tally_partial **out, const tally_households *hh,
                                                uint32_t source);

/* Frees a partial. NULL does nothing. */
TALLY_EXTERN(void) tally_partial_free(tally_partial *p);

TALLY_EXTERN(tally_partial_kind) tally_partial_kind_of(const tally_partial *p);

/* The cells (records) or households held, duplicates not counted. */
TALLY_EXTERN(size_t) tally_partial_count(const tally_partial *p);

/* The duplicates found by merges so far (records: cells given in two
 * parts; households are checked at the finish, see
 * tally_partial_poverty). */
TALLY_EXTERN(size_t) tally_partial_duplicate_count(const tally_partial *p);

/* Merges `other` into `into` (other is left as it was). Both must be of
 * the same kind, over the same hierarchy (and definitions, for records).
 * TALLY_EINVAL with into unchanged when they are not; TALLY_ENOMEM with
 * into unchanged. O(n + m). */
TALLY_EXTERN(int) tally_partial_merge(tally_partial *into, const tally_partial *other);

/* The partial as bytes: *out (the caller's, freed with tally_free) holds
 * *size bytes, for tally_partial_load_buffer on a machine of the same byte
 * order. 0, TALLY_EINVAL or TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_partial_save_buffer(const tally_partial *p, void **out, size_t *size);

/* A partial from bytes saved by tally_partial_save_buffer, over h and d
 * (borrowed; d may be NULL for households). TALLY_EINVAL when the bytes
 * are not a partial, are cut short, or were made over another hierarchy
 * or other definitions (their codes or ids differ); TALLY_ENOMEM. *out is
 * the caller's. The bytes are copied, not kept. */
TALLY_EXTERN(int) tally_partial_load_buffer(tally_partial **out, const void *data, size_t size,
                                            const tally_hierarchy *h,
                                            const tally_definitions *d);

/* Finishes a records partial: the result tally_rollup gives for a dataset
 * holding all its cells (opts as for tally_rollup; NULL: the defaults).
 * When `duplicates` is not NULL each duplicate the merges found is
 * appended to it as a rejected item (path "<part N>" for the part whose
 * value was dropped, the reason one process gives). *out is the caller's
 * (tally_result_free). Errors: those of tally_rollup, TALLY_EINVAL for a
 * households partial. */
TALLY_EXTERN(int) tally_partial_rollup(tally_result **out, const tally_partial *p,
                                       const tally_rollup_options *opts,
                                       tally_rejects *duplicates);

/* Finishes a records partial into the dataset one process would have read
 * from all its parts: every cell, as tally_dataset_add_values adds it
 * (values and cells filed empty), for tally_check_run or anything else
 * run on a dataset. `duplicates` as for tally_partial_rollup. The dataset
 * borrows p's hierarchy and definitions (not p); *out is the caller's
 * (tally_dataset_free). Errors: TALLY_EINVAL (NULL, or a households
 * partial), TALLY_ENOMEM. O(cells). */
TALLY_EXTERN(int) tally_partial_dataset(tally_dataset **out, const tally_partial *p,
                                        tally_rejects *duplicates);

/* Finishes a households partial: the result of tally_poverty_households
 * over all its households, added in (source, order) order; a household
 * whose id and year an earlier one has is dropped as one process drops
 * it, and appended to `duplicates` when that is not NULL. d and opts as
 * for tally_poverty_households. *out is the caller's (tally_poverty_free).
 * Errors: those of tally_poverty_households, TALLY_EINVAL for a records
 * partial. */
TALLY_EXTERN(int) tally_partial_poverty(tally_poverty **out, const tally_partial *p,
                                        const tally_definitions *d,
                                        const tally_poverty_options *opts,
                                        tally_rejects *duplicates);

TALLY_END_DECLS

#endif
