/* Tests for include/tally/hierarchy.h: reading hierarchies, pre-order
 * layout, lookups, level names (given, or from definitions) and the errors
 * for bad input.
 *
 * Expected values are worked out by hand in the comments next to them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hierarchy.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"

static tally_hierarchy *load_opts(const char *csv, const tally_hierarchy_options *opts)
{
    tally_hierarchy *h = NULL;
    int rc = tally_hierarchy_from_buffer(&h, csv, strlen(csv), "test.csv", opts);
    if (rc)
        print_error("unexpected error %d: %s\n", rc, tally_error_last()->message);
    assert_int_equal(rc, 0);
    assert_non_null(h);
    return h;
}

static tally_hierarchy *load(const char *csv) { return load_opts(csv, NULL); }

/* Expects loading `csv` to fail with `code` at line:col of "test.csv", with
 * `needle` somewhere in the message. */
static void expect_error(const char *csv, const tally_hierarchy_options *opts, int code,
                         unsigned long line, unsigned long col, const char *needle)
{
    tally_hierarchy *h = (tally_hierarchy *)1;
    int rc = tally_hierarchy_from_buffer(&h, csv, strlen(csv), "test.csv", opts);
    const tally_error *e = tally_error_last();
    if (rc != code || e->line != line || e->column != col || !strstr(e->message, needle))
        print_error("got %d at %lu:%lu: %s\n", rc, e->line, e->column, e->message);
    assert_int_equal(rc, code);
    assert_null(h);
    assert_int_equal(e->code, code);
    assert_string_equal(e->path, "test.csv");
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, col);
    assert_non_null(strstr(e->message, needle));
}

/* Pre-order, checked from the definition rather than from how the library
 * builds it: parents come first, and [i, end(i)) holds exactly the nodes
 * that have i among their ancestors. */
static void check_preorder(const tally_hierarchy *h)
{
    size_t n = tally_hierarchy_size(h);
    const size_t *parents = tally_hierarchy_parents(h);
    for (size_t i = 0; i < n; i++) {
        size_t p = tally_hierarchy_parent(h, i);
        assert_true(parents[i] == p);
        if (p != TALLY_NONE) {
            assert_true(p < i);
            assert_true(i < tally_hierarchy_subtree_end(h, p));
            assert_true(tally_hierarchy_level(h, i) > tally_hierarchy_level(h, p));
        }
        size_t end = tally_hierarchy_subtree_end(h, i);
        assert_true(end > i && end <= n);
        for (size_t j = 0; j < n; j++) {
            int below = 0;
            for (size_t a = tally_hierarchy_parent(h, j); a != TALLY_NONE;
                 a = tally_hierarchy_parent(h, a))
                if (a == i)
                    below = 1;
            assert_int_equal(below, j > i && j < end);
        }
    }
}

static size_t find(const tally_hierarchy *h, const char *code)
{
    size_t i = 12345;
    int rc = tally_hierarchy_find(h, code, strlen(code), &i);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return i;
}

static void test_hierarchy__preorder_from_unordered_file(void **state)
{
    (void)state;
    /* B1 names its parent before B is read; A's children are not adjacent.
     * Roots in file order: A (line 3), B (line 4). Children in file order:
     * A: A1 (5), A2 (8); A1: A11 (7); B: B1 (2), B2 (6). Pre-order:
     * 0 A, 1 A1, 2 A11, 3 A2, 4 B, 5 B1, 6 B2. */
    tally_hierarchy *h = load("code,name,level,parent_code\n"
                              "B1,b1,city,B\n"
                              "A,a,province,\n"
                              "B,b,province,\n"
                              "A1,a1,city,A\n"
                              "B2,b2,city,B\n"
                              "A11,a11,county,A1\n"
                              "A2,a2,city,A\n");
    static const char *const codes[] = { "A", "A1", "A11", "A2", "B", "B1", "B2" };
    static const size_t parent[] = { TALLY_NONE, 0, 1, 0, TALLY_NONE, 4, 4 };
    static const size_t end[] = { 4, 3, 3, 4, 7, 6, 7 };
    static const int level[] = { 0, 1, 2, 1, 0, 1, 1 };
    static const unsigned long line[] = { 3, 5, 7, 8, 4, 2, 6 };
    assert_int_equal(tally_hierarchy_size(h), 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(tally_hierarchy_code(h, i), codes[i]);
        assert_true(tally_hierarchy_parent(h, i) == parent[i]);
        assert_int_equal(tally_hierarchy_subtree_end(h, i), end[i]);
        assert_int_equal(tally_hierarchy_level(h, i), level[i]);
        assert_int_equal(tally_hierarchy_line(h, i), line[i]);
        assert_int_equal(find(h, codes[i]), i);
    }
    assert_string_equal(tally_hierarchy_name(h, 5), "b1");
    check_preorder(h);
    tally_hierarchy_free(h);
}

static void test_hierarchy__lookup_numeric_and_text(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name,level,parent_code\n"
                              "CN,中国,province,\n"
                              "430000000000,湖南省,city,CN\n"
                              "430600000000,岳阳市,county,430000000000\n"
                              "X-1,其他,city,CN\n");
    /* Pre-order: CN 0, 430000000000 1, 430600000000 2, X-1 3. */
    assert_int_equal(find(h, "CN"), 0);
    assert_int_equal(find(h, "430000000000"), 1);
    assert_int_equal(find(h, "430600000000"), 2);
    assert_int_equal(find(h, "X-1"), 3);

    /* The length bounds the code: no NUL terminator needed. */
    size_t i = 99;
    assert_int_equal(tally_hierarchy_find(h, "X-12345", 3, &i), 0);
    assert_int_equal(i, 3);
    assert_int_equal(tally_hierarchy_find(h, "430600000000xyz", 12, &i), 0);
    assert_int_equal(i, 2);
    /* A prefix of a stored code is a different code. */
    assert_int_equal(tally_hierarchy_find(h, "X-1", 2, &i), TALLY_ENOTFOUND);
    assert_true(i == TALLY_NONE);
    assert_int_equal(tally_hierarchy_find(h, "C", 1, &i), TALLY_ENOTFOUND);
    assert_int_equal(tally_hierarchy_find(h, "", 0, &i), TALLY_ENOTFOUND);
    tally_hierarchy_free(h);
}

static void test_hierarchy__find_unknown(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name\n110000000000,北京市\n");
    size_t i = 0;
    assert_int_equal(tally_hierarchy_find(h, "999999999999", 12, &i), TALLY_ENOTFOUND);
    assert_true(i == TALLY_NONE);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_ENOTFOUND);
    assert_string_equal(e->message, "unknown region code '999999999999'");
    assert_string_equal(e->text, "999999999999");

    assert_int_equal(tally_hierarchy_find(h, "abcdef", 3, &i), TALLY_ENOTFOUND);
    assert_string_equal(tally_error_last()->message, "unknown region code 'abc'");

    assert_int_equal(tally_hierarchy_find(NULL, "abc", 3, &i), TALLY_EINVAL);
    assert_true(i == TALLY_NONE);
    assert_int_equal(tally_hierarchy_find(h, "abc", 3, NULL), TALLY_EINVAL);
    tally_hierarchy_free(h);
}

