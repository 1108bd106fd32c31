/* Binary snapshots of a dataset: saving (the format is described in
 * tally/snapshot.h). The columns are written sorted by (indicator, period),
 * each as 32-bit whole numbers where every value of it is one at some
 * scale, else as doubles, after a header with the fingerprints of the
 * hierarchy and definitions. A file is written beside its final name and
 * renamed into place.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/snapshot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "dataset.h"
#include "error.h"
#include "output.h"
#include "snapshot.h"
#include "util.h"

/* Where the bytes go: a file or a buffer. The header and the column
 * headers are hashed on the way (the trailer's checksum). */
typedef struct sink {
    FILE *f;
    unsigned char *buf;
    size_t pos;
    XXH3_state_t *hash;
    int failed;
} sink;

static void put_data(sink *s, const void *data, size_t len)
{
    if (s->buf) {
        memcpy(s->buf + s->pos, data, len);
        s->pos += len;
    } else if (!s->failed && len && fwrite(data, 1, len, s->f) != len) {
        s->failed = 1;
    }
}

static void put(sink *s, const void *data, size_t len)
{
    XXH3_64bits_update(s->hash, data, len);
    put_data(s, data, len);
}

static void put64(sink *s, uint64_t v) { put(s, &v, 8); }

/* The checksum of a column's arrays: XXH3-64 of the hashes of its pieces
 * (tally/snapshot.h), the values as stored (`vals`, in `form`), over the
 * `len` nodes of its range. `sums` has room for value_pieces(len) + 2. */
static uint64_t column_checksum(const tally_column *c, const void *vals, unsigned form,
                                size_t len, uint64_t *sums)
{
    size_t words = tally_bit__words(len), np = value_pieces(len);
    size_t slots = value_slots(len, form), width = value_width(form);
    for (size_t k = 0; k < np; k++) {
        size_t begin = k * SNAP_PIECE, n = slots - begin < SNAP_PIECE ? slots - begin : SNAP_PIECE;
        sums[k] = tally_snapshot__checksum((const unsigned char *)vals + begin * width, n * width);
    }
    sums[np] = tally_snapshot__checksum(tally_column__bits_base(c, c->valid), words * 8);
    sums[np + 1] = tally_snapshot__checksum(tally_column__bits_base(c, c->seen), words * 8);
    return tally_snapshot__checksum(sums, (np + 2) * 8);
}

static int column_order(const void *a, const void *b)
{
    const tally_column *x = *(const tally_column *const *)a, *y = *(const tally_column *const *)b;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return x->period < y->period ? -1 : x->period > y->period;
}

/* What a snapshot is written from: the columns sorted by (indicator,
 * period), so that a snapshot's bytes do not depend on the order the
 * records came in, and a loader can refuse a column given twice by
 * checking the order; the fingerprints; room for a column's piece sums. */
typedef struct plan {
    const tally_column **cols;
    size_t ncols;
    uint64_t hfp, dfp;
    uint64_t *sums;
    unsigned char *form, *scale; /* per column, in order */
    int32_t *ints;               /* room for a column's whole numbers */
} plan;

static void plan_free(plan *pl)
{
    free(pl->cols);
    free(pl->sums);
    free(pl->form);
    free(pl->scale);
    free(pl->ints);
}

/* The nodes a column holds: [c->lo, c->hi), what a snapshot stores. */
static size_t range_len(const tally_column *c) { return c->hi - c->lo; }

/* The whole number a column of doubles stores for value v at `scale`, when
 * there is one: v * 10^scale rounded is within 32 bits, and divided by
 * 10^scale (as a reader does, correctly rounded) gives v back bit for bit
 * (so not -0, which comes back +0). 1 and *k, or 0. */
static int whole_at(double v, int scale, int32_t *k)
{
    double x = nearbyint(v * tally_column__pow10(scale));
    if (!(x >= (double)INT32_MIN && x <= (double)INT32_MAX))
        return 0;
    int32_t i = (int32_t)x;
    double back = scale ? (double)i / tally_column__pow10(scale) : (double)i;
    if (memcmp(&back, &v, sizeof v) != 0)
        return 0;
    *k = i;
    return 1;
}

