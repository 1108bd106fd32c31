/* Poverty: the households reader (accepted rows, every kind of rejected
 * row with its exact location), FGT, Watts, Gini and the median on small
 * cases worked by hand (ties, zero incomes, a household exactly at the
 * line, equal and unequal weights, a node without households), years and
 * lines, and exit thresholds from records.
 *
 * Every expected number below is worked out in the comment beside it. */
#include <iconv.h>
#include <math.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"

static char *fixture_path(const char *name)
{
    static char buf[1024];
    const char *root = getenv("TALLY_SOURCE_ROOT");
    snprintf(buf, sizeof buf, "%s/tests/poverty/data/%s", root ? root : ".", name);
    return buf;
}

static tally_hierarchy *load_hierarchy(void)
{
    tally_hierarchy *h;
    if (tally_hierarchy_from_buffer(&h, fixture_hierarchy, sizeof fixture_hierarchy - 1,
                                    "hierarchy.csv", NULL))
        abort();
    return h;
}

static tally_households *households_from(const tally_hierarchy *h, const char *csv)
{
    tally_households *hh;
    assert_int_equal(tally_households_new(&hh, h), 0);
    tally_read_stats st;
    int rc = tally_households_read_buffer(hh, csv, strlen(csv), "households.csv", NULL, NULL, &st);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    assert_int_equal(st.rows_rejected, 0);
    return hh;
}

static tally_poverty *measure(const tally_households *hh, int year, double line, double mline)
{
    tally_poverty_options o = TALLY_POVERTY_OPTIONS_INIT;
    o.year = year;
    o.line = line;
    o.monitoring_line = mline;
    tally_poverty *p;
    int rc = tally_poverty_households(&p, hh, NULL, &o);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return p;
}

static void expect_at(const tally_poverty *p, size_t node, int m, double want, int line)
{
    double v;
    int present;
    assert_int_equal(tally_poverty_value(p, node, m, &v, &present), 0);
    if (!present || fabs(v - want) > 1e-9 * (fabs(want) > 1 ? fabs(want) : 1)) {
        print_error("line %d: node %zu %s: got %.17g (present %d), expected %.17g\n", line, node,
                    tally_poverty_measure_name(m), v, present, want);
        fail();
    }
}
#define expect(p, node, m, want) expect_at(p, node, m, want, __LINE__)

static void expect_missing_at(const tally_poverty *p, size_t node, int m, int line)
{
    double v;
    int present;
    assert_int_equal(tally_poverty_value(p, node, m, &v, &present), 0);
    if (present || !isnan(v)) {
        print_error("line %d: node %zu %s: got %.17g, expected missing\n", line, node,
                    tally_poverty_measure_name(m), v);
        fail();
    }
}
#define expect_missing(p, node, m) expect_missing_at(p, node, m, __LINE__)

/* Line z = 100, monitoring line 120, weights 1.
 *   村1 (V1): sizes 1, incomes 50, 100 (exactly at the line: not poor), 150,
 *             50 (a tie with the first).
 *   村2 (V2): no households.
 *   村3 (V3): size 2 with income 0, size 3 with income 80. */
static const char hand_csv[] = "household_id,region_code,size,income_per_capita\n"
                               "h1,430602001001,1,50\n"
                               "h2,430602001001,1,100\n"
                               "h3,430602001001,1,150\n"
                               "h4,430602001001,1,50\n"
                               "h5,430626100201,2,0\n"
                               "h6,430626100201,3,80\n";

