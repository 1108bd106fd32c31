/* Reported values: dense columns per indicator and period, filed by
 * region, and values added one by one or from arrays. The readers that
 * fill them are records.c (records CSV) and records_parallel.c (its
 * parallel path); snapshot.c loads them whole.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dataset.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "carry.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "number.h"
#include "period.h"
#include "rejects.h"
#include "util.h"

static int in_map(const tally_dataset *ds, const void *p);
static void free_unmapped(const tally_dataset *ds, void *p);
static void unmap_all(tally_dataset *ds);

/* ---- dataset ---- */

TALLY_EXTERN(int) tally_dataset_new(tally_dataset **out, const tally_hierarchy *h,
                                    const tally_definitions *d)
{
    *out = NULL;
    if (!h || !d)
        return tally_error__set(TALLY_EINVAL, "a dataset needs a hierarchy and definitions");
    tally_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return tally_error__set(TALLY_ENOMEM, "out of memory creating a dataset");
    ds->h = h;
    ds->d = d;
    ds->nodes = tally_hierarchy_size(h);
    *out = ds;
    return 0;
}

TALLY_EXTERN(void) tally_dataset_free(tally_dataset *ds)
{
    if (!ds)
        return;
    tally_dataset__clear(ds);
    tally_carry__free(ds->carry);
    free(ds);
}

TALLY_EXTERN(const tally_hierarchy *) tally_dataset_hierarchy(const tally_dataset *ds)
{
    return ds ? ds->h : NULL;
}

TALLY_EXTERN(const tally_definitions *) tally_dataset_definitions(const tally_dataset *ds)
{
    return ds ? ds->d : NULL;
}

TALLY_EXTERN(size_t) tally_dataset_value_count(const tally_dataset *ds)
{
    return ds ? ds->cells : 0;
}

size_t tally_dataset__column_count(const tally_dataset *ds) { return ds->ncolumns; }

const tally_column *tally_dataset__column(const tally_dataset *ds, size_t i)
{
    return i < ds->ncolumns ? &ds->columns[i] : NULL;
}

static size_t slot_hash(size_t indicator, int32_t period)
{
    return (size_t)tally_util__hash_u64(((uint64_t)indicator << 32) ^ (uint32_t)period);
}

long tally_dataset__find_slot(const tally_dataset *ds, size_t indicator, int32_t period)
{
    if (!ds->slots_cap)
        return -1;
    size_t mask = ds->slots_cap - 1;
    for (size_t s = slot_hash(indicator, period) & mask;; s = (s + 1) & mask) {
        size_t v = ds->slots[s];
        if (!v)
            return -1;
        const tally_column *c = &ds->columns[v - 1];
        if (c->indicator == indicator && c->period == period)
            return (long)(v - 1);
    }
}

const tally_column *tally_dataset__find_column(const tally_dataset *ds, size_t indicator,
                                               int32_t period)
{
    long i = tally_dataset__find_slot(ds, indicator, period);
    return i < 0 ? NULL : &ds->columns[i];
}

static int rehash(tally_dataset *ds, size_t cap)
{
    size_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return TALLY_ENOMEM;
    for (size_t i = 0; i < ds->ncolumns; i++) {
        size_t s = slot_hash(ds->columns[i].indicator, ds->columns[i].period) & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = i + 1;
    }
    free(ds->slots);
    ds->slots = slots;
    ds->slots_cap = cap;
    return 0;
}

/* Fills a new column's values with NaN. A column of the national
 * hierarchy is 5 MB: its pages are faulted in by one call first, which
 * costs about half of faulting them one by one as the stores reach them. */
void tally_column__fill_missing(double *values, size_t n)
{
    tally_util__prefault(values, n * sizeof *values);
    for (size_t k = 0; k < n; k++)
        values[k] = NAN;
}

/* New arrays for a column of `nodes` nodes, bits clear, values NaN when
 * `fill` (else left for tally_column__fill_missing). 0 or TALLY_ENOMEM
 * (nothing kept); no error is recorded. */
