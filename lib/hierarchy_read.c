/* Administrative hierarchies: loading. Reading a hierarchy CSV and laying
 * the nodes out in pre-order.
 *
 * Loading works on arrays indexed by row (file order), in steps:
 * 1. one pass over the CSV checks each row, keeps a 12-digit code as its
 *    number and copies any other code, and the name, into a single arena,
 *    and finds its level (nothing is allocated per row);
 * 2. repeated names are kept once (share_names);
 * 3. the codes go into the lookup tables in bulk, in file order, so a
 *    duplicate is reported at the row that repeats a code;
 * 4. parents are linked (from `parent_code`, or derived from 12-digit codes
 *    now that every code is known: the nearest existing ancestor may come
 *    later in the file);
 * 5. the pre-order: when the file already is in pre-order (tables sorted by
 *    code are) one check confirms it; otherwise a depth-first walk from the
 *    roots computes it, and rows it does not reach are on, or hang from, a
 *    cycle of parents. Levels are then checked, and the arrays permuted into
 *    pre-order where needed.
 * Checks after step 1 find the row's cells by reading the input again (see
 * error_at_row), so errors name the same line and column as parse errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/hierarchy.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "columns.h"
#include "csv.h"
#include "tally/read.h"
#include "error.h"
#include "hierarchy.h"
#include "hierarchy_impl.h"
#include "tally/error.h"
#include "util.h"

/* Divisors that cut a 12-digit code after 2, 4, 6, 9 and 12 digits. */
static const uint64_t segment_div[5] = { 10000000000ULL, 100000000ULL, 1000000ULL, 1000ULL, 1ULL };

/* Index (0..4) of the last non-zero segment of a 12-digit code: its level
 * in the 2+2+2+3+3 layout (all-zero codes count as provinces). */
static int code_segment(uint64_t v)
{
    if (v % 1000ULL)
        return 4;
    if (v % 1000000ULL)
        return 3;
    if (v % 100000000ULL)
        return 2;
    if (v % 10000000000ULL)
        return 1;
    return 0;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* How a row names its parent until the codes are indexed (pref_set). */
#define PREF_ROOT 0                 /* empty parent_code, a code not of 12 digits */
#define PREF_TEXT (1ULL << 63)      /* | offset of the code in loader.pbuf */
#define PREF_DERIVE (1ULL << 62)    /* empty parent_code, a 12-digit code: from the code */
                                    /* else: 12-digit code + 1 */

/* Where 64-bit parent references fit in size_t, they wait in fparent
 * itself, each replaced by its parent row once the codes are indexed:
 * a row's reference is read just before its parent is written. */
#if SIZE_MAX >= UINT64_MAX
#define PREF_IN_FPARENT 1
#else
#define PREF_IN_FPARENT 0
#endif

typedef struct loader {
    tally_hierarchy *h;
    const char *data;
    size_t size;
    tally_csv csv;
    size_t ncols;
    long col_code, col_name, col_level, col_parent;
    int code_levels;   /* 12-digit codes give their level (no level column) */
    size_t cap;        /* rows the per-row arrays hold */
    size_t numeric;    /* rows with 12-digit codes */
    size_t indexed;    /* rows whose codes are in the tables */
    size_t *fparent;   /* parent row or TALLY_NONE, once linked */
    uint64_t *pref;    /* with a parent_code column, when !PREF_IN_FPARENT */
    tally_hierarchy__limits lim;
    char *pbuf;        /* parent codes that are not 12-digit, NUL-terminated */
    size_t pbuf_len, pbuf_cap;
} loader;

static void pref_set(loader *L, size_t r, uint64_t ref)
{
#if PREF_IN_FPARENT
    L->fparent[r] = (size_t)ref;
#else
    L->pref[r] = ref;
#endif
}

static uint64_t pref_get(const loader *L, size_t r)
{
#if PREF_IN_FPARENT
    return (uint64_t)L->fparent[r];
#else
    return L->pref[r];
#endif
}

/* Sets the last error at field `field` of row r (-1: the row's line only).
 * Checks that run after the last row find the row's cells by reading the
 * input again up to it: that costs a pass over the input, on errors only,
 * and saves keeping every row's offset. */
static int error_at_row(const loader *L, size_t r, long field, int code, const char *fmt, ...)
    TALLY_PRINTF(5, 6);

static int error_at_row(const loader *L, size_t r, long field, int code, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    tally_csv c;
    tally_csv__init(&c, L->data, L->size, L->csv.name);
    c.sheet = L->csv.sheet;
    int found = 0;
    /* The header, then rows 0..r: all were read without error before. */
    for (size_t k = 0; k <= r + 1 && field >= 0; k++) {
        if (tally_csv__next(&c) != 1)
            break;
        if (k == r + 1)
            found = c.line == row_line(L->h, r) && (size_t)field <= c.nfields;
    }
    if (found)
        tally_csv__error_at_field(&c, (size_t)field, code, "%s", reason);
    else
        tally_error__set_at(code, L->csv.name, row_line(L->h, r), 0, NULL, 0, "%s", reason);
    tally_csv__fini(&c);
    return code;
}

static int resize_array(void **p, size_t n, size_t size)
{
    void *np = realloc(*p, n * size);
    if (!np)
        return TALLY_ENOMEM;
    *p = np;
    return 0;
}

static int ensure_rows(loader *L, size_t need)
{
    if (need <= L->cap)
        return 0;
    size_t cap = L->cap ? L->cap : 16;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof(uint64_t))
            return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
        cap *= 2;
    }
    tally_hierarchy *h = L->h;
    /* Each array keeps its old block when one realloc fails; L->cap only
     * moves once they all have the new size. Blocks this large come from
     * mmap: the rows never read leave no pages behind. */
    if (resize_array((void **)&h->line, cap, sizeof *h->line) ||
        resize_array((void **)&h->level, cap, sizeof *h->level) ||
        resize_array((void **)&h->subtree_end, cap, sizeof *h->subtree_end) ||
        resize_array((void **)&h->name_off, cap, sizeof *h->name_off) ||
        resize_array((void **)&h->code_lo, cap, sizeof *h->code_lo) ||
        resize_array((void **)&h->code_hi, cap, sizeof *h->code_hi) ||
        resize_array((void **)&L->fparent, cap, sizeof *L->fparent) ||
        (!PREF_IN_FPARENT && L->col_parent >= 0 &&
         resize_array((void **)&L->pref, cap, sizeof *L->pref)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
    L->cap = cap;
    return 0;
}

static int read_header(loader *L)
{
    tally_csv *c = &L->csv;
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "no header row; expected a header naming the columns "
                                   "code and name (and optionally level, parent_code)");
    /* A bare CR in the header: classic Mac OS line breaks, which make the
     * whole file one row; say so rather than load nothing. */
    const char *row = c->data + c->row_start;
    const char *cr = memchr(row, '\r', c->row_end - c->row_start);
    if (cr && cr + 1 < c->data + c->row_end && cr[1] != '\n' &&
        !memchr(row, '"', c->row_end - c->row_start)) {
        unsigned long line, col;
        tally_csv__locate(c, (size_t)(cr - c->data), &line, &col);
        return tally_error__set_at(TALLY_EPARSE, c->name, line, col, NULL, 0,
                                   "the line breaks are bare carriage returns (classic Mac OS), "
                                   "so the file reads as one line; expected LF or CRLF line "
                                   "breaks");
    }
    static const char *const known[4] = { "code", "name", "level", "parent_code" };
    long *cols[4] = { &L->col_code, &L->col_name, &L->col_level, &L->col_parent };
    for (int k = 0; k < 4; k++)
        *cols[k] = -1;
    for (size_t i = 0; i < c->nfields; i++) {
        /* By its name or a common Chinese one (代码, 名称, 级别, 上级代码). */
        const char *key = tally_columns__hierarchy_key(c->fields[i].ptr, c->fields[i].len);
        for (int k = 0; key && k < 4; k++) {
            if (strcmp(key, known[k]) != 0)
                continue;
            if (*cols[k] >= 0)
                return tally_csv__error_at_field(c, i, TALLY_EPARSE,
                                                 "column '%s' is named twice in the header "
                                                 "(fields %ld and %zu); expected it once",
                                                 known[k], *cols[k] + 1, i + 1);
            *cols[k] = (long)i;
        }
    }
    for (int k = 0; k < 2; k++)
        if (*cols[k] < 0)
            return tally_error__set_at(TALLY_EPARSE, c->name, c->line, 1, c->data + c->row_start,
                                       c->row_end - c->row_start,
                                       "the header has no '%s' column; expected a header naming "
                                       "the columns code and name (and optionally level, "
                                       "parent_code, or 代码, 名称, 级别, 上级代码)",
                                       known[k]);
    L->ncols = c->nfields;
    L->code_levels = L->col_level < 0 && L->h->level_count >= 5;
    return 0;
}

