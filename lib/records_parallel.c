/* The records reader's parallel path: a large input read by several
 * threads into the same dataset, with the serial read's result.
 *
 * SPDX-License-Identifier: MIT
 */
#include "records.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "definitions_categories.h"
#include "error.h"
#include "period.h"
#include "rejects.h"

/* ---- parallel reading ----
 *
 * The data rows are cut into pieces at line breaks, and worker threads
 * read pieces (each in file order, taking the next piece not yet taken)
 * into the same dataset: the columns are shared (made under a lock), the
 * values are stored straight into them (two rows store into the same
 * double only when they give the same cell, a duplicate), and each worker
 * keeps the seen and valid bits it sets apart (a word of bits holds 64
 * regions, which rows of two pieces may share), merged once all are done. Each piece counts its lines from
 * 1 and keeps its own rejected rows; after the join they are numbered from
 * where the piece starts and joined in file order. The result is the
 * serial read's in every respect, and when something makes that hard to
 * promise, the read is undone and done again serially:
 *   - the same cell in the pieces of two workers (a duplicate across
 *     pieces: which value stays and which row is rejected depends on the
 *     order; the same worker's pieces come in file order, so its own
 *     duplicates are found as a serial read finds them);
 *   - a piece that ends inside a quoted field (a quoted line break where
 *     it was cut), seen as a row running to the piece's end unterminated;
 *   - a bad row in stop mode, or any allocation failure.
 * Columns the workers make are put in the order of the fields that first
 * asked for them, which is the order a serial read makes them in. */

#define MAX_THREADS 64
/* Columns of every node above this size are made by a parallel read only
 * when the input can fill them (see tally_records__read_parallel). */
#define SPARSE_BYTES ((uint64_t)64 << 20)
/* The least input per thread: below it a thread costs more than it saves. */
#define MIN_PIECE ((size_t)1 << 20)

typedef struct tally_records__chunk {
    size_t start, end;
    tally_rejects *rejects; /* collecting: this piece's rejected rows */
    tally_read_stats st;
    unsigned long lines; /* line breaks read in the piece */
    int again;           /* the read must be done again serially */
    char text[128];      /* the offending text of its last rejected row */
    int has_text;
    size_t empty_rows;   /* rows of empty cells skipped in the piece */
} chunk;

typedef struct tally_records__par {
    tally_dataset *ds;
    const tally_records__layout *lay;
    const tally_csv_input *in;
    const char *name;
    const tally_mapped *map;
    int collect;
    pthread_mutex_t lock;
    pthread_cond_t filled;
    size_t fill_first, fill_count, fill_next, fill_done; /* columns made before the start */
    size_t sample_bytes, sample_cells; /* the rows make_first_columns looked at */
    size_t sample_lo, sample_hi; /* the nodes of their region codes (lo > hi: none) */
    chunk *chunks;
    size_t nchunks, next_chunk;
    atomic_int stop;
} par;

typedef struct worker {
    par *P;
    tally_records__reader rd;
    size_t cells;
} worker;

/* The offending text of a piece's rejected row, for the last error the
 * join leaves (the rejects keep the reason, not the text). */
void tally_records__keep_rejected_text(tally_records__rows_job *j)
{
    const tally_error *e = tally_error_last();
    j->ch->has_text = e->text != NULL;
    if (e->text)
        snprintf(j->ch->text, sizeof j->ch->text, "%s", e->text);
}

