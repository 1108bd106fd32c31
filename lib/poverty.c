/* Poverty: exit thresholds over a rollup, and FGT, Watts, Gini and the
 * median from household records.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/poverty.h"

#include <gsl/gsl_sort_double.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "util.h"
#include "write.h"

/* ==== Household records ==== */

/* No file: added by tally_households_add. */
#define NO_PATH UINT32_MAX

typedef struct household {
    size_t node;
    size_t id; /* offset of the NUL-terminated id in ids */
    unsigned long line;
    double size, income, weight;
    uint32_t id_len;
    uint32_t path; /* index into paths, or NO_PATH */
    int year;      /* 0: none */
} household;

typedef struct id_slot {
    uint64_t hash;
    size_t index; /* household index + 1; 0: empty */
} id_slot;

struct tally_households {
    const tally_hierarchy *h;
    household *items;
    size_t count, cap;
    char *ids;
    size_t ids_len, ids_cap;
    char **paths;
    size_t npaths, paths_cap;
    /* Open addressing on (id, year). A slot keeps the key's hash beside
     * the household index + 1 (0 = empty), so a probe touches the
     * household only when the hashes agree. */
    id_slot *slots;
    size_t slots_cap; /* power of two, or 0 */
};

TALLY_EXTERN(int) tally_households_new(tally_households **out, const tally_hierarchy *h)
{
    *out = NULL;
    if (!h)
        return tally_error__set(TALLY_EINVAL, "households need a hierarchy");
    tally_households *hh = calloc(1, sizeof *hh);
    if (!hh)
        return tally_error__set(TALLY_ENOMEM, "out of memory creating households");
    hh->h = h;
    *out = hh;
    return 0;
}

TALLY_EXTERN(void) tally_households_free(tally_households *hh)
{
    if (!hh)
        return;
    for (size_t i = 0; i < hh->npaths; i++)
        free(hh->paths[i]);
    free(hh->paths);
    free(hh->items);
    free(hh->ids);
    free(hh->slots);
    free(hh);
}

TALLY_EXTERN(const tally_hierarchy *) tally_households_hierarchy(const tally_households *hh)
{
    return hh ? hh->h : NULL;
}

TALLY_EXTERN(size_t) tally_households_count(const tally_households *hh)
{
    return hh ? hh->count : 0;
}

static uint64_t id_hash(const char *id, size_t len, int year)
{
    return tally_util__hash_bytes(id, len) ^ tally_util__hash_u64((uint64_t)(unsigned)year);
}

/* Index of the household with this id and year, or TALLY_NONE. */
static size_t find_household(const tally_households *hh, const char *id, size_t len, int year)
{
    if (!hh->slots_cap)
        return TALLY_NONE;
    size_t mask = hh->slots_cap - 1;
    uint64_t hash = id_hash(id, len, year);
    for (size_t s = (size_t)hash & mask;; s = (s + 1) & mask) {
        const id_slot *sl = &hh->slots[s];
        if (!sl->index)
            return TALLY_NONE;
        if (sl->hash != hash)
            continue;
        const household *x = &hh->items[sl->index - 1];
        if (x->year == year && x->id_len == len && memcmp(hh->ids + x->id, id, len) == 0)
            return sl->index - 1;
    }
}

static void slot_insert(id_slot *slots, size_t cap, uint64_t hash, size_t index)
{
    size_t mask = cap - 1;
    size_t s = (size_t)hash & mask;
    while (slots[s].index)
        s = (s + 1) & mask;
    slots[s].hash = hash;
    slots[s].index = index;
}

/* Makes room for `more` households (an estimate), so that a large file
 * grows its arrays and rehashes its ids once rather than at every doubling.
 * 0 or TALLY_ENOMEM (no error recorded). */
static int reserve(tally_households *hh, size_t more)
{
    size_t need = hh->count + more;
    if (need < hh->count || need > SIZE_MAX / 4 / sizeof(id_slot))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&hh->items, &hh->cap, need, sizeof *hh->items))
        return TALLY_ENOMEM;
    size_t cap = hh->slots_cap ? hh->slots_cap : 64;
    while (cap < need * 2)
        cap *= 2;
    if (cap == hh->slots_cap)
        return 0;
    id_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return TALLY_ENOMEM;
    for (size_t s = 0; s < hh->slots_cap; s++)
        if (hh->slots[s].index)
            slot_insert(slots, cap, hh->slots[s].hash, hh->slots[s].index);
    free(hh->slots);
    hh->slots = slots;
    hh->slots_cap = cap;
    return 0;
}

/* Stores a household that passed every check. 0 or TALLY_ENOMEM (no error
 * recorded). */
static int store_household(tally_households *hh, const char *id, size_t len, size_t node,
                           double size, double income, double weight, int year, size_t path,
                           unsigned long line)
{
    if (len >= UINT32_MAX)
        return TALLY_ENOMEM; /* a 4 GiB id does not fit in memory beside its data anyway */
    if ((hh->count + 1) * 2 > hh->slots_cap && reserve(hh, hh->count + 1))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&hh->items, &hh->cap, hh->count + 1, sizeof *hh->items) ||
        tally_util__grow((void **)&hh->ids, &hh->ids_cap, hh->ids_len + len + 1, 1))
        return TALLY_ENOMEM;
    memcpy(hh->ids + hh->ids_len, id, len);
    hh->ids[hh->ids_len + len] = '\0';
    household *x = &hh->items[hh->count];
    x->node = node;
    x->id = hh->ids_len;
    x->id_len = (uint32_t)len;
    x->path = (uint32_t)path;
    x->line = line;
    x->size = size;
    x->income = income;
    x->weight = weight;
    x->year = year;
    hh->ids_len += len + 1;
    slot_insert(hh->slots, hh->slots_cap, id_hash(id, len, year), hh->count + 1);
    hh->count++;
    return 0;
}

/* What is wrong with a household's values, if anything. Shared by the CSV
 * reader and tally_households_add so both accept exactly the same. */