/* Text cells must be UTF-8 without NUL bytes (they become C strings). */
/* A code is printable text without spaces: a space, a control character or
 * a byte order mark inside one is a broken export, not a different code. */
static int check_code(const tally_csv *c, long field, const char *what)
{
    const tally_csv_field *f = &c->fields[field];
    for (size_t i = 0; i < f->len; i++) {
        unsigned char b = (unsigned char)f->ptr[i];
        int bom = b == 0xEF && i + 2 < f->len && (unsigned char)f->ptr[i + 1] == 0xBB &&
                  (unsigned char)f->ptr[i + 2] == 0xBF;
        if (b <= 0x20 || b == 0x7F || bom)
            return tally_csv__error_at_field(c, (size_t)field, TALLY_EPARSE,
                                             "%s has %s at byte %zu; expected a code without "
                                             "spaces or control characters", what,
                                             bom ? "a byte order mark" : b == ' ' ? "a space"
                                                                                : "a control character",
                                             i + 1);
    }
    return 0;
}

static int check_text(const tally_csv *c, long field, const char *what)
{
    const tally_csv_field *f = &c->fields[field];
    if (memchr(f->ptr, '\0', f->len))
        return tally_csv__error_at_field(c, (size_t)field, TALLY_EPARSE,
                                         "%s contains a NUL byte; expected text", what);
    if (!tally_util__utf8_valid(f->ptr, f->len))
        return tally_csv__error_at_field(c, (size_t)field, TALLY_EPARSE,
                                         "%s is not valid UTF-8; expected UTF-8 text (if the "
                                         "file is GB18030, read it with --encoding gb18030)",
                                         what);
    return 0;
}

/* A name's hash for share_names, eight bytes a step: the national table's
 * names hash in 3.4 ms so, and in 11 ms a byte at a time (as
 * tally_util__hash_bytes goes). Bytes past the name are never read. */
static uint64_t name_hash(const char *s, size_t len)
{
    uint64_t x = (uint64_t)len * 0x9E3779B97F4A7C15ULL, w = 0;
    if (len < 8) {
        memcpy(&w, s, len);
        return tally_util__hash_u64(x ^ w);
    }
    size_t i = 0;
    for (; i + 8 < len; i += 8) {
        memcpy(&w, s + i, 8);
        x = (x ^ w) * 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 29;
    }
    memcpy(&w, s + len - 8, 8); /* the last eight, overlapping the step before */
    return tally_util__hash_u64(x ^ w);
}

/* Reads one row into the per-row arrays and the arena. Codes are indexed
 * later, in bulk (index_rows). */
