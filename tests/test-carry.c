/* Tests for include/tally/carry.h: records under old codes carried through
 * a crosswalk, through the C API, on a small table and crosswalk made by
 * hand. Every expected value is worked out in the comments; the check of a
 * hierarchy with carried pieces too.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <tally.h>

#include "tally/carry.h"
#include "tally/crosswalk.h"

/* The new table, in pre-order:
 *   0 430000000000 湖南省 province
 *   1   430600000000 岳阳市 city
 *   2     430602000000 岳阳楼区 county
 *   3       430602001000 街道A town
 *   4         430602001001 村1 village
 *   5         430602001002 村2 village
 *   6     430626000000 平江县 county
 *   7       430626100000 镇B town
 *   8         430626100201 村3 village
 *   9     430682000000 新市 county
 *  10       430682100000 镇C town */
enum { PROV, CITY, YYL, TOWN_A, V1, V2, PJ, TOWN_B, V3, XS, TOWN_C };

static const char new_csv[] = "code,name,level,parent_code\n"
                              "430000000000,湖南省,province,\n"
                              "430600000000,岳阳市,city,430000000000\n"
                              "430602000000,岳阳楼区,county,430600000000\n"
                              "430602001000,街道A,town,430602000000\n"
                              "430602001001,村1,village,430602001000\n"
                              "430602001002,村2,village,430602001000\n"
                              "430626000000,平江县,county,430600000000\n"
                              "430626100000,镇B,town,430626000000\n"
                              "430626100201,村3,village,430626100000\n"
                              "430682000000,新市,county,430600000000\n"
                              "430682100000,镇C,town,430682000000\n";

/* The crosswalk: 430623 (a county) and its town recoded; three villages
 * gone into their towns; 430699 and 430698 split between the two counties
 * (0.3/0.7 and 0.5/0.5); 430697 split with its shares left empty; 430696
 * unmatched. */
static const char cw_csv[] = "from_code,to_code,share,how\n"
                             "430623000000,430682000000,1,recoded\n"
                             "430623100000,430682100000,1,recoded\n"
                             "430602001003,430602001000,1,merged\n"
                             "430602001004,430602001000,1,merged\n"
                             "430626100299,430626100000,1,merged\n"
                             "430699000000,430602000000,0.3,split\n"
                             "430699000000,430626000000,0.7,split\n"
                             "430698000000,430602000000,0.5,split\n"
                             "430698000000,430626000000,0.5,split\n"
                             "430697000000,430602000000,,split\n"
                             "430697000000,430626000000,,split\n"
                             "430696000000,,,unmatched\n";

static const char defs_yaml[] = "indicators:\n"
                                "  - id: poor\n"
                                "    name: 贫困人口\n"
                                "    over_time: stock\n"
                                "  - id: pop\n"
                                "    over_time: stock\n"
                                "  - id: income\n"
                                "    over_time: stock\n"
                                "    decimals: 2\n"
                                "  - id: mean_income\n"
                                "    aggregate: mean\n"
                                "    over_time: stock\n"
                                "  - id: rate\n"
                                "    formula: poor / pop * 100\n"
                                "checks:\n"
                                "  - id: add_up\n"
                                "    hierarchy: [poor]\n";

enum { POOR, POP, INCOME, MEAN_INCOME, RATE };

typedef struct world {
    tally_hierarchy *h;
    tally_definitions *d;
    tally_crosswalk *cw;
    tally_dataset *ds;
    tally_rejects *rej;
    tally_read_stats st;
} world;

static void world_new(world *w)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(tally_hierarchy_from_buffer(&w->h, new_csv, strlen(new_csv), "h.csv", NULL),
                     0);
    assert_int_equal(tally_definitions_from_buffer(&w->d, defs_yaml, strlen(defs_yaml), "d.yaml"),
                     0);
    assert_int_equal(tally_crosswalk_from_buffer(&w->cw, cw_csv, strlen(cw_csv), "cw.csv", w->h),
                     0);
    assert_int_equal(tally_dataset_new(&w->ds, w->h, w->d), 0);
    assert_int_equal(tally_dataset_set_crosswalk(w->ds, w->cw), 0);
    assert_int_equal(tally_rejects_new(&w->rej), 0);
}

static void world_free(world *w)
{
    tally_rejects_free(w->rej);
    tally_dataset_free(w->ds);
    tally_crosswalk_free(w->cw);
    tally_definitions_free(w->d);
    tally_hierarchy_free(w->h);
}