static void test_poverty__measures_worked_by_hand(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_households *hh = households_from(h, hand_csv);
    tally_poverty *p = measure(hh, 0, 100, 120);
    assert_int_equal(tally_poverty_year(p), 0);
    assert_true(tally_poverty_line(p) == 100);
    assert_int_equal(tally_poverty_households_used(p), 6);
    assert_int_equal(tally_poverty_households_skipped(p), 0);
    assert_int_equal(tally_poverty_whole_persons(p), 1);

    /* 村1: W = 4 persons; poor: the two 50s (gap (100-50)/100 = 0.5 each).
     * P0 = 2/4 = 50 %; P1 = (0.5+0.5)/4 = 25 %; P2 = (0.25+0.25)/4 = 12.5 %;
     * Watts = 2 ln(100/50) / 4 = ln 2 / 2.
     * Gini, sorted 50, 50, 100, 150, W_i = 1, 2, 3, 4:
     *   sum w y W_i = 50 + 100 + 300 + 600 = 1050; sum w^2 y = 350;
     *   (2*1050 - 350) / (4 * 350) - 1 = 1750/1400 - 1 = 0.25
     *   (check: sum over ordered pairs |yi-yj| = 700; 700 / (2 * 16 * 87.5) = 0.25).
     * Median: W_2 / W = 2/4 is exactly 0.5: (50 + 100) / 2 = 75.
     * Below 120: 50, 50, 100 -> 3. */
    static const size_t v1_and_up[] = { V1, TOWN_A, YLQ };
    for (size_t k = 0; k < 3; k++) {
        size_t n = v1_and_up[k];
        expect(p, n, TALLY_POVERTY_HOUSEHOLDS, 4);
        expect(p, n, TALLY_POVERTY_PERSONS, 4);
        expect(p, n, TALLY_POVERTY_P0, 50);
        expect(p, n, TALLY_POVERTY_P1, 25);
        expect(p, n, TALLY_POVERTY_P2, 12.5);
        expect(p, n, TALLY_POVERTY_WATTS, 100 * log(2) / 2);
        expect(p, n, TALLY_POVERTY_GINI, 0.25);
        expect(p, n, TALLY_POVERTY_MEDIAN_INCOME, 75);
        expect(p, n, TALLY_POVERTY_BELOW_MONITORING, 3);
    }

    /* 村2: nothing to measure; counts are 0, measures missing. */
    expect(p, V2, TALLY_POVERTY_HOUSEHOLDS, 0);
    expect(p, V2, TALLY_POVERTY_PERSONS, 0);
    expect(p, V2, TALLY_POVERTY_BELOW_MONITORING, 0);
    for (int m = TALLY_POVERTY_P0; m <= TALLY_POVERTY_MEDIAN_INCOME; m++)
        expect_missing(p, V2, m);

    /* 村3: W = 5; both poor. Gaps 1 (income 0) and 0.2 (income 80).
     * P0 = 5/5 = 100 %; P1 = (2*1 + 3*0.2)/5 = 52 %; P2 = (2*1 + 3*0.04)/5 = 42.4 %;
     * Watts leaves out income 0: 3 ln(100/80) / 5.
     * Gini, sorted 0 (w 2), 80 (w 3), W_i = 2, 5: sum w y W_i = 3*80*5 = 1200;
     *   sum w^2 y = 9*80 = 720; (2400 - 720) / (5 * 240) - 1 = 0.4
     *   (check, 5 persons 0,0,80,80,80: pairs 2*3*80*2 = 960; 960/(2*25*48) = 0.4).
     * Median: W_1 / W = 2/5 < 0.5, W_2 / W = 1 -> 80. Below 120: 2. */
    static const size_t v3_and_up[] = { V3, TOWN_B, PJX };
    for (size_t k = 0; k < 3; k++) {
        size_t n = v3_and_up[k];
        expect(p, n, TALLY_POVERTY_HOUSEHOLDS, 2);
        expect(p, n, TALLY_POVERTY_PERSONS, 5);
        expect(p, n, TALLY_POVERTY_P0, 100);
        expect(p, n, TALLY_POVERTY_P1, 52);
        expect(p, n, TALLY_POVERTY_P2, 42.4);
        expect(p, n, TALLY_POVERTY_WATTS, 100 * 3 * log(1.25) / 5);
        expect(p, n, TALLY_POVERTY_GINI, 0.4);
        expect(p, n, TALLY_POVERTY_MEDIAN_INCOME, 80);
        expect(p, n, TALLY_POVERTY_BELOW_MONITORING, 2);
    }

    /* 岳阳市 and 湖南省: both villages, W = 9.
     * P0 = (2 + 5)/9; P1 = (1 + 2.6)/9 = 40 %; P2 = (0.5 + 2.12)/9;
     * Watts = (2 ln 2 + 3 ln 1.25) / 9 (numerators add up: decomposable).
     * Gini, sorted 0 (2), 50, 50, 80 (3), 100, 150; W_i = 2, 3, 4, 7, 8, 9:
     *   sum w y W_i = 0 + 150 + 200 + 1680 + 800 + 1350 = 4180;
     *   sum w^2 y = 50 + 50 + 720 + 100 + 150 = 1070; sum w y = 590;
     *   (8360 - 1070) / (9 * 590) - 1 = 1980 / 5310
     *   (check, persons 0,0,50,50,80,80,80,100,150: sum (2j-10) x_j = 1980,
     *    2 * 1980 / (2 * 81 * 590/9) = 1980/5310).
     *   Not the mean of the villages' 0.25 and 0.4: recomputed from households.
     * Median: W_3/W = 4/9 < 0.5, W_4/W = 7/9 -> 80. Below: 3 + 2 = 5. */
    static const size_t top[] = { CITY, PROV };
    for (size_t k = 0; k < 2; k++) {
        size_t n = top[k];
        expect(p, n, TALLY_POVERTY_HOUSEHOLDS, 6);
        expect(p, n, TALLY_POVERTY_PERSONS, 9);
        expect(p, n, TALLY_POVERTY_P0, 700.0 / 9);
        expect(p, n, TALLY_POVERTY_P1, 40);
        expect(p, n, TALLY_POVERTY_P2, 262.0 / 9);
        expect(p, n, TALLY_POVERTY_WATTS, 100 * (2 * log(2) + 3 * log(1.25)) / 9);
        expect(p, n, TALLY_POVERTY_GINI, 1980.0 / 5310);
        expect(p, n, TALLY_POVERTY_MEDIAN_INCOME, 80);
        expect(p, n, TALLY_POVERTY_BELOW_MONITORING, 5);
    }

    /* Columns are the same numbers. */
    const double *p0 = tally_poverty_column(p, TALLY_POVERTY_P0);
    assert_non_null(p0);
    assert_true(p0[V1] == 50 && isnan(p0[V2]));
    assert_null(tally_poverty_column(p, TALLY_POVERTY_MEASURE_COUNT));
    double v;
    int present;
    assert_int_equal(tally_poverty_value(p, 99, TALLY_POVERTY_P0, &v, &present), TALLY_EINVAL);
    assert_int_equal(tally_poverty_value(p, V1, -1, &v, &present), TALLY_EINVAL);
    assert_string_equal(tally_poverty_measure_name(TALLY_POVERTY_MEDIAN_INCOME), "median_income");
    tally_poverty_free(p);

    /* Without a monitoring line the count is missing, not 0. */
    p = measure(hh, 0, 100, 0);
    assert_true(isnan(tally_poverty_monitoring_line(p)));
    expect_missing(p, V1, TALLY_POVERTY_BELOW_MONITORING);
    expect_missing(p, V2, TALLY_POVERTY_BELOW_MONITORING);
    tally_poverty_free(p);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

static void test_poverty__weights(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    /* Line 100. 村1: size 1 income 50 weight 3; size 2 income 200 weight 1.
     * Person weights 3 and 2, W = 5.
     * P0 = 3/5 = 60 %; P1 = 3*0.5/5 = 30 %; P2 = 3*0.25/5 = 15 %;
     * Watts = 3 ln 2 / 5.
     * Gini, sorted 50 (3), 200 (2), W_i = 3, 5: sum w y W_i = 450 + 2000 = 2450;
     *   sum w^2 y = 450 + 800 = 1250; sum w y = 550;
     *   (4900 - 1250) / (5 * 550) - 1 = 900 / 2750
     *   (check, persons 50,50,50,200,200: pairs 3*2*150 = 900; 2*900/(2*25*110)).
     * Median: W_1 / W = 3/5 >= 0.5 -> 50. */
    tally_households *hh = households_from(h, "household_id,region_code,size,income_per_capita,weight\n"
                                              "a,430602001001,1,50,3\n"
                                              "b,430602001001,2,200,1\n");
    tally_poverty *p = measure(hh, 0, 100, 0);
    expect(p, V1, TALLY_POVERTY_PERSONS, 5);
    expect(p, V1, TALLY_POVERTY_P0, 60);
    expect(p, V1, TALLY_POVERTY_P1, 30);
    expect(p, V1, TALLY_POVERTY_P2, 15);
    expect(p, V1, TALLY_POVERTY_WATTS, 100 * 3 * log(2) / 5);
    expect(p, V1, TALLY_POVERTY_GINI, 900.0 / 2750);
    expect(p, V1, TALLY_POVERTY_MEDIAN_INCOME, 50);
    tally_poverty_free(p);
    tally_households_free(hh);

    /* The same households with equal weights: person weights 1 and 2, W = 3.
     * P0 = 1/3; P1 = 0.5/3; Gini, sorted 50 (1), 200 (2), W_i = 1, 3:
     * (2 * (50 + 1200) - (50 + 800)) / (3 * 450) - 1 = 1650/1350 - 1 = 300/1350.
     * Median: W_1 / W = 1/3 < 0.5 -> 200. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita,weight\n"
                            "a,430602001001,1,50,1\n"
                            "b,430602001001,2,200,1\n");
    p = measure(hh, 0, 100, 0);
    expect(p, V1, TALLY_POVERTY_PERSONS, 3);
    expect(p, V1, TALLY_POVERTY_P0, 100.0 / 3);
    expect(p, V1, TALLY_POVERTY_P1, 50.0 / 3);
    expect(p, V1, TALLY_POVERTY_GINI, 300.0 / 1350);
    expect(p, V1, TALLY_POVERTY_MEDIAN_INCOME, 200);
    tally_poverty_free(p);
    tally_households_free(hh);

    /* Scaling every weight by 2.5 changes persons (3 -> 7.5), nothing else;
     * 7.5 persons are not whole, so they print with 2 decimals. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita,weight\n"
                            "a,430602001001,1,50,2.5\n"
                            "b,430602001001,2,200,2.5\n");
    p = measure(hh, 0, 100, 0);
    expect(p, V1, TALLY_POVERTY_PERSONS, 7.5);
    expect(p, V1, TALLY_POVERTY_P0, 100.0 / 3);
    expect(p, V1, TALLY_POVERTY_P1, 50.0 / 3);
    expect(p, V1, TALLY_POVERTY_GINI, 300.0 / 1350);
    expect(p, V1, TALLY_POVERTY_MEDIAN_INCOME, 200);
    assert_int_equal(tally_poverty_whole_persons(p), 0);
    tally_poverty_free(p);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

static void test_poverty__ties_medians_and_edges(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_households *hh;
    tally_poverty *p;

    /* 村1: 10, 20 -> W_1/W = 1/2 exactly: (10 + 20)/2 = 15.
     * 村2: 10, 10, 20, 20 -> W_2/W = 2/4: (10 + 20)/2 = 15.
     * 村3: 10, 20, 20, 30 -> W_2/W = 2/4: (20 + 20)/2 = 20. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita\n"
                            "a,430602001001,1,20\n"
                            "b,430602001001,1,10\n"
                            "c,430602001002,1,20\n"
                            "d,430602001002,1,10\n"
                            "e,430602001002,1,20\n"
                            "f,430602001002,1,10\n"
                            "g,430626100201,1,30\n"
                            "h,430626100201,1,20\n"
                            "i,430626100201,1,20\n"
                            "j,430626100201,1,10\n");
    p = measure(hh, 0, 15, 0);
    expect(p, V1, TALLY_POVERTY_MEDIAN_INCOME, 15);
    expect(p, V2, TALLY_POVERTY_MEDIAN_INCOME, 15);
    expect(p, V3, TALLY_POVERTY_MEDIAN_INCOME, 20);
    /* 街道A: 10, 10, 10, 20, 20, 20: W_3/W = 3/6 exactly: (10 + 20)/2 = 15.
     * Gini of 10,10,10,20,20,20: sum over j (2j-7) x_j = 10*(-5-3-1) +
     * 20*(1+3+5) = 90; G = 2*90 / (2*36*15) = 1/6. */
    expect(p, TOWN_A, TALLY_POVERTY_MEDIAN_INCOME, 15);
    expect(p, TOWN_A, TALLY_POVERTY_GINI, 1.0 / 6);
    /* Ten households, four of them 10, below the line 15: P0 = 40 %. */
    expect(p, PROV, TALLY_POVERTY_P0, 40);
    tally_poverty_free(p);
    tally_households_free(hh);

    /* Every income 0: everybody poor with the whole gap, Watts 0 (income 0
     * is left out), Gini undefined (no income to share), median 0.
     * A household exactly at the line is not poor: P0 = P1 = P2 = Watts = 0;
     * equal incomes have Gini 0. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita\n"
                            "a,430602001001,3,0\n"
                            "b,430602001001,1,0\n"
                            "c,430626100201,2,100\n"
                            "d,430626100201,5,100\n");
    p = measure(hh, 0, 100, 100);
    expect(p, V1, TALLY_POVERTY_P0, 100);
    expect(p, V1, TALLY_POVERTY_P1, 100);
    expect(p, V1, TALLY_POVERTY_P2, 100);
    expect(p, V1, TALLY_POVERTY_WATTS, 0);
    expect_missing(p, V1, TALLY_POVERTY_GINI);
    expect(p, V1, TALLY_POVERTY_MEDIAN_INCOME, 0);
    expect(p, V1, TALLY_POVERTY_BELOW_MONITORING, 2);
    expect(p, V3, TALLY_POVERTY_P0, 0);
    expect(p, V3, TALLY_POVERTY_P1, 0);
    expect(p, V3, TALLY_POVERTY_P2, 0);
    expect(p, V3, TALLY_POVERTY_WATTS, 0);
    expect(p, V3, TALLY_POVERTY_GINI, 0);
    expect(p, V3, TALLY_POVERTY_MEDIAN_INCOME, 100);
    expect(p, V3, TALLY_POVERTY_BELOW_MONITORING, 0); /* 100 is not under 100 */
    /* 岳阳市: 4 persons at 0, 7 at 100. P0 = 4/11.
     * Gini, sorted 0 (4), 100 (7), W_i = 4, 11: (2*7*100*11 - 49*100) /
     * (11 * 700) - 1 = (15400 - 4900)/7700 - 1 = 2800/7700 (check: persons
     * pairs 4*7*100 = 2800; 2*2800/(2*121*700/11) = 2800/7700). */
    expect(p, CITY, TALLY_POVERTY_P0, 400.0 / 11);
    expect(p, CITY, TALLY_POVERTY_GINI, 2800.0 / 7700);
    tally_poverty_free(p);
    tally_households_free(hh);

    /* A household filed under a town counts for the town and above, not
     * for its villages. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita\n"
                            "t,430602001000,2,50\n"
                            "v,430602001001,2,150\n");
    p = measure(hh, 0, 100, 0);
    expect(p, V1, TALLY_POVERTY_P0, 0);
    expect(p, TOWN_A, TALLY_POVERTY_P0, 50);
    expect(p, TOWN_A, TALLY_POVERTY_HOUSEHOLDS, 2);
    expect(p, TOWN_A, TALLY_POVERTY_MEDIAN_INCOME, 100); /* W_1/W = 2/4: (50+150)/2 */
    tally_poverty_free(p);
    tally_households_free(hh);

    /* No households at all: every node empty. */
    assert_int_equal(tally_households_new(&hh, h), 0);
    p = measure(hh, 0, 100, 0);
    expect(p, PROV, TALLY_POVERTY_HOUSEHOLDS, 0);
    expect_missing(p, PROV, TALLY_POVERTY_P0);
    expect_missing(p, PROV, TALLY_POVERTY_GINI);
    tally_poverty_free(p);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

static void test_poverty__years_and_lines(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_definitions *d;
    static const char yaml[] = "indicators:\n"
                               "  - id: x\n"
                               "poverty:\n"
                               "  lines: {2019: 3218, 2020: 4000}\n"
                               "  monitoring_line: 5000\n";
    assert_int_equal(tally_definitions_from_buffer(&d, yaml, sizeof yaml - 1, "p.yaml"), 0);
    /* The same household id in two years is two households. */
    tally_households *hh = households_from(h, "household_id,region_code,size,income_per_capita,year\n"
                                              "a,430602001001,1,3000,2019\n"
                                              "a,430602001001,1,3900,2020\n"
                                              "b,430602001001,1,6000,2019\n");
    tally_poverty_options o = TALLY_POVERTY_OPTIONS_INIT;
    tally_poverty *p;
    /* Two years and none chosen: refused, never mixed. */
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_EINVAL);
    assert_null(p);
    assert_non_null(strstr(tally_error_last()->message, "more than one year (2019 and 2020)"));
    /* 2019 from the definitions: line 3218, a (3000) poor, b not: P0 50 %;
     * monitoring 5000: a only. The 2020 row is skipped and counted. */
    o.year = 2019;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), 0);
    assert_int_equal(tally_poverty_year(p), 2019);
    assert_true(tally_poverty_line(p) == 3218);
    assert_true(tally_poverty_monitoring_line(p) == 5000);
    assert_int_equal(tally_poverty_households_used(p), 2);
    assert_int_equal(tally_poverty_households_skipped(p), 1);
    expect(p, V1, TALLY_POVERTY_P0, 50);
    expect(p, V1, TALLY_POVERTY_BELOW_MONITORING, 1);
    tally_poverty_free(p);
    /* 2020: line 4000, a (3900) poor. --line overrides the definitions. */
    o.year = 2020;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), 0);
    expect(p, V1, TALLY_POVERTY_P0, 100);
    expect(p, V1, TALLY_POVERTY_P1, 100 * 100.0 / 4000);
    tally_poverty_free(p);
    o.line = 3800;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), 0);
    expect(p, V1, TALLY_POVERTY_P0, 0);
    tally_poverty_free(p);
    /* A year without a line, and no definitions at all. */
    o.line = 0;
    o.year = 2021;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_ENOTFOUND);
    assert_non_null(strstr(tally_error_last()->message, "no poverty line for 2021"));
    o.year = 2019;
    assert_int_equal(tally_poverty_households(&p, hh, NULL, &o), TALLY_ENOTFOUND);
    /* Lines must be positive numbers. */
    o.line = -1;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_EINVAL);
    o.line = NAN;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_EINVAL);
    o.line = 100;
    o.monitoring_line = -5;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_EINVAL);
    o.monitoring_line = 0;
    o.year = 19;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_EINVAL);
    tally_households_free(hh);

    /* One year in the data: taken without asking. Without a year column,
     * households belong to the year asked for; without either, a line must
     * be given. */
    hh = households_from(h, "household_id,region_code,size,income_per_capita,year\n"
                            "a,430602001001,1,3000,2019\n");
    o = (tally_poverty_options)TALLY_POVERTY_OPTIONS_INIT;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), 0);
    assert_int_equal(tally_poverty_year(p), 2019);
    tally_poverty_free(p);
    tally_households_free(hh);
    hh = households_from(h, "household_id,region_code,size,income_per_capita\n"
                            "a,430602001001,1,3000\n");
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), TALLY_ENOTFOUND);
    assert_non_null(strstr(tally_error_last()->message, "no year"));
    o.year = 2020;
    assert_int_equal(tally_poverty_households(&p, hh, d, &o), 0);
    assert_true(tally_poverty_line(p) == 4000);
    assert_int_equal(tally_poverty_households_used(p), 1);
    tally_poverty_free(p);
    tally_households_free(hh);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