enum { OK_VALUES, BAD_SIZE, BAD_INCOME, BAD_WEIGHT, BAD_YEAR };

/* Bounds far beyond any survey keep every sum finite: persons weights up to
 * 1e18, incomes up to 1e15, so sums like w * y * W stay near 1e61 even
 * for billions of households. */
#define MAX_SIZE 1e6
#define MAX_INCOME 1e15
#define MAX_WEIGHT 1e12

static int check_size(double v) { return v >= 1 && v <= MAX_SIZE && v == floor(v); }
static int check_income(double v) { return v >= 0 && v <= MAX_INCOME; }
static int check_weight(double v) { return v > 0 && v <= MAX_WEIGHT; }
static int check_year(double v) { return v >= 1000 && v <= 9999 && v == floor(v); }

static const char *const expected_text[] = {
    "",
    "a whole number of persons, like 4",
    "a number >= 0 (yuan per person per year)",
    "a number > 0",
    "a year like 2019",
};

/* What is wrong with a value that failed its check. */
static const char *problem(int bad, double v)
{
    switch (bad) {
    case BAD_SIZE: return v > MAX_SIZE ? "is over 1000000" : "is not a whole number >= 1";
    case BAD_INCOME: return v > MAX_INCOME ? "is over 1e15" : "is negative";
    case BAD_WEIGHT: return v > MAX_WEIGHT ? "is over 1e12" : "is not positive";
    default: return "is not a whole year from 1000 to 9999";
    }
}

/* The "first at ..." part of a duplicate message. */
static void first_at(const tally_households *hh, size_t i, char *buf, size_t size)
{
    const household *x = &hh->items[i];
    if (x->path == NO_PATH)
        snprintf(buf, size, "added by tally_households_add");
    else
        snprintf(buf, size, "first at %s:%lu", hh->paths[x->path], x->line);
}

TALLY_EXTERN(int) tally_households_add(tally_households *hh, const char *household_id,
                                       const char *region_code, double size,
                                       double income_per_capita, double weight, int year)
{
    if (!hh || !household_id || !region_code)
        return tally_error__set(TALLY_EINVAL, "tally_households_add: NULL argument");
    size_t len = strlen(household_id);
    if (!len)
        return tally_error__set(TALLY_EINVAL, "empty household_id; expected an identifier");
    size_t node;
    if (tally_hierarchy_find(hh->h, region_code, strlen(region_code), &node))
        return tally_error__set(TALLY_ENOTFOUND,
                                "unknown region code '%s'; expected a code of the hierarchy",
                                region_code);
    int bad = !check_size(size) ? BAD_SIZE
              : !check_income(income_per_capita) ? BAD_INCOME
              : !check_weight(weight) ? BAD_WEIGHT
              : year != 0 && !check_year(year) ? BAD_YEAR
                                               : OK_VALUES;
    if (bad) {
        static const char *const what[] = { "", "size", "income_per_capita", "weight", "year" };
        double v = bad == BAD_SIZE ? size : bad == BAD_INCOME ? income_per_capita
                                        : bad == BAD_WEIGHT ? weight : year;
        return tally_error__set(TALLY_EINVAL, "household '%s': %s %g %s; expected %s",
                                household_id, what[bad], v, problem(bad, v), expected_text[bad]);
    }
    size_t dup = find_household(hh, household_id, len, year);
    if (dup != TALLY_NONE) {
        char where[512];
        first_at(hh, dup, where, sizeof where);
        return tally_error__set(TALLY_EEXIST,
                                "duplicate household '%s' (year %d), %s; each household is "
                                "given once per year",
                                household_id, year, where);
    }
    if (store_household(hh, household_id, len, node, size, income_per_capita, weight, year,
                        NO_PATH, 0))
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
    return 0;
}

/* ---- the CSV reader ---- */

enum { COL_ID, COL_REGION, COL_SIZE, COL_INCOME, COL_WEIGHT, COL_YEAR, COL_COUNT };

static const char *const column_names[COL_COUNT] = {
    "household_id", "region_code", "size", "income_per_capita", "weight", "year",
};

typedef struct hlayout {
    long col[COL_COUNT]; /* field index, or -1 */
    size_t nfields;
} hlayout;

static int read_hheader(tally_csv *c, hlayout *lay)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row "
                                   "household_id,region_code,size,income_per_capita[,weight][,year]");
    lay->nfields = c->nfields;
    for (int k = 0; k < COL_COUNT; k++)
        lay->col[k] = -1;
    for (size_t i = 0; i < c->nfields; i++) {
        const tally_csv_field *f = &c->fields[i];
        int k = 0;
        while (k < COL_COUNT &&
               !(strlen(column_names[k]) == f->len && memcmp(column_names[k], f->ptr, f->len) == 0))
            k++;
        if (k == COL_COUNT)
            return tally_csv__error_at_field(
                c, i, TALLY_EPARSE,
                "unknown column '%.*s'; expected household_id, region_code, size, "
                "income_per_capita, weight or year",
                (int)f->len, f->ptr);
        if (lay->col[k] >= 0)
            return tally_csv__error_at_field(c, i, TALLY_EPARSE,
                                             "column '%s' given twice; expected each column once",
                                             column_names[k]);
        lay->col[k] = (long)i;
    }
    for (int k = 0; k <= COL_INCOME; k++)
        if (lay->col[k] < 0)
            return tally_csv__error_at_field(
                c, c->nfields, TALLY_EPARSE,
                "header has no '%s' column; expected "
                "household_id,region_code,size,income_per_capita[,weight][,year]",
                column_names[k]);
    return 0;
}