static void test_hierarchy__derived_parents_skip_levels(void **state)
{
    (void)state;
    /* No parent_code column: parents come from the codes.
     * - 441900101000 (town) cut after 6 digits is 441900000000, the city
     *   itself, which exists: the town hangs on the city (东莞).
     * - 341721105210 (village): its town 341721105000 is absent, so the
     *   county 341721000000 is the nearest existing ancestor.
     * - 341721000201 (village with town digits 000): cut after 9 digits
     *   gives 341721000000, the county.
     * - 341721000000 and 520100000000 have no existing ancestor: roots.
     * Roots in file order: 44 (line 2), 341721 (line 6), 5201 (line 9).
     * Pre-order: 0 440000000000, 1 441900000000, 2 441900101000,
     * 3 441900101001, 4 440300000000, 5 341721000000, 6 341721105210,
     * 7 341721000201, 8 520100000000. Levels from the significant digits:
     * 2 -> 0, 4 -> 1, 6 -> 2, 9 -> 3, 12 -> 4. */
    tally_hierarchy *h = load("code,name\n"
                              "440000000000,广东省\n"
                              "441900000000,东莞市\n"
                              "441900101000,石龙镇\n"
                              "441900101001,西湖社区\n"
                              "341721000000,东至县\n"
                              "341721105210,北山村委会\n"
                              "341721000201,直属村\n"
                              "520100000000,贵阳市\n"
                              "440300000000,深圳市\n");
    static const char *const codes[] = { "440000000000", "441900000000", "441900101000",
                                         "441900101001", "440300000000", "341721000000",
                                         "341721105210", "341721000201", "520100000000" };
    static const size_t parent[] = { TALLY_NONE, 0, 1, 2, 0, TALLY_NONE, 5, 5, TALLY_NONE };
    static const size_t end[] = { 5, 4, 4, 4, 5, 8, 7, 8, 9 };
    static const int level[] = { 0, 1, 3, 4, 1, 2, 4, 4, 1 };
    static const unsigned long line[] = { 2, 3, 4, 5, 10, 6, 7, 8, 9 };
    assert_int_equal(tally_hierarchy_size(h), 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(tally_hierarchy_code(h, i), codes[i]);
        assert_true(tally_hierarchy_parent(h, i) == parent[i]);
        assert_int_equal(tally_hierarchy_subtree_end(h, i), end[i]);
        assert_int_equal(tally_hierarchy_level(h, i), level[i]);
        assert_int_equal(tally_hierarchy_line(h, i), line[i]);
        assert_int_equal(find(h, codes[i]), i);
    }
    assert_string_equal(tally_hierarchy_name(h, 2), "石龙镇");
    assert_string_equal(tally_hierarchy_level_name(h, tally_hierarchy_level(h, 2)), "town");
    check_preorder(h);
    tally_hierarchy_free(h);
}

static void test_hierarchy__derived_parents_with_level_column(void **state)
{
    (void)state;
    /* Levels from the column, parents from the codes. */
    tally_hierarchy *h = load("code,level,name\n"
                              "440000000000,province,广东省\n"
                              "441900000000,city,东莞市\n"
                              "441900101000,town,石龙镇\n");
    assert_int_equal(tally_hierarchy_parent(h, 2), 1);
    assert_int_equal(tally_hierarchy_level(h, 2), 3);
    tally_hierarchy_free(h);

    /* 110100000000 derives its parent 110000000000, but the column puts
     * both at "city": line 3, level cell after "110100000000," (13
     * characters) is column 14. */
    expect_error("code,level,name\n"
                 "110000000000,city,北京市\n"
                 "110100000000,city,市辖区\n",
                 NULL, TALLY_EINVAL, 3, 14, "not below");
}

static void test_hierarchy__empty_parent_cell_derives_from_the_code(void **state)
{
    (void)state;
    /* 金鹗山村's parent_code is empty: its parent is the county, by its
     * code, as without the column; the text code X stays a root. Pre-order
     * by hand: 0 430602000000, 1 430602001001, 2 430602001002, 3 X. */
    tally_hierarchy *h = load("code,name,level,parent_code\n"
                              "430602000000,岳阳楼区,county,\n"
                              "430602001001,金鹗山村,village,\n"
                              "430602001002,东茅岭村,village,430602000000\n"
                              "X,别处,county,\n");
    assert_int_equal(tally_hierarchy_size(h), 4);
    assert_string_equal(tally_hierarchy_code(h, 1), "430602001001");
    assert_int_equal(tally_hierarchy_parent(h, 1), 0);
    assert_int_equal(tally_hierarchy_parent(h, 2), 0);
    assert_string_equal(tally_hierarchy_code(h, 3), "X");
    assert_int_equal(tally_hierarchy_parent(h, 3), TALLY_NONE);
    assert_int_equal(tally_hierarchy_parent(h, 0), TALLY_NONE);
    check_preorder(h);
    tally_hierarchy_free(h);
}

static void test_hierarchy__code_levels_with_parent_column(void **state)
{
    (void)state;
    /* Numeric codes with a parent column and no level column: levels from
     * the codes. The town names its parent before the city row. Pre-order:
     * 0 440000000000, 1 441900000000, 2 441900101000. */
    tally_hierarchy *h = load("code,name,parent_code\n"
                              "440000000000,广东省,\n"
                              "441900101000,石龙镇,441900000000\n"
                              "441900000000,东莞市,440000000000\n");
    assert_string_equal(tally_hierarchy_code(h, 1), "441900000000");
    assert_int_equal(tally_hierarchy_parent(h, 2), 1);
    assert_int_equal(tally_hierarchy_level(h, 0), 0);
    assert_int_equal(tally_hierarchy_level(h, 1), 1);
    assert_int_equal(tally_hierarchy_level(h, 2), 3);
    assert_int_equal(tally_hierarchy_line(h, 2), 3);
    check_preorder(h);
    tally_hierarchy_free(h);

    /* A city (level 1 by its code) under a county (level 2): line 4, no
     * level column, so the code cell, column 1. (The county's parent is
     * given: an empty cell would derive 110100000000 from its code.) */
    expect_error("code,name,parent_code\n"
                 "110000000000,北京市,\n"
                 "110101000000,东城区,110000000000\n"
                 "110100000000,市辖区,110101000000\n",
                 NULL, TALLY_EINVAL, 4, 1, "not below");
}

static void test_hierarchy__depth_levels_for_text_codes(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name,parent_code\n"
                              "Z,z,Y\n"
                              "X,x,\n"
                              "Y,y,X\n");
    /* Pre-order X, Y, Z at depths 0, 1, 2. */
    assert_string_equal(tally_hierarchy_code(h, 0), "X");
    assert_string_equal(tally_hierarchy_code(h, 2), "Z");
    assert_int_equal(tally_hierarchy_level(h, 0), 0);
    assert_int_equal(tally_hierarchy_level(h, 1), 1);
    assert_int_equal(tally_hierarchy_level(h, 2), 2);
    tally_hierarchy_free(h);
}

static void test_hierarchy__custom_level_names(void **state)
{
    (void)state;
    static const char *const names[] = { "region", "district", "site" };
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.level_names = names;
    opts.level_count = 3;
    tally_hierarchy *h = load_opts("code,name,level,parent_code\n"
                                   "R1,North,region,\n"
                                   "D1,Hill,district,R1\n"
                                   "S1,Well,site,D1\n"
                                   "S2,Pump,site,R1\n",
                                   &opts);
    assert_int_equal(tally_hierarchy_level_count(h), 3);
    assert_string_equal(tally_hierarchy_level_name(h, 0), "region");
    assert_string_equal(tally_hierarchy_level_name(h, 2), "site");
    assert_null(tally_hierarchy_level_name(h, 3));
    assert_null(tally_hierarchy_level_name(h, -1));
    assert_int_equal(tally_hierarchy_level_find(h, "district"), 1);
    assert_int_equal(tally_hierarchy_level_find(h, "town"), -1);
    assert_int_equal(tally_hierarchy_level_find(h, NULL), -1);
    /* Pre-order R1, D1, S1, S2; S2 sits directly under the region. */
    assert_int_equal(tally_hierarchy_level(h, 3), 2);
    assert_int_equal(tally_hierarchy_parent(h, 3), 0);
    check_preorder(h);
    tally_hierarchy_free(h);

    /* A default name is not one of the custom ones: line 3, level cell
     * after "D1,Hill," (8 characters): column 9. */
    expect_error("code,name,level,parent_code\n"
                 "R1,North,region,\n"
                 "D1,Hill,county,R1\n",
                 &opts, TALLY_ENOTFOUND, 3, 9, "expected one of region, district, site");

    /* Fewer than five levels: 12-digit codes take their depth. */
    h = load_opts("code,name\n110000000000,a\n110100000000,b\n110101000000,c\n", &opts);
    assert_int_equal(tally_hierarchy_level(h, 0), 0);
    assert_int_equal(tally_hierarchy_level(h, 1), 1);
    assert_int_equal(tally_hierarchy_level(h, 2), 2);
    tally_hierarchy_free(h);

    /* A fourth level of depth has no name: line 5, code cell, column 1. */
    expect_error("code,name\n110000000000,a\n110100000000,b\n110101000000,c\n110101001000,d\n",
                 &opts, TALLY_EINVAL, 5, 1, "only 3 levels are named");
}

