/* Tests for include/tally/crosswalk.h: the rules of inference on small
 * tables made by hand (the expected mapping of each region is worked out
 * in the comments), and reading a crosswalk file with its errors.
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

#include "tally/crosswalk.h"
#include "tally/error.h"
#include "tally/hierarchy.h"

/* The old table: 甲县 becomes 甲市 under a new code (its towns reappear
 * there by name, 镇 as 街道, 乡 as 镇); 乙区 stays, one village renamed,
 * one gone; 丙县 is split: 北镇 goes to 乙区, 中镇 to the new 丁区. */
static const char old_csv[] =
    "code,name,level,parent_code\n"
    "110000000000,省,province,\n"
    "110100000000,市,city,110000000000\n"
    "110101000000,甲县,county,110100000000\n"
    "110101001000,东镇,town,110101000000\n"
    "110101001001,一村村委会,village,110101001000\n"
    "110101002000,西乡,town,110101000000\n"
    "110101002001,二村,village,110101002000\n"
    "110102000000,乙区,county,110100000000\n"
    "110102001000,南街道,town,110102000000\n"
    "110102001001,三社区,village,110102001000\n"
    "110102001002,四村,village,110102001000\n"
    "110103000000,丙县,county,110100000000\n"
    "110103001000,北镇,town,110103000000\n"
    "110103002000,中镇,town,110103000000\n";

static const char new_csv[] =
    "code,name,level,parent_code\n"
    "110000000000,省,province,\n"
    "110100000000,市,city,110000000000\n"
    "110102000000,乙区,county,110100000000\n"
    "110102001000,南街道,town,110102000000\n"
    "110102001001,三社区居委会,village,110102001000\n"
    "110102002000,北镇,town,110102000000\n"
    "110104000000,丁区,county,110100000000\n"
    "110104001000,中镇,town,110104000000\n"
    "110181000000,甲市,county,110100000000\n"
    "110181001000,东街道,town,110181000000\n"
    "110181001001,一村村民委员会,village,110181001000\n"
    "110181002000,西镇,town,110181000000\n"
    "110181002001,二村,village,110181002000\n";

static tally_hierarchy *load(const char *csv)
{
    tally_hierarchy *h = NULL;
    assert_int_equal(tally_hierarchy_from_buffer(&h, csv, strlen(csv), "h.csv", NULL), 0);
    return h;
}

