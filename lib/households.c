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
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csv.h"
#include "csv_fast.h"
#include "dataset.h"
#include "error.h"
#include "hierarchy.h"
#include "rejects.h"
#include "util.h"

/* No file: added by tally_households_add. */
#define NO_PATH UINT32_MAX
/* Households a store can hold: indices fit the id index's 32 bits. */
#define MAX_HOUSEHOLDS ((size_t)1 << 31)

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
    free(hh->income);
    free(hh->pw);
    free(hh->node);
    free(hh->year);
    free(hh->line_step);
    free(hh->line_base);
    free(hh->far);
    free(hh->runs);
    free(hh->ids);
    free(hh->id_block);
    free(hh->last_id);
    free(hh->id_buf);
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

/* ---- ids, front coded ---- */

static size_t put_varint(unsigned char *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t get_varint(const unsigned char **p)
{
    size_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (size_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
}

/* Decodes household i's id into hh->id_buf (grown as needed; the store
 * is const to its readers, the buffer is scratch). Returns its length, or
 * SIZE_MAX out of memory. */
static size_t decode_id(tally_households *hh, size_t i, const char **out)
{
    const unsigned char *p = hh->ids + hh->id_block[i / TALLY_HOUSEHOLDS__ID_BLOCK];
    size_t len = 0;
    for (size_t j = i - i % TALLY_HOUSEHOLDS__ID_BLOCK; j <= i; j++) {
        size_t keep = get_varint(&p), more = get_varint(&p);
        if (tally_util__grow((void **)&hh->id_buf, &hh->id_buf_cap, keep + more + 1, 1))
            return SIZE_MAX;
        memcpy(hh->id_buf + keep, p, more);
        p += more;
        len = keep + more;
    }
    *out = hh->id_buf;
    return len;
}

/* ---- where a household came from ---- */

static unsigned long line_of(const tally_households *hh, size_t i)
{
    size_t b = i - i % TALLY_HOUSEHOLDS__LINE_BLOCK;
    unsigned long line = hh->line_base[b / TALLY_HOUSEHOLDS__LINE_BLOCK];
    size_t far = 0;
    for (size_t j = b + 1; j <= i; j++) {
        if (hh->line_step[j] != 255) {
            line += hh->line_step[j];
            continue;
        }
        size_t lo = far, hi = hh->nfar; /* the first far line at index >= j */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (hh->far[mid].index < j)
                lo = mid + 1;
            else
                hi = mid;
        }
        line = hh->far[lo].line;
        far = lo + 1;
    }
    return line;
}

static uint32_t path_of(const tally_households *hh, size_t i)
{
    size_t lo = 0, hi = hh->nruns; /* the last run starting at or before i */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (hh->runs[mid].first <= i)
            lo = mid;
        else
            hi = mid;
    }
    return hh->runs[lo].path;
}

/* ---- the id index ---- */

static size_t slot_place(uint64_t hash, size_t cap)
{
    return (size_t)(((hash & 0xFFFFFFFFu) * (uint64_t)cap) >> 32);
}

/* Index of the household with this id and year, or TALLY_NONE;
 * SIZE_MAX - 1 out of memory (decoding an id). */
static size_t find_hashed(tally_households *hh, const char *id, size_t len, int year,
                          uint64_t hash)
{
    if (!hh->slots_cap)
        return TALLY_NONE;
    size_t cap = hh->slots_cap;
    uint64_t top = hash >> 32;
    for (size_t s = slot_place(hash, cap);; s = s + 1 == cap ? 0 : s + 1) {
        uint64_t sl = hh->slots[s];
        if (!sl)
            return TALLY_NONE;
        if (sl >> 32 != top)
            continue;
        size_t x = (size_t)(sl & 0xFFFFFFFFu) - 1;
        if (hh->year[x] != year)
            continue;
        const char *other;
        size_t olen = decode_id(hh, x, &other);
        if (olen == SIZE_MAX)
            return SIZE_MAX - 1;
        if (olen == len && memcmp(other, id, len) == 0)
            return x;
    }
}

static void slot_insert(uint64_t *slots, size_t cap, uint64_t hash, size_t index)
{
    size_t s = slot_place(hash, cap);
    while (slots[s])
        s = s + 1 == cap ? 0 : s + 1;
    slots[s] = (hash >> 32) << 32 | (uint64_t)(index + 1);
}

/* An index of `cap` slots over the households stored: their ids decoded
 * in order. 0 or TALLY_ENOMEM (no error recorded). */