static tally_records__own_bits *own_for(tally_records__reader *rd, size_t i)
{
    if (i >= rd->nown) {
        size_t n = rd->nown ? rd->nown : 16;
        while (n <= i)
            n *= 2;
        tally_records__own_bits *o = realloc(rd->own, n * sizeof *o);
        if (!o)
            return NULL;
        for (size_t k = rd->nown; k < n; k++)
            o[k] = (tally_records__own_bits){ NULL, NULL, SIZE_MAX };
        rd->own = o;
        rd->nown = n;
    }
    tally_records__own_bits *o = &rd->own[i];
    if (!o->seen) {
        /* Mapped, not allocated: a worker reads one stretch of the file,
         * which (records sorted by region) touches the bits of one stretch
         * of the regions, and untouched pages of a mapping take no memory. */
        size_t words = tally_bit__words(rd->ds->nodes);
        void *m = mmap(NULL, tally_records__own_bits_bytes(rd->ds->nodes), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        o->seen = m;
        o->valid = o->seen + (words ? words : 1);
    }
    return o;
}

tally_records__col_ref *tally_records__par_column(tally_records__reader *rd, size_t ind,
                                                  int32_t key, size_t order,
                                                  tally_records__col_ref *e)
{
    par *P = rd->par;
    tally_dataset *ds = rd->ds;
    pthread_mutex_lock(&P->lock);
    long i = tally_dataset__find_slot(ds, ind, key);
    if (i < 0) {
        /* Past the memory budget: the serial read says where. */
        if (!tally_dataset__room(ds)) {
            pthread_mutex_unlock(&P->lock);
            return NULL;
        }
        /* Making a column is filling megabytes: not under the lock. When
         * another worker made it meanwhile, its column is the one. */
        pthread_mutex_unlock(&P->lock);
        tally_column c;
        if (tally_column__arrays(&c, ds->nodes, ind, key, 1))
            return NULL;
        pthread_mutex_lock(&P->lock);
        i = tally_dataset__find_slot(ds, ind, key);
        if (i >= 0) {
            tally_column__free(&c);
        } else if (tally_dataset__install_column(ds, &c)) {
            pthread_mutex_unlock(&P->lock);
            tally_column__free(&c);
            return NULL;
        } else {
            i = (long)ds->ncolumns - 1;
        }
    }
    double *values = ds->columns[i].values;
    const uint64_t *before = ds->columns[i].seen;
    pthread_mutex_unlock(&P->lock);
    tally_records__own_bits *o = own_for(rd, (size_t)i);
    if (!o)
        return NULL;
    if (o->first == SIZE_MAX)
        o->first = order;
    e->index = (size_t)i + 1;
    e->period = key;
    e->lo = 0; /* a parallel read's columns hold every node */
    e->span = ds->nodes;
    e->values = values;
    e->before = before;
    e->seen = o->seen;
    e->valid = o->valid;
    return e;
}

int tally_records__par_given(tally_records__reader *rd, size_t ind, int32_t key, size_t node)
{
    pthread_mutex_lock(&rd->par->lock);
    long i = tally_dataset__find_slot(rd->ds, ind, key);
    const tally_column *col = i >= 0 ? &rd->ds->columns[i] : NULL;
    pthread_mutex_unlock(&rd->par->lock);
    if (!col)
        return 0;
    const uint64_t *own = (size_t)i < rd->nown ? rd->own[i].seen : NULL;
    return tally_column__seen(col, node) | (own ? tally_bit__get(own, node) : 0);
}

static void read_chunk(worker *w, chunk *ch, int last)
{
    par *P = w->P;
    tally_csv c;
    tally_csv__init(&c, P->in->data, ch->end, P->name);
    tally_csv__input_apply(P->in, &c);
    c.pos = ch->start;
    c.next_line = 1;
    tally_records__rows_job j = { &w->rd, &c, P->in, 0, P->collect, ch->rejects, { 0, 0, 0 },
                                  P->map, ch->start, &P->stop, ch, 0 };
    int rc = tally_records__read_rows(&j);
    ch->empty_rows = j.empty_rows;
    if (j.map) /* the piece's last pages too: the worker goes on elsewhere */
        tally_util__release(j.map, j.released, ch->end);
    ch->st = j.st;
    ch->lines = c.next_line - 1;
    /* A bad row in stop mode, or no memory: the serial read says what. A
     * piece other than the last that ends inside quotes was cut in a
     * field. */
    if (rc || (!last && c.unterminated))
        ch->again = 1;
    tally_csv__fini(&c);
}

static void *work(void *arg)
{
    worker *w = arg;
    par *P = w->P;
    /* First the NaNs of the columns made before the start, shared out; no
     * row is read before all are filled. */
    pthread_mutex_lock(&P->lock);
    while (P->fill_next < P->fill_count) {
        double *v = P->ds->columns[P->fill_first + P->fill_next++].values;
        pthread_mutex_unlock(&P->lock);
        tally_column__fill_missing(v, P->ds->nodes);
        pthread_mutex_lock(&P->lock);
        P->fill_done++;
    }
    if (P->fill_done == P->fill_count)
        pthread_cond_broadcast(&P->filled);
    while (P->fill_done < P->fill_count)
        pthread_cond_wait(&P->filled, &P->lock);
    pthread_mutex_unlock(&P->lock);
    for (;;) {
        pthread_mutex_lock(&P->lock);
        size_t k = P->next_chunk++;
        pthread_mutex_unlock(&P->lock);
        if (k >= P->nchunks || atomic_load(&P->stop))
            break;
        read_chunk(w, &P->chunks[k], k == P->nchunks - 1);
        if (P->chunks[k].again)
            atomic_store(&P->stop, 1);
    }
    return NULL;
}

/* The index of an indicator id, without recording an error. */
static int quiet_indicator(const tally_definitions *d, const char *s, size_t len, size_t *ind)
{
    size_t n = tally_definitions_indicator_count(d);
    for (size_t i = 0; i < n; i++) {
        const char *id = tally_definitions_id(d, i);
        if (strlen(id) == len && memcmp(id, s, len) == 0) {
            *ind = i;
            return 0;
        }
    }
    return 1;
}

/* The slot of indicator `ind` with the options in a row's category
 * columns (fields fs/fe), as the reader's category_slot finds it, without
 * recording an error: 0, or 1 for a row it would refuse. */
static int quiet_slot(const tally_definitions *d, const tally_records__layout *lay,
                      const char *data, const size_t *fs, const size_t *fe, size_t *ind)
{
    int opt[TALLY_DEFINITIONS__MAX_BY] = { -1, -1, -1, -1 };
    int any = 0;
    for (size_t k = 0; k < tally_definitions_category_count(d); k++) {
        long f = lay->category[k];
        if (f < 0 || fe[f] == fs[f])
            continue;
        long j = tally_definitions__by_position(d, *ind, k);
        long o = tally_definitions__find_option(d, k, data + fs[f], fe[f] - fs[f]);
        if (j < 0 || o < 0 || tally_definitions__base(d, *ind) != *ind)
            return 1;
        opt[j] = (int)o;
        any = 1;
    }
    if (any)
        *ind = tally_definitions__slot_at(d, *ind, opt);
    return 0;
}

/* Makes, before the workers start, the columns the first rows of each
 * piece name (values not yet filled: the workers fill them together), so
 * that the workers do not each stop at the start to make the same
 * columns. Rows are split plainly (a row with a quote is skipped) and
 * nothing is recorded: a column made here that no row ends up asking for
 * is dropped after the join. Returns how many were made. */
static size_t make_first_columns(par *P)
{
    tally_dataset *ds = P->ds;
    const tally_records__layout *lay = P->lay;
    const char *d = P->in->data;
    size_t made = 0;
    for (size_t k = 0; k < P->nchunks; k++) {
        size_t p = P->chunks[k].start, end = P->chunks[k].end;
        for (int row = 0; row < 16 && p < end; row++) {
            /* Rows of a few kilobytes at most: a longer one (a hostile
             * file of gigabytes without a line break) is left to the
             * workers, which give its pages back as they scan. */
            size_t look = end - p < 4096 ? end - p : 4096;
            const char *nl = memchr(d + p, '\n', look);
            if (!nl && look < end - p)
                break;
            size_t e = nl ? (size_t)(nl - d) : end, next = nl ? e + 1 : end;
            if (e > p && d[e - 1] == '\r')
                e--;
            size_t fs[8], fe[8], nf = 0, s = p;
            int bad = memchr(d + p, '"', e - p) != NULL || lay->nfields > 8;
            for (size_t q = p; !bad && q <= e; q++) {
                if (q < e && d[q] != ',')
                    continue;
                if (nf == 8) {
                    bad = 1;
                    break;
                }
                fs[nf] = s;
                fe[nf++] = q;
                s = q + 1;
            }
            P->sample_bytes += next - p;
            P->sample_cells += lay->wide_indicator ? lay->nfields : 1;
            p = next;
            size_t node;
            if (!bad && nf == lay->nfields &&
                tally_hierarchy_find(ds->h, d + fs[lay->region], fe[lay->region] - fs[lay->region],
                                     &node) == 0) {
                if (node < P->sample_lo)
                    P->sample_lo = node;
                if (node > P->sample_hi)
                    P->sample_hi = node;
            }
            int32_t key;
            if (bad || nf != lay->nfields ||
                tally_period__parse(d + fs[lay->period], fe[lay->period] - fs[lay->period], &key))
                continue;
            for (size_t f = 0; f < nf; f++) {
                size_t ind;
                if (lay->wide_indicator) {
                    if ((ind = lay->wide_indicator[f]) == TALLY_NONE)
                        continue;
                } else if ((long)f != lay->indicator ||
                           quiet_indicator(ds->d, d + fs[f], fe[f] - fs[f], &ind) ||
                           (lay->category && quiet_slot(ds->d, lay, d, fs, fe, &ind))) {
                    continue;
                }
                if (tally_dataset__find_slot(ds, ind, key) >= 0)
                    continue;
                tally_column c;
                if (!tally_dataset__room(ds) ||
                    tally_column__arrays(&c, ds->nodes, ind, key, 0))
                    return made;
                if (tally_dataset__install_column(ds, &c)) {
                    tally_column__free(&c);
                    return made;
                }
                made++;
            }
        }
    }
    return made;
}

/* 1 when two workers set the same seen bit of a column. */
static int workers_overlap(const worker *w, size_t nw, size_t col, size_t words)
{
    for (size_t k = 0; k < words; k++) {
        uint64_t acc = 0;
        for (size_t t = 0; t < nw; t++) {
            if (col >= w[t].rd.nown || !w[t].rd.own[col].seen)
                continue;
            uint64_t s = w[t].rd.own[col].seen[k];
            if (acc & s)
                return 1;
            acc |= s;
        }
    }
    return 0;
}

static int first_use_cmp(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Joins the workers' results into the dataset (they did not overlap):
 * bits, cells, the columns they made in the serial order, the rejected
 * rows numbered from where each piece starts, the stats, and the last
 * error as the serial read leaves it. 0 or TALLY_ENOMEM (then the caller
 * undoes the read). */
static int par_merge(par *P, worker *w, size_t nw, size_t n0, unsigned long first_line,
                     tally_rejects *rejects, tally_read_stats *st)
{
    tally_dataset *ds = P->ds;
    size_t nnew = ds->ncolumns - n0, total = 0;
    size_t *order = malloc((nnew ? nnew : 1) * 2 * sizeof *order);
    tally_column *moved = malloc((nnew ? nnew : 1) * sizeof *moved);
    if (!order || !moved) {
        free(order);
        free(moved);
        return TALLY_ENOMEM;
    }
    for (size_t k = 0; k < P->nchunks; k++)
        total += P->chunks[k].rejects ? tally_rejects_count(P->chunks[k].rejects) : 0;
    size_t path = 0;
    if (total && (tally_rejects__path(rejects, P->name, &path) ||
                  tally_util__grow((void **)&rejects->items, &rejects->cap,
                                   rejects->count + total, sizeof *rejects->items))) {
        free(order);
        free(moved);
        return TALLY_ENOMEM;
    }
    /* Nothing fails from here on. */
    size_t words = tally_bit__words(ds->nodes);
    for (size_t i = 0; i < ds->ncolumns; i++) {
        tally_column *col = &ds->columns[i];
        for (size_t t = 0; t < nw; t++) {
            if (i >= w[t].rd.nown || !w[t].rd.own[i].seen)
                continue;
            const tally_records__own_bits *o = &w[t].rd.own[i];
            for (size_t k = 0; k < words; k++) {
                col->seen[k] |= o->seen[k];
                col->valid[k] |= o->valid[k];
            }
        }
    }
    for (size_t t = 0; t < nw; t++)
        ds->cells += w[t].cells;
    /* New columns: in the order of their first use; unused ones go. */
    size_t used = 0;
    for (size_t i = n0; i < ds->ncolumns; i++) {
        size_t first = SIZE_MAX;
        for (size_t t = 0; t < nw; t++)
            if (i < w[t].rd.nown && w[t].rd.own[i].first < first)
                first = w[t].rd.own[i].first;
        if (first == SIZE_MAX) {
            tally_column__free(&ds->columns[i]);
            continue;
        }
        order[2 * used] = first;
        order[2 * used + 1] = i;
        used++;
    }
    qsort(order, used, 2 * sizeof *order, first_use_cmp);
    for (size_t u = 0; u < used; u++)
        moved[u] = ds->columns[order[2 * u + 1]];
    if (used)
        memcpy(ds->columns + n0, moved, used * sizeof *moved);
    ds->ncolumns = n0 + used;
    tally_dataset__refile(ds);
    /* Rejected rows, in file order, numbered from where their piece
     * starts; the last one's error is the last error, as a serial read
     * leaves it. */
    unsigned long base = first_line;
    const chunk *last = NULL;
    size_t last_item = 0;
    for (size_t k = 0; k < P->nchunks; k++) {
        chunk *ch = &P->chunks[k];
        st->rows_read += ch->st.rows_read;
        st->rows_accepted += ch->st.rows_accepted;
        st->rows_rejected += ch->st.rows_rejected;
        tally_rejects *r = ch->rejects;
        for (size_t i = 0; r && i < r->count; i++) {
            tally_rejects__item it = r->items[i];
            it.path = path;
            it.line += base - 1;
            rejects->items[rejects->count++] = it;
            last = ch;
            last_item = rejects->count - 1;
        }
        if (r)
            r->count = 0; /* moved */
        if (rejects)
            rejects->empty_rows += ch->empty_rows;
        base += ch->lines;
    }
    if (last) {
        const tally_rejects__item *it = &rejects->items[last_item];
        tally_error__set_at(it->code, P->name, it->line, it->column,
                            last->has_text ? last->text : NULL,
                            last->has_text ? strlen(last->text) : 0, "%s", it->reason);
    }
    free(order);
    free(moved);
    return 0;
}

/* Undoes what the workers stored: values back to NaN in the columns that
 * were there before (a worker stores only into cells given nowhere before,
 * which were NaN), and the columns made during the read dropped. */
static void par_undo(tally_dataset *ds, const worker *w, size_t nw, size_t n0)
{
    size_t words = tally_bit__words(ds->nodes);
    for (size_t i = 0; i < n0; i++) {
        for (size_t t = 0; t < nw; t++) {
            if (i >= w[t].rd.nown || !w[t].rd.own[i].seen)
                continue;
            const uint64_t *s = w[t].rd.own[i].seen;
            for (size_t k = 0; k < words; k++)
                for (uint64_t b = s[k]; b; b &= b - 1)
                    ds->columns[i].values[k * 64 + (size_t)__builtin_ctzll(b)] = NAN;
        }
    }
    tally_dataset__drop_columns(ds, n0);
}

/* The first '\n' in [from, size) of d, or NULL. A megabyte at a time:
 * the pages scanned past the first megabyte are given back (map), so that
 * a file of gigabytes without a line break is never resident whole. */
static const char *find_newline(const char *d, size_t from, size_t size, const tally_mapped *map)
{
    const size_t step = (size_t)1 << 20;
    for (size_t p = from; p < size; p += step) {
        size_t n = size - p < step ? size - p : step;
        const char *nl = memchr(d + p, '\n', n);
        if (nl)
            return nl;
        if (map && p > from)
            tally_util__release(map, p - step, p + n);
    }
    return NULL;
}

/* Reads the data rows [start, in->size) with `threads` workers, in pieces
 * of about `piece` bytes (0: a few per thread, a megabyte at least).
 * Returns TALLY_RECORDS__READ_AGAIN with the dataset as it was when the input is too
 * small for threads or the read has to be done again serially; else the
 * read's code (0: collecting, or no bad row), everything joined, *st set. */
int tally_records__read_parallel(tally_dataset *ds, const tally_records__layout *lay,
                                 const tally_csv_input *in, const char *name,
                                 const tally_mapped *map, int collect, tally_rejects *rejects,
                                 size_t start, unsigned long first_line, size_t threads,
                                 size_t piece, tally_read_stats *st)
{
    size_t body = in->size - start;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (!piece) {
        if (threads > body / MIN_PIECE)
            threads = body / MIN_PIECE;
        piece = threads ? body / (4 * threads) : 0;
        if (piece < MIN_PIECE)
            piece = MIN_PIECE;
    }
    if (threads < 2 || !body)
        return TALLY_RECORDS__READ_AGAIN;
    if (body / piece > 65536) /* bounds the pieces' bookkeeping */
        piece = body / 65536 + 1;
    size_t cap = body / piece + 1;
    chunk *chunks = calloc(cap, sizeof *chunks);
    worker *w = calloc(threads, sizeof *w);
    par P;
    memset(&P, 0, sizeof P);
    int ok = chunks && w;
    size_t nch = 0;
    for (size_t p = start; ok && p < in->size; nch++) {
        /* Cut at the first line break at or after p + piece - 1. */
        size_t want = p + piece - 1, end = in->size;
        if (want < in->size) {
            const char *nl = find_newline(in->data, want, in->size, map);
            end = nl ? (size_t)(nl - in->data) + 1 : in->size;
        }
        chunks[nch].start = p;
        chunks[nch].end = end;
        if (collect && !(chunks[nch].rejects = calloc(1, sizeof(tally_rejects))))
            ok = 0;
        p = end;
    }
    size_t nw = 0;
    for (; ok && nw < threads; nw++) {
        if (tally_records__reader_init(&w[nw].rd, ds, lay, 1)) {
            ok = 0;
            break;
        }
        w[nw].rd.par = &P;
        w[nw].rd.cells = &w[nw].cells;
        w[nw].P = &P;
    }
    size_t n0 = ds->ncolumns, started = 0;
    int again = 1;
    if (ok && pthread_mutex_init(&P.lock, NULL) == 0) {
        if (pthread_cond_init(&P.filled, NULL) == 0) {
            P.ds = ds;
            P.lay = lay;
            P.in = in;
            P.name = name;
            P.map = map;
            P.collect = collect;
            P.chunks = chunks;
            P.nchunks = nch;
            atomic_init(&P.stop, 0);
            P.fill_first = n0;
            P.sample_lo = SIZE_MAX;
            P.fill_count = make_first_columns(&P);
            /* The columns of a parallel read hold every node. When they
             * would be large (past SPARSE_BYTES) and the input cannot fill
             * a quarter of those its first rows ask for, that is far more
             * than its values: the serial read makes columns as large as
             * what they hold. So too when the regions of the rows looked at
             * lie within a quarter of the hierarchy (one province over many
             * periods): the first rows name only some of the columns the
             * input will fill, each over a few regions. */
            uint64_t cells = P.sample_cells ? (uint64_t)body * P.sample_cells / P.sample_bytes : 0;
            uint64_t dense = (uint64_t)(P.fill_count + n0) * ds->nodes;
            int narrow = P.sample_lo <= P.sample_hi &&
                         (P.sample_hi - P.sample_lo + 1) < ds->nodes / 4;
            int sparse = dense * sizeof(double) > SPARSE_BYTES && (dense > 4 * cells || narrow);
            for (size_t i = 0; !sparse && i < n0; i++)
                sparse = tally_dataset__cover_range(ds, &ds->columns[i], 0, ds->nodes) != 0;
            if (sparse)
                atomic_store(&P.stop, 1);
            /* Cutting the pieces and looking at their first rows mapped
             * the input's pages there (a fault maps a whole large folio,
             * up to 2 MiB): given back until a worker gets there. */
            if (map)
                tally_util__release(map, start, in->size);
            pthread_t tid[MAX_THREADS];
            for (size_t t = 0; t < nw && !atomic_load(&P.stop); t++)
                if (pthread_create(&tid[started], NULL, work, &w[t]) == 0)
                    started++;
            if (!started) /* the columns made before the start are dropped below */
                atomic_store(&P.stop, 1);
            for (size_t t = 0; t < started; t++)
                pthread_join(tid[t], NULL);
            again = atomic_load(&P.stop);
            for (size_t k = 0; k < nch; k++)
                again |= chunks[k].again;
            size_t words = tally_bit__words(ds->nodes);
            for (size_t i = 0; !again && i < ds->ncolumns; i++)
                again = workers_overlap(w, nw, i, words);
            if (!again)
                again = par_merge(&P, w, nw, n0, first_line, rejects, st) != 0;
            if (again)
                par_undo(ds, w, nw, n0);
            pthread_cond_destroy(&P.filled);
        }
        pthread_mutex_destroy(&P.lock);
    }
    for (size_t t = 0; t < nw; t++)
        tally_records__reader_fini(&w[t].rd);
    for (size_t k = 0; chunks && k < nch; k++)
        tally_rejects_free(chunks[k].rejects);
    free(chunks);
    free(w);
    if (again) {
        st->rows_read = st->rows_accepted = st->rows_rejected = 0;
        return TALLY_RECORDS__READ_AGAIN;
    }
    return 0;
}
