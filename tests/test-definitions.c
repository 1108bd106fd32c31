/* Definitions: the DESIGN.md example, every default, formulas and their
 * order, lookups, and every kind of bad input at its exact place.
 * Lines and columns in the comments are counted by hand (1-based; columns
 * in characters). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "definitions.h"
#include "tally/error.h"

static const char *data_path(const char *name)
{
    static char buf[1024];
    const char *dir = getenv("TALLY_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/definitions/%s", dir ? dir : "tests/data", name);
    return buf;
}

static tally_definitions *load(const char *yaml)
{
    tally_definitions *d = NULL;
    int rc = tally_definitions_from_buffer(&d, yaml, strlen(yaml), "defs.yaml");
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    assert_non_null(d);
    return d;
}

static size_t find(const tally_definitions *d, const char *id)
{
    size_t i = 12345;
    assert_int_equal(tally_definitions_find(d, id, strlen(id), &i), 0);
    return i;
}

/* Loads yaml expecting failure with code at line:column; returns the
 * error for further checks. */
static const tally_error *expect_error(const char *yaml, int code, unsigned long line,
                                       unsigned long column)
{
    tally_definitions *d = (tally_definitions *)1;
    int rc = tally_definitions_from_buffer(&d, yaml, strlen(yaml), "defs.yaml");
    const tally_error *e = tally_error_last();
    if (rc != code || e->line != line || e->column != column)
        fprintf(stderr, "got %d at %lu:%lu: %s\n", rc, e->line, e->column, e->message);
    assert_int_equal(rc, code);
    assert_null(d);
    assert_int_equal(e->code, code);
    assert_string_equal(e->path, "defs.yaml");
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, column);
    return e;
}

static void assert_contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fprintf(stderr, "'%s' does not contain '%s'\n", s, part);
    assert_non_null(strstr(s, part));
}

/* ------------------------------------------------------------------ */

static void check_design(const tally_definitions *d)
{
    assert_int_equal(tally_definitions_level_count(d), 5);
    assert_string_equal(tally_definitions_level_name(d, 0), "province");
    assert_string_equal(tally_definitions_level_name(d, 4), "village");
    assert_null(tally_definitions_level_name(d, 5));
    assert_int_equal(tally_definitions_indicator_count(d), 3);

    assert_string_equal(tally_definitions_id(d, 0), "poor_population");
    assert_string_equal(tally_definitions_name(d, 0), "建档立卡贫困人口");
    assert_string_equal(tally_definitions_unit(d, 0), "人");
    assert_int_equal(tally_definitions_aggregate(d, 0), TALLY_AGGREGATE_SUM);
    assert_int_equal(tally_definitions_over_time(d, 0), TALLY_OVER_TIME_STOCK);
    assert_int_equal(tally_definitions_decimals(d, 0), 0);
    assert_int_equal(tally_definitions_direction(d, 0), TALLY_DIRECTION_HIGHER_IS_BETTER);
    assert_int_equal(tally_definitions_exact(d, 0), 1); /* decimals 0, not a formula */
    assert_null(tally_definitions_formula(d, 0));
    assert_null(tally_definitions__program(d, 0));
    assert_true(isnan(tally_definitions_min(d, 0)) && isnan(tally_definitions_max(d, 0)));

    assert_string_equal(tally_definitions_id(d, 1), "rural_population");
    assert_string_equal(tally_definitions_name(d, 1), "农业户籍人口");
    assert_int_equal(tally_definitions_over_time(d, 1), TALLY_OVER_TIME_STOCK);
    assert_int_equal(tally_definitions_decimals(d, 1), 0); /* default */
    assert_int_equal(tally_definitions_exact(d, 1), 1);

    assert_string_equal(tally_definitions_id(d, 2), "incidence");
    assert_string_equal(tally_definitions_name(d, 2), "贫困发生率");
    assert_string_equal(tally_definitions_unit(d, 2), "%");
    assert_string_equal(tally_definitions_formula(d, 2),
                        "poor_population / rural_population * 100");
    assert_int_equal(tally_definitions_aggregate(d, 2), TALLY_AGGREGATE_FORMULA);
    assert_int_equal(tally_definitions_direction(d, 2), TALLY_DIRECTION_LOWER_IS_BETTER);
    assert_int_equal(tally_definitions_decimals(d, 2), 2);
    assert_int_equal(tally_definitions_exact(d, 2), 0);
    const tally_expr *e = tally_definitions__program(d, 2);
    assert_non_null(e);
    /* Reads poor_population (0) then rural_population (1). */
    assert_int_equal(tally_expr__var_count(e), 2);
    assert_int_equal(tally_expr__var(e, 0), 0);
    assert_int_equal(tally_expr__var(e, 1), 1);
    const size_t *order;
    assert_int_equal(tally_definitions__formula_order(d, &order), 1);
    assert_int_equal(order[0], 2);

    /* "  - id: " is 8 characters: ids start in column 9, on lines 3, 9, 14. */
    unsigned long line, column;
    tally_definitions__position(d, 0, &line, &column);
    assert_int_equal(line, 3);
    assert_int_equal(column, 9);
    tally_definitions__position(d, 1, &line, &column);
    assert_int_equal(line, 9);
    tally_definitions__position(d, 2, &line, &column);
    assert_int_equal(line, 14);
    assert_int_equal(column, 9);
}