/* Parses the number in column k of the current row and checks it. */
static int parse_cell(const tally_csv *c, const hlayout *lay, int k, int bad, double *v)
{
    size_t f = (size_t)lay->col[k];
    const tally_csv_field *fl = &c->fields[f];
    if (fl->len == 0)
        return tally_csv__error_at_field(c, f, TALLY_EINVAL, "empty %s; expected %s",
                                         column_names[k], expected_text[bad]);
    int rc = tally_util__parse_number(fl->ptr, fl->len, v);
    if (rc == TALLY_ERANGE)
        return tally_csv__error_at_field(c, f, TALLY_ERANGE,
                                         "%s '%.*s' is out of range; expected %s", column_names[k],
                                         (int)fl->len, fl->ptr, expected_text[bad]);
    if (rc)
        return tally_csv__error_at_field(c, f, TALLY_EPARSE, "bad %s '%.*s'; expected %s",
                                         column_names[k], (int)fl->len, fl->ptr,
                                         expected_text[bad]);
    int ok = bad == BAD_SIZE ? check_size(*v)
             : bad == BAD_INCOME ? check_income(*v) : check_weight(*v);
    if (!ok)
        return tally_csv__error_at_field(c, f, TALLY_EINVAL, "%s '%.*s' %s; expected %s",
                                         column_names[k], (int)fl->len, fl->ptr,
                                         problem(bad, *v), expected_text[bad]);
    return 0;
}

/* Reads one data row; 0 accepted, else an error recorded. */
static int read_hrow(tally_households *hh, const tally_csv *c, const hlayout *lay, size_t path)
{
    if (c->nfields != lay->nfields)
        return tally_csv__error_at_field(c, c->nfields < lay->nfields ? c->nfields : lay->nfields,
                                         TALLY_EPARSE,
                                         "row has %zu fields; expected %zu as in the header",
                                         c->nfields, lay->nfields);
    const tally_csv_field *idf = &c->fields[lay->col[COL_ID]];
    if (idf->len == 0)
        return tally_csv__error_at_field(c, (size_t)lay->col[COL_ID], TALLY_EINVAL,
                                         "empty household_id; expected an identifier");
    /* Ids come back in messages; bytes of another encoding are refused
     * here (with a hint to declare it) rather than kept as mojibake. */
    if (!tally_util__utf8_valid(idf->ptr, idf->len))
        return tally_csv__error_at_field(c, (size_t)lay->col[COL_ID], TALLY_EPARSE,
                                         "household_id is not valid UTF-8; expected UTF-8 text");
    const tally_csv_field *rf = &c->fields[lay->col[COL_REGION]];
    size_t node;
    if (tally_hierarchy_find(hh->h, rf->ptr, rf->len, &node))
        return tally_csv__error_at_field(c, (size_t)lay->col[COL_REGION], TALLY_ENOTFOUND,
                                         "unknown region code '%.*s'; expected a code of the hierarchy",
                                         (int)rf->len, rf->ptr);
    double size, income, weight = 1.0, year = 0;
    int rc;
    if ((rc = parse_cell(c, lay, COL_SIZE, BAD_SIZE, &size)) ||
        (rc = parse_cell(c, lay, COL_INCOME, BAD_INCOME, &income)) ||
        (lay->col[COL_WEIGHT] >= 0 && (rc = parse_cell(c, lay, COL_WEIGHT, BAD_WEIGHT, &weight))))
        return rc;
    if (lay->col[COL_YEAR] >= 0) {
        /* As in the other readers: exactly four digits. */
        const tally_csv_field *yf = &c->fields[lay->col[COL_YEAR]];
        int y = 0;
        for (size_t i = 0; yf->len == 4 && i < 4 && y >= 0; i++)
            y = yf->ptr[i] >= '0' && yf->ptr[i] <= '9' ? y * 10 + (yf->ptr[i] - '0') : -1;
        if (yf->len != 4 || y < 1000)
            return tally_csv__error_at_field(c, (size_t)lay->col[COL_YEAR], TALLY_EPARSE,
                                             "bad year '%.*s'; expected YYYY like 2019",
                                             (int)yf->len, yf->ptr);
        year = y;
    }
    size_t dup = find_household(hh, idf->ptr, idf->len, (int)year);
    if (dup != TALLY_NONE) {
        char where[512];
        first_at(hh, dup, where, sizeof where);
        if (year != 0)
            return tally_csv__error_at_field(
                c, (size_t)lay->col[COL_ID], TALLY_EEXIST,
                "duplicate household '%.*s' for year %d, %s; each household is given once per year",
                (int)idf->len, idf->ptr, (int)year, where);
        return tally_csv__error_at_field(c, (size_t)lay->col[COL_ID], TALLY_EEXIST,
                                         "duplicate household '%.*s', %s; each household is given once",
                                         (int)idf->len, idf->ptr, where);
    }
    if (store_household(hh, idf->ptr, idf->len, node, size, income, weight, (int)year, path,
                        c->line))
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
    return 0;
}

/* The index of `name` in hh->paths, added when new. */
static int register_path(tally_households *hh, const char *name, size_t *index)
{
    for (size_t i = hh->npaths; i-- > 0;)
        if (strcmp(hh->paths[i], name) == 0) {
            *index = i;
            return 0;
        }
    if (tally_util__grow((void **)&hh->paths, &hh->paths_cap, hh->npaths + 1, sizeof *hh->paths))
        return TALLY_ENOMEM;
    hh->paths[hh->npaths] = tally_util__strndup(name, strlen(name));
    if (!hh->paths[hh->npaths])
        return TALLY_ENOMEM;
    *index = hh->npaths++;
    return 0;
}

typedef struct read_ctx {
    tally_households *hh;
    hlayout lay;
    size_t path;
} read_ctx;

static int on_header(void *ctx, tally_csv *c) { return read_hheader(c, &((read_ctx *)ctx)->lay); }

static int on_row(void *ctx, const tally_csv *c)
{
    read_ctx *rc = ctx;
    return read_hrow(rc->hh, c, &rc->lay, rc->path);
}

