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
    /* The three of DESIGN.md and the four its rule names. */
    assert_int_equal(tally_definitions_indicator_count(d), 7);

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
    assert_int_equal(find(d, "registered_population"), 3);
    assert_int_equal(find(d, "removed_population"), 6);

    /* Thresholds: "      - { level" puts each '{' at column 9, on lines 21
     * and 22; strictly below 2.0, no overrides. */
    const tally_threshold *t = (const tally_threshold *)1;
    assert_int_equal(tally_definitions__thresholds(d, 0, &t), 0);
    assert_null(t);
    assert_int_equal(tally_definitions__thresholds(d, 2, &t), 2);
    assert_string_equal(t[0].level, "county");
    assert_int_equal(t[0].is_max, 1);
    assert_true(t[0].limit == 2.0);
    assert_int_equal(t[0].inclusive, 0);
    assert_int_equal(t[0].override_count, 0);
    assert_int_equal(t[0].line, 21);
    assert_int_equal(t[0].column, 9);
    assert_string_equal(t[1].level, "village");
    assert_int_equal(t[1].is_max, 1);
    assert_true(t[1].limit == 2.0);
    assert_int_equal(t[1].line, 22);

    /* Checks: ids on lines 30 and 34, column 9. */
    const tally_check_def *c;
    assert_int_equal(tally_definitions__checks(d, &c), 2);
    assert_string_equal(c[0].id, "exits_add_up");
    assert_int_equal(c[0].kind, TALLY_CHECK_RULE);
    assert_int_equal(c[0].severity, TALLY_SEVERITY_ERROR);
    assert_true(c[0].tol_absolute == 0.0 && c[0].tol_relative == 0.0);
    assert_string_equal(c[0].rule_text, "registered_population == exited_population + "
                                        "remaining_population + removed_population");
    assert_non_null(c[0].rule);
    assert_true(tally_expr__is_boolean(c[0].rule));
    assert_int_equal(tally_expr__var_count(c[0].rule), 4);
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(tally_expr__var(c[0].rule, k), 3 + k);
    assert_int_equal(c[0].missing_fail, 0);
    assert_int_equal(c[0].indicator_count, 0);
    assert_null(c[0].level);
    assert_int_equal(c[0].line, 30);
    assert_int_equal(c[0].column, 9);
    assert_string_equal(c[1].id, "villages_add_up");
    assert_int_equal(c[1].kind, TALLY_CHECK_HIERARCHY);
    assert_int_equal(c[1].severity, TALLY_SEVERITY_ERROR);
    assert_int_equal(c[1].indicator_count, 2);
    assert_int_equal(c[1].indicators[0], 0);
    assert_int_equal(c[1].indicators[1], 1);
    assert_true(c[1].tol_absolute == 0.0 && c[1].tol_relative == 0.001);
    assert_int_equal(c[1].children_complete, 0);
    assert_null(c[1].rule);
    assert_null(c[1].rule_text);
    assert_int_equal(c[1].line, 34);
    assert_int_equal(c[1].column, 9);

    /* No poverty lines, no targets. */
    double value = 7;
    assert_int_equal(tally_definitions__poverty_line(d, 2019, &value), TALLY_ENOTFOUND);
    assert_true(value == 7);
    assert_true(isnan(tally_definitions__monitoring_line(d)));
    const tally_target_def *g;
    assert_int_equal(tally_definitions__targets(d, &g), 0);
}

/* by: [cause, sex]: the total, then one slot per combination with margins,
 * cause varying fastest (by hand: (2+1) * (2+1) - 1 = 8 slots). */
