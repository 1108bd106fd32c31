/* Internal: what every writer of CSV or JSON output shares. */
#ifndef TALLY_LIB_WRITE_H
#define TALLY_LIB_WRITE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tally/number.h"
#include "tally/write.h"

struct tally_hierarchy;

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