TALLY_EXTERN(int) tally_households_read_buffer(tally_households *hh, const char *data,
                                               size_t size, const char *name,
                                               const tally_read_options *opts,
                                               tally_rejects *rejects, tally_read_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!hh || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_households_read_buffer: NULL argument");
    if (!name)
        name = "<buffer>";
    read_ctx ctx = { hh, { { -1, -1, -1, -1, -1, -1 }, 0 }, 0 };
    if (register_path(hh, name, &ctx.path))
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    /* Room for every line of the file: one allocation and no rehashing
     * for a large survey. */
    size_t lines = 0;
    for (const char *q = data, *end = data ? data + size : NULL; q && q < end; q++) {
        q = memchr(q, '\n', (size_t)(end - q));
        if (!q)
            break;
        lines++;
    }
    if (reserve(hh, lines + 1))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    return tally_csv__read_rows(data, size, name, opts, rejects, stats, on_header, on_row, &ctx);
}

TALLY_EXTERN(int) tally_households_read_file(tally_households *hh, const char *path,
                                             const tally_read_options *opts,
                                             tally_rejects *rejects, tally_read_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!hh || !path)
        return tally_error__set(TALLY_EINVAL, "tally_households_read_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = tally_households_read_buffer(hh, m.data, m.size, path, opts, rejects, stats);
    tally_util__unmap(&m);
    return rc;
}

/* ==== Measures from households ==== */

struct tally_poverty {
    const tally_hierarchy *h;
    size_t nodes;
    int year;
    double line, monitoring;
    size_t used, skipped;
    int whole_persons;
    double *cols[TALLY_POVERTY_MEASURE_COUNT];
};

static const char *const measure_names[TALLY_POVERTY_MEASURE_COUNT] = {
    "households", "persons", "p0", "p1", "p2", "watts", "gini", "median_income",
    "below_monitoring_line",
};

TALLY_EXTERN(const char *) tally_poverty_measure_name(int measure)
{
    return measure >= 0 && measure < TALLY_POVERTY_MEASURE_COUNT ? measure_names[measure] : NULL;
}

TALLY_EXTERN(void) tally_poverty_free(tally_poverty *p)
{
    if (!p)
        return;
    for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT; k++)
        free(p->cols[k]);
    free(p);
}

TALLY_EXTERN(const tally_hierarchy *) tally_poverty_hierarchy(const tally_poverty *p)
{
    return p ? p->h : NULL;
}

TALLY_EXTERN(int) tally_poverty_year(const tally_poverty *p) { return p ? p->year : 0; }
TALLY_EXTERN(double) tally_poverty_line(const tally_poverty *p) { return p ? p->line : NAN; }
TALLY_EXTERN(double) tally_poverty_monitoring_line(const tally_poverty *p)
{
    return p ? p->monitoring : NAN;
}
TALLY_EXTERN(size_t) tally_poverty_households_used(const tally_poverty *p)
{
    return p ? p->used : 0;
}
TALLY_EXTERN(size_t) tally_poverty_households_skipped(const tally_poverty *p)
{
    return p ? p->skipped : 0;
}
TALLY_EXTERN(int) tally_poverty_whole_persons(const tally_poverty *p)
{
    return p ? p->whole_persons : 0;
}

TALLY_EXTERN(int) tally_poverty_value(const tally_poverty *p, size_t node, int measure,
                                      double *value, int *present)
{
    *value = NAN;
    *present = 0;
    if (!p || node >= p->nodes || measure < 0 || measure >= TALLY_POVERTY_MEASURE_COUNT)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_value: node %zu or measure %d out of range",
                                node, measure);
    *value = p->cols[measure][node];
    *present = !isnan(*value);
    return 0;
}

TALLY_EXTERN(const double *) tally_poverty_column(const tally_poverty *p, int measure)
{
    return p && measure >= 0 && measure < TALLY_POVERTY_MEASURE_COUNT ? p->cols[measure] : NULL;
}

/* The year to measure: opts' or the households' only one. */
static int choose_year(const tally_households *hh, int asked, int *year)
{
    if (asked) {
        if (!check_year(asked))
            return tally_error__set(TALLY_EINVAL, "year %d; expected %s", asked,
                                    expected_text[BAD_YEAR]);
        *year = asked;
        return 0;
    }
    int first = 0;
    for (size_t i = 0; i < hh->count; i++) {
        int y = hh->items[i].year;
        if (!y)
            continue;
        if (!first)
            first = y;
        else if (y != first)
            return tally_error__set(TALLY_EINVAL,
                                    "the households cover more than one year (%d and %d); "
                                    "choose the year to measure (--year)",
                                    first < y ? first : y, first < y ? y : first);
    }
    *year = first;
    return 0;
}

/* Per-node sums of the decomposable measures, with compensation. */
enum { S_PERSONS, S_P0, S_P1, S_P2, S_WATTS, S_COUNT };
typedef struct fgt_acc {
    double s[S_COUNT], c[S_COUNT];
    size_t households, below;
} fgt_acc;

/* Merges the sorted runs [lo, mid) and [mid, hi) of (y, w) through the
 * scratch arrays; stable, so the order of ties is kept. */
static void merge2(double *y, double *w, size_t lo, size_t mid, size_t hi, double *ty, double *tw)
{
    size_t a = lo, b = mid, o = lo;
    while (a < mid && b < hi) {
        if (y[b] < y[a]) {
            ty[o] = y[b];
            tw[o++] = w[b++];
        } else {
            ty[o] = y[a];
            tw[o++] = w[a++];
        }
    }
    while (a < mid) {
        ty[o] = y[a];
        tw[o++] = w[a++];
    }
    while (b < hi) {
        ty[o] = y[b];
        tw[o++] = w[b++];
    }
    memcpy(y + lo, ty + lo, (hi - lo) * sizeof *y);
    memcpy(w + lo, tw + lo, (hi - lo) * sizeof *w);
}

/* Merges k sorted adjacent runs with bounds b[0] < b[1] < ... < b[k] into
 * one, pairwise in rounds: O(n log k). b is used as scratch. */
