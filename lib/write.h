/* Internal: what every writer of CSV or JSON output shares. */
#ifndef TALLY_LIB_WRITE_H
#define TALLY_LIB_WRITE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "tally/number.h"
#include "tally/write.h"

struct tally_hierarchy;
struct tally_definitions;

/* A CSV field, quoted only when it needs to be (comma, quote, CR, LF). */
void tally_write__csv(FILE *f, const char *s);
/* A JSON string with its quotes. */
void tally_write__json(FILE *f, const char *s);
/* A number with `decimals` (tally_number_format); missing (NaN) is empty in
 * CSV and null in JSON. */
void tally_write__number(FILE *f, double v, int decimals, int json);
/* want[level] = 1 for every level the options ask for (all when they name
 * none); a new array of level_count + 1 bytes (free()), NULL when out of
 * memory. Defined in write_levels.c: write.c reads no hierarchy, so that
 * the readers, which come before the hierarchy, may write with it too. */
unsigned char *tally_write__levels(const struct tally_hierarchy *h,
                                   const tally_write_options *opts);

/* What a writer writes, from the options: levels, the subtree of
 * opts->under and the indicators of opts->indicators (write_levels.c). */
typedef struct tally_write__scope {
    tally_write_options opts; /* the caller's, read as the current version */
    unsigned char *level;     /* by level: 1 to write (level_count + 1 bytes) */
    size_t nlevels;
    size_t first, last;       /* the nodes written: [first, last) in pre-order */
    unsigned char *ind;       /* by indicator: 1 to write (count + 1 bytes) */
    size_t nind;
} tally_write__scope;

/* Makes the scope of `opts` (NULL: the defaults) over h and d (d may be
 * NULL for a writer without indicators: opts->indicators is then
 * refused). 0; TALLY_ENOTFOUND for an unknown opts->under or indicator
 * ("--under 'X' is not a region code of the hierarchy"), TALLY_EINVAL for
 * a format or layout the writer does not know, TALLY_ENOMEM; the error
 * record set. Free with tally_write__scope_free (also after a failure). */
int tally_write__scope_make(tally_write__scope *s, const struct tally_hierarchy *h,
                            const struct tally_definitions *d, const tally_write_options *opts);
void tally_write__scope_free(tally_write__scope *s);


/* 1 when node (at `level`) is written. */
static inline int tally_write__scope_node(const tally_write__scope *s, size_t node, int level)
{
    return node >= s->first && node < s->last && level >= 0 && (size_t)level < s->nlevels &&
           s->level[level];
}

/* 1 when a row whose data is `has_data` (1: some value of the row is
 * there) is written: always with opts.all_regions, else only with data. */
static inline int tally_write__scope_keep(const tally_write__scope *s, int has_data)
{
    return has_data || s->opts.all_regions;
}

/* 1 when indicator i is written. */
static inline int tally_write__scope_indicator(const tally_write__scope *s, size_t i)
{
    return i < s->nind && s->ind[i];
}

/* opts read as the current version: the fields a caller of an older
 * version does not have take their defaults. */
tally_write_options tally_write__current(const tally_write_options *opts);

/* The byte order mark that --bom puts in front of CSV. */
#define TALLY_WRITE__BOM "\xEF\xBB\xBF"

/* ---- tables: CSV, JSON or a workbook ----------------------------------- */

/* Where a writer of a table (progress, poverty, thresholds, findings)
 * writes: for CSV and JSON `f` goes to the output (a byte order mark
 * first with opts->bom and CSV); for xlsx the writer still writes CSV to
 * `f`, which is kept in memory and made a sheet when the table is closed
 * (tally_write__sheet_from_csv). */
typedef struct tally_write__table {
    FILE *f;            /* where the writer writes its rows */
    int csv;            /* 1: the writer writes CSV (CSV and xlsx) */
    tally_output *out;  /* CSV and JSON */
    char *mem;          /* xlsx: what was written to f */
    size_t mem_len;
    const char *path, *what, *sheet;
} tally_write__table;

/* Opens a table for `opts` (read as the current version): 0, or
 * TALLY_EIO / TALLY_ENOMEM / TALLY_EINVAL with the error record set and
 * nothing to close. `what` ("the result") and `sheet` ("progress", the
 * sheet's name) must outlive the table. */
int tally_write__table_open(tally_write__table *t, const char *path, const char *what,
                            const char *sheet, const tally_write_options *opts);
/* Finishes the table as tally_output__close does: 0 or TALLY_EIO (or
 * TALLY_ENOMEM, TALLY_ELIMIT past a sheet's limits), an earlier file at
 * the path kept whole on a failure. */
int tally_write__table_close(tally_write__table *t);

/* What every table writer starts with: the scope of `opts` over h and d,
 * then the table opened at `path` (tally_write__table_open). 0, or the
 * error of either with the error record set and nothing left to free;
 * on 0 the caller frees the scope and closes the table. */
int tally_write__table_begin(tally_write__scope *s, tally_write__table *t,
                             const struct tally_hierarchy *h, const struct tally_definitions *d,
                             const tally_write_options *opts, const char *path,
                             const char *what, const char *sheet);
/* Gives the table up after the writer's own failure; the previous output
 * stays. No error record. */
void tally_write__table_discard(tally_write__table *t);

/* A workbook being written to `path` by the output rules (output.h): into
 * the output's temporary file, renamed over the path when closed; a device
 * or standard output gets the finished workbook from a scratch file. */
