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
#include <pthread.h>
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
#include "tally/hierarchy.h"
#include "xlsx_read.h"

static void fixture_named(char *path, size_t size, const char *file)
{
    const char *dir = getenv("TALLY_TEST_DATA");
    snprintf(path, size, "%s/xlsx/%s", dir ? dir : "tests/data", file);
}

static void fixture(char *path, size_t size)
{
    fixture_named(path, size, "small.xlsx");
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
 * column B; the error's line and column are the row and the column. The
 * sheet comes with the read's options, whatever the name. */
static void test_error_names_the_cell(void **state)
{
    (void)state;
    tally_xlsx_sheet *s = open_ok(NULL);
    size_t n;
    const char *csv = tally_xlsx_sheet_csv(s, &n);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.sheet = s;
    tally_csv_input in;
    assert_int_equal(tally_csv__input_open(&in, csv, n, tally_xlsx_sheet_name(s), &o), 0);
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, tally_xlsx_sheet_name(s));
    tally_csv__input_apply(&in, &c);
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
    tally_csv__input_close(&in);
    tally_xlsx_sheet_free(s);

    /* The same text without the sheet, even under its name, is a plain
     * CSV: line and column. */
    s = open_ok(NULL);
    csv = tally_xlsx_sheet_csv(s, &n);
    tally_csv__init(&c, csv, n, tally_xlsx_sheet_name(s));
    while ((r = tally_csv__next(&c)) == 1 && c.line != 5)
        ;
    tally_csv__error_at_field(&c, 1, TALLY_EPARSE, "bad");
    snprintf(want, sizeof want, "%s:5:14: bad", tally_xlsx_sheet_name(s));
    assert_string_equal(tally_error_last()->message, want);
    tally_csv__fini(&c);
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

/* ---- the sheet is the read's own ----------------------------------------
 *
 * a.xlsx and b.xlsx (made by make-books.py beside them) are hierarchies
 * whose last row repeats a code. By hand from what make-books.py puts in
 * the cells: a.xlsx, sheet 甲, repeats row 3's code at A4; b.xlsx, sheet
 * 乙, has its columns as name,code and a line break in B2's neighbour A2
 * (row 2 is lines 2 and 3 of the text), and repeats row 2's code at B4,
 * line 5 of the text. So the places are A4 and B4, where the other
 * workbook's rows would give A3 and B5, and plain text 4:1 and 5:4. */

typedef struct book_case {
    const char *file, *sheet;
    const char *reason;        /* after "PATH:SHEET!CELL: " */
    const char *cell;          /* A4, B4 */
    unsigned long row, column; /* the error's line and column */
} book_case;

static const book_case books[2] = {
    { "a.xlsx", "甲", "duplicate code '430600000000'; first given on line 3", "A4", 4, 1 },
    { "b.xlsx", "乙", "duplicate code '430000000000'; first given on line 2", "B4", 4, 2 },
};

/* Reads book `b`'s hierarchy with the sheet in the options, under a copy
 * of the sheet's name (no pointer of the sheet's own but the sheet); 0
 * when the read fails where the book says, else a line for the test. */
static int read_book(const book_case *b, tally_xlsx_sheet *s, char *why, size_t whysize)
{
    char name[1100], want[1400];
    snprintf(name, sizeof name, "%s", tally_xlsx_sheet_name(s));
    snprintf(want, sizeof want, "%s!%s: %s", name, b->cell, b->reason);
    size_t n;
    const char *csv = tally_xlsx_sheet_csv(s, &n);
    tally_hierarchy_options o = TALLY_HIERARCHY_OPTIONS_INIT;
    o.sheet = s;
    tally_hierarchy *h = NULL;
    int rc = tally_hierarchy_from_buffer(&h, csv, n, name, &o);
    tally_hierarchy_free(h);
    const tally_error *e = tally_error_last();
    if (rc != TALLY_EEXIST || strcmp(e->message, want) != 0 || e->line != b->row ||
        e->column != b->column) {
        snprintf(why, whysize, "%s: rc %d, '%s' (%lu:%lu); expected '%s' (%lu:%lu)", b->file, rc,
                 e->message, e->line, e->column, want, b->row, b->column);
        return 1;
    }
    return 0;
}

static tally_xlsx_sheet *open_book(const book_case *b)
{
    char path[1024];
    fixture_named(path, sizeof path, b->file);
    tally_xlsx_sheet *s = NULL;
    int rc = tally_xlsx_sheet_open(&s, path, NULL, NULL);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    char name[1100];
    snprintf(name, sizeof name, "%s:%s", path, b->sheet);
    assert_string_equal(tally_xlsx_sheet_name(s), name);
    return s;
}

/* The sheet in the options places the errors of a public reader at its
 * cells under a copy of its name; without it (options of version 3,
 * which end before the field) the read is as before, at lines. */
static void test_sheet_in_options(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        tally_xlsx_sheet *s = open_book(&books[i]);
        char why[4096];
        if (read_book(&books[i], s, why, sizeof why))
            fail_msg("%s", why);
        tally_hierarchy_options v3 = TALLY_HIERARCHY_OPTIONS_INIT;
        v3.version = 3;
        v3.sheet = s; /* past the end of a version 3 struct: not read */
        size_t n;
        const char *csv = tally_xlsx_sheet_csv(s, &n);
        tally_hierarchy *h = NULL;
        assert_int_equal(tally_hierarchy_from_buffer(&h, csv, n, tally_xlsx_sheet_name(s), &v3),
                         TALLY_EEXIST);
        char want[1400];
        snprintf(want, sizeof want, "%s:%s: %s", tally_xlsx_sheet_name(s), i ? "5:4" : "4:1",
                 books[i].reason);
        assert_string_equal(tally_error_last()->message, want);
        tally_xlsx_sheet_free(s);
    }
}