/* Reads records (header added) collecting or stopping; returns the read's code. */
static int read_records(world *w, const char *rows, int on_error)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "region_code,indicator,period,value\n%s", rows);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.on_error = on_error;
    memset(&w->st, 0, sizeof w->st);
    return tally_dataset_read_buffer(w->ds, buf, strlen(buf), "r.csv", &o, w->rej, &w->st);
}

static void stats_are(const world *w, size_t read, size_t accepted, size_t rejected)
{
    assert_int_equal(w->st.rows_read, read);
    assert_int_equal(w->st.rows_accepted, accepted);
    assert_int_equal(w->st.rows_rejected, rejected);
}

/* The value node filed (or was carried) for indicator and period. */
static double value_at(const world *w, size_t node, size_t ind, const char *period)
{
    double v = NAN;
    int present = 0;
    assert_int_equal(tally_dataset_reported(w->ds, node, ind, period, &v, &present), 0);
    return present ? v : NAN;
}

#define assert_value(w, node, ind, period, x) \
    assert_true(fabs(value_at(w, node, ind, period) - (x)) < 1e-9)

static void test_carry__one_successor(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w, "430623100000,poor,2019,12\n", TALLY_ON_ERROR_COLLECT), 0);
    stats_are(&w, 1, 1, 0);
    assert_value(&w, TOWN_C, POOR, "2019", 12);
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_RECODED), 1);
    assert_int_equal(tally_dataset_carried_rows(w.ds, -1), 1);
    assert_int_equal(tally_dataset_carried_count(w.ds), 1);
    assert_int_equal(tally_dataset_carried_node(w.ds, 0), TOWN_C);
    assert_string_equal(tally_dataset_carried_from(w.ds, 0), "430623100000");
    assert_string_equal(tally_dataset_carried_period(w.ds, 0), "2019");
    assert_int_equal(tally_dataset_carried_how(w.ds, 0), TALLY_CROSSWALK_RECODED);
    world_free(&w);
}

/* Two gone villages merged into 街道A add up there: 30 + 12 = 42; with 村1
 * 100 and 村2 200 the rollup counts the piece beside them: 342 at 街道A,
 * at 岳阳楼区 and at the province. */
static void test_carry__merges_add_up(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001003,poor,2019,30\n"
                                  "430602001004,poor,2019,12\n"
                                  "430602001001,poor,2019,100\n"
                                  "430602001002,poor,2019,200\n",
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 4, 4, 0);
    assert_value(&w, TOWN_A, POOR, "2019", 42);
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_MERGED), 2);
    tally_result *r = NULL;
    tally_rollup_options o = TALLY_ROLLUP_OPTIONS_INIT;
    const char *const per[] = { "2019" };
    o.periods = per;
    o.period_count = 1;
    assert_int_equal(tally_rollup(&r, w.ds, &o), 0);
    const size_t at[] = { TOWN_A, YYL, CITY, PROV };
    for (size_t k = 0; k < 4; k++) {
        double v = NAN;
        int present = 0;
        assert_int_equal(tally_result_value(r, at[k], POOR, 0, &v, &present), 0);
        assert_true(present && fabs(v - 342) < 1e-9);
    }
    tally_result_free(r);
    world_free(&w);
}

/* A piece is counted beside the regions below only in the period it was
 * carried to: 街道A holds a piece of 30 in 2019 (a gone village merged into
 * it) and files 50 itself in 2020, when 村1 files 100. For 2019: 30 + 0 below
 * = 30 at 街道A. For 2020 the piece is not there: 街道A's own 50 is a
 * reported total, and the value from below (prefer computed) is 村1's 100,
 * not 150. */
static void test_carry__piece_only_in_its_period(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001003,poor,2019,30\n"
                                  "430602001000,poor,2020,50\n"
                                  "430602001001,poor,2020,100\n",
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 3, 3, 0);
    tally_result *r = NULL;
    tally_rollup_options o = TALLY_ROLLUP_OPTIONS_INIT;
    const char *const per[] = { "2019", "2020" };
    o.periods = per;
    o.period_count = 2;
    assert_int_equal(tally_rollup(&r, w.ds, &o), 0);
    const double want[2] = { 30, 100 };
    for (size_t p = 0; p < 2; p++) {
        double v = NAN;
        int present = 0;
        assert_int_equal(tally_result_value(r, TOWN_A, POOR, p, &v, &present), 0);
        assert_true(present && fabs(v - want[p]) < 1e-9);
        assert_int_equal(tally_result_value(r, YYL, POOR, p, &v, &present), 0);
        assert_true(present && fabs(v - want[p]) < 1e-9);
    }
    tally_result_free(r);
    world_free(&w);
}

