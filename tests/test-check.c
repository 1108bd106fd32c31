/* Consistency checks: every kind of check on hand-computed cases —
 * tolerance edges, missing operands, rounding edges (a value exactly half a
 * unit off), intervals of rounded operands, truncation, MAD = 0 — and the
 * findings object: order, accessors, summaries, CSV and JSON output. Every
 * expected number and message is worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixtures.h"
#include "check.h"
#include "expr.h"

#define assert_near(x, y) \
    assert_true(fabs((x) - (double)(y)) <= 1e-9 * fmax(1.0, fabs((double)(y))))

static void add(fixture *f, size_t node, const char *ind, const char *period, double v)
{
    if (tally_dataset_add(f->ds, tally_hierarchy_code(f->h, node), ind, period, v)) {
        fprintf(stderr, "add: %s\n", tally_error_last()->message);
        abort();
    }
}

static size_t ind(const fixture *f, const char *id)
{
    size_t i;
    assert_int_equal(tally_definitions_find(f->d, id, strlen(id), &i), 0);
    return i;
}

/* Runs the checks; periods is a comma-separated list or NULL. */
static tally_findings *run(const fixture *f, const char *periods, int prefer)
{
    const char *list[8];
    size_t n = 0;
    char buf[128];
    if (periods) {
        snprintf(buf, sizeof buf, "%s", periods);
        for (char *tok = strtok(buf, ","); tok && n < 8; tok = strtok(NULL, ","))
            list[n++] = tok;
    }
    tally_check_options opts = TALLY_CHECK_OPTIONS_INIT;
    opts.periods = n ? list : NULL;
    opts.period_count = n;
    opts.prefer = prefer;
    tally_findings *F = NULL;
    if (tally_check_run(&F, f->ds, &opts)) {
        fprintf(stderr, "check: %s\n", tally_error_last()->message);
        abort();
    }
    return F;
}

/* The finding of (check, node, indicator, period), or TALLY_NONE. */
static size_t find(const tally_findings *F, const char *check, size_t node, size_t indicator,
                   const char *period)
{
    for (size_t i = 0; i < tally_findings_count(F); i++)
        if (!strcmp(tally_findings_check(F, i), check) && tally_findings_node(F, i) == node &&
            tally_findings_indicator(F, i) == indicator &&
            !strcmp(tally_findings_period(F, i), period))
            return i;
    return TALLY_NONE;
}

static size_t count_of(const tally_findings *F, const char *check)
{
    size_t n = 0;
    for (size_t i = 0; i < tally_findings_count(F); i++)
        n += !strcmp(tally_findings_check(F, i), check);
    return n;
}

static void summary_is(const tally_findings *F, const char *check, size_t items, size_t passes,
                       size_t warnings, size_t fails, size_t missing)
{
    for (size_t k = 0; k < tally_findings_check_count(F); k++) {
        tally_check_summary s;
        assert_int_equal(tally_findings_summary(F, k, &s), 0);
        if (strcmp(s.check, check))
            continue;
        assert_int_equal(s.items, items);
        assert_int_equal(s.passes, passes);
        assert_int_equal(s.warnings, warnings);
        assert_int_equal(s.fails, fails);
        assert_int_equal(s.missing, missing);
        assert_int_equal(s.items, s.passes + s.warnings + s.fails + s.missing);
        return;
    }
    fail_msg("no summary for check %s", check);
}

/* A finding with all its fields. */
static void finding_is(const tally_findings *F, size_t i, int kind, int severity, double expected,
                       double actual, const char *message)
{
    assert_int_not_equal(i, TALLY_NONE);
    assert_int_equal(tally_findings_kind(F, i), kind);
    assert_int_equal(tally_findings_severity(F, i), severity);
    if (isnan(expected))
        assert_true(isnan(tally_findings_expected(F, i)));
    else
        assert_near(tally_findings_expected(F, i), expected);
    if (isnan(actual))
        assert_true(isnan(tally_findings_actual(F, i)));
    else
        assert_near(tally_findings_actual(F, i), actual);
    if (!isnan(expected) && !isnan(actual))
        assert_near(tally_findings_difference(F, i), actual - expected);
    assert_string_equal(tally_findings_message(F, i), message);
}

/* ---- hierarchy ---- */

static const char defs_hierarchy[] =
    "indicators:\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: add_up\n"
    "    hierarchy: [poor]\n"
    "    tolerance: { absolute: 2, relative: 0.01 }\n";

static void test_check__hierarchy_tolerance_edges(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_hierarchy);
    /* 2019-01: 街道A 303 against 100 + 200: tolerance max(2, 0.01 * 300) = 3,
     * difference 3: passes on the edge. 镇B 12 against 10: tolerance
     * max(2, 0.1) = 2, difference 2: passes on the edge. */
    add(&f, V1, "poor", "2019-01", 100);
    add(&f, V2, "poor", "2019-01", 200);
    add(&f, TOWN_A, "poor", "2019-01", 303);
    add(&f, V3, "poor", "2019-01", 10);
    add(&f, TOWN_B, "poor", "2019-01", 12);
    /* 2019-02: one more each: 4 > 3 and 3 > 2 fail. */
    add(&f, V1, "poor", "2019-02", 100);
    add(&f, V2, "poor", "2019-02", 200);
    add(&f, TOWN_A, "poor", "2019-02", 304);
    add(&f, V3, "poor", "2019-02", 10);
    add(&f, TOWN_B, "poor", "2019-02", 13);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    assert_int_equal(tally_findings_error_count(F), 2);
    /* Pre-order: 街道A (3) before 镇B (7). */
    assert_int_equal(tally_findings_node(F, 0), TOWN_A);
    finding_is(F, 0, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, 300, 304,
               "街道A 2019-02: 贫困人口 reported 304 but the sum of the 2 regions below it that "
               "reported is 300 (difference 4, tolerance 3)");
    assert_string_equal(tally_findings_check(F, 0), "add_up");
    assert_string_equal(tally_findings_period(F, 0), "2019-02");
    assert_int_equal(tally_findings_indicator(F, 0), 0);
    assert_int_equal(tally_findings_decimals(F, 0), 0);
    finding_is(F, 1, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, 10, 13,
               "镇B 2019-02: 贫困人口 reported 13 but the one region below it that reported has "
               "10 (difference 3, tolerance 2)");
    /* Compared: the two towns in two months. Villages have nothing below. */
    summary_is(F, "add_up", 4, 2, 0, 2, 0);
    assert_int_equal(tally_findings_check_count(F), 1);
    tally_findings_free(F);
    fixture_free(&f);
}

