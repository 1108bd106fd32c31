/* Reported values: dense columns per indicator and period, and the records
 * CSV reader.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "csv.h"
#include "error.h"
#include "period.h"
#include "util.h"
#include "write.h"

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

typedef struct reject {
    size_t path; /* index into paths */
    unsigned long line, column;
    int code;
    char *reason;
    char *row;
} reject;

struct tally_rejects {
    reject *items;
    size_t count, cap;
    char **paths;
    size_t npaths, paths_cap;
};

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
    for (size_t i = 0; i < ds->ncolumns; i++) {
        if (ds->nmaps && in_map(ds, ds->columns[i].values))
            continue; /* all three arrays are in a snapshot's mapping */
        free(ds->columns[i].values);
        free(ds->columns[i].valid);
        free(ds->columns[i].seen);
    }
    unmap_all(ds);
    free(ds->columns);
    free(ds->slots);
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

/* The column for (indicator, period), created on first use. */
static tally_column *get_column(tally_dataset *ds, size_t indicator, int32_t period)
{
    long i = find_slot(ds, indicator, period);
    if (i >= 0)
        return &ds->columns[i];
    if ((ds->ncolumns + 1) * 2 > ds->slots_cap &&
        rehash(ds, ds->slots_cap ? ds->slots_cap * 2 : 64))
        return NULL;
    if (tally_util__grow((void **)&ds->columns, &ds->columns_cap, ds->ncolumns + 1,
                         sizeof *ds->columns))
        return NULL;
    size_t words = tally_bit__words(ds->nodes);
    tally_column c = { indicator, period, malloc((ds->nodes ? ds->nodes : 1) * sizeof(double)),
                       calloc(words ? words : 1, sizeof(uint64_t)),
                       calloc(words ? words : 1, sizeof(uint64_t)) };
    if (!c.values || !c.valid || !c.seen) {
        free(c.values);
        free(c.valid);
        free(c.seen);
        return NULL;
    }
    for (size_t k = 0; k < ds->nodes; k++)
        c.values[k] = NAN;
    ds->columns[ds->ncolumns++] = c;
    if (rehash(ds, ds->slots_cap)) /* place the new column */
        return NULL;
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
    return c ? store_in(ds, c, node, value, present) : TALLY_ENOMEM;
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
        *value = c->values[node];
        *present = 1;
    }
    return 0;
}

/* ---- rejects ---- */

TALLY_EXTERN(int) tally_rejects_new(tally_rejects **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory");
}

TALLY_EXTERN(void) tally_rejects_free(tally_rejects *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].reason);
        free(r->items[i].row);
    }
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->items);
    free(r->paths);
    free(r);
}

TALLY_EXTERN(size_t) tally_rejects_count(const tally_rejects *r) { return r ? r->count : 0; }

TALLY_EXTERN(const char *) tally_rejects_path(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->paths[r->items[i].path] : NULL;
}

TALLY_EXTERN(unsigned long) tally_rejects_line(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].line : 0;
}

TALLY_EXTERN(unsigned long) tally_rejects_column(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].column : 0;
}

TALLY_EXTERN(int) tally_rejects_code(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].code : 0;
}

TALLY_EXTERN(const char *) tally_rejects_reason(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].reason : NULL;
}

TALLY_EXTERN(const char *) tally_rejects_row(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].row : NULL;
}

static int rejects_path(tally_rejects *r, const char *path, size_t *index)
{
    if (r->npaths && strcmp(r->paths[r->npaths - 1], path) == 0) {
        *index = r->npaths - 1;
        return 0;
    }
    if (tally_util__grow((void **)&r->paths, &r->paths_cap, r->npaths + 1, sizeof *r->paths))
        return TALLY_ENOMEM;
    r->paths[r->npaths] = tally_util__strndup(path, strlen(path));
    if (!r->paths[r->npaths])
        return TALLY_ENOMEM;
    *index = r->npaths++;
    return 0;
}

/* Appends the current last error as a rejected row. */
/* The raw row as a C string: a NUL byte becomes U+FFFD, so the text after
 * it is kept. */