/* Definitions loaded with `levels:` name the hierarchy's levels when given
 * in the options, without the caller copying them. */
static tally_definitions *definitions(const char *yaml)
{
    tally_definitions *d = NULL;
    int rc = tally_definitions_from_buffer(&d, yaml, strlen(yaml), "defs.yaml");
    if (rc)
        print_error("definitions: %s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return d;
}

static const char three_levels_csv[] = "code,name,level,parent_code\n"
                                       "R1,North,region,\n"
                                       "D1,Hill,district,R1\n"
                                       "S1,Well,site,D1\n";

static void test_hierarchy__levels_from_definitions(void **state)
{
    (void)state;
    tally_definitions *d = definitions("levels: [region, district, site]\n"
                                       "indicators:\n  - id: x\n");
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.definitions = d;
    tally_hierarchy *h = load_opts(three_levels_csv, &opts);
    assert_int_equal(tally_hierarchy_level_count(h), 3);
    assert_string_equal(tally_hierarchy_level_name(h, 0), "region");
    assert_string_equal(tally_hierarchy_level_name(h, 1), "district");
    assert_string_equal(tally_hierarchy_level_name(h, 2), "site");
    /* S1 is a site, under D1 (index 1). */
    assert_int_equal(tally_hierarchy_level(h, 2), 2);
    assert_int_equal(tally_hierarchy_parent(h, 2), 1);
    /* The hierarchy keeps copies: it outlives the definitions. */
    tally_definitions_free(d);
    assert_int_equal(tally_hierarchy_level_find(h, "district"), 1);
    tally_hierarchy_free(h);

    /* A level the definitions do not name: line 3, the level cell after
     * "D1,Hill," (8 characters), column 9. */
    d = definitions("levels: [region, district, site]\nindicators:\n  - id: x\n");
    opts.definitions = d;
    expect_error("code,name,level,parent_code\nR1,North,region,\nD1,Hill,county,R1\n", &opts,
                 TALLY_ENOTFOUND, 3, 9, "expected one of region, district, site");
    tally_definitions_free(d);

    /* Definitions without `levels:`: the default five. */
    d = definitions("indicators:\n  - id: x\n");
    opts.definitions = d;
    h = load_opts("code,name\n430000000000,a\n430600000000,b\n", &opts);
    assert_int_equal(tally_hierarchy_level_count(h), 5);
    assert_string_equal(tally_hierarchy_level_name(h, 0), "province");
    assert_string_equal(tally_hierarchy_level_name(h, 4), "village");
    assert_int_equal(tally_hierarchy_level(h, 1), 1); /* a city */
    tally_hierarchy_free(h);
    tally_definitions_free(d);
}

static void test_hierarchy__levels_from_definitions_or_names_not_both(void **state)
{
    (void)state;
    tally_definitions *d = definitions("levels: [region, district, site]\n"
                                       "indicators:\n  - id: x\n");
    static const char *const names[] = { "region", "district", "site" };
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.definitions = d;
    opts.level_names = names;
    opts.level_count = 3;
    tally_hierarchy *h = (tally_hierarchy *)1;
    assert_int_equal(tally_hierarchy_from_buffer(&h, three_levels_csv, strlen(three_levels_csv),
                                                 "test.csv", &opts),
                     TALLY_EINVAL);
    assert_null(h);
    assert_string_equal(tally_error_last()->message,
                        "both level_names and definitions are given; expected one of them (the "
                        "definitions' levels, or names of your own)");
    /* A count without names is "given" too. */
    opts.level_names = NULL;
    assert_int_equal(tally_hierarchy_from_buffer(&h, three_levels_csv, strlen(three_levels_csv),
                                                 "test.csv", &opts),
                     TALLY_EINVAL);
    /* Even when the definitions declare no levels. */
    tally_definitions *none = definitions("indicators:\n  - id: x\n");
    opts.definitions = none;
    opts.level_names = names;
    assert_int_equal(tally_hierarchy_from_buffer(&h, three_levels_csv, strlen(three_levels_csv),
                                                 "test.csv", &opts),
                     TALLY_EINVAL);
    tally_definitions_free(none);
    tally_definitions_free(d);
}

/* A caller built against version 2 of the options passes a struct that
 * ends before `definitions`: it is read as before, and the field past its
 * end is not touched (the struct is copied into memory of exactly its
 * size, so a read past it is a heap overflow under the sanitizers). */
static void test_hierarchy__version_2_options_still_work(void **state)
{
    (void)state;
    static const char *const names[] = { "region", "district", "site" };
    tally_hierarchy_options full = TALLY_HIERARCHY_OPTIONS_INIT;
    full.version = 2;
    full.level_names = names;
    full.level_count = 3;
    size_t v2_size = offsetof(tally_hierarchy_options, definitions);
    tally_hierarchy_options *v2 = malloc(v2_size);
    assert_non_null(v2);
    memcpy(v2, &full, v2_size);
    tally_hierarchy *h = load_opts(three_levels_csv, v2);
    assert_int_equal(tally_hierarchy_level_count(h), 3);
    assert_string_equal(tally_hierarchy_level_name(h, 2), "site");
    tally_hierarchy_free(h);
    free(v2);

    /* A version 2 struct's `definitions` is not looked at, whatever it
     * holds: with names of its own, no "both given" error. */
    tally_definitions *d = definitions("levels: [a, b]\nindicators:\n  - id: x\n");
    full.definitions = d;
    h = load_opts(three_levels_csv, &full);
    assert_string_equal(tally_hierarchy_level_name(h, 0), "region");
    tally_hierarchy_free(h);
    /* Without names of its own, the defaults, not the definitions'. */
    full.level_names = NULL;
    full.level_count = 0;
    h = load_opts("code,name\n430000000000,a\n", &full);
    assert_int_equal(tally_hierarchy_level_count(h), 5);
    tally_hierarchy_free(h);
    tally_definitions_free(d);
}

static void test_hierarchy__bad_options(void **state)
{
    (void)state;
    tally_hierarchy *h = NULL;
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.version = 99;
    assert_int_equal(tally_hierarchy_from_buffer(&h, "code,name\n", 10, NULL, &opts),
                     TALLY_EINVAL);
    assert_null(h);

    static const char *const twice[] = { "a", "b", "a" };
    tally_hierarchy_options o2 = TALLY_HIERARCHY_OPTIONS_INIT;
    o2.level_names = twice;
    o2.level_count = 3;
    assert_int_equal(tally_hierarchy_from_buffer(&h, "code,name\n", 10, NULL, &o2),
                     TALLY_EINVAL);
    o2.level_count = 0;
    assert_int_equal(tally_hierarchy_from_buffer(&h, "code,name\n", 10, NULL, &o2),
                     TALLY_EINVAL);
    assert_int_equal(tally_hierarchy_from_buffer(NULL, "code,name\n", 10, NULL, NULL),
                     TALLY_EINVAL);
    assert_int_equal(tally_hierarchy_from_buffer(&h, NULL, 10, NULL, NULL), TALLY_EINVAL);
}

static void test_hierarchy__bom_and_crlf(void **state)
{
    (void)state;
    tally_hierarchy *h = load("\xEF\xBB\xBF"
                              "code,name,level,parent_code\r\n"
                              "A,甲,province,\r\n"
                              "\r\n"
                              "B,乙,city,A\r\n");
    assert_int_equal(tally_hierarchy_size(h), 2);
    assert_string_equal(tally_hierarchy_name(h, 0), "甲");
    assert_string_equal(tally_hierarchy_name(h, 1), "乙");
    assert_int_equal(tally_hierarchy_line(h, 0), 2);
    assert_int_equal(tally_hierarchy_line(h, 1), 4); /* after the blank line 3 */
    assert_int_equal(tally_hierarchy_parent(h, 1), 0);
    tally_hierarchy_free(h);
}

static void test_hierarchy__quoted_names(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name,level,parent_code\n"
                              "A,\"Foo, Bar\",province,\n"
                              "B,\"He said \"\"hi\"\"\",city,A\n"
                              "C,\"Two\nlines\",city,A\n"
                              "\"D\",plain,city,A\n");
    assert_string_equal(tally_hierarchy_name(h, 0), "Foo, Bar");
    assert_string_equal(tally_hierarchy_name(h, 1), "He said \"hi\"");
    assert_string_equal(tally_hierarchy_name(h, 2), "Two\nlines");
    assert_string_equal(tally_hierarchy_code(h, 3), "D");
    /* C's row spans lines 4-5, so D is on line 6. */
    assert_int_equal(tally_hierarchy_line(h, 2), 4);
    assert_int_equal(tally_hierarchy_line(h, 3), 6);
    tally_hierarchy_free(h);
}