int tally_column__arrays(tally_column *c, size_t nodes, size_t indicator, int32_t period,
                         int fill)
{
    size_t words = tally_bit__words(nodes);
    c->indicator = indicator;
    c->period = period;
    c->lo = 0;
    c->hi = nodes;
    c->ints = NULL;
    c->scale = 0;
    c->values = malloc((nodes ? nodes : 1) * sizeof(double));
    c->valid = calloc(words ? words : 1, sizeof(uint64_t));
    c->seen = calloc(words ? words : 1, sizeof(uint64_t));
    if (!c->values || !c->valid || !c->seen) {
        free(c->values);
        free(c->valid);
        free(c->seen);
        return TALLY_ENOMEM;
    }
    if (fill)
        tally_column__fill_missing(c->values, nodes);
    return 0;
}

int tally_column__arrays_at(tally_column *c, size_t nodes, size_t node, size_t indicator,
                            int32_t period)
{
    memset(c, 0, sizeof *c);
    c->indicator = indicator;
    c->period = period;
    size_t lo = node & ~(size_t)63, hi = lo + 64 < nodes ? lo + 64 : nodes;
    double *v = malloc((hi - lo) * sizeof *v);
    uint64_t *valid = calloc(1, sizeof *valid), *seen = calloc(1, sizeof *seen);
    if (!v || !valid || !seen) {
        free(v);
        free(valid);
        free(seen);
        return TALLY_ENOMEM;
    }
    for (size_t k = 0; k < hi - lo; k++)
        v[k] = NAN;
    c->lo = lo;
    c->hi = hi;
    c->values = v - lo;
    c->valid = valid - (lo >> 6);
    c->seen = seen - (lo >> 6);
    return 0;
}

void tally_column__free(tally_column *c)
{
    free(tally_column__values_base(c));
    free(tally_column__ints_base(c));
    free(tally_column__bits_base(c, c->valid));
    free(tally_column__bits_base(c, c->seen));
}

uint64_t tally_column__bytes(size_t lo, size_t hi)
{
    if (hi <= lo)
        return 0;
    return (uint64_t)(hi - lo) * sizeof(double) +
           2 * (uint64_t)(((hi + 63) >> 6) - (lo >> 6)) * sizeof(uint64_t);
}

int tally_dataset__cover(tally_dataset *ds, tally_column *c, size_t node)
{
    if (tally_column__holds(c, node))
        return 0;
    size_t n = ds->nodes, w = c->hi - c->lo, lo = c->lo, hi = c->hi;
    if (!w) {
        lo = node;
        hi = node + 1;
    } else if (node >= hi) {
        hi = n - hi > w ? hi + w : n;
        if (hi <= node)
            hi = node + 1;
    } else {
        lo = lo > w ? lo - w : 0;
        if (lo > node)
            lo = node;
    }
    return tally_dataset__cover_range(ds, c, lo, hi);
}

int tally_dataset__cover_range(tally_dataset *ds, tally_column *c, size_t lo, size_t hi)
{
    size_t n = ds->nodes, w = c->hi - c->lo;
    if (w && c->lo <= lo && hi <= c->hi)
        return 0;
    if (c->ints && tally_dataset__widen_column(ds, c))
        return TALLY_ENOMEM;
    if (w) {
        lo = lo < c->lo ? lo : c->lo;
        hi = hi > c->hi ? hi : c->hi;
    }
    lo &= ~(size_t)63;
    hi = n - hi > 63 ? (hi + 63) & ~(size_t)63 : n;
    uint64_t before = tally_column__bytes(c->lo, c->hi), after = tally_column__bytes(lo, hi);
    if (!tally_dataset__room_for(ds, after - before))
        return TALLY_ENOMEM;
    size_t wlo = lo >> 6, words = ((hi + 63) >> 6) - wlo;
    double *v = malloc((hi - lo) * sizeof *v);
    uint64_t *valid = calloc(words, sizeof *valid), *seen = calloc(words, sizeof *seen);
    if (!v || !valid || !seen) {
        free(v);
        free(valid);
        free(seen);
        return TALLY_ENOMEM;
    }
    for (size_t k = lo; k < (w ? c->lo : hi); k++)
        v[k - lo] = NAN;
    if (w) {
        memcpy(v + (c->lo - lo), tally_column__values_base(c), w * sizeof *v);
        for (size_t k = c->hi; k < hi; k++)
            v[k - lo] = NAN;
        size_t cw = tally_column__word_hi(c) - tally_column__word_lo(c);
        memcpy(valid + (tally_column__word_lo(c) - wlo), tally_column__bits_base(c, c->valid),
               cw * sizeof *valid);
        memcpy(seen + (tally_column__word_lo(c) - wlo), tally_column__bits_base(c, c->seen),
               cw * sizeof *seen);
        free_unmapped(ds, tally_column__values_base(c));
        free_unmapped(ds, tally_column__bits_base(c, c->valid));
        free_unmapped(ds, tally_column__bits_base(c, c->seen));
    }
    c->lo = lo;
    c->hi = hi;
    c->values = v - lo;
    c->valid = valid - wlo;
    c->seen = seen - wlo;
    ds->held += after - before;
    return 0;
}

