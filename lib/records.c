/* The records reader: a records CSV (long or wide) into a dataset's
 * columns. Lookups are cached from row to row and the common rows of a
 * long file are read in one pass; a large input is read by several threads
 * (records_parallel.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "records.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "carry.h"
#include "definitions.h"
#include "definitions_categories.h"
#include "columns.h"
#include "csv_fast.h"
#include "error.h"
#include "hierarchy.h"
#include "period.h"
#include "rejects.h"
#include "tally/snapshot.h"

/* ---- records reader ---- */


/* 1 when the definitions' ignore_columns name the field. */
static int ignored(const tally_definitions *d, const tally_csv_field *f)
{
    for (size_t i = 0; i < tally_definitions_ignore_column_count(d); i++) {
        const char *name = tally_definitions_ignore_column(d, i);
        if (strlen(name) == f->len && memcmp(name, f->ptr, f->len) == 0)
            return 1;
    }
    return 0;
}

static int read_header(tally_dataset *ds, tally_csv *c, tally_records__layout *lay)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row region_code,indicator,period,value");
    lay->nfields = c->nfields;
    /* Each key column by its name or a common Chinese one (columns.c);
     * a key given twice: which one holds the value? Refuse it. (The wide
     * layout refuses an indicator given twice below.) */
    static const char *const keys[] = { "region_code", "indicator", "period", "value",
                                        "region_name" };
    long at[5] = { -1, -1, -1, -1, -1 };
    for (size_t i = 0; i < c->nfields; i++) {
        const char *key = tally_columns__records_key(ds->d, c->fields[i].ptr, c->fields[i].len);
        for (size_t k = 0; key && k < 5; k++) {
            if (strcmp(key, keys[k]) != 0)
                continue;
            if (at[k] >= 0)
                return tally_csv__error_at_field(
                    c, i, TALLY_EEXIST,
                    "column '%.*s' is given twice in the header (also column %ld); expected "
                    "each column once",
                    (int)c->fields[i].len, c->fields[i].ptr, at[k] + 1);
            at[k] = (long)i;
        }
    }
    lay->region = at[0];
    lay->indicator = at[1];
    lay->period = at[2];
    lay->value = at[3];
    lay->region_name = at[4];
    lay->wide_indicator = NULL;
    if (lay->region < 0 || lay->period < 0)
        return tally_csv__error_at_field(
            c, 0, TALLY_EPARSE,
            "header has no '%s' column; expected region_code,indicator,period,value "
            "(long) or region_code,period,<indicator id>... (wide)",
            lay->region < 0 ? "region_code" : "period");
    if (lay->indicator >= 0 && lay->value >= 0) {
        /* Long: a column that is neither known nor declared in
         * ignore_columns is refused, so that rows that differ only there
         * (a cause, a sex) are not read as duplicates of each other. */
        for (size_t i = 0; i < c->nfields; i++) {
            /* A category's column (named by its id): the row's option. */
            long cat = tally_definitions__find_category(ds->d, c->fields[i].ptr, c->fields[i].len);
            if (cat >= 0 && !tally_columns__records_key(ds->d, c->fields[i].ptr, c->fields[i].len)) {
                size_t nc = tally_definitions_category_count(ds->d);
                if (!lay->category) {
                    if (!(lay->category = malloc(nc * sizeof *lay->category)))
                        return tally_error__set(TALLY_ENOMEM, "out of memory");
                    for (size_t k = 0; k < nc; k++)
                        lay->category[k] = -1;
                }
                if (lay->category[cat] >= 0)
                    return tally_csv__error_at_field(
                        c, i, TALLY_EEXIST,
                        "column '%.*s' is given twice in the header (also column %ld); "
                        "expected each column once",
                        (int)c->fields[i].len, c->fields[i].ptr, lay->category[cat] + 1);
                lay->category[cat] = (long)i;
                continue;
            }
            if (!tally_columns__records_key(ds->d, c->fields[i].ptr, c->fields[i].len) &&
                !ignored(ds->d, &c->fields[i])) {
                char near[160];
                tally_columns__nearest(NULL, 0, c->fields[i].ptr, c->fields[i].len, near,
                                       sizeof near);
                return tally_csv__error_at_field(
                    c, i, TALLY_EPARSE,
                    "unknown column '%.*s'%s; expected region_code, indicator, period, value "
                    "and optionally region_name (or their Chinese names, docs/input-files.md), "
                    "or the column named in the definitions' ignore_columns (a category's column "
                    "is named by a category id of the definitions' categories)",
                    (int)c->fields[i].len, c->fields[i].ptr, near);
            }
        }
        return 0;
    }
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
        if ((long)i == lay->region || (long)i == lay->period || (long)i == lay->region_name)
            continue;
        size_t ind;
        if (tally_columns__find_indicator(ds->d, c->fields[i].ptr, c->fields[i].len, &ind)) {
            if (ignored(ds->d, &c->fields[i]))
                continue;
            char near[160];
            tally_columns__nearest(ds->d, 0, c->fields[i].ptr, c->fields[i].len, near,
                                   sizeof near);
            return tally_csv__error_at_field(
                c, i, TALLY_ENOTFOUND,
                "header column '%.*s' is not an indicator id or name%s; expected region_code, "
                "period and indicators (wide format) or indicator,value (long format), or a "
                "column named in the definitions' ignore_columns",
                (int)c->fields[i].len, c->fields[i].ptr, near);
        }
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
    if (fast && tally_csv__simple_number(fl->ptr, fl->len, v)) {
        *present = 1;
        return 0;
    }
    int rc = tally_util__parse_number(fl->ptr, fl->len, v);
    if (rc == TALLY_EPARSE) /* "1,989", full-width １２: as Excel leaves them */
        rc = tally_util__parse_number_relaxed(fl->ptr, fl->len, v);
    if (rc == TALLY_ERANGE)
        return tally_csv__error_at_field(c, f, TALLY_ERANGE,
                                         "number '%.*s' is out of range; expected a finite number",
                                         (int)fl->len, fl->ptr);
    if (rc == TALLY_ENOMEM)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    if (rc == TALLY_UTIL__INEXACT)
        return tally_csv__error_at_field(c, f, TALLY_ERANGE, "number '%.*s' " TALLY_UTIL__INEXACT_TEXT,
                                         (int)fl->len, fl->ptr);
    if (rc)
        return tally_csv__error_at_field(
            c, f, TALLY_EPARSE,
            "bad number '%.*s'; expected a decimal number like 12, -3.5 or 1e6, or an empty cell",
            (int)fl->len, fl->ptr);
    *present = 1;
    return 0;
}