static void merge_runs(double *y, double *w, size_t *b, size_t k, double *ty, double *tw)
{
    while (k > 1) {
        size_t out = 0, j = 0;
        for (; j + 1 < k; j += 2) {
            merge2(y, w, b[j], b[j + 1], b[j + 2], ty, tw);
            b[out++] = b[j];
        }
        if (j < k)
            b[out++] = b[j];
        b[out] = b[k];
        k = out;
    }
}

/* Gini and the weighted median of one node's households, sorted by income.
 * Sets both to NaN when they are undefined. */
static void gini_median(const double *y, const double *w, size_t n, double *gini, double *median)
{
    double ws = 0, wc = 0;          /* cumulative weight W_i */
    double ts = 0, tc = 0;          /* sum w_i y_i W_i */
    double us = 0, uc = 0;          /* sum w_i^2 y_i */
    double ss = 0, sc = 0;          /* sum w_i y_i */
    for (size_t i = 0; i < n; i++) {
        tally_util__neumaier(&ws, &wc, w[i]);
        double wi = ws + wc;
        tally_util__neumaier(&ts, &tc, w[i] * y[i] * wi);
        tally_util__neumaier(&us, &uc, w[i] * w[i] * y[i]);
        tally_util__neumaier(&ss, &sc, w[i] * y[i]);
    }
    double W = ws + wc, S = ss + sc;
    if (n == 0 || !(S > 0)) {
        *gini = NAN;
    } else {
        double g = (2 * (ts + tc) - (us + uc)) / (W * S) - 1;
        /* Equal incomes give exactly 0 in exact arithmetic; rounding may
         * leave -1e-16, which is not an inequality. */
        *gini = g < 0 ? 0 : g;
    }
    *median = NAN;
    ws = wc = 0;
    for (size_t i = 0; i < n; i++) {
        tally_util__neumaier(&ws, &wc, w[i]);
        double twice = 2 * (ws + wc);
        if (twice >= W) {
            *median = twice == W && i + 1 < n ? (y[i] + y[i + 1]) / 2 : y[i];
            break;
        }
    }
}