static void test_definitions__design_example_loads_from_file(void **state)
{
    (void)state;
    tally_definitions *d = NULL;
    assert_int_equal(tally_definitions_from_file(&d, data_path("design.yaml")), 0);
    check_design(d);
    tally_definitions_free(d);
}

static void test_definitions__design_example_loads_from_buffer(void **state)
{
    (void)state;
    FILE *f = fopen(data_path("design.yaml"), "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* Not NUL-terminated: the length is what counts. */
    tally_definitions *d = NULL;
    char *copy = malloc(n);
    memcpy(copy, buf, n);
    assert_int_equal(tally_definitions_from_buffer(&d, copy, n, NULL), 0);
    free(copy);
    check_design(d);
    tally_definitions_free(d);
}

static void test_definitions__defaults(void **state)
{
    (void)state;
    tally_definitions *d = load("indicators:\n"
                                "  - id: households\n"
                                "  - id: share\n"
                                "    formula: households * 2\n");
    assert_int_equal(tally_definitions_level_count(d), 0);
    assert_null(tally_definitions_level_name(d, 0));
    /* A reported indicator: name = id, unit "", sum, flow, 0 decimals,
     * higher is better, exact, no bounds. */
    assert_string_equal(tally_definitions_name(d, 0), "households");
    assert_string_equal(tally_definitions_unit(d, 0), "");
    assert_int_equal(tally_definitions_aggregate(d, 0), TALLY_AGGREGATE_SUM);
    assert_int_equal(tally_definitions_over_time(d, 0), TALLY_OVER_TIME_FLOW);
    assert_int_equal(tally_definitions_decimals(d, 0), 0);
    assert_int_equal(tally_definitions_direction(d, 0), TALLY_DIRECTION_HIGHER_IS_BETTER);
    assert_int_equal(tally_definitions_exact(d, 0), 1);
    assert_null(tally_definitions_formula(d, 0));
    assert_true(isnan(tally_definitions_min(d, 0)));
    assert_true(isnan(tally_definitions_max(d, 0)));
    /* A formula: 2 decimals, not exact, computed (reported values are
     * levels, so a longer period takes the latest). */
    assert_string_equal(tally_definitions_name(d, 1), "share");
    assert_string_equal(tally_definitions_unit(d, 1), "");
    assert_int_equal(tally_definitions_aggregate(d, 1), TALLY_AGGREGATE_FORMULA);
    assert_int_equal(tally_definitions_over_time(d, 1), TALLY_OVER_TIME_STOCK);
    assert_int_equal(tally_definitions_decimals(d, 1), 2);
    assert_int_equal(tally_definitions_direction(d, 1), TALLY_DIRECTION_HIGHER_IS_BETTER);
    assert_int_equal(tally_definitions_exact(d, 1), 0);
    tally_definitions_free(d);
}

static void test_definitions__every_value_is_read(void **state)
{
    (void)state;
    tally_definitions *d = load("levels: [省, 市, 县]\n"
                                "indicators:\n"
                                "  - id: _Income2\n"
                                "    name: 123\n"
                                "    unit: 元\n"
                                "    aggregate: mean\n"
                                "    over_time: cumulative\n"
                                "    decimals: 15\n"
                                "    direction: lower_is_better\n"
                                "    exact: false\n"
                                "    min: -1.5e3\n"
                                "    max: 1000000\n"
                                "  - {id: lo, aggregate: min, over_time: stock, min: 2, max: 2}\n"
                                "  - {id: hi, aggregate: max}\n"
                                "  - {id: n, aggregate: count}\n");
    assert_int_equal(tally_definitions_level_count(d), 3);
    assert_string_equal(tally_definitions_level_name(d, 2), "县");
    assert_string_equal(tally_definitions_id(d, 0), "_Income2");
    assert_string_equal(tally_definitions_name(d, 0), "123"); /* a plain scalar is text */
    assert_string_equal(tally_definitions_unit(d, 0), "元");
    assert_int_equal(tally_definitions_aggregate(d, 0), TALLY_AGGREGATE_MEAN);
    assert_int_equal(tally_definitions_over_time(d, 0), TALLY_OVER_TIME_CUMULATIVE);
    assert_int_equal(tally_definitions_decimals(d, 0), 15);
    assert_int_equal(tally_definitions_direction(d, 0), TALLY_DIRECTION_LOWER_IS_BETTER);
    assert_int_equal(tally_definitions_exact(d, 0), 0);
    assert_true(tally_definitions_min(d, 0) == -1500.0);
    assert_true(tally_definitions_max(d, 0) == 1000000.0);
    assert_int_equal(tally_definitions_aggregate(d, 1), TALLY_AGGREGATE_MIN);
    assert_int_equal(tally_definitions_over_time(d, 1), TALLY_OVER_TIME_STOCK);
    assert_true(tally_definitions_min(d, 1) == 2.0 && tally_definitions_max(d, 1) == 2.0);
    assert_int_equal(tally_definitions_aggregate(d, 2), TALLY_AGGREGATE_MAX);
    assert_int_equal(tally_definitions_aggregate(d, 3), TALLY_AGGREGATE_COUNT);
    tally_definitions_free(d);
}

static void test_definitions__exact_default_rules(void **state)
{
    (void)state;
    tally_definitions *d = load("indicators:\n"
                                "  - {id: whole}\n"                          /* 0 dec.: exact */
                                "  - {id: tenths, decimals: 1}\n"            /* rounded */
                                "  - {id: f0, formula: whole, decimals: 0}\n" /* formula: not */
                                "  - {id: given_true, decimals: 2, exact: true}\n"
                                "  - {id: given_false, exact: false}\n"
                                "  - {id: f_exact, formula: tenths * 2, exact: True}\n");
    assert_int_equal(tally_definitions_exact(d, 0), 1);
    assert_int_equal(tally_definitions_exact(d, 1), 0);
    assert_int_equal(tally_definitions_exact(d, 2), 0);
    assert_int_equal(tally_definitions_decimals(d, 2), 0);
    assert_int_equal(tally_definitions_exact(d, 3), 1);
    assert_int_equal(tally_definitions_exact(d, 4), 0);
    assert_int_equal(tally_definitions_exact(d, 5), 1);
    assert_int_equal(tally_definitions_decimals(d, 5), 2);
    tally_definitions_free(d);
}

static size_t position_in(const size_t *order, size_t n, size_t ind)
{
    for (size_t k = 0; k < n; k++)
        if (order[k] == ind)
            return k;
    fail_msg("indicator %zu is not in the formula order", ind);
    return n;
}

static void test_definitions__formulas_over_formulas_are_ordered(void **state)
{
    (void)state;
    /* c uses b (a formula) and a; b uses d (a formula); d uses a; e uses a.
     * Indices: c 0, a 1, b 2, d 3, e 4. Any valid order has d before b
     * before c. */
    tally_definitions *d = load("indicators:\n"
                                "  - id: c\n"
                                "    formula: b + a\n"
                                "  - id: a\n"
                                "  - id: b\n"
                                "    formula: d * 2\n"
                                "  - id: d\n"
                                "    formula: a / 2\n"
                                "  - id: e\n"
                                "    formula: a + 1\n");
    const size_t *order;
    size_t n = tally_definitions__formula_order(d, &order);
    assert_int_equal(n, 4);
    size_t pc = position_in(order, n, 0), pb = position_in(order, n, 2);
    size_t pd = position_in(order, n, 3), pe = position_in(order, n, 4);
    assert_true(pd < pb && pb < pc);
    assert_true(pe < n);
    /* The resolver maps ids to indicator indices, before or after. */
    const tally_expr *e = tally_definitions__program(d, 0);
    assert_int_equal(tally_expr__var_count(e), 2);
    assert_int_equal(tally_expr__var(e, 0), 2);
    assert_int_equal(tally_expr__var(e, 1), 1);
    assert_null(tally_definitions__program(d, 1));
    tally_definitions_free(d);
}

static void test_definitions__find_takes_a_length(void **state)
{
    (void)state;
    tally_definitions *d = load("indicators:\n  - id: poor\n  - id: poor_population\n");
    size_t i = 99;
    /* "poor_population" cut to 4 bytes is "poor". */
    assert_int_equal(tally_definitions_find(d, "poor_population", 4, &i), 0);
    assert_int_equal(i, 0);
    assert_int_equal(tally_definitions_find(d, "poor_population,x", 15, &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(tally_definitions_find(d, "poo", 3, &i), TALLY_ENOTFOUND);
    assert_int_equal(i, TALLY_NONE);
    assert_int_equal(tally_error_last()->code, TALLY_ENOTFOUND);
    assert_int_equal(tally_definitions_find(d, "", 0, &i), TALLY_ENOTFOUND);
    assert_int_equal(i, TALLY_NONE);
    tally_definitions_free(d);
}

static void test_definitions__find_among_many(void **state)
{
    (void)state;
    enum { N = 2000 };
    size_t cap = 32 + N * 24, used = 0;
    char *yaml = malloc(cap);
    used += (size_t)snprintf(yaml + used, cap - used, "indicators:\n");
    for (int i = 0; i < N; i++)
        used += (size_t)snprintf(yaml + used, cap - used, "  - id: x%d\n", i);
    tally_definitions *d = load(yaml);
    free(yaml);
    assert_int_equal(tally_definitions_indicator_count(d), N);
    char id[16];
    for (size_t i = 0; i < N; i++) {
        snprintf(id, sizeof id, "x%zu", i);
        assert_int_equal(find(d, id), i);
    }
    size_t i;
    assert_int_equal(tally_definitions_find(d, "x2000", 5, &i), TALLY_ENOTFOUND);
    tally_definitions_free(d);
}

static void test_definitions__out_of_range_accessors(void **state)
{
    (void)state;
    tally_definitions *d = load("indicators:\n  - id: a\n");
    assert_null(tally_definitions_id(d, 1));
    assert_null(tally_definitions_name(d, 1));
    assert_null(tally_definitions_unit(d, 1));
    assert_null(tally_definitions_formula(d, 1));
    assert_int_equal(tally_definitions_decimals(d, 1), -1);
    assert_int_equal(tally_definitions_aggregate(d, 1), -1);
    assert_int_equal(tally_definitions_over_time(d, 1), -1);
    assert_int_equal(tally_definitions_direction(d, 1), -1);
    assert_int_equal(tally_definitions_exact(d, 1), -1);
    assert_true(isnan(tally_definitions_min(d, 1)) && isnan(tally_definitions_max(d, 1)));
    assert_null(tally_definitions__program(d, 1));
    const size_t *order = (const size_t *)1;
    assert_int_equal(tally_definitions__formula_order(d, &order), 0);
    unsigned long line = 7, column = 7;
    tally_definitions__position(d, 1, &line, &column);
    assert_int_equal(line, 0);
    assert_int_equal(column, 0);
    tally_definitions_free(d);
    tally_definitions_free(NULL);
    assert_int_equal(tally_definitions_indicator_count(NULL), 0);
}

static void test_definitions__bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(tally_definitions_from_buffer(NULL, "", 0, NULL), TALLY_EINVAL);
    tally_definitions *d = (tally_definitions *)1;
    assert_int_equal(tally_definitions_from_buffer(&d, NULL, 3, NULL), TALLY_EINVAL);
    assert_null(d);
    d = (tally_definitions *)1;
    assert_int_equal(tally_definitions_from_file(&d, data_path("no-such-file.yaml")), TALLY_EIO);
    assert_null(d);
}

/* ------------------------------------------------------------------ */
/* Bad-input fixtures: file, code, line, column (by hand). */

typedef struct bad_fixture {
    const char *file;
    int code;
    unsigned long line, column;
    const char *text;    /* expected offending text, or NULL */
    const char *message; /* a part of the message, or NULL */
} bad_fixture;

static const bad_fixture bad_fixtures[] = {
    /* "    name: a: b": the second ':' is column 12. */
    { "syntax.yaml", TALLY_EPARSE, 3, 12, NULL, "mapping values are not allowed" },
    { "unknown-top-key.yaml", TALLY_EPARSE, 2, 1, "indicator",
      "unknown key 'indicator' (did you mean 'indicators'?); expected one of levels, indicators" },
    /* "    agregate": the key is at column 5. */
    { "unknown-indicator-key.yaml", TALLY_EPARSE, 3, 5, "agregate",
      "(did you mean 'aggregate'?); expected one of id, name, unit, aggregate" },
    /* "    decimals: two": the value is at 4 + 10 + 1 = 15. */
    { "decimals-type.yaml", TALLY_EPARSE, 3, 15, "two", "expected an integer from 0 to 15" },
    { "decimals-range.yaml", TALLY_EINVAL, 3, 15, "16", "expected an integer from 0 to 15" },
    /* "    aggregate: average": 4 + 11 + 1 = 16. */
    { "bad-aggregate.yaml", TALLY_EINVAL, 3, 16, "average",
      "unknown aggregate 'average'; expected one of sum, mean, min, max, count" },
    /* The second "a" on line 4 at 8 + 1 = 9; the first is on line 2. */
    { "duplicate-id.yaml", TALLY_EEXIST, 4, 9, "a", "(first at line 2)" },
    { "duplicate-key.yaml", TALLY_EEXIST, 4, 5, "unit", "key 'unit' given twice (first at line 3)" },
    /* The mapping without an id starts at its first key, "name", column 5. */
    { "missing-id.yaml", TALLY_EPARSE, 3, 5, NULL, "without 'id'" },
    /* "    formula: poor / * pop": the formula starts at 4 + 9 + 1 = 14; '*'
     * is at offset 7 of it, so column 21. */
    { "formula-syntax.yaml", TALLY_EPARSE, 5, 21, "* pop", "at offset 7 of the formula" },
    /* "population" at offset 7 of "poor / population * 100": 14 + 7. */
    { "formula-unknown.yaml", TALLY_ENOTFOUND, 4, 21, "population * 100",
      "at offset 7 of the formula" },
    /* a -> b -> c -> a; a comes first in the file: its formula at 4:14. */
    { "formula-cycle.yaml", TALLY_ECYCLE, 4, 14, "b + base", "a -> b -> c -> a" },
    /* The 'aggregate' key of a formula indicator, line 4 column 5. */
    { "formula-aggregate.yaml", TALLY_EINVAL, 4, 5, "aggregate",
      "a formula indicator is computed after aggregation; remove 'aggregate'" },
    /* "    unit: &u 人": the anchor at 4 + 6 + 1 = 11. */
    { "alias.yaml", TALLY_EPARSE, 3, 11, NULL, "aliases are not supported" },
    /* design.yaml is 19 lines; checks: follows on line 20. */
    { "checks.yaml", TALLY_ENOTSUP, 20, 1, "checks",
      "'checks' is not yet supported by this version" },
    { "thresholds.yaml", TALLY_ENOTSUP, 20, 5, "thresholds",
      "'thresholds' is not yet supported by this version" },
    /* "    max: 0": 4 + 5 + 1 = 10. */
    { "min-max.yaml", TALLY_EINVAL, 4, 10, "0", "expected min <= max" },
};

static void test_definitions__bad_fixtures(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad_fixtures / sizeof *bad_fixtures; k++) {
        const bad_fixture *b = &bad_fixtures[k];
        const char *path = data_path(b->file);
        tally_definitions *d = (tally_definitions *)1;
        int rc = tally_definitions_from_file(&d, path);
        const tally_error *e = tally_error_last();
        if (rc != b->code || e->line != b->line || e->column != b->column)
            fprintf(stderr, "%s: got %d at %lu:%lu: %s\n", b->file, rc, e->line, e->column,
                    e->message);
        assert_int_equal(rc, b->code);
        assert_null(d);
        assert_string_equal(e->path, path);
        assert_int_equal(e->line, b->line);
        assert_int_equal(e->column, b->column);
        /* The message starts with path:line:col. */
        char prefix[1200];
        snprintf(prefix, sizeof prefix, "%s:%lu:%lu: ", path, b->line, b->column);
        assert_int_equal(strncmp(e->message, prefix, strlen(prefix)), 0);
        if (b->text)
            assert_string_equal(e->text, b->text);
        if (b->message)
            assert_contains(e->message, b->message);
    }
}

/* ------------------------------------------------------------------ */
/* Bad input from buffers. */

static void test_definitions__empty_and_wrong_shapes(void **state)
{
    (void)state;
    expect_error("", TALLY_EPARSE, 1, 1);
    expect_error("# only a comment\n", TALLY_EPARSE, 1, 1);
    expect_error("- a\n- b\n", TALLY_EPARSE, 1, 1);
    /* No indicators key: reported at the top mapping. */
    expect_error("levels: [a]\n", TALLY_EPARSE, 1, 1);
    /* "indicators: []": the list at column 13. */
    expect_error("indicators: []\n", TALLY_EINVAL, 1, 13);
    expect_error("indicators: x\n", TALLY_EPARSE, 1, 13);
    /* An indicator that is not a mapping: "  - a" at column 5. */
    expect_error("indicators:\n  - a\n", TALLY_EPARSE, 2, 5);
    /* A second document starts on line 3. */
    expect_error("indicators:\n  - id: a\n---\nlevels: [x]\n", TALLY_EPARSE, 3, 1);
}

static void test_definitions__wrong_types(void **state)
{
    (void)state;
    /* "    name: [a, b]": a sequence where a string goes, column 11. */
    const tally_error *e = expect_error("indicators:\n  - id: a\n    name: [a, b]\n",
                                        TALLY_EPARSE, 3, 11);
    assert_string_equal(e->text, "[a, b]");
    /* Null where a string goes: "    unit: " is 10 characters. */
    expect_error("indicators:\n  - id: a\n    unit: ~\n", TALLY_EPARSE, 3, 11);
    /* Quoted numbers and booleans are strings in YAML. "    decimals: "
     * is 14 characters. */
    expect_error("indicators:\n  - id: a\n    decimals: \"2\"\n", TALLY_EPARSE, 3, 15);
    expect_error("indicators:\n  - id: a\n    decimals: 2.0\n", TALLY_EPARSE, 3, 15);
    expect_error("indicators:\n  - id: a\n    decimals: -1\n", TALLY_EINVAL, 3, 15);
    /* "    exact: " is 11 characters; yes is a word in YAML 1.2. */
    e = expect_error("indicators:\n  - id: a\n    exact: yes\n", TALLY_EPARSE, 3, 12);
    assert_contains(e->message, "expected true or false");
    /* "    min: " is 9 characters. */
    expect_error("indicators:\n  - id: a\n    min: lots\n", TALLY_EPARSE, 3, 10);
    expect_error("indicators:\n  - id: a\n    max: .inf\n", TALLY_EPARSE, 3, 10);
    expect_error("indicators:\n  - id: a\n    max: 1e999\n", TALLY_ERANGE, 3, 10);
    /* "    over_time: " is 15, "    direction: " 15. */
    expect_error("indicators:\n  - id: a\n    over_time: monthly\n", TALLY_EINVAL, 3, 16);
    expect_error("indicators:\n  - id: a\n    direction: up\n", TALLY_EINVAL, 3, 16);
    /* A key that is not a scalar: "  - ? [x]" the key at column 7. */
    expect_error("indicators:\n  - ? [x]\n    : 1\n", TALLY_EPARSE, 2, 7);
}

static void test_definitions__bad_ids(void **state)
{
    (void)state;
    const tally_error *e = expect_error("indicators:\n  - id: max\n", TALLY_EINVAL, 2, 9);
    assert_contains(e->message, "a word of the formula language");
    expect_error("indicators:\n  - id: and\n", TALLY_EINVAL, 2, 9);
    expect_error("indicators:\n  - id: is_missing\n", TALLY_EINVAL, 2, 9);
    expect_error("indicators:\n  - id: 2x\n", TALLY_EINVAL, 2, 9);
    expect_error("indicators:\n  - id: poor-pop\n", TALLY_EINVAL, 2, 9);
    expect_error("indicators:\n  - id: 贫困\n", TALLY_EINVAL, 2, 9);
    expect_error("indicators:\n  - id: \"\"\n", TALLY_EINVAL, 2, 9);
    /* Words close to reserved ones are fine. */
    tally_definitions *d = load("indicators:\n  - id: maxi\n  - id: Max\n  - id: android\n");
    assert_int_equal(find(d, "Max"), 1);
    tally_definitions_free(d);
}

static void test_definitions__bad_levels(void **state)
{
    (void)state;
    /* "levels: [county, town, county]": the second county at column 24. */
    const tally_error *e =
        expect_error("levels: [county, town, county]\nindicators:\n  - id: a\n", TALLY_EEXIST,
                     1, 24);
    assert_contains(e->message, "level 'county' given twice");
    expect_error("levels: []\nindicators:\n  - id: a\n", TALLY_EINVAL, 1, 9);
    expect_error("levels: [a, \"\"]\nindicators:\n  - id: a\n", TALLY_EINVAL, 1, 13);
    expect_error("levels: county\nindicators:\n  - id: a\n", TALLY_EPARSE, 1, 9);
    expect_error("levels: [a, [b]]\nindicators:\n  - id: a\n", TALLY_EPARSE, 1, 13);
    /* Top-level duplicates too. */
    expect_error("levels: [a]\nlevels: [b]\nindicators:\n  - id: a\n", TALLY_EEXIST, 2, 1);
}

static void test_definitions__unsupported_top_level_keys(void **state)
{
    (void)state;
    const tally_error *e =
        expect_error("indicators:\n  - id: a\npoverty:\n  line: 3218\n", TALLY_ENOTSUP, 3, 1);
    assert_contains(e->message, "'poverty' is not yet supported by this version");
    expect_error("targets: []\nindicators:\n  - id: a\n", TALLY_ENOTSUP, 1, 1);
}

static void test_definitions__aliases_and_depth(void **state)
{
    (void)state;
    /* An alias without an anchor is refused where it is written:
     * "    unit: *u" column 11. */
    const tally_error *e =
        expect_error("indicators:\n  - id: a\n    unit: *u\n", TALLY_EPARSE, 3, 11);
    assert_contains(e->message, "aliases are not supported");
    /* A billion-laughs shape fails at its first anchor: "a: &a" column 4. */
    expect_error("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", TALLY_EPARSE, 1, 4);
    /* Nesting: the root mapping, indicators, the indicator mapping are 3
     * collections; the 62nd '[' would be the 65th. "    name: " is 10
     * characters, so that '[' is at column 10 + 62 = 72. */
    char yaml[512];
    int n = snprintf(yaml, sizeof yaml, "indicators:\n  - id: a\n    name: ");
    for (int i = 0; i < 70; i++)
        yaml[n++] = '[';
    for (int i = 0; i < 70; i++)
        yaml[n++] = ']';
    yaml[n++] = '\n';
    yaml[n] = '\0';
    expect_error(yaml, TALLY_ELIMIT, 3, 72);
}

static void test_definitions__yaml_syntax_errors(void **state)
{
    (void)state;
    /* An unclosed quote: libyaml reports the end of the stream (line 4,
     * column 1) while scanning the quoted scalar. */
    const tally_error *e =
        expect_error("indicators:\n  - id: a\n    unit: \"%\n", TALLY_EPARSE, 4, 1);
    assert_contains(e->message, "while scanning a quoted scalar at line 3, column 11");
    /* Invalid UTF-8: the byte 0xFF at "    name: " + 1 = column 11. */
    expect_error("indicators:\n  - id: a\n    name: \xff\n", TALLY_EPARSE, 3, 11);
    /* A tab cannot start a token: line 3 column 1. */
    expect_error("indicators:\n  - id: a\n\tname: x\n", TALLY_EPARSE, 3, 1);
}

static void test_definitions__positions_with_bom_crlf_and_utf8(void **state)
{
    (void)state;
    /* The BOM is not a column. */
    expect_error("\xEF\xBB\xBFindicator:\n", TALLY_EPARSE, 1, 1);
    /* CR LF line breaks count once. */
    expect_error("indicators:\r\n  - id: a\r\n  - id: a\r\n", TALLY_EEXIST, 3, 9);
    /* Columns count characters: "  - {name: 贫困人口, id: 2}" the id value
     * at 4 + 1 + 6 + 4 + 2 + 4 + 1 = 22. */
    expect_error("indicators:\n  - {name: 贫困人口, id: 2}\n", TALLY_EINVAL, 2, 22);
}

static void test_definitions__formula_error_columns(void **state)
{
    (void)state;
    static const char head[] = "indicators:\n  - id: poor\n  - id: pop\n  - id: rate\n";
    char yaml[512];
    /* Double quotes: the quote at 14, '*' at offset 7: 14 + 1 + 7 = 22. */
    snprintf(yaml, sizeof yaml, "%s    formula: \"poor / * pop\"\n", head);
    const tally_error *e = expect_error(yaml, TALLY_EPARSE, 5, 22);
    assert_contains(e->message, "at offset 7 of the formula");
    /* Single quotes, same place. */
    snprintf(yaml, sizeof yaml, "%s    formula: 'poor / * pop'\n", head);
    expect_error(yaml, TALLY_EPARSE, 5, 22);
    /* An escape is longer in the file than in the value: "\x20" takes
     * columns 19-22 for one byte, so '*' (offset 7) is at column 25. */
    snprintf(yaml, sizeof yaml, "%s    formula: \"poor\\x20/ * pop\"\n", head);
    expect_error(yaml, TALLY_EPARSE, 5, 25);
    /* A literal block: the value "poor +\n  (pop * )\n"; ')' at offset 16
     * is on the block's second line (line 7), whose 8 spaces hold the
     * block's indentation of 6 and 2 of content: column 8 + 7 + 1 = 16. */
    snprintf(yaml, sizeof yaml, "%s    formula: |\n      poor +\n        (pop * )\n", head);
    e = expect_error(yaml, TALLY_EPARSE, 7, 16);
    assert_contains(e->message, "at offset 16 of the formula");
    /* Folded and plain scalars over lines: '*' starts line 7 ("      * pop")
     * at column 7 (line 6 for the plain scalar). */
    snprintf(yaml, sizeof yaml, "%s    formula: >\n      poor /\n      * pop\n", head);
    e = expect_error(yaml, TALLY_EPARSE, 7, 7);
    assert_contains(e->message, "at offset 7 of the formula");
    snprintf(yaml, sizeof yaml, "%s    formula: poor /\n      * pop\n", head);
    expect_error(yaml, TALLY_EPARSE, 6, 7);
    /* A quoted scalar over lines: its start, the offset in the message. */
    snprintf(yaml, sizeof yaml, "%s    formula: 'poor /\n      * pop'\n", head);
    e = expect_error(yaml, TALLY_EPARSE, 5, 14);
    assert_contains(e->message, "at offset 7 of the formula");
    /* At the end of the formula: "poor /" ends at offset 6, 14 + 6 = 20. */
    snprintf(yaml, sizeof yaml, "%s    formula: poor /\n", head);
    expect_error(yaml, TALLY_EPARSE, 5, 20);
    /* An unknown function. */
    snprintf(yaml, sizeof yaml, "%s    formula: mean(poor)\n", head);
    expect_error(yaml, TALLY_ENOTFOUND, 5, 14);
    /* A formula over a later formula is fine; over itself is a cycle. */
    e = expect_error("indicators:\n  - id: a\n    formula: a + 1\n", TALLY_ECYCLE, 3, 14);
    assert_contains(e->message, "a -> a");
    /* over_time on a formula, after the formula key. */
    e = expect_error("indicators:\n  - id: x\n  - id: r\n    formula: x\n    over_time: stock\n",
                     TALLY_EINVAL, 5, 5);
    assert_contains(e->message, "remove 'over_time'");
}

static void test_definitions__cycle_is_named_from_its_first_member(void **state)
{
    (void)state;
    /* z (0) uses y; y (1) uses x; x (2) uses y: the cycle is y -> x -> y,
     * z is outside it. y's formula: line 5, column 14. */
    const tally_error *e = expect_error("indicators:\n"
                                        "  - id: z\n"
                                        "    formula: y\n"
                                        "  - id: y\n"
                                        "    formula: x * 2\n"
                                        "  - id: x\n"
                                        "    formula: y / 2\n",
                                        TALLY_ECYCLE, 5, 14);
    assert_contains(e->message, "formulas depend on each other: y -> x -> y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definitions__design_example_loads_from_file),
        cmocka_unit_test(test_definitions__design_example_loads_from_buffer),
        cmocka_unit_test(test_definitions__defaults),
        cmocka_unit_test(test_definitions__every_value_is_read),
        cmocka_unit_test(test_definitions__exact_default_rules),
        cmocka_unit_test(test_definitions__formulas_over_formulas_are_ordered),
        cmocka_unit_test(test_definitions__find_takes_a_length),
        cmocka_unit_test(test_definitions__find_among_many),
        cmocka_unit_test(test_definitions__out_of_range_accessors),
        cmocka_unit_test(test_definitions__bad_arguments),
        cmocka_unit_test(test_definitions__bad_fixtures),
        cmocka_unit_test(test_definitions__empty_and_wrong_shapes),
        cmocka_unit_test(test_definitions__wrong_types),
        cmocka_unit_test(test_definitions__bad_ids),
        cmocka_unit_test(test_definitions__bad_levels),
        cmocka_unit_test(test_definitions__unsupported_top_level_keys),
        cmocka_unit_test(test_definitions__aliases_and_depth),
        cmocka_unit_test(test_definitions__yaml_syntax_errors),
        cmocka_unit_test(test_definitions__positions_with_bom_crlf_and_utf8),
        cmocka_unit_test(test_definitions__formula_error_columns),
        cmocka_unit_test(test_definitions__cycle_is_named_from_its_first_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