static const char defs_complete[] =
    "indicators:\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: add_up\n"
    "    hierarchy: [poor]\n"
    "    children: complete\n";

static void test_check__hierarchy_missing_children(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_complete);
    /* 2019-01: 街道A 100 = 村1 100; 村2 reported nothing. */
    add(&f, V1, "poor", "2019-01", 100);
    add(&f, TOWN_A, "poor", "2019-01", 100);
    /* 2019-02: 岳阳楼区 files 50; 街道A does not file, so its value is
     * computed from 村1 and the walk goes down to 村2. */
    add(&f, V1, "poor", "2019-02", 50);
    add(&f, YLQ, "poor", "2019-02", 50);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    finding_is(F, 0, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, NAN, NAN,
               "村2 2019-01: 贫困人口 not reported here or below, so 街道A's reported 100 cannot "
               "be checked against all of its regions");
    assert_int_equal(tally_findings_node(F, 0), V2);
    finding_is(F, 1, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, NAN, NAN,
               "村2 2019-02: 贫困人口 not reported here or below, so 岳阳楼区's reported 50 "
               "cannot be checked against all of its regions");
    summary_is(F, "add_up", 4, 2, 0, 2, 0);
    tally_findings_free(F);
    fixture_free(&f);

    /* The same data with `children: partial`: the missing children are
     * counted as missing, and nothing is found. */
    fixture_load(&f, defs_hierarchy);
    add(&f, V1, "poor", "2019-01", 100);
    add(&f, TOWN_A, "poor", "2019-01", 100);
    add(&f, V1, "poor", "2019-02", 50);
    add(&f, YLQ, "poor", "2019-02", 50);
    /* 2019-03: 街道A 100 against 村1's 40 alone: compared anyway, and the
     * message says a region below has no value. */
    add(&f, V1, "poor", "2019-03", 40);
    add(&f, TOWN_A, "poor", "2019-03", 100);
    F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 1);
    finding_is(F, 0, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, 40, 100,
               "街道A 2019-03: 贫困人口 reported 100 but the one region below it that reported "
               "has 40 (difference 60, tolerance 2); 1 region below has no value");
    summary_is(F, "add_up", 6, 2, 0, 1, 3);
    tally_findings_free(F);
    fixture_free(&f);
}

static const char defs_rounded_sum[] =
    "indicators:\n"
    "  - id: amount\n"
    "    name: 金额\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "checks:\n"
    "  - id: add_up\n"
    "    hierarchy: [amount]\n";

static void test_check__hierarchy_rounded_values(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_rounded_sum);
    /* Values printed with one decimal stand for +-0.05 each: 1.2 + 2.4 is
     * 3.6 +- 0.1 and the town's 3.7 is +- 0.05, so a difference up to 0.15
     * is rounding: 3.7 is a warning, 3.8 (difference 0.2) an error. */
    add(&f, V1, "amount", "2019-01", 1.2);
    add(&f, V2, "amount", "2019-01", 2.4);
    add(&f, TOWN_A, "amount", "2019-01", 3.7);
    add(&f, V1, "amount", "2019-02", 1.2);
    add(&f, V2, "amount", "2019-02", 2.4);
    add(&f, TOWN_A, "amount", "2019-02", 3.8);
    add(&f, V1, "amount", "2019-03", 1.2);
    add(&f, V2, "amount", "2019-03", 2.4);
    add(&f, TOWN_A, "amount", "2019-03", 3.6);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    assert_int_equal(tally_findings_error_count(F), 1);
    finding_is(F, 0, TALLY_FINDING_HIERARCHY, TALLY_FINDING_WARNING, 3.6, 3.7,
               "街道A 2019-01: 金额 reported 3.7 but the sum of the 2 regions below it that "
               "reported is 3.6 (difference 0.1), within what the rounding of the figures "
               "allows (0.15)");
    finding_is(F, 1, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, 3.6, 3.8,
               "街道A 2019-02: 金额 reported 3.8 but the sum of the 2 regions below it that "
               "reported is 3.6 (difference 0.2)");
    summary_is(F, "add_up", 3, 1, 1, 1, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

static void test_check__hierarchy_prefer(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_hierarchy);
    /* 街道A files 303 against villages 100 + 200 (tolerance 3 at 300:
     * make it 310 to fail); 岳阳市 files 320 = 100 + 200 + 村3 20. */
    add(&f, V1, "poor", "2019", 100);
    add(&f, V2, "poor", "2019", 200);
    add(&f, TOWN_A, "poor", "2019", 310);
    add(&f, V3, "poor", "2019", 20);
    add(&f, CITY, "poor", "2019", 320);
    /* Computed (default): the city is compared with its villages: 320,
     * passes; only 街道A is named. */
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 1);
    assert_int_equal(tally_findings_node(F, 0), TOWN_A);
    tally_findings_free(F);
    /* Reported: the city is compared with what its regions filed: 街道A's
     * 310 + 村3's 20 = 330; difference -10 beyond max(2, 3.3). */
    F = run(&f, NULL, TALLY_PREFER_REPORTED);
    assert_int_equal(tally_findings_count(F), 2);
    finding_is(F, 0, TALLY_FINDING_HIERARCHY, TALLY_FINDING_ERROR, 330, 320,
               "岳阳市 2019: 贫困人口 reported 320 but the sum of the 2 regions below it that "
               "reported is 330 (difference -10, tolerance 3.3)");
    assert_int_equal(tally_findings_node(F, 1), TOWN_A);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- rules ---- */

static const char defs_rules[] =
    "indicators:\n"
    "  - id: reg\n"
    "    name: 建档人数\n"
    "    over_time: stock\n"
    "  - id: exits\n"
    "    name: 脱贫人数\n"
    "    over_time: flow\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: identity\n"
    "    rule: reg == exits + poor\n"
    "    tolerance: 1\n"
    "  - id: identity_strict\n"
    "    rule: reg == exits + poor\n"
    "    missing: fail\n"
    "    severity: warning\n";

