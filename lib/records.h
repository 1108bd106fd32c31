/* Internal: what the records reader (records.c) and its parallel path
 * (records_parallel.c) share, and the reader's variants for the tests. */
#ifndef TALLY_LIB_RECORDS_H
#define TALLY_LIB_RECORDS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "dataset.h"
#include "util.h"

/* Where a records file's header put its columns. */
typedef struct tally_records__layout {
    long region, indicator, period, value; /* long format */
    size_t *wide_indicator;                /* wide: per column, indicator index or TALLY_NONE */
    size_t nfields;
    long region_name; /* a region_name column, compared with the hierarchy; or -1 */
    long *category;   /* long: per category of the definitions, its column or -1;
                         NULL when the file has no category column */
} tally_records__layout;

/* A column as a reader stores into it. In a serial read `seen` and `valid`
 * are the column's own bits, and so is `before`. In a parallel read each
 * worker sets bits of its own, merged when all are done, and `before` is
 * the column's seen bits as they were before the read (no one writes them
 * while the workers run): a cell was given before when either has it.
 * The arrays are the column's, indexed by node within its range: a serial
 * read grows the column (tally_dataset__cover) for a node outside it; a
 * parallel read's columns hold every node. */
typedef struct tally_records__col_ref {
    size_t index; /* the column's index + 1; 0: none */
    int32_t period;
    size_t lo, span; /* the column's range [lo, lo + span) (every node in a parallel read) */
    double *values;
    const uint64_t *before;
    uint64_t *seen, *valid;
} tally_records__col_ref;

/* A parallel worker's bits for one column, and the byte offset of the
 * field for which it first asked for the column (SIZE_MAX: not yet). */
typedef struct tally_records__own_bits {
    uint64_t *seen, *valid;
    size_t first;
} tally_records__own_bits;

static inline size_t tally_records__own_bits_bytes(size_t nodes)
{
    size_t words = tally_bit__words(nodes);
    return 2 * (words ? words : 1) * sizeof(uint64_t);
}

/* An indicator id seen before: its first 8 bytes as a number (zero
 * padded), so most ids compare in one instruction. */
#define TALLY_RECORDS__IND_CACHE 64
typedef struct tally_records__ind_entry {
    uint64_t head;
    size_t len; /* 0: empty */
    size_t ind;
    tally_records__col_ref *col; /* the reader's cols[ind] */
    char id[32];
} tally_records__ind_entry;

struct tally_records__par;

/* An option of a category as the one-pass row compares it: its id's
 * first 8 bytes as a number (zero padded), its length and its id. */
typedef struct tally_records__opt_entry {
    uint64_t head;
    size_t len;
    const char *id;
} tally_records__opt_entry;

/* A category column of a long file, for the one-pass row: the field, the
 * category, and the category's options. */
typedef struct tally_records__cat_col {
    size_t field, category;
    tally_records__opt_entry *opts;
    size_t nopts;
} tally_records__cat_col;

/* A reader of rows, and what the rows before it looked up for the next
 * ones: records come grouped by region and period, so most rows repeat
 * the region code and period text of the row before, and cycle through a
 * few indicators. Text is compared byte for byte before a cached answer is
 * used, so a hit gives exactly what the lookup would. */
typedef struct tally_records__reader {
    tally_dataset *ds;
    const tally_records__layout *lay;
    int on; /* the caches are used (not on the plain path, for the tests) */
    char region[32];
    size_t region_len, node; /* region_len 0: none */
    char period[16];
    size_t period_len; /* 0: none */
    int32_t key;
    tally_records__ind_entry ind[TALLY_RECORDS__IND_CACHE];
    tally_records__col_ref *cols;   /* per indicator: its column at cols[i].period */
    size_t *cells;                  /* where stored cells are counted */
    struct tally_records__par *par; /* NULL: a serial read, straight into the dataset */
    tally_records__own_bits *own;   /* parallel: this worker's bits, per column index */
    size_t nown;
    unsigned char *whole;  /* per indicator: 1 when a value must be a whole number */
    tally_rejects *warn;   /* where warnings about accepted rows go, or NULL */
    /* A long file with category columns (NULL, 0: none): its columns,
     * and per indicator and column the position of the column's category
     * in the indicator's `by` (catpos[ind * ncat + m]; -1: a cell there
     * is an error the general path reports: not broken down by it, or an
     * indicator id that names its options already). */
    tally_records__cat_col *cat;
    size_t ncat;
    signed char *catpos;
} tally_records__reader;

int tally_records__reader_init(tally_records__reader *rd, tally_dataset *ds,
                               const tally_records__layout *lay, int on);
void tally_records__reader_fini(tally_records__reader *rd);

/* A parallel read's column_ref and given_before (records_parallel.c): the
 * column made under the read's lock, the worker's own bits. */
tally_records__col_ref *tally_records__par_column(tally_records__reader *rd, size_t ind,
                                                  int32_t key, size_t order,
                                                  tally_records__col_ref *e);
int tally_records__par_given(tally_records__reader *rd, size_t ind, int32_t key, size_t node);

/* The read must be done again serially (internal, never returned). */
#define TALLY_RECORDS__READ_AGAIN 1

struct tally_records__chunk;

/* One pass of the row loop over c, from c->pos to c->size. */
typedef struct tally_records__rows_job {
    tally_records__reader *rd;
    tally_csv *c;
    const tally_csv_input *in;
    int mode; /* 0: every fast path; 1: plain; 2: no one-pass rows */
    int collect;
    tally_rejects *rejects; /* may be NULL */
    tally_read_stats st;
    const tally_mapped *map;         /* the input's file mapping, given back behind; or NULL */
    size_t released;                 /* given back up to here */
    atomic_int *stop;                /* parallel: set when the read must be done again */
    struct tally_records__chunk *ch; /* parallel: the piece of input read */
    size_t empty_rows;               /* rows of empty cells skipped */
} tally_records__rows_job;

/* The row loop of a records read, serial or one piece of a parallel one.
 * Returns 0, the first bad row's code in stop mode, TALLY_ENOMEM, or
 * TALLY_RECORDS__READ_AGAIN when another piece of a parallel read says so. */
int tally_records__read_rows(tally_records__rows_job *j);

/* After a piece's row was rejected: keeps its offending text
 * (records_parallel.c). */
void tally_records__keep_rejected_text(tally_records__rows_job *j);

/* Reads the data rows [start, in->size) with `threads` workers, in pieces
 * of about `piece` bytes (0: a few per thread, a megabyte at least).
 * Returns TALLY_RECORDS__READ_AGAIN with the dataset as it was when the
 * input is too small for threads or the read has to be done again
 * serially; else the read's code (0: collecting, or no bad row),
 * everything joined, *st set. */
int tally_records__read_parallel(tally_dataset *ds, const tally_records__layout *lay,
                                 const tally_csv_input *in, const char *name,
                                 const tally_mapped *map, int collect, tally_rejects *rejects,
                                 size_t start, unsigned long first_line, size_t threads,
                                 size_t piece, tally_read_stats *st);

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

#endif