typedef struct bad_case {
    const char *file;
    int code;
    unsigned long line, column;
    const char *reason_part;
} bad_case;

/* Header: household_id,region_code,size,income_per_capita,weight,year.
 * In a row "h2,430602001001,...": region at column 4, size 17, income 19,
 * weight 24, year 26 (fields of "h2,430602001001,4,2500,"). */
static const bad_case bad_cases[] = {
    { "bad-empty-id.csv", TALLY_EINVAL, 3, 1, "empty household_id" },
    /* "户甲," is 3 characters: the region starts at column 4. */
    { "bad-region.csv", TALLY_ENOTFOUND, 3, 4, "unknown region code '430602001099'" },
    { "bad-size.csv", TALLY_EINVAL, 3, 17, "size '2.5' is not a whole number >= 1" },
    { "bad-size-zero.csv", TALLY_EINVAL, 3, 17, "size '0' is not a whole number >= 1" },
    { "bad-income.csv", TALLY_EINVAL, 3, 19, "income_per_capita '-1' is negative" },
    { "bad-income-empty.csv", TALLY_EINVAL, 3, 19, "empty income_per_capita" },
    { "bad-income-text.csv", TALLY_EPARSE, 3, 19, "bad income_per_capita '3千'" },
    { "bad-weight.csv", TALLY_EINVAL, 3, 24, "weight '0' is not positive" },
    { "bad-weight-overflow.csv", TALLY_ERANGE, 3, 24, "weight '1e999' is out of range" },
    { "bad-year.csv", TALLY_EPARSE, 3, 26, "bad year '19'; expected YYYY like 2019" },
    /* h1 in 2020 (line 3) is another household; h1 in 2019 again is not. */
    { "bad-duplicate.csv", TALLY_EEXIST, 4, 1, "duplicate household 'h1' for year 2019, first at " },
    /* "h2,430602001001,4,2500,1" is 24 characters: the end of the row. */
    { "bad-fields.csv", TALLY_EPARSE, 3, 25, "row has 5 fields; expected 6" },
    /* "household_id,region_code,size,income_per_capita," is 48 characters. */
    { "bad-unknown-column.csv", TALLY_EPARSE, 1, 49, "unknown column 'wieght'" },
    { "bad-duplicate-column.csv", TALLY_EPARSE, 1, 49, "column 'size' given twice" },
    /* "household_id,region_code,income_per_capita" is 42 characters. */
    { "bad-no-size.csv", TALLY_EPARSE, 1, 43, "header has no 'size' column" },
    { "bad-quote.csv", TALLY_EPARSE, 3, 1, "unterminated quoted field" },
};

