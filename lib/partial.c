/* Mergeable partials: the object, its bytes, merges, and the records
 * finish (partial_households.c holds the households' side).
 *
 * A records partial is the reported cells of its part, sorted by
 * (indicator, period, region), each with the part it came from. A merge
 * is a sorted merge of two such runs; two cells with the same key are the
 * same cell filed twice, and the one of the lower part stays (one process
 * reading the parts in order keeps the first and rejects the later). The
 * finish puts the cells into a dataset and rolls it up as one process
 * would: coverage, stocks and formulas see every part's cells at once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "partial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "period.h"
#include "rejects.h"
#include "tally/carry.h"
#include "util.h"

/* ---- the object ---- */

static uint64_t hierarchy_print(const tally_hierarchy *h)
{
    uint64_t x = tally_util__hash_u64(tally_hierarchy_size(h));
    for (size_t i = 0; i < tally_hierarchy_size(h); i++) {
        const char *code = tally_hierarchy_code(h, i);
        x = tally_util__hash_u64(x ^ tally_util__hash_bytes(code, strlen(code)));
    }
    return x;
}

static uint64_t definitions_print(const tally_definitions *d)
{
    if (!d)
        return 0;
    uint64_t x = tally_util__hash_u64(tally_definitions_indicator_count(d) + 1);
    for (size_t i = 0; i < tally_definitions_indicator_count(d); i++) {
        const char *id = tally_definitions_id(d, i);
        x = tally_util__hash_u64(x ^ tally_util__hash_bytes(id, strlen(id)));
    }
    return x;
}

int tally_partial__new(tally_partial **out, tally_partial_kind kind, const tally_hierarchy *h,
                       const tally_definitions *d)
{
    tally_partial *p = calloc(1, sizeof *p);
    if (!p)
        return tally_error__set(TALLY_ENOMEM, "out of memory making a partial");
    p->kind = kind;
    p->h = h;
    p->d = d;
    p->h_print = hierarchy_print(h);
    p->d_print = definitions_print(d);
    *out = p;
    return 0;
}

TALLY_EXTERN(void) tally_partial_free(tally_partial *p)
{
    if (!p)
        return;
    free(p->cells);
    free(p->dups);
    free(p->hh);
    free(p->ids);
    free(p);
}

TALLY_EXTERN(tally_partial_kind) tally_partial_kind_of(const tally_partial *p)
{
    return p ? p->kind : (tally_partial_kind)0;
}

TALLY_EXTERN(size_t) tally_partial_count(const tally_partial *p)
{
    return !p ? 0 : p->kind == TALLY_PARTIAL_RECORDS ? p->ncells : p->nhh;
}

TALLY_EXTERN(size_t) tally_partial_duplicate_count(const tally_partial *p)
{
    return p ? p->ndups : 0;
}

/* ---- records: made from a dataset ---- */

static int column_order(const void *a, const void *b)
{
    const tally_column *x = *(const tally_column *const *)a, *y = *(const tally_column *const *)b;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return (x->period > y->period) - (x->period < y->period);
}

