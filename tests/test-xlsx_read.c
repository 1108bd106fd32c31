/* Tests for lib/xlsx_read.c: a small workbook (tests/data/xlsx/small.xlsx,
 * made by make-small.py beside it) turned into CSV, and the readers'
 * places in it.
 *
 * The expected CSV is written out by hand from what make-small.py puts in
 * each cell: numbers as stored (4.30602001004E+11 is the integer), a
 * string with a comma and one with quotes quoted, shared strings (one of
 * two runs, its phonetic reading left out), an inline string, an empty
 * cell as an empty field, row 4 missing (a blank line), row 5 padded to
 * the header's four fields, a boolean as TRUE.
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
#include <unistd.h>

#include <cmocka.h>

#include "csv.h"
#include "error.h"
#include "tally/error.h"
#include "xlsx_read.h"

static void fixture(char *path, size_t size)
{
    const char *dir = getenv("TALLY_TEST_DATA");
    snprintf(path, size, "%s/xlsx/small.xlsx", dir ? dir : "tests/data");
}

static tally_xlsx_sheet *open_ok(const char *sheet)
{
    char path[1024];
    fixture(path, sizeof path);
    tally_xlsx_sheet *s = NULL;
    int rc = tally_xlsx_sheet_open(&s, path, sheet, NULL);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return s;
}

static void test_first_sheet_as_csv(void **state)
{
    (void)state;
    tally_xlsx_sheet *s = open_ok(NULL);
    size_t n;
    const char *csv = tally_xlsx_sheet_csv(s, &n);
    const char *want = "region_code,name,value,note\n"
                       "430602001001,郭亮社区,12.5,\"a,b\"\n"
                       "430602001002,\"say \"\"hi\"\"\",,x\n"
                       "\n"
                       "430602001004,TRUE,,\n";
    assert_string_equal(csv, want);
    assert_int_equal(n, strlen(want));
    char path[1024], name[1100];
    fixture(path, sizeof path);
    snprintf(name, sizeof name, "%s:数据", path);
    assert_string_equal(tally_xlsx_sheet_name(s), name);
    tally_xlsx_sheet_free(s);
}

static void test_sheet_by_name(void **state)
{
    (void)state;
    tally_xlsx_sheet *s = open_ok("Other");
    assert_string_equal(tally_xlsx_sheet_csv(s, NULL), "only,here\n");
    tally_xlsx_sheet_free(s);
    s = open_ok("数据");
    assert_memory_equal(tally_xlsx_sheet_csv(s, NULL), "region_code,", 12);
    tally_xlsx_sheet_free(s);
}

static void test_missing_sheet(void **state)
{
    (void)state;
    char path[1024];
    fixture(path, sizeof path);
    tally_xlsx_sheet *s = NULL;
    assert_int_equal(tally_xlsx_sheet_open(&s, path, "Sheet1", NULL), TALLY_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(tally_error_last()->message,
                           "no sheet named 'Sheet1'; the workbook has: 数据, Other"));
}

/* A reader's error at a field names the cell: row 5 is line 5, field 1 is
 * column B; the error's line and column are the row and the column. */
static void test_error_names_the_cell(void **state)
{
    (void)state;
    tally_xlsx_sheet *s = open_ok(NULL);
    size_t n;
    const char *csv = tally_xlsx_sheet_csv(s, &n);
    tally_csv c;
    tally_csv__init(&c, csv, n, tally_xlsx_sheet_name(s));
    int r;
    while ((r = tally_csv__next(&c)) == 1 && c.line != 5)
        ;
    assert_int_equal(r, 1);
    assert_int_equal(c.nfields, 4);
    tally_csv__error_at_field(&c, 1, TALLY_EPARSE, "bad number '%s'", "TRUE");
    const tally_error *e = tally_error_last();
    char want[1200];
    snprintf(want, sizeof want, "%s!B5: bad number 'TRUE'", tally_xlsx_sheet_name(s));
    assert_string_equal(e->message, want);
    assert_int_equal(e->line, 5);
    assert_int_equal(e->column, 2);
    assert_string_equal(tally_error__reason(), "bad number 'TRUE'");
    tally_csv__fini(&c);
    tally_xlsx_sheet_free(s);

    /* The same text under another name is a plain CSV: line and column. */
    s = open_ok(NULL);
    csv = tally_xlsx_sheet_csv(s, &n);
    tally_csv__init(&c, csv, n, "plain.csv");
    while ((r = tally_csv__next(&c)) == 1 && c.line != 5)
        ;
    tally_csv__error_at_field(&c, 1, TALLY_EPARSE, "bad");
    assert_string_equal(tally_error_last()->message, "plain.csv:5:14: bad");
    tally_csv__fini(&c);
    tally_xlsx_sheet_free(s);
}

static void test_cell_names(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(tally_xlsx_cell_name(1, 1, b, sizeof b), "A1");
    assert_string_equal(tally_xlsx_cell_name(26, 7, b, sizeof b), "Z7");
    assert_string_equal(tally_xlsx_cell_name(27, 12, b, sizeof b), "AA12");
    assert_string_equal(tally_xlsx_cell_name(16384, 1048576, b, sizeof b), "XFD1048576");
}

/* A cut workbook, and one whose sheet unpacks past the limit. */
static void test_broken_and_limits(void **state)
{
    (void)state;
    char path[1024];
    fixture(path, sizeof path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char cut[] = "/tmp/tally-xlsx-cut-XXXXXX";
    int fd = mkstemp(cut);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n / 2), (ssize_t)(n / 2));
    close(fd);
    tally_xlsx_sheet *s = NULL;
    assert_int_equal(tally_xlsx_sheet_open(&s, cut, NULL, NULL), TALLY_EPARSE);
    assert_null(s);
    assert_non_null(strstr(tally_error_last()->message, "not a readable xlsx workbook"));
    unlink(cut);

    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.max_input_bytes = 1000; /* the file is 4 kB */
    assert_int_equal(tally_xlsx_sheet_open(&s, path, NULL, &o), TALLY_ELIMIT);
    o.max_input_bytes = 5000; /* the file fits; xl/styles.xml is not read, the sheet is 1.1 kB */
    assert_int_equal(tally_xlsx_sheet_open(&s, path, NULL, &o), 0);
    tally_xlsx_sheet_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sheet_as_csv),  cmocka_unit_test(test_sheet_by_name),
        cmocka_unit_test(test_missing_sheet),       cmocka_unit_test(test_error_names_the_cell),
        cmocka_unit_test(test_cell_names),          cmocka_unit_test(test_broken_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
