/* Internal: the dataset's columns, for the rollup and the checks. */
#ifndef TALLY_LIB_DATASET_H
#define TALLY_LIB_DATASET_H

#include <stdint.h>

#include "tally/dataset.h"

/* One reported column: an indicator at a period (as filed), over all nodes.
 * `valid` has a bit per node set where a value was filed; `seen` also where
 * an empty cell was filed (so a second row for the same cell is a
 * duplicate).
 *
 * The values are held in one of two forms. As doubles (`values`), NaN
 * where not valid: every column the readers fill. Or, in a column loaded
 * from a snapshot that holds it so, as 32-bit whole numbers (`ints`,
 * `values` NULL): the value times 10^scale, 0 where not valid; every
 * value of such a column is exactly ints[node] / 10^scale as a double
 * (the snapshot writer checks it), so both forms give the same numbers.
 * Read a value with tally_column__get, where its valid bit is set. */
typedef struct tally_column {
    size_t indicator;
    int32_t period;
    double *values;
    uint64_t *valid;
    uint64_t *seen;
    int32_t *ints;
    int scale; /* 0..TALLY_COLUMN_MAX_SCALE, with `ints` */
} tally_column;

#define TALLY_COLUMN_MAX_SCALE 9

/* 10^k as a double, exactly, for k in 0..TALLY_COLUMN_MAX_SCALE. */
static inline double tally_column__pow10(int k)
{
    static const double p[TALLY_COLUMN_MAX_SCALE + 1] = { 1e0, 1e1, 1e2, 1e3, 1e4,
                                                          1e5, 1e6, 1e7, 1e8, 1e9 };
    return p[k];
}

/* The value at a node whose valid bit is set, in either form. The
 * division is correctly rounded, which is what makes the whole-number form
 * exact (see above). */
static inline double tally_column__get(const tally_column *c, size_t node)
{
    if (c->values)
        return c->values[node];
    double k = (double)c->ints[node];
    return c->scale ? k / tally_column__pow10(c->scale) : k;
}

size_t tally_dataset__column_count(const tally_dataset *ds);
const tally_column *tally_dataset__column(const tally_dataset *ds, size_t i);
/* The column of an indicator at a period key, or NULL. */
const tally_column *tally_dataset__find_column(const tally_dataset *ds, size_t indicator,
                                               int32_t period);

/* tally_dataset_read_buffer without its fast paths (the CSV reader's
 * quote-free rows, the lookups cached from row to row): for the tests, which
 * check that both give the same dataset, stats, rejects and errors. */
int tally_dataset__read_buffer_plain(tally_dataset *ds, const char *data, size_t size,
                                     const char *name, const tally_read_options *opts,
                                     tally_rejects *rejects, tally_read_stats *stats);

/* The reader without its one-pass row (read_row_fast): every row through
 * tally_csv__next and read_row, for the tests, which compare it with the
 * full reader under limits (the plain path applies none). */
int tally_dataset__read_buffer_rows(tally_dataset *ds, const char *data, size_t size,
                                    const char *name, const tally_read_options *opts,
                                    tally_rejects *rejects, tally_read_stats *stats);

/* The full reader with `threads` workers on pieces of about `piece`
 * bytes (at least 1; rows are never split), even on inputs far too small
 * to be worth it: for the tests, which check that it reads what one thread
 * reads. threads 1 is the serial read. *joined (may be NULL) is set to 1
 * when the workers' results were joined, 0 when the read was done
 * serially (one thread, or undone and done again). */
int tally_dataset__read_buffer_threads(tally_dataset *ds, const char *data, size_t size,
                                       const char *name, const tally_read_options *opts,
                                       tally_rejects *rejects, tally_read_stats *stats,
                                       size_t threads, size_t piece, int *joined);

/* Snapshots: installs a whole column whose arrays (malloc'd, laid out as
 * above, `cells` bits set in `seen`) the dataset takes over. TALLY_EEXIST
 * when (indicator, period) already has a column (nothing is taken), or
 * TALLY_ENOMEM (nothing is taken either); no error is recorded. */
int tally_dataset__adopt_column(tally_dataset *ds, const tally_column *c, size_t cells);
/* The column of an indicator at a period key, writable, or NULL; a caller
 * that sets bits in it adds their number with tally_dataset__add_cells. */
tally_column *tally_dataset__column_mut(tally_dataset *ds, size_t indicator, int32_t period);
void tally_dataset__add_cells(tally_dataset *ds, size_t cells);
/* Takes over a private read-write mapping of a snapshot file, unmapped
 * when the dataset is freed; columns adopted with arrays inside it are not
 * free()d. 0 or TALLY_ENOMEM (then the caller keeps it). */
int tally_dataset__adopt_map(tally_dataset *ds, void *addr, size_t len);

/* Gives every column held as whole numbers its values as doubles (NaN
 * where not valid), so that cells can be written into it: done before any
 * row or value is added to a dataset. 0 or TALLY_ENOMEM (the columns done
 * so far stay done); no error is recorded. */
int tally_dataset__widen(tally_dataset *ds);
/* The same for one column of ds. */
int tally_dataset__widen_column(tally_dataset *ds, tally_column *c);

/* For tally_rollup_take: the values array of column i, now the caller's
 * (free() it), or NULL when it lives in a snapshot's mapping or the column
 * holds whole numbers (then it stays). The column is left without values
 * and bits (freed): clear the dataset after. */
double *tally_dataset__take_values(tally_dataset *ds, size_t i);

/* Empties a dataset: every column, cell and mapping is released; the
 * hierarchy and definitions stay, and rows may be read into it again. */
void tally_dataset__clear(tally_dataset *ds);

static inline int tally_bit__get(const uint64_t *bits, size_t i)
{
    return (int)((bits[i >> 6] >> (i & 63)) & 1);
}
static inline void tally_bit__set(uint64_t *bits, size_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline size_t tally_bit__words(size_t n) { return (n + 63) / 64; }

#endif
