/* Targets and completion on hand-computed tables: ranks with ties, a region
 * without a target, a region without data, a parent's target summed from
 * its children, lower-is-better ceilings, as-of December, a schedule, the
 * decomposition findings, inline targets, and every bad targets or schedule
 * row with its exact code, line and column. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <tally.h>

#include "csv.h"


/* Pre-order indices in the comments.
 *   0 430600000000 岳阳市 city
 *   1   430601000000 甲区 county
 *   2   430602000000 乙区 county
 *   3   430603000000 丙县 county
 *   4   430604000000 丁县 county
 *   5   430605000000 戊县 county   (no target)
 *   6   430606000000 己县 county   (a target, no data)
 *   7   430607000000 庚县 county   (no target of its own: its towns')
 *   8     430607001000 庚镇一 town
 *   9     430607002000 庚镇二 town
 */
static const char hierarchy_csv[] =
    "code,name,level,parent_code\n"
    "430600000000,岳阳市,city,\n"
    "430601000000,甲区,county,430600000000\n"
    "430602000000,乙区,county,430600000000\n"
    "430603000000,丙县,county,430600000000\n"
    "430604000000,丁县,county,430600000000\n"
    "430605000000,戊县,county,430600000000\n"
    "430606000000,己县,county,430600000000\n"
    "430607000000,庚县,county,430600000000\n"
    "430607001000,庚镇一,town,430607000000\n"
    "430607002000,庚镇二,town,430607000000\n";

enum { CITY, A, B, C, D, E, F, G, G1, G2, NODES };

static const char definitions_yaml[] =
    "levels: [province, city, county, town, village]\n"
    "indicators:\n"
    "  - id: exits\n"
    "    name: 脱贫人口\n"
    "    over_time: flow\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "    direction: lower_is_better\n"
    "  - id: trained\n"
    "    over_time: cumulative\n"
    "    decimals: 1\n"
    "  - id: income\n"
    "    aggregate: mean\n"
    "    over_time: stock\n";

enum { I_EXITS, I_POOR, I_TRAINED, I_INCOME };

/* Records: year-to-date exits at 2019-08 in the comments. */
static const char records_csv[] =
    "region_code,indicator,period,value\n"
    "430601000000,exits,2019-01,30\n" /* A: 30 + 50 = 80 by August */
    "430601000000,exits,2019-05,50\n"
    "430601000000,exits,2019-09,100\n" /* after August: 180 by December */
    "430602000000,exits,2019-03,60\n" /* B: 60 */
    "430603000000,exits,2019-08,120\n" /* C: 120 */
    "430604000000,exits,2019-02,150\n" /* D: 150 */
    "430605000000,exits,2019-04,40\n" /* E: 40 */
    "430607001000,exits,2019-06,10\n" /* G1: 10 */
    "430607002000,exits,2019-07,38\n" /* G2: 38; G: 48 */
    "430601000000,poor,2019-07,500\n" /* A: latest by August 480 */
    "430601000000,poor,2019-08,480\n"
    "430602000000,poor,2019-05,300\n" /* B: 300 */
    "430601000000,trained,2019-03,12.5\n" /* cumulative: the latest, 20.5 */
    "430601000000,trained,2019-06,20.5\n";

/* Targets: the city's 700 is above its children's 100 + 100 + 200 + 100 +
 * 50 + (40 + 20) = 610 (戊县 has none): a decomposition finding. */
static const char targets_csv[] =
    "region_code,indicator,year,target\n"
    "430600000000,exits,2019,700\n"
    "430601000000,exits,2019,100\n"
    "430602000000,exits,2019,100\n"
    "430603000000,exits,2019,200\n"
    "430604000000,exits,2019,100\n"
    "430606000000,exits,2019,50\n"
    "430607001000,exits,2019,40\n"
    "430607002000,exits,2019,20\n"
    "430601000000,poor,2019,500\n"
    "430602000000,poor,2019,250\n"
    "430601000000,exits,2020,999\n"; /* another year: not used for 2019 */

typedef struct world {
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *ds;
    tally_targets *t;
} world;

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, tally_error_last()->message);
    abort();
}

static void world_load(world *w, const char *defs, const char *targets)
{
    memset(w, 0, sizeof *w);
    if (tally_definitions_from_buffer(&w->d, defs, strlen(defs), "defs.yaml"))
        die("definitions");
    const char *levels[] = { "province", "city", "county", "town", "village" };
    tally_hierarchy_options hopts = TALLY_HIERARCHY_OPTIONS_INIT;
    hopts.level_names = levels;
    hopts.level_count = 5;
    if (tally_hierarchy_from_buffer(&w->h, hierarchy_csv, sizeof hierarchy_csv - 1,
                                    "hierarchy.csv", &hopts))
        die("hierarchy");
    if (tally_dataset_new(&w->ds, w->h, w->d) ||
        tally_dataset_read_buffer(w->ds, records_csv, sizeof records_csv - 1, "records.csv", NULL,
                                  NULL, NULL))
        die("records");
    if (tally_targets_new(&w->t, w->h, w->d))
        die("targets");
    if (targets && tally_targets_read_buffer(w->t, targets, strlen(targets), "targets.csv", NULL,
                                             NULL, NULL))
        die("targets.csv");
}

