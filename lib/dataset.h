/* Internal: the dataset's columns, for the rollup and the checks. */
#ifndef TALLY_LIB_DATASET_H
#define TALLY_LIB_DATASET_H

#include <stdint.h>

#include "tally/dataset.h"

/* One reported column: an indicator at a period (as filed), over the
 * nodes [lo, hi) it holds. A column holds only the range of nodes that have
 * been filed: it is made for its first cell and grows (tally_dataset__cover)
 * when a cell outside it is stored, so a county's columns on the national
 * table hold the county's villages, and a column filled by every village is
 * the dense column over all nodes. `lo` is a multiple of 64, so that the
 * bits of the range are whole words.
 *
 * The arrays are indexed by node, for the nodes of the range only: values
 * and ints point `lo` elements before their allocation, valid and seen
 * lo / 64 words before theirs (tally_column__values_base and the others give the allocations).
 * Nodes outside [lo, hi) filed nothing: tally_column__has and
 * tally_column__seen say so without reading the arrays. Every loop over a
 * column's nodes or words runs over its range.
 *
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
 * Read a value with tally_column__get, where tally_column__has is 1. */
typedef struct tally_column {
    size_t indicator;
    int32_t period;
    size_t lo, hi; /* the nodes held; lo a multiple of 64 */
    double *values;
    uint64_t *valid;
    uint64_t *seen;
    int32_t *ints;
    int scale; /* 0..TALLY_COLUMN_MAX_SCALE, with `ints` */
} tally_column;

#define TALLY_COLUMN_MAX_SCALE 9