TALLY_EXTERN(int) tally_poverty_households(tally_poverty **out, const tally_households *hh,
                                           const tally_definitions *d,
                                           const tally_poverty_options *opts)
{
    tally_poverty_options defaults = TALLY_POVERTY_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!hh)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_households: NULL households");
    int year = 0;
    int rc = choose_year(hh, opts->year, &year);
    if (rc)
        return rc;
    double line = opts->line;
    if (line == 0) {
        if (!year)
            return tally_error__set(TALLY_ENOTFOUND,
                                    "no poverty line: the households have no year; give the "
                                    "line (--line) or the year (--year) of a line in the definitions");
        if (tally_definitions__poverty_line(d, year, &line))
            return tally_error__set(TALLY_ENOTFOUND,
                                    "no poverty line for %d; give it in the definitions "
                                    "(poverty: lines: {%d: ...}) or with --line",
                                    year, year);
    }
    if (!(line > 0) || !isfinite(line))
        return tally_error__set(TALLY_EINVAL, "poverty line %g; expected a positive number", line);
    double mline = opts->monitoring_line;
    if (mline == 0)
        mline = tally_definitions__monitoring_line(d);
    if (!isnan(mline) && (!(mline > 0) || !isfinite(mline)))
        return tally_error__set(TALLY_EINVAL, "monitoring line %g; expected a positive number",
                                mline);

    const tally_hierarchy *h = hh->h;
    size_t nodes = tally_hierarchy_size(h);
    const uint32_t *parents = tally_hierarchy__parents(h);
    tally_poverty *p = calloc(1, sizeof *p);
    size_t *first = calloc(nodes + 1, sizeof *first);
    fgt_acc *acc = calloc(nodes ? nodes : 1, sizeof *acc);
    size_t n_used = 0;
    for (size_t i = 0; i < hh->count; i++)
        n_used += !hh->items[i].year || hh->items[i].year == year;
    size_t hn = n_used ? n_used : 1;
    double *y = malloc(hn * sizeof *y), *w = malloc(hn * sizeof *w);
    double *ty = malloc(hn * sizeof *ty), *tw = malloc(hn * sizeof *tw);
    size_t *bounds = NULL, bounds_cap = 0;
    int ok = p && first && acc && y && w && ty && tw;
    for (int k = 0; ok && k < TALLY_POVERTY_MEASURE_COUNT; k++)
        ok = (p->cols[k] = malloc((nodes ? nodes : 1) * sizeof *p->cols[k])) != NULL;
    if (!ok) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
        goto fail;
    }
    p->h = h;
    p->nodes = nodes;
    p->year = year;
    p->line = line;
    p->monitoring = mline;
    p->used = n_used;
    p->skipped = hh->count - n_used;
    p->whole_persons = 1;

    /* Bucket the households by node (a counting sort), so every subtree's
     * households are one contiguous range: [first[i], first[end(i)]). */
    for (size_t i = 0; i < hh->count; i++) {
        const household *x = &hh->items[i];
        if (!x->year || x->year == year)
            first[x->node + 1]++;
    }
    for (size_t i = 0; i < nodes; i++)
        first[i + 1] += first[i];
    {
        size_t *next = malloc((nodes ? nodes : 1) * sizeof *next);
        if (!next) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
            goto fail;
        }
        memcpy(next, first, nodes * sizeof *next);
        for (size_t i = 0; i < hh->count; i++) {
            const household *x = &hh->items[i];
            if (x->year && x->year != year)
                continue;
            double pw = x->weight * x->size;
            size_t at = next[x->node]++;
            y[at] = x->income;
            w[at] = pw;
            if (pw != floor(pw) || pw > 9007199254740992.0)
                p->whole_persons = 0;
            /* The decomposable sums, at the household's own node. */
            fgt_acc *a = &acc[x->node];
            tally_util__neumaier(&a->s[S_PERSONS], &a->c[S_PERSONS], pw);
            if (x->income < line) {
                double gap = (line - x->income) / line;
                tally_util__neumaier(&a->s[S_P0], &a->c[S_P0], pw);
                tally_util__neumaier(&a->s[S_P1], &a->c[S_P1], pw * gap);
                tally_util__neumaier(&a->s[S_P2], &a->c[S_P2], pw * gap * gap);
                if (x->income > 0)
                    tally_util__neumaier(&a->s[S_WATTS], &a->c[S_WATTS], pw * log(line / x->income));
            }
            a->households++;
            a->below += !isnan(mline) && x->income < mline;
        }
        free(next);
    }
    /* Up the hierarchy: children come after their parent in pre-order, so
     * one reverse pass adds every subtree into its root. */
    for (size_t i = nodes; i-- > 0;) {
        size_t par = tally_hierarchy__up(parents, i);
        if (par == TALLY_NONE)
            continue;
        for (int k = 0; k < S_COUNT; k++) {
            tally_util__neumaier(&acc[par].s[k], &acc[par].c[k], acc[i].s[k]);
            acc[par].c[k] += acc[i].c[k];
        }
        acc[par].households += acc[i].households;
        acc[par].below += acc[i].below;
    }

    /* Gini and the median need each subtree's incomes in order. In reverse
     * pre-order every child's range is sorted before its parent is
     * reached; the parent sorts its own households (GSL) and merges them
     * with its children's runs. */
    for (size_t i = nodes; i-- > 0;) {
        size_t end = tally_hierarchy_subtree_end(h, i);
        size_t lo = first[i], hi = first[end];
        double *col_g = &p->cols[TALLY_POVERTY_GINI][i], *col_m = &p->cols[TALLY_POVERTY_MEDIAN_INCOME][i];
        if (lo == hi) {
            *col_g = *col_m = NAN;
            continue;
        }
        size_t own = first[i + 1] - lo;
        if (own > 1)
            gsl_sort2(y + lo, 1, w + lo, 1, own);
        size_t k = 0;
        if (tally_util__grow((void **)&bounds, &bounds_cap, 2, sizeof *bounds)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
            goto fail;
        }
        bounds[0] = lo;
        if (own)
            bounds[++k] = first[i + 1];
        for (size_t ch = i + 1; ch < end; ch = tally_hierarchy_subtree_end(h, ch)) {
            size_t chi = first[tally_hierarchy_subtree_end(h, ch)];
            if (chi == bounds[k])
                continue; /* a child without households */
            if (tally_util__grow((void **)&bounds, &bounds_cap, k + 2, sizeof *bounds)) {
                rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
                goto fail;
            }
            bounds[++k] = chi;
        }
        merge_runs(y, w, bounds, k, ty, tw);
        gini_median(y + lo, w + lo, hi - lo, col_g, col_m);
    }

    for (size_t i = 0; i < nodes; i++) {
        const fgt_acc *a = &acc[i];
        double persons = a->s[S_PERSONS] + a->c[S_PERSONS];
        p->cols[TALLY_POVERTY_HOUSEHOLDS][i] = (double)a->households;
        p->cols[TALLY_POVERTY_PERSONS][i] = persons;
        p->cols[TALLY_POVERTY_BELOW_MONITORING][i] = isnan(mline) ? NAN : (double)a->below;
        static const int fgt[] = { TALLY_POVERTY_P0, TALLY_POVERTY_P1, TALLY_POVERTY_P2,
                                   TALLY_POVERTY_WATTS };
        for (int k = 0; k < 4; k++)
            p->cols[fgt[k]][i] = a->households
                                     ? (a->s[S_P0 + k] + a->c[S_P0 + k]) / persons * 100.0
                                     : NAN;
    }
    free(bounds);
    free(first);
    free(acc);
    free(y);
    free(w);
    free(ty);
    free(tw);
    *out = p;
    return 0;
fail:
    free(bounds);
    free(first);
    free(acc);
    free(y);
    free(w);
    free(ty);
    free(tw);
    tally_poverty_free(p);
    return rc;
}

/* ==== Writing ==== */

static int node_wanted(const tally_hierarchy *h, const unsigned char *want, size_t node)
{
    int level = tally_hierarchy_level(h, node);
    return level >= 0 && (size_t)level < tally_hierarchy_level_count(h) && want[level];
}

static FILE *open_out(const char *path)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f)
        tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open for writing");
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int failed = ferror(f);
    if (path)
        failed |= fclose(f) != 0;
    else
        failed |= fflush(f) != 0;
    return failed ? tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                        "cannot write the result")
                  : 0;
}

TALLY_EXTERN(int) tally_poverty_write(const tally_poverty *p, const char *path,
                                      const tally_write_options *opts)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!p)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_write: NULL result");
    int json = opts->format == TALLY_FORMAT_JSON;
    unsigned char *want = tally_write__levels(p->h, opts);
    if (!want)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    FILE *f = open_out(path);
    if (!f) {
        free(want);
        return TALLY_EIO;
    }
    /* Column decimals: counts 0, money 2, indices 4. */
    static const int decimals[TALLY_POVERTY_MEASURE_COUNT] = { 0, 0, 4, 4, 4, 4, 4, 2, 0 };
    int persons_dec = p->whole_persons ? 0 : 2;
    if (json)
        fputc('[', f);
    else
        fputs("region_code,region_name,level,year,households,persons,poverty_line,"
              "p0,p1,p2,watts,gini,median_income,below_monitoring_line\n",
              f);
    int first = 1;
    for (size_t node = 0; node < p->nodes; node++) {
        if (!node_wanted(p->h, want, node))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(p->h, node, code_buf);
        const char *name = tally_hierarchy_name(p->h, node);
        const char *lname = tally_hierarchy_level_name(p->h, tally_hierarchy_level(p->h, node));
        double year = p->year ? p->year : NAN;
        if (json) {
            fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
            tally_write__json(f, code);
            fputs(",\"region_name\":", f);
            tally_write__json(f, name);
            fputs(",\"level\":", f);
            tally_write__json(f, lname);
            fputs(",\"year\":", f);
            tally_write__number(f, year, 0, 1);
        } else {
            tally_write__csv(f, code);
            fputc(',', f);
            tally_write__csv(f, name);
            fputc(',', f);
            tally_write__csv(f, lname);
            fputc(',', f);
            tally_write__number(f, year, 0, 0);
        }
        for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT; k++) {
            int dec = k == TALLY_POVERTY_PERSONS ? persons_dec : decimals[k];
            if (json)
                fprintf(f, ",\"%s\":", measure_names[k]);
            else
                fputc(',', f);
            tally_write__number(f, p->cols[k][node], dec, json);
            if (k == TALLY_POVERTY_PERSONS) {
                fputs(json ? ",\"poverty_line\":" : ",", f);
                tally_write__number(f, p->line, 2, json);
            }
        }
        fputs(json ? "}" : "\n", f);
        first = 0;
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    free(want);
    return close_out(f, path);
}