static char *fixture(const char *name)
{
    const char *dir = getenv("TALLY_TEST_DATA");
    if (!dir)
        dir = "tests/data";
    size_t len = strlen(dir) + strlen(name) + 16;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/hierarchy/%s", dir, name);
    return path;
}

static void test_hierarchy__from_file(void **state)
{
    (void)state;
    char *path = fixture("ok.csv");
    tally_hierarchy *h = NULL;
    int rc = tally_hierarchy_from_file(&h, path, NULL);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    /* Columns name,code,extra,level,parent_code; "extra" is ignored.
     * Pre-order: 430000000000 (line 2), 430600000000 (3), 430626000000 (4),
     * 340000000000 (5). */
    assert_int_equal(tally_hierarchy_size(h), 4);
    assert_string_equal(tally_hierarchy_code(h, 0), "430000000000");
    assert_string_equal(tally_hierarchy_name(h, 0), "Hunan, 湖南");
    assert_string_equal(tally_hierarchy_name(h, 2), "平江县");
    assert_string_equal(tally_hierarchy_name(h, 3), "Anhui \"皖\"");
    assert_int_equal(tally_hierarchy_parent(h, 2), 1);
    assert_int_equal(tally_hierarchy_level(h, 2), 2);
    assert_int_equal(tally_hierarchy_subtree_end(h, 0), 3);
    assert_int_equal(tally_hierarchy_line(h, 3), 5);
    assert_int_equal(find(h, "340000000000"), 3);
    check_preorder(h);
    tally_hierarchy_free(h);
    free(path);
}

static void test_hierarchy__missing_file(void **state)
{
    (void)state;
    tally_hierarchy *h = (tally_hierarchy *)1;
    char *path = fixture("no-such-file.csv");
    assert_int_equal(tally_hierarchy_from_file(&h, path, NULL), TALLY_EIO);
    assert_null(h);
    assert_string_equal(tally_error_last()->path, path);
    free(path);
}

/* Each bad fixture, with where the error is, counted by hand. */
static const struct bad_case {
    const char *file;
    int code;
    unsigned long line, column;
    const char *needle;
} bad_cases[] = {
    /* Line 4 repeats line 3's code; the code cell starts the row. */
    { "dup-code.csv", TALLY_EEXIST, 4, 1, "first given on line 3" },
    /* "C,甲乙,city," is 10 characters: the parent cell is column 11. */
    { "unknown-parent.csv", TALLY_ENOTFOUND, 4, 11, "unknown parent code 'Z'" },
    /* E (line 3) hangs from the cycle A -> C -> B -> A; the cycle's first
     * row is A on line 4, parent cell after "A,Alpha," (8): column 9. */
    { "cycle.csv", TALLY_ECYCLE, 4, 9, "A -> C -> B -> A" },
    /* "110101000000,东城区," is 17 characters: level cell column 18. */
    { "level-not-below.csv", TALLY_EINVAL, 4, 18, "not below the level 'city'" },
    /* CRLF file with a blank line 3; "110100000000,市辖区," is 17
     * characters: level cell column 18 of line 4. */
    { "unknown-level.csv", TALLY_ENOTFOUND, 4, 18,
      "expected one of province, city, county, town, village" },
    /* "110100000000,市辖区,city" is 21 characters: end of row, column 22. */
    { "field-count-short.csv", TALLY_EPARSE, 3, 22, "expected 4" },
    /* "110000000000,北京市,province,," is 27 characters: the extra field is
     * column 28. */
    { "field-count-long.csv", TALLY_EPARSE, 2, 28, "the row has 5 fields; expected 4" },
    /* The header (after a BOM) has no code column. */
    { "missing-code.csv", TALLY_EPARSE, 1, 1, "no 'code' column" },
    /* The quote opens after "110000000000," (13 characters): column 14. */
    { "unterminated-quote.csv", TALLY_EPARSE, 2, 14, "unterminated" },
    /* No parent column and a 4-digit code on line 3. */
    { "non12-code.csv", TALLY_EINVAL, 3, 1, "not a 12-digit" },
    /* The name cell follows "110100000000," (13 characters): column 14. */
    { "bad-utf8-name.csv", TALLY_EPARSE, 3, 14, "not valid UTF-8" },
    /* An empty quoted code on line 3. */
    { "empty-code.csv", TALLY_EPARSE, 3, 1, "empty code" },
};

static void test_hierarchy__bad_fixtures(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
        const struct bad_case *b = &bad_cases[k];
        char *path = fixture(b->file);
        tally_hierarchy *h = (tally_hierarchy *)1;
        int rc = tally_hierarchy_from_file(&h, path, NULL);
        const tally_error *e = tally_error_last();
        char suffix[128];
        snprintf(suffix, sizeof suffix, "hierarchy/%s", b->file);
        size_t plen = e->path ? strlen(e->path) : 0;
        if (rc != b->code || e->line != b->line || e->column != b->column ||
            !strstr(e->message, b->needle) || plen < strlen(suffix) ||
            strcmp(e->path + plen - strlen(suffix), suffix) != 0)
            print_error("%s: got %d at %lu:%lu: %s\n", b->file, rc, e->line, e->column,
                        e->message);
        assert_int_equal(rc, b->code);
        assert_null(h);
        assert_int_equal(e->code, b->code);
        assert_non_null(e->path);
        assert_true(plen >= strlen(suffix));
        assert_string_equal(e->path + plen - strlen(suffix), suffix);
        assert_int_equal(e->line, b->line);
        assert_int_equal(e->column, b->column);
        assert_non_null(strstr(e->message, b->needle));
        free(path);
    }
}