static int read_row(loader *L)
{
    tally_csv *c = &L->csv;
    tally_hierarchy *h = L->h;
    if (c->nfields != L->ncols)
        return tally_csv__error_at_field(c, c->nfields < L->ncols ? c->nfields : L->ncols,
                                         TALLY_EPARSE,
                                         "the row has %zu fields; expected %zu as in the header",
                                         c->nfields, L->ncols);
    const tally_csv_field *code = &c->fields[L->col_code];
    const tally_csv_field *name = &c->fields[L->col_name];
    int rc;
    if (code->len == 0)
        return tally_csv__error_at_field(c, (size_t)L->col_code, TALLY_EPARSE,
                                         "empty code; expected a region code");
    uint64_t key = 0;
    int numeric = tally_util__code12(code->ptr, code->len, &key);
    if (!numeric) {
        if ((rc = check_text(c, L->col_code, "the code")) ||
            (rc = check_code(c, L->col_code, "the code")))
            return rc;
        if (L->col_parent < 0)
            return tally_csv__error_at_field(
                c, (size_t)L->col_code, TALLY_EINVAL,
                "code '%.*s' is not a 12-digit division code, so its parent cannot be "
                "derived; expected 12 digits, or a parent_code column",
                shown(code->ptr, code->len), code->ptr);
    }
    if ((rc = check_text(c, L->col_name, "the name")))
        return rc;

    int level = LEVEL_UNSET;
    if (L->col_level >= 0) {
        const tally_csv_field *lv = &c->fields[L->col_level];
        level = level_of(h, lv->ptr, lv->len);
        if (level < 0) {
            char list[512];
            tally_hierarchy__level_list(h, list, sizeof list);
            return tally_csv__error_at_field(c, (size_t)L->col_level, TALLY_ENOTFOUND,
                                             "unknown level '%.*s'; expected one of %s",
                                             shown(lv->ptr, lv->len), lv->ptr, list);
        }
    } else if (numeric && L->code_levels) {
        level = code_segment(key);
    }

    /* An empty parent_code on a 12-digit code means what a file without
     * the column means: the parent comes from the code. */
    uint64_t pref = numeric ? PREF_DERIVE : PREF_ROOT;
    if (L->col_parent >= 0 && c->fields[L->col_parent].len) {
        const tally_csv_field *pf = &c->fields[L->col_parent];
        uint64_t pkey;
        if (tally_util__code12(pf->ptr, pf->len, &pkey)) {
            pref = pkey + 1;
        } else {
            if ((rc = check_text(c, L->col_parent, "the parent code")))
                return rc;
            size_t pneed = L->pbuf_len + pf->len + 1;
            if (pneed < L->pbuf_len || tally_util__grow((void **)&L->pbuf, &L->pbuf_cap, pneed, 1))
                return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", c->name);
            memcpy(L->pbuf + L->pbuf_len, pf->ptr, pf->len);
            L->pbuf[L->pbuf_len + pf->len] = '\0';
            pref = PREF_TEXT | (uint64_t)L->pbuf_len;
            L->pbuf_len = pneed;
        }
    }

    size_t r = h->n;
    if (r >= L->lim.max_nodes)
        return tally_csv__error_at_field(c, (size_t)L->col_code, TALLY_ELIMIT,
                                         "more than %zu regions; a hierarchy holds at most %zu",
                                         L->lim.max_nodes, L->lim.max_nodes);
    if (c->line > L->lim.max_line)
        return tally_csv__error_at_field(c, (size_t)L->col_code, TALLY_ELIMIT,
                                         "the row starts on line %lu; a hierarchy's rows must "
                                         "start by line %lu",
                                         c->line, L->lim.max_line);
    /* The arena holds the name and a code that is not 12 digits, each with
     * a NUL: a 12-digit code is kept as its number. */
    size_t code_bytes = numeric ? 0 : code->len + 1;
    size_t need = h->arena_len + code_bytes + name->len + 1;
    if (need < h->arena_len || need > L->lim.max_text)
        return tally_csv__error_at_field(c, (size_t)L->col_name, TALLY_ELIMIT,
                                         "the codes and names reach more than %zu bytes; a "
                                         "hierarchy holds at most %zu",
                                         L->lim.max_text, L->lim.max_text);
    if ((rc = ensure_rows(L, r + 1)))
        return rc;
    if (tally_util__grow((void **)&h->arena, &h->arena_cap, need, 1))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", c->name);
    size_t off = h->arena_len;
    if (numeric) {
        h->code_lo[r] = (uint32_t)key;
        h->code_hi[r] = (uint8_t)(key >> 32);
    } else {
        memcpy(h->arena + off, code->ptr, code->len);
        h->arena[off + code->len] = '\0';
        h->code_lo[r] = (uint32_t)off;
        h->code_hi[r] = CODE_TEXT;
        off += code_bytes;
    }
    memcpy(h->arena + off, name->ptr, name->len);
    h->arena[off + name->len] = '\0';
    h->arena_len = need;
    h->name_off[r] = (uint32_t)off;
    /* The name's hash, for share_names, while its bytes are at hand
     * (subtree_end is free until the pre-order is known). */
    h->subtree_end[r] = (uint32_t)name_hash(name->ptr, name->len);
    h->line[r] = (uint32_t)c->line;
    h->level[r] = (uint8_t)level;
    if (L->col_parent >= 0)
        pref_set(L, r, pref);
    L->numeric += (size_t)numeric;
    h->n = r + 1;
    return 0;
}

/* 1 when the n bytes at a and b are equal (n >= 1; names are short, and a
 * call to memcmp costs more than the comparison). */
static int same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return 0;
    }
    if (i == n)
        return 1;
    if (n >= 8) { /* the last eight, overlapping the ones compared */
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    return memcmp(a, b, n) == 0;
}