static inline int tally_bit__get(const uint64_t *bits, size_t i)
{
    return (int)((bits[i >> 6] >> (i & 63)) & 1);
}
static inline void tally_bit__set(uint64_t *bits, size_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline size_t tally_bit__words(size_t n) { return (n + 63) / 64; }

/* 1 when node is in the column's range [lo, hi). */
static inline int tally_column__holds(const tally_column *c, size_t node)
{
    return node - c->lo < c->hi - c->lo;
}

/* 1 when a value was filed at node (its valid bit). */
static inline int tally_column__has(const tally_column *c, size_t node)
{
    return tally_column__holds(c, node) && tally_bit__get(c->valid, node);
}

/* 1 when a value or an empty cell was filed at node (its seen bit). */
static inline int tally_column__seen(const tally_column *c, size_t node)
{
    return tally_column__holds(c, node) && tally_bit__get(c->seen, node);
}

/* Word w of the column's valid bits: 0 outside its range. */
static inline uint64_t tally_column__valid_word(const tally_column *c, size_t w)
{
    return w - (c->lo >> 6) < ((c->hi + 63) >> 6) - (c->lo >> 6) ? c->valid[w] : 0;
}

/* The words of the column's bits: [word_lo, word_hi) of valid and seen. */
static inline size_t tally_column__word_lo(const tally_column *c) { return c->lo >> 6; }
static inline size_t tally_column__word_hi(const tally_column *c) { return (c->hi + 63) >> 6; }

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

/* The dataset's fields, open to the records reader (records.c,
 * records_parallel.c), which stores into its columns in place. */
struct tally_dataset {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes;
    tally_column *columns;
    size_t ncolumns, columns_cap;
    /* Open addressing (indicator, period) -> column index + 1 (0 = empty). */
    size_t *slots;
    size_t slots_cap; /* power of two */
    size_t cells;
    /* Snapshot files whose columns are used in place (see snapshot.c):
     * unmapped when the dataset is freed; arrays inside them are not
     * free()d. */
    struct tally_dataset_map *maps;
    size_t nmaps;
    struct tally_carry *carry; /* records under old codes (carry.c); NULL: none */
    /* The columns' memory budget (0: tally_dataset__default_budget),
     * what the columns made by the dataset hold (tally_column__bytes), and
     * whether the last tally_dataset__room said no. */
    size_t max_bytes;
    uint64_t held, asked; /* asked: what the last tally_dataset__room_for asked for */
    int over_budget;
};

struct tally_dataset_map {
    void *addr;
    size_t len;
};

/* The default memory budget of a dataset's columns: a quarter of physical
 * memory, at most half of the address-space limit (RLIMIT_AS) when one is
 * set; at least 64 MiB. */
size_t tally_dataset__default_budget(void);
/* 1 when `more` bytes of columns fit in the dataset's memory budget
 * (checked before they are allocated), else 0 with ds->over_budget set. */
int tally_dataset__room_for(tally_dataset *ds, uint64_t more);
/* The same for one more column of every node. */
int tally_dataset__room(tally_dataset *ds);
/* The error for a column that could not be made, recorded at path:line:col
 * (path NULL: no place): TALLY_ELIMIT naming the columns, regions and
 * bytes when the budget said no, else TALLY_ENOMEM. */
int tally_dataset__column_error(const tally_dataset *ds, const char *path, unsigned long line,
                                unsigned long column);

/* The index of the column of (indicator, period), or -1. */
long tally_dataset__find_slot(const tally_dataset *ds, size_t indicator, int32_t period);
/* The column for (indicator, period), created on first use; NULL when out
 * of memory (no error recorded). */
tally_column *tally_dataset__get_column(tally_dataset *ds, size_t indicator, int32_t period);
/* Appends a column (its arrays now the dataset's) and files it in the
 * table. 0, or TALLY_ENOMEM with the dataset as it was (the caller keeps
 * the arrays). */
int tally_dataset__install_column(tally_dataset *ds, const tally_column *c);
/* New arrays for a column of all `nodes` nodes (lo 0, hi nodes), bits
 * clear, values NaN when `fill` (else left for tally_column__fill_missing).
 * 0 or TALLY_ENOMEM (nothing kept); no error is recorded. */
int tally_column__arrays(tally_column *c, size_t nodes, size_t indicator, int32_t period,
                         int fill);
/* A new column holding the 64 nodes around `node`, bits clear, values
 * NaN; it grows with tally_dataset__cover. 0 or TALLY_ENOMEM (nothing
 * kept); no error is recorded. */
int tally_column__arrays_at(tally_column *c, size_t nodes, size_t node, size_t indicator,
                            int32_t period);
/* Grows column c of ds to hold node (its range at least doubled towards
 * node, so that a column filled in order is copied O(1) times a value):
 * 0, or TALLY_ENOMEM with the column as it was (ds->over_budget set when
 * the budget said no). Columns in a snapshot's mapping hold every node. */
int tally_dataset__cover(tally_dataset *ds, tally_column *c, size_t node);
/* Grows column c of ds to hold [lo, hi) (lo < hi <= nodes) and the
 * nodes it held: 0, or TALLY_ENOMEM as above. */
int tally_dataset__cover_range(tally_dataset *ds, tally_column *c, size_t lo, size_t hi);
/* What a column of [lo, hi) holds in memory: values and both bit sets. */
uint64_t tally_column__bytes(size_t lo, size_t hi);
/* Fills a new column's values with NaN. */
void tally_column__fill_missing(double *values, size_t n);
/* The allocations of a column's arrays, which point before them by the
 * column's lo (NULL for an array the column does not have). */
static inline double *tally_column__values_base(const tally_column *c)
{
    return c->values ? c->values + c->lo : NULL;
}
static inline int32_t *tally_column__ints_base(const tally_column *c)
{
    return c->ints ? c->ints + c->lo : NULL;
}
static inline uint64_t *tally_column__bits_base(const tally_column *c, uint64_t *bits)
{
    return bits ? bits + (c->lo >> 6) : NULL;
}
/* Frees the arrays of a column made by tally_column__arrays. */
void tally_column__free(tally_column *c);
/* Files the columns in the table again after some were dropped or moved
 * (nothing to allocate, nothing fails). */
void tally_dataset__refile(tally_dataset *ds);
/* Drops the last column when it is empty (made for a cell that could not
 * be stored). */
void tally_dataset__drop_empty(tally_dataset *ds);
/* Drops the columns from `from` on (made during a read that is undone). */
void tally_dataset__drop_columns(tally_dataset *ds, size_t from);

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

#endif
