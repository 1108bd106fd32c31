/* Reported values: dense columns per indicator and period, and the records
 * CSV reader.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dataset.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "csv.h"
#include "error.h"
#include "hierarchy.h"
#include "period.h"
#include "rejects.h"
#include "util.h"

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
};

struct tally_dataset_map {
    void *addr;
    size_t len;
};

static int in_map(const tally_dataset *ds, const void *p);
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

static long find_slot(const tally_dataset *ds, size_t indicator, int32_t period)
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
    long i = find_slot(ds, indicator, period);
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
static void fill_missing(double *values, size_t n)
{
    tally_util__prefault(values, n * sizeof *values);
    for (size_t k = 0; k < n; k++)
        values[k] = NAN;
}

/* New arrays for a column of `nodes` nodes, bits clear, values NaN when
 * `fill` (else left for fill_missing). 0 or TALLY_ENOMEM (nothing kept);
 * no error is recorded. */
static int column_arrays(tally_column *c, size_t nodes, size_t indicator, int32_t period,
                         int fill)
{
    size_t words = tally_bit__words(nodes);
    c->indicator = indicator;
    c->period = period;
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
        fill_missing(c->values, nodes);
    return 0;
}

static void column_free(tally_column *c)
{
    free(c->values);
    free(c->ints);
    free(c->valid);
    free(c->seen);
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
    double *v = malloc((ds->nodes ? ds->nodes : 1) * sizeof *v);
    if (!v)
        return TALLY_ENOMEM;
    for (size_t node = 0; node < ds->nodes; node++)
        v[node] = tally_bit__get(c->valid, node) ? tally_column__get(c, node) : NAN;
    c->values = v;
    free_unmapped(ds, c->ints);
    c->ints = NULL;
    c->scale = 0;
    return 0;
}

/* Appends a column (its arrays now the dataset's) and files it in the
 * table. 0, or TALLY_ENOMEM with the dataset as it was (the caller keeps
 * the arrays). */
static int install_column(tally_dataset *ds, const tally_column *c)
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
    return 0;
}

/* The column for (indicator, period), created on first use. */
static tally_column *get_column(tally_dataset *ds, size_t indicator, int32_t period)
{
    long i = find_slot(ds, indicator, period);
    if (i >= 0)
        return &ds->columns[i];
    tally_column c;
    if (column_arrays(&c, ds->nodes, indicator, period, 1))
        return NULL;
    if (install_column(ds, &c)) {
        column_free(&c);
        return NULL;
    }
    return &ds->columns[ds->ncolumns - 1];
}

/* Stores one cell. 0, TALLY_EEXIST (already given) or TALLY_ENOMEM; no
 * error is recorded (callers say where). */
static int store_in(tally_dataset *ds, tally_column *c, size_t node, double value, int present)
{
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
    tally_column *c = get_column(ds, indicator, period);
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
    rc = store(ds, node, ind, key, value, !isnan(value));
    if (rc == TALLY_EEXIST)
        return tally_error__set(TALLY_EEXIST,
                                "duplicate value for region %s, indicator %s, period %s; each is given once",
                                region_code, indicator, period);
    if (rc)
        return tally_error__set(rc, "out of memory adding a value");
    return 0;
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
    if (c && tally_bit__get(c->valid, node)) {
        *value = tally_column__get(c, node);
        *present = 1;
    }
    return 0;
}

/* ---- records reader ---- */

typedef struct layout {
    long region, indicator, period, value; /* long format */
    size_t *wide_indicator;                /* wide: per column, indicator index or TALLY_NONE */
    size_t nfields;
} layout;

static int is_key_name(const char *const *keys, size_t n, const tally_csv_field *f)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(keys[i]) == f->len && memcmp(keys[i], f->ptr, f->len) == 0)
            return 1;
    return 0;
}

static int read_header(tally_dataset *ds, tally_csv *c, layout *lay)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row region_code,indicator,period,value");
    lay->nfields = c->nfields;
    /* A key column given twice: which one holds the value? Refuse it.
     * (Other columns are ignored in the long layout; the wide layout
     * refuses an indicator given twice below.) */
    static const char *const keys[] = { "region_code", "indicator", "period", "value" };
    for (size_t i = 1; i < c->nfields; i++)
        for (size_t k = 0; k < i; k++)
            if (is_key_name(keys, 4, &c->fields[i]) && c->fields[k].len == c->fields[i].len &&
                memcmp(c->fields[k].ptr, c->fields[i].ptr, c->fields[i].len) == 0)
                return tally_csv__error_at_field(
                    c, i, TALLY_EEXIST,
                    "column '%.*s' is given twice in the header (also column %zu); expected "
                    "each column once",
                    (int)c->fields[i].len, c->fields[i].ptr, k + 1);
    lay->region = tally_csv__find_column(c, "region_code");
    lay->period = tally_csv__find_column(c, "period");
    lay->indicator = tally_csv__find_column(c, "indicator");
    lay->value = tally_csv__find_column(c, "value");
    lay->wide_indicator = NULL;
    if (lay->region < 0 || lay->period < 0)
        return tally_csv__error_at_field(
            c, 0, TALLY_EPARSE,
            "header has no '%s' column; expected region_code,indicator,period,value "
            "(long) or region_code,period,<indicator id>... (wide)",
            lay->region < 0 ? "region_code" : "period");
    if (lay->indicator >= 0 && lay->value >= 0)
        return 0;
    if (lay->indicator >= 0 || lay->value >= 0)
        return tally_csv__error_at_field(
            c, (size_t)(lay->indicator >= 0 ? lay->indicator : lay->value), TALLY_EPARSE,
            "header has '%s' without '%s'; expected both (long format) or neither (wide)",
            lay->indicator >= 0 ? "indicator" : "value", lay->indicator >= 0 ? "value" : "indicator");
    /* Wide: every other column is an indicator id. */
    lay->wide_indicator = malloc(c->nfields * sizeof *lay->wide_indicator);
    if (!lay->wide_indicator)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    size_t n_ind = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        lay->wide_indicator[i] = TALLY_NONE;
        if ((long)i == lay->region || (long)i == lay->period)
            continue;
        size_t ind;
        if (tally_definitions_find(ds->d, c->fields[i].ptr, c->fields[i].len, &ind))
            return tally_csv__error_at_field(
                c, i, TALLY_ENOTFOUND,
                "header column '%.*s' is not an indicator id; expected region_code, period "
                "and indicator ids (wide format) or indicator,value (long format)",
                (int)c->fields[i].len, c->fields[i].ptr);
        for (size_t k = 0; k < i; k++)
            if (lay->wide_indicator[k] == ind)
                return tally_csv__error_at_field(
                    c, i, TALLY_EEXIST,
                    "indicator column '%.*s' is given twice in the header; expected each "
                    "indicator once",
                    (int)c->fields[i].len, c->fields[i].ptr);
        lay->wide_indicator[i] = ind;
        n_ind++;
    }
    if (!n_ind)
        return tally_csv__error_at_field(c, c->nfields, TALLY_EPARSE,
                                         "header has no indicator columns; expected "
                                         "indicator,value (long) or indicator ids (wide)");
    return 0;
}