/* Where row r's bytes start in the arena while loading: read_row appends
 * each row's text code (if any) and then its name, so a name ends where
 * the next row starts. */
static size_t row_start(const tally_hierarchy *h, size_t r)
{
    if (r == h->n)
        return h->arena_len;
    return h->code_hi[r] == CODE_TEXT ? h->code_lo[r] : h->name_off[r];
}

/* Keeps one copy of each distinct name in the arena, in place: names (and
 * text codes) move down over the repeats, in file order, and name_off of a
 * repeat points at the first copy. Names in the national table repeat a
 * lot (新村村委会 and the like): 13.5 MB of names hold 8.5 MB of distinct
 * ones.
 *
 * A hash table of (offset + 1, the name's 32-bit hash) words finds
 * earlier copies, the hash sparing most comparisons of names that only
 * share a slot. read_row hashed each name while its bytes were in cache
 * (in subtree_end, free until the pre-order is known), which costs 8 ms
 * less than reading the names again here. In a large table every probe is
 * a cache miss, and so is the first copy a repeat is compared with: AHEAD
 * rows on, the slot is prefetched, and AHEAD / 2 rows on, the copy the
 * slot names, so the misses overlap. (Past 2^32 slots, 3 billion rows,
 * only the first 2^32 are home slots: slower, still exact.)
 *
 * The table is the 12-digit codes' table (index_rows) when that has as
 * many slots, as it has when every code has 12 digits, cleared after: its
 * pages are faulted in once, and loading needs no second table at its
 * peak. Nothing else depends on the sharing: when no table can be
 * allocated, the names stay as they are. */
static void share_names(loader *L)
{
    enum { AHEAD = 32 };
    tally_hierarchy *h = L->h;
    size_t n = h->n;
    if (n < 2)
        return;
    size_t cap = num_table_size(n);
    uint64_t *slots;
    int borrowed = L->numeric && num_table_size(L->numeric) == cap;
    if (borrowed) {
        if (!h->num_cap && num_alloc(h, cap, n, L->lim.node_low_bits))
            return; /* index_rows says so */
        slots = h->num_slots;
    } else {
        slots = cap <= SIZE_MAX / sizeof *slots ? calloc(cap, sizeof *slots) : NULL;
        if (!slots)
            return;
    }
    const uint32_t *hashes = h->subtree_end; /* by read_row */
    for (size_t r = 0; r < n && r < AHEAD; r++)
        PREFETCH(&slots[home32(hashes[r], cap)]);
    size_t to = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t hash = hashes[r];
        size_t from = h->name_off[r], len = row_start(h, r + 1) - from - 1;
        if (r + AHEAD < n)
            PREFETCH(&slots[home32(hashes[r + AHEAD], cap)]);
        if (r + AHEAD / 2 < n) {
            uint64_t v = slots[home32(hashes[r + AHEAD / 2], cap)];
            if (v)
                PREFETCH(h->arena + (uint32_t)v - 1);
        }
        if (h->code_hi[r] == CODE_TEXT) {
            size_t clen = from - h->code_lo[r]; /* with its NUL */
            memmove(h->arena + to, h->arena + h->code_lo[r], clen);
            h->code_lo[r] = (uint32_t)to;
            to += clen;
        }
        const char *name = h->arena + from;
        uint64_t tag = hash;
        size_t j = home32(hash, cap);
        for (;;) {
            uint64_t v = slots[j];
            if (!v) {
                /* A first copy. Offsets are below MAX_TEXT, so + 1 fits. */
                if (to != from)
                    memmove(h->arena + to, name, len + 1);
                slots[j] = (uint64_t)(to + 1) | tag << 32;
                h->name_off[r] = (uint32_t)to;
                to += len + 1;
                break;
            }
            /* The earlier copy lies below `to`, so its len + 1 bytes end
             * within this row's name at the latest: inside the arena. */
            size_t at = (size_t)(uint32_t)v - 1;
            if (v >> 32 == tag && same_bytes(h->arena + at, name, len + 1)) {
                h->name_off[r] = (uint32_t)at;
                break;
            }
            if (++j == cap)
                j = 0;
        }
    }
    h->arena_len = to;
    if (borrowed)
        memset(slots, 0, cap * sizeof *slots);
    else
        free(slots);
}

/* A row's code, ready for the tables. */
typedef struct hashed_code {
    uint64_t key; /* the 12-digit value when numeric */
    uint64_t hash;
    int numeric;
} hashed_code;

static hashed_code hash_row(const tally_hierarchy *h, size_t r)
{
    hashed_code e;
    e.key = 0;
    e.numeric = code_number(h, r, &e.key);
    if (e.numeric) {
        e.hash = tally_util__hash_u64(e.key);
    } else {
        const char *s = h->arena + h->code_lo[r];
        e.hash = tally_util__hash_bytes(s, strlen(s));
    }
    return e;
}

static void prefetch_slot(const tally_hierarchy *h, const hashed_code *e)
{
    if (e->numeric)
        PREFETCH(&h->num_slots[home64(e->hash, h->num_cap)]);
    else
        PREFETCH(&h->str_slots[(size_t)e->hash & (h->str_cap - 1)]);
}

/* Puts the codes of rows [L->indexed, h->n) into the lookup tables, in file
 * order, so a duplicate is reported at the row that repeats a code.
 *
 * Why in bulk rather than row by row: in a large table every insert is a
 * cache miss. Sized once and walked with the slots of the next rows
 * prefetched, the misses overlap instead of queueing. */