/* The form a column is written in: 32-bit whole numbers at the smallest
 * scale at which every value of it is one (see whole_at), else doubles.
 * One pass, begun again at a larger scale when a value needs it (at most
 * TALLY_COLUMN_MAX_SCALE times). */
static unsigned column_form(const tally_column *c, size_t nodes, unsigned char *scale)
{
    *scale = (unsigned char)c->scale;
    if (c->ints)
        return FORM_INT32;
    int sc = 0;
    (void)nodes;
    for (size_t node = c->lo; node < c->hi; node++) {
        int32_t k;
        if (!tally_bit__get(c->valid, node) || whole_at(c->values[node], sc, &k))
            continue;
        /* A larger scale may fit this value; the values before are then
         * looked at again (a larger scale may not fit them). */
        do
            sc++;
        while (sc <= TALLY_COLUMN_MAX_SCALE && !whole_at(c->values[node], sc, &k));
        if (sc > TALLY_COLUMN_MAX_SCALE)
            return FORM_DOUBLE;
        node = c->lo - 1;
    }
    *scale = (unsigned char)sc;
    return FORM_INT32;
}

/* A column's whole numbers over its range, as stored: 0 where no value
 * was filed and in the extra slot. */
static const int32_t *column_ints(const plan *pl, const tally_column *c, int scale)
{
    size_t len = range_len(c);
    if (c->ints) /* its range, stored with an extra slot when odd */
        return tally_column__ints_base(c);
    size_t slots = value_slots(len, FORM_INT32);
    for (size_t k = 0; k < slots; k++) {
        int32_t x = 0;
        if (k < len && tally_column__has(c, c->lo + k))
            whole_at(c->values[c->lo + k], scale, &x); /* holds: column_form saw it */
        pl->ints[k] = x;
    }
    return pl->ints;
}

static int plan_make(plan *pl, const tally_dataset *ds)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    size_t n = tally_dataset__column_count(ds);
    memset(pl, 0, sizeof *pl);
    pl->ncols = n;
    pl->cols = malloc((n ? n : 1) * sizeof *pl->cols);
    size_t nodes = tally_hierarchy_size(h);
    pl->sums = malloc((value_pieces(nodes) + 2) * sizeof *pl->sums);
    pl->form = malloc(n ? n : 1);
    pl->scale = malloc(n ? n : 1);
    pl->ints = malloc(value_slots(nodes, FORM_INT32) * 4 + 4);
    if (!pl->cols || !pl->sums || !pl->form || !pl->scale || !pl->ints ||
        tally_snapshot__hierarchy_fingerprint(h, &pl->hfp) ||
        tally_snapshot__definitions_fingerprint(tally_dataset_definitions(ds), &pl->dfp)) {
        plan_free(pl);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a snapshot");
    }
    for (size_t i = 0; i < n; i++)
        pl->cols[i] = tally_dataset__column(ds, i);
    qsort(pl->cols, n, sizeof *pl->cols, column_order);
    for (size_t i = 0; i < n; i++)
        pl->form[i] = (unsigned char)column_form(pl->cols[i], nodes, &pl->scale[i]);
    return 0;
}

static size_t snapshot_size(const plan *pl)
{
    size_t size = SNAP_HEADER + SNAP_TRAILER;
    for (size_t i = 0; i < pl->ncols; i++)
        size += column_bytes(range_len(pl->cols[i]), pl->form[i]);
    return size;
}

/* Writes the snapshot into `s`; 0, or TALLY_ENOMEM (the trailer's hash
 * state is allocated). */