/* The common value cell: an optional '-', digits, and optionally '.' and
 * digits, 15 digits at most. Then the digits are an integer below 2^53
 * and the power of ten an exact double, so one division gives the
 * correctly rounded value, bit for bit what tally_util__parse_number
 * gives. 1 with *v, or 0 for any other text (left to the full parser). */
static inline int simple_number(const char *s, size_t len, double *v)
{
    static const double pow10[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    int neg = s[0] == '-';
    if (len - (size_t)neg > 16) /* 15 digits and a point at most */
        return 0;
    size_t i = (size_t)neg, frac = 0;
    uint64_t m = 0;
    unsigned dg;
    while (i < len && (dg = (unsigned char)s[i] - (unsigned)'0') <= 9) {
        m = m * 10 + dg;
        i++;
    }
    size_t digits = i - (size_t)neg;
    if (!digits)
        return 0;
    if (i < len) {
        if (s[i] != '.')
            return 0;
        size_t start = ++i;
        while (i < len && (dg = (unsigned char)s[i] - (unsigned)'0') <= 9) {
            m = m * 10 + dg;
            i++;
        }
        frac = i - start;
        digits += frac;
        if (!frac || i != len || digits > 15)
            return 0;
    }
    double x = (double)m;
    if (frac)
        x /= pow10[frac];
    *v = neg ? -x : x;
    return 1;
}

/* Parses a value cell; 0 with *present, or an error recorded at the field.
 * fast: try simple_number first (off on the plain path, for the tests). */
static int parse_value(const tally_csv *c, size_t f, double *v, int *present, int fast)
{
    const tally_csv_field *fl = &c->fields[f];
    if (fl->len == 0) {
        *present = 0;
        *v = NAN;
        return 0;
    }
    if (fast && simple_number(fl->ptr, fl->len, v)) {
        *present = 1;
        return 0;
    }
    int rc = tally_util__parse_number(fl->ptr, fl->len, v);
    if (rc == TALLY_ERANGE)
        return tally_csv__error_at_field(c, f, TALLY_ERANGE,
                                         "number '%.*s' is out of range; expected a finite number",
                                         (int)fl->len, fl->ptr);
    if (rc == TALLY_ENOMEM)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    if (rc)
        return tally_csv__error_at_field(
            c, f, TALLY_EPARSE,
            "bad number '%.*s'; expected a decimal number like 12, -3.5 or 1e6, or an empty cell",
            (int)fl->len, fl->ptr);
    *present = 1;
    return 0;
}

static int duplicate(const tally_csv *c, size_t f, const tally_dataset *ds, size_t node,
                     size_t ind, int32_t key)
{
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(key, per);
    return tally_csv__error_at_field(
        c, f, TALLY_EEXIST,
        "duplicate record for region %s, indicator %s, period %s; each is given once",
        tally_hierarchy_code(ds->h, node), tally_definitions_id(ds->d, ind), per);
}

/* simple_number for the commonest cell, one to eight digits and nothing
 * else, eight bytes at once; anything else goes to simple_number, so the
 * value is always simple_number's. `s` must have 8 readable bytes (the
 * cell and what follows it in the input). */
static inline int fast_number(const char *s, size_t len, double *v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len <= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        uint64_t keep = len == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * len)) - 1;
        /* '0'..'9' become 0..9; a byte of the cell that was anything else
         * has a high nibble now or after adding 6 (no carry can cross a
         * byte that passes). Bytes after the cell are cleared. */
        uint64_t x = (w ^ 0x3030303030303030ULL) & keep;
        if (((x | (x + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL) == 0) {
            /* The first digit is the lowest byte: shift in leading zeros,
             * then combine pairs, fours and eights of digits. */
            x <<= 8 * (8 - len);
            x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
            x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
            x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
            *v = (double)x;
            return 1;
        }
    }
#endif
    return simple_number(s, len, v);
}

/* ---- where the rows go ---- */

/* A column as a reader stores into it. In a serial read `seen` and `valid`
 * are the column's own bits, and so is `before`. In a parallel read each
 * worker sets bits of its own, merged when all are done, and `before` is
 * the column's seen bits as they were before the read (no one writes them
 * while the workers run): a cell was given before when either has it. */
