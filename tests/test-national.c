/* Tests the hierarchy reader on the national division table (NBS 2023,
 * 665,271 regions): counts, parents against the file's own parent_code
 * column, lookups, every code and name against the file (through the
 * public accessors and the internal ones that write no code out), repeated
 * names kept once, and parents and levels derived from the codes alone.
 *
 * The table is data/china-divisions/divisions-2023.csv.gz, kept in the
 * repository; meson passes its path in $TALLY_NATIONAL_TABLE. Without it
 * the test fails. Load times are printed for information only.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hierarchy.h"
#include "tally/error.h"
#include "tally/hierarchy.h"

/* Counts from the table's README (and NBS): per level and in total. */
enum { NATIONAL_ROWS = 665271 };
static const size_t level_counts[5] = { 31, 342, 2975, 41351, 620572 };

static char *table;      /* the decompressed CSV */
static size_t table_len;
static tally_hierarchy *national;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads `gzip -dc path` into memory. */
static char *gunzip(const char *path, size_t *len)
{
    if (strchr(path, '\''))
        return NULL;
    size_t cmd_len = strlen(path) + 32;
    char *cmd = malloc(cmd_len);
    if (!cmd)
        return NULL;
    snprintf(cmd, cmd_len, "gzip -dc '%s'", path);
    FILE *f = popen(cmd, "r");
    free(cmd);
    if (!f)
        return NULL;
    size_t cap = (size_t)1 << 26, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (pclose(f) != 0 || !buf) {
        free(buf);
        return NULL;
    }
    /* NUL-terminated, so the rows can be split with strchr. */
    char *nb = realloc(buf, n + 1);
    if (!nb) {
        free(buf);
        return NULL;
    }
    buf = nb;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* One row of the file, split by hand: code,name,level,parent_code. */
typedef struct row {
    const char *code, *name, *level, *parent;
    size_t code_len, name_len, level_len, parent_len;
    unsigned long line;
} row;

/* Calls fn for every data row of the table (the file has no quotes). */
static void for_each_row(void (*fn)(const row *, void *), void *arg)
{
    const char *p = table, *end = table + table_len;
    const char *nl = memchr(p, '\n', table_len);
    assert_non_null(nl);
    p = nl + 1;
    unsigned long line = 2;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        row r;
        const char *c1 = strchr(p, ',');
        const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        const char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        assert_true(c1 && c2 && c3 && c3 < eol);
        r.code = p;
        r.code_len = (size_t)(c1 - p);
        r.name = c1 + 1;
        r.name_len = (size_t)(c2 - c1 - 1);
        r.level = c2 + 1;
        r.level_len = (size_t)(c3 - c2 - 1);
        r.parent = c3 + 1;
        r.parent_len = (size_t)(eol - c3 - 1);
        r.line = line++;
        fn(&r, arg);
        p = eol + 1;
    }
}

static int same(const char *s, const char *t, size_t len)
{
    return s && strlen(s) == len && memcmp(s, t, len) == 0;
}