static void free_unmapped(const tally_dataset *ds, void *p)
{
    if (!ds->nmaps || !in_map(ds, p))
        free(p);
}

/* A column of whole numbers (from a snapshot) given doubles, before a cell
 * is written into it. 0 or TALLY_ENOMEM (the column as it was). */
static int widen_column(tally_dataset *ds, tally_column *c)
{
    if (!c->ints)
        return 0;
    size_t n = c->hi - c->lo;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return TALLY_ENOMEM;
    for (size_t node = c->lo; node < c->hi; node++)
        v[node - c->lo] = tally_bit__get(c->valid, node) ? tally_column__get(c, node) : NAN;
    free_unmapped(ds, tally_column__ints_base(c));
    c->values = v - c->lo;
    c->ints = NULL;
    c->scale = 0;
    return 0;
}

/* Appends a column (its arrays now the dataset's) and files it in the
 * table. 0, or TALLY_ENOMEM with the dataset as it was (the caller keeps
 * the arrays). */
int tally_dataset__install_column(tally_dataset *ds, const tally_column *c)
{
    if ((ds->ncolumns + 1) * 2 > ds->slots_cap &&
        rehash(ds, ds->slots_cap ? ds->slots_cap * 2 : 64))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&ds->columns, &ds->columns_cap, ds->ncolumns + 1,
                         sizeof *ds->columns))
        return TALLY_ENOMEM;
    size_t mask = ds->slots_cap - 1, s = slot_hash(c->indicator, c->period) & mask;
    while (ds->slots[s])
        s = (s + 1) & mask;
    ds->columns[ds->ncolumns++] = *c;
    ds->slots[s] = ds->ncolumns;
    ds->held += tally_column__bytes(c->lo, c->hi);
    return 0;
}

/* ---- the memory budget ---- */

size_t tally_dataset__default_budget(void)
{
    uint64_t budget = UINT64_MAX;
    long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
    if (pages > 0 && ps > 0)
        budget = (uint64_t)pages * (uint64_t)ps / 4;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur / 2 < budget)
        budget = (uint64_t)rl.rlim_cur / 2;
    if (budget < ((uint64_t)64 << 20))
        budget = (uint64_t)64 << 20;
    return budget > SIZE_MAX ? SIZE_MAX : (size_t)budget;
}


static uint64_t budget_of(const tally_dataset *ds)
{
    return ds->max_bytes ? ds->max_bytes : tally_dataset__default_budget();
}

int tally_dataset__room_for(tally_dataset *ds, uint64_t more)
{
    ds->over_budget = ds->held + more > budget_of(ds);
    ds->asked = more;
    return !ds->over_budget;
}

int tally_dataset__room(tally_dataset *ds)
{
    return tally_dataset__room_for(ds, tally_column__bytes(0, ds->nodes ? ds->nodes : 1));
}

int tally_dataset__column_error(const tally_dataset *ds, const char *path, unsigned long line,
                                unsigned long column)
{
    if (!ds->over_budget)
        return tally_error__set_at(TALLY_ENOMEM, path, line, column, NULL, 0,
                                   "out of memory storing a value");
    /* The periods the columns are at, so that the message names what is
     * too large. */
    size_t periods = 0;
    for (size_t i = 0; i < ds->ncolumns; i++) {
        size_t j = 0;
        while (j < i && ds->columns[j].period != ds->columns[i].period)
            j++;
        periods += j == i;
        if (i > 4096) { /* enough to say "many": do not spend quadratic time */
            periods = 0;
            break;
        }
    }
    char held[32], more[32], budget[32], per[64] = "";
    tally_util__format_bytes(held, sizeof held, ds->held);
    tally_util__format_bytes(more, sizeof more, ds->asked);
    tally_util__format_bytes(budget, sizeof budget, budget_of(ds));
    if (periods)
        snprintf(per, sizeof per, tally_error__tr(" at %zu periods"), periods);
    return tally_error__set_at(
        TALLY_ELIMIT, path, line, column, NULL, 0,
        "too much memory: the dataset's %zu columns (indicator x period)%s hold %s and need %s "
        "more (8 bytes and 2 bits for each region of the range of regions a column holds, of "
        "%zu), past the dataset's memory budget of %s; report fewer periods or raise "
        "max_dataset_bytes (tally --max-memory)",
        ds->ncolumns, per, held, more, ds->nodes, budget);
}