static void world_free(world *w)
{
    tally_targets_free(w->t);
    tally_dataset_free(w->ds);
    tally_hierarchy_free(w->h);
    tally_definitions_free(w->d);
}

static tally_progress *progress(const world *w, int month, const double *schedule)
{
    tally_progress_options o = TALLY_PROGRESS_OPTIONS_INIT;
    o.year = 2019;
    o.month = month;
    o.schedule = schedule;
    tally_progress *r;
    if (tally_progress_run(&r, w->ds, w->t, &o))
        die("progress");
    return r;
}

/* One row, as expected: NaN for a missing number, rank 0 for none. */
typedef struct expect {
    size_t node, indicator;
    double actual, target, completion;
    int status;
    double gap, pace;
    size_t rank;
} expect;

#define M NAN
#define assert_same(x, y)                                                                      \
    do {                                                                                       \
        double x_ = (x), y_ = (y);                                                             \
        if (isnan(y_))                                                                         \
            assert_true(isnan(x_));                                                            \
        else                                                                                   \
            assert_true(fabs(x_ - y_) <= 1e-9 * fmax(1.0, fabs(y_)));                          \
    } while (0)

static void check_rows(const tally_progress *r, const expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t row;
        assert_int_equal(tally_progress_find(r, e[i].node, e[i].indicator, &row), 0);
        assert_int_equal(tally_progress_node(r, row), e[i].node);
        assert_int_equal(tally_progress_row_indicator(r, row), e[i].indicator);
        assert_same(tally_progress_actual(r, row), e[i].actual);
        assert_same(tally_progress_target(r, row), e[i].target);
        assert_same(tally_progress_completion(r, row), e[i].completion);
        assert_int_equal(tally_progress_status(r, row), e[i].status);
        assert_same(tally_progress_gap(r, row), e[i].gap);
        assert_same(tally_progress_monthly_pace(r, row), e[i].pace);
        assert_int_equal(tally_progress_rank(r, row), e[i].rank);
    }
}

static void test_targets__august_table(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, targets_csv);
    tally_progress *r = progress(&w, 8, NULL);
    /* Indicators with a 2019 target: exits and poor, in definition order. */
    assert_int_equal(tally_progress_indicator_count(r), 2);
    assert_int_equal(tally_progress_indicator(r, 0), I_EXITS);
    assert_int_equal(tally_progress_indicator(r, 1), I_POOR);
    assert_int_equal(tally_progress_count(r), NODES * 2);
    size_t row;
    assert_int_equal(tally_progress_find(r, A, I_TRAINED, &row), TALLY_ENOTFOUND);
    assert_int_equal(row, TALLY_NONE);
    /* Time progress 8 / 12 * 100 = 66.666... */
    assert_same(tally_progress_time_progress(r, 0), 800.0 / 12);
    /* exits, by hand (pace = gap / (12 - 8)):
     *   A  80 / 100 = 80 %   ahead (80 >= 66.67), gap 20, pace 5
     *   B  60 / 100 = 60 %   behind, gap 40, pace 10
     *   C 120 / 200 = 60 %   behind, gap 80, pace 20
     *   D 150 / 100 = 150 %  done, gap 0, pace 0
     *   E  40, no target
     *   F  no data, target 50
     *   G  48 / (40 + 20) = 80 %  ahead, gap 12, pace 3
     *   G1 10 / 40 = 25 %   behind, gap 30, pace 7.5
     *   G2 38 / 20 = 190 %  done
     *   city 498 / 700 = 71.142857 %  ahead, gap 202, pace 50.5
     * Ranks among the counties by completion: D 150 -> 1, A 80 and G 80 ->
     * 2 and 2, B 60 and C 60 -> 4 and 4; E and F have none. Towns: G2 1,
     * G1 2. The city is alone at the top: 1. */
    static const expect exits[] = {
        { CITY, I_EXITS, 498, 700, 49800.0 / 700, TALLY_TARGET_AHEAD, 202, 50.5, 1 },
        { A, I_EXITS, 80, 100, 80, TALLY_TARGET_AHEAD, 20, 5, 2 },
        { B, I_EXITS, 60, 100, 60, TALLY_TARGET_BEHIND, 40, 10, 4 },
        { C, I_EXITS, 120, 200, 60, TALLY_TARGET_BEHIND, 80, 20, 4 },
        { D, I_EXITS, 150, 100, 150, TALLY_TARGET_DONE, 0, 0, 1 },
        { E, I_EXITS, 40, M, M, TALLY_TARGET_NO_TARGET, M, M, 0 },
        { F, I_EXITS, M, 50, M, TALLY_TARGET_NO_DATA, M, M, 0 },
        { G, I_EXITS, 48, 60, 80, TALLY_TARGET_AHEAD, 12, 3, 2 },
        { G1, I_EXITS, 10, 40, 25, TALLY_TARGET_BEHIND, 30, 7.5, 2 },
        { G2, I_EXITS, 38, 20, 190, TALLY_TARGET_DONE, 0, 0, 1 },
    };
    check_rows(r, exits, sizeof exits / sizeof *exits);
    /* poor, a ceiling (latest report by August):
     *   A 480 <= 500 met;  B 300 > 250 not met by 50, pace 50 / 4 = 12.5
     *   the city: 480 + 300 = 780, no target (only 2 of its 7 children have
     *   one, so their sum is not its ceiling); completion always missing. */
    static const expect poor[] = {
        { CITY, I_POOR, 780, M, M, TALLY_TARGET_NO_TARGET, M, M, 0 },
        { A, I_POOR, 480, 500, M, TALLY_TARGET_MET, 0, 0, 0 },
        { B, I_POOR, 300, 250, M, TALLY_TARGET_NOT_MET, 50, 12.5, 0 },
        { C, I_POOR, M, M, M, TALLY_TARGET_NO_TARGET, M, M, 0 },
    };
    check_rows(r, poor, sizeof poor / sizeof *poor);
    tally_progress_free(r);
    world_free(&w);
}