typedef struct col_ref {
    size_t index; /* the column's index + 1; 0: none */
    int32_t period;
    double *values;
    const uint64_t *before;
    uint64_t *seen, *valid;
} col_ref;

/* A parallel worker's bits for one column, and the byte offset of the
 * field for which it first asked for the column (SIZE_MAX: not yet). */
typedef struct own_bits {
    uint64_t *seen, *valid;
    size_t first;
} own_bits;

static size_t own_bits_bytes(size_t nodes)
{
    size_t words = tally_bit__words(nodes);
    return 2 * (words ? words : 1) * sizeof(uint64_t);
}

static void own_bits_free(own_bits *o, size_t nodes)
{
    if (o->seen)
        munmap(o->seen, own_bits_bytes(nodes));
    o->seen = o->valid = NULL;
}

/* An indicator id seen before: its first 8 bytes as a number (zero
 * padded), so most ids compare in one instruction. */
#define IND_CACHE 64
typedef struct ind_entry {
    uint64_t head;
    size_t len; /* 0: empty */
    size_t ind;
    col_ref *col; /* the reader's cols[ind] */
    char id[32];
} ind_entry;

struct par;

/* A reader of rows, and what the rows before it looked up for the next
 * ones: records come grouped by region and period, so most rows repeat
 * the region code and period text of the row before, and cycle through a
 * few indicators. Text is compared byte for byte before a cached answer is
 * used, so a hit gives exactly what the lookup would. */
typedef struct reader {
    tally_dataset *ds;
    const layout *lay;
    int on; /* the caches are used (not on the plain path, for the tests) */
    char region[32];
    size_t region_len, node; /* region_len 0: none */
    char period[16];
    size_t period_len; /* 0: none */
    int32_t key;
    ind_entry ind[IND_CACHE];
    col_ref *cols;   /* per indicator: its column at cols[i].period */
    size_t *cells;   /* where stored cells are counted */
    struct par *par; /* NULL: a serial read, straight into the dataset */
    own_bits *own;   /* parallel: this worker's bits, per column index */
    size_t nown;
} reader;

static int reader_init(reader *rd, tally_dataset *ds, const layout *lay, int on)
{
    memset(rd, 0, sizeof *rd);
    rd->ds = ds;
    rd->lay = lay;
    rd->on = on;
    rd->cells = &ds->cells;
    size_t nind = tally_definitions_indicator_count(ds->d);
    rd->cols = calloc(nind ? nind : 1, sizeof *rd->cols);
    return rd->cols ? 0 : TALLY_ENOMEM;
}

static void reader_fini(reader *rd)
{
    for (size_t i = 0; i < rd->nown; i++)
        own_bits_free(&rd->own[i], rd->ds->nodes);
    free(rd->own);
    free(rd->cols);
    rd->own = NULL;
    rd->cols = NULL;
    rd->nown = 0;
}

/* memcmp(a, b, n) == 0 for the short keys of a row, without a call: a
 * word at a time, the last word overlapping the one before (both ranges
 * are n readable bytes, so no load strays outside them). */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline uint64_t key_head(const char *s, size_t len)
{
    uint64_t k = 0;
    memcpy(&k, s, len < 8 ? len : 8);
    return k;
}

/* key_head from a single load, where 8 bytes from s are readable. */
static inline uint64_t key_head_fast(const char *s, size_t len)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t k;
    memcpy(&k, s, 8);
    return len >= 8 ? k : k & (((uint64_t)1 << (8 * len)) - 1);
#else
    return key_head(s, len);
#endif
}

static inline size_t ind_slot(uint64_t head, size_t len)
{
    return (size_t)(((head ^ len) * 0x9E3779B97F4A7C15ULL) >> 58) & (IND_CACHE - 1);
}

static int find_region(reader *rd, const char *s, size_t len, size_t *node)
{
    const tally_dataset *ds = rd->ds;
    int r = 1;
    if (rd->on && rd->region_len) {
        if (rd->region_len == len && same_bytes(rd->region, s, len)) {
            *node = rd->node;
            return 0;
        }
        /* Records sorted by code meet the regions in pre-order: the next
         * region is most often one or two nodes on (a village, or the
         * village after a town). Codes are unique, so a node whose code is
         * these bytes is the one the lookup would find. */
        for (size_t k = rd->node + 1; k < rd->node + 3 && k < ds->nodes; k++) {
            if (tally_hierarchy__code_is(ds->h, k, s, len)) {
                *node = k;
                r = 0;
                break;
            }
        }
    }
    if (r)
        r = tally_hierarchy_find(ds->h, s, len, node);
    if (r == 0 && rd->on && len && len <= sizeof rd->region) {
        memcpy(rd->region, s, len);
        rd->region_len = len;
        rd->node = *node;
    }
    return r;
}

static int find_period(reader *rd, const char *s, size_t len, int32_t *key)
{
    if (rd->on && rd->period_len && rd->period_len == len && same_bytes(rd->period, s, len)) {
        *key = rd->key;
        return 0;
    }
    int r = tally_period__parse(s, len, key);
    if (r == 0 && rd->on && len && len < sizeof rd->period) {
        memcpy(rd->period, s, len);
        rd->period_len = len;
        rd->key = *key;
    }
    return r;
}

static int find_indicator(reader *rd, const char *s, size_t len, size_t *ind)
{
    ind_entry *e = NULL;
    uint64_t head = 0;
    if (rd->on && len && len <= sizeof e->id) {
        head = key_head(s, len);
        e = &rd->ind[ind_slot(head, len)];
        if (e->len == len && e->head == head &&
            (len <= 8 || same_bytes(e->id + 8, s + 8, len - 8))) {
            *ind = e->ind;
            return 0;
        }
    }
    int r = tally_definitions_find(rd->ds->d, s, len, ind);
    if (r == 0 && e) {
        e->head = head;
        memcpy(e->id, s, len);
        e->len = len;
        e->ind = *ind;
        e->col = &rd->cols[*ind];
    }
    return r;
}