static void test_poverty__bad_rows_name_file_line_column(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    for (size_t k = 0; k < sizeof bad_cases / sizeof *bad_cases; k++) {
        const bad_case *bc = &bad_cases[k];
        tally_households *hh;
        assert_int_equal(tally_households_new(&hh, h), 0);
        char *path = fixture_path(bc->file);
        tally_read_stats st;
        int rc = tally_households_read_file(hh, path, NULL, NULL, &st);
        const tally_error *e = tally_error_last();
        if (rc != bc->code || e->line != bc->line || e->column != bc->column ||
            !strstr(e->message, bc->reason_part) || !e->path || strcmp(e->path, path) != 0) {
            print_error("%s: got code %d at %lu:%lu: %s\n", bc->file, rc, e->line, e->column,
                        e->message);
            fail();
        }
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "%s:%lu:%lu: ", path, bc->line, bc->column);
        assert_memory_equal(e->message, prefix, strlen(prefix));
        /* Rows before the bad one are kept; the header is not a row. */
        assert_int_equal(st.rows_read, st.rows_accepted + st.rows_rejected);
        assert_int_equal(tally_households_count(hh), st.rows_accepted);
        assert_int_equal(st.rows_rejected, bc->line > 1 ? 1 : 0);
        tally_households_free(hh);
    }
    tally_hierarchy_free(h);
}

static void test_poverty__collect_mode_keeps_every_bad_row(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_households *hh;
    tally_rejects *rej;
    assert_int_equal(tally_households_new(&hh, h), 0);
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    const char *path = fixture_path("mixed.csv");
    int rc = tally_households_read_file(hh, path, &opts, rej, &st);
    assert_int_equal(rc, 0);
    /* mixed.csv, by hand: lines 2, 4, 9 good; 3 size 0 (column 17); 5
     * unknown region (4); 6 blank, not a row; 7 bad number (19); 8 the id
     * of line 4 again (1). */
    assert_int_equal(st.rows_read, 7);
    assert_int_equal(st.rows_accepted, 3);
    assert_int_equal(st.rows_rejected, 4);
    assert_int_equal(tally_households_count(hh), 3);
    assert_int_equal(tally_rejects_count(rej), 4);
    static const unsigned long lines[] = { 3, 5, 7, 8 }, cols[] = { 17, 4, 19, 1 };
    static const int codes[] = { TALLY_EINVAL, TALLY_ENOTFOUND, TALLY_EPARSE, TALLY_EEXIST };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(tally_rejects_line(rej, i), lines[i]);
        assert_int_equal(tally_rejects_column(rej, i), cols[i]);
        assert_int_equal(tally_rejects_code(rej, i), codes[i]);
        assert_string_equal(tally_rejects_path(rej, i), path);
    }
    assert_string_equal(tally_rejects_row(rej, 2), "h5,430626100201,1,abc,1,2019");
    char want[1200];
    snprintf(want, sizeof want, "duplicate household 'h3' for year 2019, first at %s:4; each "
             "household is given once per year", path);
    assert_string_equal(tally_rejects_reason(rej, 3), want);
    tally_rejects_free(rej);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