static void test_targets__as_of_december(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, targets_csv);
    tally_progress *r = progress(&w, 12, NULL);
    assert_same(tally_progress_time_progress(r, 0), 100);
    /* A: 30 + 50 + 100 = 180 / 100 done. B: 60 % behind, the whole gap of
     * 40 is December's pace. B's ceiling: not met by 50, pace 50. The city:
     * 598 / 700 = 85.428571 %, behind (< 100), gap 102, pace 102. */
    static const expect e[] = {
        { CITY, I_EXITS, 598, 700, 59800.0 / 700, TALLY_TARGET_BEHIND, 102, 102, 1 },
        { A, I_EXITS, 180, 100, 180, TALLY_TARGET_DONE, 0, 0, 1 },
        { B, I_EXITS, 60, 100, 60, TALLY_TARGET_BEHIND, 40, 40, 4 },
        { B, I_POOR, 300, 250, M, TALLY_TARGET_NOT_MET, 50, 50, 0 },
        { G1, I_EXITS, 10, 40, 25, TALLY_TARGET_BEHIND, 30, 30, 2 },
    };
    check_rows(r, e, sizeof e / sizeof *e);
    tally_progress_free(r);
    world_free(&w);
}

static void test_targets__parent_target_from_children(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, targets_csv);
    double eff[NODES];
    /* Given: city 700, A 100, B 100, C 200, D 100, F 50, G1 40, G2 20. */
    assert_int_equal(tally_targets_effective(w.t, I_EXITS, 2019, eff, NODES), 9);
    assert_same(eff[G], 60);  /* 40 + 20, both towns have one */
    assert_same(eff[CITY], 700); /* its own, not the 610 of its children */
    assert_same(eff[E], M);
    /* Without the city's own target, its children do not all have one (E
     * has none): no target, rather than 610 against the actual of all. */
    world w2;
    world_load(&w2, definitions_yaml, NULL);
    assert_int_equal(tally_targets_add(w2.t, "430601000000", "exits", 2019, 100), 0);
    assert_int_equal(tally_targets_add(w2.t, "430607001000", "exits", 2019, 40), 0);
    assert_int_equal(tally_targets_add(w2.t, "430607002000", "exits", 2019, 20), 0);
    assert_int_equal(tally_targets_effective(w2.t, I_EXITS, 2019, eff, NODES), 4);
    assert_same(eff[G], 60);
    assert_same(eff[CITY], M);
    /* Once every county has one (E 30, B..F), the city's is their sum:
     * 100 + 10 + 20 + 30 + 30 + 50 + 60 = 300. */
    const char *codes[] = { "430602000000", "430603000000", "430604000000", "430605000000",
                            "430606000000" };
    const double given[] = { 10, 20, 30, 30, 50 };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(tally_targets_add(w2.t, codes[i], "exits", 2019, given[i]), 0);
    assert_int_equal(tally_targets_effective(w2.t, I_EXITS, 2019, eff, NODES), 10);
    assert_same(eff[CITY], 300);
    /* A mean indicator's targets are never summed. */
    assert_int_equal(tally_targets_add(w2.t, "430607001000", "income", 2019, 4000), 0);
    assert_int_equal(tally_targets_add(w2.t, "430607002000", "income", 2019, 5000), 0);
    assert_int_equal(tally_targets_effective(w2.t, I_INCOME, 2019, eff, NODES), 2);
    assert_same(eff[G], M);
    /* The city's completion from the summed target: actual 498, 166 %. */
    tally_progress *r = progress(&w2, 8, NULL);
    static const expect e[] = {
        { CITY, I_EXITS, 498, 300, 166, TALLY_TARGET_DONE, 0, 0, 1 },
        { G, I_EXITS, 48, 60, 80, TALLY_TARGET_AHEAD, 12, 3, 5 },
    };
    check_rows(r, e, sizeof e / sizeof *e);
    tally_progress_free(r);
    /* Summed targets are never findings: only a node's own target is. */
    tally_target_findings *f;
    assert_int_equal(tally_targets_decomposition(&f, w2.t), 0);
    assert_int_equal(tally_target_findings_count(f), 0);
    tally_target_findings_free(f);
    world_free(&w2);
    world_free(&w);
}