static int rebuild_index(tally_households *hh, size_t cap)
{
    uint64_t *slots = NULL;
    size_t bytes = cap * sizeof *slots;
#if defined(MADV_HUGEPAGE)
    /* A probe of a large index is a cache miss; on 4 KiB pages it is a
     * TLB miss too. Huge pages where the system gives them on request. */
    const size_t huge = (size_t)2 << 20;
    if (bytes >= huge) {
        void *mem = NULL;
        if (posix_memalign(&mem, huge, bytes))
            return TALLY_ENOMEM;
        madvise(mem, bytes & ~(huge - 1), MADV_HUGEPAGE); /* advice only */
        slots = memset(mem, 0, bytes);
    }
#endif
    if (!slots && !(slots = calloc(cap, sizeof *slots)))
        return TALLY_ENOMEM;
    const unsigned char *p = hh->ids;
    for (size_t i = 0; i < hh->count; i++) {
        if (i % TALLY_HOUSEHOLDS__ID_BLOCK == 0)
            p = hh->ids + hh->id_block[i / TALLY_HOUSEHOLDS__ID_BLOCK];
        size_t keep = get_varint(&p), more = get_varint(&p);
        if (tally_util__grow((void **)&hh->id_buf, &hh->id_buf_cap, keep + more + 1, 1)) {
            free(slots);
            return TALLY_ENOMEM;
        }
        memcpy(hh->id_buf + keep, p, more);
        p += more;
        slot_insert(slots, cap, id_hash(hh->id_buf, keep + more, hh->year[i]), i);
    }
    free(hh->slots);
    hh->slots = slots;
    hh->slots_cap = cap;
    return 0;
}

/* Grows a per-household array to `cap` elements. */
static int grow_to(void **p, size_t cap, size_t size)
{
    void *q = realloc(*p, cap * size);
    if (!q)
        return TALLY_ENOMEM;
    *p = q;
    return 0;
}

/* Makes room for `more` households: an estimate of a file's (the index
 * is then made 2/3 full for them), or one more (then it doubles), so that
 * a large file grows its arrays and rebuilds its index a few times at
 * most. 0 or TALLY_ENOMEM (no error recorded). */
static int reserve(tally_households *hh, size_t more)
{
    size_t need = hh->count + more;
    if (need < hh->count || need > MAX_HOUSEHOLDS)
        return TALLY_ENOMEM;
    if (need > hh->cap) {
        size_t cap = hh->cap ? hh->cap : 64;
        while (cap < need)
            cap += cap / 2;
        size_t lb = cap / TALLY_HOUSEHOLDS__LINE_BLOCK + 1, ib = cap / TALLY_HOUSEHOLDS__ID_BLOCK + 1;
        if (grow_to((void **)&hh->income, cap, sizeof *hh->income) ||
            grow_to((void **)&hh->pw, cap, sizeof *hh->pw) ||
            grow_to((void **)&hh->node, cap, sizeof *hh->node) ||
            grow_to((void **)&hh->year, cap, sizeof *hh->year) ||
            grow_to((void **)&hh->line_step, cap, sizeof *hh->line_step) ||
            grow_to((void **)&hh->line_base, lb, sizeof *hh->line_base) ||
            grow_to((void **)&hh->id_block, ib, sizeof *hh->id_block))
            return TALLY_ENOMEM;
        hh->cap = cap;
    }
    /* At most 3/4 full. */
    if (need * 4 > hh->slots_cap * 3) {
        size_t cap = more > 1 ? need + need / 2 + 64 : 2 * need + 64;
        if (cap > UINT32_MAX) /* slot_place multiplies it by 32 bits in 64 */
            cap = UINT32_MAX;
        if (rebuild_index(hh, cap))
            return TALLY_ENOMEM;
    }
    return 0;
}

/* Stores a household that passed every check, with the hash of its id and
 * year. 0 or TALLY_ENOMEM (no error recorded). */