TALLY_EXTERN(int) tally_partial_from_dataset(tally_partial **out, const tally_dataset *ds,
                                             uint32_t source)
{
    if (out)
        *out = NULL;
    if (!out || !ds)
        return tally_error__set(TALLY_EINVAL, "tally_partial_from_dataset: NULL argument");
    if (tally_dataset_carried_count(ds))
        return tally_error__set(TALLY_ENOTSUP,
                                "the dataset holds %zu values carried from old codes through a "
                                "crosswalk; a partial does not hold carried values yet: roll "
                                "such records up in one process",
                                tally_dataset_carried_count(ds));
    size_t ncol = tally_dataset__column_count(ds);
    const tally_column **cols = malloc((ncol ? ncol : 1) * sizeof *cols);
    tally_partial *p = NULL;
    if (!cols || tally_partial__new(&p, TALLY_PARTIAL_RECORDS, ds->h, ds->d)) {
        free(cols);
        return tally_error__set(TALLY_ENOMEM, "out of memory making a partial");
    }
    for (size_t i = 0; i < ncol; i++)
        cols[i] = tally_dataset__column(ds, i);
    qsort(cols, ncol, sizeof *cols, column_order);
    size_t n = tally_dataset_value_count(ds);
    p->cells = malloc((n ? n : 1) * sizeof *p->cells);
    if (!p->cells) {
        free(cols);
        tally_partial_free(p);
        return tally_error__set(TALLY_ENOMEM, "out of memory making a partial of %zu cells", n);
    }
    size_t k = 0;
    for (size_t i = 0; i < ncol; i++) {
        const tally_column *c = cols[i];
        /* The column's words only: its arrays hold the range [lo, hi). */
        size_t w0 = c->lo >> 6, w1 = c->hi > c->lo ? ((c->hi + 63) >> 6) : w0;
        for (size_t w = w0; w < w1; w++) {
            uint64_t bits = c->seen[w];
            while (bits && k < n) {
                size_t node = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                tally_partial__cell *x = &p->cells[k++];
                x->node = (uint32_t)node;
                x->indicator = (uint32_t)c->indicator;
                x->period = c->period;
                x->source = source;
                x->value = tally_bit__get(c->valid, node) ? tally_column__get(c, node) : NAN;
            }
        }
    }
    free(cols);
    p->ncells = k;
    *out = p;
    return 0;
}

/* ---- merges ---- */

static int cell_cmp(const tally_partial__cell *a, const tally_partial__cell *b)
{
    if (a->indicator != b->indicator)
        return a->indicator < b->indicator ? -1 : 1;
    if (a->period != b->period)
        return a->period < b->period ? -1 : 1;
    return (a->node > b->node) - (a->node < b->node);
}

static int dup_cmp(const void *x, const void *y)
{
    const tally_partial__dup *a = x, *b = y;
    int c = cell_cmp(&a->cell, &b->cell);
    if (c)
        return c;
    return (a->cell.source > b->cell.source) - (a->cell.source < b->cell.source);
}

static int merge_records(tally_partial *into, const tally_partial *other)
{
    size_t n = into->ncells + other->ncells, nd = into->ndups + other->ndups;
    tally_partial__cell *cells = malloc((n ? n : 1) * sizeof *cells);
    tally_partial__dup *dups = malloc((n + nd ? n + nd : 1) * sizeof *dups);
    if (!cells || !dups) {
        free(cells);
        free(dups);
        return tally_error__set(TALLY_ENOMEM, "out of memory merging partials of %zu cells", n);
    }
    if (into->ndups)
        memcpy(dups, into->dups, into->ndups * sizeof *dups);
    if (other->ndups)
        memcpy(dups + into->ndups, other->dups, other->ndups * sizeof *dups);
    size_t i = 0, j = 0, k = 0, nd_new = nd;
    const tally_partial__cell *a = into->cells, *b = other->cells;
    while (i < into->ncells || j < other->ncells) {
        int c = i == into->ncells ? 1 : j == other->ncells ? -1 : cell_cmp(&a[i], &b[j]);
        if (c < 0) {
            cells[k++] = a[i++];
        } else if (c > 0) {
            cells[k++] = b[j++];
        } else {
            /* The same cell twice: the earlier part's stays, as in one
             * process reading the parts in order. */
            int keep_a = a[i].source <= b[j].source;
            const tally_partial__cell *kept = keep_a ? &a[i] : &b[j];
            const tally_partial__cell *dropped = keep_a ? &b[j] : &a[i];
            dups[nd_new].cell = *dropped;
            dups[nd_new].kept_source = kept->source;
            nd_new++;
            cells[k++] = *kept;
            i++;
            j++;
        }
    }
    qsort(dups, nd_new, sizeof *dups, dup_cmp);
    free(into->cells);
    free(into->dups);
    into->cells = cells;
    into->ncells = k;
    into->dups = dups;
    into->ndups = nd_new;
    return 0;
}