/* A sheet given with text that is not its own is refused. */
static void test_sheet_with_other_text(void **state)
{
    (void)state;
    tally_xlsx_sheet *s = open_book(&books[0]);
    static const char other[] = "code,name\n430000000000,湖南省\n";
    tally_hierarchy_options o = TALLY_HIERARCHY_OPTIONS_INIT;
    o.sheet = s;
    tally_hierarchy *h = NULL;
    assert_int_equal(tally_hierarchy_from_buffer(&h, other, sizeof other - 1, "other.csv", &o),
                     TALLY_EINVAL);
    assert_null(h);
    assert_non_null(strstr(tally_error_last()->message, "expected the sheet's own text"));
    tally_xlsx_sheet_free(s);
}

#define BOOK_ROUNDS 200

typedef struct book_thread {
    const book_case *b;
    pthread_barrier_t *start;
    char why[4096];
    int failed;
} book_thread;

/* Opens its workbook, then reads it over and over, freeing and opening it
 * again every few rounds, while the other thread does the same with the
 * other workbook. */
static void *book_worker(void *arg)
{
    book_thread *t = arg;
    char path[1024];
    fixture_named(path, sizeof path, t->b->file);
    pthread_barrier_wait(t->start);
    tally_xlsx_sheet *s = NULL;
    for (int i = 0; i < BOOK_ROUNDS && !t->failed; i++) {
        if (!s && tally_xlsx_sheet_open(&s, path, NULL, NULL)) {
            snprintf(t->why, sizeof t->why, "%s: %s", t->b->file, tally_error_last()->message);
            t->failed = 1;
            break;
        }
        t->failed = read_book(t->b, s, t->why, sizeof t->why);
        if (i % 7 == 6) {
            tally_xlsx_sheet_free(s);
            s = NULL;
        }
    }
    tally_xlsx_sheet_free(s);
    return NULL;
}

/* Two threads read two workbooks at once: each read is placed in its own
 * sheet, every time. */
static void test_two_books_in_two_threads(void **state)
{
    (void)state;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    book_thread t[2];
    pthread_t id[2];
    for (size_t i = 0; i < 2; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].b = &books[i];
        t[i].start = &start;
        assert_int_equal(pthread_create(&id[i], NULL, book_worker, &t[i]), 0);
    }
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(pthread_join(id[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (size_t i = 0; i < 2; i++)
        if (t[i].failed)
            fail_msg("%s", t[i].why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sheet_as_csv),  cmocka_unit_test(test_sheet_by_name),
        cmocka_unit_test(test_missing_sheet),       cmocka_unit_test(test_error_names_the_cell),
        cmocka_unit_test(test_cell_names),          cmocka_unit_test(test_broken_and_limits),
        cmocka_unit_test(test_sheet_in_options),    cmocka_unit_test(test_sheet_with_other_text),
        cmocka_unit_test(test_two_books_in_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