static void test_hierarchy__more_bad_buffers(void **state)
{
    (void)state;
    /* A row that is its own parent: "A,a," is 4 characters, column 5. */
    expect_error("code,name,parent_code\nA,a,A\n", NULL, TALLY_ECYCLE, 2, 5, "A -> A");
    /* "code,name," is 10 characters: the second code column is column 11. */
    expect_error("code,name,code\n", NULL, TALLY_EPARSE, 1, 11, "named twice");
    expect_error("", NULL, TALLY_EPARSE, 1, 1, "no header");
    expect_error("code,level\nA,province\n", NULL, TALLY_EPARSE, 1, 1, "no 'name' column");
    /* A duplicate text code: "B" on line 4 repeats line 2. */
    expect_error("code,name,parent_code\nB,b,\nC,c,B\nB,b2,\n", NULL, TALLY_EEXIST, 4, 1,
                 "duplicate code 'B'; first given on line 2");
    /* An unknown 12-digit parent: "110100000000,b," is 15 characters, so
     * the parent cell is column 16. */
    expect_error("code,name,parent_code\n110000000000,a,\n110100000000,b,120000000000\n", NULL,
                 TALLY_ENOTFOUND, 3, 16, "unknown parent code '120000000000'");
    /* The first error in the file wins: the duplicate on line 3 comes
     * before the short row on line 4... */
    expect_error("code,name\n110000000000,a\n110000000000,b\n110100000000\n", NULL,
                 TALLY_EEXIST, 3, 1, "first given on line 2");
    /* ...and the bad code on line 3 before the duplicate on line 4. */
    expect_error("code,name\n110000000000,a\n1101,b\n110000000000,c\n", NULL, TALLY_EINVAL, 3,
                 1, "not a 12-digit");
    /* parent_code puts a village (level 4 by its code) under another
     * village: nothing is below the last level. No level column, so the
     * code cell of line 3. */
    expect_error("code,name,parent_code\n110101001001,a,\n110101001002,b,110101001001\n", NULL,
                 TALLY_EINVAL, 3, 1, "expected a level below 'village', but it is the last");
}

static void test_hierarchy__empty(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name,level,parent_code\n");
    assert_int_equal(tally_hierarchy_size(h), 0);
    assert_null(tally_hierarchy_code(h, 0));
    tally_hierarchy_free(h);
}

static void test_hierarchy__free_null_and_out_of_range(void **state)
{
    (void)state;
    tally_hierarchy_free(NULL);
    tally_hierarchy *h = load("code,name\n110000000000,北京市\n");
    assert_int_equal(tally_hierarchy_size(h), 1);
    assert_null(tally_hierarchy_code(h, 1));
    assert_null(tally_hierarchy_name(h, 1));
    assert_int_equal(tally_hierarchy_level(h, 1), -1);
    assert_true(tally_hierarchy_parent(h, 1) == TALLY_NONE);
    assert_true(tally_hierarchy_subtree_end(h, 1) == TALLY_NONE);
    assert_int_equal(tally_hierarchy_line(h, 1), 0);
    assert_true(tally_hierarchy_parent(h, 0) == TALLY_NONE);
    assert_int_equal(tally_hierarchy_size(NULL), 0);
    assert_null(tally_hierarchy_code(NULL, 0));
    assert_null(tally_hierarchy_parents(NULL));
    tally_hierarchy_free(h);
}

static void test_hierarchy__lines_in_sequence_and_not(void **state)
{
    (void)state;
    /* A blank line after the header: rows on lines 3, 4, 5, one after
     * another in pre-order. */
    tally_hierarchy *h = load("code,name\n\n110000000000,a\n110100000000,b\n110101000000,c\n");
    assert_int_equal(tally_hierarchy_size(h), 3);
    assert_int_equal(tally_hierarchy_line(h, 0), 3);
    assert_int_equal(tally_hierarchy_line(h, 1), 4);
    assert_int_equal(tally_hierarchy_line(h, 2), 5);
    assert_int_equal(tally_hierarchy_line(h, 3), 0);
    tally_hierarchy_free(h);
    /* A blank line between rows: lines 2, 4, 5. */
    h = load("code,name\n110000000000,a\n\n110100000000,b\n110101000000,c\n");
    assert_int_equal(tally_hierarchy_line(h, 0), 2);
    assert_int_equal(tally_hierarchy_line(h, 1), 4);
    assert_int_equal(tally_hierarchy_line(h, 2), 5);
    tally_hierarchy_free(h);
    /* Lines in sequence in the file but not in pre-order: the county on
     * line 2 comes after the province (line 3) and the city (line 4). */
    h = load("code,name\n110101000000,c\n110000000000,a\n110100000000,b\n");
    assert_string_equal(tally_hierarchy_code(h, 0), "110000000000");
    assert_int_equal(tally_hierarchy_line(h, 0), 3);
    assert_int_equal(tally_hierarchy_line(h, 1), 4);
    assert_int_equal(tally_hierarchy_line(h, 2), 2);
    assert_string_equal(tally_hierarchy_name(h, 2), "c");
    tally_hierarchy_free(h);
}

/* Expects the limited load of `csv` to fail with TALLY_ELIMIT at line:col
 * of "test.csv", with `needle` in the message. */
static void expect_limit(const char *csv, const tally_hierarchy__limits *lim,
                         unsigned long line, unsigned long col, const char *needle)
{
    tally_hierarchy *h = (tally_hierarchy *)1;
    int rc = tally_hierarchy__from_buffer_limited(&h, csv, strlen(csv), "test.csv", NULL, lim);
    const tally_error *e = tally_error_last();
    if (rc != TALLY_ELIMIT || e->line != line || e->column != col || !strstr(e->message, needle))
        print_error("got %d at %lu:%lu: %s\n", rc, e->line, e->column, e->message);
    assert_int_equal(rc, TALLY_ELIMIT);
    assert_null(h);
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, col);
    assert_non_null(strstr(e->message, needle));
}

static void test_hierarchy__limits(void **state)
{
    (void)state;
    const char *three = "code,name\n110000000000,北京市\n110100000000,市辖区\n"
                        "110101000000,东城区\n";
    const char *four = "code,name\n110000000000,北京市\n110100000000,市辖区\n"
                       "110101000000,东城区\n110102000000,西城区\n";
    tally_hierarchy__limits lim = { 3, SIZE_MAX, (unsigned long)-1, 0 };
    /* Three regions fit a limit of three... */
    tally_hierarchy *h = NULL;
    assert_int_equal(
        tally_hierarchy__from_buffer_limited(&h, three, strlen(three), "test.csv", NULL, &lim), 0);
    assert_int_equal(tally_hierarchy_size(h), 3);
    tally_hierarchy_free(h);
    /* ...the fourth (line 5) does not: at its code, column 1. */
    expect_limit(four, &lim, 5, 1, "more than 3 regions");

    /* Text: a 12-digit code is kept as a number, so each row stores its
     * name (3 UTF-8 bytes a character, 3 characters: 9 bytes) and a NUL:
     * 10 bytes. 30 bytes hold three rows; the fourth row's name (line 5,
     * after "110102000000," = 13 characters: column 14) goes past 30. */
    lim = (tally_hierarchy__limits){ SIZE_MAX, 30, (unsigned long)-1, 0 };
    h = NULL;
    assert_int_equal(
        tally_hierarchy__from_buffer_limited(&h, three, strlen(three), "test.csv", NULL, &lim), 0);
    tally_hierarchy_free(h);
    expect_limit(four, &lim, 5, 14, "more than 30 bytes");
    /* Every row's name counts while reading, repeated or not (one copy is
     * kept in the end): four rows named 市辖区 need 40 bytes. */
    const char *same = "code,name\n110000000000,市辖区\n110100000000,市辖区\n"
                       "110101000000,市辖区\n110102000000,市辖区\n";
    expect_limit(same, &lim, 5, 14, "more than 30 bytes");
    /* Codes that are not 12 digits are kept as text: "A1" and a NUL, then
     * the name and a NUL, 3 + 10 = 13 bytes a row; 39 bytes hold three
     * rows, and the fourth row's name (line 5, after "A4," = 3 characters:
     * column 4) goes past 39. */
    const char *text3 = "code,name,parent_code\nA1,北京市,\nA2,市辖区,A1\nA3,东城区,A2\n";
    const char *text4 = "code,name,parent_code\nA1,北京市,\nA2,市辖区,A1\nA3,东城区,A2\n"
                        "A4,西城区,A2\n";
    lim = (tally_hierarchy__limits){ SIZE_MAX, 39, (unsigned long)-1, 0 };
    h = NULL;
    assert_int_equal(
        tally_hierarchy__from_buffer_limited(&h, text3, strlen(text3), "test.csv", NULL, &lim), 0);
    assert_string_equal(tally_hierarchy_code(h, 2), "A3");
    tally_hierarchy_free(h);
    expect_limit(text4, &lim, 5, 4, "more than 39 bytes");

    /* Lines: rows start on lines 2 to 5; a limit of line 4 stops line 5. */
    lim = (tally_hierarchy__limits){ SIZE_MAX, SIZE_MAX, 4, 0 };
    h = NULL;
    assert_int_equal(
        tally_hierarchy__from_buffer_limited(&h, three, strlen(three), "test.csv", NULL, &lim), 0);
    tally_hierarchy_free(h);
    expect_limit(four, &lim, 5, 1, "must start by line 4");
}

