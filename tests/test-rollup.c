/* Rollup semantics: every aggregation type and time rule on hand-computed
 * cases, precedence of reported and computed values, formulas as ratios of
 * sums, comparisons, compensated sums, and a randomized comparison with a
 * plain reference written another way (walking parents, per node). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixtures.h"

static tally_result *roll(const fixture *f, const char *periods, int prefer, int compare)
{
    const char *list[8];
    size_t n = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", periods);
    for (char *tok = strtok(buf, ","); tok && n < 8; tok = strtok(NULL, ","))
        list[n++] = tok;
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    opts.periods = list;
    opts.period_count = n;
    opts.prefer = prefer;
    opts.compare = compare;
    tally_result *r = NULL;
    if (tally_rollup(&r, f->ds, &opts)) {
        fprintf(stderr, "rollup: %s\n", tally_error_last()->message);
        abort();
    }
    return r;
}

/* The value at (node, indicator, period index); NaN when missing. */
static double val(const tally_result *r, size_t node, size_t ind, size_t per)
{
    double v;
    int present;
    assert_int_equal(tally_result_value(r, node, ind, per, &v, &present), 0);
    assert_int_equal(present, !isnan(v));
    return v;
}

#define assert_missing(x) assert_true(isnan(x))
#define assert_near(x, y) assert_true(fabs((x) - (double)(y)) <= 1e-9 * fmax(1.0, fabs((double)(y))))

static void add(fixture *f, size_t node, const char *ind, const char *period, double v)
{
    if (tally_dataset_add(f->ds, tally_hierarchy_code(f->h, node), ind, period, v)) {
        fprintf(stderr, "add: %s\n", tally_error_last()->message);
        abort();
    }
}

/* A sum past DBL_MAX is an error naming where it overflowed, not a
 * missing cell: 1e308 + 1e308 at the town of V1 and V2 (both finite
 * themselves), and a flow year of two 1e308 months at V1 itself. */