static char *row_text(const char *s, size_t len)
{
    size_t nuls = 0;
    for (size_t i = 0; i < len; i++)
        nuls += s[i] == '\0';
    char *out = malloc(len + 2 * nuls + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int tally_rejects__add(tally_rejects *r, const tally_csv *c)
{
    const tally_error *e = tally_error_last();
    size_t path;
    if (rejects_path(r, c->name, &path) ||
        tally_util__grow((void **)&r->items, &r->cap, r->count + 1, sizeof *r->items))
        return TALLY_ENOMEM;
    const char *reason = tally_error__reason();
    reject *it = &r->items[r->count];
    it->path = path;
    it->line = e->line;
    it->column = e->column;
    it->code = e->code;
    it->reason = tally_util__strndup(reason, strlen(reason));
    it->row = row_text(c->data + c->row_start, c->row_end - c->row_start);
    if (!it->reason || !it->row) {
        free(it->reason);
        free(it->row);
        return TALLY_ENOMEM;
    }
    r->count++;
    return 0;
}

TALLY_EXTERN(int) tally_rejects_write_csv(const tally_rejects *r, const char *path)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write the rejects");
    fputs("file,line,column,reason,row\n", f);
    for (size_t i = 0; r && i < r->count; i++) {
        const reject *it = &r->items[i];
        tally_write__csv(f, r->paths[it->path]);
        fprintf(f, ",%lu,%lu,", it->line, it->column);
        tally_write__csv(f, it->reason);
        fputc(',', f);
        tally_write__csv(f, it->row);
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (path)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    return bad ? tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                     "cannot write the rejects")
               : 0;
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

/* What the previous rows looked up, for the next ones: records come
 * grouped by region and period, so most rows repeat the region code and
 * period text of the row before, and cycle through a few indicators. Text
 * is compared byte for byte before a cached answer is used, so a hit gives
 * exactly what the lookup would. */
#define IND_CACHE 64
typedef struct ind_entry {
    char id[32];
    size_t len; /* 0: empty */
    size_t ind;
} ind_entry;

typedef struct row_cache {
    int on;
    const char *region; /* into the input (never the CSV scratch buffer) */
    size_t region_len, node;
    char period[16];
    size_t period_len; /* 0: none */
    int32_t key;
    ind_entry ind[IND_CACHE];
    size_t *col;        /* per indicator: index + 1 of its column at col_period */
    int32_t *col_period;
} row_cache;

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

static int in_input(const tally_csv *c, const tally_csv_field *f)
{
    return f->ptr >= c->data && f->ptr + f->len <= c->data + c->size;
}

static int find_region(tally_dataset *ds, const tally_csv *c, const tally_csv_field *rf,
                       row_cache *rc, size_t *node)
{
    int r = 1;
    if (rc->on && rc->region) {
        if (rc->region_len == rf->len && same_bytes(rc->region, rf->ptr, rf->len)) {
            *node = rc->node;
            return 0;
        }
        /* Records sorted by code meet the regions in pre-order: the next
         * region is most often one or two nodes on (a village, or the
         * village after a town). Codes are unique, so a node whose code is
         * these bytes is the one the lookup would find. */
        for (size_t k = rc->node + 1; k < rc->node + 3 && k < ds->nodes; k++) {
            const char *code = tally_hierarchy_code(ds->h, k);
            size_t i = 0;
            while (i < rf->len && code[i] != '\0' && code[i] == rf->ptr[i])
                i++;
            if (i == rf->len && code[i] == '\0') {
                *node = k;
                r = 0;
                break;
            }
        }
    }
    if (r)
        r = tally_hierarchy_find(ds->h, rf->ptr, rf->len, node);
    if (r == 0 && rc->on && in_input(c, rf)) {
        rc->region = rf->ptr;
        rc->region_len = rf->len;
        rc->node = *node;
    }
    return r;
}

static int find_period(const tally_csv_field *pf, row_cache *rc, int32_t *key)
{
    if (rc->on && rc->period_len && rc->period_len == pf->len &&
        same_bytes(rc->period, pf->ptr, pf->len)) {
        *key = rc->key;
        return 0;
    }
    int r = tally_period__parse(pf->ptr, pf->len, key);
    if (r == 0 && rc->on && pf->len < sizeof rc->period) {
        memcpy(rc->period, pf->ptr, pf->len);
        rc->period_len = pf->len;
        rc->key = *key;
    }
    return r;
}

static int find_indicator(const tally_dataset *ds, const tally_csv_field *f, row_cache *rc,
                          size_t *ind)
{
    ind_entry *e = NULL;
    if (rc->on && f->len && f->len <= sizeof e->id) {
        const unsigned char *u = (const unsigned char *)f->ptr;
        e = &rc->ind[(f->len * 31u + u[f->len - 1] * 7u + u[f->len / 2]) & (IND_CACHE - 1)];
        if (e->len == f->len && same_bytes(e->id, f->ptr, f->len)) {
            *ind = e->ind;
            return 0;
        }
    }
    int r = tally_definitions_find(ds->d, f->ptr, f->len, ind);
    if (r == 0 && e) {
        memcpy(e->id, f->ptr, f->len);
        e->len = f->len;
        e->ind = *ind;
    }
    return r;
}

/* The column of (ind, key), through the cache; NULL when out of memory. */
static tally_column *column_of(tally_dataset *ds, row_cache *rc, size_t ind, int32_t key)
{
    if (rc->on && rc->col[ind] && rc->col_period[ind] == key)
        return &ds->columns[rc->col[ind] - 1];
    tally_column *col = get_column(ds, ind, key);
    if (col && rc->on) {
        rc->col[ind] = (size_t)(col - ds->columns) + 1;
        rc->col_period[ind] = key;
    }
    return col;
}

/* The common row of a long records file, read and stored in one pass: no
 * quote, the header's number of fields, within the limits, and region,
 * period, indicator and column all answered by the row cache (so by the
 * lookups of rows before), a value that is empty or simple_number's, and
 * no value given before. 1 when the row was read and stored, with the
 * reader left exactly as tally_csv__next and read_row would leave it
 * (except c->fields, which nothing reads after an accepted row); 0, with
 * nothing changed, for any other row, which then takes the general path
 * (and gets its error, or fills the cache for the rows after it). The
 * separators are found 16 bytes at a time; the last 15 bytes of the input
 * are left to the general path. */
static int read_row_fast(tally_dataset *ds, tally_csv *c, const layout *lay, row_cache *rc)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const char *d = c->data;
    size_t n = c->size, p = c->pos, q = p, nf = 0, nfields = lay->nfields;
    size_t sep[8]; /* where each field ends: ',' or '\n' */
    if (!rc->on || lay->wide_indicator || nfields > 8 || p >= n || d[p] == '\n' || d[p] == '\r')
        return 0;
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
    for (;; q += 16) {
        if (n - q < 16)
            return 0;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d + q));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)), _mm_cmpeq_epi8(v, quote)));
        for (; m; m &= m - 1) {
            size_t at = q + (size_t)__builtin_ctz(m);
            if (d[at] == '"' || nf == nfields)
                return 0;
            sep[nf++] = at;
            if (d[at] == '\n')
                goto row;
        }
    }