/* A long file, read mostly by the one-pass rows: every duplicate names the
 * line of the first household, wherever it is kept (ids front coded in
 * blocks of 16, a long id, lines after 300 blank ones, a quoted id and a
 * CRLF row read by the general path, a duplicate in the next file). The
 * expected lines are counted here as the file is written. */
static void test_poverty__long_file_duplicates_name_the_first_line(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    static const char *const villages[] = { "430602001001", "430602001002", "430626100201" };
    enum { ROWS = 3000 };
    static unsigned long line_of[ROWS];
    size_t cap = 4u << 20, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    char longid[200];
    memset(longid, 'L', sizeof longid - 8);
    longid[sizeof longid - 8] = '\0';
    len += (size_t)snprintf(csv + len, cap - len,
                            "household_id,region_code,size,income_per_capita,weight,year\n");
    unsigned long line = 2;
    for (int i = 0; i < ROWS; i++) {
        if (i == 1001) {
            for (int b = 0; b < 300; b++)
                csv[len++] = '\n';
            line += 300;
        }
        const char *end = i == 1500 ? "\r\n" : "\n";
        if (i == 2000)
            len += (size_t)snprintf(csv + len, cap - len, "\"hh,%05d\",%s,%d,%d.5,1,2019%s", i,
                                    villages[(i / 7) % 3], 1 + i % 5, i, end);
        else if (i % 3 == 0)
            len += (size_t)snprintf(csv + len, cap - len, "%s%05d,%s,%d,%d.5,1,2019%s", longid, i,
                                    villages[(i / 7) % 3], 1 + i % 5, i, end);
        else
            len += (size_t)snprintf(csv + len, cap - len, "hh-%05d,%s,%d,%d.5,1,2019%s", i,
                                    villages[(i / 7) % 3], 1 + i % 5, i, end);
        line_of[i] = line++;
    }
    /* Duplicates of rows 5, 6 (twice in a row), 1000 (the last before the
     * blank lines), 1001 (the first after them), 1500 (CRLF), 2000
     * (quoted), 2997 (long id), then a new household. */
    static const int dups[] = { 5, 6, 6, 1000, 1001, 1500, 2000, 2997 };
    for (size_t k = 0; k < sizeof dups / sizeof *dups; k++) {
        int i = dups[k];
        if (i == 2000)
            len += (size_t)snprintf(csv + len, cap - len, "\"hh,%05d\",%s,2,9,1,2019\n", i,
                                    villages[0]);
        else if (i % 3 == 0)
            len += (size_t)snprintf(csv + len, cap - len, "%s%05d,%s,2,9,1,2019\n", longid, i,
                                    villages[0]);
        else
            len += (size_t)snprintf(csv + len, cap - len, "hh-%05d,%s,2,9,1,2019\n", i,
                                    villages[0]);
    }
    len += (size_t)snprintf(csv + len, cap - len, "hh-new,%s,2,9,1,2019\n", villages[1]);

    tally_households *hh;
    tally_rejects *rej;
    assert_int_equal(tally_households_new(&hh, h), 0);
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    assert_int_equal(tally_households_read_buffer(hh, csv, len, "households.csv", &opts, rej, &st), 0);
    size_t ndups = sizeof dups / sizeof *dups;
    assert_int_equal(st.rows_read, ROWS + ndups + 1);
    assert_int_equal(st.rows_rejected, ndups);
    assert_int_equal(tally_households_count(hh), ROWS + 1);
    char want[1200], id[256];
    for (size_t k = 0; k < ndups; k++) {
        int i = dups[k];
        if (i == 2000)
            snprintf(id, sizeof id, "hh,%05d", i);
        else if (i % 3 == 0)
            snprintf(id, sizeof id, "%s%05d", longid, i);
        else
            snprintf(id, sizeof id, "hh-%05d", i);
        snprintf(want, sizeof want, "duplicate household '%s' for year 2019, first at "
                 "households.csv:%lu; each household is given once per year", id, line_of[i]);
        assert_string_equal(tally_rejects_reason(rej, k), want);
        assert_int_equal(tally_rejects_line(rej, k), line + k);
    }
    /* The next file: a duplicate of a row of the first. */
    const char second[] = "household_id,region_code,size,income_per_capita,weight,year\n"
                          "hh-02999,430602001001,1,5,1,2019\n";
    assert_int_equal(tally_households_read_buffer(hh, second, sizeof second - 1, "second.csv",
                                                  &opts, rej, &st), 0);
    assert_int_equal(st.rows_rejected, 1);
    snprintf(want, sizeof want, "duplicate household 'hh-02999' for year 2019, first at "
             "households.csv:%lu; each household is given once per year", line_of[2999]);
    assert_string_equal(tally_rejects_reason(rej, ndups), want);
    /* Every household is measured once: the province has them all, 岳阳楼区
     * (node 2) those of 村1 and 村2. */
    tally_poverty *p = measure(hh, 0, 1000, 0);
    double v;
    int present;
    assert_int_equal(tally_poverty_value(p, 0, TALLY_POVERTY_HOUSEHOLDS, &v, &present), 0);
    assert_true(v == ROWS + 1.0);
    size_t in_county = 1; /* hh-new */
    for (int i = 0; i < ROWS; i++)
        in_county += (i / 7) % 3 != 2;
    assert_int_equal(tally_poverty_value(p, 2, TALLY_POVERTY_HOUSEHOLDS, &v, &present), 0);
    assert_true(v == (double)in_county);
    tally_poverty_free(p);
    tally_rejects_free(rej);
    tally_households_free(hh);
    tally_hierarchy_free(h);
    free(csv);
}

/* Converts UTF-8 text to GB18030 with iconv, to make test input. */
static char *to_gb18030(const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t in_left = strlen(utf8), cap = in_left * 2 + 8, out_left = cap;
    char *buf = malloc(cap), *in = (char *)utf8, *out = buf;
    assert_true(iconv(cd, &in, &in_left, &out, &out_left) != (size_t)-1);
    iconv_close(cd);
    *len = cap - out_left;
    return buf;
}