static int store_household(tally_households *hh, const char *id, size_t len, uint64_t hash,
                           size_t node, double pw, double income, int year, uint32_t path,
                           unsigned long line)
{
    if ((hh->count + 1 > hh->cap || (hh->count + 1) * 4 > hh->slots_cap * 3) &&
        reserve(hh, 1))
        return TALLY_ENOMEM;
    if (!hh->nruns || hh->runs[hh->nruns - 1].path != path) {
        if (tally_util__grow((void **)&hh->runs, &hh->runs_cap, hh->nruns + 1, sizeof *hh->runs))
            return TALLY_ENOMEM;
        hh->runs[hh->nruns++] = (tally_households__run){ hh->count, path };
    }
    size_t i = hh->count;
    /* The id, front coded against the one before it in its block. */
    size_t keep = 0;
    if (i % TALLY_HOUSEHOLDS__ID_BLOCK) {
        size_t most = len < hh->last_len ? len : hh->last_len;
        while (keep < most && hh->last_id[keep] == id[keep])
            keep++;
    }
    if (tally_util__grow((void **)&hh->ids, &hh->ids_cap, hh->ids_len + len - keep + 20, 1) ||
        tally_util__grow((void **)&hh->last_id, &hh->last_cap, len + 1, 1))
        return TALLY_ENOMEM;
    unsigned long prev = i % TALLY_HOUSEHOLDS__LINE_BLOCK ? hh->last_line : 0;
    if (i % TALLY_HOUSEHOLDS__LINE_BLOCK == 0) {
        hh->line_base[i / TALLY_HOUSEHOLDS__LINE_BLOCK] = line;
        hh->line_step[i] = 0;
    } else if (line >= prev && line - prev < 255) {
        hh->line_step[i] = (uint8_t)(line - prev);
    } else {
        if (tally_util__grow((void **)&hh->far, &hh->far_cap, hh->nfar + 1, sizeof *hh->far))
            return TALLY_ENOMEM;
        hh->far[hh->nfar++] = (tally_households__far_line){ i, line };
        hh->line_step[i] = 255;
    }
    hh->last_line = line;
    if (i % TALLY_HOUSEHOLDS__ID_BLOCK == 0)
        hh->id_block[i / TALLY_HOUSEHOLDS__ID_BLOCK] = hh->ids_len;
    hh->ids_len += put_varint(hh->ids + hh->ids_len, keep);
    hh->ids_len += put_varint(hh->ids + hh->ids_len, len - keep);
    memcpy(hh->ids + hh->ids_len, id + keep, len - keep);
    hh->ids_len += len - keep;
    memcpy(hh->last_id + keep, id + keep, len - keep);
    hh->last_len = len;
    hh->income[i] = income;
    hh->pw[i] = pw;
    hh->node[i] = (uint32_t)node;
    hh->year[i] = (uint16_t)year;
    slot_insert(hh->slots, hh->slots_cap, hash, i);
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
    uint32_t path = path_of(hh, i);
    if (path == NO_PATH)
        snprintf(buf, size, "added by tally_households_add");
    else
        snprintf(buf, size, "first at %s:%lu", hh->paths[path], line_of(hh, i));
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
    uint64_t hash = id_hash(household_id, len, year);
    size_t dup = find_hashed(hh, household_id, len, year, hash);
    if (dup == SIZE_MAX - 1)
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
    if (dup != TALLY_NONE) {
        char where[512];
        first_at(hh, dup, where, sizeof where);
        return tally_error__set(TALLY_EEXIST,
                                "duplicate household '%s' (year %d), %s; each household is "
                                "given once per year",
                                household_id, year, where);
    }
    if (store_household(hh, household_id, len, hash, node, weight * size, income_per_capita,
                        year, NO_PATH, 0))
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
    uint64_t hash = id_hash(idf->ptr, idf->len, (int)year);
    size_t dup = find_hashed(hh, idf->ptr, idf->len, (int)year, hash);
    if (dup == SIZE_MAX - 1)
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
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
    if (store_household(hh, idf->ptr, idf->len, hash, node, weight * size, income, (int)year,
                        (uint32_t)path,
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
    /* The last region code the one-pass rows looked up, and its node. */
    tally_csv__key16 region;
    size_t node;
} read_ctx;

/* 1 when no byte of [s, s + len) has its high bit set (then it is UTF-8);
 * s has 8 readable bytes past the end. */
static inline int ascii_only(const char *s, size_t len)
{
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        any |= tally_csv__load8(s + i);
    if (i < len)
        any |= tally_csv__key_head_fast(s + i, len - i);
    return !(any & 0x8080808080808080ULL);
}

/* A row of the one-pass path, read and checked, waiting to be looked up
 * in the id index and stored. */
typedef struct pending {
    const char *id;
    size_t idlen, node, start, end; /* the row's bytes [start, end), line ending excluded */
    double pw, income;
    int year;
    uint64_t hash;
} pending;

/* What the one-pass rows read, fixed for the whole input (threads read it
 * at once; the reader's position is the caller's). */
typedef struct scan_in {
    const tally_hierarchy *h;
    const hlayout *lay;
    const char *d;
    size_t n, maxb, maxf;
} scan_in;

static scan_in scan_of(const read_ctx *rc, const tally_csv *c)
{
    return (scan_in){ rc->hh->h, &rc->lay, c->data, c->size,
                      c->max_field_bytes ? c->max_field_bytes : SIZE_MAX, c->max_fields };
}

/* Reads the common rows of a households file from p (a row's start), up
 * to `max` of them and up to the first row starting at or after `stop`,
 * into out: no quote, the header's number of fields (8 at most), within
 * the limits, a region code of the hierarchy, numbers that
 * tally_csv__fast_number reads and that pass their checks, a four-digit
 * year. Returns how many; it stops at the first other row (which the
 * general path reads, and rejects when it is bad), and leaves the last
 * TALLY_CSV__FAST_TAIL bytes of the input to the general path. Looks
 * nothing up in the id index and changes nothing but out and the region
 * cache (region, rnode): threads may read pieces of one input at once.
 * The separators are found 64 bytes at a time, as in the records reader. */
static size_t parse_rows(const scan_in *in, tally_csv__key16 *region, size_t *rnode, size_t p,
                         size_t stop, pending *out, size_t max)
{
    const hlayout *lay = in->lay;
    const char *d = in->d;
    size_t n = in->n, nfields = lay->nfields;
    if (nfields > 8 || n < TALLY_CSV__FAST_TAIL || p > n - TALLY_CSV__FAST_TAIL ||
        (in->maxf && nfields > in->maxf))
        return 0;
    size_t limit = n - TALLY_CSV__FAST_TAIL; /* the last block may start here */
    size_t maxb = in->maxb;
    size_t fid = (size_t)lay->col[COL_ID], freg = (size_t)lay->col[COL_REGION],
           fsize = (size_t)lay->col[COL_SIZE], finc = (size_t)lay->col[COL_INCOME];
    long fw = lay->col[COL_WEIGHT], fy = lay->col[COL_YEAR];
    size_t rows = 0, base = p;
    size_t bound[9]; /* bound[f] + 1 is where field f starts, bound[f + 1] where it ends */
    uint64_t m = tally_csv__scan64(d + base);
    while (p < stop && rows < max) {
        if (d[p] == '\n' || d[p] == '\r') /* blank lines are the general path's */
            break;
        bound[0] = p - 1;
        size_t nf = 0;
        char ch;
        do {
            while (!m) {
                base += 64;
                if (base > limit)
                    return rows;
                m = tally_csv__scan64(d + base);
            }
            size_t at = base + (size_t)__builtin_ctzll(m);
            m &= m - 1;
            ch = d[at];
            bound[++nf] = at;
        } while (ch == ',' && nf < nfields);
        if (ch != '\n' || nf != nfields) /* a quote, or too few or too many fields */
            break;
        size_t nl = bound[nf], end = nl;
        if (end > bound[nf - 1] + 1 && d[end - 1] == '\r')
            bound[nf] = --end;
#define FS(f) (bound[f] + 1)
#define FL(f) (bound[(f) + 1] - bound[f] - 1)
        if (end - p > maxb) {
            size_t f = 0;
            while (f < nf && FL(f) <= maxb)
                f++;
            if (f < nf)
                break;
        }
        const char *id = d + FS(fid);
        size_t idlen = FL(fid);
        if (!idlen || (!ascii_only(id, idlen) && !tally_util__utf8_valid(id, idlen)))
            break;
        size_t a = FS(freg), len = FL(freg), node;
        if (len && tally_csv__key16_is(region, d + a, len)) {
            node = *rnode;
        } else {
            /* Files grouped by village in the hierarchy's order go on to
             * the next region in pre-order (the next village of the town,
             * or the first of the next town): compared before a lookup,
             * whose table is a cache miss away. */
            if (tally_hierarchy__code_is(in->h, *rnode + 1, d + a, len))
                node = *rnode + 1;
            else if (tally_hierarchy__code_is(in->h, *rnode + 2, d + a, len))
                node = *rnode + 2;
            else if (tally_hierarchy_find(in->h, d + a, len, &node))
                break;
            *rnode = node;
            *region = (tally_csv__key16){ 0, 0, 0 };
            if (len <= 16)
                *region = tally_csv__key16_of(d + a, len);
        }
        double size, income, weight = 1.0;
        if (!FL(fsize) || !tally_csv__fast_number(d + FS(fsize), FL(fsize), &size) ||
            !check_size(size) || !FL(finc) ||
            !tally_csv__fast_number(d + FS(finc), FL(finc), &income) || !check_income(income))
            break;
        if (fw >= 0 && (!FL((size_t)fw) ||
                        !tally_csv__fast_number(d + FS((size_t)fw), FL((size_t)fw), &weight) ||
                        !check_weight(weight)))
            break;
        int year = 0;
        if (fy >= 0) {
            const char *ys = d + FS((size_t)fy);
            if (FL((size_t)fy) != 4)
                break;
            int k = 0;
            for (; k < 4; k++) {
                unsigned dg = (unsigned char)ys[k] - (unsigned)'0';
                if (dg > 9)
                    break;
                year = year * 10 + (int)dg;
            }
            if (k < 4 || year < 1000)
                break;
        }
#undef FS
#undef FL
        pending *q = &out[rows++];
        q->id = id;
        q->idlen = idlen;
        q->node = node;
        q->pw = weight * size;
        q->income = income;
        q->year = year;
        q->hash = id_hash(id, idlen, year);
        q->start = p;
        q->end = end;
        p = nl + 1;
    }
    return rows;
}

/* Where the row after rows[k] starts: past its line ending. */
static size_t next_row(const char *d, const pending *q)
{
    size_t p = q->end;
    while (d[p] != '\n')
        p++; /* past the line ending ('\r' before it) */
    return p + 1;
}

/* Stores rows read by parse_rows from the reader's position, in order,
 * each after its own lookup in the id index (so a row sees the ones
 * before it; the slots of the rows ahead are fetched from memory
 * meanwhile). Stops at a row that is a duplicate or cannot be stored:
 * the general path reads it again and says why. Returns the number
 * stored, with the reader left exactly as tally_csv__next and read_hrow
 * would leave it after the last one (except c->fields, which nothing
 * reads after an accepted row). */
static size_t commit_rows(tally_households *hh, tally_csv *c, const pending *rows, size_t n,
                          uint32_t path)
{
    enum { AHEAD = 16 };
    for (size_t j = 0; j < n && j < AHEAD && hh->slots_cap; j++)
        __builtin_prefetch(&hh->slots[slot_place(rows[j].hash, hh->slots_cap)]);
    size_t k = 0;
    for (; k < n; k++) {
        const pending *q = &rows[k];
        if (k + AHEAD < n && hh->slots_cap)
            __builtin_prefetch(&hh->slots[slot_place(rows[k + AHEAD].hash, hh->slots_cap)]);
        if (find_hashed(hh, q->id, q->idlen, q->year, q->hash) != TALLY_NONE ||
            store_household(hh, q->id, q->idlen, q->hash, q->node, q->pw, q->income, q->year,
                            path, c->next_line + k))
            break;
    }
    if (k) {
        c->nfields = 0;
        c->line = c->next_line + k - 1;
        c->row_start = rows[k - 1].start;
        c->row_end = rows[k - 1].end;
        c->pos = next_row(c->data, &rows[k - 1]);
        c->next_line += k;
    }
    return k;
}

#define BATCH 16

/* The common rows of a households file from c->pos, read and stored in
 * one pass (parse_rows, then commit_rows, BATCH rows at a time), as many
 * as follow one another up to the first row starting at or after `stop`.
 * Returns the number stored; 0 leaves the next row to the general path. */
static size_t read_rows_fast(read_ctx *rc, tally_csv *c, size_t stop)
{
    scan_in in = scan_of(rc, c);
    pending batch[BATCH];
    size_t total = 0;
    for (;;) {
        size_t n = parse_rows(&in, &rc->region, &rc->node, c->pos, stop, batch, BATCH);
        size_t k = n ? commit_rows(rc->hh, c, batch, n, (uint32_t)rc->path) : 0;
        total += k;
        if (k < BATCH)
            return total;
    }
}

/* Input pages are given back every this many bytes read. */
#define RELEASE_STEP ((size_t)1 << 20)

/* The row loop's state (as tally_csv__read_rows, with the one-pass rows
 * first). */
typedef struct row_loop {
    read_ctx *ctx;
    tally_csv *c;
    tally_csv_input *in;
    int collect;
    tally_rejects *rejects;
    tally_read_stats st;
    const tally_mapped *map; /* the file mapping, whose pages are given back; or NULL */
    size_t released;         /* given back up to here */
    int eof;
    size_t ahead; /* rows stored as threads read them ahead */
} row_loop;

/* Reads rows until the reader's position reaches `end` (SIZE_MAX: the end
 * of the input; then L->eof is set). 0, or the code that stops the read
 * (a bad row in stop mode, out of memory). */
static int read_until(row_loop *L, size_t end)
{
    tally_csv *c = L->c;
    while (c->pos < end) {
        if (L->map && c->pos - L->released >= RELEASE_STEP) {
            tally_util__release(L->map, L->released, c->pos);
            L->released = c->pos;
        }
        size_t stop = c->pos + RELEASE_STEP;
        size_t k = read_rows_fast(L->ctx, c, stop < end ? stop : end);
        if (k) {
            L->st.rows_read += k;
            L->st.rows_accepted += k;
            continue;
        }
        int r = tally_csv__next(c);
        if (r == 0) {
            L->eof = 1;
            return 0;
        }
        if (r == TALLY_ENOMEM)
            return r;
        if (r > 0 && tally_csv__row_empty(c)) {
            /* Excel's trailing ",,,": skipped and counted, as every reader does. */
            if (L->rejects)
                L->rejects->empty_rows++;
            continue;
        }
        L->st.rows_read++;
        if (r > 0)
            r = read_hrow(L->ctx->hh, c, &L->ctx->lay, L->ctx->path);
        if (r == 0) {
            L->st.rows_accepted++;
            continue;
        }
        if (r == TALLY_ENOMEM) {
            L->st.rows_read--;
            return r;
        }
        L->st.rows_rejected++;
        tally_csv__hint_encoding(L->in, c);
        if (L->rejects && tally_rejects__add(L->rejects, c))
            return tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
        if (!L->collect)
            return r;
    }
    return 0;
}

/* ---- reading with several threads ----
 *
 * The data rows are cut into pieces at line breaks. Threads read pieces
 * ahead with parse_rows (each piece in order from its start, up to its
 * first row that is not a one-pass row), and the calling thread, which
 * reads pieces too while it waits, takes them in file order: it stores a
 * piece's rows with commit_rows, then reads the rest of the piece with
 * read_until, exactly as the serial read goes on from that row (the
 * general path for a quoted, blank or bad row, a duplicate rejected at its
 * later line, the one-pass rows after it again). Every lookup in the id
 * index and every store is the calling thread's, in file order, so the
 * result is the serial read's: the same households in the same order,
 * the same rejected rows, lines, columns and last error. A piece whose
 * start is not where the reader is (a quoted field ran over the cut) is
 * read serially from where the reader is. Threads read at most WINDOW
 * pieces per thread ahead of the calling thread, so the rows waiting to be
 * stored and the input's pages mapped stay a few megabytes. */

#define MAX_THREADS 64
#define DEFAULT_MAX_THREADS 8
/* The default piece; inputs under two pieces are read by one thread. */
#define PIECE ((size_t)1 << 20)
#define WINDOW 4

typedef struct hpiece {
    size_t start, end;
    pending *rows; /* the piece's one-pass rows, from its start */
    size_t n;
    int state; /* 0 not taken, 1 being read, 2 read */
} hpiece;

typedef struct hpar {
    scan_in in;
    hpiece *pieces;
    size_t npieces, next_take, done_upto; /* pieces below done_upto are stored */
    size_t window;
    int stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} hpar;

/* Reads piece k's one-pass rows (none when out of memory: the serial path
 * then reads the whole piece). */
static void parse_piece(hpar *P, hpiece *pc)
{
    tally_csv__key16 region = { 0, 0, 0 };
    size_t rnode = 0, cap = (pc->end - pc->start) / 32 + 16, n = 0, p = pc->start;
    pending *rows = malloc(cap * sizeof *rows);
    while (rows) {
        size_t got = parse_rows(&P->in, &region, &rnode, p, pc->end, rows + n, cap - n);
        n += got;
        if (n < cap)
            break;
        p = next_row(P->in.d, &rows[n - 1]);
        pending *more = realloc(rows, 2 * cap * sizeof *rows);
        if (!more) {
            free(rows);
            rows = NULL;
            n = 0;
            break;
        }
        rows = more;
        cap *= 2;
    }
    pc->rows = rows;
    pc->n = n;
}

/* The next piece to read ahead, taken under the lock, or NULL. */
static hpiece *take_piece(hpar *P)
{
    if (P->stop || P->next_take >= P->npieces || P->next_take >= P->done_upto + P->window)
        return NULL;
    hpiece *pc = &P->pieces[P->next_take++];
    pc->state = 1;
    return pc;
}

static void *hpar_work(void *arg)
{
    hpar *P = arg;
    pthread_mutex_lock(&P->lock);
    for (;;) {
        hpiece *pc = take_piece(P);
        if (!pc) {
            if (P->stop || P->next_take >= P->npieces)
                break;
            pthread_cond_wait(&P->cond, &P->lock);
            continue;
        }
        pthread_mutex_unlock(&P->lock);
        parse_piece(P, pc);
        pthread_mutex_lock(&P->lock);
        pc->state = 2;
        pthread_cond_broadcast(&P->cond);
    }
    pthread_mutex_unlock(&P->lock);
    return NULL;
}

/* Reads the data rows from the reader's position to the end of the input
 * with `threads` threads in pieces of about `piece` bytes, as read_until
 * would; the caller then reads on to the end of the input (nothing is
 * left but the input's end). Returns what read_until returns; 0 with
 * nothing read when it could not start (the caller reads serially). */
static int read_parallel(row_loop *L, size_t threads, size_t piece)
{
    tally_csv *c = L->c;
    const char *d = c->data;
    size_t size = c->size, start = c->pos;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    size_t cap = (size - start) / piece + 2;
    hpar P;
    memset(&P, 0, sizeof P);
    P.in = scan_of(L->ctx, c);
    P.pieces = calloc(cap, sizeof *P.pieces);
    if (!P.pieces)
        return 0;
    for (size_t p = start; p < size && P.npieces < cap; P.npieces++) {
        /* Cut at the first line break at or after p + piece - 1. */
        size_t end = size;
        if (p + piece - 1 < size) {
            const char *nl = memchr(d + p + piece - 1, '\n', size - (p + piece - 1));
            end = nl ? (size_t)(nl - d) + 1 : size;
        }
        P.pieces[P.npieces] = (hpiece){ p, end, NULL, 0, 0 };
        p = end;
    }
    /* Cutting touched the pages at every cut: given back until read. */
    if (L->map)
        tally_util__release(L->map, start, size);
    P.window = WINDOW * threads;
    pthread_t tid[MAX_THREADS];
    size_t started = 0;
    if (pthread_mutex_init(&P.lock, NULL)) {
        free(P.pieces);
        return 0;
    }
    if (pthread_cond_init(&P.cond, NULL)) {
        pthread_mutex_destroy(&P.lock);
        free(P.pieces);
        return 0;
    }
    for (size_t t = 1; t < threads; t++)
        if (pthread_create(&tid[started], NULL, hpar_work, &P) == 0)
            started++;
    int rc = 0;
    for (size_t k = 0; started && k < P.npieces; k++) {
        hpiece *pc = &P.pieces[k];
        /* Wait for piece k, reading pieces ahead meanwhile. */
        pthread_mutex_lock(&P.lock);
        while (pc->state != 2) {
            hpiece *mine = take_piece(&P);
            if (!mine) {
                pthread_cond_wait(&P.cond, &P.lock);
                continue;
            }
            pthread_mutex_unlock(&P.lock);
            /* A lookup that fails there records an error: the last error
             * stays the serial read's. */
            tally_error__kept kept;
            tally_error__keep(&kept);
            parse_piece(&P, mine);
            tally_error__put_back(&kept);
            pthread_mutex_lock(&P.lock);
            mine->state = 2;
            pthread_cond_broadcast(&P.cond);
        }
        pthread_mutex_unlock(&P.lock);
        if (c->pos == pc->start && pc->n) {
            size_t stored = commit_rows(L->ctx->hh, c, pc->rows, pc->n, (uint32_t)L->ctx->path);
            L->st.rows_read += stored;
            L->st.rows_accepted += stored;
            L->ahead += stored;
        }
        free(pc->rows);
        pc->rows = NULL;
        rc = read_until(L, pc->end);
        if (L->map && c->pos > L->released) {
            tally_util__release(L->map, L->released, c->pos);
            L->released = c->pos;
        }
        pthread_mutex_lock(&P.lock);
        P.done_upto = k + 1;
        if (rc || L->eof)
            P.stop = 1;
        pthread_cond_broadcast(&P.cond);
        pthread_mutex_unlock(&P.lock);
        if (rc || L->eof)
            break;
    }
    pthread_mutex_lock(&P.lock);
    P.stop = 1;
    pthread_cond_broadcast(&P.cond);
    pthread_mutex_unlock(&P.lock);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (size_t k = 0; k < P.npieces; k++)
        free(P.pieces[k].rows);
    free(P.pieces);
    pthread_cond_destroy(&P.cond);
    pthread_mutex_destroy(&P.lock);
    return rc;
}

/* The number of threads a read asks for (as the records reader's). */
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

/* The row loop. map: the file mapping data is, whose pages are given back
 * as the read goes on; or NULL. threads: see tally_read_options; piece:
 * the bytes of a piece (0: PIECE, and inputs under two pieces are read by
 * one thread). */
static int read_rows(read_ctx *ctx, const char *data, size_t size, const char *name,
                     const tally_read_options *opts, tally_rejects *rejects,
                     tally_read_stats *stats, const tally_mapped *map, size_t threads,
                     size_t piece, size_t *ahead)
{
    tally_read_options defaults = TALLY_READ_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    int collect = opts->on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected rows needs a tally_rejects list");
    tally_csv_input in;
    int rc = tally_csv__input_open(&in, data ? data : "", size, name, opts);
    if (rc)
        return rc;
    /* A converted input is read from its copy: the file's pages are done
     * with now. */
    if (map && in.data != map->data) {
        tally_util__release(map, 0, map->size);
        map = NULL;
    }
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, name);
    tally_csv__input_apply(&in, &c);
    c.map = map;
    c.name_header = 1; /* 户编号, 人均纯收入...: tally_csv__name_header */
    rc = read_hheader(&c, &ctx->lay);
    if (rc && rc != TALLY_ENOMEM)
        tally_csv__hint_encoding(&in, &c);
    if (!rc)
        rc = tally_csv__note_detected(&in, &c, rejects);
    /* Room for the rows of the file, estimated from its first 64 KiB, so
     * that a large survey grows its arrays and its id index once or
     * twice, and the file is not read an extra time to count them. */
    if (!rc && c.pos < in.size) {
        size_t sample = in.size - c.pos < 65536 ? in.size - c.pos : 65536, lines = 0;
        for (const char *q = in.data + c.pos, *e = q + sample; q < e; q++) {
            q = memchr(q, '\n', (size_t)(e - q));
            if (!q)
                break;
            lines++;
        }
        size_t est = lines ? (size_t)((double)(in.size - c.pos) / sample * lines * 1.02) + 16 : 1;
        if (est > MAX_HOUSEHOLDS - ctx->hh->count)
            est = MAX_HOUSEHOLDS - ctx->hh->count;
        if (est && reserve(ctx->hh, est))
            rc = tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    }
    row_loop L = { ctx, &c, &in, collect, rejects, { 0, 0, 0 }, map, c.pos, 0, 0 };
    if (!rc && threads > 1 && c.pos < in.size &&
        (piece || in.size - c.pos >= 2 * PIECE)) {
        rc = read_parallel(&L, threads, piece ? piece : PIECE);
    }
    if (!rc && !L.eof)
        rc = read_until(&L, SIZE_MAX);
    tally_csv__fini(&c);
    tally_csv__input_close(&in);
    if (stats)
        *stats = L.st;
    if (ahead)
        *ahead = L.ahead;
    return rc;
}

/* tally_households_read_buffer, from a file's mapping when map is not
 * NULL, with `threads` threads in pieces of `piece` bytes (see read_rows). */
static int read_buffer_threads(tally_households *hh, const char *data, size_t size,
                               const char *name, const tally_read_options *opts,
                               tally_rejects *rejects, tally_read_stats *stats,
                               const tally_mapped *map, size_t threads, size_t piece,
                               size_t *ahead)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!hh || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_households_read_buffer: NULL argument");
    if (!name)
        name = "<buffer>";
    read_ctx ctx = { hh, { { -1, -1, -1, -1, -1, -1 }, 0 }, 0, { 0, 0, 0 }, 0 };
    if (register_path(hh, name, &ctx.path))
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    return read_rows(&ctx, data, size, name, opts, rejects, stats, map, threads, piece, ahead);
}