/* The column for (indicator, period), created on first use. */
tally_column *tally_dataset__get_column(tally_dataset *ds, size_t indicator, int32_t period)
{
    long i = tally_dataset__find_slot(ds, indicator, period);
    if (i >= 0)
        return &ds->columns[i];
    /* Empty: its first cell gives it its range (tally_dataset__cover). */
    tally_column c;
    memset(&c, 0, sizeof c);
    c.indicator = indicator;
    c.period = period;
    if (tally_dataset__install_column(ds, &c))
        return NULL;
    return &ds->columns[ds->ncolumns - 1];
}

/* Stores one cell. 0, TALLY_EEXIST (already given) or TALLY_ENOMEM; no
 * error is recorded (callers say where). */
static int store_in(tally_dataset *ds, tally_column *c, size_t node, double value, int present)
{
    if (tally_dataset__cover(ds, c, node)) {
        tally_dataset__drop_empty(ds);
        return TALLY_ENOMEM;
    }
    if (tally_bit__get(c->seen, node))
        return TALLY_EEXIST;
    tally_bit__set(c->seen, node);
    if (present) {
        tally_bit__set(c->valid, node);
        c->values[node] = value;
    }
    ds->cells++;
    return 0;
}

static int store(tally_dataset *ds, size_t node, size_t indicator, int32_t period, double value,
                 int present)
{
    ds->over_budget = 0;
    tally_column *c = tally_dataset__get_column(ds, indicator, period);
    return c && !widen_column(ds, c) ? store_in(ds, c, node, value, present) : TALLY_ENOMEM;
}

TALLY_EXTERN(int) tally_dataset_add(tally_dataset *ds, const char *region_code,
                                    const char *indicator, const char *period, double value)
{
    if (!ds || !region_code || !indicator || !period)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_add: NULL argument");
    size_t node, ind;
    int rc = tally_hierarchy_find(ds->h, region_code, strlen(region_code), &node);
    if (rc)
        return rc;
    rc = tally_definitions_find(ds->d, indicator, strlen(indicator), &ind);
    if (rc)
        return rc;
    int32_t key;
    if (tally_period__parse(period, strlen(period), &key))
        return tally_error__set(TALLY_EPARSE,
                                "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY", period);
    if (isinf(value))
        return tally_error__set(TALLY_ERANGE, "value for %s %s %s is infinite; expected a finite number",
                                region_code, indicator, period);
    if (tally_definitions__whole(ds->d, ind) && !isnan(value) && value != floor(value))
        return tally_error__set(TALLY_EINVAL,
                                "value for %s %s %s: %.17g is not a whole number; %s counts "
                                "whole %s; expected a whole number",
                                region_code, indicator, period, value,
                                tally_definitions_name(ds->d, ind),
                                *tally_definitions_unit(ds->d, ind)
                                    ? tally_definitions_unit(ds->d, ind)
                                    : "units");
    rc = store(ds, node, ind, key, value, !isnan(value));
    if (rc == TALLY_EEXIST)
        return tally_error__set(TALLY_EEXIST,
                                "duplicate value for region %s, indicator %s, period %s; each is given once",
                                region_code, indicator, period);
    if (rc)
        return tally_dataset__column_error(ds, NULL, 0, 0);
    return 0;
}

/* ---- values added from arrays ---- */

/* The path rejected elements are listed under. */
#define VALUES_PATH "<values>"

/* What the element before looked up, for the next one: arrays built from a
 * table repeat the period and indicator, and often the region, from
 * element to element. A string is compared whole before its answer is
 * used, so a hit gives what the lookup would. */
typedef struct values_cache {
    const char *region, *indicator, *period; /* NULL: none */
    size_t node, ind;
    int32_t key;
    size_t column; /* the column of (ind, key) + 1; 0: none */
} values_cache;