static int index_rows(loader *L)
{
    enum { AHEAD = 16 };
    tally_hierarchy *h = L->h;
    size_t from = L->indexed, to = h->n;
    size_t text = to - L->numeric;
    /* Called once, after the last row (or the first bad one): the tables
     * are sized for every row read. */
    if ((L->numeric && !h->num_cap &&
         num_alloc(h, num_table_size(L->numeric), to, L->lim.node_low_bits)) ||
        (text && !h->str_cap && str_alloc(h, table_size(text))))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);

    hashed_code ring[AHEAD];
    for (size_t r = from; r < to && r < from + AHEAD; r++) {
        ring[r % AHEAD] = hash_row(h, r);
        prefetch_slot(h, &ring[r % AHEAD]);
    }
    for (size_t r = from; r < to; r++) {
        hashed_code e = ring[r % AHEAD];
        if (r + AHEAD < to) {
            ring[r % AHEAD] = hash_row(h, r + AHEAD);
            prefetch_slot(h, &ring[r % AHEAD]);
        }
        size_t first;
        if (e.numeric) {
            first = num_insert(h, e.key, e.hash, r);
        } else {
            const char *kept = h->arena + h->code_lo[r];
            first = str_insert(h, kept, strlen(kept), e.hash, r);
        }
        if (first != TALLY_NONE) {
            char buf[CODE_WIDTH];
            const char *code = tally_hierarchy__code_text(h, r, buf);
            return error_at_row(L, r, L->col_code, TALLY_EEXIST,
                                "duplicate code '%.*s'; first given on line %lu",
                                shown(code, strlen(code)), code, row_line(h, first));
        }
        L->indexed = r + 1;
    }
    return 0;
}

/* The nearest existing ancestor of row r by its 12-digit code, trying the
 * code cut after 9, 6, 4 and 2 digits. Only cuts shorter than the code's
 * own significant digits are ancestors (a cut that leaves the code
 * unchanged is the node itself, as with 东莞市 441900000000 cut after 6
 * digits); missing levels are skipped. TALLY_NONE: a root. */
static size_t derived_parent(const tally_hierarchy *h, size_t r)
{
    uint64_t v = 0;
    code_number(h, r, &v);
    size_t p = TALLY_NONE;
    for (int s = code_segment(v) - 1; s >= 0 && p == TALLY_NONE; s--)
        p = num_find(h, v - v % segment_div[s]);
    return p;
}

static int resolve_parents(loader *L)
{
    tally_hierarchy *h = L->h;
    if (L->col_parent >= 0) {
        /* Parents mostly come just before their children: their slots are
         * still in cache, and runs of siblings ask for the same one. */
        size_t last_p = TALLY_NONE;
        uint64_t last_ref = PREF_ROOT;
        for (size_t r = 0; r < h->n; r++) {
            uint64_t ref = pref_get(L, r);
            size_t p;
            if (ref == PREF_ROOT) {
                p = TALLY_NONE;
            } else if (ref == PREF_DERIVE) {
                L->fparent[r] = derived_parent(h, r);
                continue; /* the cache of the last reference stays */
            } else if (ref == last_ref) {
                p = last_p;
            } else if (ref & PREF_TEXT) {
                const char *t = L->pbuf + (size_t)(ref & ~PREF_TEXT);
                size_t len = strlen(t);
                p = str_find(h, t, len);
                if (p == TALLY_NONE)
                    return error_at_row(L, r, L->col_parent, TALLY_ENOTFOUND,
                                        "unknown parent code '%.*s'; expected the code of a "
                                        "row in this file, or an empty cell for a root",
                                        shown(t, len), t);
            } else {
                p = num_find(h, ref - 1);
                if (p == TALLY_NONE)
                    return error_at_row(L, r, L->col_parent, TALLY_ENOTFOUND,
                                        "unknown parent code '%012llu'; expected the code of a "
                                        "row in this file, or an empty cell for a root",
                                        (unsigned long long)(ref - 1));
            }
            last_ref = ref;
            last_p = p;
            L->fparent[r] = p;
        }
        return 0;
    }
    /* Derived parents (without parent_code every code has 12 digits). */
    for (size_t r = 0; r < h->n; r++)
        L->fparent[r] = derived_parent(h, r);
    return 0;
}

/* Scratch indices below are 32-bit (rows < MAX_NODES); NO_ROW marks none. */
#define NO_ROW UINT32_MAX

/* 1 when the rows already are in pre-order with children in file order,
 * as in tables sorted by code: every row's parent is the row before it or
 * one of that row's ancestors. Fills depth[] (by row) as it goes. O(n):
 * each walk up passes only rows whose subtree is finished. */
static int rows_in_preorder(const loader *L, uint32_t *depth)
{
    const size_t *fp = L->fparent;
    for (size_t r = 0; r < L->h->n; r++) {
        size_t p = fp[r];
        if (p == TALLY_NONE) {
            depth[r] = 0;
            continue;
        }
        if (r == 0)
            return 0;
        size_t q = r - 1;
        while (q != p && q != TALLY_NONE)
            q = fp[q];
        if (q != p)
            return 0;
        depth[r] = depth[p] + 1;
    }
    return 1;
}

/* Reports the cycle that row u (unreachable from every root) leads to.
 * mark[] is scratch (n entries). */