static int read_buffer(tally_households *hh, const char *data, size_t size, const char *name,
                       const tally_read_options *opts, tally_rejects *rejects,
                       tally_read_stats *stats, const tally_mapped *map)
{
    return read_buffer_threads(hh, data, size, name, opts, rejects, stats, map,
                               read_threads(opts), 0, NULL);
}

int tally_households__read_buffer_threads(tally_households *hh, const char *data, size_t size,
                                          const char *name, const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats,
                                          size_t threads, size_t piece, size_t *ahead)
{
    if (ahead)
        *ahead = 0;
    return read_buffer_threads(hh, data, size, name, opts, rejects, stats, NULL, threads,
                               piece, ahead);
}

TALLY_EXTERN(int) tally_households_read_buffer(tally_households *hh, const char *data,
                                               size_t size, const char *name,
                                               const tally_read_options *opts,
                                               tally_rejects *rejects, tally_read_stats *stats)
{
    return read_buffer(hh, data, size, name, opts, rejects, stats, NULL);
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
    rc = read_buffer(hh, m.data, m.size, path, opts, rejects, stats, &m);
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
        int y = hh->year[i];
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

size_t tally_households__id(const tally_households *hh, size_t i, const char **out)
{
    /* The scratch buffer is not part of what the store holds. */
    return decode_id((tally_households *)hh, i, out);
}

int tally_households__add_weighted(tally_households *hh, const char *household_id, size_t node,
                                   double pw, double income_per_capita, int year)
{
    size_t len = strlen(household_id);
    if (!len || node >= tally_hierarchy_size(hh->h) || !check_income(income_per_capita) ||
        !(pw > 0 && pw <= MAX_WEIGHT * MAX_SIZE) || (year != 0 && !check_year(year)))
        return tally_error__set(TALLY_EINVAL, "household '%s': bad id, region, income, person "
                                              "weight or year in a partial",
                                household_id);
    uint64_t hash = id_hash(household_id, len, year);
    size_t dup = find_hashed(hh, household_id, len, year, hash);
    if (dup == SIZE_MAX - 1)
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
    if (dup != TALLY_NONE)
        return tally_error__set(TALLY_EEXIST, "duplicate household '%s' (year %d)", household_id,
                                year);
    if (store_household(hh, household_id, len, hash, node, pw, income_per_capita, year, NO_PATH,
                        0))
        return tally_error__set(TALLY_ENOMEM, "out of memory storing a household");
    return 0;
}