/* ==== Exit thresholds from records ==== */

struct tally_thresholds {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind, nper;
    size_t *indicators;
    char **periods;
    double *values;       /* [(k * nper + p) * nodes + node] */
    double *limits;       /* [k * nodes + node]; NaN: no threshold */
    unsigned char *flags; /* [k * nodes + node]: 1 is_max, 2 inclusive */
};

TALLY_EXTERN(void) tally_thresholds_free(tally_thresholds *t)
{
    if (!t)
        return;
    for (size_t p = 0; t->periods && p < t->nper; p++)
        free(t->periods[p]);
    free(t->periods);
    free(t->indicators);
    free(t->values);
    free(t->limits);
    free(t->flags);
    free(t);
}

/* The limit for one node: its level's entry, or the override whose prefix
 * is the longest prefix of the node's code. */
static double node_limit(const tally_threshold *e, const char *code)
{
    double limit = e->limit;
    size_t best = 0;
    for (size_t o = 0; o < e->override_count; o++) {
        const tally_threshold_override *ov = &e->overrides[o];
        for (size_t q = 0; q < ov->prefix_count; q++) {
            size_t len = strlen(ov->prefixes[q]);
            if (len > best && strncmp(code, ov->prefixes[q], len) == 0) {
                best = len;
                limit = ov->limit;
            }
        }
    }
    return limit;
}

TALLY_EXTERN(int) tally_poverty_thresholds(tally_thresholds **out, const tally_result *r,
                                           const tally_thresholds_options *opts)
{
    tally_thresholds_options defaults = TALLY_THRESHOLDS_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_thresholds: NULL result");
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t nodes = tally_hierarchy_size(h), nind_all = tally_definitions_indicator_count(d);
    size_t nlevels = tally_hierarchy_level_count(h);
    int rc = 0;
    tally_thresholds *t = calloc(1, sizeof *t);
    const tally_threshold **by_level = calloc(nlevels + 1, sizeof *by_level);
    if (!t || !by_level) {
        free(by_level);
        free(t);
        return tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
    }
    t->h = h;
    t->d = d;
    t->nodes = nodes;
    t->indicators = malloc((nind_all ? nind_all : 1) * sizeof *t->indicators);
    if (!t->indicators) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
        goto fail;
    }
    if (opts->indicators && opts->indicator_count) {
        /* In definition order, each once. */
        for (size_t i = 0; i < nind_all; i++)
            for (size_t k = 0; k < opts->indicator_count; k++)
                if (opts->indicators[k] == i) {
                    t->indicators[t->nind++] = i;
                    break;
                }
        for (size_t k = 0; k < opts->indicator_count; k++)
            if (opts->indicators[k] >= nind_all) {
                rc = tally_error__set(TALLY_EINVAL, "indicator index %zu out of range (%zu indicators)",
                                      opts->indicators[k], nind_all);
                goto fail;
            }
    } else {
        for (size_t i = 0; i < nind_all; i++) {
            const tally_threshold *th;
            if (tally_definitions__thresholds(d, i, &th))
                t->indicators[t->nind++] = i;
        }
        if (!t->nind) {
            rc = tally_error__set(TALLY_ENOTFOUND,
                                  "no indicator has thresholds; expected `thresholds:` on an "
                                  "indicator in the definitions, like "
                                  "{ level: county, max: 2.0 }");
            goto fail;
        }
    }
    t->nper = tally_result_period_count(r);
    size_t nk = t->nind ? t->nind : 1, np = t->nper ? t->nper : 1, nn = nodes ? nodes : 1;
    t->periods = calloc(np, sizeof *t->periods);
    t->values = malloc(nk * np * nn * sizeof *t->values);
    t->limits = malloc(nk * nn * sizeof *t->limits);
    t->flags = calloc(nk * nn, 1);
    if (!t->periods || !t->values || !t->limits || !t->flags) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
        goto fail;
    }
    for (size_t p = 0; p < t->nper; p++) {
        const char *s = tally_result_period(r, p);
        if (!(t->periods[p] = tally_util__strndup(s, strlen(s)))) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
            goto fail;
        }
    }
    for (size_t k = 0; k < t->nind; k++) {
        size_t ind = t->indicators[k];
        for (size_t p = 0; p < t->nper; p++)
            memcpy(t->values + (k * t->nper + p) * nodes, tally_result_column(r, ind, p),
                   nodes * sizeof *t->values);
        const tally_threshold *th;
        size_t nth = tally_definitions__thresholds(d, ind, &th);
        memset(by_level, 0, (nlevels + 1) * sizeof *by_level);
        for (size_t e = 0; e < nth; e++) {
            int level = tally_hierarchy_level_find(h, th[e].level);
            if (level < 0) {
                rc = tally_error__set(
                    TALLY_ENOTFOUND,
                    "definitions line %lu, column %lu: threshold of '%s' for level '%s', which "
                    "is not a level of the hierarchy; expected a level name such as '%s'",
                    th[e].line, th[e].column, tally_definitions_id(d, ind), th[e].level,
                    tally_hierarchy_level_name(h, (int)(nlevels ? nlevels - 1 : 0)));
                goto fail;
            }
            by_level[level] = &th[e];
        }
        for (size_t node = 0; node < nodes; node++) {
            int level = tally_hierarchy_level(h, node);
            const tally_threshold *e =
                level >= 0 && (size_t)level < nlevels ? by_level[level] : NULL;
            char code_buf[TALLY_HIERARCHY__CODE_BUF];
            t->limits[k * nodes + node] =
                e ? node_limit(e, tally_hierarchy__code_text(h, node, code_buf)) : NAN;
            t->flags[k * nodes + node] = (unsigned char)(e ? (e->is_max ? 1 : 0) | (e->inclusive ? 2 : 0) : 0);
        }
    }
    free(by_level);
    *out = t;
    return 0;