static int report_cycle(const loader *L, size_t u, uint32_t *mark)
{
    const tally_hierarchy *h = L->h;
    const size_t *fp = L->fparent;
    /* u's chain of parents never reaches a root (else u would have been
     * reached), so it runs into a cycle: the first node seen twice. */
    for (size_t i = 0; i < h->n; i++)
        mark[i] = 0;
    size_t x = u;
    while (!mark[x] && fp[x] != TALLY_NONE) {
        mark[x] = 1;
        x = fp[x];
    }
    /* Report at the cycle's first row in the file, so the message does not
     * depend on where the walk entered the cycle. */
    size_t first = x;
    size_t y = x;
    do {
        if (y < first)
            first = y;
        y = fp[y];
    } while (y != x && y != TALLY_NONE);

    char list[512];
    size_t used = 0;
    int count = 0;
    y = first;
    char buf[CODE_WIDTH];
    do {
        const char *code = tally_hierarchy__code_text(h, y, buf);
        int n = snprintf(list + used, sizeof list - used, "%s%.*s", count ? " -> " : "",
                         shown(code, strlen(code)), code);
        if (n < 0 || (size_t)n >= sizeof list - used)
            break;
        used += (size_t)n;
        y = fp[y];
        count++;
    } while (y != first && y != TALLY_NONE && count < 6);
    if (y == first) {
        const char *code = tally_hierarchy__code_text(h, first, buf);
        snprintf(list + used, sizeof list - used, " -> %.*s", shown(code, strlen(code)), code);
    } else {
        snprintf(list + used, sizeof list - used, " -> ...");
    }
    return error_at_row(L, first, L->col_parent, TALLY_ECYCLE,
                        "cycle of parents: %s (each code's parent follows it); expected every "
                        "chain of parents to end at a root",
                        list);
}

/* Computes the pre-order of rows in any order: order[k] is the row at
 * position k and pos[r] the position of row r; fills depth[] (by row).
 * work holds 3n + 1 entries of scratch. */
static int preorder(const loader *L, uint32_t *order, uint32_t *pos, uint32_t *depth,
                    uint32_t *work)
{
    size_t n = L->h->n;
    const size_t *fp = L->fparent;
    uint32_t *first = work;        /* n + 1: children of r are kids[first[r]..first[r+1]) */
    uint32_t *kids = work + n + 1; /* n */
    uint32_t *stack = kids + n;    /* n */

    for (size_t i = 0; i <= n; i++)
        first[i] = 0;
    for (size_t r = 0; r < n; r++)
        if (fp[r] != TALLY_NONE)
            first[fp[r]]++;
    uint32_t sum = 0;
    for (size_t i = 0; i <= n; i++) {
        uint32_t t = first[i];
        first[i] = sum;
        sum += t;
    }
    for (size_t r = 0; r < n; r++)
        if (fp[r] != TALLY_NONE)
            kids[first[fp[r]]++] = (uint32_t)r; /* children stay in file order */
    for (size_t i = n; i > 0; i--)
        first[i] = first[i - 1];
    first[0] = 0;

    for (size_t r = 0; r < n; r++)
        pos[r] = NO_ROW;
    uint32_t k = 0;
    for (size_t root = 0; root < n; root++) {
        if (fp[root] != TALLY_NONE)
            continue;
        size_t sp = 0;
        stack[sp++] = (uint32_t)root;
        while (sp) {
            uint32_t x = stack[--sp];
            order[k] = x;
            pos[x] = k++;
            depth[x] = fp[x] == TALLY_NONE ? 0 : depth[fp[x]] + 1;
            for (uint32_t j = first[x + 1]; j-- > first[x];)
                stack[sp++] = kids[j];
        }
    }
    if (k < n) {
        for (size_t r = 0; r < n; r++)
            if (pos[r] == NO_ROW)
                return report_cycle(L, r, work);
    }
    return 0;
}

/* Gives depth-based levels their value and checks that every child sits
 * below its parent, both in file order. */
static int check_levels(const loader *L, const uint32_t *depth)
{
    const tally_hierarchy *h = L->h;
    const size_t *fp = L->fparent;
    size_t n = h->n;
    long level_cell = L->col_level >= 0 ? L->col_level : L->col_code;
    char buf[CODE_WIDTH], pbuf[CODE_WIDTH];
    for (size_t r = 0; r < n; r++) {
        if (h->level[r] != LEVEL_UNSET)
            continue;
        if (depth[r] >= h->level_count)
            return error_at_row(L, r, L->col_code, TALLY_EINVAL,
                                "'%s' is on level %lu of the tree but only %zu levels are "
                                "named; expected a level column, or more level names",
                                tally_hierarchy__code_text(h, r, buf), (unsigned long)depth[r] + 1,
                                h->level_count);
        h->level[r] = (uint8_t)depth[r]; /* < level_count <= MAX_LEVELS */
    }
    for (size_t r = 0; r < n; r++) {
        size_t p = fp[r];
        if (p == TALLY_NONE || h->level[r] > h->level[p])
            continue;
        return error_at_row(L, r, level_cell, TALLY_EINVAL,
                            "level '%s' of '%s' is not below the level '%s' of its parent '%s' "
                            "(line %lu); expected a level below '%s'%s",
                            h->level_names[h->level[r]], tally_hierarchy__code_text(h, r, buf),
                            h->level_names[h->level[p]], tally_hierarchy__code_text(h, p, pbuf),
                            row_line(h, p),
                            h->level_names[h->level[p]],
                            (size_t)h->level[p] + 1 < h->level_count
                                ? ""
                                : tally_error__tr(", but it is the last level"));
    }
    return 0;
}

/* Gives *p exactly n elements of `size` bytes where that is smaller; a
 * failed shrink keeps the larger block. */
static void shrink_array(void **p, size_t n, size_t size)
{
    void *np = realloc(*p, (n ? n : 1) * size);
    if (np)
        *p = np;
}

/* Permutes one per-row array of `size`-byte elements into pre-order. One
 * array at a time, so loading needs one array's worth beyond the rest. */
static int permute(void **p, size_t size, const uint32_t *order, size_t n)
{
    unsigned char *np = malloc((n ? n : 1) * size);
    if (!np)
        return TALLY_ENOMEM;
    const unsigned char *op = *p;
    for (size_t k = 0; k < n; k++)
        memcpy(np + k * size, op + (size_t)order[k] * size, size);
    free(*p);
    *p = np;
    return 0;
}