static void test_check__rule_tolerance_and_missing(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_rules);
    /* 村1: 10 vs 3 + 6 = 9, imbalance 1 = tolerance: passes.
     * 村2: 10 vs 3 + 5 = 8, imbalance 2: fails.
     * 村3: no exits: missing (skip), or a failure with missing: fail.
     * Above: 街道A and 岳阳楼区 10 + 10 = 20 vs 6 + 11 = 17 (3): their
     * figures are complete sums of 村1 and 村2. 镇B and 平江县 have no
     * exits: missing. 岳阳市 and 湖南省 would read reg 30 (three villages)
     * against exits 6 (two): figures over different regions are not set
     * against each other, so missing too. */
    add(&f, V1, "reg", "2019-01", 10);
    add(&f, V1, "exits", "2019-01", 3);
    add(&f, V1, "poor", "2019-01", 6);
    add(&f, V2, "reg", "2019-01", 10);
    add(&f, V2, "exits", "2019-01", 3);
    add(&f, V2, "poor", "2019-01", 5);
    add(&f, V3, "reg", "2019-01", 10);
    add(&f, V3, "poor", "2019-01", 5);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    summary_is(F, "identity", 9, 1, 0, 3, 5);
    summary_is(F, "identity_strict", 9, 0, 0, 9, 0);
    assert_int_equal(count_of(F, "identity"), 3);
    size_t i = find(F, "identity", V2, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 8, 10,
               "村2 2019-01: 建档人数 == 脱贫人数 + 贫困人口 does not hold: 10 vs 3 + 5 = 8 "
               "(imbalance 2, tolerance 1)");
    i = find(F, "identity", YLQ, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 17, 20,
               "岳阳楼区 2019-01: 建档人数 == 脱贫人数 + 贫困人口 does not hold: 20 vs 6 + 11 = 17 "
               "(imbalance 3, tolerance 1)");
    assert_int_equal(find(F, "identity", CITY, TALLY_NONE, "2019-01"), TALLY_NONE);
    assert_int_equal(find(F, "identity", V1, TALLY_NONE, "2019-01"), TALLY_NONE);
    assert_int_equal(find(F, "identity", V3, TALLY_NONE, "2019-01"), TALLY_NONE);
    i = find(F, "identity_strict", V1, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_WARNING, 9, 10,
               "村1 2019-01: 建档人数 == 脱贫人数 + 贫困人口 does not hold: 10 vs 3 + 6 = 9 "
               "(imbalance 1)");
    i = find(F, "identity_strict", V3, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_WARNING, NAN, NAN,
               "村3 2019-01: 建档人数 == 脱贫人数 + 贫困人口 cannot be evaluated: 脱贫人数 is "
               "missing");
    i = find(F, "identity_strict", CITY, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_WARNING, NAN, NAN,
               "岳阳市 2019-01: 建档人数 == 脱贫人数 + 贫困人口 cannot be evaluated: 脱贫人数 is "
               "not reported by every region below it");
    /* Warnings do not count as errors. */
    assert_int_equal(tally_findings_error_count(F), 3);
    tally_findings_free(F);
    fixture_free(&f);
}

static const char defs_rule_rounded[] =
    "indicators:\n"
    "  - id: a\n"
    "    name: 甲\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "  - id: b\n"
    "    name: 乙\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "  - id: n\n"
    "    name: 户数\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: a_le_b\n"
    "    rule: a <= b\n"
    "  - id: a_eq_b\n"
    "    rule: a == b\n"
    "  - id: n_lt\n"
    "    rule: n < 5\n"
    "  - id: both\n"
    "    rule: a <= b and n > 0\n";

static void test_check__rule_intervals(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_rule_rounded);
    /* 村1: a 5.1 = [5.05, 5.15], b 5.0 = [4.95, 5.05]: they meet at 5.05,
     * so both a <= b and a == b hold for some rounding.
     * 村2: a 5.2 = [5.15, 5.25] lies above b's [4.95, 5.05]: both fail.
     * 街道A: a 10.3 +- 0.1 = [10.2, 10.4], b 10.0 +- 0.1 = [9.9, 10.1]:
     * fail; so do 岳阳楼区, 岳阳市, 湖南省 with the same sums.
     * n < 5 is strict: 村1 n = 5 fails, 村2 n = 4 passes. */
    add(&f, V1, "a", "2019-01", 5.1);
    add(&f, V1, "b", "2019-01", 5.0);
    add(&f, V2, "a", "2019-01", 5.2);
    add(&f, V2, "b", "2019-01", 5.0);
    add(&f, V1, "n", "2019-01", 5);
    add(&f, V2, "n", "2019-01", 4);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(find(F, "a_le_b", V1, TALLY_NONE, "2019-01"), TALLY_NONE);
    assert_int_equal(find(F, "a_eq_b", V1, TALLY_NONE, "2019-01"), TALLY_NONE);
    size_t i = find(F, "a_le_b", V2, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 5.0, 5.2,
               "村2 2019-01: 甲 <= 乙 does not hold: 5.2 vs 5.0 (imbalance 0.2), and no rounding "
               "of the figures explains it");
    assert_int_equal(tally_findings_decimals(F, i), 1);
    i = find(F, "a_eq_b", TOWN_A, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 10.0, 10.3,
               "街道A 2019-01: 甲 == 乙 does not hold: 10.3 vs 10.0 (imbalance 0.3), and no "
               "rounding of the figures explains it");
    /* Items: the six regions whose subtree filed a or b (村1, 村2 and four
     * ancestors); 镇B, 平江县 and 村3 filed nothing. */
    summary_is(F, "a_le_b", 6, 1, 0, 5, 0);
    summary_is(F, "a_eq_b", 6, 1, 0, 5, 0);
    i = find(F, "n_lt", V1, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 5, 5,
               "村1 2019-01: 户数 < 5 does not hold: 5 vs 5 (imbalance 0)");
    assert_int_equal(find(F, "n_lt", V2, TALLY_NONE, "2019-01"), TALLY_NONE);
    /* A compound rule is evaluated on the figures as given (村1: 5.1 <= 5.0
     * is false), and shows them. */
    i = find(F, "both", V1, TALLY_NONE, "2019-01");
    finding_is(F, i, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, NAN, NAN,
               "村1 2019-01: 甲 <= 乙 and 户数 > 0 does not hold (5.1 <= 5.0 and 5 > 0)");
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- bounds ---- */