static const char *or_null(const char *s) { return s ? s : "NULL"; }

/* Records element i's error: the element, then the reason. */
static int element_error(int code, size_t i, const char *region, const char *indicator,
                         const char *period, const char *text, const char *fmt, ...)
    TALLY_PRINTF(7, 8);

static int element_error(int code, size_t i, const char *region, const char *indicator,
                         const char *period, const char *text, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    return tally_error__set_at(code, NULL, 0, 0, text, text ? strlen(text) : 0,
                               "element %zu (region %s, indicator %s, period %s): %s", i,
                               or_null(region), or_null(indicator), or_null(period), reason);
}

static int same_text(const char *cached, const char *s)
{
    return cached && (cached == s || strcmp(cached, s) == 0);
}

static int element_region(const tally_dataset *ds, values_cache *vc, const char *s, size_t *node)
{
    if (same_text(vc->region, s)) {
        *node = vc->node;
        return 0;
    }
    size_t len = strlen(s);
    int found = 0;
    /* Elements in pre-order meet the next region a node or two on. */
    for (size_t k = vc->node + 1; vc->region && k < vc->node + 3 && k < ds->nodes && !found; k++)
        if (tally_hierarchy__code_is(ds->h, k, s, len)) {
            *node = k;
            found = 1;
        }
    if (!found && tally_hierarchy_find(ds->h, s, len, node))
        return TALLY_ENOTFOUND;
    vc->region = s;
    vc->node = *node;
    return 0;
}

/* Adds element i; 0, or its error recorded. */
static int add_element(tally_dataset *ds, values_cache *vc, size_t i, const char *region,
                       const char *indicator, const char *period, double value)
{
    if (!region || !indicator || !period)
        return element_error(TALLY_EINVAL, i, region, indicator, period, NULL,
                             "the %s is NULL; expected a string",
                             !region ? "region code" : !indicator ? "indicator" : "period");
    /* In the records reader's order, so that a bad element is told as a
     * bad row would be. */
    size_t node;
    if (element_region(ds, vc, region, &node))
        return element_error(TALLY_ENOTFOUND, i, region, indicator, period, region,
                             "unknown region code '%s'; expected a code of the hierarchy",
                             region);
    if (!same_text(vc->period, period)) {
        int32_t key;
        if (tally_period__parse(period, strlen(period), &key))
            return element_error(TALLY_EPARSE, i, region, indicator, period, period,
                                 "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY", period);
        vc->period = period;
        vc->key = key;
        vc->column = 0;
    }
    if (!same_text(vc->indicator, indicator)) {
        size_t ind;
        if (tally_definitions_find(ds->d, indicator, strlen(indicator), &ind))
            return element_error(TALLY_ENOTFOUND, i, region, indicator, period, indicator,
                                 "unknown indicator '%s'; expected an id from the definitions",
                                 indicator);
        vc->indicator = indicator;
        vc->column = vc->column && ind == vc->ind ? vc->column : 0;
        vc->ind = ind;
    }
    if (isinf(value))
        return element_error(TALLY_ERANGE, i, region, indicator, period, NULL,
                             "value is infinite; expected a finite number");
    if (!vc->column) {
        tally_column *c = tally_dataset__get_column(ds, vc->ind, vc->key);
        if (!c)
            return tally_error__set(TALLY_ENOMEM, "out of memory adding values");
        vc->column = (size_t)(c - ds->columns) + 1;
    }
    tally_column *c = &ds->columns[vc->column - 1];
    if (widen_column(ds, c))
        return tally_error__set(TALLY_ENOMEM, "out of memory adding values");
    if (store_in(ds, c, node, value, !isnan(value))) {
        char per[TALLY_PERIOD_TEXT_MAX];
        tally_period__format(vc->key, per);
        return element_error(
            TALLY_EEXIST, i, region, indicator, period, region,
            "duplicate record for region %s, indicator %s, period %s; each is given once",
            tally_hierarchy_code(ds->h, node), tally_definitions_id(ds->d, vc->ind), per);
    }
    return 0;
}

/* Appends a CSV field (quoted when it needs to be) to buf at *n. */
static void put_field(char *buf, size_t *n, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf[(*n)++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            buf[(*n)++] = '"';
        buf[(*n)++] = *s;
    }
    if (quote)
        buf[(*n)++] = '"';
}