/* Puts the per-row arrays in pre-order (order == NULL: they already are),
 * drops the loading scratch (h->subtree_end), and gives every array and
 * the arena their final size. */
static int finish(loader *L, const uint32_t *order, const uint32_t *pos)
{
    tally_hierarchy *h = L->h;
    size_t n = h->n;
    if (!order) {
        /* Narrowed in place: entry k (4 bytes at 4k) is written after
         * entry k (8 bytes at 8k) is read, and before any later one. */
        unsigned char *b = (unsigned char *)L->fparent;
        for (size_t k = 0; k < n; k++) {
            size_t p;
            memcpy(&p, b + k * sizeof p, sizeof p);
            uint32_t q = p == TALLY_NONE ? NO_PARENT : (uint32_t)p;
            memcpy(b + k * sizeof q, &q, sizeof q);
        }
        h->parent = (uint32_t *)(void *)L->fparent;
        L->fparent = NULL;
    } else {
        uint32_t *parent = malloc((n ? n : 1) * sizeof *parent);
        if (!parent)
            return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
        for (size_t k = 0; k < n; k++) {
            size_t p = L->fparent[order[k]];
            parent[k] = p == TALLY_NONE ? NO_PARENT : pos[p];
        }
        h->parent = parent;
        free(L->fparent);
        L->fparent = NULL;
        if (permute((void **)&h->level, sizeof *h->level, order, n) ||
            permute((void **)&h->line, sizeof *h->line, order, n) ||
            permute((void **)&h->name_off, sizeof *h->name_off, order, n) ||
            permute((void **)&h->code_lo, sizeof *h->code_lo, order, n) ||
            permute((void **)&h->code_hi, sizeof *h->code_hi, order, n))
            return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
        for (size_t j = 0; j < h->num_cap; j++) {
            uint64_t s = h->num_slots[j];
            if (s)
                slot_put(h, j, (s & KEY_MASK) - 1, pos[slot_node(h, j, s)]);
        }
        for (size_t j = 0; j < h->str_cap; j++)
            if (h->str_slots[j])
                h->str_slots[j] = pos[h->str_slots[j] - 1] + 1;
    }
    free(h->subtree_end);
    h->subtree_end = NULL;
    /* Lines one after another, as in a file in pre-order with one line a
     * row, need not be stored. */
    size_t k = 1;
    while (k < n && h->line[k] == h->line[0] + k)
        k++;
    if (k >= n) {
        h->line_base = n ? h->line[0] : 0;
        free(h->line);
        h->line = NULL;
    } else {
        shrink_array((void **)&h->line, n, sizeof *h->line);
    }
    /* The arrays were sized for the input's line count, the arena for its
     * bytes: shrinking gives back the reserve (for blocks from mmap,
     * without copying). */
    shrink_array((void **)&h->parent, n, sizeof *h->parent);
    shrink_array((void **)&h->level, n, sizeof *h->level);
    shrink_array((void **)&h->name_off, n, sizeof *h->name_off);
    shrink_array((void **)&h->code_lo, n, sizeof *h->code_lo);
    shrink_array((void **)&h->code_hi, n, sizeof *h->code_hi);
    if (h->arena_len < h->arena_cap) {
        shrink_array((void **)&h->arena, h->arena_len, 1);
        h->arena_cap = h->arena_len;
    }
    return 0;
}

/* Address space for n items of `width` bytes, written out on demand
 * (mmap'd pages cost memory once written). 0, or -1 when none is left. */