static void test_poverty__gb18030_households(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    size_t len;
    char *gb = to_gb18030("household_id,region_code,size,income_per_capita\n"
                          "户甲,430602001001,2,3000\n"
                          "户甲,430602001002,2,3000\n",
                          &len);
    tally_households *hh;
    assert_int_equal(tally_households_new(&hh, h), 0);
    /* Undeclared: the id is not UTF-8, and the message says what to do. */
    assert_int_equal(tally_households_read_buffer(hh, gb, len, "gb.csv", NULL, NULL, NULL),
                     TALLY_EPARSE);
    assert_int_equal(tally_error_last()->line, 2);
    assert_int_equal(tally_error_last()->column, 1);
    assert_non_null(strstr(tally_error_last()->message, "--encoding gb18030"));
    assert_int_equal(tally_households_count(hh), 0);
    /* Declared: read as UTF-8; the second 户甲 is a duplicate at line 3. */
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.encoding = "gb18030";
    tally_read_stats st;
    assert_int_equal(tally_households_read_buffer(hh, gb, len, "gb.csv", &ro, NULL, &st),
                     TALLY_EEXIST);
    assert_int_equal(st.rows_accepted, 1);
    assert_int_equal(tally_error_last()->line, 3);
    assert_non_null(strstr(tally_error_last()->message, "duplicate household '户甲', first at gb.csv:2"));
    free(gb);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

static void test_poverty__add_and_arguments(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_households *hh;
    assert_int_equal(tally_households_new(&hh, NULL), TALLY_EINVAL);
    assert_null(hh);
    assert_int_equal(tally_households_new(&hh, h), 0);
    assert_ptr_equal(tally_households_hierarchy(hh), h);
    assert_int_equal(tally_households_add(hh, "a", "430602001001", 2, 50, 1, 0), 0);
    assert_int_equal(tally_households_add(hh, "a", "430602001001", 2, 50, 1, 0), TALLY_EEXIST);
    assert_int_equal(tally_households_add(hh, "a", "430602001001", 2, 50, 1, 2019), 0);
    assert_int_equal(tally_households_add(hh, "b", "430602009999", 2, 50, 1, 0), TALLY_ENOTFOUND);
    assert_int_equal(tally_households_add(hh, "", "430602001001", 2, 50, 1, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 0, 50, 1, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1.5, 50, 1, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1, -0.01, 1, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1, NAN, 1, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1, 50, 0, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1, 50, INFINITY, 0), TALLY_EINVAL);
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1, 50, 1, 99), TALLY_EINVAL);
    /* Bounds that keep every sum finite. */
    assert_int_equal(tally_households_add(hh, "b", "430602001001", 1e6, 1e15, 1e12, 0), 0);
    assert_int_equal(tally_households_add(hh, "c", "430602001001", 2e6, 50, 1, 0), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message, "size 2e+06 is over 1000000"));
    assert_int_equal(tally_households_add(hh, "c", "430602001001", 1, 2e15, 1, 0), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message, "is over 1e15"));
    assert_int_equal(tally_households_add(hh, "c", "430602001001", 1, 50, 1e300, 0), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message, "weight 1e+300 is over 1e12"));
    assert_int_equal(tally_households_count(hh), 3);
    /* A file read after add() sees the added ids too. */
    static const char csv[] = "household_id,region_code,size,income_per_capita\n"
                              "a,430626100201,1,10\n";
    assert_int_equal(tally_households_read_buffer(hh, csv, sizeof csv - 1, NULL, NULL, NULL, NULL),
                     TALLY_EEXIST);
    assert_non_null(strstr(tally_error_last()->message, "<buffer>:2:1: duplicate household 'a', "
                                                        "added by tally_households_add"));
    /* Collecting needs a rejects list; an empty file has no header. */
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    assert_int_equal(tally_households_read_buffer(hh, csv, sizeof csv - 1, "x", &opts, NULL, NULL),
                     TALLY_EINVAL);
    assert_int_equal(tally_households_read_buffer(hh, "", 0, "empty.csv", NULL, NULL, NULL),
                     TALLY_EPARSE);
    assert_int_equal(tally_households_read_file(hh, "/nonexistent/households.csv", NULL, NULL, NULL),
                     TALLY_EIO);
    tally_households_free(hh);
    tally_households_free(NULL);
    tally_poverty_free(NULL);
    tally_thresholds_free(NULL);
    tally_hierarchy_free(h);
}

/* Reads a whole file into a fresh string. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_poverty__writes_csv_and_json(void **state)
{
    (void)state;
    tally_hierarchy *h = load_hierarchy();
    tally_households *hh = households_from(h, hand_csv);
    tally_poverty *p = measure(hh, 2019, 100, 120);
    char out[] = "/tmp/tally-poverty-XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    int levels[] = { 4 }; /* villages */
    tally_write_options w = TALLY_WRITE_OPTIONS_INIT;
    w.levels = levels;
    w.level_count = 1;
    assert_int_equal(tally_poverty_write(p, out, &w), 0);
    /* The numbers of test_poverty__measures_worked_by_hand: ln 2 / 2 =
     * 0.346574 -> 34.6574; 3 ln 1.25 / 5 = 0.133886 -> 13.3886. */
    assert_string_equal(slurp(out),
                        "region_code,region_name,level,year,households,persons,poverty_line,"
                        "p0,p1,p2,watts,gini,median_income,below_monitoring_line\n"
                        "430602001001,村1,village,2019,4,4,100.00,50.0000,25.0000,12.5000,"
                        "34.6574,0.2500,75.00,3\n"
                        "430626100201,村3,village,2019,2,5,100.00,100.0000,52.0000,42.4000,"
                        "13.3886,0.4000,80.00,2\n");
    /* 村2 has no household: left out, but for all_regions. */
    w.all_regions = 1;
    assert_int_equal(tally_poverty_write(p, out, &w), 0);
    assert_string_equal(slurp(out),
                        "region_code,region_name,level,year,households,persons,poverty_line,"
                        "p0,p1,p2,watts,gini,median_income,below_monitoring_line\n"
                        "430602001001,村1,village,2019,4,4,100.00,50.0000,25.0000,12.5000,"
                        "34.6574,0.2500,75.00,3\n"
                        "430602001002,村2,village,2019,0,0,100.00,,,,,,,0\n"
                        "430626100201,村3,village,2019,2,5,100.00,100.0000,52.0000,42.4000,"
                        "13.3886,0.4000,80.00,2\n");
    w.all_regions = 0;
    int county[] = { 2 };
    w.levels = county;
    w.format = TALLY_FORMAT_JSON;
    assert_int_equal(tally_poverty_write(p, out, &w), 0);
    assert_string_equal(slurp(out),
                        "[\n"
                        "{\"region_code\":\"430602000000\",\"region_name\":\"岳阳楼区\",\"level\":"
                        "\"county\",\"year\":2019,\"households\":4,\"persons\":4,\"poverty_line\":"
                        "100.00,\"p0\":50.0000,\"p1\":25.0000,\"p2\":12.5000,\"watts\":34.6574,"
                        "\"gini\":0.2500,\"median_income\":75.00,\"below_monitoring_line\":3},\n"
                        "{\"region_code\":\"430626000000\",\"region_name\":\"平江县\",\"level\":"
                        "\"county\",\"year\":2019,\"households\":2,\"persons\":5,\"poverty_line\":"
                        "100.00,\"p0\":100.0000,\"p1\":52.0000,\"p2\":42.4000,\"watts\":13.3886,"
                        "\"gini\":0.4000,\"median_income\":80.00,\"below_monitoring_line\":2}\n"
                        "]\n");
    unlink(out);
    assert_int_equal(tally_poverty_write(p, "/nonexistent/dir/out.csv", NULL), TALLY_EIO);
    tally_poverty_free(p);
    tally_households_free(hh);
    tally_hierarchy_free(h);
}