static const char defs_bounds[] =
    "indicators:\n"
    "  - id: share\n"
    "    name: 占比\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "    min: 0\n"
    "    max: 100\n"
    "  - id: count\n"
    "    name: 人数\n"
    "    over_time: stock\n"
    "    min: 0\n";

static void test_check__bounds(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_bounds);
    /* share has one decimal and is rounded: -0.05 could be 0 (edge),
     * -0.1 could not; 100.05 could be 100, 100.1 could not. count is exact:
     * -1 is below 0. */
    add(&f, V1, "share", "2019-01", -0.05);
    add(&f, V2, "share", "2019-01", -0.1);
    add(&f, V3, "share", "2019-01", 100.05);
    add(&f, TOWN_A, "share", "2019-01", 100.1);
    add(&f, V1, "count", "2019-01", -1);
    add(&f, V2, "count", "2019-01", 0);
    add(&f, V3, "count", "2019-01", NAN); /* an empty cell is not checked */
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 3);
    /* Pre-order: 街道A (3), 村1 (4), 村2 (5). */
    finding_is(F, 0, TALLY_FINDING_BOUNDS, TALLY_FINDING_ERROR, 100, 100.1,
               "街道A 2019-01: 占比 reported 100.1, above its maximum 100.0");
    assert_string_equal(tally_findings_check(F, 0), "bounds");
    finding_is(F, 1, TALLY_FINDING_BOUNDS, TALLY_FINDING_ERROR, 0, -1,
               "村1 2019-01: 人数 reported -1, below its minimum 0");
    finding_is(F, 2, TALLY_FINDING_BOUNDS, TALLY_FINDING_ERROR, 0, -0.1,
               "村2 2019-01: 占比 reported -0.1, below its minimum 0.0");
    summary_is(F, "bounds", 6, 3, 0, 3, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- recomputed values ---- */

static const char defs_recomputed[] =
    "indicators:\n"
    "  - id: a\n"
    "    name: 出列户\n"
    "    over_time: stock\n"
    "  - id: b\n"
    "    name: 总户\n"
    "    over_time: stock\n"
    "  - id: share\n"
    "    name: 出列率\n"
    "    unit: \"%\"\n"
    "    formula: a / b * 100\n"
    "    decimals: 1\n";

static void test_check__recomputed_exact_operands(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_recomputed);
    /* 123 / 400 * 100 = 30.75 exactly: printed with one decimal, 30.8 and
     * 30.7 are both half a unit off and pass; 30.9 is 0.15 off: an error
     * (exact operands: no rounding to explain it). */
    add(&f, V1, "a", "2019-01", 123);
    add(&f, V1, "b", "2019-01", 400);
    add(&f, V1, "share", "2019-01", 30.8);
    add(&f, V2, "a", "2019-01", 123);
    add(&f, V2, "b", "2019-01", 400);
    add(&f, V2, "share", "2019-01", 30.7);
    add(&f, V3, "a", "2019-01", 123);
    add(&f, V3, "b", "2019-01", 400);
    add(&f, V3, "share", "2019-01", 30.9);
    /* 街道A files only the share: its operands come from below, 246 / 800
     * = 30.75 again; 29.5 is an error. */
    add(&f, TOWN_A, "share", "2019-01", 29.5);
    /* 镇B files its own counts: 2958 / 10000 * 100 = 29.58; 29.5 is the
     * truncation of 29.58, not its rounding 29.6. */
    add(&f, TOWN_B, "a", "2019-01", 2958);
    add(&f, TOWN_B, "b", "2019-01", 10000);
    add(&f, TOWN_B, "share", "2019-01", 29.5);
    /* 2019-02: b missing (村1) and a division by zero (村2): missing. */
    add(&f, V1, "a", "2019-02", 1);
    add(&f, V1, "share", "2019-02", 50);
    add(&f, V2, "a", "2019-02", 0);
    add(&f, V2, "b", "2019-02", 0);
    add(&f, V2, "share", "2019-02", 0);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    /* And 2019-02's gap, named once at 村1 and once for the top figure. */
    assert_int_equal(tally_findings_count(F), 5);
    assert_int_equal(tally_findings_kind(F, 3), TALLY_FINDING_COVERAGE);
    assert_int_equal(tally_findings_kind(F, 4), TALLY_FINDING_COVERAGE);
    size_t share = ind(&f, "share");
    finding_is(F, 0, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_ERROR, 30.75, 29.5,
               "街道A 2019-01: 出列率 reported 29.5 but 出列户 / 总户 × 100 = 246 / 800 × 100 = "
               "30.8");
    assert_int_equal(tally_findings_node(F, 0), TOWN_A);
    assert_int_equal(tally_findings_indicator(F, 0), share);
    assert_string_equal(tally_findings_check(F, 0), "recomputed");
    /* Pre-order: 街道A (3), 镇B (7), 村3 (8). */
    finding_is(F, 1, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_ERROR, 29.58, 29.5,
               "镇B 2019-01: 出列率 reported 29.5 but 出列户 / 总户 × 100 = 2958 / 10000 × 100 = "
               "29.6; 29.5 is 29.580 truncated instead of rounded (29.6)");
    finding_is(F, 2, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_ERROR, 30.75, 30.9,
               "村3 2019-01: 出列率 reported 30.9 but 出列户 / 总户 × 100 = 123 / 400 × 100 = "
               "30.8");
    assert_int_equal(tally_findings_node(F, 2), V3);
    summary_is(F, "recomputed", 7, 2, 0, 3, 2);
    tally_findings_free(F);
    fixture_free(&f);
}

static const char defs_intervals[] =
    "indicators:\n"
    "  - id: x\n"
    "    name: 资金\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "  - id: y\n"
    "    name: 总额\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "    exact: false\n"
    "  - id: ratio\n"
    "    name: 比例\n"
    "    formula: x / y * 100\n"
    "    decimals: 1\n";