static col_ref *par_column(reader *rd, size_t ind, int32_t key, size_t order, col_ref *e);
static int par_given(reader *rd, size_t ind, int32_t key, size_t node);

/* The column of (ind, key), created on first use, for the field at byte
 * `order` (a parallel read puts the columns it made in the order of the
 * fields that first asked for them, as a serial read makes them). NULL
 * when out of memory (no error recorded). */
static col_ref *column_ref(reader *rd, size_t ind, int32_t key, size_t order)
{
    col_ref *e = &rd->cols[ind];
    if (rd->on && e->index && e->period == key)
        return e;
    if (rd->par)
        return par_column(rd, ind, key, order, e);
    tally_column *c = get_column(rd->ds, ind, key);
    if (!c)
        return NULL;
    e->index = (size_t)(c - rd->ds->columns) + 1;
    e->period = key;
    e->values = c->values;
    e->before = c->seen;
    e->seen = c->seen;
    e->valid = c->valid;
    return e;
}

/* 1 when the cell (ind, key, node) was given before, without creating its
 * column. */
static int given_before(reader *rd, size_t ind, int32_t key, size_t node)
{
    const col_ref *e = &rd->cols[ind];
    if (rd->on && e->index && e->period == key)
        return tally_bit__get(e->before, node) | tally_bit__get(e->seen, node);
    if (rd->par)
        return par_given(rd, ind, key, node);
    const tally_column *c = tally_dataset__find_column(rd->ds, ind, key);
    return c && tally_bit__get(c->seen, node);
}

/* Two workers store the same value only when the cell is in both their
 * pieces of the input, a duplicate that sends the read back to a serial
 * one; the store is atomic (a plain store on the machines we know) so that
 * even then no value is torn. */
static inline void put_value(double *at, double v)
{
#if defined(__GNUC__)
    __atomic_store(at, &v, __ATOMIC_RELAXED);
#else
    *at = v;
#endif
}

/* Stores one cell: 0, or TALLY_EEXIST (given before; nothing changes). */
static inline int store_ref(reader *rd, col_ref *e, size_t node, double v, int present)
{
    size_t w = node >> 6;
    uint64_t bit = (uint64_t)1 << (node & 63);
    if ((e->before[w] | e->seen[w]) & bit)
        return TALLY_EEXIST;
    e->seen[w] |= bit;
    if (present) {
        e->valid[w] |= bit;
        put_value(&e->values[node], v);
    }
    (*rd->cells)++;
    return 0;
}

/* Reads one data row; 0 accepted, else an error recorded. */
static int read_row(reader *rd, const tally_csv *c)
{
    const layout *lay = rd->lay;
    tally_dataset *ds = rd->ds;
    if (c->nfields != lay->nfields)
        return tally_csv__error_at_field(c, c->nfields < lay->nfields ? c->nfields : lay->nfields,
                                         TALLY_EPARSE,
                                         "row has %zu fields; expected %zu as in the header",
                                         c->nfields, lay->nfields);
    const tally_csv_field *rf = &c->fields[lay->region];
    size_t node;
    if (find_region(rd, rf->ptr, rf->len, &node))
        return tally_csv__error_at_field(c, (size_t)lay->region, TALLY_ENOTFOUND,
                                         "unknown region code '%.*s'; expected a code of the hierarchy",
                                         (int)rf->len, rf->ptr);
    const tally_csv_field *pf = &c->fields[lay->period];
    int32_t key;
    if (find_period(rd, pf->ptr, pf->len, &key))
        return tally_csv__error_at_field(c, (size_t)lay->period, TALLY_EPARSE,
                                         "bad period '%.*s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                         (int)pf->len, pf->ptr);
    if (!lay->wide_indicator) {
        const tally_csv_field *inf = &c->fields[lay->indicator];
        size_t ind;
        if (find_indicator(rd, inf->ptr, inf->len, &ind))
            return tally_csv__error_at_field(c, (size_t)lay->indicator, TALLY_ENOTFOUND,
                                             "unknown indicator '%.*s'; expected an id from the definitions",
                                             (int)inf->len, inf->ptr);
        double v;
        int present, rc = parse_value(c, (size_t)lay->value, &v, &present, rd->on);
        if (rc)
            return rc;
        col_ref *col = column_ref(rd, ind, key, inf->offset);
        rc = col ? store_ref(rd, col, node, v, present) : TALLY_ENOMEM;
        if (rc == TALLY_EEXIST)
            return duplicate(c, (size_t)lay->region, ds, node, ind, key);
        if (rc)
            return tally_error__set(rc, "out of memory storing a value");
        return 0;
    }
    /* Wide: validate every cell first so a bad row stores nothing. */
    for (size_t f = 0; f < c->nfields; f++) {
        if (lay->wide_indicator[f] == TALLY_NONE)
            continue;
        double v;
        int present, rc = parse_value(c, f, &v, &present, rd->on);
        if (rc)
            return rc;
        if (given_before(rd, lay->wide_indicator[f], key, node))
            return duplicate(c, f, ds, node, lay->wide_indicator[f], key);
    }
    for (size_t f = 0; f < c->nfields; f++) {
        if (lay->wide_indicator[f] == TALLY_NONE)
            continue;
        double v;
        int present;
        parse_value(c, f, &v, &present, rd->on);
        col_ref *col = column_ref(rd, lay->wide_indicator[f], key, c->fields[f].offset);
        if (!col || store_ref(rd, col, node, v, present))
            return tally_error__set(TALLY_ENOMEM, "out of memory storing a value");
    }
    return 0;
}

/* The separators (',', '\n') and quotes among 64 bytes, a bit each. */
static inline uint64_t scan64(const char *s)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                                 _mm_cmpeq_epi8(v, quote));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << (16 * i);
    }
    return m;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)(s[i] == ',' || s[i] == '\n' || s[i] == '"') << i;
    return m;