typedef struct tally_write__book {
    tally_output out;
    char *file;     /* the file libxlsxwriter writes */
    int scratch;    /* file is a scratch file, copied to out when closed */
    void *workbook; /* lxw_workbook */
    void *formats;  /* its number formats, made on first use */
} tally_write__book;

/* 0, or TALLY_EIO / TALLY_ENOMEM with the error record set and nothing
 * left to close. */
int tally_write__book_open(tally_write__book *b, const char *path, const char *what);
/* Writes the workbook out and finishes the output: 0 or TALLY_EIO. */
int tally_write__book_close(tally_write__book *b);
/* Gives the workbook up; the previous output stays. No error record. */
void tally_write__book_discard(tally_write__book *b);

/* Adds to the book a sheet named `sheet` holding the CSV table csv[0..len)
 * (a header row, then rows; the writers' own CSV, so well formed): the
 * header bold and frozen, with the columns up to `level` or `region_name`;
 * a column whose header ends in "code", or is period, as_of, indicator or
 * unit, as text; in the others a cell that is a decimal number becomes
 * that number, with as many decimals in its number format as the CSV
 * text has (so that Excel shows the same text). 0; TALLY_ELIMIT when the
 * table has more rows or columns than a sheet holds; TALLY_EIO. The error
 * record set. */
int tally_write__sheet_from_csv(tally_write__book *b, const char *sheet, const char *csv,
                                size_t len);

/* The number format of `decimals` decimals ("0", "0.0", ... up to 15),
 * made once per book (lxw_format *); NULL when out of memory. */
void *tally_write__book_number_format(tally_write__book *b, int decimals);

/* ---- text in memory ------------------------------------------------------ */

/* A growing byte buffer. `data` always has TALLY_WRITE__SLACK bytes past
 * `cap`, so fast copies may load and store whole words past the end of
 * what they mean to copy (tally_write__copy_words). Free `data` with free(). */
typedef struct tally_write__buf {
    char *data;
    size_t len, cap;
} tally_write__buf;

#define TALLY_WRITE__SLACK 64

/* Makes room for `more` bytes past len. 0, or TALLY_ENOMEM (no error
 * record: the caller sets it, on its own thread). */
int tally_write__reserve(tally_write__buf *b, size_t more);
/* Appends s quoted as a CSV field when it must be (as tally_write__csv),
 * or as it is when raw; then `end` unless it is 0. 0 or TALLY_ENOMEM. */
int tally_write__csv_text(tally_write__buf *b, const char *s, char end, int raw);
/* Appends s as a JSON string with its quotes (as tally_write__json).
 * 0 or TALLY_ENOMEM. */
int tally_write__json_text(tally_write__buf *b, const char *s);
/* Appends n bytes. 0 or TALLY_ENOMEM. */
int tally_write__bytes(tally_write__buf *b, const char *s, size_t n);

/* Copies n bytes as whole 16-, 32- or 64-byte words: reads and writes up
 * to 63 bytes past n, so s must be readable and o writable that far
 * (a tally_write__buf's slack). Small copies of varying length are most
 * of a row; up to 64 bytes this is one fixed-size copy picked by a branch
 * that is the same for every row of a node, free of a call and of a loop. */
static inline char *tally_write__copy_words(char *o, const char *s, size_t n)
{
    /* Fixed-size memcpy: vector loads and stores, whatever the alignment. */
    if (n <= 16) {
        memcpy(o, s, 16);
    } else if (n <= 32) {
        memcpy(o, s, 32);
    } else if (n <= 64) {
        memcpy(o, s, 64);
    } else {
        for (size_t k = 0; k < n; k += 16)
            memcpy(o + k, s + k, 16);
    }
    return o + n;
}

/* ---- output in ordered blocks ------------------------------------------ */

/* Output made of `blocks` independent pieces, each formatted by `format`
 * into an empty buffer (it appends, growing the buffer with
 * tally_write__reserve; 0, or TALLY_ENOMEM), and written in block order.
 * `format` may run on several threads at once for different blocks, so it
 * must only read shared state. */
typedef struct tally_write__job {
    size_t blocks;
    size_t threads; /* formatting threads, the calling one included (>= 1) */
    int (*format)(void *ctx, size_t block, tally_write__buf *out);
    void *ctx;
    const char *head;       /* written first */
    const char *tail;       /* written last when a block wrote anything */
    const char *tail_empty; /* written last when none did */
    size_t drop_first;      /* bytes left out at the start of the first
                             * block that wrote anything (a separator that
                             * only goes between items) */
} tally_write__job;

/* Runs a job into `path` (NULL: standard output, after flushing what stdio
 * holds for it). At most 2 x threads + 2 formatted blocks wait in memory;
 * the output is the same for every thread count, and every ready block
 * goes out in one system call.
 *
 * `path` is opened by tally_output__open (output.h, docs/output.md): a
 * regular file is replaced whole by a temporary file renamed over it once
 * all is written and synced, so a run that fails half way (a full disk,
 * out of memory) leaves the previous output as it was; a device, FIFO or
 * terminal is written through.
 *
 * 0; TALLY_EIO (cannot open or write `path`, with the errno text) or
 * TALLY_ENOMEM, with the calling thread's error record set. */
int tally_write__run(const char *path, const tally_write__job *job);

/* Formatting threads for an output of about `cells` rows: 1 below a few
 * hundred thousand (a thread costs more than it saves), else the online
 * processors, at most 8. */
size_t tally_write__default_threads(size_t cells);

#endif