static int reserve(size_t n, size_t width, void **out, size_t *size)
{
    if (n > SIZE_MAX / width)
        return -1;
    void *p = mmap(NULL, n * width, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    *out = p;
    *size = n * width;
    return 0;
}

int tally_hierarchy__reserve_lazy(tally_hierarchy *h, int numeric, const char *name)
{
    size_t n = h->n;
    if (pthread_mutex_init(&h->lock, NULL))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    h->lock_made = 1;
    atomic_init(&h->wide_ready, 0);
    atomic_init(&h->ends_ready, 0);
    if (n && (reserve(n, sizeof *h->wide, (void **)&h->wide, &h->wide_size) ||
              reserve(n, sizeof *h->ends, (void **)&h->ends, &h->ends_size)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    if (!numeric)
        return 0;
    size_t blocks = ((n - 1) >> CODE_BLOCK_BITS) + 1;
    h->codes_ready = malloc(blocks * sizeof *h->codes_ready);
    if (!h->codes_ready)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    for (size_t b = 0; b < blocks; b++)
        atomic_init(&h->codes_ready[b], 0);
    if (reserve(n, CODE_WIDTH, (void **)&h->codes, &h->codes_size))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", name);
    return 0;
}

static int reserve_lazy(loader *L)
{
    return tally_hierarchy__reserve_lazy(L->h, L->numeric, L->csv.name);
}

static size_t count_lines(const char *data, size_t size)
{
    size_t n = 1;
    const char *p = data, *end = data + size;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static int load(loader *L)
{
    tally_hierarchy *h = L->h;
    int rc = read_header(L);
    if (rc)
        return rc;
    /* Rows are at most the lines left, and their codes and names with a
     * NUL each at most the bytes left plus one (a row's separators and
     * line break hold the NULs; a last row without a line break lacks
     * one): size everything once. Pages a reserve never touches cost no
     * memory; finish() gives the rest back. */
    size_t left = L->size - L->csv.pos;
    size_t rows = count_lines(L->data + L->csv.pos, left);
    if (rows > L->lim.max_nodes)
        rows = L->lim.max_nodes;
    if ((rc = ensure_rows(L, rows)))
        return rc;
    /* A row a line, as usual, writes every page of the per-row arrays:
     * faulted in by one call each rather than one page at a time, they
     * cost less (some 3 ms for the national table). */
    tally_util__prefault(h->line, rows * sizeof *h->line);
    tally_util__prefault(h->level, rows * sizeof *h->level);
    tally_util__prefault(h->subtree_end, rows * sizeof *h->subtree_end);
    tally_util__prefault(h->name_off, rows * sizeof *h->name_off);
    tally_util__prefault(h->code_lo, rows * sizeof *h->code_lo);
    tally_util__prefault(h->code_hi, rows * sizeof *h->code_hi);
    tally_util__prefault(L->fparent, rows * sizeof *L->fparent);
    size_t text = left < L->lim.max_text ? left + 2 : L->lim.max_text;
    h->arena = malloc(text);
    if (!h->arena)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
    h->arena_cap = text;
    while ((rc = tally_csv__next(&L->csv)) == 1)
        if ((rc = read_row(L)))
            break;
    /* Report the first error in the file: a code repeated before the bad
     * row comes first. */
    if (rc) {
        int dup = index_rows(L);
        return dup ? dup : rc;
    }
    share_names(L);
    if ((rc = index_rows(L)) || (rc = resolve_parents(L)))
        return rc;

    size_t n = h->n;
    /* subtree_end holds the depths until finish() computes the ends. */
    uint32_t *depth = h->subtree_end;
    if (rows_in_preorder(L, depth)) {
        if ((rc = check_levels(L, depth)) || (rc = finish(L, NULL, NULL)))
            return rc;
        return reserve_lazy(L);
    }
    uint32_t *tmp = malloc((5 * n + 1) * sizeof *tmp);
    if (!tmp)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", L->csv.name);
    uint32_t *order = tmp, *pos = tmp + n, *work = tmp + 2 * n;
    rc = preorder(L, order, pos, depth, work);
    if (!rc)
        rc = check_levels(L, depth);
    if (!rc)
        rc = finish(L, order, pos);
    free(tmp);
    return rc ? rc : reserve_lazy(L);
}

int tally_hierarchy__from_buffer_limited(tally_hierarchy **out, const char *data, size_t size,
                                         const char *name, const tally_hierarchy_options *opts,
                                         const tally_hierarchy__limits *limits)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_buffer: out is NULL");
    *out = NULL;
    if (!data && size)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_buffer: data is NULL");
    if (!data)
        data = "";
    tally_hierarchy *h = calloc(1, sizeof *h);
    if (!h)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    atomic_init(&h->memo_value, 0);
    atomic_init(&h->memo_set, 0);
    int rc = tally_hierarchy__copy_levels(h, opts);
    if (rc) {
        tally_hierarchy_free(h);
        return rc;
    }
    /* Encoding and limits, as for every CSV input. */
    tally_read_options ropts = TALLY_READ_OPTIONS_INIT;
    if (opts && opts->version >= 2) {
        ropts.encoding = opts->encoding;
        ropts.max_columns = opts->max_columns;
        ropts.max_field_bytes = opts->max_field_bytes;
    }
    if (opts && opts->version >= 4)
        ropts.sheet = opts->sheet;
    tally_csv_input in;
    rc = tally_csv__input_open(&in, data, size, name, &ropts);
    if (rc) {
        tally_hierarchy_free(h);
        return rc;
    }
    h->detected_encoding = in.detected;
    loader L;
    memset(&L, 0, sizeof L);
    L.h = h;
    L.lim.max_nodes = MAX_NODES;
    L.lim.max_text = MAX_TEXT;
    L.lim.max_line = MAX_LINE;
    L.lim.node_low_bits = NODE_LOW_BITS;
    if (limits) {
        /* Lower limits only: the arrays' widths set the upper ones. */
        if (limits->max_nodes < MAX_NODES)
            L.lim.max_nodes = limits->max_nodes;
        if (limits->max_text < MAX_TEXT)
            L.lim.max_text = limits->max_text;
        if (limits->max_line < MAX_LINE)
            L.lim.max_line = limits->max_line;
        if (limits->node_low_bits && limits->node_low_bits < NODE_LOW_BITS) {
            /* The high byte then holds 8 more bits: no more nodes than
             * the slot and the byte can name. */
            L.lim.node_low_bits = limits->node_low_bits;
            if (L.lim.max_nodes > (size_t)1 << (limits->node_low_bits + 8))
                L.lim.max_nodes = (size_t)1 << (limits->node_low_bits + 8);
        }
    }
    L.data = in.data;
    L.size = in.size;
    tally_csv__init(&L.csv, in.data, in.size, name);
    tally_csv__input_apply(&in, &L.csv);
    rc = load(&L);
    tally_csv__fini(&L.csv);
    tally_csv__input_close(&in);
    free(L.fparent);
    free(L.pref);
    free(L.pbuf);
    if (rc) {
        tally_hierarchy_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

TALLY_EXTERN(int) tally_hierarchy_from_buffer(tally_hierarchy **out, const char *data,
                                              size_t size, const char *name,
                                              const tally_hierarchy_options *opts)
{
    return tally_hierarchy__from_buffer_limited(out, data, size, name, opts, NULL);
}

TALLY_EXTERN(int) tally_hierarchy_from_file(tally_hierarchy **out, const char *path,
                                            const tally_hierarchy_options *opts)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_file: out is NULL");
    *out = NULL;
    if (!path)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_file: path is NULL");
    tally_mapped m;
    int rc = tally_util__map_file_capped(
        &m, path, opts && opts->version >= 3 ? opts->max_input_bytes : 0);
    if (rc)
        return rc;
    rc = tally_hierarchy_from_buffer(out, m.data, m.size, path, opts);
    tally_util__unmap(&m);
    return rc;
}