#endif
}

/* Bytes the one-pass rows leave to the general path at the end of the
 * input: every load of a row (64-byte blocks, 8-byte words) stays inside. */
#define FAST_TAIL (64 + 16)

/* 8 bytes from s, where they are readable. */
static inline uint64_t load8(const char *s)
{
    uint64_t k;
    memcpy(&k, s, 8);
    return k;
}

/* A key of up to 16 bytes as two words (its first and its last 8 bytes,
 * or its bytes zero padded when shorter than 8): a row's region code and
 * period compare in two loads. For len <= 16 only; s has 8 readable bytes
 * past the key. */
typedef struct key16 {
    uint64_t a, b;
    size_t len; /* 0: none */
} key16;

static inline key16 key16_of(const char *s, size_t len)
{
    key16 k = { 0, 0, len };
    if (len >= 8) {
        k.a = load8(s);
        k.b = load8(s + len - 8);
    } else {
        k.a = key_head_fast(s, len);
    }
    return k;
}

static inline int key16_is(const key16 *k, const char *s, size_t len)
{
    if (len != k->len)
        return 0;
    if (len >= 8)
        return load8(s) == k->a && load8(s + len - 8) == k->b;
    return key_head_fast(s, len) == k->a;
}

/* The common rows of a long records file, read and stored in one pass, as
 * many as follow one another from c->pos (up to the first row starting at
 * or after `stop`): no quote, the header's number of fields, within the
 * limits, region, period, indicator and column all answered by the caches
 * (so by the lookups of rows before), a value that is empty or
 * simple_number's, and no value given before. Returns the number of rows
 * read and stored, with the reader left exactly as tally_csv__next and
 * read_row would leave it after the last one (except c->fields, which
 * nothing reads after an accepted row); it stops, with nothing of that
 * row changed, at the first other row, which then takes the general path
 * (and gets its error, or fills the caches for the rows after it).
 *
 * The separators are found 64 bytes at a time and taken off a bit mask
 * row after row, so a byte is looked at once; the last FAST_TAIL bytes of
 * the input are left to the general path. The caches' keys are held in
 * locals: the stores into the bit arrays could otherwise change them as
 * far as the compiler knows, and it would load them again for every row. */
static size_t read_rows_fast(reader *rd, tally_csv *c, size_t stop)
{
    const layout *lay = rd->lay;
    const char *d = c->data;
    size_t n = c->size, p = c->pos, nfields = lay->nfields;
    if (!rd->on || lay->wide_indicator || nfields > 8 || n < FAST_TAIL || p > n - FAST_TAIL ||
        (c->max_fields && nfields > c->max_fields) || !rd->period_len || rd->period_len > 8)
        return 0;
    size_t limit = n - FAST_TAIL; /* the last block may start here */
    size_t maxb = c->max_field_bytes ? c->max_field_bytes : SIZE_MAX;
    size_t fr = (size_t)lay->region, fi = (size_t)lay->indicator, fp = (size_t)lay->period,
           fv = (size_t)lay->value;
    key16 region = { 0, 0, 0 };
    if (rd->region_len && rd->region_len <= 16)
        region = key16_of(rd->region, rd->region_len); /* 32 bytes: readable past it */
    size_t node0 = rd->node;
    const key16 period = key16_of(rd->period, rd->period_len);
    const int32_t key = rd->key;
    const ind_entry *ind = rd->ind;
    size_t rows = 0, base = p, last_start = 0, last_end = 0;
    /* bound[f] + 1 is where field f starts, bound[f + 1] where it ends. */
    size_t bound[9];
    uint64_t m = scan64(d + base);
    while (p < stop) {
        if (d[p] == '\n' || d[p] == '\r') /* blank lines are the plain path's */
            break;
        bound[0] = p - 1;
        size_t nf = 0;
        char ch;
        do {
            while (!m) {
                base += 64;
                if (base > limit)
                    goto out;
                m = scan64(d + base);
            }
            size_t at = base + (size_t)__builtin_ctzll(m);
            m &= m - 1;
            ch = d[at];
            bound[++nf] = at;
        } while (ch == ',' && nf < nfields);
        if (ch != '\n' || nf != nfields) /* a quote, or too few or too many fields */
            goto out;
        size_t nl = bound[nf], end = nl;
        if (end > bound[nf - 1] + 1 && d[end - 1] == '\r')
            bound[nf] = --end;
#define FS(f) (bound[f] + 1)
#define FE(f) (bound[(f) + 1])
        if (end - p > maxb) /* else no field is longer */
            for (size_t f = 0; f < nf; f++)
                if (FE(f) - FS(f) > maxb)
                    goto out;
        size_t a = FS(fr), len = FE(fr) - a, node;
        if (len && key16_is(&region, d + a, len)) {
            node = node0;
        } else {
            if (find_region(rd, d + a, len, &node)) /* the general path says why */
                goto out;
            node0 = node;
            region = (key16){ 0, 0, 0 };
            if (len <= 16)
                region = key16_of(d + a, len);
        }
        a = FS(fp), len = FE(fp) - a;
        if (!key16_is(&period, d + a, len))
            goto out;
        a = FS(fi), len = FE(fi) - a;
        if (!len || len > sizeof ind[0].id)
            goto out;
        uint64_t head = key_head_fast(d + a, len);
        const ind_entry *e = &ind[ind_slot(head, len)];
        if (e->len != len || e->head != head ||
            (len > 8 && !same_bytes(e->id + 8, d + a + 8, len - 8)))
            goto out;
        col_ref *col = e->col;
        if (!col->index || col->period != key)
            goto out;
        a = FS(fv), len = FE(fv) - a;
        double value = NAN;
        if (len && !fast_number(d + a, len, &value))
            goto out;
        size_t w = node >> 6;
        uint64_t bit = (uint64_t)1 << (node & 63);
        if ((col->before[w] | col->seen[w]) & bit) /* given before: the general path says so */
            goto out;
        col->seen[w] |= bit;
        if (len) {
            col->valid[w] |= bit;
            put_value(&col->values[node], value);
        }
#undef FS
#undef FE
        rows++;
        last_start = p;
        last_end = end;
        p = nl + 1;
    }
out:
    if (rows) {
        *rd->cells += rows; /* a row stores one cell */
        c->nfields = 0;
        c->line = c->next_line + rows - 1;
        c->row_start = last_start;
        c->row_end = last_end;
        c->pos = p;
        c->next_line += rows;
    }
    return rows;
}