static void test_targets__decomposition_findings(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, targets_csv);
    /* A ceiling whose children's ceilings exceed it: G 50, G1 30 + G2 25. */
    assert_int_equal(tally_targets_add(w.t, "430607000000", "poor", 2019, 50), 0);
    assert_int_equal(tally_targets_add(w.t, "430607001000", "poor", 2019, 30), 0);
    assert_int_equal(tally_targets_add(w.t, "430607002000", "poor", 2019, 25), 0);
    /* Covered exactly (not a finding): decimals that do not add up in
     * binary, 0.3 = 0.1 + 0.2. */
    assert_int_equal(tally_targets_add(w.t, "430607000000", "exits", 2020, 0.3), 0);
    assert_int_equal(tally_targets_add(w.t, "430607001000", "exits", 2020, 0.1), 0);
    assert_int_equal(tally_targets_add(w.t, "430607002000", "exits", 2020, 0.2), 0);
    tally_target_findings *f;
    assert_int_equal(tally_targets_decomposition(&f, w.t), 0);
    /* city exits 2019: 700 > 610 from 6 of 7 children; G poor 2019: 55 > 50. */
    assert_int_equal(tally_target_findings_count(f), 2);
    assert_int_equal(tally_target_findings_node(f, 0), CITY);
    assert_int_equal(tally_target_findings_indicator(f, 0), I_EXITS);
    assert_int_equal(tally_target_findings_year(f, 0), 2019);
    assert_same(tally_target_findings_target(f, 0), 700);
    assert_same(tally_target_findings_children_sum(f, 0), 610);
    assert_int_equal(tally_target_findings_children_with_target(f, 0), 6);
    assert_int_equal(tally_target_findings_children(f, 0), 7);
    assert_int_equal(tally_target_findings_node(f, 1), G);
    assert_int_equal(tally_target_findings_indicator(f, 1), I_POOR);
    assert_same(tally_target_findings_target(f, 1), 50);
    assert_same(tally_target_findings_children_sum(f, 1), 55);
    assert_int_equal(tally_target_findings_children_with_target(f, 1), 2);
    assert_int_equal(tally_target_findings_children(f, 1), 2);
    assert_int_equal(tally_target_findings_node(f, 2), TALLY_NONE);
    tally_target_findings_free(f);
    world_free(&w);
}

static void test_targets__ahead_exactly_on_time(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, NULL);
    /* B: 60 of 90 in August is exactly 8/12; the percentages 66.67 and
     * 66.67 differ in binary, the status must not. 59 of 90 is behind. */
    assert_int_equal(tally_targets_add(w.t, "430602000000", "exits", 2019, 90), 0);
    assert_int_equal(tally_targets_add(w.t, "430601000000", "exits", 2019, 120), 0);
    /* A cumulative indicator: the latest report by August, 20.5 of 41. */
    assert_int_equal(tally_targets_add(w.t, "430601000000", "trained", 2019, 41), 0);
    tally_progress *r = progress(&w, 8, NULL);
    static const expect e[] = {
        { B, I_EXITS, 60, 90, 6000.0 / 90, TALLY_TARGET_AHEAD, 30, 7.5, 1 },
        /* A: 80 of 120 = 66.67 %, also exactly on time; the same double as
         * B's, so they share rank 1. */
        { A, I_EXITS, 80, 120, 8000.0 / 120, TALLY_TARGET_AHEAD, 40, 10, 1 },
        { A, I_TRAINED, 20.5, 41, 50, TALLY_TARGET_BEHIND, 20.5, 5.125, 1 },
    };
    check_rows(r, e, sizeof e / sizeof *e);
    tally_progress_free(r);
    /* With a schedule: 50 % expected by August, so B (60 %) and C (60 %)
     * are ahead and G1 (25 %) behind. */
    world_free(&w);
    world_load(&w, definitions_yaml, targets_csv);
    double schedule[12] = { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100 };
    r = progress(&w, 8, schedule);
    assert_same(tally_progress_time_progress(r, 0), 50);
    static const expect s[] = {
        { B, I_EXITS, 60, 100, 60, TALLY_TARGET_AHEAD, 40, 10, 4 },
        { C, I_EXITS, 120, 200, 60, TALLY_TARGET_AHEAD, 80, 20, 4 },
        { G1, I_EXITS, 10, 40, 25, TALLY_TARGET_BEHIND, 30, 7.5, 2 },
    };
    check_rows(r, s, sizeof s / sizeof *s);
    tally_progress_free(r);
    /* A schedule that decreases is refused. */
    schedule[5] = 12;
    tally_progress_options o = TALLY_PROGRESS_OPTIONS_INIT;
    o.year = 2019;
    o.month = 8;
    o.schedule = schedule;
    assert_int_equal(tally_progress_run(&r, w.ds, w.t, &o), TALLY_EINVAL);
    assert_null(r);
    o.schedule = NULL;
    o.month = 13;
    assert_int_equal(tally_progress_run(&r, w.ds, w.t, &o), TALLY_EINVAL);
    world_free(&w);
}

/* Reads `text` into a fresh string. */
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