/* A value of an indicator that counts whole units (decimals 0, exact)
 * with a fraction is a slip (1.2 people: a value in 万人?), not a count. */
static int check_whole(const tally_records__reader *rd, const tally_csv *c, size_t f, size_t ind,
                       double v)
{
    if (!rd->whole[ind] || v == floor(v))
        return 0;
    const tally_definitions *d = rd->ds->d;
    const char *unit = tally_definitions_unit(d, ind);
    return tally_csv__error_at_field(
        c, f, TALLY_EINVAL,
        "%.*s is not a whole number; %s counts whole %s (decimals: 0, exact); expected a whole "
        "number, or decimals and exact: false in the definitions",
        (int)c->fields[f].len, c->fields[f].ptr, tally_definitions_name(d, ind),
        unit && *unit ? unit : "units");
}

/* Compares a row's region_name with the hierarchy's name for its code; a
 * difference is a warning (a mistyped code is the common cause), not a
 * bad row. 0 or TALLY_ENOMEM. */
static int check_region_name(tally_records__reader *rd, const tally_csv *c, size_t node)
{
    const tally_records__layout *lay = rd->lay;
    if (lay->region_name < 0 || !rd->warn)
        return 0;
    const tally_csv_field *nf = &c->fields[lay->region_name];
    const char *name = tally_hierarchy_name(rd->ds->h, node);
    if (!nf->len || (strlen(name) == nf->len && memcmp(name, nf->ptr, nf->len) == 0))
        return 0;
    return tally_rejects__warn(rd->warn, c, (size_t)lay->region_name,
                               "%s is %s in the hierarchy, the row says %.*s",
                               tally_hierarchy_code(rd->ds->h, node), name, (int)nf->len,
                               nf->ptr)
               ? tally_error__set(TALLY_ENOMEM, "out of memory collecting warnings")
               : 0;
}

/* A column that could not be made for a row: past the dataset's memory
 * budget (TALLY_ELIMIT at the row's period, which asked for it) or out of
 * memory. */