TALLY_EXTERN(int) tally_partial_merge(tally_partial *into, const tally_partial *other)
{
    if (!into || !other)
        return tally_error__set(TALLY_EINVAL, "tally_partial_merge: NULL argument");
    if (into->kind != other->kind)
        return tally_error__set(TALLY_EINVAL,
                                "a records partial and a households partial cannot be merged");
    if (into->h_print != other->h_print || into->d_print != other->d_print)
        return tally_error__set(TALLY_EINVAL,
                                "the partials were made over different %s; expected partials "
                                "of one hierarchy and one set of definitions",
                                into->h_print != other->h_print ? "hierarchies" : "definitions");
    return into->kind == TALLY_PARTIAL_RECORDS ? merge_records(into, other)
                                               : tally_partial__merge_households(into, other);
}

/* ---- bytes ---- */

#define MAGIC "TALLYPT1"

typedef struct header {
    char magic[8];
    uint32_t kind, order; /* order: 0x01020304 as written, for the byte order */
    uint64_t h_print, d_print;
    uint64_t ncells, ndups, nhh, ids_len;
} header;

TALLY_EXTERN(int) tally_partial_save_buffer(const tally_partial *p, void **out, size_t *size)
{
    if (out)
        *out = NULL;
    if (size)
        *size = 0;
    if (!p || !out || !size)
        return tally_error__set(TALLY_EINVAL, "tally_partial_save_buffer: NULL argument");
    header hd;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.magic, MAGIC, 8);
    hd.kind = (uint32_t)p->kind;
    hd.order = 0x01020304u;
    hd.h_print = p->h_print;
    hd.d_print = p->d_print;
    hd.ncells = p->ncells;
    hd.ndups = p->ndups;
    hd.nhh = p->nhh;
    hd.ids_len = p->ids_len;
    size_t n = sizeof hd + p->ncells * sizeof *p->cells + p->ndups * sizeof *p->dups +
               p->nhh * sizeof *p->hh + p->ids_len;
    char *buf = malloc(n), *w = buf;
    if (!buf)
        return tally_error__set(TALLY_ENOMEM, "out of memory saving a partial of %zu bytes", n);
    memcpy(w, &hd, sizeof hd);
    w += sizeof hd;
    const void *parts[4] = { p->cells, p->dups, p->hh, p->ids };
    size_t lens[4] = { p->ncells * sizeof *p->cells, p->ndups * sizeof *p->dups,
                       p->nhh * sizeof *p->hh, p->ids_len };
    for (int k = 0; k < 4; k++)
        if (lens[k]) {
            memcpy(w, parts[k], lens[k]);
            w += lens[k];
        }
    *out = buf;
    *size = n;
    return 0;
}

static int bad_bytes(const char *why)
{
    return tally_error__set(TALLY_EINVAL, "not a partial tally_partial_save_buffer wrote: %s", why);
}

/* Takes `bytes` from *r into a new array (*dst); 0 or an error. */
static int take(void **dst, const char **r, const char *end, uint64_t count, size_t each)
{
    *dst = NULL;
    if (count > (uint64_t)(end - *r) / (each ? each : 1))
        return bad_bytes("the bytes end before its arrays do");
    size_t bytes = (size_t)count * each;
    *dst = malloc(bytes ? bytes : 1);
    if (!*dst)
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a partial");
    if (bytes)
        memcpy(*dst, *r, bytes);
    *r += bytes;
    return 0;
}