/* ---- the row loop ---- */

/* The read must be done again serially (internal, never returned). */
#define READ_AGAIN 1
/* Input pages are given back every this many bytes read. */
#define RELEASE_STEP ((size_t)1 << 20)

struct chunk;

/* One pass of the row loop over c, from c->pos to c->size. */
typedef struct rows_job {
    reader *rd;
    tally_csv *c;
    const tally_csv_input *in;
    int mode; /* 0: every fast path; 1: plain; 2: no one-pass rows */
    int collect;
    tally_rejects *rejects; /* may be NULL */
    tally_read_stats st;
    const tally_mapped *map; /* the input's file mapping, given back behind; or NULL */
    size_t released;         /* given back up to here */
    atomic_int *stop;        /* parallel: set when the read must be done again */
    struct chunk *ch;        /* parallel: the piece of input read */
} rows_job;

static void keep_rejected_text(rows_job *j);

/* Returns 0, the first bad row's code in stop mode, TALLY_ENOMEM, or
 * READ_AGAIN when another piece of a parallel read says so. */
static int read_rows(rows_job *j)
{
    tally_csv *c = j->c;
    int rc = 0;
    for (;;) {
        if (j->stop && atomic_load_explicit(j->stop, memory_order_relaxed))
            return READ_AGAIN;
        if (j->map && c->pos - j->released >= RELEASE_STEP) {
            tally_util__release(j->map, j->released, c->pos);
            j->released = c->pos;
        }
        if (j->mode == 0) {
            size_t k = read_rows_fast(j->rd, c, c->pos + RELEASE_STEP);
            if (k) {
                j->st.rows_read += k;
                j->st.rows_accepted += k;
                continue;
            }
        }
        int r = j->mode == 1 ? tally_csv__next_plain(c) : tally_csv__next(c);
        if (r == 0)
            break;
        if (r == TALLY_ENOMEM) {
            rc = r;
            break;
        }
        j->st.rows_read++;
        if (r > 0)
            r = read_row(j->rd, c);
        if (r == 0) {
            j->st.rows_accepted++;
            continue;
        }
        if (r == TALLY_ENOMEM) {
            j->st.rows_read--;
            rc = r;
            break;
        }
        j->st.rows_rejected++;
        tally_csv__hint_encoding(j->in, c);
        if (j->rejects && tally_rejects__add(j->rejects, c)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
            break;
        }
        if (j->ch)
            keep_rejected_text(j);
        if (!j->collect) {
            rc = r;
            break;
        }
    }
    return rc;
}

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
/* The least input per thread: below it a thread costs more than it saves. */
#define MIN_PIECE ((size_t)1 << 20)

typedef struct chunk {
    size_t start, end;
    tally_rejects *rejects; /* collecting: this piece's rejected rows */
    tally_read_stats st;
    unsigned long lines; /* line breaks read in the piece */
    int again;           /* the read must be done again serially */
    char text[128];      /* the offending text of its last rejected row */
    int has_text;
} chunk;

typedef struct par {
    tally_dataset *ds;
    const layout *lay;
    const tally_csv_input *in;
    const char *name;
    const tally_mapped *map;
    int collect;
    pthread_mutex_t lock;
    pthread_cond_t filled;
    size_t fill_first, fill_count, fill_next, fill_done; /* columns made before the start */
    chunk *chunks;
    size_t nchunks, next_chunk;
    atomic_int stop;
} par;

typedef struct worker {
    par *P;
    reader rd;
    size_t cells;
} worker;

/* The offending text of a piece's rejected row, for the last error the
 * join leaves (the rejects keep the reason, not the text). */
static void keep_rejected_text(rows_job *j)
{
    const tally_error *e = tally_error_last();
    j->ch->has_text = e->text != NULL;
    if (e->text)
        snprintf(j->ch->text, sizeof j->ch->text, "%s", e->text);
}

