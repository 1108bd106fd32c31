/* Internal: records under old codes carried through a crosswalk (carry.c),
 * for the records reader and the rollup. */
#ifndef TALLY_LIB_CARRY_H
#define TALLY_LIB_CARRY_H

#include <stdint.h>

#include "records.h"
#include "tally/carry.h"

struct tally_carry;
void tally_carry__free(struct tally_carry *k);

/* For the records reader, at a row whose region code is not in the
 * hierarchy: 1 when the code is not a from_code of the dataset's crosswalk
 * (the row is an unknown region as before); 0 when the row is kept to be
 * carried at the end of the read (its period, indicators and values are
 * checked first: an error there is recorded at its field and returned). */
int tally_carry__keep(tally_dataset *ds, const tally_csv *c, const tally_records__layout *lay);

/* At the end of a read: carries the rows kept onto their regions. Rows
 * that cannot be carried move from accepted to rejected in *st and go to
 * `rejects` (collecting), or the first one is the returned error (stop). */
int tally_carry__apply(tally_dataset *ds, int collect, tally_rejects *rejects,
                       tally_read_stats *st);

/* The same for the value filed for exactly period `key` (a tally_period
 * key): a node whose bit is set holds, in that column, a piece carried
 * there, not a figure it reported; NULL when none. */
const uint64_t *tally_carry__additive_at(const tally_dataset *ds, size_t ind, int32_t key);

/* The nodes holding a piece of indicator `ind` in a period inside the
 * absolute months [first, last] (what a rollup of that span counts beside
 * the regions below): *out is a new bit array (free()) or NULL when there
 * is none. 0 or TALLY_ENOMEM. */
int tally_carry__additive_span(const tally_dataset *ds, size_t ind, int32_t first, int32_t last,
                               uint64_t **out);

#endif