row:
    if (nf != nfields)
        return 0;
    /* Field f is [start(f), end(f)); the last one without a CR before '\n'. */
#define START(f) ((f) ? sep[(f) - 1] + 1 : p)
    size_t last_start = START(nf - 1), row_end = sep[nf - 1];
    if (row_end > last_start && d[row_end - 1] == '\r')
        row_end--;
#define END(f) ((f) == nf - 1 ? row_end : sep[f])
    if (c->max_fields && nf > c->max_fields)
        return 0;
    if (c->max_field_bytes && row_end - p > c->max_field_bytes) /* no field is longer */
        for (size_t f = 0; f < nf; f++)
            if (END(f) - START(f) > c->max_field_bytes)
                return 0;
    /* The region may change from row to row: find_region's cache and its
     * look at the next nodes answer most of those rows too. (A region it
     * does not find leaves the error to the general path, which finds
     * the same.) */
    size_t f = (size_t)lay->region, a = START(f), len = END(f) - a, node;
    tally_csv_field rf = { d + a, len, a };
    if (rc->region && rc->region_len == len && same_bytes(rc->region, d + a, len))
        node = rc->node;
    else if (find_region(ds, c, &rf, rc, &node))
        return 0;
    f = (size_t)lay->period, a = START(f), len = END(f) - a;
    if (!rc->period_len || rc->period_len != len || !same_bytes(rc->period, d + a, len))
        return 0;
    int32_t key = rc->key;
    f = (size_t)lay->indicator, a = START(f), len = END(f) - a;
    if (!len || len > sizeof rc->ind[0].id)
        return 0;
    const unsigned char *u = (const unsigned char *)d + a;
    const ind_entry *e = &rc->ind[(len * 31u + u[len - 1] * 7u + u[len / 2]) & (IND_CACHE - 1)];
    if (e->len != len || !same_bytes(e->id, d + a, len))
        return 0;
    size_t ind = e->ind;
    f = (size_t)lay->value, a = START(f), len = END(f) - a;
    double value = NAN;
    int present = len != 0;
    if (present && !simple_number(d + a, len, &value))
        return 0;
    if (!rc->col[ind] || rc->col_period[ind] != key)
        return 0;
    tally_column *col = &ds->columns[rc->col[ind] - 1];
    if (store_in(ds, col, node, value, present)) /* given before: the general path says so */
        return 0;
#undef START
#undef END
    c->nfields = 0;
    c->line = c->next_line;
    c->row_start = p;
    c->row_end = row_end;
    c->pos = sep[nf - 1] + 1;
    c->next_line++;
    return 1;