static void test_check__recomputed_rounded_operands(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_intervals);
    /* x 12.3 and y 40.1 are rounded to one decimal: x in [12.25, 12.35],
     * y in [40.05, 40.15]. 12.3 / 40.1 * 100 = 30.6733...; the interval is
     * [12.25 / 40.15, 12.35 / 40.05] * 100 = [30.5106, 30.8365].
     *   30.7: |30.7 - 30.6733| = 0.027 <= 0.05: passes;
     *   30.8: off by 0.127, but [30.75, 30.85] meets the interval: warning;
     *   30.9: [30.85, 30.95] is above 30.8365: error;
     *   30.5: [30.45, 30.55] meets 30.5106: warning;
     *   30.4: [30.35, 30.45] is below 30.5106: error. */
    const size_t nodes[5] = { V1, V2, V3, TOWN_A, TOWN_B };
    const double reported[5] = { 30.7, 30.8, 30.9, 30.5, 30.4 };
    for (int k = 0; k < 5; k++) {
        add(&f, nodes[k], "x", "2019", 12.3);
        add(&f, nodes[k], "y", "2019", 40.1);
        add(&f, nodes[k], "ratio", "2019", reported[k]);
    }
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 4);
    assert_int_equal(tally_findings_error_count(F), 2);
    double v = 12.3 / 40.1 * 100;
    /* Pre-order: 街道A (3), 村2 (5), 镇B (7), 村3 (8). */
    finding_is(F, 0, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_WARNING, v, 30.5,
               "街道A 2019: 比例 reported 30.5 but 资金 / 总额 × 100 = 12.3 / 40.1 × 100 = 30.7, "
               "explained only by the rounding of the operands (which allows 30.511 to 30.836)");
    finding_is(F, 1, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_WARNING, v, 30.8,
               "村2 2019: 比例 reported 30.8 but 资金 / 总额 × 100 = 12.3 / 40.1 × 100 = 30.7, "
               "explained only by the rounding of the operands (which allows 30.511 to 30.836)");
    finding_is(F, 2, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_ERROR, v, 30.4,
               "镇B 2019: 比例 reported 30.4 but 资金 / 总额 × 100 = 12.3 / 40.1 × 100 = 30.7, "
               "beyond what the rounding of the operands allows (30.511 to 30.836)");
    finding_is(F, 3, TALLY_FINDING_RECOMPUTED, TALLY_FINDING_ERROR, v, 30.9,
               "村3 2019: 比例 reported 30.9 but 资金 / 总额 × 100 = 12.3 / 40.1 × 100 = 30.7, "
               "beyond what the rounding of the operands allows (30.511 to 30.836)");
    summary_is(F, "recomputed", 5, 1, 2, 2, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

/* The operands of a region that did not file them come from below, and a
 * sum of n rounded values carries n half-units. */
static void test_check__recomputed_rounded_sums(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_intervals);
    /* 村1 and 村2 file x 6.1, 6.2 and y 20.0, 20.1: 街道A's x = 12.3 +- 0.1,
     * y = 40.1 +- 0.1, so the interval is [12.2 / 40.2, 12.4 / 40.0] * 100
     * = [30.3483, 31.0]. 街道A files 30.9: off by 0.227 from 30.6733, but
     * [30.85, 30.95] meets the interval: a warning, not an error. */
    add(&f, V1, "x", "2019", 6.1);
    add(&f, V2, "x", "2019", 6.2);
    add(&f, V1, "y", "2019", 20.0);
    add(&f, V2, "y", "2019", 20.1);
    add(&f, TOWN_A, "ratio", "2019", 30.9);
    /* 岳阳楼区 files 31.1: [31.05, 31.15] is above 31.0: an error. */
    add(&f, YLQ, "ratio", "2019", 31.1);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    assert_int_equal(tally_findings_node(F, 0), YLQ);
    assert_int_equal(tally_findings_severity(F, 0), TALLY_FINDING_ERROR);
    assert_int_equal(tally_findings_node(F, 1), TOWN_A);
    assert_int_equal(tally_findings_severity(F, 1), TALLY_FINDING_WARNING);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- monotonic ---- */

static const char defs_monotonic[] =
    "indicators:\n"
    "  - id: trained\n"
    "    name: 培训人数\n"
    "    over_time: cumulative\n";

static void test_check__monotonic(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_monotonic);
    /* 村1 months: 10, 12, 11 (falls), April missing, May 11 (equal to the
     * last filed: fine), January 2020 restarts the year. 村2 quarters: 5,
     * then 4 (falls). */
    add(&f, V1, "trained", "2019-01", 10);
    add(&f, V1, "trained", "2019-02", 12);
    add(&f, V1, "trained", "2019-03", 11);
    add(&f, V1, "trained", "2019-05", 11);
    add(&f, V1, "trained", "2020-01", 2);
    add(&f, V2, "trained", "2019-Q1", 5);
    add(&f, V2, "trained", "2019-Q2", 4);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    finding_is(F, 0, TALLY_FINDING_MONOTONIC, TALLY_FINDING_ERROR, 12, 11,
               "村1 2019-03: 培训人数, a year-to-date figure, fell from 12 in 2019-02 to 11; it "
               "cannot decrease within a year");
    assert_string_equal(tally_findings_period(F, 0), "2019-03");
    finding_is(F, 1, TALLY_FINDING_MONOTONIC, TALLY_FINDING_ERROR, 5, 4,
               "村2 2019-Q2: 培训人数, a year-to-date figure, fell from 5 in 2019-Q1 to 4; it "
               "cannot decrease within a year");
    summary_is(F, "monotonic", 4, 2, 0, 2, 0);
    tally_findings_free(F);
    /* --period 2019-Q1: only pairs ending inside the first quarter. */
    F = run(&f, "2019-Q1", TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 1);
    summary_is(F, "monotonic", 2, 1, 0, 1, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- completeness ---- */

static const char defs_completeness[] =
    "indicators:\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: villages_report\n"
    "    required: [poor]\n"
    "    level: village\n"
    "    severity: warning\n";

static void test_check__completeness(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_completeness);
    /* 2019-01: 村1 files, 村2 files an empty cell, 村3 nothing.
     * 2019-02: only 街道A files: no village did, so the period is not
     * one villages report in and is not checked. */
    add(&f, V1, "poor", "2019-01", 5);
    add(&f, V2, "poor", "2019-01", NAN);
    add(&f, TOWN_A, "poor", "2019-02", 3);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 2);
    assert_int_equal(tally_findings_error_count(F), 0);
    finding_is(F, 0, TALLY_FINDING_COMPLETENESS, TALLY_FINDING_WARNING, NAN, NAN,
               "村2 2019-01: 贫困人口 not reported (the value was left empty); 1 of 2 regions "
               "at level village under 街道A reported it (50.00 %)");
    finding_is(F, 1, TALLY_FINDING_COMPLETENESS, TALLY_FINDING_WARNING, NAN, NAN,
               "村3 2019-01: 贫困人口 not reported (no record); 0 of 1 regions at level village "
               "under 镇B reported it (0.00 %)");
    summary_is(F, "villages_report", 3, 1, 0, 2, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- outliers and jumps ---- */

static const char outlier_hierarchy[] =
    "code,name,level,parent_code\n"
    "T,镇,town,\n"
    "A,甲村,village,T\n"
    "B,乙村,village,T\n"
    "C,丙村,village,T\n"
    "D,丁村,village,T\n"
    "E,戊村,village,T\n"
    "F,己村,village,T\n";

static const char defs_outliers[] =
    "indicators:\n"
    "  - id: v\n"
    "    name: 值\n"
    "    over_time: stock\n"
    "checks:\n"
    "  - id: spikes\n"
    "    outliers: [v]\n"
    "    method: modified_z\n"
    "    threshold: 3.5\n"
    "    jump: { max_ratio: 3 }\n";

static void test_check__outliers_and_jumps(void **state)
{
    (void)state;
    fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(tally_hierarchy_from_buffer(&f.h, outlier_hierarchy,
                                                 sizeof outlier_hierarchy - 1, "h.csv", NULL),
                     0);
    assert_int_equal(tally_definitions_from_buffer(&f.d, defs_outliers, strlen(defs_outliers),
                                                   "d.yaml"),
                     0);
    assert_int_equal(tally_dataset_new(&f.ds, f.h, f.d), 0);
    /* 2019-01: 15, 11, 12, 13, 14, 40. Median 13.5; deviations 1.5, 2.5,
     * 1.5, 0.5, 0.5, 26.5, sorted 0.5 0.5 1.5 1.5 2.5 26.5: MAD 1.5.
     * M(40) = 0.6745 * 26.5 / 1.5 = 11.916 > 3.5; M(11) = -1.124.
     * 2019-02: 5, 5, 5, 5, 5, 9: MAD 0, so nothing is flagged.
     * Jumps to 2019-02: 甲 15 -> 5 is a factor of 3 exactly (not more);
     * 己 40 -> 9 is 4.44; the town 105 -> 34 is 3.09. */
    const char *codes[6] = { "A", "B", "C", "D", "E", "F" };
    const double jan[6] = { 15, 11, 12, 13, 14, 40 }, feb[6] = { 5, 5, 5, 5, 5, 9 };
    for (int k = 0; k < 6; k++) {
        assert_int_equal(tally_dataset_add(f.ds, codes[k], "v", "2019-01", jan[k]), 0);
        assert_int_equal(tally_dataset_add(f.ds, codes[k], "v", "2019-02", feb[k]), 0);
    }
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 3);
    /* Pre-order: the town (0) first, then 己村 (6) in January, February. */
    finding_is(F, 0, TALLY_FINDING_JUMP, TALLY_FINDING_ERROR, 105, 34,
               "镇 2019-02: 值 went from 105 in 2019-01 to 34, down by a factor of 3.09, more "
               "than 3");
    assert_int_equal(tally_findings_node(F, 0), 0);
    finding_is(F, 1, TALLY_FINDING_OUTLIER, TALLY_FINDING_ERROR, 13.5, 40,
               "己村 2019-01: 值 40 stands out among the 6 regions under 镇 (median 13.5, median "
               "absolute deviation 1.5, modified z-score 11.92 beyond 3.5)");
    assert_int_equal(tally_findings_decimals(F, 1), 1);
    finding_is(F, 2, TALLY_FINDING_JUMP, TALLY_FINDING_ERROR, 40, 9,
               "己村 2019-02: 值 went from 40 in 2019-01 to 9, down by a factor of 4.44, more than "
               "3");
    /* Outliers: 6 + 6 values; jumps: 7 pairs in February. */
    summary_is(F, "spikes", 19, 16, 0, 3, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

/* A figure computed from below with some region missing is not set
 * against a whole one: not in a recomputed value, not among siblings, not
 * across periods. */
static const char partial_hierarchy[] =
    "code,name,level,parent_code\n"
    "R,市,city,\n"
    "T1,镇1,town,R\n"
    "T1a,村1a,village,T1\n"
    "T1b,村1b,village,T1\n"
    "T2,镇2,town,R\n"
    "T2a,村2a,village,T2\n"
    "T2b,村2b,village,T2\n"
    "T3,镇3,town,R\n"
    "T3a,村3a,village,T3\n"
    "T3b,村3b,village,T3\n"
    "T4,镇4,town,R\n"
    "T4a,村4a,village,T4\n"
    "T4b,村4b,village,T4\n";

static void test_check__partial_figures(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_recomputed);
    /* 2019-01: 村2 has b but no a: 街道A's a (1) is 村1's alone, its b (20)
     * both villages': 1 / 20 * 100 = 5 would make its published 10.0 an
     * error; it is missing instead. 2019-02: both villages, 2 / 20: 10,
     * passes. */
    add(&f, V1, "a", "2019-01", 1);
    add(&f, V1, "b", "2019-01", 10);
    add(&f, V2, "b", "2019-01", 10);
    add(&f, TOWN_A, "share", "2019-01", 10.0);
    add(&f, V1, "a", "2019-02", 1);
    add(&f, V1, "b", "2019-02", 10);
    add(&f, V2, "a", "2019-02", 1);
    add(&f, V2, "b", "2019-02", 10);
    add(&f, TOWN_A, "share", "2019-02", 10.0);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    /* The gap itself is named where it is: 村2 2019-01, and the top
     * figure's line; the recomputed check finds nothing. */
    assert_int_equal(tally_findings_count(F), 2);
    assert_int_equal(tally_findings_kind(F, 0), TALLY_FINDING_COVERAGE);
    assert_int_equal(tally_findings_kind(F, 1), TALLY_FINDING_COVERAGE);
    summary_is(F, "recomputed", 2, 1, 0, 0, 1);
    tally_findings_free(F);
    fixture_free(&f);

    memset(&f, 0, sizeof f);
    assert_int_equal(tally_hierarchy_from_buffer(&f.h, partial_hierarchy,
                                                 sizeof partial_hierarchy - 1, "h.csv", NULL),
                     0);
    assert_int_equal(tally_definitions_from_buffer(&f.d, defs_outliers, strlen(defs_outliers),
                                                   "d.yaml"),
                     0);
    assert_int_equal(tally_dataset_new(&f.ds, f.h, f.d), 0);
    /* 2019-01: towns 20, 22, 24 and 镇4 5 with 村4b missing. With 5 the
     * towns' median is 21 and MAD 2, so 5 would score 0.6745 * 16 / 2 =
     * 5.4; it is partial and left out (3 towns judged, 1 missing).
     * 2019-02: 村4b files 20: 镇4 25, towns 20 22 24 25, nothing stands
     * out. 镇4 from 5 (one village) to 25 (two) is not a jump of 5: the
     * two figures cover different villages; the same for 市.
     * Villages: groups of 2 (or 1) are too small to judge. */
    const char *codes[8] = { "T1a", "T1b", "T2a", "T2b", "T3a", "T3b", "T4a", "T4b" };
    const double jan[8] = { 10, 10, 11, 11, 12, 12, 5, NAN };
    const double feb[8] = { 10, 10, 11, 11, 12, 12, 5, 20 };
    for (int k = 0; k < 8; k++) {
        if (!isnan(jan[k]))
            assert_int_equal(tally_dataset_add(f.ds, codes[k], "v", "2019-01", jan[k]), 0);
        assert_int_equal(tally_dataset_add(f.ds, codes[k], "v", "2019-02", feb[k]), 0);
    }
    F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 0);
    /* Outliers 2019-01: 7 villages (missing) + 3 towns judged + 1 partial;
     * 2019-02: 8 villages (missing) + 4 towns judged. Jumps: 12 regions
     * filed in both months (all but 村4b); 镇4 and 市 not comparable. */
    summary_is(F, "spikes", 35, 17, 0, 0, 18);
    tally_findings_free(F);
    fixture_free(&f);
}

/* ---- targets ---- */

static void test_check__target_decomposition(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_hierarchy);
    add(&f, V1, "poor", "2019-12", 1);
    tally_targets *t = NULL;
    assert_int_equal(tally_targets_new(&t, f.h, f.d), 0);
    /* 岳阳市 100; its counties 30 and 60: 90 does not cover 100. */
    assert_int_equal(tally_targets_add(t, "430600000000", "poor", 2019, 100), 0);
    assert_int_equal(tally_targets_add(t, "430602000000", "poor", 2019, 30), 0);
    assert_int_equal(tally_targets_add(t, "430626000000", "poor", 2019, 60), 0);
    tally_check_options opts = TALLY_CHECK_OPTIONS_INIT;
    opts.targets = t;
    tally_findings *F = NULL;
    assert_int_equal(tally_check_run(&F, f.ds, &opts), 0);
    assert_int_equal(tally_findings_count(F), 1);
    finding_is(F, 0, TALLY_FINDING_TARGETS, TALLY_FINDING_ERROR, 100, 90,
               "岳阳市 2019: the targets for 贫困人口 of 2 of its 2 regions below add up to 90, "
               "short of its own target 100");
    assert_string_equal(tally_findings_check(F, 0), "targets");
    assert_string_equal(tally_findings_period(F, 0), "2019");
    summary_is(F, "targets", 1, 0, 0, 1, 0);
    tally_findings_free(F);
    tally_targets_free(t);
    fixture_free(&f);
}