static void test_rollup__overflow_is_an_error(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2019-01", 1e308);
    add(&f, V2, "poor", "2019-01", 1e308);
    const char *jan[] = { "2019-01" };
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    opts.periods = jan;
    opts.period_count = 1;
    tally_result *r = (tally_result *)1;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), TALLY_ERANGE);
    assert_null(r);
    const char *msg = tally_error_last()->message;
    assert_non_null(strstr(msg, "poor (贫困人口) of 430602001000 街道A in 2019-01"));
    fixture_free(&f);

    fixture_load(&f, NULL);
    add(&f, V1, "exits", "2019-01", 1e308);
    add(&f, V1, "exits", "2019-02", 1e308);
    const char *year[] = { "2019" };
    opts.periods = year;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), TALLY_ERANGE);
    assert_non_null(strstr(tally_error_last()->message, "exits (exits) of 430602001001 村1 in 2019"));
    /* Each month alone is finite: the periods of the data roll up. */
    assert_int_equal(tally_rollup(&r, f.ds, NULL), 0);
    tally_result_free(r);
    opts.periods = jan;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), 0);
    assert_true(val(r, V1, N_EXITS, 0) == 1e308);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__stock_takes_the_latest_report(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2019-01", 10);
    add(&f, V1, "poor", "2019-02", 8);
    add(&f, V1, "poor", "2019-03", 7);
    add(&f, V2, "poor", "2019-01", 20);
    add(&f, V2, "poor", "2019-03", 15); /* no February */
    add(&f, V3, "poor", "2019-01", 5);
    add(&f, V3, "poor", "2019-02", 5);
    add(&f, V3, "poor", "2019-12", 1);
    tally_result *r = roll(&f, "2019-02,2019-Q1,2019", TALLY_PREFER_COMPUTED, 0);
    /* 2019-02: V1 8, V2 missing, V3 5. */
    assert_near(val(r, V1, N_POOR, 0), 8);
    assert_missing(val(r, V2, N_POOR, 0));
    assert_near(val(r, TOWN_A, N_POOR, 0), 8);
    assert_near(val(r, PJX, N_POOR, 0), 5);
    assert_near(val(r, CITY, N_POOR, 0), 13);
    assert_near(val(r, PROV, N_POOR, 0), 13);
    /* 2019-Q1: latest inside the quarter: 7 + 15 + 5. */
    assert_near(val(r, TOWN_A, N_POOR, 1), 22);
    assert_near(val(r, CITY, N_POOR, 1), 27);
    /* 2019: 7 + 15 + 1. */
    assert_near(val(r, V3, N_POOR, 2), 1);
    assert_near(val(r, CITY, N_POOR, 2), 23);
    /* Nothing reported for pop: missing everywhere, not zero. */
    assert_missing(val(r, CITY, N_POP, 2));
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__flow_sums_and_uses_the_finest_reports(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "exits", "2019-01", 1);
    add(&f, V1, "exits", "2019-02", 2);
    add(&f, V1, "exits", "2019-04", 3);
    add(&f, V2, "exits", "2019-01", 4);
    add(&f, V3, "exits", "2019-Q2", 6); /* a quarterly filer */
    tally_result *r = roll(&f, "2019-Q1,2019-Q2,2019,2019-04", TALLY_PREFER_COMPUTED, 0);
    /* Q1: V1 1+2, V2 4, V3 nothing. */
    assert_near(val(r, V1, N_EXITS, 0), 3);
    assert_near(val(r, TOWN_A, N_EXITS, 0), 7);
    assert_missing(val(r, PJX, N_EXITS, 0));
    assert_near(val(r, CITY, N_EXITS, 0), 7);
    /* Q2: V1 3, V3 its quarter report 6. */
    assert_near(val(r, TOWN_B, N_EXITS, 1), 6);
    assert_near(val(r, CITY, N_EXITS, 1), 9);
    /* 2019: 6 + 4 + 6. */
    assert_near(val(r, CITY, N_EXITS, 2), 16);
    /* April: V3's quarter is not inside a month. */
    assert_missing(val(r, V3, N_EXITS, 3));
    assert_near(val(r, CITY, N_EXITS, 3), 3);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__cumulative_takes_the_latest_year_to_date(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "trained", "2019-01", 5);
    add(&f, V1, "trained", "2019-03", 9);
    add(&f, V2, "trained", "2019-02", 4);
    tally_result *r = roll(&f, "2019-Q1,2019-02", TALLY_PREFER_COMPUTED, 0);
    assert_near(val(r, TOWN_A, N_TRAINED, 0), 13); /* 9 + 4 */
    assert_near(val(r, TOWN_A, N_TRAINED, 1), 4);  /* V1 filed nothing in February */
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__mean_is_over_regions_not_a_mean_of_means(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "income", "2019", 3000);
    add(&f, V2, "income", "2019", 6000);
    add(&f, V3, "income", "2019", 3000);
    add(&f, TOWN_B, "income", "2019", 9999); /* its own figure, also filed */
    add(&f, YLQ, "income", "2019", 100);
    tally_result *r = roll(&f, "2019", TALLY_PREFER_COMPUTED, 0);
    assert_near(val(r, TOWN_A, N_INCOME, 0), 4500);
    assert_near(val(r, TOWN_B, N_INCOME, 0), 3000); /* computed wins: V3 reported */
    assert_near(val(r, PJX, N_INCOME, 0), 3000);
    /* Over the three villages: 12000 / 3; a mean of county means would be 3750. */
    assert_near(val(r, CITY, N_INCOME, 0), 4000);
    double rep, cmp;
    assert_int_equal(tally_result_sides(r, TOWN_B, N_INCOME, 0, &rep, &cmp), 0);
    assert_near(rep, 9999);
    assert_near(cmp, 3000);
    tally_result_free(r);

    /* Reported first: 镇B and 岳阳楼区 use their own figures, and the city's
     * mean is over the regions that count: 岳阳楼区 (100) and 镇B (9999). */
    r = roll(&f, "2019", TALLY_PREFER_REPORTED, 0);
    assert_near(val(r, TOWN_B, N_INCOME, 0), 9999);
    assert_near(val(r, YLQ, N_INCOME, 0), 100);
    assert_near(val(r, TOWN_A, N_INCOME, 0), 4500);
    assert_near(val(r, CITY, N_INCOME, 0), 5049.5);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__min_max_count(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    static const char *ids[] = { "lowest", "highest", "reporting" };
    for (int k = 0; k < 3; k++) {
        add(&f, V1, ids[k], "2019-06", 3);
        add(&f, V2, ids[k], "2019-06", 7);
        add(&f, V3, ids[k], "2019-06", 5);
    }
    tally_result *r = roll(&f, "2019-06", TALLY_PREFER_COMPUTED, 0);
    assert_near(val(r, TOWN_A, N_LOWEST, 0), 3);
    assert_near(val(r, PJX, N_LOWEST, 0), 5);
    assert_near(val(r, CITY, N_LOWEST, 0), 3);
    assert_near(val(r, TOWN_A, N_HIGHEST, 0), 7);
    assert_near(val(r, CITY, N_HIGHEST, 0), 7);
    assert_near(val(r, V1, N_REPORTING, 0), 1);
    assert_near(val(r, TOWN_A, N_REPORTING, 0), 2);
    assert_near(val(r, PJX, N_REPORTING, 0), 1);
    assert_near(val(r, PROV, N_REPORTING, 0), 3);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__formulas_are_ratios_of_sums(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2019-03", 7);
    add(&f, V2, "poor", "2019-03", 15);
    add(&f, V1, "pop", "2019-03", 100);
    add(&f, V2, "pop", "2019-03", 300);
    add(&f, V3, "pop", "2019-03", 50);
    tally_result *r = roll(&f, "2019-03", TALLY_PREFER_COMPUTED, 0);
    assert_near(val(r, V1, N_RATE, 0), 7.0);
    assert_near(val(r, V2, N_RATE, 0), 5.0);
    /* 22 / 400 * 100 = 5.5; the mean of the village rates would be 6. */
    assert_near(val(r, TOWN_A, N_RATE, 0), 5.5);
    assert_near(val(r, TOWN_A, N_RATE2, 0), 11.0); /* a formula over a formula */
    /* 村3 has no poor figure: its rate is missing, and so is 平江县's. */
    assert_missing(val(r, V3, N_RATE, 0));
    assert_missing(val(r, PJX, N_RATE2, 0));
    /* City: matched coverage, over the villages that filed both figures:
     * 22 / 400 * 100 (村3's population has no poor count beside it; it
     * used to count in the denominator, 22 / 450). */
    assert_near(val(r, CITY, N_RATE, 0), 5.5);
    assert_near(val(r, CITY, N_RATE2, 0), 11.0);
    size_t regions, complete;
    int whole;
    assert_int_equal(tally_result_coverage(r, CITY, N_RATE, 0, &regions, &complete), 0);
    assert_int_equal(regions, 3);
    assert_int_equal(complete, 2);
    assert_int_equal(tally_result_complete(r, CITY, N_RATE, 0, &whole), 0);
    assert_int_equal(whole, 0);
    assert_int_equal(tally_result_coverage(r, TOWN_A, N_RATE, 0, &regions, &complete), 0);
    assert_int_equal(regions, 2);
    assert_int_equal(complete, 2);
    assert_int_equal(tally_result_complete(r, TOWN_A, N_RATE, 0, &whole), 0);
    assert_int_equal(whole, 1);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__reported_formula_values_are_kept_apart(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2019-03", 7);
    add(&f, V1, "pop", "2019-03", 100);
    add(&f, V1, "rate", "2019-03", 7.5); /* what the village printed */
    add(&f, V3, "rate", "2019-03", 2.0); /* no operands below or here */
    tally_result *r = roll(&f, "2019-03", TALLY_PREFER_COMPUTED, 0);
    assert_near(val(r, V1, N_RATE, 0), 7.0);
    double rep, cmp;
    tally_result_sides(r, V1, N_RATE, 0, &rep, &cmp);
    assert_near(rep, 7.5);
    assert_near(cmp, 7.0);
    assert_near(val(r, V3, N_RATE, 0), 2.0); /* nothing to compute: the reported one */
    tally_result_free(r);
    r = roll(&f, "2019-03", TALLY_PREFER_REPORTED, 0);
    assert_near(val(r, V1, N_RATE, 0), 7.5);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__compare_year_on_year_and_previous_period(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2018-03", 12);
    add(&f, V1, "poor", "2019-02", 9);
    add(&f, V1, "poor", "2019-03", 7);
    add(&f, V2, "poor", "2019-03", 15);
    add(&f, V1, "pop", "2018-03", 100);
    add(&f, V1, "pop", "2019-03", 100);
    tally_result *r = roll(&f, "2019-03", TALLY_PREFER_COMPUTED, TALLY_COMPARE_YOY);
    double prev;
    int present;
    tally_result_previous(r, V1, N_POOR, 0, &prev, &present);
    assert_true(present);
    assert_near(prev, 12);
    tally_result_previous(r, CITY, N_POOR, 0, &prev, &present);
    assert_near(prev, 12); /* only 村1 reported a year earlier */
    tally_result_previous(r, V2, N_POOR, 0, &prev, &present);
    assert_false(present);

    /* The CSV gains previous,change,change_pct; change_pct is empty for
     * an indicator in % (the change is in percentage points). */
    char path[] = "/tmp/tally-rollup-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int levels[] = { 4 };
    tally_write_options w = TALLY_WRITE_OPTIONS_INIT;
    w.levels = levels;
    w.level_count = 1;
    assert_int_equal(tally_result_write(r, path, &w), 0);
    FILE *fp = fopen(path, "r");
    char line[512];
    int found = 0;
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "region_code,region_name,level,indicator,period,value,previous,change,change_pct\n");
    while (fgets(line, sizeof line, fp)) {
        /* -5 / 12 * 100 = -41.666... -> -41.67 */
        if (!strcmp(line, "430602001001,村1,village,poor,2019-03,7,12,-5,-41.67\n"))
            found |= 1;
        /* rate 7.00 now, 12.00 a year earlier: -5.00 points, no percent change. */
        if (!strcmp(line, "430602001001,村1,village,rate,2019-03,7.00,12.00,-5.00,\n"))
            found |= 2;
    }
    fclose(fp);
    unlink(path);
    assert_int_equal(found, 3);
    tally_result_free(r);

    r = roll(&f, "2019-03", TALLY_PREFER_COMPUTED, TALLY_COMPARE_POP);
    tally_result_previous(r, V1, N_POOR, 0, &prev, &present);
    assert_near(prev, 9);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__sums_are_compensated(void **state)
{
    (void)state;
    static const char defs[] = "indicators:\n  - id: amount\n    decimals: 2\n";
    fixture f;
    fixture_load(&f, defs);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "amount", "2019-01", 1e16), 0);
    assert_int_equal(tally_dataset_add(f.ds, "430602001002", "amount", "2019-01", 1.0), 0);
    assert_int_equal(tally_dataset_add(f.ds, "430626100201", "amount", "2019-01", -1e16), 0);
    tally_result *r = roll(&f, "2019-01", TALLY_PREFER_COMPUTED, 0);
    /* Exactly 1: a plain running sum loses the 1 next to 1e16. */
    assert_true(val(r, CITY, 0, 0) == 1.0);
    tally_result_free(r);
    fixture_free(&f);
}

static void test_rollup__periods_default_to_the_data_in_time_order(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    add(&f, V1, "poor", "2019", 1);
    add(&f, V1, "poor", "2019-Q2", 1);
    add(&f, V1, "exits", "2019-11", 1);
    add(&f, V1, "exits", "2018-02", 1);
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    tally_result *r;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), 0);
    assert_int_equal(tally_result_period_count(r), 4);
    assert_string_equal(tally_result_period(r, 0), "2018-02");
    assert_string_equal(tally_result_period(r, 1), "2019-11");
    assert_string_equal(tally_result_period(r, 2), "2019-Q2");
    assert_string_equal(tally_result_period(r, 3), "2019");
    size_t idx;
    assert_int_equal(tally_result_period_find(r, "2019-Q2", &idx), 0);
    assert_int_equal(idx, 2);
    assert_int_equal(tally_result_period_find(r, "2017", &idx), TALLY_ENOTFOUND);
    tally_result_free(r);
    const char *bad[] = { "2019-13" };
    opts.periods = bad;
    opts.period_count = 1;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), TALLY_EPARSE);
    assert_null(r);
    fixture_free(&f);
}