TALLY_EXTERN(int) tally_partial_load_buffer(tally_partial **out, const void *data, size_t size,
                                            const tally_hierarchy *h,
                                            const tally_definitions *d)
{
    if (out)
        *out = NULL;
    if (!out || !data || !h)
        return tally_error__set(TALLY_EINVAL, "tally_partial_load_buffer: NULL argument");
    header hd;
    if (size < sizeof hd)
        return bad_bytes("too short for its header");
    memcpy(&hd, data, sizeof hd);
    if (memcmp(hd.magic, MAGIC, 8))
        return bad_bytes("it does not start with " MAGIC);
    if (hd.order != 0x01020304u)
        return bad_bytes("written on a machine of another byte order");
    if (hd.kind != TALLY_PARTIAL_RECORDS && hd.kind != TALLY_PARTIAL_HOUSEHOLDS)
        return bad_bytes("unknown kind");
    if (hd.kind == TALLY_PARTIAL_RECORDS && !d)
        return tally_error__set(TALLY_EINVAL, "a records partial is loaded with its definitions");
    tally_partial *p;
    if (tally_partial__new(&p, (tally_partial_kind)hd.kind, h,
                           hd.kind == TALLY_PARTIAL_RECORDS ? d : NULL))
        return TALLY_ENOMEM;
    if (p->h_print != hd.h_print || p->d_print != hd.d_print) {
        const char *what = p->h_print != hd.h_print ? "regions" : "definitions";
        tally_partial_free(p);
        return tally_error__set(TALLY_EINVAL,
                                "the partial was made over other %s (codes or ids differ); "
                                "expected the same files the workers read",
                                what);
    }
    const char *r = (const char *)data + sizeof hd, *end = (const char *)data + size;
    int rc = take((void **)&p->cells, &r, end, hd.ncells, sizeof *p->cells);
    if (!rc)
        rc = take((void **)&p->dups, &r, end, hd.ndups, sizeof *p->dups);
    if (!rc)
        rc = take((void **)&p->hh, &r, end, hd.nhh, sizeof *p->hh);
    if (!rc)
        rc = take((void **)&p->ids, &r, end, hd.ids_len, 1);
    if (!rc && r != end)
        rc = bad_bytes("bytes left after its arrays");
    p->ncells = (size_t)hd.ncells;
    p->ndups = (size_t)hd.ndups;
    p->nhh = p->hh_cap = (size_t)hd.nhh;
    p->ids_len = p->ids_cap = (size_t)hd.ids_len;
    /* Every index is checked once here, so that a merge or finish can
     * trust them. */
    size_t nodes = tally_hierarchy_size(h), nind = d ? tally_definitions_indicator_count(d) : 0;
    int32_t checked = -1; /* the last period key found good (no key is -1) */
    for (size_t i = 0; !rc && i < p->ncells + p->ndups; i++) {
        const tally_partial__cell *c = i < p->ncells ? &p->cells[i] : &p->dups[i - p->ncells].cell;
        char per[TALLY_PERIOD_TEXT_MAX];
        /* Sorted cells change period rarely: a key is checked once a run. */
        if (c->period != checked) {
            int32_t back;
            size_t len = tally_period__format(c->period, per);
            if (!len || tally_period__parse(per, len, &back) || back != c->period) {
                rc = bad_bytes("a cell of no period");
                break;
            }
            checked = c->period;
        }
        if (c->node >= nodes || c->indicator >= nind ||
            (i > 0 && i < p->ncells && cell_cmp(&p->cells[i - 1], c) >= 0))
            rc = bad_bytes("a cell out of range or out of order");
    }
    for (size_t i = 0; !rc && i < p->nhh; i++)
        if (p->hh[i].node >= nodes || p->hh[i].id > p->ids_len ||
            p->hh[i].id_len >= p->ids_len - p->hh[i].id || p->ids[p->hh[i].id + p->hh[i].id_len])
            rc = bad_bytes("a household out of range");
    if (rc) {
        tally_partial_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- the records finish ---- */

/* The text of a period key, from a small table (a part has few periods). */
typedef struct period_text {
    int32_t key;
    char text[TALLY_PERIOD_TEXT_MAX];
} period_text;

static const char *period_of(period_text **tab, size_t *n, size_t *cap, int32_t key)
{
    for (size_t i = *n; i-- > 0;)
        if ((*tab)[i].key == key)
            return (*tab)[i].text;
    if (tally_util__grow((void **)tab, cap, *n + 1, sizeof **tab))
        return NULL;
    (*tab)[*n].key = key;
    tally_period__format(key, (*tab)[*n].text);
    return (*tab)[(*n)++].text;
}

/* Lists the merges' duplicates in `rejects` as one process words them. */
static int list_duplicates(const tally_partial *p, tally_rejects *rejects)
{
    for (size_t i = 0; rejects && i < p->ndups; i++) {
        const tally_partial__dup *x = &p->dups[i];
        char per[TALLY_PERIOD_TEXT_MAX], path[32], row[512];
        tally_period__format(x->cell.period, per);
        snprintf(path, sizeof path, "<part %lu>", (unsigned long)x->cell.source);
        const char *code = tally_hierarchy_code(p->h, x->cell.node);
        const char *id = tally_definitions_id(p->d, x->cell.indicator);
        char number[32] = "";
        if (!isnan(x->cell.value))
            snprintf(number, sizeof number, "%.17g", x->cell.value);
        snprintf(row, sizeof row, "%s,%s,%s,%s", code, id, per, number);
        tally_error__set(TALLY_EEXIST,
                         "duplicate record for region %s, indicator %s, period %s; each is "
                         "given once (the value of part %lu is kept)",
                         code, id, per, (unsigned long)x->kept_source);
        if (tally_rejects__add_item(rejects, path, 0, row))
            return tally_error__set(TALLY_ENOMEM, "out of memory listing duplicates");
    }
    return 0;
}

TALLY_EXTERN(int) tally_partial_dataset(tally_dataset **out, const tally_partial *p,
                                        tally_rejects *duplicates)
{
    if (out)
        *out = NULL;
    if (!out || !p)
        return tally_error__set(TALLY_EINVAL, "tally_partial_dataset: NULL argument");
    if (p->kind != TALLY_PARTIAL_RECORDS)
        return tally_error__set(TALLY_EINVAL, "tally_partial_dataset needs a records partial; "
                                              "households are finished by tally_partial_poverty");
    size_t n = p->ncells;
    const char **regions = malloc((n ? n : 1) * sizeof *regions);
    const char **inds = malloc((n ? n : 1) * sizeof *inds);
    const char **pers = malloc((n ? n : 1) * sizeof *pers);
    double *values = malloc((n ? n : 1) * sizeof *values);
    period_text *tab = NULL;
    size_t ntab = 0, tab_cap = 0;
    tally_dataset *ds = NULL;
    int rc = !regions || !inds || !pers || !values
                 ? tally_error__set(TALLY_ENOMEM, "out of memory finishing a partial")
                 : 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const tally_partial__cell *c = &p->cells[i];
        regions[i] = tally_hierarchy_code(p->h, c->node);
        inds[i] = tally_definitions_id(p->d, c->indicator);
        pers[i] = period_of(&tab, &ntab, &tab_cap, c->period);
        values[i] = c->value;
        if (!pers[i])
            rc = tally_error__set(TALLY_ENOMEM, "out of memory finishing a partial");
    }
    if (!rc)
        rc = tally_dataset_new(&ds, p->h, p->d);
    /* The cells are unique and were checked when they were first read:
     * added as one process added them, they make the same columns. */
    if (!rc)
        rc = tally_dataset_add_values(ds, n, regions, inds, pers, values, TALLY_ON_ERROR_STOP,
                                      NULL, NULL);
    free(regions);
    free(inds);
    free(pers);
    free(values);
    free(tab);
    if (!rc)
        rc = list_duplicates(p, duplicates);
    if (rc)
        tally_dataset_free(ds);
    else
        *out = ds;
    return rc;
}

TALLY_EXTERN(int) tally_partial_rollup(tally_result **out, const tally_partial *p,
                                       const tally_rollup_options *opts,
                                       tally_rejects *duplicates)
{
    if (out)
        *out = NULL;
    if (!out || !p)
        return tally_error__set(TALLY_EINVAL, "tally_partial_rollup: NULL argument");
    if (p->kind != TALLY_PARTIAL_RECORDS)
        return tally_error__set(TALLY_EINVAL, "tally_partial_rollup needs a records partial; "
                                              "households are finished by tally_partial_poverty");
    tally_dataset *ds;
    int rc = tally_partial_dataset(&ds, p, NULL);
    if (!rc)
        rc = tally_rollup_take(out, ds, opts);
    tally_dataset_free(ds);
    if (!rc && list_duplicates(p, duplicates)) {
        tally_result_free(*out);
        *out = NULL;
        rc = TALLY_ENOMEM;
    }
    return rc;
}