static void test_definitions__categories_expand_into_slots(void **state)
{
    (void)state;
    tally_definitions *d = load("categories:\n"
                                "  - id: cause\n    name: 致贫原因\n    exclusive: true\n"
                                "    options: [illness, { id: disability, name: 因残 }]\n"
                                "  - { id: sex, options: [f, m] }\n"
                                "indicators:\n"
                                "  - { id: rural }\n"
                                "  - { id: poor, name: 贫困人口, unit: 人, over_time: stock, "
                                "decimals: 1, by: [cause, sex] }\n"
                                "  - { id: share, formula: \"poor[sex=f, cause=illness] / poor\" }\n");
    static const char *const ids[] = {
        "rural", "poor", "poor[cause=illness]", "poor[cause=disability]", "poor[sex=f]",
        "poor[cause=illness,sex=f]", "poor[cause=disability,sex=f]", "poor[sex=m]",
        "poor[cause=illness,sex=m]", "poor[cause=disability,sex=m]", "share"
    };
    assert_int_equal(tally_definitions_indicator_count(d), 11);
    for (size_t i = 0; i < 11; i++)
        assert_string_equal(tally_definitions_id(d, i), ids[i]);
    assert_int_equal(tally_definitions_category_count(d), 2);
    assert_string_equal(tally_definitions_category_name(d, 0), "致贫原因");
    assert_int_equal(tally_definitions_category_exclusive(d, 0), 1);
    assert_int_equal(tally_definitions_category_exclusive(d, 1), 0);
    assert_string_equal(tally_definitions_option_name(d, 0, 1), "因残");
    assert_string_equal(tally_definitions_option_name(d, 1, 0), "f");
    assert_null(tally_definitions_option_id(d, 1, 2));
    /* A slot is its total's kind of indicator, named with its options. */
    size_t s = find(d, "poor[sex=f,cause=disability]");
    assert_int_equal(s, 6);
    assert_string_equal(tally_definitions_name(d, s), "贫困人口（因残，f）");
    assert_string_equal(tally_definitions_unit(d, s), "人");
    assert_int_equal(tally_definitions_decimals(d, s), 1);
    assert_int_equal(tally_definitions_over_time(d, s), TALLY_OVER_TIME_STOCK);
    assert_int_equal(tally_definitions_base(d, s), 1);
    assert_int_equal(tally_definitions_option(d, s, 0), 1);
    assert_int_equal(tally_definitions_option(d, s, 1), 0);
    assert_int_equal(tally_definitions_option(d, 1, 0), -1);
    assert_int_equal(tally_definitions_option(d, 0, 0), -1);
    assert_int_equal(find(d, "poor[cause=*]"), 1);
    assert_int_equal(find(d, "poor[ cause = illness , sex = * ]"), 2);
    size_t i = 0;
    assert_int_equal(tally_definitions_slot(d, 1, 1, 1, &i), 0);
    assert_int_equal(i, 7);
    assert_int_equal(tally_definitions_slot(d, 1, 0, -1, &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(tally_definitions_slot(d, 0, 0, 0, &i), TALLY_ENOTFOUND);
    assert_int_equal(i, TALLY_NONE);
    assert_int_equal(tally_definitions_slot(d, 2, 0, 0, &i), TALLY_EINVAL);
    assert_int_equal(tally_definitions_slot(d, 1, 0, 2, &i), TALLY_EINVAL);
    assert_int_not_equal(tally_definitions_find(d, "poor[cause=illness,cause=illness]", 33, &i),
                         0);
    assert_int_not_equal(tally_definitions_find(d, "rural[cause=illness]", 20, &i), 0);
    tally_definitions_free(d);
}

static void test_definitions__category_errors(void **state)
{
    (void)state;
    expect_error("categories:\n  - { id: cause, options: [a, a] }\nindicators:\n  - id: p\n",
                 TALLY_EEXIST, 2, 31);
    expect_error("categories:\n  - { id: cause, options: [a] }\n  - { id: cause, options: [b] }\n"
                 "indicators:\n  - id: p\n",
                 TALLY_EEXIST, 3, 11);
    const tally_error *e = expect_error("categories:\n  - { id: cause, options: [a] }\n"
                                        "indicators:\n  - { id: p, by: [sex] }\n",
                                        TALLY_ENOTFOUND, 4, 19);
    assert_contains(e->message, "unknown category 'sex'; expected one of cause");
    expect_error("categories:\n  - { id: 1cause, options: [a] }\nindicators:\n  - id: p\n",
                 TALLY_EINVAL, 2, 11);
    e = expect_error("categories:\n  - { id: cause, options: [a] }\n"
                     "indicators:\n  - { id: p, by: [cause] }\n  - { id: q, formula: \"p[cause=b]\" }\n",
                     TALLY_ENOTFOUND, 5, 24);
    assert_contains(e->message, "unknown indicator 'p[cause=b]'");
}

static void test_definitions__ignore_columns(void **state)
{
    (void)state;
    tally_definitions *d = load("ignore_columns: [unit, remark]\nindicators:\n  - id: poor\n");
    assert_int_equal(tally_definitions_ignore_column_count(d), 2);
    assert_string_equal(tally_definitions_ignore_column(d, 0), "unit");
    assert_string_equal(tally_definitions_ignore_column(d, 1), "remark");
    assert_null(tally_definitions_ignore_column(d, 2));
    tally_definitions_free(d);
    d = load("indicators:\n  - id: poor\n");
    assert_int_equal(tally_definitions_ignore_column_count(d), 0);
    tally_definitions_free(d);
    expect_error("ignore_columns: unit\nindicators:\n  - id: poor\n", TALLY_EPARSE, 1, 17);
    expect_error("ignore_columns: [unit, '']\nindicators:\n  - id: poor\n", TALLY_EINVAL, 1, 24);
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

static void test_definitions__every_new_value_is_read(void **state)
{
    (void)state;
    tally_definitions *d = load("levels: [省, 市, 县, 乡, 村]\n"                         /* 1 */
                                "indicators:\n"                                          /* 2 */
                                "  - id: poor\n"                                         /* 3 */
                                "  - id: pop\n"                                          /* 4 */
                                "  - id: exited\n"                                       /* 5 */
                                "  - id: rate\n"                                         /* 6 */
                                "    formula: poor / pop * 100\n"                        /* 7 */
                                "    thresholds:\n"                                      /* 8 */
                                "      - level: 县\n"                                    /* 9 */
                                "        max: 2\n"                                       /* 10 */
                                "        inclusive: true\n"                              /* 11 */
                                "        overrides:\n"                                   /* 12 */
                                "          - { regions: [\"51\", \"52\", 6301], max: 3.0 }\n"
                                "          - regions: [\"65\"]\n"                        /* 14 */
                                "            max: 2.5\n"                                 /* 15 */
                                "      - { level: 村, min: -1.5, inclusive: false }\n"   /* 16 */
                                "  - id: share\n"                                        /* 17 */
                                "    thresholds: []\n"                                   /* 18 */
                                "poverty:\n"
                                "  lines: { 2019: 3218, 2020: 4000.5 }\n"
                                "  monitoring_line: 5000\n"
                                "checks:\n"
                                "  - id: sums\n"
                                "    hierarchy: [poor, pop]\n"
                                "    tolerance: { absolute: 2 }\n"
                                "    children: complete\n"
                                "    severity: warning\n"
                                "  - id: le\n"
                                "    rule: poor <= pop and not is_missing(pop)\n"
                                "    tolerance: 0.5\n"
                                "    missing: fail\n"
                                "  - id: reported\n"
                                "    required: [poor, rate]\n"
                                "    level: 村\n"
                                "  - id: spikes\n"
                                "    outliers: [exited]\n"
                                "    method: modified_z\n"
                                "    threshold: 5\n"
                                "    jump: { max_ratio: 3 }\n"
                                "  - { id: spikes2, outliers: [exited, poor], severity: warning }\n"
                                "  - { id: poor, rule: rate < 100 }\n" /* an indicator's id */
                                "  - { id: rel, hierarchy: [exited], tolerance: {relative: 0.01, "
                                "absolute: 1} }\n"
                                "targets:\n"
                                "  - { region: \"430600000000\", indicator: exited, year: 2019, "
                                "target: 90000 }\n"
                                "  - { region: \"430600000000\", indicator: exited, year: 2020, "
                                "target: 1.5 }\n"
                                "  - { region: \"430621000000\", indicator: exited, year: 2019, "
                                "target: 0 }\n"
                                "  - region: 430600000000\n"
                                "    indicator: poor\n"
                                "    year: 2019\n"
                                "    target: -3\n");
    size_t poor = 0, pop = 1, exited = 2, rate = 3, share = 4;
    assert_int_equal(find(d, "share"), share);

    const tally_threshold *t;
    assert_int_equal(tally_definitions__thresholds(d, poor, &t), 0);
    assert_int_equal(tally_definitions__thresholds(d, share, &t), 0);
    assert_int_equal(tally_definitions__thresholds(d, 99, &t), 0);
    assert_null(t);
    assert_int_equal(tally_definitions__thresholds(d, rate, &t), 2);
    /* The level pointer is the stored level name. */
    assert_ptr_equal(t[0].level, tally_definitions_level_name(d, 2));
    assert_int_equal(t[0].is_max, 1);
    assert_true(t[0].limit == 2.0);
    assert_int_equal(t[0].inclusive, 1);
    /* A block mapping starts at its first key: "      - level" column 9. */
    assert_int_equal(t[0].line, 9);
    assert_int_equal(t[0].column, 9);
    assert_int_equal(t[0].override_count, 2);
    assert_int_equal(t[0].overrides[0].prefix_count, 3);
    assert_string_equal(t[0].overrides[0].prefixes[0], "51");
    assert_string_equal(t[0].overrides[0].prefixes[1], "52");
    assert_string_equal(t[0].overrides[0].prefixes[2], "6301"); /* plain: kept as text */
    assert_true(t[0].overrides[0].limit == 3.0);
    assert_int_equal(t[0].overrides[1].prefix_count, 1);
    assert_string_equal(t[0].overrides[1].prefixes[0], "65");
    assert_true(t[0].overrides[1].limit == 2.5);
    assert_string_equal(t[1].level, "村");
    assert_int_equal(t[1].is_max, 0);
    assert_true(t[1].limit == -1.5);
    assert_int_equal(t[1].inclusive, 0);
    assert_int_equal(t[1].override_count, 0);
    assert_int_equal(t[1].line, 16);
    assert_int_equal(t[1].column, 9);

    double line = 0;
    assert_int_equal(tally_definitions__poverty_line(d, 2019, &line), 0);
    assert_true(line == 3218.0);
    assert_int_equal(tally_definitions__poverty_line(d, 2020, &line), 0);
    assert_true(line == 4000.5);
    assert_int_equal(tally_definitions__poverty_line(d, 2021, &line), TALLY_ENOTFOUND);
    assert_true(line == 4000.5);
    assert_true(tally_definitions__monitoring_line(d) == 5000.0);

    const tally_check_def *c;
    assert_int_equal(tally_definitions__checks(d, &c), 7);
    assert_string_equal(c[0].id, "sums");
    assert_int_equal(c[0].kind, TALLY_CHECK_HIERARCHY);
    assert_int_equal(c[0].severity, TALLY_SEVERITY_WARNING);
    assert_true(c[0].tol_absolute == 2.0 && c[0].tol_relative == 0.0);
    assert_int_equal(c[0].children_complete, 1);
    assert_int_equal(c[0].indicator_count, 2);
    assert_int_equal(c[0].indicators[0], poor);
    assert_int_equal(c[0].indicators[1], pop);
    assert_true(isnan(c[0].threshold) && isnan(c[0].jump_max_ratio));

    assert_string_equal(c[1].id, "le");
    assert_int_equal(c[1].kind, TALLY_CHECK_RULE);
    assert_int_equal(c[1].severity, TALLY_SEVERITY_ERROR);
    assert_true(c[1].tol_absolute == 0.5 && c[1].tol_relative == 0.0);
    assert_int_equal(c[1].missing_fail, 1);
    assert_string_equal(c[1].rule_text, "poor <= pop and not is_missing(pop)");
    /* The rule reads poor then pop: 1 when poor <= pop and pop is known. */
    assert_int_equal(tally_expr__var_count(c[1].rule), 2);
    double poor_v[3] = { 5, 7, 1 }, pop_v[3] = { 6, 6, NAN }, out[3];
    const double *cols[5] = { poor_v, pop_v, NULL, NULL, NULL };
    assert_int_equal(tally_expr__eval(c[1].rule, cols, 3, out), 0);
    assert_true(out[0] == 1.0 && out[1] == 0.0 && out[2] == 0.0);

    assert_string_equal(c[2].id, "reported");
    assert_int_equal(c[2].kind, TALLY_CHECK_COMPLETENESS);
    assert_string_equal(c[2].level, "村");
    assert_ptr_equal(c[2].level, tally_definitions_level_name(d, 4));
    assert_int_equal(c[2].indicator_count, 2);
    assert_int_equal(c[2].indicators[0], poor);
    assert_int_equal(c[2].indicators[1], rate); /* formulas may be required */

    assert_string_equal(c[3].id, "spikes");
    assert_int_equal(c[3].kind, TALLY_CHECK_OUTLIERS);
    assert_int_equal(c[3].indicator_count, 1);
    assert_int_equal(c[3].indicators[0], exited);
    assert_true(c[3].threshold == 5.0);
    assert_true(c[3].jump_max_ratio == 3.0);

    /* Outliers defaults: threshold 3.5, no jump. */
    assert_string_equal(c[4].id, "spikes2");
    assert_int_equal(c[4].severity, TALLY_SEVERITY_WARNING);
    assert_int_equal(c[4].indicator_count, 2);
    assert_int_equal(c[4].indicators[1], poor);
    assert_true(c[4].threshold == 3.5);
    assert_true(isnan(c[4].jump_max_ratio));

    /* A check may share an indicator's id; its rule reads rate. */
    assert_string_equal(c[5].id, "poor");
    assert_int_equal(c[5].missing_fail, 0);
    assert_int_equal(tally_expr__var(c[5].rule, 0), rate);
    assert_int_equal(c[6].kind, TALLY_CHECK_HIERARCHY);
    assert_true(c[6].tol_absolute == 1.0 && c[6].tol_relative == 0.01);
    assert_int_equal(c[6].children_complete, 0);

    const tally_target_def *g;
    assert_int_equal(tally_definitions__targets(d, &g), 4);
    assert_string_equal(g[0].region, "430600000000");
    assert_int_equal(g[0].indicator, exited);
    assert_int_equal(g[0].year, 2019);
    assert_true(g[0].target == 90000.0);
    assert_int_equal(g[1].year, 2020);
    assert_true(g[1].target == 1.5);
    assert_string_equal(g[2].region, "430621000000");
    assert_true(g[2].target == 0.0);
    assert_string_equal(g[3].region, "430600000000");
    assert_int_equal(g[3].indicator, poor);
    assert_true(g[3].target == -3.0);
    tally_definitions_free(d);
}

static void test_definitions__thresholds_fixture_loads(void **state)
{
    (void)state;
    /* DESIGN.md's indicators with their thresholds, without checks. */
    tally_definitions *d = NULL;
    assert_int_equal(tally_definitions_from_file(&d, data_path("thresholds.yaml")), 0);
    const tally_threshold *t;
    assert_int_equal(tally_definitions__thresholds(d, 2, &t), 2);
    assert_string_equal(t[0].level, "county");
    assert_string_equal(t[1].level, "village");
    assert_true(t[1].limit == 2.0 && t[1].is_max && !t[1].inclusive);
    const tally_check_def *c = (const tally_check_def *)1;
    assert_int_equal(tally_definitions__checks(d, &c), 0);
    assert_null(c);
    tally_definitions_free(d);
}

static void test_definitions__sections_in_any_order_and_default_levels(void **state)
{
    (void)state;
    /* Checks and targets before the indicators they name, levels after
     * the thresholds that use them; without levels, the default names. */
    tally_definitions *d = load("checks:\n"
                                "  - { id: c, required: [b], level: town }\n"
                                "targets:\n"
                                "  - { region: \"43\", indicator: b, year: 2019, target: 1 }\n"
                                "indicators:\n"
                                "  - id: b\n"
                                "    thresholds: [{ level: town, max: 1 }]\n"
                                "levels: [county, town]\n");
    const tally_threshold *t;
    assert_int_equal(tally_definitions__thresholds(d, 0, &t), 1);
    assert_string_equal(t[0].level, "town");
    tally_definitions_free(d);

    d = load("indicators:\n"
             "  - id: b\n"
             "    thresholds:\n"
             "      - { level: province, max: 1 }\n"
             "      - { level: city, max: 1 }\n"
             "      - { level: county, max: 1 }\n"
             "      - { level: town, max: 1 }\n"
             "      - { level: village, max: 1 }\n"
             "checks:\n"
             "  - { id: c, required: [b], level: village }\n"
             "poverty: {}\n");
    assert_int_equal(tally_definitions__thresholds(d, 0, &t), 5);
    assert_string_equal(t[4].level, "village");
    const tally_check_def *c;
    assert_int_equal(tally_definitions__checks(d, &c), 1);
    assert_string_equal(c[0].level, "village");
    /* An empty poverty mapping: no lines, no monitoring line. */
    double line;
    assert_int_equal(tally_definitions__poverty_line(d, 2019, &line), TALLY_ENOTFOUND);
    assert_true(isnan(tally_definitions__monitoring_line(d)));
    tally_definitions_free(d);

    /* NULL definitions: empty answers. */
    assert_int_equal(tally_definitions__checks(NULL, &c), 0);
    assert_null(c);
    const tally_target_def *g = (const tally_target_def *)1;
    assert_int_equal(tally_definitions__targets(NULL, &g), 0);
    assert_null(g);
    assert_int_equal(tally_definitions__thresholds(NULL, 0, &t), 0);
    assert_true(isnan(tally_definitions__monitoring_line(NULL)));
    assert_int_equal(tally_definitions__poverty_line(NULL, 2019, &line), TALLY_ENOTFOUND);
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
      "unknown key 'indicator' at the top level (did you mean 'indicators'?); expected one of "
      "levels, indicators, checks, poverty, targets" },
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
    /* DESIGN.md's checks over its three indicators only: the rule's first
     * id, at offset 0 of the rule, is unknown. "    rule: " is 10
     * characters: line 22, column 11. */
    { "checks.yaml", TALLY_ENOTFOUND, 22, 11, NULL,
      "unknown indicator 'registered_population'" },
    /* ---- thresholds ----
     * "      - { level: " is 6 + 2 + 2 + 7 = 17 characters: column 18. */
    { "threshold-level.yaml", TALLY_ENOTFOUND, 5, 18, "countyy",
      "unknown level 'countyy' (did you mean 'county'?); expected one of province, city, "
      "county, town, village (from 'levels')" },
    /* The second of max / min, "        min" on line 6: column 9. */
    { "threshold-max-min.yaml", TALLY_EPARSE, 6, 9, "min",
      "both 'max' and 'min' in a threshold ('max' at line 5); expected exactly one" },
    /* "          - { regions: [\"51\"], min": 10 + 2 + 2 = 14 before
     * "regions: " (9), '[' at 24, `["51"]` is 6 characters, ", " 2: 'min'
     * at 24 + 6 + 2 = 32. */
    { "override-side.yaml", TALLY_EPARSE, 7, 32, "min",
      "'min' in an override of a 'max' threshold; expected 'max'" },
    /* "          - regions: [" is 12 + 9 + 1 = 22 characters; "\"51\", "
     * takes 23-28: "5x" opens its quote at column 29. */
    { "override-prefix.yaml", TALLY_EINVAL, 7, 29, "5x",
      "'5x' is not a region code prefix; expected digits" },
    /* The third entry names county again: line 7, column 18. */
    { "threshold-duplicate.yaml", TALLY_EEXIST, 7, 18, "county",
      "a threshold for level 'county' given twice (first at line 5)" },
    /* ---- poverty ---- "  monitoringline" at column 3. */
    { "poverty-key.yaml", TALLY_EPARSE, 5, 3, "monitoringline",
      "unknown key 'monitoringline' in 'poverty' (did you mean 'monitoring_line'?); expected "
      "one of lines, monitoring_line" },
    /* "    20200" at column 5. */
    { "poverty-year.yaml", TALLY_EINVAL, 6, 5, "20200",
      "year 20200 out of range; expected a year from 1000 to 9999" },
    /* "  lines: { 2019: " is 2 + 7 + 2 + 6 = 17 characters: column 18. */
    { "poverty-negative.yaml", TALLY_EINVAL, 4, 18, "-3218",
      "poverty line -3218 out of range; expected a number > 0" },
    /* ---- checks ---- The second kind key, "    rule" on line 7. */
    { "check-two-kinds.yaml", TALLY_EPARSE, 7, 5, "rule",
      "a check with both 'hierarchy' (line 6) and 'rule'; expected exactly one of hierarchy, "
      "rule, required, outliers" },
    /* At the check: its mapping starts at "id", "  - id" column 5. */
    { "check-no-kind.yaml", TALLY_EPARSE, 4, 5, NULL,
      "check 'nothing' has no kind; expected one of hierarchy, rule, required, outliers" },
    /* The rule's value, "    rule: " + 1: column 11. */
    { "rule-not-boolean.yaml", TALLY_EINVAL, 6, 11, "a + b",
      "a rule must be a comparison or a logical expression" },
    /* "    hierarchy: [a, r]": '[' at 4 + 11 + 1 = 16, 'r' at 16 + 4 = 20. */
    { "hierarchy-formula.yaml", TALLY_EINVAL, 8, 20, "r", "'r' is a formula indicator" },
    { "outliers-tolerance.yaml", TALLY_EPARSE, 6, 5, "tolerance",
      "'tolerance' does not apply to an outliers check; expected one of id, outliers, "
      "severity, method, threshold, jump" },
    /* "    severity: " is 14 characters: column 15. */
    { "check-severity.yaml", TALLY_EINVAL, 6, 15, "warnings",
      "unknown severity 'warnings' (did you mean 'warning'?); expected one of error, warning" },
    /* The second "sums", "  - id: " + 1 = column 9 of line 6. */
    { "check-duplicate.yaml", TALLY_EEXIST, 6, 9, "sums",
      "check id 'sums' given twice (first at line 4); expected unique check ids" },
    /* ---- targets ---- The third entry's '{', "  - " + 1 = column 5. */
    { "target-duplicate.yaml", TALLY_EEXIST, 6, 5, NULL,
      "a target for region '430600000000', indicator 'exited', year 2019 given twice (first "
      "at line 4)" },
    /* "    indicator: " is 15 characters: column 16. */
    { "target-indicator.yaml", TALLY_ENOTFOUND, 5, 16, "exited_populaton",
      "unknown indicator 'exited_populaton' (did you mean 'exited_population'?)" },
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

/* Loads `head` followed by `line` expecting code at line:column. */
static const tally_error *expect_after(const char *head, const char *line, int code,
                                       unsigned long ln, unsigned long column)
{
    static char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s%s", head, line);
    return expect_error(yaml, code, ln, column);
}

static void test_definitions__bad_thresholds(void **state)
{
    (void)state;
    /* The entry is on line 4; "      - { " is 10 characters, so its keys
     * start at column 11 and the '{' is at 9. */
    static const char head[] = "indicators:\n  - id: r\n    thresholds:\n";
    const tally_error *e =
        expect_after(head, "      - { max: 2 }\n", TALLY_EPARSE, 4, 9);
    assert_contains(e->message, "a threshold without 'level'");
    e = expect_after(head, "      - { level: county }\n", TALLY_EPARSE, 4, 9);
    assert_contains(e->message, "a threshold without 'max' or 'min'; expected exactly one");
    expect_after(head, "      - county\n", TALLY_EPARSE, 4, 9);
    /* "level: county, " is 15 characters: the next key at 26. */
    e = expect_after(head, "      - { level: county, maxi: 2 }\n", TALLY_EPARSE, 4, 26);
    assert_contains(e->message, "unknown key 'maxi' in a threshold (did you mean 'max'?); "
                                "expected one of level, max, min, inclusive, overrides");
    /* "max: " 5: the value at 31. */
    expect_after(head, "      - { level: county, max: high }\n", TALLY_EPARSE, 4, 31);
    /* "max: 2, " 8: 'inclusive' at 34, its value at 34 + 11 = 45. */
    e = expect_after(head, "      - { level: county, max: 2, inclusive: yes }\n", TALLY_EPARSE, 4,
                     45);
    assert_contains(e->message, "expected true or false");
    /* 'overrides' at 34, its value at 45. */
    expect_after(head, "      - { level: county, max: 2, overrides: "
                       "{ regions: [\"51\"], max: 3 } }\n",
                 TALLY_EPARSE, 4, 45);
    /* "[{ " from 45: the override's '{' at 46, 'regions' at 48 and its
     * value at 48 + 9 = 57. */
    e = expect_after(head, "      - { level: county, max: 2, overrides: "
                           "[{ regions: [], max: 3 }] }\n",
                     TALLY_EINVAL, 4, 57);
    assert_contains(e->message, "an empty list of regions");
    expect_after(head, "      - { level: county, max: 2, overrides: "
                       "[{ regions: \"51\", max: 3 }] }\n",
                 TALLY_EPARSE, 4, 57);
    expect_after(head, "      - { level: county, max: 2, overrides: "
                       "[{ regions: [\"\"], max: 3 }] }\n",
                 TALLY_EINVAL, 4, 58);
    expect_after(head, "      - { level: county, max: 2, overrides: [{ regions: [~], max: 3 }] }\n",
                 TALLY_EPARSE, 4, 58);
    e = expect_after(head, "      - { level: county, max: 2, overrides: [{ max: 3 }] }\n",
                     TALLY_EPARSE, 4, 46);
    assert_contains(e->message, "an override without 'regions'");
    e = expect_after(head, "      - { level: county, max: 2, overrides: "
                           "[{ regions: [\"51\"] }] }\n",
                     TALLY_EPARSE, 4, 46);
    assert_contains(e->message, "an override without 'max' or 'min'");
    /* The wrong side is named even next to the right one: 'regions: ["51"], '
     * is 17 characters from 48, "max: 3, " 8 more: 'min' at 73. */
    e = expect_after(head,
                     "      - { level: county, max: 2, overrides: [{ regions: [\"51\"], max: 3, "
                     "min: 1 }] }\n",
                     TALLY_EPARSE, 4, 73);
    assert_contains(e->message, "'min' in an override of a 'max' threshold");
    /* A min threshold takes min overrides: 'max' at 48 + 17 = 65. */
    e = expect_after(head,
                     "      - { level: county, min: 2, overrides: "
                     "[{ regions: [\"51\"], max: 3 }] }\n",
                     TALLY_EPARSE, 4, 65);
    assert_contains(e->message, "'max' in an override of a 'min' threshold; expected 'min'");
    /* Not a list: "    thresholds: " is 16 characters. */
    expect_error("indicators:\n  - id: r\n    thresholds: { level: county, max: 2 }\n",
                 TALLY_EPARSE, 3, 17);
    /* Levels come from 'levels:' when there is one: "    thresholds: [{ level: "
     * is 26 characters. */
    e = expect_error("levels: [省, 县]\nindicators:\n  - id: r\n"
                     "    thresholds: [{ level: county, max: 2 }]\n",
                     TALLY_ENOTFOUND, 4, 27);
    assert_contains(e->message, "unknown level 'county'; expected one of 省, 县 (from 'levels')");
    e = expect_error("indicators:\n  - id: r\n    thresholds: [{ level: 县, max: 2 }]\n",
                     TALLY_ENOTFOUND, 3, 27);
    assert_contains(e->message, "expected one of province, city, county, town, village (the "
                                "default levels)");
    /* Thresholds belong to indicators, not to the top level. */
    e = expect_error("indicators:\n  - id: r\nthresholds: []\n", TALLY_EPARSE, 3, 1);
    assert_contains(e->message, "unknown key 'thresholds' at the top level");
}

static void test_definitions__bad_poverty(void **state)
{
    (void)state;
    static const char head[] = "indicators:\n  - id: a\npoverty:\n";
    /* "poverty: " is 9 characters. */
    expect_error("indicators:\n  - id: a\npoverty: 3218\n", TALLY_EPARSE, 3, 10);
    /* "  lines: " is 9 characters, "  lines: { " 11. */
    expect_after(head, "  lines: [3218]\n", TALLY_EPARSE, 4, 10);
    const tally_error *e = expect_after(head, "  lines: { 2019.0: 3218 }\n", TALLY_EPARSE, 4, 12);
    assert_contains(e->message, "'2019.0' is not a year");
    /* A quoted year is a string in YAML. */
    expect_after(head, "  lines: { \"2019\": 3218 }\n", TALLY_EPARSE, 4, 12);
    expect_after(head, "  lines: { 999: 3218 }\n", TALLY_EINVAL, 4, 12);
    /* "2019: 3218, " and "2020: 1, " are 12 and 9 characters: the second
     * 2019 at 12 + 12 + 9 = 33. */
    e = expect_after(head, "  lines: { 2019: 3218, 2020: 1, 2019: 3300 }\n", TALLY_EEXIST, 4, 33);
    assert_contains(e->message, "a poverty line for 2019 given twice (first at line 4)");
    /* Years compare as numbers. */
    e = expect_after(head, "  lines:\n    2019: 1\n    02019: 2\n", TALLY_EEXIST, 6, 5);
    assert_contains(e->message, "(first at line 5)");
    /* "  lines: { 2019: " is 17 characters. */
    expect_after(head, "  lines: { 2019: 0 }\n", TALLY_EINVAL, 4, 18);
    expect_after(head, "  lines: { 2019: lots }\n", TALLY_EPARSE, 4, 18);
    /* "  monitoring_line: " is 19 characters. */
    e = expect_after(head, "  monitoring_line: 0\n", TALLY_EINVAL, 4, 20);
    assert_contains(e->message, "monitoring_line 0 out of range; expected a number > 0");
    expect_after(head, "  monitoring_line: -5\n", TALLY_EINVAL, 4, 20);
    expect_after(head, "  lines: {}\n  lines: {}\n", TALLY_EEXIST, 5, 3);
}

static void test_definitions__bad_checks(void **state)
{
    (void)state;
    /* The check is on line 7; "  - { id: c, " is 13 characters, so the
     * second key starts at column 14. */
    static const char head[] = "indicators:\n  - id: a\n  - id: b\n  - id: r\n"
                               "    formula: a / b\nchecks:\n";
    expect_error("indicators:\n  - id: a\nchecks: x\n", TALLY_EPARSE, 3, 9);
    expect_after(head, "  - x\n", TALLY_EPARSE, 7, 5);
    const tally_error *e = expect_after(head, "  - hierarchy: [a]\n", TALLY_EPARSE, 7, 5);
    assert_contains(e->message, "a check without 'id'");
    /* Ids follow the indicators' rules: "  - { id: " is 10 characters. */
    expect_after(head, "  - { id: 2c, hierarchy: [a] }\n", TALLY_EINVAL, 7, 11);
    expect_after(head, "  - { id: max, hierarchy: [a] }\n", TALLY_EINVAL, 7, 11);
    /* "hierarchy: " is 11 characters: the list at 25. */
    e = expect_after(head, "  - { id: c, hierarchy: [] }\n", TALLY_EINVAL, 7, 25);
    assert_contains(e->message, "an empty list for 'hierarchy'");
    expect_after(head, "  - { id: c, hierarchy: a }\n", TALLY_EPARSE, 7, 25);
    /* "[a, b, a]" from 25: the second a at 32. */
    e = expect_after(head, "  - { id: c, hierarchy: [a, b, a] }\n", TALLY_EEXIST, 7, 32);
    assert_contains(e->message, "indicator 'a' listed twice (first at line 7)");
    e = expect_after(head, "  - { id: c, outliers: [a, pop] }\n", TALLY_ENOTFOUND, 7, 28);
    assert_contains(e->message, "unknown indicator 'pop'; expected an id from 'indicators'");
    e = expect_after(head, "  - { id: c, required: [a] }\n", TALLY_EPARSE, 7, 5);
    assert_contains(e->message, "a completeness check without 'level'");
    /* "required: [a], " is 15 characters: 'level' at 29, its value at 36. */
    e = expect_after(head, "  - { id: c, required: [a], level: villag }\n", TALLY_ENOTFOUND, 7,
                     36);
    assert_contains(e->message, "unknown level 'villag' (did you mean 'village'?)");
    /* "outliers: [a], " is 15: the next key at 29. */
    expect_after(head, "  - { id: c, outliers: [a], method: mad }\n", TALLY_EINVAL, 7, 37);
    e = expect_after(head, "  - { id: c, outliers: [a], threshold: 0 }\n", TALLY_EINVAL, 7, 40);
    assert_contains(e->message, "threshold 0 out of range; expected a number > 0");
    expect_after(head, "  - { id: c, outliers: [a], severity: fatal }\n", TALLY_EINVAL, 7, 39);
    /* "jump: { " from 29: 'max_ratio' at 37, its value at 48. */
    e = expect_after(head, "  - { id: c, outliers: [a], jump: { max_ratio: 1 } }\n", TALLY_EINVAL,
                     7, 48);
    assert_contains(e->message, "max_ratio 1 out of range; expected a number > 1");
    e = expect_after(head, "  - { id: c, outliers: [a], jump: {} }\n", TALLY_EPARSE, 7, 35);
    assert_contains(e->message, "'jump' without 'max_ratio'");
    expect_after(head, "  - { id: c, outliers: [a], jump: { ratio: 3 } }\n", TALLY_EPARSE, 7,
                 37);
    expect_after(head, "  - { id: c, outliers: [a], jump: 3 }\n", TALLY_EPARSE, 7, 35);
    /* "rule: a < b, " is 13 characters: the next key at 27, a value after
     * "tolerance: " at 38. */
    e = expect_after(head, "  - { id: c, rule: a < b, tolerance: -1 }\n", TALLY_EINVAL, 7, 38);
    assert_contains(e->message, "tolerance -1 out of range; expected a number >= 0");
    e = expect_after(head, "  - { id: c, rule: a < b, tolerance: {} }\n", TALLY_EPARSE, 7, 38);
    assert_contains(e->message, "an empty tolerance");
    expect_after(head, "  - { id: c, rule: a < b, tolerance: [1] }\n", TALLY_EPARSE, 7, 38);
    expect_after(head, "  - { id: c, rule: a < b, tolerance: { relative: -0.1 } }\n",
                 TALLY_EINVAL, 7, 50);
    expect_after(head, "  - { id: c, rule: a < b, tolerance: { absolute: -0.1 } }\n",
                 TALLY_EINVAL, 7, 50);
    e = expect_after(head, "  - { id: c, rule: a < b, tolerance: { relativ: 0.1 } }\n",
                     TALLY_EPARSE, 7, 40);
    assert_contains(e->message, "(did you mean 'relative'?)");
    e = expect_after(head, "  - { id: c, rule: a < b, tolerence: 1 }\n", TALLY_EPARSE, 7, 27);
    assert_contains(e->message, "unknown key 'tolerence' in a check (did you mean 'tolerance'?)");
    expect_after(head, "  - { id: c, rule: a < b, rule: a > b }\n", TALLY_EEXIST, 7, 27);
    expect_after(head, "  - { id: c, rule: a < b, missing: zero }\n", TALLY_EINVAL, 7, 36);
    /* "hierarchy: [a], " is 16 characters: the next key at 30. */
    expect_after(head, "  - { id: c, hierarchy: [a], children: all }\n", TALLY_EINVAL, 7, 40);
    /* Keys of other kinds, each naming the kind and its keys. */
    e = expect_after(head, "  - { id: c, rule: a < b, children: complete }\n", TALLY_EPARSE, 7,
                     27);
    assert_contains(e->message, "'children' does not apply to a rule check; expected one of id, "
                                "rule, severity, tolerance, missing");
    e = expect_after(head, "  - { id: c, hierarchy: [a], missing: fail }\n", TALLY_EPARSE, 7, 30);
    assert_contains(e->message, "'missing' does not apply to a hierarchy check; expected one of "
                                "id, hierarchy, severity, tolerance, children");
    /* "level: town, " is 13 characters: 'tolerance' at 29 + 13 = 42. */
    e = expect_after(head, "  - { id: c, required: [a], level: town, tolerance: 1 }\n",
                     TALLY_EPARSE, 7, 42);
    assert_contains(e->message, "'tolerance' does not apply to a completeness check "
                                "('required'); expected one of id, required, severity, level");
    e = expect_after(head, "  - { id: c, hierarchy: [a], threshold: 3 }\n", TALLY_EPARSE, 7, 30);
    assert_contains(e->message, "does not apply to a hierarchy check");
    /* Three kinds: the second is named. */
    e = expect_after(head, "  - { id: c, outliers: [a], required: [a], rule: a < b }\n",
                     TALLY_EPARSE, 7, 29);
    assert_contains(e->message, "a check with both 'outliers' (line 7) and 'required'");
    /* Rules: "rule: " puts the value at 20. An unknown id at offset 5. */
    e = expect_after(head, "  - { id: c, rule: a <= popul }\n", TALLY_ENOTFOUND, 7, 25);
    assert_contains(e->message, "unknown indicator 'popul' at offset 5 of the rule");
    assert_string_equal(e->text, "popul");
    /* A misspelt id gets a suggestion; an unknown function does not. */
    e = expect_after(head, "  - { id: c, rule: a <= bb }\n", TALLY_ENOTFOUND, 7, 25);
    assert_contains(e->message, "unknown indicator 'bb' (did you mean 'b'?) at offset 5 of "
                                "the rule");
    e = expect_after(head, "  - { id: c, rule: a <= bb (a) }\n", TALLY_ENOTFOUND, 7, 25);
    assert_contains(e->message, "unknown function 'bb'");
    assert_null(strstr(e->message, "did you mean"));
    /* Quoted: '*' at offset 4, after the quote at 20: 25. */
    e = expect_after(head, "  - { id: c, rule: \"a < * b\" }\n", TALLY_EPARSE, 7, 25);
    assert_contains(e->message, "at offset 4 of the rule");
    /* Over two lines: the value is "a <= b +" (the break folds to a
     * space), which ends too early, at offset 8: just after the '+' of
     * "      b +" (column 9) on line 9, column 10. */
    e = expect_after(head, "  - id: c\n    rule: a <=\n      b +\n", TALLY_EPARSE, 9, 10);
    assert_contains(e->message, "at offset 8 of the rule");
    /* Not boolean at the outermost operation (quoted: a flow mapping would
     * split a plain scalar at its commas). */
    e = expect_after(head, "  - { id: c, rule: \"if(a > b, 1, 0)\" }\n", TALLY_EINVAL, 7, 20);
    assert_contains(e->message, "a rule must be a comparison or a logical expression");
    expect_after(head, "  - { id: c, rule: r }\n", TALLY_EINVAL, 7, 20);
    expect_after(head, "  - { id: c, rule: ~ }\n", TALLY_EPARSE, 7, 20);
    /* Booleans of any kind, over formulas too, are rules. */
    tally_definitions *d = load("indicators:\n  - id: a\n  - id: r\n    formula: a * 2\n"
                                "checks:\n"
                                "  - { id: c1, rule: not a }\n"
                                "  - { id: c2, rule: r > 1 or is_missing(a) }\n"
                                "  - { id: c3, rule: is_missing(r) }\n");
    const tally_check_def *c;
    assert_int_equal(tally_definitions__checks(d, &c), 3);
    assert_int_equal(tally_expr__var(c[1].rule, 0), 1);
    tally_definitions_free(d);
}

static void test_definitions__bad_targets(void **state)
{
    (void)state;
    /* The target is on line 4; "  - { region: " is 14 characters. */
    static const char head[] = "indicators:\n  - id: x\ntargets:\n";
    expect_error("indicators:\n  - id: x\ntargets: {}\n", TALLY_EPARSE, 3, 10);
    expect_after(head, "  - x\n", TALLY_EPARSE, 4, 5);
    const tally_error *e =
        expect_after(head, "  - { region: \"43\", indicator: x, year: 2019 }\n", TALLY_EPARSE, 4,
                     5);
    assert_contains(e->message, "a target without 'target'");
    expect_after(head, "  - { region: \"\", indicator: x, year: 2019, target: 1 }\n",
                 TALLY_EINVAL, 4, 15);
    expect_after(head, "  - { region: [43], indicator: x, year: 2019, target: 1 }\n",
                 TALLY_EPARSE, 4, 15);
    /* 'region: "43", ' is 14 characters: 'indicator' at 21; "indicator:
     * x, " 14 more: 'year' at 35, its value at 41. */
    expect_after(head, "  - { region: \"43\", indicator: x, year: 19, target: 1 }\n",
                 TALLY_EINVAL, 4, 41);
    expect_after(head, "  - { region: \"43\", indicator: x, year: 2019-01, target: 1 }\n",
                 TALLY_EPARSE, 4, 41);
    /* "year: 2019, " is 12: 'target' at 47, its value at 55. */
    expect_after(head, "  - { region: \"43\", indicator: x, year: 2019, target: lots }\n",
                 TALLY_EPARSE, 4, 55);
    /* "target: 1, " is 11: the next key at 58. */
    e = expect_after(head, "  - { region: \"43\", indicator: x, year: 2019, target: 1, goal: 2 }\n",
                     TALLY_EPARSE, 4, 58);
    assert_contains(e->message, "unknown key 'goal' in a target");
    /* A plain 43 is the text "43": the same region. */
    e = expect_after(head,
                     "  - { region: \"43\", indicator: x, year: 2019, target: 1 }\n"
                     "  - { region: 43, indicator: x, year: 2019, target: 2 }\n",
                     TALLY_EEXIST, 5, 5);
    assert_contains(e->message, "(first at line 4)");
    /* Another year, region or indicator is another target. */
    tally_definitions *d = load("indicators:\n  - id: x\n  - id: y\ntargets:\n"
                                "  - { region: \"43\", indicator: x, year: 2019, target: 1 }\n"
                                "  - { region: \"43\", indicator: x, year: 2020, target: 1 }\n"
                                "  - { region: \"4306\", indicator: x, year: 2019, target: 1 }\n"
                                "  - { region: \"43\", indicator: y, year: 2019, target: 1 }\n");
    const tally_target_def *g;
    assert_int_equal(tally_definitions__targets(d, &g), 4);
    assert_int_equal(g[3].indicator, 1);
    /* "  - { " puts each '{' at column 5. */
    assert_int_equal(g[3].line, 8);
    assert_int_equal(g[3].column, 5);
    tally_definitions_free(d);
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
    /* Without a final line break, libyaml's mark for the end is on a line
     * that does not exist (4:1); the end of the input is "x, y" + 1 on
     * line 3: column 5. */
    e = expect_error("indicators:\n  - id: a\nx, y", TALLY_EPARSE, 3, 5);
    assert_contains(e->message, "could not find expected ':'");
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
        cmocka_unit_test(test_definitions__ignore_columns),
        cmocka_unit_test(test_definitions__categories_expand_into_slots),
        cmocka_unit_test(test_definitions__category_errors),
        cmocka_unit_test(test_definitions__design_example_loads_from_buffer),
        cmocka_unit_test(test_definitions__defaults),
        cmocka_unit_test(test_definitions__every_value_is_read),
        cmocka_unit_test(test_definitions__exact_default_rules),
        cmocka_unit_test(test_definitions__every_new_value_is_read),
        cmocka_unit_test(test_definitions__thresholds_fixture_loads),
        cmocka_unit_test(test_definitions__sections_in_any_order_and_default_levels),
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
        cmocka_unit_test(test_definitions__bad_thresholds),
        cmocka_unit_test(test_definitions__bad_poverty),
        cmocka_unit_test(test_definitions__bad_checks),
        cmocka_unit_test(test_definitions__bad_targets),
        cmocka_unit_test(test_definitions__aliases_and_depth),
        cmocka_unit_test(test_definitions__yaml_syntax_errors),
        cmocka_unit_test(test_definitions__positions_with_bom_crlf_and_utf8),
        cmocka_unit_test(test_definitions__formula_error_columns),
        cmocka_unit_test(test_definitions__cycle_is_named_from_its_first_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