/* ---- exit thresholds ---- */

static const char threshold_defs[] =
    "indicators:\n"
    "  - id: poor\n"
    "    over_time: stock\n"
    "  - id: pop\n"
    "    over_time: stock\n"
    "  - id: insured\n"
    "    over_time: stock\n"
    "  - id: incidence\n"
    "    unit: \"%\"\n"
    "    formula: poor / pop * 100\n"
    "    decimals: 2\n"
    "    thresholds:\n"
    "      - level: county\n"
    "        max: 2.0\n"
    "        overrides:\n"
    "          - { regions: [\"4306\"], max: 3.0 }\n"
    "          - { regions: [\"51\", \"43062\"], max: 1.0 }\n"
    "      - { level: town, max: 2.5 }\n"
    "      - { level: village, max: 2.0, inclusive: true }\n"
    "  - id: coverage\n"
    "    unit: \"%\"\n"
    "    formula: insured / pop * 100\n"
    "    decimals: 1\n"
    "    thresholds:\n"
    "      - { level: village, min: 95 }\n";

/* 2019: 村1 2 of 100 poor, 95 insured; 村2 3 of 100, 99 insured; 村3 1 of
 * 200, 200 insured. 2018: only 村1, 1 of 100. */
static const char threshold_records[] = "region_code,indicator,period,value\n"
                                        "430602001001,poor,2019,2\n"
                                        "430602001001,pop,2019,100\n"
                                        "430602001001,insured,2019,95\n"
                                        "430602001002,poor,2019,3\n"
                                        "430602001002,pop,2019,100\n"
                                        "430602001002,insured,2019,99\n"
                                        "430626100201,poor,2019,1\n"
                                        "430626100201,pop,2019,200\n"
                                        "430626100201,insured,2019,200\n"
                                        "430602001001,poor,2018,1\n"
                                        "430602001001,pop,2018,100\n";

static void expect_status_at(const tally_thresholds *t, size_t node, size_t k, size_t per,
                             double value, double threshold, int meets, double margin, int line)
{
    tally_threshold_status s;
    assert_int_equal(tally_thresholds_status(t, node, k, per, &s), 0);
    int ok = (isnan(value) ? isnan(s.value) : fabs(s.value - value) < 1e-12) &&
             (isnan(threshold) ? isnan(s.threshold) : s.threshold == threshold) &&
             s.meets == meets &&
             (isnan(margin) ? isnan(s.margin) : fabs(s.margin - margin) < 1e-12);
    if (!ok) {
        print_error("line %d: node %zu: got value %g threshold %g meets %d margin %g\n", line,
                    node, s.value, s.threshold, s.meets, s.margin);
        fail();
    }
}
#define expect_status(t, node, k, per, v, th, meets, margin) \
    expect_status_at(t, node, k, per, v, th, meets, margin, __LINE__)