static void test_hierarchy__too_many_level_names(void **state)
{
    (void)state;
    /* 255 distinct names are accepted, 256 are not. */
    static char text[256][8];
    const char *names[256];
    for (int i = 0; i < 256; i++) {
        snprintf(text[i], sizeof text[i], "l%d", i);
        names[i] = text[i];
    }
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.level_names = names;
    opts.level_count = 255;
    tally_hierarchy *h = load_opts("code,name,level,parent_code\nA,a,l254,\n", &opts);
    assert_int_equal(tally_hierarchy_level_count(h), 255);
    assert_int_equal(tally_hierarchy_level(h, 0), 254);
    assert_string_equal(tally_hierarchy_level_name(h, 254), "l254");
    tally_hierarchy_free(h);
    opts.level_count = 256;
    h = (tally_hierarchy *)1;
    const char *csv = "code,name\nA,a\n";
    assert_int_equal(tally_hierarchy_from_buffer(&h, csv, strlen(csv), "test.csv", &opts),
                     TALLY_ELIMIT);
    assert_null(h);
    assert_non_null(strstr(tally_error_last()->message, "at most 255 levels"));
}

/* A hierarchy of 1 province, 12 cities and 12 * 30 counties: 373 nodes,
 * written children first (each county, then its city; the province last)
 * with a parent_code column, so loading must reorder it. Returns a
 * malloc'd CSV. */
static char *reversed_hierarchy(size_t *count)
{
    size_t cap = 64 * 1024, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv + len, cap - len, "code,name,parent_code\n");
    for (int c = 1; c <= 12; c++) {
        for (int k = 1; k <= 30; k++)
            len += (size_t)snprintf(csv + len, cap - len, "43%02d%02d000000,county,43%02d00000000\n",
                                    c, k, c);
        len += (size_t)snprintf(csv + len, cap - len, "43%02d00000000,city,430000000000\n", c);
    }
    len += (size_t)snprintf(csv + len, cap - len, "430000000000,province,\n");
    assert_true(len < cap);
    *count = 1 + 12 + 12 * 30;
    return csv;
}

static void test_hierarchy__wide_hash_slots(void **state)
{
    (void)state;
    size_t count;
    char *csv = reversed_hierarchy(&count);
    /* 2 bits of each index in the slot, the next 8 beside it: up to 1024
     * nodes, so indices 4..372 use the byte beside the slot. */
    tally_hierarchy__limits lim = { SIZE_MAX, SIZE_MAX, (unsigned long)-1, 2 };
    tally_hierarchy *wide = NULL;
    assert_int_equal(
        tally_hierarchy__from_buffer_limited(&wide, csv, strlen(csv), "test.csv", NULL, &lim), 0);
    assert_int_equal(tally_hierarchy_size(wide), count);
    /* Pre-order by hand: the province (0), then city c at
     * 1 + (c - 1) * 31 followed by its counties in file order. */
    assert_string_equal(tally_hierarchy_code(wide, 0), "430000000000");
    for (int c = 1; c <= 12; c++) {
        char code[16];
        size_t at = 1 + (size_t)(c - 1) * 31;
        snprintf(code, sizeof code, "43%02d00000000", c);
        assert_string_equal(tally_hierarchy_code(wide, at), code);
        assert_int_equal(find(wide, code), at);
        for (int k = 1; k <= 30; k++) {
            snprintf(code, sizeof code, "43%02d%02d000000", c, k);
            assert_int_equal(find(wide, code), at + (size_t)k);
            assert_string_equal(tally_hierarchy_code(wide, at + (size_t)k), code);
            assert_int_equal(tally_hierarchy_parent(wide, at + (size_t)k), at);
        }
    }
    size_t i;
    assert_int_equal(tally_hierarchy_find(wide, "431300000000", 12, &i), TALLY_ENOTFOUND);
    tally_hierarchy_free(wide);

    /* 10 bits name at most 1024 nodes: 1025 is one too many, at its row
     * (line 1026: the header is line 1). */
    size_t cap = 64 * 1024, len = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    len += (size_t)snprintf(big + len, cap - len, "code,name\n430000000000,p\n");
    /* 430101001001 .. 430101002024: villages, and one town (...002000). */
    for (unsigned long long k = 1; k <= 1024; k++)
        len += (size_t)snprintf(big + len, cap - len, "%012llu,t\n", 430101001000ULL + k);
    assert_true(len < cap);
    lim.node_low_bits = 2;
    expect_limit(big, &lim, 1026, 1, "more than 1024 regions");
    free(big);
    free(csv);
}

static void test_hierarchy__memo(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name\n110000000000,北京市\n");
    uint64_t v = 7;
    assert_int_equal(tally_hierarchy__memo_get(h, &v), 0);
    assert_int_equal(v, 7);
    /* Zero is a value like any other, not "unset". */
    tally_hierarchy__memo_set(h, 0);
    assert_int_equal(tally_hierarchy__memo_get(h, &v), 1);
    assert_int_equal(v, 0);
    tally_hierarchy__memo_set(h, UINT64_C(0xEF46DB3751D8E999));
    assert_int_equal(tally_hierarchy__memo_get(h, &v), 1);
    assert_true(v == UINT64_C(0xEF46DB3751D8E999));
    tally_hierarchy_free(h);
}

/* 12 ASCII digits are a number, leading zeros included; any other code is
 * text. Either way the code given back is the file's, byte for byte, and
 * only tally_hierarchy_code writes 12-digit codes out as text. */