static int setup(void **state)
{
    (void)state;
    double t0 = now_ms();
    int rc = tally_hierarchy_from_buffer(&national, table, table_len, "divisions.csv", NULL);
    double t1 = now_ms();
    if (rc) {
        fprintf(stderr, "%s\n", tally_error_last()->message);
        return -1;
    }
    printf("national table: %zu bytes, %zu nodes loaded in %.1f ms\n", table_len,
           tally_hierarchy_size(national), t1 - t0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tally_hierarchy_free(national);
    national = NULL;
    return 0;
}

static void test_national__counts(void **state)
{
    (void)state;
    const tally_hierarchy *h = national;
    assert_int_equal(tally_hierarchy_size(h), NATIONAL_ROWS);
    size_t counts[5] = { 0 };
    for (size_t i = 0; i < NATIONAL_ROWS; i++) {
        int l = tally_hierarchy_level(h, i);
        assert_true(l >= 0 && l < 5);
        counts[l]++;
    }
    for (int l = 0; l < 5; l++)
        assert_int_equal(counts[l], level_counts[l]);
}

static void check_row(const row *r, void *arg)
{
    const tally_hierarchy *h = arg;
    size_t i = TALLY_NONE;
    assert_int_equal(tally_hierarchy_find(h, r->code, r->code_len, &i), 0);
    assert_true(same(tally_hierarchy_code(h, i), r->code, r->code_len));
    assert_true(same(tally_hierarchy_name(h, i), r->name, r->name_len));
    assert_true(same(tally_hierarchy_level_name(h, tally_hierarchy_level(h, i)), r->level,
                     r->level_len));
    assert_int_equal(tally_hierarchy_line(h, i), r->line);
    size_t p = tally_hierarchy_parent(h, i);
    if (r->parent_len == 0) {
        assert_true(p == TALLY_NONE);
    } else {
        assert_true(p != TALLY_NONE);
        assert_true(same(tally_hierarchy_code(h, p), r->parent, r->parent_len));
    }
}

static void test_national__parents_match_file(void **state)
{
    (void)state;
    for_each_row(check_row, national);
}

static void test_national__preorder(void **state)
{
    (void)state;
    const tally_hierarchy *h = national;
    size_t n = tally_hierarchy_size(h);
    /* Descendants counted through parent chains (depth <= 4 here). */
    size_t *below = calloc(n, sizeof *below);
    assert_non_null(below);
    for (size_t j = 0; j < n; j++)
        for (size_t a = tally_hierarchy_parent(h, j); a != TALLY_NONE;
             a = tally_hierarchy_parent(h, a))
            below[a]++;
    for (size_t i = 0; i < n; i++) {
        size_t p = tally_hierarchy_parent(h, i);
        if (p != TALLY_NONE)
            assert_true(p < i);
        size_t end = tally_hierarchy_subtree_end(h, i);
        assert_int_equal(end - i - 1, below[i]);
        /* Every node of the range descends from i: its parent lies in
         * [i, j). With the count above, the range is exactly i's subtree. */
        for (size_t j = i + 1; j < end; j++) {
            size_t q = tally_hierarchy_parent(h, j);
            assert_true(q != TALLY_NONE && q >= i && q < j);
        }
    }
    free(below);
}

static void test_national__towns_under_cities(void **state)
{
    (void)state;
    const tally_hierarchy *h = national;
    /* 东莞 (36), 中山 (23) and 儋州 (18) have no county level. */
    size_t towns_on_cities = 0;
    for (size_t i = 0; i < NATIONAL_ROWS; i++)
        if (tally_hierarchy_level(h, i) == 3 &&
            tally_hierarchy_level(h, tally_hierarchy_parent(h, i)) == 1)
            towns_on_cities++;
    assert_int_equal(towns_on_cities, 77);
}

static void test_national__jinmen(void **state)
{
    (void)state;
    size_t i = TALLY_NONE;
    assert_int_equal(tally_hierarchy_find(national, "350527000000", 12, &i), 0);
    assert_string_equal(tally_hierarchy_name(national, i), "金门县");
    assert_int_equal(tally_hierarchy_level(national, i), 2);
    assert_int_equal(tally_hierarchy_subtree_end(national, i), i + 1);
}

typedef struct lookup_state {
    const tally_hierarchy *h;
    size_t found;
} lookup_state;

static void lookup_row(const row *r, void *arg)
{
    lookup_state *s = arg;
    size_t i = TALLY_NONE;
    assert_int_equal(tally_hierarchy_find(s->h, r->code, r->code_len, &i), 0);
    assert_true(same(tally_hierarchy_code(s->h, i), r->code, r->code_len));
    /* Sorted by code, the file already is in pre-order: row k (line k + 2)
     * is node k. */
    assert_int_equal(i, r->line - 2);
    s->found++;
}

static void test_national__lookup_all(void **state)
{
    (void)state;
    lookup_state s = { national, 0 };
    double t0 = now_ms();
    for_each_row(lookup_row, &s);
    double t1 = now_ms();
    assert_int_equal(s.found, NATIONAL_ROWS);
    printf("looked up %zu codes in %.1f ms\n", s.found, t1 - t0);
    size_t i = 0;
    assert_int_equal(tally_hierarchy_find(national, "350527000001", 12, &i), TALLY_ENOTFOUND);
}

/* The number a code's 12 digits make, worked out here digit by digit. */
static uint64_t digits_value(const char *s, size_t len)
{
    uint64_t v = 0;
    for (size_t k = 0; k < len; k++)
        v = v * 10 + (uint64_t)(s[k] - '0');
    return v;
}

typedef struct text_state {
    const tally_hierarchy *h;
    const row *prev; /* the row before, for codes that must not match */
    row prev_row;
    size_t rows;
} text_state;

static void code_text_row(const row *r, void *arg)
{
    text_state *s = arg;
    const tally_hierarchy *h = s->h;
    size_t i = r->line - 2; /* sorted by code: row k (line k + 2) is node k */
    char buf[TALLY_HIERARCHY__CODE_BUF];
    assert_int_equal(r->code_len, 12);
    assert_true(same(tally_hierarchy__code_text(h, i, buf), r->code, r->code_len));
    uint64_t v = 0;
    assert_int_equal(tally_hierarchy__code_number(h, i, &v), 1);
    assert_true(v == digits_value(r->code, r->code_len));
    assert_int_equal(tally_hierarchy__code_is(h, i, r->code, r->code_len), 1);
    /* What the records reader asks of the node after the last one found. */
    if (s->prev) {
        assert_int_equal(tally_hierarchy__code_is(h, i, s->prev->code, s->prev->code_len), 0);
        assert_int_equal(tally_hierarchy__code_is(h, i - 1, r->code, r->code_len), 0);
    }
    size_t found = TALLY_NONE;
    assert_int_equal(tally_hierarchy_find(h, r->code, r->code_len, &found), 0);
    assert_int_equal(found, i);
    assert_true(same(tally_hierarchy_name(h, i), r->name, r->name_len));
    s->prev_row = *r;
    s->prev = &s->prev_row;
    s->rows++;
}

/* Runs first: lookups, names and the internal code accessors give every
 * code and name of the file without writing any code out as text. */
static void test_national__codes_without_text(void **state)
{
    (void)state;
    text_state s = { national, NULL, { 0 }, 0 };
    for_each_row(code_text_row, &s);
    assert_int_equal(s.rows, NATIONAL_ROWS);
    assert_int_equal(tally_hierarchy__code_blocks_written(national), 0);
}

typedef struct code_state {
    const tally_hierarchy *h;
    const char **first; /* by node: the string tally_hierarchy_code gave */
} code_state;

static void code_row(const row *r, void *arg)
{
    code_state *s = arg;
    size_t i = r->line - 2;
    const char *code = tally_hierarchy_code(s->h, i);
    assert_true(same(code, r->code, r->code_len));
    s->first[i] = code;
}

/* Every tally_hierarchy_code is the file's code, and stays where it is. */
static void test_national__codes_equal_file(void **state)
{
    (void)state;
    code_state s = { national, calloc(NATIONAL_ROWS, sizeof(const char *)) };
    assert_non_null(s.first);
    for_each_row(code_row, &s);
    /* All written out now: 665,271 nodes in blocks of 4096, 163 blocks
     * (162 full, and 1695 nodes in the last). */
    assert_int_equal(tally_hierarchy__code_blocks_written(national), 163);
    for (size_t i = 0; i < NATIONAL_ROWS; i++)
        assert_ptr_equal(tally_hierarchy_code(national, i), s.first[i]);
    free(s.first);
}

static const tally_hierarchy *sort_h;

static int by_name(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(tally_hierarchy_name(sort_h, i), tally_hierarchy_name(sort_h, j));
    return c ? c : (i > j) - (i < j);
}

/* Nodes sorted by name: a run of equal names shares one string, and
 * neighbouring runs do not. */
static void test_national__names_kept_once(void **state)
{
    (void)state;
    size_t *idx = malloc(NATIONAL_ROWS * sizeof *idx);
    assert_non_null(idx);
    for (size_t i = 0; i < NATIONAL_ROWS; i++)
        idx[i] = i;
    sort_h = national;
    qsort(idx, NATIONAL_ROWS, sizeof *idx, by_name);
    size_t distinct = 1, bytes = 0, kept = 0;
    for (size_t k = 0; k < NATIONAL_ROWS; k++) {
        const char *name = tally_hierarchy_name(national, idx[k]);
        bytes += strlen(name) + 1;
        if (k == 0) {
            kept += strlen(name) + 1;
            continue;
        }
        const char *before = tally_hierarchy_name(national, idx[k - 1]);
        int equal = strcmp(before, name) == 0;
        assert_int_equal(before == name, equal);
        if (!equal) {
            distinct++;
            kept += strlen(name) + 1;
        }
    }
    printf("names: %zu bytes for %zu nodes, %zu bytes for %zu distinct names\n", bytes,
           (size_t)NATIONAL_ROWS, kept, distinct);
    free(idx);
}

typedef struct strip_state {
    char *out;
    size_t len;
} strip_state;

static void strip_row(const row *r, void *arg)
{
    strip_state *s = arg;
    memcpy(s->out + s->len, r->code, r->code_len);
    s->len += r->code_len;
    s->out[s->len++] = ',';
    memcpy(s->out + s->len, r->name, r->name_len);
    s->len += r->name_len;
    s->out[s->len++] = '\n';
}

static void test_national__derived_from_codes(void **state)
{
    (void)state;
    /* The same table with only code and name: parents and levels must come
     * out of the codes as the file gives them. */
    strip_state s = { malloc(table_len), 0 };
    assert_non_null(s.out);
    memcpy(s.out, "code,name\n", 10);
    s.len = 10;
    for_each_row(strip_row, &s);

    tally_hierarchy *d = NULL;
    double t0 = now_ms();
    int rc = tally_hierarchy_from_buffer(&d, s.out, s.len, "divisions-code-name.csv", NULL);
    double t1 = now_ms();
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    printf("code,name only: %zu bytes, %zu nodes loaded in %.1f ms\n", s.len,
           tally_hierarchy_size(d), t1 - t0);
    free(s.out);

    const tally_hierarchy *h = national;
    assert_int_equal(tally_hierarchy_size(d), NATIONAL_ROWS);
    for (size_t i = 0; i < NATIONAL_ROWS; i++) {
        assert_string_equal(tally_hierarchy_code(d, i), tally_hierarchy_code(h, i));
        assert_true(tally_hierarchy_parent(d, i) == tally_hierarchy_parent(h, i));
        assert_int_equal(tally_hierarchy_level(d, i), tally_hierarchy_level(h, i));
        assert_int_equal(tally_hierarchy_subtree_end(d, i), tally_hierarchy_subtree_end(h, i));
    }
    tally_hierarchy_free(d);
}

int main(void)
{
    const char *path = getenv("TALLY_NATIONAL_TABLE");
    if (!path || access(path, R_OK) != 0) {
        fprintf(stderr, "national table not found at %s (TALLY_NATIONAL_TABLE)\n",
                path ? path : "(unset)");
        return 1;
    }
    double t0 = now_ms();
    table = gunzip(path, &table_len);
    if (!table) {
        fprintf(stderr, "cannot decompress %s with gzip -dc\n", path);
        return 1;
    }
    printf("decompressed %s in %.1f ms\n", path, now_ms() - t0);

    /* codes_without_text comes first: it checks that nothing before it
     * wrote a code out. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_national__codes_without_text),
        cmocka_unit_test(test_national__counts),
        cmocka_unit_test(test_national__parents_match_file),
        cmocka_unit_test(test_national__preorder),
        cmocka_unit_test(test_national__towns_under_cities),
        cmocka_unit_test(test_national__jinmen),
        cmocka_unit_test(test_national__lookup_all),
        cmocka_unit_test(test_national__codes_equal_file),
        cmocka_unit_test(test_national__names_kept_once),
        cmocka_unit_test(test_national__derived_from_codes),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    free(table);
    return failed;
}