static void test_targets__write_csv_and_json(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, targets_csv);
    tally_progress *r = progress(&w, 8, NULL);
    char path[] = "/tmp/tally-test-targets-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int levels[] = { 2 }; /* county */
    tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
    o.levels = levels;
    o.level_count = 1;
    assert_int_equal(tally_progress_write(r, path, &o), 0);
    /* By hand, from the table of test_targets__august_table: percentages
     * with 2 decimals, counts with 0, pace 7.5 rounded half away to 8.
     * Only the rows with an actual or a target; with all_regions every
     * row. */
    static const char expected[] =
        "region_code,region_name,level,indicator,year,as_of,actual,target,completion,"
        "time_progress,status,gap,monthly_pace,rank\n"
        "430601000000,甲区,county,exits,2019,2019-08,80,100,80.00,66.67,ahead,20,5,2\n"
        "430601000000,甲区,county,poor,2019,2019-08,480,500,,66.67,met,0,0,\n"
        "430602000000,乙区,county,exits,2019,2019-08,60,100,60.00,66.67,behind,40,10,4\n"
        "430602000000,乙区,county,poor,2019,2019-08,300,250,,66.67,not_met,50,13,\n"
        "430603000000,丙县,county,exits,2019,2019-08,120,200,60.00,66.67,behind,80,20,4\n"
        "430604000000,丁县,county,exits,2019,2019-08,150,100,150.00,66.67,done,0,0,1\n"
        "430605000000,戊县,county,exits,2019,2019-08,40,,,66.67,no_target,,,\n"
        "430606000000,己县,county,exits,2019,2019-08,,50,,66.67,no_data,,,\n"
        "430607000000,庚县,county,exits,2019,2019-08,48,60,80.00,66.67,ahead,12,3,2\n";
    assert_string_equal(slurp(path), expected);
    o.all_regions = 1;
    assert_int_equal(tally_progress_write(r, path, &o), 0);
    static const char expected_all[] =
        "region_code,region_name,level,indicator,year,as_of,actual,target,completion,"
        "time_progress,status,gap,monthly_pace,rank\n"
        "430601000000,甲区,county,exits,2019,2019-08,80,100,80.00,66.67,ahead,20,5,2\n"
        "430601000000,甲区,county,poor,2019,2019-08,480,500,,66.67,met,0,0,\n"
        "430602000000,乙区,county,exits,2019,2019-08,60,100,60.00,66.67,behind,40,10,4\n"
        "430602000000,乙区,county,poor,2019,2019-08,300,250,,66.67,not_met,50,13,\n"
        "430603000000,丙县,county,exits,2019,2019-08,120,200,60.00,66.67,behind,80,20,4\n"
        "430603000000,丙县,county,poor,2019,2019-08,,,,66.67,no_target,,,\n"
        "430604000000,丁县,county,exits,2019,2019-08,150,100,150.00,66.67,done,0,0,1\n"
        "430604000000,丁县,county,poor,2019,2019-08,,,,66.67,no_target,,,\n"
        "430605000000,戊县,county,exits,2019,2019-08,40,,,66.67,no_target,,,\n"
        "430605000000,戊县,county,poor,2019,2019-08,,,,66.67,no_target,,,\n"
        "430606000000,己县,county,exits,2019,2019-08,,50,,66.67,no_data,,,\n"
        "430606000000,己县,county,poor,2019,2019-08,,,,66.67,no_target,,,\n"
        "430607000000,庚县,county,exits,2019,2019-08,48,60,80.00,66.67,ahead,12,3,2\n"
        "430607000000,庚县,county,poor,2019,2019-08,,,,66.67,no_target,,,\n";
    assert_string_equal(slurp(path), expected_all);
    o.all_regions = 0;

    int town[] = { 3 };
    o.levels = town;
    o.format = TALLY_FORMAT_JSON;
    assert_int_equal(tally_progress_write(r, path, &o), 0);
    static const char expected_json[] =
        "[\n"
        "{\"region_code\":\"430607001000\",\"region_name\":\"庚镇一\",\"level\":\"town\","
        "\"indicator\":\"exits\",\"year\":2019,\"as_of\":\"2019-08\",\"actual\":10,"
        "\"target\":40,\"completion\":25.00,\"time_progress\":66.67,\"status\":\"behind\","
        "\"gap\":30,\"monthly_pace\":8,\"rank\":2},\n"
        "{\"region_code\":\"430607002000\",\"region_name\":\"庚镇二\",\"level\":\"town\","
        "\"indicator\":\"exits\",\"year\":2019,\"as_of\":\"2019-08\",\"actual\":38,"
        "\"target\":20,\"completion\":190.00,\"time_progress\":66.67,\"status\":\"done\","
        "\"gap\":0,\"monthly_pace\":0,\"rank\":1}\n"
        "]\n";
    assert_string_equal(slurp(path), expected_json);

    /* The chart: one bar per county; the details are checked by
     * tests/progress/check-svg.py. */
    tally_progress_svg_options so = TALLY_PROGRESS_SVG_OPTIONS_INIT;
    assert_int_equal(tally_progress_write_svg(r, path, &so), 0);
    const char *svg = slurp(path);
    size_t bars = 0;
    for (const char *p = svg; (p = strstr(p, "class=\"bar\"")); p++)
        bars++;
    assert_int_equal(bars, 7);
    assert_non_null(strstr(svg, "序时进度 66.67%"));
    so.indicator = I_TRAINED; /* no target */
    assert_int_equal(tally_progress_write_svg(r, path, &so), TALLY_EINVAL);
    unlink(path);
    tally_progress_free(r);
    world_free(&w);
}

/* ---- bad targets rows: code, line, column ---- */

typedef struct bad_row {
    const char *row;
    int code;
    unsigned long column;
} bad_row;