static own_bits *own_for(reader *rd, size_t i)
{
    if (i >= rd->nown) {
        size_t n = rd->nown ? rd->nown : 16;
        while (n <= i)
            n *= 2;
        own_bits *o = realloc(rd->own, n * sizeof *o);
        if (!o)
            return NULL;
        for (size_t k = rd->nown; k < n; k++)
            o[k] = (own_bits){ NULL, NULL, SIZE_MAX };
        rd->own = o;
        rd->nown = n;
    }
    own_bits *o = &rd->own[i];
    if (!o->seen) {
        /* Mapped, not allocated: a worker reads one stretch of the file,
         * which (records sorted by region) touches the bits of one stretch
         * of the regions, and untouched pages of a mapping take no memory. */
        size_t words = tally_bit__words(rd->ds->nodes);
        void *m = mmap(NULL, own_bits_bytes(rd->ds->nodes), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        o->seen = m;
        o->valid = o->seen + (words ? words : 1);
    }
    return o;
}

static col_ref *par_column(reader *rd, size_t ind, int32_t key, size_t order, col_ref *e)
{
    par *P = rd->par;
    tally_dataset *ds = rd->ds;
    pthread_mutex_lock(&P->lock);
    long i = find_slot(ds, ind, key);
    if (i < 0) {
        /* Making a column is filling megabytes: not under the lock. When
         * another worker made it meanwhile, its column is the one. */
        pthread_mutex_unlock(&P->lock);
        tally_column c;
        if (column_arrays(&c, ds->nodes, ind, key, 1))
            return NULL;
        pthread_mutex_lock(&P->lock);
        i = find_slot(ds, ind, key);
        if (i >= 0) {
            column_free(&c);
        } else if (install_column(ds, &c)) {
            pthread_mutex_unlock(&P->lock);
            column_free(&c);
            return NULL;
        } else {
            i = (long)ds->ncolumns - 1;
        }
    }
    double *values = ds->columns[i].values;
    const uint64_t *before = ds->columns[i].seen;
    pthread_mutex_unlock(&P->lock);
    own_bits *o = own_for(rd, (size_t)i);
    if (!o)
        return NULL;
    if (o->first == SIZE_MAX)
        o->first = order;
    e->index = (size_t)i + 1;
    e->period = key;
    e->values = values;
    e->before = before;
    e->seen = o->seen;
    e->valid = o->valid;
    return e;
}

static int par_given(reader *rd, size_t ind, int32_t key, size_t node)
{
    pthread_mutex_lock(&rd->par->lock);
    long i = find_slot(rd->ds, ind, key);
    const uint64_t *before = i >= 0 ? rd->ds->columns[i].seen : NULL;
    pthread_mutex_unlock(&rd->par->lock);
    if (!before)
        return 0;
    const uint64_t *own = (size_t)i < rd->nown ? rd->own[i].seen : NULL;
    return tally_bit__get(before, node) | (own ? tally_bit__get(own, node) : 0);
}

static void read_chunk(worker *w, chunk *ch, int last)
{
    par *P = w->P;
    tally_csv c;
    tally_csv__init(&c, P->in->data, ch->end, P->name);
    tally_csv__input_apply(P->in, &c);
    c.pos = ch->start;
    c.next_line = 1;
    rows_job j = { &w->rd, &c, P->in, 0, P->collect, ch->rejects, { 0, 0, 0 }, P->map,
                   ch->start, &P->stop, ch };
    int rc = read_rows(&j);
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
        fill_missing(v, P->ds->nodes);
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

/* Makes, before the workers start, the columns the first rows of each
 * piece name (values not yet filled: the workers fill them together), so
 * that the workers do not each stop at the start to make the same
 * columns. Rows are split plainly (a row with a quote is skipped) and
 * nothing is recorded: a column made here that no row ends up asking for
 * is dropped after the join. Returns how many were made. */
static size_t make_first_columns(par *P)
{
    tally_dataset *ds = P->ds;
    const layout *lay = P->lay;
    const char *d = P->in->data;
    size_t made = 0;
    for (size_t k = 0; k < P->nchunks; k++) {
        size_t p = P->chunks[k].start, end = P->chunks[k].end;
        for (int row = 0; row < 16 && p < end; row++) {
            const char *nl = memchr(d + p, '\n', end - p);
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
            p = next;
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
                           quiet_indicator(ds->d, d + fs[f], fe[f] - fs[f], &ind)) {
                    continue;
                }
                if (find_slot(ds, ind, key) >= 0)
                    continue;
                tally_column c;
                if (column_arrays(&c, ds->nodes, ind, key, 0))
                    return made;
                if (install_column(ds, &c)) {
                    column_free(&c);
                    return made;
                }
                made++;
            }
        }
    }
    return made;
}

/* Files the columns in the table again after some were dropped or moved
 * (the table keeps its size: nothing to allocate, nothing fails). */
static void refile(tally_dataset *ds)
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

/* Drops the columns from `from` on (made during a read that is undone). */
static void drop_columns(tally_dataset *ds, size_t from)
{
    for (size_t i = from; i < ds->ncolumns; i++)
        column_free(&ds->columns[i]);
    ds->ncolumns = from;
    refile(ds);
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
            const own_bits *o = &w[t].rd.own[i];
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
            column_free(&ds->columns[i]);
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
    refile(ds);
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
    drop_columns(ds, n0);
}

/* Reads the data rows [start, in->size) with `threads` workers, in pieces
 * of about `piece` bytes (0: a few per thread, a megabyte at least).
 * Returns READ_AGAIN with the dataset as it was when the input is too
 * small for threads or the read has to be done again serially; else the
 * read's code (0: collecting, or no bad row), everything joined, *st set. */
static int read_parallel(tally_dataset *ds, const layout *lay, const tally_csv_input *in,
                         const char *name, const tally_mapped *map, int collect,
                         tally_rejects *rejects, size_t start, unsigned long first_line,
                         size_t threads, size_t piece, tally_read_stats *st)
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
        return READ_AGAIN;
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
            const char *nl = memchr(in->data + want, '\n', in->size - want);
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
        if (reader_init(&w[nw].rd, ds, lay, 1)) {
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
            P.fill_count = make_first_columns(&P);
            /* Cutting the pieces and looking at their first rows mapped
             * the input's pages there (a fault maps a whole large folio,
             * up to 2 MiB): given back until a worker gets there. */
            if (map)
                tally_util__release(map, start, in->size);
            pthread_t tid[MAX_THREADS];
            for (size_t t = 0; t < nw; t++)
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
        reader_fini(&w[t].rd);
    for (size_t k = 0; chunks && k < nch; k++)
        tally_rejects_free(chunks[k].rejects);
    free(chunks);
    free(w);
    if (again) {
        st->rows_read = st->rows_accepted = st->rows_rejected = 0;
        return READ_AGAIN;
    }
    return 0;
}