/* The one row of `code` (count 1): its to_code and how. */
static void expect_row(const tally_crosswalk *cw, const char *code, const char *to, int how)
{
    size_t first, count;
    assert_int_equal(tally_crosswalk_find(cw, code, strlen(code), &first, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(tally_crosswalk_to_code(cw, first), to);
    assert_int_equal(tally_crosswalk_how(cw, first), how);
    assert_true(tally_crosswalk_share(cw, first) == 1.0);
}

static void test_crosswalk__infer_rules(void **state)
{
    (void)state;
    tally_hierarchy *from = load(old_csv), *to = load(new_csv);
    tally_crosswalk *cw = NULL;
    assert_int_equal(tally_crosswalk_infer(&cw, from, to, NULL), 0);
    /* 14 old regions, 丙县 on two rows. */
    assert_int_equal(tally_crosswalk_size(cw), 15);
    expect_row(cw, "110000000000", "110000000000", TALLY_CROSSWALK_SAME);
    expect_row(cw, "110100000000", "110100000000", TALLY_CROSSWALK_SAME);
    /* Both towns of 甲县 reappear, by name, under 甲市, a new code. */
    expect_row(cw, "110101000000", "110181000000", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110101001000", "110181001000", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110101001001", "110181001001", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110101002000", "110181002000", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110101002001", "110181002001", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110102000000", "110102000000", TALLY_CROSSWALK_SAME);
    expect_row(cw, "110102001000", "110102001000", TALLY_CROSSWALK_SAME);
    expect_row(cw, "110102001001", "110102001001", TALLY_CROSSWALK_RENAMED);
    /* 四村 is gone: inside its town, which lives on. */
    expect_row(cw, "110102001002", "110102001000", TALLY_CROSSWALK_MERGED);
    expect_row(cw, "110103001000", "110102002000", TALLY_CROSSWALK_RECODED);
    expect_row(cw, "110103002000", "110104001000", TALLY_CROSSWALK_RECODED);
    size_t first, count;
    assert_int_equal(tally_crosswalk_find(cw, "110103000000", 12, &first, &count), 0);
    assert_int_equal(count, 2);
    assert_string_equal(tally_crosswalk_to_code(cw, first), "110102000000");
    assert_string_equal(tally_crosswalk_to_code(cw, first + 1), "110104000000");
    assert_int_equal(tally_crosswalk_how(cw, first), TALLY_CROSSWALK_SPLIT);
    assert_true(isnan(tally_crosswalk_share(cw, first)));
    /* Counts per level: county 3 = 1 same + 1 recoded + 1 split. */
    int county = tally_hierarchy_level_find(from, "county");
    assert_int_equal(tally_crosswalk_count(cw, county, TALLY_CROSSWALK_SAME), 1);
    assert_int_equal(tally_crosswalk_count(cw, county, TALLY_CROSSWALK_RECODED), 1);
    assert_int_equal(tally_crosswalk_count(cw, county, TALLY_CROSSWALK_SPLIT), 1);
    assert_int_equal(tally_crosswalk_count(cw, -1, TALLY_CROSSWALK_MERGED), 1);
    assert_int_equal(tally_crosswalk_find(cw, "999", 3, &first, &count), TALLY_ENOTFOUND);

    /* Written out and read back: the same rows. */
    const char *path = "test-crosswalk-out.csv";
    assert_int_equal(tally_crosswalk_write(cw, path), 0);
    tally_crosswalk *back = NULL;
    assert_int_equal(tally_crosswalk_from_file(&back, path, to), 0);
    assert_int_equal(tally_crosswalk_size(back), 15);
    for (size_t i = 0; i < 15; i++) {
        assert_string_equal(tally_crosswalk_from_code(back, i), tally_crosswalk_from_code(cw, i));
        assert_string_equal(tally_crosswalk_to_code(back, i), tally_crosswalk_to_code(cw, i));
        assert_int_equal(tally_crosswalk_how(back, i), tally_crosswalk_how(cw, i));
    }
    remove(path);
    tally_crosswalk_free(back);
    tally_crosswalk_free(cw);
    tally_hierarchy_free(from);
    tally_hierarchy_free(to);
}

/* Two old towns of one name in the scope: neither is guessed. */
static void test_crosswalk__ambiguous_name_not_guessed(void **state)
{
    (void)state;
    tally_hierarchy *from = load("code,name,level,parent_code\n"
                                 "110000000000,省,province,\n"
                                 "110100000000,市,city,110000000000\n"
                                 "110101000000,甲县,county,110100000000\n"
                                 "110101001000,东镇,town,110101000000\n"
                                 "110102000000,乙县,county,110100000000\n"
                                 "110102001000,东乡,town,110102000000\n");
    tally_hierarchy *to = load("code,name,level,parent_code\n"
                               "110000000000,省,province,\n"
                               "110100000000,市,city,110000000000\n"
                               "110181000000,丙市,county,110100000000\n"
                               "110181001000,东街道,town,110181000000\n");
    tally_crosswalk *cw = NULL;
    assert_int_equal(tally_crosswalk_infer(&cw, from, to, NULL), 0);
    /* 东镇 and 东乡 both stem to 东: each only certainly inside the city. */
    expect_row(cw, "110101001000", "110100000000", TALLY_CROSSWALK_MERGED);
    expect_row(cw, "110102001000", "110100000000", TALLY_CROSSWALK_MERGED);
    expect_row(cw, "110101000000", "110100000000", TALLY_CROSSWALK_MERGED);
    tally_crosswalk_free(cw);
    tally_hierarchy_free(from);
    tally_hierarchy_free(to);
}

static void expect_read_error(const char *csv, int code, unsigned long line, unsigned long col,
                              const char *needle)
{
    tally_hierarchy *to = load(new_csv);
    tally_crosswalk *cw = NULL;
    int rc = tally_crosswalk_from_buffer(&cw, csv, strlen(csv), "cw.csv", to);
    const tally_error *e = tally_error_last();
    if (rc != code || e->line != line || e->column != col || !strstr(e->message, needle))
        print_error("got %d at %lu:%lu: %s\n", rc, e->line, e->column, e->message);
    assert_int_equal(rc, code);
    assert_null(cw);
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, col);
    assert_non_null(strstr(e->message, needle));
    assert_string_equal(e->path, "cw.csv");
    tally_hierarchy_free(to);
}

static void test_crosswalk__read_errors(void **state)
{
    (void)state;
    /* Shares 0.6 + 0.3 = 0.9: refused at the last row's share. */
    expect_read_error("from_code,to_code,share\n"
                      "110103000000,110102000000,0.6\n"
                      "110103000000,110104000000,0.3\n",
                      TALLY_EINVAL, 3, 27, "sum to 0.9");
    /* The same with the how and name columns of an edited file, rows apart. */
    expect_read_error("from_code,from_name,to_code,to_name,share,how\n"
                      "110103000000,丙县,110102000000,乙区,0.6,split\n"
                      "110102000000,乙区,110102000000,乙区,1,same\n"
                      "110103000000,丙县,110104000000,丁区,0.3,split\n",
                      TALLY_EINVAL, 4, 33, "sum to 0.9");
    expect_read_error("from_code,to_code,share\n"
                      "110101000000,110181000000,1.5\n",
                      TALLY_ERANGE, 2, 27, "outside (0, 1]");
    expect_read_error("from_code,to_code,share\n"
                      "110101000000,110181000000,0\n",
                      TALLY_ERANGE, 2, 27, "outside (0, 1]");
    expect_read_error("from_code,to_code,share\n"
                      "110101000000,110199000000,1\n",
                      TALLY_ENOTFOUND, 2, 14, "unknown to_code '110199000000'");
    /* 甲 -> 乙 -> 丁: a chain. */
    expect_read_error("from_code,to_code,share\n"
                      "110101000000,110102000000,1\n"
                      "110102000000,110104000000,1\n",
                      TALLY_ECYCLE, 2, 14, "chain");
    expect_read_error("from_code,to_code,share\n"
                      "110103000000,110102000000,0.5\n"
                      "110103000000,110104000000,\n",
                      TALLY_EINVAL, 3, 27, "a share on 1 of its 2 rows");
    expect_read_error("from_code,to_code\n1,2\n", TALLY_EPARSE, 1, 1, "no 'share' column");
    expect_read_error("from_code,to_code,share,how\n"
                      "110101000000,110181000000,1,moved\n",
                      TALLY_EPARSE, 2, 29, "unknown how 'moved'");
}

/* A good file: shares summing to 1 within 1e-9, a split left open. */
static void test_crosswalk__read_good(void **state)
{
    (void)state;
    tally_hierarchy *to = load(new_csv);
    const char csv[] = "from_code,to_code,share\n"
                       "110103000000,110102000000,0.1\n"
                       "110101000000,110181000000,1\n"
                       "110103000000,110104000000,0.2\n"
                       "110103000000,110181000000,0.7\n"
                       "110199000000,110102000000,\n"
                       "110199000000,110104000000,\n";
    tally_crosswalk *cw = NULL;
    assert_int_equal(tally_crosswalk_from_buffer(&cw, csv, strlen(csv), "cw.csv", to), 0);
    assert_int_equal(tally_crosswalk_size(cw), 6);
    size_t first, count;
    assert_int_equal(tally_crosswalk_find(cw, "110103000000", 12, &first, &count), 0);
    assert_int_equal(first, 0);
    assert_int_equal(count, 3);
    assert_true(tally_crosswalk_share(cw, 2) == 0.7);
    assert_int_equal(tally_crosswalk_line(cw, 2), 5);
    assert_int_equal(tally_crosswalk_how(cw, 0), TALLY_CROSSWALK_GIVEN);
    assert_int_equal(tally_crosswalk_find(cw, "110199000000", 12, &first, &count), 0);
    assert_true(isnan(tally_crosswalk_share(cw, first)));
    tally_crosswalk_free(cw);
    tally_hierarchy_free(to);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crosswalk__infer_rules),
        cmocka_unit_test(test_crosswalk__ambiguous_name_not_guessed),
        cmocka_unit_test(test_crosswalk__read_errors),
        cmocka_unit_test(test_crosswalk__read_good),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