/* Splits by largest remainder in units of the indicator's decimals:
 *   10 x 0.3/0.7: quotas 3, 7 exactly -> 3 and 7 (2019);
 *   5 x 0.3/0.7: quotas 1.5, 3.5 -> 1, 3, one unit left, remainders tie
 *     at 0.5 -> to the earlier row: 2 and 3 (2020);
 *   7 x 0.3/0.7: quotas 2.1, 4.9 -> 2, 4, the unit left to 0.9: 2 and 5
 *     (2021);
 *   5 x 0.5/0.5 (430698): 2.5, 2.5 -> the earlier row: 3 and 2 (2022);
 *   income 1.05 at decimals 2 x 0.3/0.7: 105 hundredths, quotas 31.5 and
 *     73.5 -> 31, 73, the hundredth left to the earlier: 0.32 and 0.73. */
static void test_carry__split_largest_remainder(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430699000000,poor,2019,10\n"
                                  "430699000000,poor,2020,5\n"
                                  "430699000000,poor,2021,7\n"
                                  "430698000000,poor,2022,5\n"
                                  "430699000000,income,2019,1.05\n",
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 5, 5, 0);
    assert_value(&w, YYL, POOR, "2019", 3);
    assert_value(&w, PJ, POOR, "2019", 7);
    assert_value(&w, YYL, POOR, "2020", 2);
    assert_value(&w, PJ, POOR, "2020", 3);
    assert_value(&w, YYL, POOR, "2021", 2);
    assert_value(&w, PJ, POOR, "2021", 5);
    assert_value(&w, YYL, POOR, "2022", 3);
    assert_value(&w, PJ, POOR, "2022", 2);
    assert_value(&w, YYL, INCOME, "2019", 0.32);
    assert_value(&w, PJ, INCOME, "2019", 0.73);
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_SPLIT), 5);
    assert_int_equal(tally_dataset_carried_count(w.ds), 10);
    world_free(&w);
}

/* The reason of reject i contains every one of the strings given. */
static void reason_has(const world *w, size_t i, const char *a, const char *b)
{
    const char *why = tally_rejects_reason(w->rej, i);
    assert_non_null(why);
    if (!strstr(why, a) || (b && !strstr(why, b)))
        fail_msg("reason: %s", why);
}

/* 街道A files 50 itself; the gone village 430602001003 would be carried
 * there: a conflict, the carried row (line 3) rejected, naming both. */
static void test_carry__conflict_collect(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001000,poor,2019,50\n"
                                  "430602001003,poor,2019,30\n",
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 2, 1, 1);
    assert_int_equal(tally_rejects_count(w.rej), 1);
    assert_int_equal(tally_rejects_line(w.rej, 0), 3);
    reason_has(&w, 0, "430602001000", "430602001003");
    reason_has(&w, 0, "conflict", NULL);
    assert_value(&w, TOWN_A, POOR, "2019", 50);
    assert_int_equal(tally_dataset_carried_rows(w.ds, -1), 0);
    world_free(&w);
}

static void test_carry__conflict_stop(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001000,poor,2019,50\n"
                                  "430602001003,poor,2019,30\n",
                                  TALLY_ON_ERROR_STOP),
                     TALLY_EEXIST);
    const char *m = tally_error_last()->message;
    assert_non_null(strstr(m, "r.csv:3:1: "));
    assert_non_null(strstr(m, "430602001000"));
    assert_non_null(strstr(m, "430602001003"));
    assert_int_equal(tally_dataset_carried_count(w.ds), 0);
    world_free(&w);
}