#else
    (void)ds;
    (void)c;
    (void)lay;
    (void)rc;
    return 0;
#endif
}

/* Reads one data row; 0 accepted, else an error recorded. */
static int read_row(tally_dataset *ds, const tally_csv *c, const layout *lay, row_cache *cache)
{
    if (c->nfields != lay->nfields)
        return tally_csv__error_at_field(c, c->nfields < lay->nfields ? c->nfields : lay->nfields,
                                         TALLY_EPARSE,
                                         "row has %zu fields; expected %zu as in the header",
                                         c->nfields, lay->nfields);
    const tally_csv_field *rf = &c->fields[lay->region];
    size_t node;
    if (find_region(ds, c, rf, cache, &node))
        return tally_csv__error_at_field(c, (size_t)lay->region, TALLY_ENOTFOUND,
                                         "unknown region code '%.*s'; expected a code of the hierarchy",
                                         (int)rf->len, rf->ptr);
    const tally_csv_field *pf = &c->fields[lay->period];
    int32_t key;
    if (find_period(pf, cache, &key))
        return tally_csv__error_at_field(c, (size_t)lay->period, TALLY_EPARSE,
                                         "bad period '%.*s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                         (int)pf->len, pf->ptr);
    if (!lay->wide_indicator) {
        const tally_csv_field *inf = &c->fields[lay->indicator];
        size_t ind;
        if (find_indicator(ds, inf, cache, &ind))
            return tally_csv__error_at_field(c, (size_t)lay->indicator, TALLY_ENOTFOUND,
                                             "unknown indicator '%.*s'; expected an id from the definitions",
                                             (int)inf->len, inf->ptr);
        double v;
        int present, rc = parse_value(c, (size_t)lay->value, &v, &present, cache->on);
        if (rc)
            return rc;
        tally_column *col = column_of(ds, cache, ind, key);
        rc = col ? store_in(ds, col, node, v, present) : TALLY_ENOMEM;
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
        int present, rc = parse_value(c, f, &v, &present, cache->on);
        if (rc)
            return rc;
        const tally_column *col = tally_dataset__find_column(ds, lay->wide_indicator[f], key);
        if (col && tally_bit__get(col->seen, node))
            return duplicate(c, f, ds, node, lay->wide_indicator[f], key);
    }
    for (size_t f = 0; f < c->nfields; f++) {
        if (lay->wide_indicator[f] == TALLY_NONE)
            continue;
        double v;
        int present;
        parse_value(c, f, &v, &present, cache->on);
        int rc = store(ds, node, lay->wide_indicator[f], key, v, present);
        if (rc)
            return tally_error__set(rc, "out of memory storing a value");
    }
    return 0;
}

static int read_buffer(tally_dataset *ds, const char *data, size_t size, const char *name,
                       const tally_read_options *opts, tally_rejects *rejects,
                       tally_read_stats *stats, int plain);

TALLY_EXTERN(int) tally_dataset_read_buffer(tally_dataset *ds, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 0);
}

int tally_dataset__read_buffer_plain(tally_dataset *ds, const char *data, size_t size,
                                     const char *name, const tally_read_options *opts,
                                     tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 1);
}

int tally_dataset__read_buffer_rows(tally_dataset *ds, const char *data, size_t size,
                                    const char *name, const tally_read_options *opts,
                                    tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(ds, data, size, name, opts, rejects, stats, 2);
}

