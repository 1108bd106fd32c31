/* Household records: the store (one household per id and year), checked
 * additions one by one (tally_households_add) and the households CSV
 * reader.
 *
 * SPDX-License-Identifier: MIT
 */
#include "households.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "error.h"
#include "hierarchy.h"
#include "util.h"

/* No file: added by tally_households_add. */
#define NO_PATH UINT32_MAX

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
        const tally_households__slot *sl = &hh->slots[s];
        if (!sl->index)
            return TALLY_NONE;
        if (sl->hash != hash)
            continue;
        const tally_household *x = &hh->items[sl->index - 1];
        if (x->year == year && x->id_len == len && memcmp(hh->ids + x->id, id, len) == 0)
            return sl->index - 1;
    }
}

static void slot_insert(tally_households__slot *slots, size_t cap, uint64_t hash, size_t index)
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
    if (need < hh->count || need > SIZE_MAX / 4 / sizeof(tally_households__slot))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&hh->items, &hh->cap, need, sizeof *hh->items))
        return TALLY_ENOMEM;
    size_t cap = hh->slots_cap ? hh->slots_cap : 64;
    while (cap < need * 2)
        cap *= 2;
    if (cap == hh->slots_cap)
        return 0;
    tally_households__slot *slots = calloc(cap, sizeof *slots);
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
    tally_household *x = &hh->items[hh->count];
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
    const tally_household *x = &hh->items[i];
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
    if (rc == TALLY_UTIL__INEXACT)
        return tally_csv__error_at_field(c, f, TALLY_ERANGE, "%s '%.*s' " TALLY_UTIL__INEXACT_TEXT,
                                         column_names[k], (int)fl->len, fl->ptr);
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
    int rc = tally_util__map_file_capped(
        &m, path, opts && opts->version >= 4 ? opts->max_input_bytes : 0);
    if (rc)
        return rc;
    rc = tally_households_read_buffer(hh, m.data, m.size, path, opts, rejects, stats);
    tally_util__unmap(&m);
    return rc;
}

/* ---- the year to measure ---- */

int tally_households__choose_year(const tally_households *hh, int asked, int *year)
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