/* Threads of a read by default: one per online core, at most this many.
 * Each worker keeps 2 bits per region and column beside the 64 of the
 * values (3 % of them); past 8 workers that memory grows faster than the
 * reading does. */
#define DEFAULT_MAX_THREADS 8

/* The number of threads a read asks for. */
static size_t read_threads(const tally_read_options *opts)
{
    unsigned int t = opts && opts->version >= 3 ? opts->threads : 0;
    if (t == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        t = n > 0 ? (unsigned int)n : 1;
        if (t > DEFAULT_MAX_THREADS)
            t = DEFAULT_MAX_THREADS;
    }
    return t;
}

/* mode: 0 every fast path, 1 plain, 2 no one-pass rows. map: the file
 * mapping data is (pages are given back as they are read), or NULL.
 * threads, piece: see read_parallel (threads 1: serial). */
static int read_buffer(tally_dataset *ds, const char *data, size_t size, const char *name,
                       const tally_read_options *opts, tally_rejects *rejects,
                       tally_read_stats *stats, int mode, const tally_mapped *map,
                       size_t threads, size_t piece, int *joined)
{
    tally_read_options defaults = TALLY_READ_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    tally_read_stats st = { 0, 0, 0 };
    if (stats)
        *stats = st;
    if (joined)
        *joined = 0;
    if (!ds || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_dataset_read_buffer: NULL argument");
    int collect = opts->on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected rows needs a tally_rejects list");
    /* Rows are written into columns as doubles. */
    if (tally_dataset__widen(ds))
        return tally_error__set(TALLY_ENOMEM, "out of memory");

    tally_csv_input in;
    int rc = tally_csv__input_open(&in, data, size, name, opts);
    if (rc)
        return rc;
    /* A converted input is read from its copy: the file's pages are done
     * with now. */
    const tally_mapped *give_back = NULL;
    if (map && in.data == map->data)
        give_back = map;
    else if (map)
        tally_util__release(map, 0, map->size);
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, name);
    tally_csv__input_apply(&in, &c);
    layout lay = { -1, -1, -1, -1, NULL, 0 };
    reader rd;
    rc = read_header(ds, &c, &lay);
    if (rc) {
        if (rc != TALLY_ENOMEM)
            tally_csv__hint_encoding(&in, &c);
    } else if (reader_init(&rd, ds, &lay, mode != 1)) {
        reader_fini(&rd);
        rc = tally_error__set(TALLY_ENOMEM, "out of memory");
    } else {
        rc = READ_AGAIN;
        if (mode == 0 && threads > 1)
            rc = read_parallel(ds, &lay, &in, c.name, give_back, collect, rejects, c.pos,
                               c.next_line, threads, piece, &st);
        if (joined)
            *joined = rc != READ_AGAIN;
        if (rc == READ_AGAIN) {
            rows_job j = { &rd, &c, &in, mode, collect, rejects, { 0, 0, 0 }, give_back, c.pos,
                           NULL, NULL };
            rc = read_rows(&j);
            st = j.st;
        }
        reader_fini(&rd);
    }
    free(lay.wide_indicator);
    tally_csv__fini(&c);
    tally_csv__input_close(&in);
    if (stats)
        *stats = st;
    return rc;
}

TALLY_EXTERN(int) tally_dataset_read_buffer(tally_dataset *ds, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 0, NULL, read_threads(opts),
                       0, NULL);
}

int tally_dataset__read_buffer_plain(tally_dataset *ds, const char *data, size_t size,
                                     const char *name, const tally_read_options *opts,
                                     tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 1, NULL, 1, 0, NULL);
}

int tally_dataset__read_buffer_rows(tally_dataset *ds, const char *data, size_t size,
                                    const char *name, const tally_read_options *opts,
                                    tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 2, NULL, 1, 0, NULL);
}

int tally_dataset__read_buffer_threads(tally_dataset *ds, const char *data, size_t size,
                                       const char *name, const tally_read_options *opts,
                                       tally_rejects *rejects, tally_read_stats *stats,
                                       size_t threads, size_t piece, int *joined)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 0, NULL, threads,
                       piece ? piece : 1, joined);
}

TALLY_EXTERN(int) tally_dataset_read_file(tally_dataset *ds, const char *path,
                                          const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!ds || !path)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_read_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = read_buffer(ds, m.data, m.size, path, opts, rejects, stats, 0, &m, read_threads(opts),
                     0, NULL);
    tally_util__unmap(&m);
    return rc;
}

/* ---- whole columns, for snapshots ---- */

int tally_dataset__adopt_column(tally_dataset *ds, const tally_column *c, size_t cells)
{
    if (find_slot(ds, c->indicator, c->period) >= 0)
        return TALLY_EEXIST;
    if (install_column(ds, c))
        return TALLY_ENOMEM;
    ds->cells += cells;
    return 0;
}

tally_column *tally_dataset__column_mut(tally_dataset *ds, size_t indicator, int32_t period)
{
    long i = find_slot(ds, indicator, period);
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
    if (!c->values || c->ints ||
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
        free_unmapped(ds, c->values);
        free_unmapped(ds, c->ints);
        free_unmapped(ds, c->valid);
        free_unmapped(ds, c->seen);
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
}