static int read_buffer(tally_dataset *ds, const char *data, size_t size, const char *name,
                       const tally_read_options *opts, tally_rejects *rejects,
                       tally_read_stats *stats, int plain)
{
    tally_read_options defaults = TALLY_READ_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    tally_read_stats st = { 0, 0, 0 };
    if (stats)
        *stats = st;
    if (!ds || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_dataset_read_buffer: NULL argument");
    int collect = opts->on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected rows needs a tally_rejects list");

    tally_csv_input in;
    int rc = tally_csv__input_open(&in, data, size, name, opts);
    if (rc)
        return rc;
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, name);
    tally_csv__input_apply(&in, &c);
    layout lay = { -1, -1, -1, -1, NULL, 0 };
    rc = read_header(ds, &c, &lay);
    if (rc) {
        if (rc != TALLY_ENOMEM)
            tally_csv__hint_encoding(&in, &c);
        free(lay.wide_indicator);
        tally_csv__fini(&c);
        tally_csv__input_close(&in);
        return rc;
    }
    row_cache *cache = calloc(1, sizeof *cache);
    size_t nind = tally_definitions_indicator_count(ds->d);
    if (cache && plain != 1) {
        cache->col = calloc(nind ? nind : 1, sizeof *cache->col);
        cache->col_period = calloc(nind ? nind : 1, sizeof *cache->col_period);
        /* Without the cache's memory the rows are read the plain way. */
        cache->on = cache->col && cache->col_period;
    }
    if (!cache) {
        free(lay.wide_indicator);
        tally_csv__fini(&c);
        tally_csv__input_close(&in);
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    for (;;) {
        if (plain == 0 && read_row_fast(ds, &c, &lay, cache)) {
            st.rows_read++;
            st.rows_accepted++;
            continue;
        }
        int r = plain == 1 ? tally_csv__next_plain(&c) : tally_csv__next(&c);
        if (r == 0)
            break;
        if (r == TALLY_ENOMEM) {
            rc = r;
            break;
        }
        st.rows_read++;
        if (r > 0)
            r = read_row(ds, &c, &lay, cache);
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
        tally_csv__hint_encoding(&in, &c);
        if (rejects && tally_rejects__add(rejects, &c)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
            break;
        }
        if (!collect) {
            rc = r;
            break;
        }
    }
    free(cache->col);
    free(cache->col_period);
    free(cache);
    free(lay.wide_indicator);
    tally_csv__fini(&c);
    tally_csv__input_close(&in);
    if (stats)
        *stats = st;
    return rc;
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
    rc = tally_dataset_read_buffer(ds, m.data, m.size, path, opts, rejects, stats);
    tally_util__unmap(&m);
    return rc;
}

int tally_csv__read_rows(const char *data, size_t size, const char *name,
                         const tally_read_options *opts, tally_rejects *rejects,
                         tally_read_stats *stats, tally_csv_header_fn header,
                         tally_csv_row_fn row, void *ctx)
{
    tally_read_options defaults = TALLY_READ_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    tally_read_stats st = { 0, 0, 0 };
    if (stats)
        *stats = st;
    if (!data && size)
        return tally_error__set(TALLY_EINVAL, "reading %s: NULL data", name ? name : "<buffer>");
    int collect = opts->on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected rows needs a tally_rejects list");
    tally_csv_input in;
    int rc = tally_csv__input_open(&in, data ? data : "", size, name, opts);
    if (rc)
        return rc;
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, name);
    tally_csv__input_apply(&in, &c);
    rc = header(ctx, &c);
    if (rc && rc != TALLY_ENOMEM)
        tally_csv__hint_encoding(&in, &c);
    while (!rc) {
        int r = tally_csv__next(&c);
        if (r == 0)
            break;
        if (r == TALLY_ENOMEM) {
            rc = r;
            break;
        }
        st.rows_read++;
        if (r > 0)
            r = row(ctx, &c);
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
        tally_csv__hint_encoding(&in, &c);
        if (rejects && tally_rejects__add(rejects, &c)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
            break;
        }
        if (!collect)
            rc = r;
    }
    tally_csv__fini(&c);
    tally_csv__input_close(&in);
    if (stats)
        *stats = st;
    return rc;
}

/* ---- whole columns, for snapshots ---- */

int tally_dataset__adopt_column(tally_dataset *ds, const tally_column *c, size_t cells)
{
    if (find_slot(ds, c->indicator, c->period) >= 0)
        return TALLY_EEXIST;
    if ((ds->ncolumns + 1) * 2 > ds->slots_cap &&
        rehash(ds, ds->slots_cap ? ds->slots_cap * 2 : 64))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&ds->columns, &ds->columns_cap, ds->ncolumns + 1,
                         sizeof *ds->columns))
        return TALLY_ENOMEM;
    ds->columns[ds->ncolumns++] = *c;
    if (rehash(ds, ds->slots_cap)) { /* place the new column; on failure, give it back */
        ds->ncolumns--;
        return TALLY_ENOMEM;
    }
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

/* ---- handing values over to a rollup (tally_rollup_take) ---- */

double *tally_dataset__take_values(tally_dataset *ds, size_t i)
{
    if (i >= ds->ncolumns || !ds->columns[i].values ||
        (ds->nmaps && in_map(ds, ds->columns[i].values)))
        return NULL;
    double *v = ds->columns[i].values;
    ds->columns[i].values = NULL;
    return v;
}

void tally_dataset__clear(tally_dataset *ds)
{
    for (size_t i = 0; i < ds->ncolumns; i++) {
        tally_column *c = &ds->columns[i];
        if (ds->nmaps && (in_map(ds, c->valid) || (c->values && in_map(ds, c->values))))
            continue; /* the arrays live in a snapshot's mapping */
        free(c->values);
        free(c->valid);
        free(c->seen);
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