/* ---- the findings object ---- */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_check__order_and_writers(void **state)
{
    (void)state;
    fixture f;
    const char defs[] =
        "indicators:\n"
        "  - id: poor\n"
        "    name: 贫困人口\n"
        "    over_time: stock\n"
        "    min: 0\n"
        "checks:\n"
        "  - id: add_up\n"
        "    hierarchy: [poor]\n"
        "  - id: nonneg\n"
        "    rule: poor >= 0\n";
    fixture_load(&f, defs);
    /* 村3 files -1 and 镇B 5 for 2019.
     * add_up: 镇B's 5 against the -1 below it: fails.
     * nonneg at the regions whose subtree filed: 村3 -1 fails; 镇B's own
     * 5 passes; 平江县, 岳阳市 and 湖南省 filed nothing, so their figure is
     * computed from the finest reports below, -1: they fail.
     * bounds: 村3's -1 is below 0. */
    add(&f, V3, "poor", "2019", -1);
    add(&f, TOWN_B, "poor", "2019", 5);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    /* Check order (declared checks in file order, then bounds), then
     * pre-order. */
    assert_int_equal(tally_findings_count(F), 6);
    const char *checks[6] = { "add_up", "nonneg", "nonneg", "nonneg", "nonneg", "bounds" };
    const size_t nodes[6] = { TOWN_B, PROV, CITY, PJX, V3, V3 };
    for (int k = 0; k < 6; k++) {
        assert_string_equal(tally_findings_check(F, (size_t)k), checks[k]);
        assert_int_equal(tally_findings_node(F, (size_t)k), nodes[k]);
    }
    finding_is(F, 1, TALLY_FINDING_RULE, TALLY_FINDING_ERROR, 0, -1,
               "湖南省 2019: 贫困人口 >= 0 does not hold: -1 vs 0 (imbalance -1)");
    summary_is(F, "add_up", 1, 0, 0, 1, 0);
    summary_is(F, "nonneg", 5, 1, 0, 4, 0);
    summary_is(F, "bounds", 2, 1, 0, 1, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

static void test_check__csv_and_json(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_bounds);
    add(&f, V1, "count", "2019-01", -1);
    add(&f, V2, "share", "2019-01", -0.1);
    tally_findings *F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    char path[] = "/tmp/tally-check-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_findings_write(F, path, NULL), 0);
    assert_string_equal(slurp(path),
                        "check,severity,region_code,region_name,period,indicator,expected,actual,"
                        "difference,message\n"
                        "bounds,error,430602001001,村1,2019-01,count,0,-1,-1,\"村1 2019-01: 人数 "
                        "reported -1, below its minimum 0\"\n"
                        "bounds,error,430602001002,村2,2019-01,share,0.0,-0.1,-0.1,\"村2 2019-01: "
                        "占比 reported -0.1, below its minimum 0.0\"\n");
    tally_write_options w = TALLY_WRITE_OPTIONS_INIT;
    w.format = TALLY_FORMAT_JSON;
    assert_int_equal(tally_findings_write(F, path, &w), 0);
    assert_string_equal(slurp(path),
                        "[\n{\"check\":\"bounds\",\"severity\":\"error\",\"region_code\":"
                        "\"430602001001\",\"region_name\":\"村1\",\"period\":\"2019-01\","
                        "\"indicator\":\"count\",\"expected\":0,\"actual\":-1,\"difference\":-1,"
                        "\"message\":\"村1 2019-01: 人数 reported -1, below its minimum 0\"},\n"
                        "{\"check\":\"bounds\",\"severity\":\"error\",\"region_code\":"
                        "\"430602001002\",\"region_name\":\"村2\",\"period\":\"2019-01\","
                        "\"indicator\":\"share\",\"expected\":0.0,\"actual\":-0.1,"
                        "\"difference\":-0.1,\"message\":\"村2 2019-01: 占比 reported -0.1, below "
                        "its minimum 0.0\"}\n]\n");
    /* Only the villages' level: both; only towns: none. */
    int town = tally_hierarchy_level_find(f.h, "town");
    w.format = TALLY_FORMAT_CSV;
    w.levels = &town;
    w.level_count = 1;
    assert_int_equal(tally_findings_write(F, path, &w), 0);
    assert_string_equal(slurp(path), "check,severity,region_code,region_name,period,indicator,"
                                     "expected,actual,difference,message\n");
    unlink(path);
    assert_int_equal(tally_findings_write(F, "/nonexistent/dir/x.csv", NULL), TALLY_EIO);
    /* Out of range. */
    assert_null(tally_findings_check(F, 2));
    assert_null(tally_findings_message(F, 2));
    assert_int_equal(tally_findings_node(F, 2), TALLY_NONE);
    assert_true(isnan(tally_findings_actual(F, 2)));
    assert_int_equal(tally_findings_kind(F, 2), -1);
    tally_check_summary s;
    assert_int_equal(tally_findings_summary(F, 9, &s), TALLY_EINVAL);
    assert_int_equal(tally_findings_count(NULL), 0);
    tally_findings_free(F);
    tally_findings_free(NULL);
    fixture_free(&f);
}

static void test_check__bad_input(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, defs_hierarchy);
    add(&f, V1, "poor", "2019-01", 1);
    tally_findings *F = (tally_findings *)1;
    const char *bad[1] = { "2019-13" };
    tally_check_options opts = TALLY_CHECK_OPTIONS_INIT;
    opts.periods = bad;
    opts.period_count = 1;
    assert_int_equal(tally_check_run(&F, f.ds, &opts), TALLY_EPARSE);
    assert_null(F);
    assert_string_equal(tally_error_last()->message,
                        "bad period '2019-13'; expected YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or "
                        "YYYY-H2, or a range of one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn");
    assert_int_equal(tally_check_run(&F, NULL, NULL), TALLY_EINVAL);
    opts = (tally_check_options)TALLY_CHECK_OPTIONS_INIT;
    opts.prefer = 7;
    assert_int_equal(tally_check_run(&F, f.ds, &opts), TALLY_EINVAL);
    opts.prefer = 0;
    opts.version = 99;
    assert_int_equal(tally_check_run(&F, f.ds, &opts), TALLY_EINVAL);
    /* A completeness check naming a level the hierarchy lacks (given
     * through the internal entry point: the YAML reader refuses it). */
    size_t poor = 0;
    tally_check_def def;
    memset(&def, 0, sizeof def);
    def.id = "c";
    def.kind = TALLY_CHECK_COMPLETENESS;
    def.indicators = &poor;
    def.indicator_count = 1;
    def.level = "hamlet";
    def.threshold = NAN;
    def.jump_max_ratio = NAN;
    def.line = 3;
    def.column = 9;
    assert_int_equal(tally_check__run_defs(&F, f.ds, NULL, &def, 1), TALLY_EINVAL);
    assert_string_equal(tally_error_last()->message,
                        "check 'c' (line 3, column 9): level 'hamlet' is not a level of the "
                        "hierarchy");
    /* No periods at all: nothing to check, no findings. */
    fixture_free(&f);
    fixture_load(&f, defs_hierarchy);
    F = run(&f, NULL, TALLY_PREFER_COMPUTED);
    assert_int_equal(tally_findings_count(F), 0);
    summary_is(F, "add_up", 0, 0, 0, 0, 0);
    tally_findings_free(F);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check__hierarchy_tolerance_edges),
        cmocka_unit_test(test_check__hierarchy_missing_children),
        cmocka_unit_test(test_check__hierarchy_rounded_values),
        cmocka_unit_test(test_check__hierarchy_prefer),
        cmocka_unit_test(test_check__rule_tolerance_and_missing),
        cmocka_unit_test(test_check__rule_intervals),
        cmocka_unit_test(test_check__bounds),
        cmocka_unit_test(test_check__recomputed_exact_operands),
        cmocka_unit_test(test_check__recomputed_rounded_operands),
        cmocka_unit_test(test_check__recomputed_rounded_sums),
        cmocka_unit_test(test_check__monotonic),
        cmocka_unit_test(test_check__completeness),
        cmocka_unit_test(test_check__outliers_and_jumps),
        cmocka_unit_test(test_check__partial_figures),
        cmocka_unit_test(test_check__target_decomposition),
        cmocka_unit_test(test_check__order_and_writers),
        cmocka_unit_test(test_check__csv_and_json),
        cmocka_unit_test(test_check__bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