static int column_failed(const tally_csv *c, size_t f, const tally_dataset *ds)
{
    unsigned long line, col;
    tally_csv__locate(c, f < c->nfields ? c->fields[f].offset : c->row_end, &line, &col);
    return tally_dataset__column_error(ds, c->name, line, col);
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

/* ---- where the rows go ---- */

static void own_bits_free(tally_records__own_bits *o, size_t nodes)
{
    if (o->seen)
        munmap(o->seen, tally_records__own_bits_bytes(nodes));
    o->seen = o->valid = NULL;
}

/* What the one-pass row needs to map a row's category cells to its
 * indicator slot as category_slot does: the category columns with their
 * options, and where each indicator takes each of them (catpos). */
static int category_fast_init(tally_records__reader *rd, size_t nind)
{
    const tally_definitions *d = rd->ds->d;
    const long *cf = rd->lay->category;
    size_t nc = tally_definitions_category_count(d), n = 0;
    for (size_t k = 0; k < nc; k++)
        n += cf[k] >= 0;
    if (!n)
        return 0;
    if (!(rd->cat = calloc(n, sizeof *rd->cat)) ||
        !(rd->catpos = malloc((nind ? nind : 1) * n)))
        return TALLY_ENOMEM;
    for (size_t k = 0; k < nc; k++) {
        if (cf[k] < 0)
            continue;
        tally_records__cat_col *m = &rd->cat[rd->ncat++];
        m->field = (size_t)cf[k];
        m->category = k;
        m->nopts = tally_definitions_option_count(d, k);
        if (!(m->opts = calloc(m->nopts ? m->nopts : 1, sizeof *m->opts)))
            return TALLY_ENOMEM;
        for (size_t q = 0; q < m->nopts; q++) {
            const char *id = tally_definitions_option_id(d, k, q);
            m->opts[q].id = id;
            m->opts[q].len = strlen(id);
            m->opts[q].head = tally_csv__key_head(id, m->opts[q].len);
        }
    }
    for (size_t i = 0; i < nind; i++)
        for (size_t m = 0; m < rd->ncat; m++)
            rd->catpos[i * rd->ncat + m] =
                (signed char)(tally_definitions__base(d, i) == i
                                  ? tally_definitions__by_position(d, i, rd->cat[m].category)
                                  : -1);
    return 0;
}

int tally_records__reader_init(tally_records__reader *rd, tally_dataset *ds,
                               const tally_records__layout *lay, int on)
{
    memset(rd, 0, sizeof *rd);
    rd->ds = ds;
    rd->lay = lay;
    rd->on = on;
    rd->cells = &ds->cells;
    size_t nind = tally_definitions_indicator_count(ds->d);
    rd->cols = calloc(nind ? nind : 1, sizeof *rd->cols);
    rd->whole = calloc(nind ? nind : 1, 1);
    if (!rd->cols || !rd->whole)
        return TALLY_ENOMEM;
    for (size_t i = 0; i < nind; i++)
        rd->whole[i] = (unsigned char)tally_definitions__whole(ds->d, i);
    return on && lay->category && !lay->wide_indicator ? category_fast_init(rd, nind) : 0;
}

void tally_records__reader_fini(tally_records__reader *rd)
{
    for (size_t i = 0; i < rd->nown; i++)
        own_bits_free(&rd->own[i], rd->ds->nodes);
    free(rd->own);
    free(rd->cols);
    free(rd->whole);
    for (size_t m = 0; rd->cat && m < rd->ncat; m++)
        free(rd->cat[m].opts);
    free(rd->cat);
    free(rd->catpos);
    rd->cat = NULL;
    rd->catpos = NULL;
    rd->ncat = 0;
    rd->own = NULL;
    rd->cols = NULL;
    rd->whole = NULL;
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

static inline size_t ind_slot(uint64_t head, size_t len)
{
    return (size_t)(((head ^ len) * 0x9E3779B97F4A7C15ULL) >> 58) & (TALLY_RECORDS__IND_CACHE - 1);
}

static int find_region(tally_records__reader *rd, const char *s, size_t len, size_t *node)
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

static int find_period(tally_records__reader *rd, const char *s, size_t len, int32_t *key)
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

static int find_indicator(tally_records__reader *rd, const char *s, size_t len, size_t *ind)
{
    tally_records__ind_entry *e = NULL;
    uint64_t head = 0;
    if (rd->on && len && len <= sizeof e->id) {
        head = tally_csv__key_head(s, len);
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

/* e's arrays and range: column c's. */
static void ref_arrays(tally_records__col_ref *e, const tally_column *c)
{
    e->lo = c->lo;
    e->span = c->hi - c->lo;
    e->values = c->values;
    e->before = c->seen;
    e->seen = c->seen;
    e->valid = c->valid;
}

/* The column of (ind, key), created on first use, for the field at byte
 * `order` (a parallel read puts the columns it made in the order of the
 * fields that first asked for them, as a serial read makes them). NULL
 * when out of memory (no error recorded). */
static tally_records__col_ref *column_ref(tally_records__reader *rd, size_t ind, int32_t key,
                                          size_t order)
{
    tally_records__col_ref *e = &rd->cols[ind];
    if (rd->on && e->index && e->period == key)
        return e;
    if (rd->par)
        return tally_records__par_column(rd, ind, key, order, e);
    tally_column *c = tally_dataset__get_column(rd->ds, ind, key);
    if (!c)
        return NULL;
    e->index = (size_t)(c - rd->ds->columns) + 1;
    e->period = key;
    ref_arrays(e, c);
    return e;
}

/* Grows e's column to hold node (a serial read): 0 or TALLY_ENOMEM. */
static int cover_ref(tally_records__reader *rd, tally_records__col_ref *e, size_t node)
{
    tally_column *c = &rd->ds->columns[e->index - 1];
    if (tally_dataset__cover(rd->ds, c, node)) {
        if (c->hi == c->lo) { /* made for this cell: it goes */
            tally_dataset__drop_empty(rd->ds);
            e->index = 0;
        }
        return TALLY_ENOMEM;
    }
    ref_arrays(e, c);
    return 0;
}

/* 1 when the cell (ind, key, node) was given before, without creating its
 * column. */
static int given_before(tally_records__reader *rd, size_t ind, int32_t key, size_t node)
{
    const tally_records__col_ref *e = &rd->cols[ind];
    if (rd->on && e->index && e->period == key)
        return node - e->lo < e->span &&
               (tally_bit__get(e->before, node) | tally_bit__get(e->seen, node));
    if (rd->par)
        return tally_records__par_given(rd, ind, key, node);
    const tally_column *c = tally_dataset__find_column(rd->ds, ind, key);
    return c && tally_column__seen(c, node);
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

/* Stores one cell: 0, TALLY_EEXIST (given before; nothing changes) or
 * TALLY_ENOMEM (the column could not grow to hold it). */
static inline int store_ref(tally_records__reader *rd, tally_records__col_ref *e, size_t node,
                            double v, int present)
{
    if (node - e->lo >= e->span && cover_ref(rd, e, node))
        return TALLY_ENOMEM;
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

static int read_row_values(tally_records__reader *rd, const tally_csv *c, size_t *node_out);

/* A code like 4.30602E+11: a digit, an optional fraction, E, an optional
 * sign and digits, the shape Excel gives a long code it took for a number. */
static int excel_scientific(const char *s, size_t len)
{
    size_t i = 0;
    if (i == len || (unsigned)(s[i] - '0') > 9)
        return 0;
    i++;
    if (i < len && s[i] == '.')
        while (++i < len && (unsigned)(s[i] - '0') <= 9)
            ;
    if (i == len || (s[i] != 'E' && s[i] != 'e'))
        return 0;
    if (++i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t start = i;
    while (i < len && (unsigned)(s[i] - '0') <= 9)
        i++;
    return i > start && i == len;
}

/* The error for a region code not in the hierarchy (nor kept aside). */
static int unknown_region(const tally_csv *c, size_t f)
{
    const tally_csv_field *rf = &c->fields[f];
    if (excel_scientific(rf->ptr, rf->len))
        return tally_csv__error_at_field(
            c, f, TALLY_ENOTFOUND,
            "region code '%.*s' looks like a number Excel wrote in scientific notation; format "
            "the column as text in Excel, or give the xlsx file (tally reads codes from it exactly)",
            (int)rf->len, rf->ptr);
    return tally_csv__error_at_field(c, f, TALLY_ENOTFOUND,
                                     "unknown region code '%.*s'; expected a code of the hierarchy",
                                     (int)rf->len, rf->ptr);
}

/* A rejected row whose region code is known (it was found before the
 * field that is wrong): the region's name beside its code, for the person
 * who has to find the row in a sheet of names. */
static void name_region(const tally_records__reader *rd, const tally_csv *c)
{
    long f = rd->lay->region;
    if (f < 0 || (size_t)f >= c->nfields || !c->fields[f].len)
        return;
    const tally_csv_field *rf = &c->fields[f];
    tally_error__kept kept;
    tally_error__keep(&kept);
    size_t node;
    int found = tally_hierarchy_find(rd->ds->h, rf->ptr, rf->len, &node) == 0;
    tally_error__put_back(&kept);
    const char *name = found ? tally_hierarchy_name(rd->ds->h, node) : NULL;
    /* A message that names the region already (a duplicate) is left so. */
    char code[64];
    snprintf(code, sizeof code, "%.*s", (int)rf->len, rf->ptr);
    if (name && *name && !strstr(tally_error_last()->message, code))
        tally_error__append(" (%s %s)", code, name);
}

/* Reads one data row; 0 accepted, else an error recorded. */
static int read_row(tally_records__reader *rd, const tally_csv *c)
{
    size_t node = 0;
    int rc = read_row_values(rd, c, &node);
    /* A row kept aside for the crosswalk has no region here yet. */
    return rc || node == SIZE_MAX ? rc : check_region_name(rd, c, node);
}

/* A long row's indicator slot: indicator `ind` of the row with the options
 * in its category columns (an empty cell: the total of that category). A
 * category the indicator is not broken down by, or an option the category
 * does not have, is an error at the cell. */
static int category_slot(const tally_records__reader *rd, const tally_csv *c, size_t *ind)
{
    const tally_definitions *d = rd->ds->d;
    const long *cf = rd->lay->category;
    int opt[TALLY_DEFINITIONS__MAX_BY] = { -1, -1, -1, -1 };
    int any = 0;
    for (size_t k = 0; k < tally_definitions_category_count(d); k++) {
        if (cf[k] < 0 || c->fields[cf[k]].len == 0)
            continue;
        const tally_csv_field *f = &c->fields[cf[k]];
        const tally_csv_field *inf = &c->fields[rd->lay->indicator];
        long j = tally_definitions__by_position(d, *ind, k);
        if (j >= 0 && tally_definitions__base(d, *ind) != *ind)
            return tally_csv__error_at_field(
                c, (size_t)cf[k], TALLY_EINVAL,
                "column '%s' gives '%.*s' for '%.*s', which names its options already; "
                "expected an empty cell, or the indicator's own id",
                tally_definitions_category_id(d, k), (int)f->len, f->ptr, (int)inf->len,
                inf->ptr);
        if (j < 0)
            return tally_csv__error_at_field(
                c, (size_t)cf[k], TALLY_EINVAL,
                "column '%s' gives '%.*s' for indicator '%.*s', which is not broken down by "
                "'%s'; expected an empty cell, or 'by: [%s]' on the indicator in the definitions",
                tally_definitions_category_id(d, k), (int)f->len, f->ptr, (int)inf->len, inf->ptr,
                tally_definitions_category_id(d, k), tally_definitions_category_id(d, k));
        long o = tally_definitions__find_option(d, k, f->ptr, f->len);
        if (o < 0) {
            char list[512] = "";
            size_t used = 0;
            for (size_t q = 0; q < tally_definitions_option_count(d, k) && used < sizeof list; q++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", q ? ", " : "",
                                         tally_definitions_option_id(d, k, q));
            return tally_csv__error_at_field(c, (size_t)cf[k], TALLY_ENOTFOUND,
                                             "unknown option '%.*s' of category '%s'; expected "
                                             "one of %s, or an empty cell for the total",
                                             (int)f->len, f->ptr,
                                             tally_definitions_category_id(d, k), list);
        }
        opt[j] = (int)o;
        any = 1;
    }
    if (any)
        *ind = tally_definitions__slot_at(d, *ind, opt);
    return 0;
}

static int read_row_values(tally_records__reader *rd, const tally_csv *c, size_t *node_out)
{
    const tally_records__layout *lay = rd->lay;
    tally_dataset *ds = rd->ds;
    if (c->nfields != lay->nfields)
        return tally_csv__error_at_field(c, c->nfields < lay->nfields ? c->nfields : lay->nfields,
                                         TALLY_EPARSE,
                                         "row has %zu fields; expected %zu as in the header",
                                         c->nfields, lay->nfields);
    const tally_csv_field *rf = &c->fields[lay->region];
    size_t node;
    int kept = 1;
    int unknown = find_region(rd, rf->ptr, rf->len, &node);
    if (unknown && ds->carry && lay->category)
        for (size_t k = 0; k < tally_definitions_category_count(ds->d); k++)
            if (lay->category[k] >= 0 && c->fields[lay->category[k]].len)
                return tally_csv__error_at_field(
                    c, (size_t)lay->region, TALLY_EINVAL,
                    "region code '%.*s' is not in the hierarchy, and a crosswalk does not carry "
                    "a row with an option of a category (column '%s'); expected a code of the "
                    "hierarchy",
                    (int)rf->len, rf->ptr, tally_definitions_category_id(ds->d, k));
    if (unknown && (kept = tally_carry__keep(ds, c, lay)) > 0)
        return unknown_region(c, (size_t)lay->region);
    if (kept <= 0) { /* an old code, kept for the crosswalk (carry.c), or its error */
        *node_out = SIZE_MAX;
        return kept;
    }
    *node_out = node;
    const tally_csv_field *pf = &c->fields[lay->period];
    int32_t key;
    if (find_period(rd, pf->ptr, pf->len, &key)) {
        if (tally_period__parse_ask(pf->ptr, pf->len, &key) == 0)
            return tally_csv__error_at_field(
                c, (size_t)lay->period, TALLY_EPARSE,
                "period '%.*s' is a span asked for, not a period records are dated by; expected "
                "a month YYYY-MM, a quarter YYYY-Qn or a year YYYY (record each month or quarter "
                "and ask for the span)",
                (int)pf->len, pf->ptr);
        return tally_csv__error_at_field(c, (size_t)lay->period, TALLY_EPARSE,
                                         "bad period '%.*s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                         (int)pf->len, pf->ptr);
    }
    if (!lay->wide_indicator) {
        const tally_csv_field *inf = &c->fields[lay->indicator];
        size_t ind;
        if (find_indicator(rd, inf->ptr, inf->len, &ind))
            return tally_csv__error_at_field(c, (size_t)lay->indicator, TALLY_ENOTFOUND,
                                             "unknown indicator '%.*s'; expected an id from the definitions",
                                             (int)inf->len, inf->ptr);
        if (lay->category) {
            int rc = category_slot(rd, c, &ind);
            if (rc)
                return rc;
        }
        double v;
        int present, rc = parse_value(c, (size_t)lay->value, &v, &present, rd->on);
        if (!rc && present)
            rc = check_whole(rd, c, (size_t)lay->value, ind, v);
        if (rc)
            return rc;
        tally_records__col_ref *col = column_ref(rd, ind, key, inf->offset);
        if (!col)
            return column_failed(c, (size_t)lay->period, ds);
        rc = store_ref(rd, col, node, v, present);
        if (rc == TALLY_EEXIST)
            return duplicate(c, (size_t)lay->region, ds, node, ind, key);
        if (rc)
            return column_failed(c, (size_t)lay->period, ds);
        return 0;
    }
    /* Wide: validate every cell first so a bad row stores nothing. */
    for (size_t f = 0; f < c->nfields; f++) {
        if (lay->wide_indicator[f] == TALLY_NONE)
            continue;
        double v;
        int present, rc = parse_value(c, f, &v, &present, rd->on);
        if (!rc && present)
            rc = check_whole(rd, c, f, lay->wide_indicator[f], v);
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
        tally_records__col_ref *col =
            column_ref(rd, lay->wide_indicator[f], key, c->fields[f].offset);
        if (!col)
            return column_failed(c, (size_t)lay->period, ds);
        if (store_ref(rd, col, node, v, present))
            return column_failed(c, (size_t)lay->period, ds);
    }
    return 0;
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
 * row after row, so a byte is looked at once; the last TALLY_CSV__FAST_TAIL bytes of
 * the input are left to the general path. The caches' keys are held in
 * locals: the stores into the bit arrays could otherwise change them as
 * far as the compiler knows, and it would load them again for every row. */
static size_t read_rows_fast(tally_records__reader *rd, tally_csv *c, size_t stop)
{
    const tally_records__layout *lay = rd->lay;
    const char *d = c->data;
    size_t n = c->size, p = c->pos, nfields = lay->nfields;
    if (!rd->on || lay->wide_indicator || (lay->category && !rd->catpos) ||
        lay->region_name >= 0 || nfields > 8 ||
        n < TALLY_CSV__FAST_TAIL || p > n - TALLY_CSV__FAST_TAIL ||
        (c->max_fields && nfields > c->max_fields) || !rd->period_len || rd->period_len > 8)
        return 0;
    size_t limit = n - TALLY_CSV__FAST_TAIL; /* the last block may start here */
    size_t maxb = c->max_field_bytes ? c->max_field_bytes : SIZE_MAX;
    size_t fr = (size_t)lay->region, fi = (size_t)lay->indicator, fp = (size_t)lay->period,
           fv = (size_t)lay->value;
    tally_csv__key16 region = { 0, 0, 0 };
    if (rd->region_len && rd->region_len <= 16)
        region = tally_csv__key16_of(rd->region, rd->region_len); /* 32 bytes: readable past it */
    size_t node0 = rd->node;
    const tally_csv__key16 period = tally_csv__key16_of(rd->period, rd->period_len);
    const int32_t key = rd->key;
    const tally_records__ind_entry *ind = rd->ind;
    const tally_records__cat_col *cat = rd->cat;
    const signed char *catpos = rd->catpos;
    const size_t ncat = rd->ncat;
    size_t rows = 0, base = p, last_start = 0, last_end = 0;
    /* bound[f] + 1 is where field f starts, bound[f + 1] where it ends. */
    size_t bound[9];
    uint64_t m = tally_csv__scan64(d + base);
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
                m = tally_csv__scan64(d + base);
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
        if (len && tally_csv__key16_is(&region, d + a, len)) {
            node = node0;
        } else {
            if (find_region(rd, d + a, len, &node)) /* the general path says why */
                goto out;
            node0 = node;
            region = (tally_csv__key16){ 0, 0, 0 };
            if (len <= 16)
                region = tally_csv__key16_of(d + a, len);
        }
        a = FS(fp), len = FE(fp) - a;
        if (!tally_csv__key16_is(&period, d + a, len))
            goto out;
        a = FS(fi), len = FE(fi) - a;
        if (!len || len > sizeof ind[0].id)
            goto out;
        uint64_t head = tally_csv__key_head_fast(d + a, len);
        const tally_records__ind_entry *e = &ind[ind_slot(head, len)];
        if (e->len != len || e->head != head ||
            (len > 8 && !same_bytes(e->id + 8, d + a + 8, len - 8)))
            goto out;
        size_t slot = e->ind;
        if (ncat) {
            /* The row's slot, as category_slot finds it; a cell it would
             * refuse is left to it. */
            int opt[TALLY_DEFINITIONS__MAX_BY] = { -1, -1, -1, -1 };
            int any = 0;
            const signed char *pos = catpos + slot * ncat;
            for (size_t k = 0; k < ncat; k++) {
                a = FS(cat[k].field), len = FE(cat[k].field) - a;
                if (!len)
                    continue;
                if (pos[k] < 0)
                    goto out;
                uint64_t oh = tally_csv__key_head_fast(d + a, len);
                const tally_records__opt_entry *o = cat[k].opts, *oend = o + cat[k].nopts;
                while (o < oend && (o->len != len || o->head != oh ||
                                    (len > 8 && !same_bytes(o->id + 8, d + a + 8, len - 8))))
                    o++;
                if (o == oend)
                    goto out;
                opt[pos[k]] = (int)(o - cat[k].opts);
                any = 1;
            }
            if (any)
                slot = tally_definitions__slot_at(rd->ds->d, slot, opt);
        }
        tally_records__col_ref *col = &rd->cols[slot];
        if (!col->index || col->period != key)
            goto out;
        a = FS(fv), len = FE(fv) - a;
        double value = NAN;
        if (len && !tally_csv__fast_number(d + a, len, &value))
            goto out;
        /* A fraction of a whole-number indicator: the general path refuses it. */
        if (len && rd->whole[slot] && value != (double)(int64_t)value)
            goto out;
        size_t w = node >> 6;
        uint64_t bit = (uint64_t)1 << (node & 63);
        /* Outside the column's range, or given before: the general path
         * grows the column, or says so. */
        if (node - col->lo >= col->span || ((col->before[w] | col->seen[w]) & bit))
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

/* Input pages are given back every this many bytes read. */
#define RELEASE_STEP ((size_t)1 << 20)

/* Returns 0, the first bad row's code in stop mode, TALLY_ENOMEM, or
 * TALLY_RECORDS__READ_AGAIN when another piece of a parallel read says so. */
int tally_records__read_rows(tally_records__rows_job *j)
{
    tally_csv *c = j->c;
    c->map = j->map;
    int rc = 0;
    for (;;) {
        if (j->stop && atomic_load_explicit(j->stop, memory_order_relaxed))
            return TALLY_RECORDS__READ_AGAIN;
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
        if (r > 0 && tally_csv__row_empty(c)) {
            j->empty_rows++;
            continue;
        }
        j->st.rows_read++;
        if (r > 0)
            r = read_row(j->rd, c);
        if (r == 0) {
            j->st.rows_accepted++;
            continue;
        }
        if (r == TALLY_ENOMEM || (r == TALLY_ELIMIT && j->rd->ds->over_budget)) {
            /* Out of memory, or past the dataset's budget: the read ends
             * here, the row is not a rejected one. */
            j->st.rows_read--;
            rc = r;
            break;
        }
        j->st.rows_rejected++;
        name_region(j->rd, c);
        tally_csv__hint_encoding(j->in, c);
        if (j->rejects && tally_rejects__add(j->rejects, c)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
            break;
        }
        if (j->ch)
            tally_records__keep_rejected_text(j);
        if (!j->collect) {
            rc = r;
            break;
        }
    }
    return rc;
}

/* ---- reading a records file ---- */

/* Threads of a read by default: one per online core, at most this many.
 * Each worker keeps 2 bits per region and column beside the 64 of the
 * values (3 % of them); past 8 workers that memory grows faster than the
 * reading does. */
#define DEFAULT_MAX_THREADS 8

/* The number of threads a read asks for. */
static size_t read_threads(const tally_read_options *opts)
{
    unsigned int t = opts && opts->version >= 3 ? opts->threads : 0;
    if (opts && opts->version >= 5 && opts->sheet)
        t = 1; /* a sheet's cells are placed by a serial read */
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
 * threads, piece: see tally_records__read_parallel (threads 1: serial). */
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
    /* A snapshot given where a records CSV is read (through a pipe, where
     * the command line cannot look first): said so, not parsed as CSV. */
    if (tally_snapshot_is(data, size))
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "a tally snapshot, not a records CSV: give the snapshot as a "
                                   "regular file (tally -r FILE, tally_snapshot_load), not "
                                   "through a pipe");
    ds->over_budget = 0;
    if (opts->version >= 4 && opts->max_dataset_bytes)
        ds->max_bytes = opts->max_dataset_bytes;
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
    tally_records__layout lay = { -1, -1, -1, -1, NULL, 0, -1, NULL };
    tally_records__reader rd;
    rc = read_header(ds, &c, &lay);
    if (rc) {
        if (rc != TALLY_ENOMEM)
            tally_csv__hint_encoding(&in, &c);
    } else if ((rc = tally_csv__note_detected(&in, &c, rejects)) != 0) {
        /* out of memory */
    } else if (tally_records__reader_init(&rd, ds, &lay, mode != 1)) {
        tally_records__reader_fini(&rd);
        rc = tally_error__set(TALLY_ENOMEM, "out of memory");
    } else {
        rd.warn = rejects;
        rc = TALLY_RECORDS__READ_AGAIN;
        /* Warnings are kept in file order by one reader, and so are the
         * rows a crosswalk carries. */
        if (mode == 0 && threads > 1 && lay.region_name < 0 && !ds->carry)
            rc = tally_records__read_parallel(ds, &lay, &in, c.name, give_back, collect, rejects,
                                              c.pos, c.next_line, threads, piece, &st);
        if (joined)
            *joined = rc != TALLY_RECORDS__READ_AGAIN;
        if (rc == TALLY_RECORDS__READ_AGAIN) {
            tally_records__rows_job j = { &rd, &c, &in, mode, collect, rejects, { 0, 0, 0 },
                                          give_back, c.pos, NULL, NULL, 0 };
            rc = tally_records__read_rows(&j);
            st = j.st;
            if (rejects)
                rejects->empty_rows += j.empty_rows;
        }
        if (rc != TALLY_ENOMEM && ds->carry) {
            int carried = tally_carry__apply(ds, collect, rejects, &st);
            rc = rc ? rc : carried;
        }
        tally_records__reader_fini(&rd);
    }
    free(lay.wide_indicator);
    free(lay.category);
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
    int rc = tally_util__map_file_capped(
        &m, path, opts && opts->version >= 4 ? opts->max_input_bytes : 0);
    if (rc)
        return rc;
    rc = read_buffer(ds, m.data, m.size, path, opts, rejects, stats, 0, &m, read_threads(opts),
                     0, NULL);
    tally_util__unmap(&m);
    return rc;
}