static void test_poverty__thresholds_from_records(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, threshold_defs);
    assert_int_equal(tally_dataset_read_buffer(f.ds, threshold_records, sizeof threshold_records - 1,
                                               "r.csv", NULL, NULL, NULL),
                     0);
    tally_result *r;
    assert_int_equal(tally_rollup(&r, f.ds, NULL), 0);
    tally_thresholds *t;
    assert_int_equal(tally_poverty_thresholds(&t, r, NULL), 0);
    /* Both thresholded indicators, in definition order; periods 2018, 2019. */
    assert_int_equal(tally_thresholds_indicator_count(t), 2);
    assert_int_equal(tally_thresholds_indicator(t, 0), 3);
    assert_int_equal(tally_thresholds_indicator(t, 1), 4);
    assert_int_equal(tally_thresholds_period_count(t), 2);
    assert_string_equal(tally_thresholds_period(t, 1), "2019");
    const size_t Y2019 = 1, Y2018 = 0;

    /* incidence 2019:
     * 村1 2/100 = 2 %, village max 2 inclusive: meets, margin 0.
     * 村2 3 %: no, margin 2 - 3 = -1.  村3 1/200 = 0.5 %: yes, margin 1.5.
     * 街道A (2+3)/(100+100) = 2.5 %, town max 2.5 strictly: equal does not
     * meet, margin 0.
     * 岳阳楼区 2.5 %: county 2.0, but the override "4306" (430602...) gives
     * 3.0: yes, margin 0.5.
     * 平江县 0.5 %: "4306" and "43062" both match 430626...; the longer
     * gives 1.0: yes, margin 0.5.
     * 镇B 0.5 %: town 2.5, margin 2.
     * 岳阳市 and 湖南省 (3+2+1)/400 = 1.5 %: no threshold for their levels. */
    expect_status(t, V1, 0, Y2019, 2.0, 2.0, 1, 0.0);
    expect_status(t, V2, 0, Y2019, 3.0, 2.0, 0, -1.0);
    expect_status(t, V3, 0, Y2019, 0.5, 2.0, 1, 1.5);
    expect_status(t, TOWN_A, 0, Y2019, 2.5, 2.5, 0, 0.0);
    expect_status(t, YLQ, 0, Y2019, 2.5, 3.0, 1, 0.5);
    expect_status(t, PJX, 0, Y2019, 0.5, 1.0, 1, 0.5);
    expect_status(t, TOWN_B, 0, Y2019, 0.5, 2.5, 1, 2.0);
    expect_status(t, CITY, 0, Y2019, 1.5, NAN, -1, NAN);
    expect_status(t, PROV, 0, Y2019, 1.5, NAN, -1, NAN);
    /* 2018: only 村1 reported (1 %); 村2 and 村3 are missing, not 0 %. */
    expect_status(t, V1, 0, Y2018, 1.0, 2.0, 1, 1.0);
    expect_status(t, V2, 0, Y2018, NAN, 2.0, -1, NAN);
    expect_status(t, V3, 0, Y2018, NAN, 2.0, -1, NAN);
    /* coverage 2019, village min 95 strictly: 村1 95 % does not meet it
     * (margin value - threshold = 0); 村2 99 %: +4; 村3 100 %: +5. Towns
     * have no threshold. */
    expect_status(t, V1, 1, Y2019, 95.0, 95.0, 0, 0.0);
    expect_status(t, V2, 1, Y2019, 99.0, 95.0, 1, 4.0);
    expect_status(t, V3, 1, Y2019, 100.0, 95.0, 1, 5.0);
    expect_status(t, TOWN_A, 1, Y2019, 97.0, NAN, -1, NAN);
    tally_threshold_status s;
    assert_int_equal(tally_thresholds_status(t, V1, 0, Y2019, &s), 0);
    assert_true(s.is_max && s.inclusive);
    assert_int_equal(tally_thresholds_status(t, V1, 1, Y2019, &s), 0);
    assert_true(!s.is_max && !s.inclusive);
    assert_int_equal(tally_thresholds_status(t, V1, 2, Y2019, &s), TALLY_EINVAL);
    assert_int_equal(tally_thresholds_status(t, 99, 0, Y2019, &s), TALLY_EINVAL);

    /* Written: villages, CSV; numbers with each indicator's decimals. */
    char out[] = "/tmp/tally-thresholds-XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    int village[] = { 4 };
    tally_write_options w = TALLY_WRITE_OPTIONS_INIT;
    w.levels = village;
    w.level_count = 1;
    /* The rows without a value (2018, but for 村1's incidence) are left
     * out, but for all_regions. */
    assert_int_equal(tally_thresholds_write(t, out, &w), 0);
    assert_string_equal(slurp(out),
                        "region_code,region_name,level,period,indicator,value,threshold,"
                        "meets_threshold,margin\n"
                        "430602001001,村1,village,2018,incidence,1.00,2.00,yes,1.00\n"
                        "430602001001,村1,village,2019,incidence,2.00,2.00,yes,0.00\n"
                        "430602001001,村1,village,2019,coverage,95.0,95.0,no,0.0\n"
                        "430602001002,村2,village,2019,incidence,3.00,2.00,no,-1.00\n"
                        "430602001002,村2,village,2019,coverage,99.0,95.0,yes,4.0\n"
                        "430626100201,村3,village,2019,incidence,0.50,2.00,yes,1.50\n"
                        "430626100201,村3,village,2019,coverage,100.0,95.0,yes,5.0\n");
    w.all_regions = 1;
    assert_int_equal(tally_thresholds_write(t, out, &w), 0);
    assert_string_equal(slurp(out),
                        "region_code,region_name,level,period,indicator,value,threshold,"
                        "meets_threshold,margin\n"
                        "430602001001,村1,village,2018,incidence,1.00,2.00,yes,1.00\n"
                        "430602001001,村1,village,2019,incidence,2.00,2.00,yes,0.00\n"
                        "430602001001,村1,village,2018,coverage,,95.0,,\n"
                        "430602001001,村1,village,2019,coverage,95.0,95.0,no,0.0\n"
                        "430602001002,村2,village,2018,incidence,,2.00,,\n"
                        "430602001002,村2,village,2019,incidence,3.00,2.00,no,-1.00\n"
                        "430602001002,村2,village,2018,coverage,,95.0,,\n"
                        "430602001002,村2,village,2019,coverage,99.0,95.0,yes,4.0\n"
                        "430626100201,村3,village,2018,incidence,,2.00,,\n"
                        "430626100201,村3,village,2019,incidence,0.50,2.00,yes,1.50\n"
                        "430626100201,村3,village,2018,coverage,,95.0,,\n"
                        "430626100201,村3,village,2019,coverage,100.0,95.0,yes,5.0\n");
    w.all_regions = 0;
    int city[] = { 1 };
    w.levels = city;
    w.format = TALLY_FORMAT_JSON;
    assert_int_equal(tally_thresholds_write(t, out, &w), 0);
    assert_string_equal(slurp(out),
                        "[\n"
                        "{\"region_code\":\"430600000000\",\"region_name\":\"岳阳市\",\"level\":\"city\","
                        "\"period\":\"2018\",\"indicator\":\"incidence\",\"value\":1.00,\"threshold\":null,"
                        "\"meets_threshold\":null,\"margin\":null},\n"
                        "{\"region_code\":\"430600000000\",\"region_name\":\"岳阳市\",\"level\":\"city\","
                        "\"period\":\"2019\",\"indicator\":\"incidence\",\"value\":1.50,\"threshold\":null,"
                        "\"meets_threshold\":null,\"margin\":null},\n"
                        "{\"region_code\":\"430600000000\",\"region_name\":\"岳阳市\",\"level\":\"city\","
                        "\"period\":\"2019\",\"indicator\":\"coverage\",\"value\":98.5,\"threshold\":null,"
                        "\"meets_threshold\":null,\"margin\":null}\n"
                        "]\n");
    unlink(out);
    tally_thresholds_free(t);

    /* Asking for one indicator, with or without thresholds. */
    size_t pick[] = { 1 }; /* pop: no thresholds, so no threshold anywhere */
    tally_thresholds_options o = TALLY_THRESHOLDS_OPTIONS_INIT;
    o.indicators = pick;
    o.indicator_count = 1;
    assert_int_equal(tally_poverty_thresholds(&t, r, &o), 0);
    assert_int_equal(tally_thresholds_indicator_count(t), 1);
    expect_status(t, V1, 0, Y2019, 100.0, NAN, -1, NAN);
    tally_thresholds_free(t);
    pick[0] = 42;
    assert_int_equal(tally_poverty_thresholds(&t, r, &o), TALLY_EINVAL);
    assert_null(t);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_poverty__thresholds_errors(void **state)
{
    (void)state;
    /* No indicator with thresholds. */
    fixture f;
    fixture_load(&f, NULL);
    tally_result *r;
    assert_int_equal(tally_rollup(&r, f.ds, NULL), 0);
    tally_thresholds *t;
    assert_int_equal(tally_poverty_thresholds(&t, r, NULL), TALLY_ENOTFOUND);
    assert_non_null(strstr(tally_error_last()->message, "no indicator has thresholds"));
    assert_null(t);
    tally_result_free(r);
    fixture_free(&f);

    /* A hierarchy read with other level names than the definitions use:
     * the threshold's level (line 8 of the definitions) names no level. */
    static const char defs[] = "indicators:\n"
                               "  - id: poor\n"
                               "  - id: pop\n"
                               "  - id: incidence\n"
                               "    formula: poor / pop * 100\n"
                               "    thresholds:\n"
                               "      - { level: village, max: 2 }\n";
    static const char *const names[] = { "sheng", "shi", "xian", "xiang", "cun" };
    tally_hierarchy_options ho = TALLY_HIERARCHY_OPTIONS_INIT;
    ho.level_names = names;
    ho.level_count = 5;
    static const char hier[] = "code,name\n430600000000,岳阳市\n430602000000,岳阳楼区\n";
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *ds;
    assert_int_equal(tally_hierarchy_from_buffer(&h, hier, sizeof hier - 1, "h.csv", &ho), 0);
    assert_int_equal(tally_definitions_from_buffer(&d, defs, sizeof defs - 1, "d.yaml"), 0);
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    assert_int_equal(tally_rollup(&r, ds, NULL), 0);
    assert_int_equal(tally_poverty_thresholds(&t, r, NULL), TALLY_ENOTFOUND);
    assert_non_null(strstr(tally_error_last()->message, "line 7"));
    assert_non_null(strstr(tally_error_last()->message, "'village'"));
    tally_result_free(r);
    tally_dataset_free(ds);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poverty__measures_worked_by_hand),
        cmocka_unit_test(test_poverty__weights),
        cmocka_unit_test(test_poverty__ties_medians_and_edges),
        cmocka_unit_test(test_poverty__years_and_lines),
        cmocka_unit_test(test_poverty__bad_rows_name_file_line_column),
        cmocka_unit_test(test_poverty__collect_mode_keeps_every_bad_row),
        cmocka_unit_test(test_poverty__long_file_duplicates_name_the_first_line),
        cmocka_unit_test(test_poverty__gb18030_households),
        cmocka_unit_test(test_poverty__add_and_arguments),
        cmocka_unit_test(test_poverty__writes_csv_and_json),
        cmocka_unit_test(test_poverty__thresholds_from_records),
        cmocka_unit_test(test_poverty__thresholds_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