/* Rows that cannot be carried, each with its reason; and the summary. */
static void test_carry__rejected_and_counted(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001003,rate,2019,10\n"      /* line 2: formula */
                                  "430697000000,poor,2019,10\n"      /* 3: split, no shares */
                                  "430696000000,poor,2019,10\n"      /* 4: unmatched */
                                  "430602001003,mean_income,2019,9\n" /* 5: merged, mean */
                                  "430623000000,poor,2019,8\n"       /* 6: recoded */
                                  "430626100299,poor,2019,4\n"       /* 7: merged */
                                  "430699000000,poor,2019,10\n"      /* 8: split */
                                  "430626100201,poor,2019,1\n",      /* 9: a new code */
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 8, 4, 4);
    assert_int_equal(tally_rejects_count(w.rej), 4);
    /* Rejected rows are reported in the order of the checks: the plan
     * goes by the values in file order. */
    assert_int_equal(tally_rejects_line(w.rej, 0), 2);
    reason_has(&w, 0, "is a formula", "rate");
    assert_int_equal(tally_rejects_line(w.rej, 1), 3);
    reason_has(&w, 1, "without shares", "fill in the share column");
    assert_int_equal(tally_rejects_line(w.rej, 2), 4);
    reason_has(&w, 2, "unmatched", "430696000000");
    assert_int_equal(tally_rejects_line(w.rej, 3), 5);
    reason_has(&w, 3, "does not aggregate by sum", "mean_income");
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_RECODED), 1);
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_MERGED), 1);
    assert_int_equal(tally_dataset_carried_rows(w.ds, TALLY_CROSSWALK_SPLIT), 1);
    assert_int_equal(tally_dataset_carried_rows(w.ds, -1), 3);
    assert_value(&w, XS, POOR, "2019", 8);
    assert_value(&w, TOWN_B, POOR, "2019", 4);
    assert_value(&w, YYL, POOR, "2019", 3);
    assert_value(&w, PJ, POOR, "2019", 7);
    world_free(&w);
}

/* The hierarchy check with pieces carried to a coarser region. 2019:
 *   村1 100, 村2 200, and 30 of a gone village at 街道A; 岳阳楼区 files 330:
 *     100 + 200 + 30 = 330, passes. 街道A's 30 is a piece, not its report:
 *     not compared with 330 (it would be a false mismatch of 300);
 *   村3 25, and 20 of a gone village at 镇B; 平江县 files 50 against
 *     25 + 20 = 45: fails by 5, the message counting the piece.
 * Compared: 岳阳楼区 and 平江县: 2 items, 1 pass, 1 fail. */
static void test_carry__check_hierarchy(void **state)
{
    (void)state;
    world w;
    world_new(&w);
    assert_int_equal(read_records(&w,
                                  "430602001001,poor,2019,100\n"
                                  "430602001002,poor,2019,200\n"
                                  "430602001003,poor,2019,30\n"
                                  "430602000000,poor,2019,330\n"
                                  "430626100201,poor,2019,25\n"
                                  "430626100299,poor,2019,20\n"
                                  "430626000000,poor,2019,50\n",
                                  TALLY_ON_ERROR_COLLECT),
                     0);
    stats_are(&w, 7, 7, 0);
    tally_check_options o = TALLY_CHECK_OPTIONS_INIT;
    tally_findings *F = NULL;
    assert_int_equal(tally_check_run(&F, w.ds, &o), 0);
    /* The findings of add_up (the rate's coverage findings aside). */
    size_t n = 0, f = 0;
    for (size_t i = 0; i < tally_findings_count(F); i++)
        if (!strcmp(tally_findings_check(F, i), "add_up")) {
            n++;
            f = i;
        }
    assert_int_equal(n, 1);
    assert_int_equal(tally_findings_node(F, f), PJ);
    assert_true(fabs(tally_findings_expected(F, f) - 45) < 1e-9);
    assert_true(fabs(tally_findings_actual(F, f) - 50) < 1e-9);
    assert_string_equal(tally_findings_message(F, f),
                        "平江县 2019: 贫困人口 reported 50 but the sum of the 1 region below it "
                        "that reported and of 1 value carried there from old codes is 45 "
                        "(difference 5)");
    tally_check_summary s = { 0 };
    for (size_t k = 0; k < tally_findings_check_count(F); k++) {
        assert_int_equal(tally_findings_summary(F, k, &s), 0);
        if (!strcmp(s.check, "add_up"))
            break;
    }
    assert_string_equal(s.check, "add_up");
    assert_int_equal(s.items, 2);
    assert_int_equal(s.passes, 1);
    assert_int_equal(s.fails, 1);
    assert_int_equal(s.missing, 0);
    tally_findings_free(F);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carry__one_successor),
        cmocka_unit_test(test_carry__merges_add_up),
        cmocka_unit_test(test_carry__piece_only_in_its_period),
        cmocka_unit_test(test_carry__split_largest_remainder),
        cmocka_unit_test(test_carry__conflict_collect),
        cmocka_unit_test(test_carry__conflict_stop),
        cmocka_unit_test(test_carry__rejected_and_counted),
        cmocka_unit_test(test_carry__check_hierarchy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