static int write_snapshot(sink *s, const tally_dataset *ds, plan *pl)
{
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    s->hash = XXH3_createState();
    if (!s->hash || XXH3_64bits_reset(s->hash) == XXH_ERROR) {
        XXH3_freeState(s->hash);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a snapshot");
    }
    unsigned char head[16];
    uint32_t version = TALLY_SNAPSHOT_VERSION, bom = SNAP_BOM;
    memcpy(head, SNAP_MAGIC, 8);
    memcpy(head + 8, &version, 4);
    memcpy(head + 12, &bom, 4);
    put(s, head, 16);
    put64(s, snapshot_size(pl));
    put64(s, nodes);
    put64(s, pl->hfp);
    put64(s, tally_definitions_indicator_count(tally_dataset_definitions(ds)));
    put64(s, pl->dfp);
    put64(s, pl->ncols);
    put64(s, tally_dataset_value_count(ds));
    put64(s, 0);
    for (size_t i = 0; i < pl->ncols; i++) {
        const tally_column *c = pl->cols[i];
        size_t len = range_len(c), words = tally_bit__words(len);
        unsigned form = pl->form[i];
        const void *vals = form == FORM_INT32 ? (const void *)column_ints(pl, c, pl->scale[i])
                                              : (const void *)tally_column__values_base(c);
        put64(s, c->indicator);
        put64(s, (uint64_t)(int64_t)c->period);
        put64(s, len ? tally_snapshot__popcount_words(tally_column__bits_base(c, c->seen), words)
                     : 0);
        put64(s, column_checksum(c, vals, form, len, pl->sums));
        unsigned char fs[8] = { 0 };
        uint32_t f32 = form, s32 = pl->scale[i];
        memcpy(fs, &f32, 4);
        memcpy(fs + 4, &s32, 4);
        put(s, fs, 8);
        put64(s, len ? c->lo : 0);
        put64(s, len ? c->hi : 0);
        put_data(s, vals, value_slots(len, form) * value_width(form));
        put_data(s, tally_column__bits_base(c, c->valid), words * 8);
        put_data(s, tally_column__bits_base(c, c->seen), words * 8);
    }
    uint64_t sum = XXH3_64bits_digest(s->hash);
    XXH3_freeState(s->hash);
    put_data(s, &sum, 8);
    return 0;
}

#define SNAP_WRITE_BUFFER ((size_t)2 << 20)

static int check_saveable(const tally_dataset *ds, const char *what)
{
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "%s: NULL argument", what);
    if (!little_endian())
        return tally_error__set(TALLY_ENOTSUP,
                                "snapshots are little-endian; this machine is big-endian");
    return 0;
}

TALLY_EXTERN(int) tally_snapshot_save_buffer(const tally_dataset *ds, void **out, size_t *size)
{
    if (out)
        *out = NULL;
    if (size)
        *size = 0;
    if (!out || !size)
        return tally_error__set(TALLY_EINVAL, "tally_snapshot_save_buffer: NULL argument");
    int rc = check_saveable(ds, "tally_snapshot_save_buffer");
    if (rc)
        return rc;
    plan pl;
    rc = plan_make(&pl, ds);
    if (rc)
        return rc;
    size_t n = snapshot_size(&pl);
    sink s = { NULL, malloc(n), 0, NULL, 0 };
    if (!s.buf)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory writing a snapshot");
    else
        rc = write_snapshot(&s, ds, &pl);
    plan_free(&pl);
    if (rc) {
        free(s.buf);
        return rc;
    }
    *out = s.buf;
    *size = n;
    return 0;
}

TALLY_EXTERN(int) tally_snapshot_save(const tally_dataset *ds, const char *path)
{
    if (!path)
        return tally_error__set(TALLY_EINVAL, "tally_snapshot_save: NULL argument");
    int rc = check_saveable(ds, "tally_snapshot_save");
    if (rc)
        return rc;
    plan pl;
    rc = plan_make(&pl, ds);
    if (rc)
        return rc;
    tally_output o;
    rc = tally_output__open_stream(&o, path, "the snapshot");
    if (rc) {
        plan_free(&pl);
        return rc;
    }
    sink s = { o.f, NULL, 0, NULL, 0 };
    /* Written 2 MiB at a time at multiples of 2 MiB, the page cache can
     * hold the file in huge pages (where the file system does that), and
     * a load maps them with a few faults and few TLB misses. Only speed
     * depends on it: without the buffer, stdio's own is used. */
    char *vbuf = malloc(SNAP_WRITE_BUFFER);
    if (vbuf && setvbuf(s.f, vbuf, _IOFBF, SNAP_WRITE_BUFFER) != 0) {
        free(vbuf);
        vbuf = NULL;
    }
    rc = write_snapshot(&s, ds, &pl);
    plan_free(&pl);
    if (rc)
        tally_output__discard(&o);
    else
        rc = tally_output__close(&o);
    free(vbuf);
    return rc;
}