/* Lists bad element i in rejects, its row the element as CSV text. 0 or
 * TALLY_ENOMEM (recorded). */
static int reject_element(tally_rejects *rejects, size_t i, const char *region,
                          const char *indicator, const char *period, double value)
{
    const char *f[3] = { or_null(region), or_null(indicator), or_null(period) };
    char number[32] = "";
    if (!isnan(value))
        tally_number__shortest(number, sizeof number, value);
    size_t size = sizeof number + 3;
    for (int k = 0; k < 3; k++)
        size += 2 * strlen(f[k]) + 3;
    char *row = malloc(size);
    int rc = TALLY_ENOMEM;
    if (row) {
        size_t n = 0;
        for (int k = 0; k < 3; k++) {
            put_field(row, &n, f[k]);
            row[n++] = ',';
        }
        memcpy(row + n, number, strlen(number) + 1);
        rc = tally_rejects__add_item(rejects, VALUES_PATH, (unsigned long)i + 1, row);
        free(row);
    }
    return rc ? tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected values") : 0;
}

TALLY_EXTERN(int) tally_dataset_add_values(tally_dataset *ds, size_t n,
                                           const char *const *region_codes,
                                           const char *const *indicators,
                                           const char *const *periods, const double *values,
                                           tally_on_error on_error, tally_rejects *rejects,
                                           tally_read_stats *stats)
{
    tally_read_stats st = { 0, 0, 0 };
    if (stats)
        *stats = st;
    if (!ds || (n && (!region_codes || !indicators || !periods || !values)))
        return tally_error__set(TALLY_EINVAL, "tally_dataset_add_values: NULL argument");
    int collect = on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected values needs a tally_rejects list");
    values_cache vc;
    memset(&vc, 0, sizeof vc);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        st.rows_read++;
        int r = add_element(ds, &vc, i, region_codes[i], indicators[i], periods[i], values[i]);
        if (r == 0) {
            st.rows_accepted++;
            continue;
        }
        if (r == TALLY_ENOMEM) {
            st.rows_read--;
            rc = r;
            break;
        }
        st.rows_rejected++;
        if (collect) {
            /* The reason goes into the list; the last error is the list's. */
            if (reject_element(rejects, i, region_codes[i], indicators[i], periods[i],
                               values[i])) {
                rc = TALLY_ENOMEM;
                break;
            }
            continue;
        }
        rc = r;
        break;
    }
    if (stats)
        *stats = st;
    return rc;
}

TALLY_EXTERN(int) tally_dataset_reported(const tally_dataset *ds, size_t node, size_t indicator,
                                         const char *period, double *value, int *present)
{
    *value = NAN;
    *present = 0;
    if (!ds || node >= ds->nodes || !period)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_reported: bad argument");
    int32_t key;
    if (tally_period__parse(period, strlen(period), &key))
        return tally_error__set(TALLY_EPARSE,
                                "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY", period);
    const tally_column *c = tally_dataset__find_column(ds, indicator, key);
    if (c && tally_column__has(c, node)) {
        *value = tally_column__get(c, node);
        *present = 1;
    }
    return 0;
}

/* ---- columns dropped or moved by a parallel read (records_parallel.c) ---- */

/* Files the columns in the table again after some were dropped or moved
 * (the table keeps its size: nothing to allocate, nothing fails). */
void tally_dataset__refile(tally_dataset *ds)
{
    if (!ds->slots_cap)
        return;
    memset(ds->slots, 0, ds->slots_cap * sizeof *ds->slots);
    size_t mask = ds->slots_cap - 1;
    for (size_t i = 0; i < ds->ncolumns; i++) {
        size_t s = slot_hash(ds->columns[i].indicator, ds->columns[i].period) & mask;
        while (ds->slots[s])
            s = (s + 1) & mask;
        ds->slots[s] = i + 1;
    }
}

void tally_dataset__drop_empty(tally_dataset *ds)
{
    if (ds->ncolumns && ds->columns[ds->ncolumns - 1].hi == ds->columns[ds->ncolumns - 1].lo)
        tally_dataset__drop_columns(ds, ds->ncolumns - 1);
}