static void test_hierarchy__numeric_codes_round_trip(void **state)
{
    (void)state;
    tally_hierarchy *h = load("code,name,parent_code\n"
                              "000000000000,零,\n"
                              "000000000001,一,000000000000\n"
                              "00000000001,十一位,000000000000\n"
                              "0000000000001,十三位,000000000000\n"
                              "00000000000A,字母,000000000000\n"
                              "004294967295,二的三十二次方减一,000000000000\n"
                              "004294967296,二的三十二次方,000000000000\n"
                              "010203040506,零一,000000000000\n"
                              "999999999999,最大,000000000000\n");
    /* Every row is a child of the first, so pre-order is file order. The
     * numbers are read by strtoull below, not by the library. */
    static const char *const codes[] = { "000000000000", "000000000001",  "00000000001",
                                         "0000000000001", "00000000000A", "004294967295",
                                         "004294967296", "010203040506",  "999999999999" };
    static const int numeric[] = { 1, 1, 0, 0, 0, 1, 1, 1, 1 };
    enum { N = sizeof codes / sizeof codes[0] };
    assert_int_equal(tally_hierarchy_size(h), N);
    for (size_t i = 0; i < N; i++) {
        char buf[TALLY_HIERARCHY__CODE_BUF];
        memset(buf, 'x', sizeof buf);
        const char *text = tally_hierarchy__code_text(h, i, buf);
        assert_string_equal(text, codes[i]);
        /* Text codes are in the hierarchy; numbers are written into buf. */
        assert_int_equal(text == buf, numeric[i]);
        uint64_t v = 42;
        assert_int_equal(tally_hierarchy__code_number(h, i, &v), numeric[i]);
        assert_true(v == (numeric[i] ? strtoull(codes[i], NULL, 10) : 42));
        assert_int_equal(tally_hierarchy__code_number(h, i, NULL), numeric[i]);
        for (size_t j = 0; j < N; j++)
            assert_int_equal(tally_hierarchy__code_is(h, i, codes[j], strlen(codes[j])), i == j);
        assert_int_equal(find(h, codes[i]), i);
    }
    /* "00000000001" is "000000000001" without a zero: neither matches the
     * other, as tally_hierarchy_find says. */
    assert_int_equal(tally_hierarchy__code_is(h, 1, "00000000001", 11), 0);
    assert_int_equal(tally_hierarchy__code_is(h, 2, "000000000001", 12), 0);
    /* The length bounds the bytes compared: no NUL needed. */
    assert_int_equal(tally_hierarchy__code_is(h, 1, "000000000001xyz", 12), 1);
    assert_int_equal(tally_hierarchy__code_is(h, 4, "00000000000AB", 12), 1);
    assert_int_equal(tally_hierarchy__code_is(h, 4, "00000000000AB", 11), 0);
    assert_int_equal(tally_hierarchy__code_is(h, 4, "00000000000AB", 13), 0);
    /* Lookups, names and the accessors above write nothing out. */
    assert_int_equal(tally_hierarchy__code_blocks_written(h), 0);

    const char *first[N];
    for (size_t i = 0; i < N; i++) {
        first[i] = tally_hierarchy_code(h, i);
        assert_string_equal(first[i], codes[i]);
    }
    /* All nine nodes are in one block of 4096; the strings stay put. */
    assert_int_equal(tally_hierarchy__code_blocks_written(h), 1);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(tally_hierarchy_code(h, i), first[i]);

    /* Out of range, or no hierarchy: nothing. */
    char buf[TALLY_HIERARCHY__CODE_BUF];
    uint64_t v = 7;
    assert_null(tally_hierarchy__code_text(h, N, buf));
    assert_null(tally_hierarchy__code_text(NULL, 0, buf));
    assert_int_equal(tally_hierarchy__code_number(h, N, &v), 0);
    assert_int_equal(tally_hierarchy__code_number(NULL, 0, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(tally_hierarchy__code_is(h, N, "000000000000", 12), 0);
    assert_int_equal(tally_hierarchy__code_is(NULL, 0, "000000000000", 12), 0);
    assert_int_equal(tally_hierarchy__code_is(h, 0, NULL, 12), 0);
    assert_int_equal(tally_hierarchy__code_blocks_written(NULL), 0);
    tally_hierarchy_free(h);

    /* A hierarchy of text codes only has nothing to write out. */
    h = load("code,name,parent_code\nA,a,\nB,b,A\n");
    assert_string_equal(tally_hierarchy_code(h, 1), "B");
    assert_int_equal(tally_hierarchy__code_blocks_written(h), 0);
    tally_hierarchy_free(h);
}

/* Names given to several nodes are kept once; names that only look alike
 * (one a prefix of another, or equal but for the last byte) stay apart. */
static void test_hierarchy__repeated_names_kept_once(void **state)
{
    (void)state;
    /* The root comes last, so loading also reorders (pre-order: the root,
     * then its children in file order). The names: 村委会 is 9 bytes, 村委
     * 6, 村 3; abcdefgh 8, the two 16-byte ones differ in their last
     * byte. The 12-digit codes are villages (the level their digits give),
     * the text codes one level below the root. */
    tally_hierarchy *h = load("code,name,parent_code\n"
                              "110101001001,村委会,R\n"
                              "B,村委,R\n"
                              "110101001002,村委会,R\n"
                              "110101001003,村,R\n"
                              "C,,R\n"
                              "110101001004,村委会,R\n"
                              "110101001005,,R\n"
                              "D,村委,R\n"
                              "110101001006,abcdefgh,R\n"
                              "110101001007,abcdefghijklmnop,R\n"
                              "E,abcdefghijklmnoq,R\n"
                              "110101001008,abcdefgh,R\n"
                              "110101001009,abcdefghijklmnop,R\n"
                              "R,根,\n");
    static const char *const codes[] = { "R",            "110101001001", "B",
                                         "110101001002", "110101001003", "C",
                                         "110101001004", "110101001005", "D",
                                         "110101001006", "110101001007", "E",
                                         "110101001008", "110101001009" };
    static const char *const names[] = { "根", "村委会", "村委", "村委会", "村", "",
                                         "村委会", "", "村委", "abcdefgh",
                                         "abcdefghijklmnop", "abcdefghijklmnoq", "abcdefgh",
                                         "abcdefghijklmnop" };
    enum { N = sizeof codes / sizeof codes[0] };
    assert_int_equal(tally_hierarchy_size(h), N);
    for (size_t i = 0; i < N; i++) {
        assert_string_equal(tally_hierarchy_code(h, i), codes[i]);
        assert_string_equal(tally_hierarchy_name(h, i), names[i]);
        assert_int_equal(find(h, codes[i]), i);
    }
    /* Equal names, one copy; different names, different copies. */
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            assert_int_equal(tally_hierarchy_name(h, i) == tally_hierarchy_name(h, j),
                             strcmp(names[i], names[j]) == 0);
    check_preorder(h);
    tally_hierarchy_free(h);
}

/* Several threads asking for codes at once, as a shared hierarchy allows:
 * each gets the same string at the same address, whichever thread wrote
 * it out. */
enum { THREADS = 8, SPREAD_NODES = 3 * 4096 + 100 };

typedef struct code_caller {
    const tally_hierarchy *h;
    pthread_barrier_t *start;
    size_t first; /* where this thread starts, so threads meet in every block */
    const char **got;
} code_caller;

static void *call_codes(void *arg)
{
    code_caller *c = arg;
    pthread_barrier_wait(c->start);
    for (size_t k = 0; k < SPREAD_NODES; k++) {
        size_t i = (c->first + k) % SPREAD_NODES;
        c->got[i] = tally_hierarchy_code(c->h, i);
    }
    return NULL;
}

/* Row k's code: the root "R", a text code every 7th row, else a 12-digit
 * number spread over the whole range (leading zeros, and values past
 * 2^32). */
static void spread_code(size_t k, char *out, size_t size)
{
    if (k == 0)
        snprintf(out, size, "R");
    else if (k % 7 == 0)
        snprintf(out, size, "T%05zu", k);
    else
        snprintf(out, size, "%012llu",
                 (unsigned long long)k * 80711ULL + (unsigned long long)(k % 5) * 100000000000ULL);
}

static void test_hierarchy__codes_from_threads(void **state)
{
    (void)state;
    size_t cap = (size_t)SPREAD_NODES * 48 + 64, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, "code,name,parent_code\n");
    for (size_t k = 0; k < SPREAD_NODES; k++) {
        char code[32];
        spread_code(k, code, sizeof code);
        len += (size_t)snprintf(csv + len, cap - len, "%s,n%zu,%s\n", code, k % 100,
                                k ? "R" : "");
    }
    assert_true(len < cap);
    tally_hierarchy *h = NULL;
    assert_int_equal(tally_hierarchy_from_buffer(&h, csv, len, "spread.csv", NULL), 0);
    free(csv);
    assert_int_equal(tally_hierarchy_size(h), SPREAD_NODES);
    assert_int_equal(tally_hierarchy__code_blocks_written(h), 0);

    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    pthread_t tid[THREADS];
    code_caller callers[THREADS];
    for (size_t t = 0; t < THREADS; t++) {
        callers[t].h = h;
        callers[t].start = &start;
        callers[t].first = t * 1543;
        callers[t].got = calloc(SPREAD_NODES, sizeof *callers[t].got);
        assert_non_null(callers[t].got);
        assert_int_equal(pthread_create(&tid[t], NULL, call_codes, &callers[t]), 0);
    }
    for (size_t t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(tid[t], NULL), 0);
    pthread_barrier_destroy(&start);

    /* 12388 nodes: blocks of 4096 nodes 0, 1, 2 and 3 (the last holds
     * 100). */
    assert_int_equal(tally_hierarchy__code_blocks_written(h), 4);
    for (size_t i = 0; i < SPREAD_NODES; i++) {
        char code[32];
        spread_code(i, code, sizeof code); /* every row is a child of R: node i is row i */
        for (size_t t = 0; t < THREADS; t++)
            assert_ptr_equal(callers[t].got[i], callers[0].got[i]);
        assert_string_equal(callers[0].got[i], code);
        assert_ptr_equal(tally_hierarchy_code(h, i), callers[0].got[i]);
    }
    for (size_t t = 0; t < THREADS; t++)
        free(callers[t].got);
    tally_hierarchy_free(h);
}

/* tally_hierarchy_parents and tally_hierarchy_subtree_end (both worked
 * out on first use) from several threads at once, on a file in pre-order
 * and on the same tree in another order: every thread gets the same parent
 * array and the same ends; entry i is the node whose code is the parent
 * code of node i's row (found by code, not through the parent arrays), and
 * the ends are held to the definition by check_preorder. Node k of
 * the tree ("N<k>") has parent N<(k-1)/8>; N0 is the root (five levels, as
 * many as the default level names). */
enum { HEAP_NODES = 4000, FAN = 8 };

typedef struct parents_caller {
    const tally_hierarchy *h;
    pthread_barrier_t *start;
    const size_t *got;
    size_t ends[HEAP_NODES];
} parents_caller;

static void *call_parents(void *arg)
{
    parents_caller *c = arg;
    pthread_barrier_wait(c->start);
    c->got = tally_hierarchy_parents(c->h);
    for (size_t i = 0; i < HEAP_NODES; i++)
        c->ends[i] = tally_hierarchy_subtree_end(c->h, i);
    return NULL;
}

/* Writes node k's row, then its children's subtrees (pre-order). */
static size_t heap_rows(char *csv, size_t cap, size_t len, size_t k)
{
    if (k)
        len += (size_t)snprintf(csv + len, cap - len, "N%zu,n,N%zu\n", k, (k - 1) / FAN);
    else
        len += (size_t)snprintf(csv + len, cap - len, "N0,n,\n");
    for (size_t c = FAN * k + 1; c <= FAN * k + FAN && c < HEAP_NODES; c++)
        len = heap_rows(csv, cap, len, c);
    return len;
}

static void test_hierarchy__parents_from_threads(void **state)
{
    (void)state;
    size_t cap = (size_t)HEAP_NODES * 32 + 64;
    char *csv = malloc(cap);
    assert_non_null(csv);
    for (int form = 0; form < 2; form++) {
        size_t len = (size_t)snprintf(csv, cap, "code,name,parent_code\n");
        if (form == 0) {
            len = heap_rows(csv, cap, len, 0);
        } else { /* children before their parents: the rows from the last */
            for (size_t k = HEAP_NODES; k-- > 0;)
                len += (size_t)snprintf(csv + len, cap - len, k ? "N%zu,n,N%zu\n" : "N%zu,n,\n",
                                        k, (k - 1) / FAN);
        }
        assert_true(len < cap);
        tally_hierarchy *h = NULL;
        assert_int_equal(tally_hierarchy_from_buffer(&h, csv, len, "heap.csv", NULL), 0);
        assert_int_equal(tally_hierarchy_size(h), HEAP_NODES);

        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
        pthread_t tid[THREADS];
        parents_caller *callers = calloc(THREADS, sizeof *callers);
        assert_non_null(callers);
        for (size_t t = 0; t < THREADS; t++) {
            callers[t].h = h;
            callers[t].start = &start;
            assert_int_equal(pthread_create(&tid[t], NULL, call_parents, &callers[t]), 0);
        }
        for (size_t t = 0; t < THREADS; t++)
            assert_int_equal(pthread_join(tid[t], NULL), 0);
        pthread_barrier_destroy(&start);

        const size_t *parents = callers[0].got;
        assert_non_null(parents);
        for (size_t t = 0; t < THREADS; t++) {
            assert_ptr_equal(callers[t].got, parents);
            assert_memory_equal(callers[t].ends, callers[0].ends, sizeof callers[0].ends);
        }
        assert_ptr_equal(tally_hierarchy_parents(h), parents);
        for (size_t i = 0; i < HEAP_NODES; i++)
            assert_true(tally_hierarchy_subtree_end(h, i) == callers[0].ends[i]);
        free(callers);
        size_t roots = 0;
        for (size_t i = 0; i < HEAP_NODES; i++) {
            size_t k = (size_t)strtoul(tally_hierarchy_code(h, i) + 1, NULL, 10);
            size_t want = TALLY_NONE;
            if (k) {
                char pc[32];
                snprintf(pc, sizeof pc, "N%zu", (k - 1) / FAN);
                assert_int_equal(tally_hierarchy_find(h, pc, strlen(pc), &want), 0);
            } else {
                roots++;
            }
            assert_true(parents[i] == want);
            assert_true(tally_hierarchy_parent(h, i) == want);
        }
        assert_int_equal(roots, 1);
        check_preorder(h);
        tally_hierarchy_free(h);
    }
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hierarchy__preorder_from_unordered_file),
        cmocka_unit_test(test_hierarchy__lookup_numeric_and_text),
        cmocka_unit_test(test_hierarchy__find_unknown),
        cmocka_unit_test(test_hierarchy__derived_parents_skip_levels),
        cmocka_unit_test(test_hierarchy__derived_parents_with_level_column),
        cmocka_unit_test(test_hierarchy__code_levels_with_parent_column),
        cmocka_unit_test(test_hierarchy__empty_parent_cell_derives_from_the_code),
        cmocka_unit_test(test_hierarchy__depth_levels_for_text_codes),
        cmocka_unit_test(test_hierarchy__custom_level_names),
        cmocka_unit_test(test_hierarchy__levels_from_definitions),
        cmocka_unit_test(test_hierarchy__levels_from_definitions_or_names_not_both),
        cmocka_unit_test(test_hierarchy__version_2_options_still_work),
        cmocka_unit_test(test_hierarchy__bad_options),
        cmocka_unit_test(test_hierarchy__bom_and_crlf),
        cmocka_unit_test(test_hierarchy__quoted_names),
        cmocka_unit_test(test_hierarchy__from_file),
        cmocka_unit_test(test_hierarchy__missing_file),
        cmocka_unit_test(test_hierarchy__bad_fixtures),
        cmocka_unit_test(test_hierarchy__more_bad_buffers),
        cmocka_unit_test(test_hierarchy__empty),
        cmocka_unit_test(test_hierarchy__free_null_and_out_of_range),
        cmocka_unit_test(test_hierarchy__lines_in_sequence_and_not),
        cmocka_unit_test(test_hierarchy__limits),
        cmocka_unit_test(test_hierarchy__too_many_level_names),
        cmocka_unit_test(test_hierarchy__wide_hash_slots),
        cmocka_unit_test(test_hierarchy__memo),
        cmocka_unit_test(test_hierarchy__numeric_codes_round_trip),
        cmocka_unit_test(test_hierarchy__repeated_names_kept_once),
        cmocka_unit_test(test_hierarchy__codes_from_threads),
        cmocka_unit_test(test_hierarchy__parents_from_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