static void test_targets__bad_rows(void **state)
{
    (void)state;
    static const bad_row cases[] = {
        { "430601000000,exits,2019,100,5", TALLY_EPARSE, 29 },   /* 5 fields */
        { "430601000000,exits,2019", TALLY_EPARSE, 24 },         /* 3 fields: at the end */
        { "430699000000,exits,2019,100", TALLY_ENOTFOUND, 1 },  /* unknown region */
        { "430601000000,exitz,2019,100", TALLY_ENOTFOUND, 14 }, /* unknown indicator */
        { "430601000000,exits,19,100", TALLY_EPARSE, 20 },      /* bad year */
        { "430601000000,exits,2019-08,100", TALLY_EPARSE, 20 }, /* a month, not a year */
        { "430601000000,exits,2019,1百", TALLY_EPARSE, 25 },    /* bad number */
        { "430601000000,exits,2019,1e999", TALLY_ERANGE, 25 },  /* overflow */
        { "430601000000,exits,2019,nan", TALLY_EPARSE, 25 },
        { "430602000000,exits,2019,7", TALLY_EEXIST, 1 },       /* duplicate of line 2 */
        { "\"甲\",exits,2019,7", TALLY_ENOTFOUND, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        world w;
        world_load(&w, definitions_yaml, NULL);
        char buf[256];
        snprintf(buf, sizeof buf,
                 "region_code,indicator,year,target\n430602000000,exits,2019,5\n%s\n",
                 cases[i].row);
        tally_read_stats st;
        int rc = tally_targets_read_buffer(w.t, buf, strlen(buf), "t.csv", NULL, NULL, &st);
        const tally_error *e = tally_error_last();
        if (rc != cases[i].code || e->line != 3 || e->column != cases[i].column)
            fprintf(stderr, "case %zu: %d %s\n", i, rc, e->message);
        assert_int_equal(rc, cases[i].code);
        assert_string_equal(e->path, "t.csv");
        assert_int_equal(e->line, 3);
        assert_int_equal(e->column, cases[i].column);
        assert_int_equal(st.rows_read, 2);
        assert_int_equal(st.rows_accepted, 1);
        assert_int_equal(st.rows_rejected, 1);
        assert_int_equal(tally_targets_count(w.t), 1);
        world_free(&w);
    }
    /* Messages say what is wrong and what would be right. */
    world w;
    world_load(&w, definitions_yaml, NULL);
    static const char dup[] = "region_code,indicator,year,target\n"
                              "430602000000,exits,2019,\n" /* empty: no target, but given */
                              "430602000000,exits,2019,5\n";
    assert_int_equal(tally_targets_read_buffer(w.t, dup, sizeof dup - 1, "t.csv", NULL, NULL, NULL),
                     TALLY_EEXIST);
    assert_string_equal(tally_error_last()->message,
                        "t.csv:3:1: duplicate target for region 430602000000, indicator exits, "
                        "year 2019; each is given once");
    assert_int_equal(tally_targets_has(w.t, I_EXITS, 2019), 0);
    /* A header without `target`. */
    static const char hdr[] = "region_code,indicator,year\n430602000000,exits,2019\n";
    assert_int_equal(tally_targets_read_buffer(w.t, hdr, sizeof hdr - 1, "h.csv", NULL, NULL, NULL),
                     TALLY_EPARSE);
    assert_string_equal(tally_error_last()->message,
                        "h.csv:1:1: header has no 'target' column; expected "
                        "region_code,indicator,year,target");
    /* tally_targets_add refuses what the reader refuses. */
    assert_int_equal(tally_targets_add(w.t, "430699000000", "exits", 2019, 1), TALLY_ENOTFOUND);
    assert_int_equal(tally_targets_add(w.t, "430601000000", "nope", 2019, 1), TALLY_ENOTFOUND);
    assert_int_equal(tally_targets_add(w.t, "430601000000", "exits", 19, 1), TALLY_EINVAL);
    assert_int_equal(tally_targets_add(w.t, "430601000000", "exits", 2019, INFINITY), TALLY_ERANGE);
    assert_int_equal(tally_targets_add(w.t, "430602000000", "exits", 2019, 1), TALLY_EEXIST);
    world_free(&w);
}

static void test_targets__collect_rejects(void **state)
{
    (void)state;
    world w;
    world_load(&w, definitions_yaml, NULL);
    static const char csv[] = "region_code,indicator,year,target\n"
                              "430601000000,exits,2019,100\n"
                              "430699000000,exits,2019,100\n"
                              "430602000000,exits,20x9,100\n"
                              "430602000000,exits,2019,100\n"
                              "430601000000,exits,2019,1\n";
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    assert_int_equal(tally_targets_read_buffer(w.t, csv, sizeof csv - 1, "t.csv", &o, rej, &st), 0);
    assert_int_equal(st.rows_read, 5);
    assert_int_equal(st.rows_accepted, 2);
    assert_int_equal(st.rows_rejected, 3);
    assert_int_equal(tally_rejects_count(rej), 3);
    assert_int_equal(tally_rejects_line(rej, 0), 3);
    assert_int_equal(tally_rejects_column(rej, 0), 1);
    assert_int_equal(tally_rejects_code(rej, 0), TALLY_ENOTFOUND);
    assert_int_equal(tally_rejects_line(rej, 1), 4);
    assert_int_equal(tally_rejects_column(rej, 1), 20);
    assert_int_equal(tally_rejects_code(rej, 1), TALLY_EPARSE);
    assert_int_equal(tally_rejects_line(rej, 2), 6);
    assert_int_equal(tally_rejects_code(rej, 2), TALLY_EEXIST);
    assert_string_equal(tally_rejects_row(rej, 2), "430601000000,exits,2019,1");
    assert_int_equal(tally_targets_count(w.t), 2);
    tally_rejects_free(rej);
    world_free(&w);
}

static void test_targets__inline_targets(void **state)
{
    (void)state;
    char defs[2048];
    snprintf(defs, sizeof defs,
             "%stargets:\n"
             "  - { region: \"430600000000\", indicator: exits, year: 2019, target: 500 }\n",
             definitions_yaml);
    world w;
    world_load(&w, defs, NULL);
    double v;
    int present;
    assert_int_equal(tally_targets_count(w.t), 1);
    assert_int_equal(tally_targets_given(w.t, CITY, I_EXITS, 2019, &v, &present), 0);
    assert_int_equal(present, 1);
    assert_same(v, 500);
    /* 498 / 500 = 99.6 %, ahead. */
    tally_progress *r = progress(&w, 8, NULL);
    static const expect e[] = {
        { CITY, I_EXITS, 498, 500, 99.6, TALLY_TARGET_AHEAD, 2, 0.5, 1 },
    };
    check_rows(r, e, 1);
    tally_progress_free(r);
    /* The same region, indicator and year in a CSV is a duplicate. */
    static const char csv[] = "region_code,indicator,year,target\n430600000000,exits,2019,600\n";
    assert_int_equal(tally_targets_read_buffer(w.t, csv, sizeof csv - 1, "t.csv", NULL, NULL, NULL),
                     TALLY_EEXIST);
    assert_string_equal(tally_error_last()->message,
                        "t.csv:2:1: duplicate target for region 430600000000, indicator exits, "
                        "year 2019 (the first is inline in the definitions); each is given once");
    world_free(&w);
    /* An inline target for a region the hierarchy does not have. */
    snprintf(defs, sizeof defs,
             "%stargets:\n"
             "  - { region: \"439900000000\", indicator: exits, year: 2019, target: 500 }\n",
             definitions_yaml);
    tally_definitions *d;
    assert_int_equal(tally_definitions_from_buffer(&d, defs, strlen(defs), "d.yaml"), 0);
    tally_targets *t = (tally_targets *)1;
    world w2;
    world_load(&w2, definitions_yaml, NULL);
    assert_int_equal(tally_targets_new(&t, w2.h, d), TALLY_ENOTFOUND);
    assert_null(t);
    /* Line 17, column 5 in the YAML: the mapping after "  - ". */
    assert_int_equal(tally_error_last()->line, 17);
    assert_int_equal(tally_error_last()->column, 5);
    tally_definitions_free(d);
    world_free(&w2);
}

/* ---- schedules ---- */

typedef struct bad_schedule {
    const char *text;
    int code;
    unsigned long line, column;
} bad_schedule;

static void test_targets__schedule(void **state)
{
    (void)state;
    static const char good[] = "month,share\n"
                               "1,5\n2,10\n3,15\n4,20\n5,25\n6,30\n"
                               "12,100\n7,40\n8,50\n9,60\n10,75\n11,90\n"; /* any order */
    double s[12];
    assert_int_equal(tally_schedule_from_buffer(s, good, sizeof good - 1, "s.csv"), 0);
    assert_same(s[0], 5);
    assert_same(s[7], 50);
    assert_same(s[11], 100);

    static const bad_schedule cases[] = {
        /* 13 is not a month: line 2, column 1. */
        { "month,share\n13,5\n", TALLY_EPARSE, 2, 1 },
        /* month 1 twice: line 3. */
        { "month,share\n1,5\n1,6\n", TALLY_EEXIST, 3, 1 },
        /* a share over 100: at the share. */
        { "month,share\n1,101\n", TALLY_ERANGE, 2, 3 },
        { "month,share\n1,abc\n", TALLY_EPARSE, 2, 3 },
        { "month,share\n1,5,x\n", TALLY_EPARSE, 2, 5 },
        { "share\n5\n", TALLY_EPARSE, 1, 1 },
        /* month 2 (line 3) is below month 1. */
        { "month,share\n1,10\n2,8\n3,15\n4,20\n5,25\n6,30\n7,40\n8,50\n9,60\n10,75\n11,90\n"
          "12,100\n",
          TALLY_EINVAL, 3, 3 },
        /* December not 100: line 13, column 4. */
        { "month,share\n1,5\n2,10\n3,15\n4,20\n5,25\n6,30\n7,40\n8,50\n9,60\n10,75\n11,90\n"
          "12,99\n",
          TALLY_EINVAL, 13, 4 },
        /* month 7 missing: at the end, line 13, where the row would go. */
        { "month,share\n1,5\n2,10\n3,15\n4,20\n5,25\n6,30\n8,50\n9,60\n10,75\n11,90\n12,100\n",
          TALLY_EINVAL, 13, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double before[12] = { 0 };
        int rc = tally_schedule_from_buffer(before, cases[i].text, strlen(cases[i].text), "s.csv");
        const tally_error *e = tally_error_last();
        if (rc != cases[i].code || e->line != cases[i].line || e->column != cases[i].column)
            fprintf(stderr, "case %zu: %d %s\n", i, rc, e->message);
        assert_int_equal(rc, cases[i].code);
        assert_int_equal(e->line, cases[i].line);
        assert_int_equal(e->column, cases[i].column);
        assert_same(before[0], 0); /* unchanged */
    }
    int rc = tally_schedule_from_buffer(s, cases[6].text, strlen(cases[6].text), "s.csv");
    assert_int_equal(rc, TALLY_EINVAL);
    assert_string_equal(tally_error_last()->message,
                        "s.csv:3:3: share 8 for month 2 is below month 1's 10; shares are "
                        "cumulative and never decrease");
}

typedef struct bad_shares {
    double shares[12];
    int code;
    const char *message;
} bad_shares;

/* Shares given as an array: the reader's rules, in the reader's order,
 * with the month named where the file would give line and column. */
static void test_targets__schedule_check(void **state)
{
    (void)state;
    static const double good[12] = { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100 };
    assert_int_equal(tally_schedule_check(good, 12), 0);
    /* Flat stretches are not decreases; 0 and 100 are in range. */
    static const double flat[12] = { 0, 0, 0, 12.5, 12.5, 50, 50, 50, 99.9, 100, 100, 100 };
    assert_int_equal(tally_schedule_check(flat, 12), 0);

    static const bad_shares cases[] = {
        { { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 101, 100 }, TALLY_ERANGE,
          "share 101 for month 11 is outside 0 to 100; expected a percentage" },
        { { -0.5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100 }, TALLY_ERANGE,
          "share -0.5 for month 1 is outside 0 to 100; expected a percentage" },
        { { 5, 10, NAN, 20, 25, 30, 40, 50, 60, 75, 90, 100 }, TALLY_ERANGE,
          "share nan for month 3 is outside 0 to 100; expected a percentage" },
        { { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, INFINITY }, TALLY_ERANGE,
          "share inf for month 12 is outside 0 to 100; expected a percentage" },
        /* Range before order: month 2 decreases, but month 4 is out of
         * range, as a file's row would have been refused first. */
        { { 10, 8, 15, 200, 25, 30, 40, 50, 60, 75, 90, 100 }, TALLY_ERANGE,
          "share 200 for month 4 is outside 0 to 100; expected a percentage" },
        /* The message of the file case "share 8 for month 2 is below month
         * 1's 10", less "s.csv:3:3: ". */
        { { 10, 8, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100 }, TALLY_EINVAL,
          "share 8 for month 2 is below month 1's 10; shares are cumulative and never "
          "decrease" },
        { { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90.5, 90.25 }, TALLY_EINVAL,
          "share 90.25 for month 12 is below month 11's 90.5; shares are cumulative and never "
          "decrease" },
        { { 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 99 }, TALLY_EINVAL,
          "share 99 for month 12; expected 100 (the whole target by the end of the year)" },
        { { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 99.99999999999999 },
          TALLY_EINVAL,
          "share 99.99999999999999 for month 12; expected 100 (the whole target by the end of "
          "the year)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = tally_schedule_check(cases[i].shares, 12);
        const tally_error *e = tally_error_last();
        if (rc != cases[i].code || strcmp(e->message, cases[i].message) != 0)
            print_error("case %zu: %d %s\n", i, rc, e->message);
        assert_int_equal(rc, cases[i].code);
        assert_string_equal(e->message, cases[i].message);
        assert_null(e->path);
    }
    /* The same decrease as a file and as an array: the same code. */
    static const char decreasing[] = "month,share\n1,10\n2,8\n3,15\n4,20\n5,25\n6,30\n7,40\n"
                                     "8,50\n9,60\n10,75\n11,90\n12,100\n";
    double s[12];
    assert_int_equal(tally_schedule_from_buffer(s, decreasing, sizeof decreasing - 1, "s.csv"),
                     tally_schedule_check(cases[5].shares, 12));

    assert_int_equal(tally_schedule_check(good, 11), TALLY_EINVAL);
    assert_string_equal(tally_error_last()->message,
                        "11 shares given; expected 12, the cumulative shares of months 1 to 12");
    assert_int_equal(tally_schedule_check(good, 13), TALLY_EINVAL);
    assert_int_equal(tally_schedule_check(NULL, 12), TALLY_EINVAL);
    assert_int_equal(tally_schedule_check(NULL, 0), TALLY_EINVAL);
}

static void test_targets__status_names(void **state)
{
    (void)state;
    assert_string_equal(tally_target_status_name(TALLY_TARGET_NO_TARGET), "no_target");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_NO_DATA), "no_data");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_DONE), "done");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_AHEAD), "ahead");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_BEHIND), "behind");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_MET), "met");
    assert_string_equal(tally_target_status_name(TALLY_TARGET_NOT_MET), "not_met");
    assert_string_equal(tally_target_status_name(99), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets__august_table),
        cmocka_unit_test(test_targets__as_of_december),
        cmocka_unit_test(test_targets__parent_target_from_children),
        cmocka_unit_test(test_targets__decomposition_findings),
        cmocka_unit_test(test_targets__ahead_exactly_on_time),
        cmocka_unit_test(test_targets__write_csv_and_json),
        cmocka_unit_test(test_targets__bad_rows),
        cmocka_unit_test(test_targets__collect_rejects),
        cmocka_unit_test(test_targets__inline_targets),
        cmocka_unit_test(test_targets__schedule),
        cmocka_unit_test(test_targets__schedule_check),
        cmocka_unit_test(test_targets__status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