fail:
    free(by_level);
    tally_thresholds_free(t);
    return rc;
}

TALLY_EXTERN(size_t) tally_thresholds_indicator_count(const tally_thresholds *t)
{
    return t ? t->nind : 0;
}

TALLY_EXTERN(size_t) tally_thresholds_indicator(const tally_thresholds *t, size_t k)
{
    return t && k < t->nind ? t->indicators[k] : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_thresholds_period_count(const tally_thresholds *t)
{
    return t ? t->nper : 0;
}

TALLY_EXTERN(const char *) tally_thresholds_period(const tally_thresholds *t, size_t p)
{
    return t && p < t->nper ? t->periods[p] : NULL;
}

TALLY_EXTERN(int) tally_thresholds_status(const tally_thresholds *t, size_t node, size_t k,
                                          size_t p, tally_threshold_status *out)
{
    if (!t || !out || node >= t->nodes || k >= t->nind || p >= t->nper)
        return tally_error__set(TALLY_EINVAL, "tally_thresholds_status: index out of range");
    double v = t->values[(k * t->nper + p) * t->nodes + node];
    double lim = t->limits[k * t->nodes + node];
    unsigned char fl = t->flags[k * t->nodes + node];
    out->value = v;
    out->threshold = lim;
    out->is_max = fl & 1;
    out->inclusive = (fl >> 1) & 1;
    if (isnan(v) || isnan(lim)) {
        out->meets = -1;
        out->margin = NAN;
    } else {
        out->margin = out->is_max ? lim - v : v - lim;
        /* Decided on the values themselves, not on their difference. */
        if (out->is_max)
            out->meets = out->inclusive ? v <= lim : v < lim;
        else
            out->meets = out->inclusive ? v >= lim : v > lim;
    }
    return 0;
}

TALLY_EXTERN(int) tally_thresholds_write(const tally_thresholds *t, const char *path,
                                         const tally_write_options *opts)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!t)
        return tally_error__set(TALLY_EINVAL, "tally_thresholds_write: NULL thresholds");
    int json = opts->format == TALLY_FORMAT_JSON;
    unsigned char *want = tally_write__levels(t->h, opts);
    if (!want)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    FILE *f = open_out(path);
    if (!f) {
        free(want);
        return TALLY_EIO;
    }
    if (json)
        fputc('[', f);
    else
        fputs("region_code,region_name,level,period,indicator,value,threshold,meets_threshold,"
              "margin\n",
              f);
    int first = 1;
    for (size_t node = 0; node < t->nodes; node++) {
        if (!node_wanted(t->h, want, node))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(t->h, node, code_buf);
        const char *name = tally_hierarchy_name(t->h, node);
        const char *lname = tally_hierarchy_level_name(t->h, tally_hierarchy_level(t->h, node));
        for (size_t k = 0; k < t->nind; k++) {
            const char *id = tally_definitions_id(t->d, t->indicators[k]);
            int dec = tally_definitions_decimals(t->d, t->indicators[k]);
            for (size_t p = 0; p < t->nper; p++) {
                tally_threshold_status s;
                tally_thresholds_status(t, node, k, p, &s);
                if (json) {
                    fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
                    tally_write__json(f, code);
                    fputs(",\"region_name\":", f);
                    tally_write__json(f, name);
                    fputs(",\"level\":", f);
                    tally_write__json(f, lname);
                    fputs(",\"period\":", f);
                    tally_write__json(f, t->periods[p]);
                    fputs(",\"indicator\":", f);
                    tally_write__json(f, id);
                    fputs(",\"value\":", f);
                    tally_write__number(f, s.value, dec, 1);
                    fputs(",\"threshold\":", f);
                    tally_write__number(f, s.threshold, dec, 1);
                    fputs(s.meets < 0 ? ",\"meets_threshold\":null"
                          : s.meets   ? ",\"meets_threshold\":true"
                                      : ",\"meets_threshold\":false",
                          f);
                    fputs(",\"margin\":", f);
                    tally_write__number(f, s.margin, dec, 1);
                    fputc('}', f);
                } else {
                    tally_write__csv(f, code);
                    fputc(',', f);
                    tally_write__csv(f, name);
                    fputc(',', f);
                    tally_write__csv(f, lname);
                    fputc(',', f);
                    tally_write__csv(f, t->periods[p]);
                    fputc(',', f);
                    tally_write__csv(f, id);
                    fputc(',', f);
                    tally_write__number(f, s.value, dec, 0);
                    fputc(',', f);
                    tally_write__number(f, s.threshold, dec, 0);
                    fputs(s.meets < 0 ? "," : s.meets ? ",yes" : ",no", f);
                    fputc(',', f);
                    tally_write__number(f, s.margin, dec, 0);
                    fputc('\n', f);
                }
                first = 0;
            }
        }
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    free(want);
    return close_out(f, path);
}