/* Drops the columns from `from` on (made during a read that is undone). */
void tally_dataset__drop_columns(tally_dataset *ds, size_t from)
{
    for (size_t i = from; i < ds->ncolumns; i++) {
        ds->held -= tally_column__bytes(ds->columns[i].lo, ds->columns[i].hi);
        tally_column__free(&ds->columns[i]);
    }
    ds->ncolumns = from;
    tally_dataset__refile(ds);
}

/* ---- whole columns, for snapshots ---- */

int tally_dataset__adopt_column(tally_dataset *ds, const tally_column *c, size_t cells)
{
    if (tally_dataset__find_slot(ds, c->indicator, c->period) >= 0)
        return TALLY_EEXIST;
    if (tally_dataset__install_column(ds, c))
        return TALLY_ENOMEM;
    ds->cells += cells;
    return 0;
}

tally_column *tally_dataset__column_mut(tally_dataset *ds, size_t indicator, int32_t period)
{
    long i = tally_dataset__find_slot(ds, indicator, period);
    return i < 0 ? NULL : &ds->columns[i];
}

void tally_dataset__add_cells(tally_dataset *ds, size_t cells) { ds->cells += cells; }

/* Takes over a read-write private mapping of a snapshot (munmap'd when the
 * dataset is freed), whose arrays adopted columns may point into. 0 or
 * TALLY_ENOMEM (the mapping is then not taken). */
int tally_dataset__adopt_map(tally_dataset *ds, void *addr, size_t len)
{
    struct tally_dataset_map *m = realloc(ds->maps, (ds->nmaps + 1) * sizeof *m);
    if (!m)
        return TALLY_ENOMEM;
    ds->maps = m;
    ds->maps[ds->nmaps].addr = addr;
    ds->maps[ds->nmaps].len = len;
    ds->nmaps++;
    return 0;
}

static int in_map(const tally_dataset *ds, const void *p)
{
    for (size_t i = 0; i < ds->nmaps; i++) {
        const char *a = ds->maps[i].addr;
        if ((const char *)p >= a && (const char *)p < a + ds->maps[i].len)
            return 1;
    }
    return 0;
}

static void unmap_all(tally_dataset *ds)
{
    for (size_t i = 0; i < ds->nmaps; i++)
        munmap(ds->maps[i].addr, ds->maps[i].len);
    free(ds->maps);
}

int tally_dataset__widen_column(tally_dataset *ds, tally_column *c)
{
    return widen_column(ds, c);
}

int tally_dataset__widen(tally_dataset *ds)
{
    for (size_t i = 0; i < ds->ncolumns; i++)
        if (widen_column(ds, &ds->columns[i]))
            return TALLY_ENOMEM;
    return 0;
}

/* ---- handing values over to a rollup (tally_rollup_take) ---- */

double *tally_dataset__take_values(tally_dataset *ds, size_t i)
{
    if (i >= ds->ncolumns)
        return NULL;
    const tally_column *c = &ds->columns[i];
    if (!c->values || c->ints || c->lo != 0 || c->hi != ds->nodes ||
        (ds->nmaps && (in_map(ds, c->values) || in_map(ds, c->valid) || in_map(ds, c->seen))))
        return NULL;
    double *v = ds->columns[i].values;
    ds->columns[i].values = NULL;
    /* The dataset is cleared after the rollup: the bits go now, so that
     * the result's own bits can take their place. */
    free(ds->columns[i].valid);
    free(ds->columns[i].seen);
    ds->columns[i].valid = ds->columns[i].seen = NULL;
    return v;
}

void tally_dataset__clear(tally_dataset *ds)
{
    for (size_t i = 0; i < ds->ncolumns; i++) {
        tally_column *c = &ds->columns[i];
        /* Arrays in a snapshot's mapping go with it. */
        free_unmapped(ds, tally_column__values_base(c));
        free_unmapped(ds, tally_column__ints_base(c));
        free_unmapped(ds, tally_column__bits_base(c, c->valid));
        free_unmapped(ds, tally_column__bits_base(c, c->seen));
    }
    unmap_all(ds);
    ds->maps = NULL;
    ds->nmaps = 0;
    free(ds->columns);
    free(ds->slots);
    ds->columns = NULL;
    ds->ncolumns = ds->columns_cap = 0;
    ds->slots = NULL;
    ds->slots_cap = 0;
    ds->cells = 0;
    ds->held = 0;
}