/* ---- randomized comparison with a plain reference ---- */

enum { RN_MAX = 600, R_MONTHS = 12 };

static const char *agg_names[] = { "sum", "mean", "min", "max", "count" };
static const char *time_names[] = { "flow", "cumulative", "stock" };

typedef struct rnode {
    int parent; /* generation index, -1 for a root */
    int level;
    char code[16];
} rnode;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Reference own value over months [m0, m1] of one node: plain loops. */
static double ref_own(const double (*v)[R_MONTHS], const unsigned char (*ok)[R_MONTHS], int node,
                      int over_time, int m0, int m1)
{
    double acc = 0;
    int any = 0;
    for (int m = m0; m <= m1; m++) {
        if (!ok[node][m])
            continue;
        if (over_time == 0)
            acc += v[node][m];
        else
            acc = v[node][m];
        any = 1;
    }
    return any ? acc : NAN;
}

static void test_rollup__random_hierarchies_match_a_reference(void **state)
{
    (void)state;
    static rnode nodes[RN_MAX];
    static double vals[15][RN_MAX][R_MONTHS];
    static unsigned char ok[15][RN_MAX][R_MONTHS], empty[15][RN_MAX][R_MONTHS];
    static const int spans[][2] = { { 2, 2 }, { 3, 5 }, { 0, 11 }, { 10, 10 }, { 0, 2 } };
    static const char *span_names = "2019-03,2019-Q2,2019,2019-11,2019-Q1";

    for (unsigned seed = 1; seed <= 30; seed++) {
        rng_state = 0x9E3779B97F4A7C15ULL * seed;
        int n = 50 + (int)(rnd() % (RN_MAX - 50));
        /* Nodes: a few roots at level 0; each other node hangs on an earlier
         * node of level <= 3, one or two levels below it (skipped levels). */
        for (int i = 0; i < n; i++) {
            snprintf(nodes[i].code, sizeof nodes[i].code, "R%d", i);
            if (i < 3) {
                nodes[i].parent = -1;
                nodes[i].level = 0;
                continue;
            }
            int p;
            do
                p = (int)(rnd() % (uint64_t)i);
            while (nodes[p].level > 3);
            nodes[i].parent = p;
            nodes[i].level = nodes[p].level + 1 + (nodes[p].level <= 2 && rnd() % 4 == 0);
        }
        /* The file lists nodes in a shuffled order. */
        int order[RN_MAX];
        for (int i = 0; i < n; i++)
            order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        static const char *lv[] = { "province", "city", "county", "town", "village" };
        size_t cap = (size_t)n * 64 + 64, len = 0;
        char *csv = malloc(cap);
        len += (size_t)snprintf(csv + len, cap - len, "code,name,level,parent_code\n");
        for (int k = 0; k < n; k++) {
            const rnode *r = &nodes[order[k]];
            len += (size_t)snprintf(csv + len, cap - len, "%s,n%s,%s,%s\n", r->code, r->code,
                                    lv[r->level], r->parent < 0 ? "" : nodes[r->parent].code);
        }
        char defs[4096];
        size_t dl = (size_t)snprintf(defs, sizeof defs, "indicators:\n");
        for (int a = 0; a < 5; a++)
            for (int t = 0; t < 3; t++)
                dl += (size_t)snprintf(defs + dl, sizeof defs - dl,
                                       "  - id: i_%s_%s\n    aggregate: %s\n    over_time: %s\n",
                                       agg_names[a], time_names[t], agg_names[a], time_names[t]);
        fixture f;
        memset(&f, 0, sizeof f);
        assert_int_equal(tally_hierarchy_from_buffer(&f.h, csv, len, "random.csv", NULL), 0);
        assert_int_equal(tally_definitions_from_buffer(&f.d, defs, dl, "random.yaml"), 0);
        assert_int_equal(tally_dataset_new(&f.ds, f.h, f.d), 0);
        free(csv);

        int has_child[RN_MAX] = { 0 };
        for (int i = 0; i < n; i++)
            if (nodes[i].parent >= 0)
                has_child[nodes[i].parent] = 1;
        /* Every third seed, only the regions of one subtree below a root
         * report (as one county of a national table does): the rollup
         * then holds those regions and their ancestors, and every other
         * region must come out missing. */
        int sub = -1;
        for (int i = n - 1; seed % 3 == 0 && i >= 3 && sub < 0; i--)
            if (has_child[i] && nodes[i].level >= 1)
                sub = i;
        unsigned char in_sub[RN_MAX];
        for (int i = 0; i < n; i++) {
            int a = i;
            while (a >= 0 && a != sub)
                a = nodes[a].parent;
            in_sub[i] = sub < 0 || a == sub;
        }
        for (int k = 0; k < 15; k++) {
            char id[32];
            snprintf(id, sizeof id, "i_%s_%s", agg_names[k / 3], time_names[k % 3]);
            for (int i = 0; i < n; i++) {
                int reports = has_child[i] ? rnd() % 8 == 0 : rnd() % 2 == 0;
                reports &= in_sub[i];
                for (int m = 0; m < R_MONTHS; m++) {
                    ok[k][i][m] = 0;
                    empty[k][i][m] = 0;
                    if (!reports || rnd() % 10 < 3)
                        continue;
                    char per[8];
                    snprintf(per, sizeof per, "2019-%02d", m + 1);
                    if (rnd() % 20 == 0) { /* filed empty: missing */
                        empty[k][i][m] = 1;
                        assert_int_equal(tally_dataset_add(f.ds, nodes[i].code, id, per, NAN), 0);
                        continue;
                    }
                    vals[k][i][m] = (double)((int64_t)(rnd() % 2001) - 500);
                    ok[k][i][m] = 1;
                    assert_int_equal(tally_dataset_add(f.ds, nodes[i].code, id, per, vals[k][i][m]), 0);
                }
            }
        }

        for (int prefer = 0; prefer <= 1; prefer++) {
            tally_result *r = roll(&f, span_names, prefer, 0);
            for (int k = 0; k < 15; k++) {
                int agg = k / 3, ot = k % 3;
                for (int s = 0; s < 5; s++) {
                    double own[RN_MAX];
                    for (int i = 0; i < n; i++)
                        own[i] = ref_own((const double (*)[R_MONTHS])vals[k],
                                         (const unsigned char (*)[R_MONTHS])ok[k], i, ot,
                                         spans[s][0], spans[s][1]);
                    /* Which regions count for whom, by walking parents. */
                    static double sum[RN_MAX], mn[RN_MAX], mx[RN_MAX];
                    static int cnt[RN_MAX], below[RN_MAX];
                    for (int i = 0; i < n; i++) {
                        sum[i] = 0;
                        cnt[i] = 0;
                        below[i] = 0;
                        mn[i] = INFINITY;
                        mx[i] = -INFINITY;
                    }
                    for (int i = 0; i < n; i++)
                        if (!isnan(own[i]))
                            for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent)
                                below[a] = 1;
                    for (int i = 0; i < n; i++) {
                        if (isnan(own[i]))
                            continue;
                        if (prefer == TALLY_PREFER_COMPUTED && below[i])
                            continue; /* its subtree speaks for it */
                        for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent) {
                            sum[a] += own[i];
                            cnt[a]++;
                            mn[a] = fmin(mn[a], own[i]);
                            mx[a] = fmax(mx[a], own[i]);
                            if (prefer == TALLY_PREFER_REPORTED && !isnan(own[a]))
                                break; /* a's own value stands for it above */
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        double computed = NAN;
                        if (cnt[i]) {
                            computed = agg == 0   ? sum[i]
                                       : agg == 1 ? sum[i] / cnt[i]
                                       : agg == 2 ? mn[i]
                                       : agg == 3 ? mx[i]
                                                  : (double)cnt[i];
                        }
                        double ownv = agg == 4 && !isnan(own[i]) ? 1.0 : own[i];
                        double expect;
                        if (prefer == TALLY_PREFER_REPORTED)
                            expect = !isnan(own[i]) ? ownv : computed;
                        else
                            expect = cnt[i] ? computed : ownv;
                        size_t idx;
                        assert_int_equal(tally_hierarchy_find(f.h, nodes[i].code,
                                                              strlen(nodes[i].code), &idx), 0);
                        double got = val(r, idx, (size_t)k, (size_t)s);
                        if (isnan(expect) != isnan(got) ||
                            (!isnan(expect) && fabs(got - expect) > 1e-9 * fmax(1, fabs(expect)))) {
                            print_error("seed %u prefer %d indicator %d span %d node %s: expected %g got %g\n",
                                        seed, prefer, k, s, nodes[i].code, expect, got);
                            fail();
                        }
                        /* Reported: the node's own value after the time
                         * rule (for a count too); computed: what the
                         * regions below give, whatever the preference. */
                        double rep, cmp;
                        tally_result_sides(r, idx, (size_t)k, (size_t)s, &rep, &cmp);
                        assert_true(isnan(rep) == isnan(own[i]));
                        if (!isnan(own[i]))
                            assert_near(rep, own[i]);
                        assert_true(isnan(cmp) == isnan(computed));
                        if (!isnan(computed))
                            assert_near(cmp, computed);
                    }
                }
            }
            tally_result_free(r);
        }

        /* tally_rollup_take: the same values and sides, whether or not the
         * reported arrays can move (one month: one column each; a quarter
         * or the year: several; two periods covering one month), every
         * period of the data (none given), and an empty, reusable dataset
         * after. */
        static const char *asked[][2] = { { "2019-03", NULL },    { "2019-Q2", NULL },
                                           { "2019-11", NULL },    { "2019", NULL },
                                           { "2019-03", "2019-11" }, { "2019-03", "2019-Q1" },
                                           { NULL, NULL } };
        for (int prefer = 0; prefer <= 1; prefer++) {
            for (int s = 0; s < 7; s++) {
                tally_dataset *ds2;
                assert_int_equal(tally_dataset_new(&ds2, f.h, f.d), 0);
                tally_rollup_options o = TALLY_ROLLUP_OPTIONS_INIT;
                o.periods = asked[s];
                o.period_count = asked[s][1] ? 2 : asked[s][0] ? 1 : 0;
                o.prefer = prefer;
                tally_result *a, *b;
                for (int round = 0; round < 2; round++) {
                    for (int k = 0; k < 15; k++) {
                        char id[32];
                        snprintf(id, sizeof id, "i_%s_%s", agg_names[k / 3], time_names[k % 3]);
                        for (int i = 0; i < n; i++) {
                            for (int m = 0; m < R_MONTHS; m++) {
                                if (!ok[k][i][m] && !empty[k][i][m])
                                    continue;
                                char per[8];
                                snprintf(per, sizeof per, "2019-%02d", m + 1);
                                assert_int_equal(tally_dataset_add(ds2, nodes[i].code, id, per,
                                                                   ok[k][i][m] ? vals[k][i][m] : NAN),
                                                 0);
                            }
                        }
                    }
                    if (round == 0)
                        assert_int_equal(tally_rollup(&a, ds2, &o), 0);
                    assert_int_equal(tally_rollup_take(&b, ds2, &o), 0);
                    assert_int_equal(tally_dataset_value_count(ds2), 0);
                    size_t np = tally_result_period_count(a);
                    assert_int_equal(tally_result_period_count(b), np);
                    assert_true(np >= 1);
                    for (size_t q = 0; q < np; q++) {
                        assert_string_equal(tally_result_period(a, q), tally_result_period(b, q));
                        for (size_t node = 0; node < (size_t)n; node++) {
                            for (size_t k = 0; k < 15; k++) {
                                double x[3], y[3];
                                x[0] = val(a, node, k, q);
                                y[0] = val(b, node, k, q);
                                assert_int_equal(tally_result_sides(a, node, k, q, &x[1], &x[2]), 0);
                                assert_int_equal(tally_result_sides(b, node, k, q, &y[1], &y[2]), 0);
                                for (int j = 0; j < 3; j++)
                                    assert_true(isnan(x[j]) ? isnan(y[j]) : x[j] == y[j]);
                            }
                        }
                    }
                    tally_result_free(b);
                }
                tally_result_free(a);
                tally_dataset_free(ds2);
            }
        }
        fixture_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup__stock_takes_the_latest_report),
        cmocka_unit_test(test_rollup__overflow_is_an_error),
        cmocka_unit_test(test_rollup__flow_sums_and_uses_the_finest_reports),
        cmocka_unit_test(test_rollup__cumulative_takes_the_latest_year_to_date),
        cmocka_unit_test(test_rollup__mean_is_over_regions_not_a_mean_of_means),
        cmocka_unit_test(test_rollup__min_max_count),
        cmocka_unit_test(test_rollup__formulas_are_ratios_of_sums),
        cmocka_unit_test(test_rollup__reported_formula_values_are_kept_apart),
        cmocka_unit_test(test_rollup__compare_year_on_year_and_previous_period),
        cmocka_unit_test(test_rollup__sums_are_compensated),
        cmocka_unit_test(test_rollup__periods_default_to_the_data_in_time_order),
        cmocka_unit_test(test_rollup__random_hierarchies_match_a_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
