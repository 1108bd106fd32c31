/* Tests for lib/csv.h: the RFC 4180 reader over memory.
 *
 * Every expected row, line and column is worked out by hand in the
 * comments. Columns count characters (UTF-8 code points), 1-based.
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

#include <cmocka.h>

#include "csv.h"
#include "error.h"
#include "tally/error.h"
#include "util.h"

/* The current row as "[f1][f2]...", for comparing whole rows at once. */
static const char *render(const tally_csv *c)
{
    static char buf[8192];
    size_t n = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        assert_true(n + c->fields[i].len + 3 < sizeof buf);
        buf[n++] = '[';
        memcpy(buf + n, c->fields[i].ptr, c->fields[i].len);
        n += c->fields[i].len;
        buf[n++] = ']';
    }
    buf[n] = '\0';
    return buf;
}

/* Reads the next row and checks it is `expected` starting on `line`. */
static void expect_row(tally_csv *c, const char *expected, unsigned long line)
{
    int rc = tally_csv__next(c);
    if (rc != 1)
        print_error("next returned %d (%s), expected row %s\n", rc, tally_error_last()->message,
                    expected);
    assert_int_equal(rc, 1);
    const char *got = render(c);
    if (strcmp(got, expected) != 0 || c->line != line)
        print_error("row %s at line %lu, expected %s at line %lu\n", got, c->line, expected, line);
    assert_string_equal(got, expected);
    assert_int_equal(c->line, line);
}

static void expect_end(tally_csv *c)
{
    assert_int_equal(tally_csv__next(c), 0);
    /* The end is sticky. */
    assert_int_equal(tally_csv__next(c), 0);
}

/* Reads the next row and expects it to be malformed with `code` at
 * line:col of `name`. */
static void expect_bad_row(tally_csv *c, int code, const char *name, unsigned long line,
                           unsigned long col)
{
    tally_error_clear();
    int rc = tally_csv__next(c);
    if (rc != code)
        print_error("next returned %d, expected %d\n", rc, code);
    assert_int_equal(rc, code);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, code);
    assert_string_equal(e->path, name);
    if (e->line != line || e->column != col)
        print_error("error at %lu:%lu, expected %lu:%lu: %s\n", e->line, e->column, line, col,
                    e->message);
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, col);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s:%lu:%lu: ", name, line, col);
    assert_true(strncmp(e->message, prefix, strlen(prefix)) == 0);
}

static void open_text(tally_csv *c, const char *text)
{
    tally_csv__init(c, text, strlen(text), "t.csv");
}

static void test_csv__plain_rows(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "code,name,level\n110000000000,北京市,province\n110100000000,市辖区,city\n");
    expect_row(&c, "[code][name][level]", 1);
    expect_row(&c, "[110000000000][北京市][province]", 2);
    expect_row(&c, "[110100000000][市辖区][city]", 3);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__empty_input(void **state)
{
    (void)state;
    tally_csv c;
    tally_csv__init(&c, "", 0, "t.csv");
    expect_end(&c);
    tally_csv__fini(&c);
    /* Only line endings: nothing but blank lines. */
    open_text(&c, "\n\r\n\n");
    expect_end(&c);
    tally_csv__fini(&c);
    /* Only a BOM. */
    open_text(&c, "\xEF\xBB\xBF");
    expect_end(&c);
    tally_csv__fini(&c);
    /* fini twice and on a reader that read nothing is harmless. */
    tally_csv__fini(&c);
}

static void test_csv__data_is_not_nul_terminated(void **state)
{
    (void)state;
    /* The reader must stop at size: the bytes after it are not data. */
    const char text[] = "a,b\nc,\"d\"XYZ,\"never\"";
    tally_csv c;
    tally_csv__init(&c, text, 9, "t.csv"); /* "a,b\nc,\"d\"" */
    expect_row(&c, "[a][b]", 1);
    expect_row(&c, "[c][d]", 2);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__quoted_fields_with_commas(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "\"a,b\",c,\"d, e, f\"\n\",\",\",,\"\n");
    expect_row(&c, "[a,b][c][d, e, f]", 1);
    /* Offsets point at the opening quote: byte 0 and byte 6. */
    assert_int_equal(c.fields[0].offset, 0);
    assert_int_equal(c.fields[1].offset, 6);
    assert_int_equal(c.fields[2].offset, 8);
    expect_row(&c, "[,][,,]", 2);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__doubled_quotes(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "\"say \"\"hi\"\"\",x,\"\"\"q\"\"\",plain,\"a\"\"b\",\"\"\"\"\n"
                  "\"\"\"\"\"\"\n");
    /* say "hi" | x | "q" | plain | a"b | " */
    expect_row(&c, "[say \"hi\"][x][\"q\"][plain][a\"b][\"]", 1);
    /* """""" is a quoted field holding two quotes. */
    expect_row(&c, "[\"\"]", 2);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__doubled_quotes_scratch_grows(void **state)
{
    (void)state;
    /* A short escaped field, then fields long enough to make the scratch
     * buffer grow (and likely move) several times; every field must still
     * be right once the row is complete. Then a second row reuses it. */
    size_t big = 20000;
    size_t cap = 4 * big + 200;
    char *text = malloc(cap);
    char *want = malloc(cap);
    assert_non_null(text);
    assert_non_null(want);
    size_t n = 0, w = 0;
    n += (size_t)sprintf(text + n, "\"a\"\"1\",");
    w += (size_t)sprintf(want + w, "[a\"1]");
    for (int f = 0; f < 3; f++) {
        text[n++] = '"';
        want[w++] = '[';
        for (size_t k = 0; k < big / 2; k++) {
            char ch = (char)('a' + (k + (size_t)f) % 26);
            text[n++] = ch;
            want[w++] = ch;
            if (k % 100 == 0) {
                text[n++] = '"';
                text[n++] = '"';
                want[w++] = '"';
            }
        }
        text[n++] = '"';
        want[w++] = ']';
        text[n++] = ',';
    }
    n += (size_t)sprintf(text + n, "\"z\"\"\"\n\"x\"\"y\",\"\"\"\"\n");
    w += (size_t)sprintf(want + w, "[z\"]");
    text[n] = '\0';
    want[w] = '\0';

    tally_csv c;
    tally_csv__init(&c, text, n, "big.csv");
    assert_int_equal(tally_csv__next(&c), 1);
    assert_int_equal(c.nfields, 5);
    /* Compare field by field (the row is too big for render's buffer). */
    size_t pos = 0;
    for (size_t i = 0; i < c.nfields; i++) {
        assert_int_equal(want[pos], '[');
        /* No ']' occurs inside the fields. */
        const char *end = strchr(want + pos + 1, ']');
        size_t len = (size_t)(end - (want + pos + 1));
        assert_int_equal(c.fields[i].len, len);
        assert_memory_equal(c.fields[i].ptr, want + pos + 1, len);
        pos += len + 2;
    }
    expect_row(&c, "[x\"y][\"]", 2);
    expect_end(&c);
    tally_csv__fini(&c);
    free(text);
    free(want);
}

static void test_csv__newlines_inside_quotes(void **state)
{
    (void)state;
    tally_csv c;
    /* Row 2 spans lines 2-3; row 3 spans lines 4-7 (two newlines inside
     * one field, a CRLF inside another), so the last row is on line 8. */
    open_text(&c, "h1,h2\n"
                  "\"line1\nline2\",x\n"
                  "\"a\n\nb\",\"c\r\nd\"\n"
                  "next,row\n");
    expect_row(&c, "[h1][h2]", 1);
    expect_row(&c, "[line1\nline2][x]", 2);
    expect_row(&c, "[a\n\nb][c\r\nd]", 4);
    expect_row(&c, "[next][row]", 8);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__crlf_and_lf(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "a,b\r\nc,d\r\ne,\"f\"\r\ng,h\ni,j\r\n");
    expect_row(&c, "[a][b]", 1);
    /* The row range excludes the line ending: "a,b" is bytes 0..3. */
    assert_int_equal(c.row_start, 0);
    assert_int_equal(c.row_end, 3);
    expect_row(&c, "[c][d]", 2);
    expect_row(&c, "[e][f]", 3);
    expect_row(&c, "[g][h]", 4);
    expect_row(&c, "[i][j]", 5);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__cr_inside_unquoted_field_kept(void **state)
{
    (void)state;
    /* Only CR LF ends a row; a CR elsewhere is data. */
    tally_csv c;
    open_text(&c, "a\rb,c\n");
    expect_row(&c, "[a\rb][c]", 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__final_row_without_newline(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "a,b\nc,d");
    expect_row(&c, "[a][b]", 1);
    expect_row(&c, "[c][d]", 2);
    assert_int_equal(c.row_end, 7);
    expect_end(&c);
    tally_csv__fini(&c);

    open_text(&c, "a,\"b\"");
    expect_row(&c, "[a][b]", 1);
    expect_end(&c);
    tally_csv__fini(&c);

    open_text(&c, "a,");
    expect_row(&c, "[a][]", 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__trailing_cr_at_end(void **state)
{
    (void)state;
    /* A CRLF file cut after its last CR: the CR is a line ending, not
     * data. */
    tally_csv c;
    open_text(&c, "a,b\r\nc,d\r");
    expect_row(&c, "[a][b]", 1);
    expect_row(&c, "[c][d]", 2);
    assert_int_equal(c.row_end, 8); /* "c,d" is bytes 5..8 */
    expect_end(&c);
    tally_csv__fini(&c);

    open_text(&c, "a,\"b\"\r");
    expect_row(&c, "[a][b]", 1);
    expect_end(&c);
    tally_csv__fini(&c);

    open_text(&c, "a,\r");
    expect_row(&c, "[a][]", 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__blank_lines_skipped(void **state)
{
    (void)state;
    tally_csv c;
    /* Lines: 1 blank, 2 blank, 3 "a,b", 4 blank, 5 blank (CRLF), 6 "c,d",
     * 7 blank, 8 "e". */
    open_text(&c, "\n\na,b\n\n\r\nc,d\n\ne\n\n");
    expect_row(&c, "[a][b]", 3);
    expect_row(&c, "[c][d]", 6);
    expect_row(&c, "[e]", 8);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__bom_skipped(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "\xEF\xBB\xBF" "code,name\n1,x\n");
    expect_row(&c, "[code][name]", 1);
    /* "name" is character 6 of line 1: the BOM is not a character of the
     * row. */
    unsigned long line, col;
    tally_csv__locate(&c, c.fields[1].offset, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 6);
    tally_csv__locate(&c, c.fields[0].offset, &line, &col);
    assert_int_equal(col, 1);
    expect_row(&c, "[1][x]", 2);
    expect_end(&c);
    tally_csv__fini(&c);

    /* A BOM, then blank lines. */
    open_text(&c, "\xEF\xBB\xBF\n\nq\n");
    expect_row(&c, "[q]", 3);
    expect_end(&c);
    tally_csv__fini(&c);

    /* Only a BOM at the very start is skipped; a BOM elsewhere is data. */
    open_text(&c, "a\n\xEF\xBB\xBF" "b\n");
    expect_row(&c, "[a]", 1);
    expect_row(&c, "[\xEF\xBB\xBF" "b]", 2);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__empty_fields(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "a,,b\n,,\n,\n\"\",,\"\"\n");
    expect_row(&c, "[a][][b]", 1);
    expect_row(&c, "[][][]", 2);
    expect_row(&c, "[][]", 3);
    expect_row(&c, "[][][]", 4);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__row_of_one_quoted_empty_string(void **state)
{
    (void)state;
    /* Not a blank line: one empty field. */
    tally_csv c;
    open_text(&c, "\"\"\nx\n\"\"");
    expect_row(&c, "[]", 1);
    assert_int_equal(c.nfields, 1);
    assert_int_equal(c.fields[0].len, 0);
    expect_row(&c, "[x]", 2);
    expect_row(&c, "[]", 3);
    expect_end(&c);
    tally_csv__fini(&c);

    open_text(&c, "\"\"\r\n");
    expect_row(&c, "[]", 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__unterminated_quote(void **state)
{
    (void)state;
    tally_csv c;
    /* The quote opens at line 2, character 3. */
    open_text(&c, "a,b\n1,\"abc\n2,3\n");
    expect_row(&c, "[a][b]", 1);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 3);
    /* The offending text starts at the quote. */
    assert_non_null(tally_error_last()->text);
    assert_true(strncmp(tally_error_last()->text, "\"abc", 4) == 0);
    /* The rest of the input belongs to the runaway field: nothing more. */
    assert_int_equal(c.row_start, 4);
    assert_int_equal(c.row_end, strlen("a,b\n1,\"abc\n2,3\n"));
    expect_end(&c);
    tally_csv__fini(&c);

    /* Chinese text before the quote on the same line: column in
     * characters. "名称,值,\"x" -> 名 称 , 值 , then the quote is 6th. */
    open_text(&c, "名称,值,\"x");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 6);
    tally_csv__fini(&c);

    /* After doubled quotes and a newline: still where the field opened. */
    open_text(&c, "k\n\n x,\"a\"\"b\nc");
    expect_row(&c, "[k]", 1);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 3, 4);
    expect_end(&c);
    tally_csv__fini(&c);

    /* After a quoted field spanning two lines: line 2 is b","c and the
     * second quote opens at character 4. */
    open_text(&c, "\"a\nb\",\"c\n");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 4);
    expect_end(&c);
    tally_csv__fini(&c);

    /* A lone quote at the end. */
    open_text(&c, "\"");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 1);
    expect_end(&c);
    tally_csv__fini(&c);

    /* Three quotes: an escaped quote, then no closing one. */
    open_text(&c, "\"\"\"");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

/* A reader whose input ends inside a quoted field says so (a parallel
 * reader's piece cut in a field is found that way); no other row or error
 * does. */
static void test_csv__unterminated_is_flagged(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "a,b\n\"x\"y,1\n\n\"q\"\"\",\"p\nq\"\r\n");
    expect_row(&c, "[a][b]", 1);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 4); /* text after a closing quote */
    expect_row(&c, "[q\"][p\nq]", 4);
    expect_end(&c);
    assert_int_equal(c.unterminated, 0);
    tally_csv__fini(&c);
    /* Cut after the line break inside the quotes: the field runs to the end. */
    open_text(&c, "a,b\n1,\"x\n");
    expect_row(&c, "[a][b]", 1);
    assert_int_equal(c.unterminated, 0);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 3);
    assert_int_equal(c.unterminated, 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__text_after_closing_quote(void **state)
{
    (void)state;
    tally_csv c;
    /* Row 2 is "\"x\"y,z": the 'y' at character 4 is wrong. Reading goes
     * on with row 3. */
    const char *text = "a,b\n\"x\"y,z\nc,d\n";
    open_text(&c, text);
    expect_row(&c, "[a][b]", 1);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 4);
    assert_non_null(tally_error_last()->text);
    assert_string_equal(tally_error_last()->text, "y");
    /* The bad row's range is known: bytes 4..10 ("\"x\"y,z"). */
    assert_int_equal(c.row_start, 4);
    assert_int_equal(c.row_end, 10);
    expect_row(&c, "[c][d]", 3);
    expect_end(&c);
    tally_csv__fini(&c);

    /* With CRLF: the range excludes the CR, the next row is right. */
    open_text(&c, "\"x\" ,z\r\nc,d\r\n");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 4);
    assert_int_equal(c.row_start, 0);
    assert_int_equal(c.row_end, 6);
    expect_row(&c, "[c][d]", 2);
    expect_end(&c);
    tally_csv__fini(&c);

    /* After a quoted field that spans lines: line 2 is b"x,1, so the 'x'
     * is character 3 of line 2, and the next row starts on line 3. */
    open_text(&c, "\"名\nb\"x,1\nnext\n");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 3);
    expect_row(&c, "[next]", 3);
    expect_end(&c);
    tally_csv__fini(&c);

    /* Last row, no newline after it. */
    open_text(&c, "\"ab\"cd");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 5);
    expect_end(&c);
    tally_csv__fini(&c);

    /* Several bad rows in a row, each reported, good rows in between. */
    open_text(&c, "\"1\"x\n\"2\"y\nok\n\"3\"z\n");
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 1, 4);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 2, 4);
    expect_row(&c, "[ok]", 3);
    expect_bad_row(&c, TALLY_EPARSE, "t.csv", 4, 4);
    expect_end(&c);
    tally_csv__fini(&c);
}

static void test_csv__locate_columns_in_characters(void **state)
{
    (void)state;
    tally_csv c;
    /* Row 2: 北京市,"东城区",12
     * characters: 北1 京2 市3 ,4 "5 东6 城7 区8 "9 ,10 1(11) 2(12) */
    open_text(&c, "名称,值\n北京市,\"东城区\",12\n");
    expect_row(&c, "[名称][值]", 1);
    expect_row(&c, "[北京市][东城区][12]", 2);
    unsigned long line, col;
    tally_csv__locate(&c, c.fields[0].offset, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 1);
    tally_csv__locate(&c, c.fields[1].offset, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 5);
    tally_csv__locate(&c, c.fields[2].offset, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 11);
    /* The end of the row: after 12 characters. */
    tally_csv__locate(&c, c.row_end, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 13);
    tally_csv__fini(&c);

    /* A field on the second line of a row spanning two lines:
     * x,"a\nb",c -> line 2 is b",c and c is character 4. */
    open_text(&c, "x,\"a\nb\",c\n");
    expect_row(&c, "[x][a\nb][c]", 1);
    tally_csv__locate(&c, c.fields[2].offset, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 4);
    tally_csv__locate(&c, c.fields[1].offset, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 3);
    tally_csv__fini(&c);
}

static void test_csv__error_at_field(void **state)
{
    (void)state;
    tally_csv c;
    tally_csv__init(&c, "名称,值\n北京市,\"东城区\",1,5\n", strlen("名称,值\n北京市,\"东城区\",1,5\n"),
                    "data.csv");
    expect_row(&c, "[名称][值]", 1);
    expect_row(&c, "[北京市][东城区][1][5]", 2);
    int rc = tally_csv__error_at_field(&c, 2, TALLY_EPARSE, "bad number '%.*s'; expected %s",
                                       (int)c.fields[2].len, c.fields[2].ptr, "a decimal");
    assert_int_equal(rc, TALLY_EPARSE);
    const tally_error *e = tally_error_last();
    assert_int_equal(e->code, TALLY_EPARSE);
    assert_string_equal(e->message, "data.csv:2:11: bad number '1'; expected a decimal");
    assert_string_equal(e->path, "data.csv");
    assert_int_equal(e->line, 2);
    assert_int_equal(e->column, 11);
    assert_string_equal(e->text, "1");
    assert_string_equal(tally_error__reason(), "bad number '1'; expected a decimal");

    /* A quoted field: its column is the opening quote's, its text the
     * unquoted value. */
    tally_csv__error_at_field(&c, 1, TALLY_ENOTFOUND, "unknown region");
    assert_string_equal(tally_error_last()->message, "data.csv:2:5: unknown region");
    assert_string_equal(tally_error_last()->text, "东城区");

    /* i == nfields: at the end of the row, after its 13 characters
     * (北京市 3, comma, "东城区" 5, comma, 1, comma, 5). */
    tally_csv__error_at_field(&c, c.nfields, TALLY_EPARSE, "expected %d fields", 3);
    e = tally_error_last();
    assert_string_equal(e->message, "data.csv:2:14: expected 3 fields");
    assert_int_equal(e->line, 2);
    assert_int_equal(e->column, 14);
    assert_null(e->text);
    tally_csv__fini(&c);

    /* Without a name, messages say "<buffer>". */
    tally_csv__init(&c, "a,b", 3, NULL);
    expect_row(&c, "[a][b]", 1);
    tally_csv__error_at_field(&c, 1, TALLY_EINVAL, "no");
    assert_string_equal(tally_error_last()->message, "<buffer>:1:3: no");
    tally_csv__fini(&c);

    /* A field with doubled quotes: the text is the unescaped value. */
    open_text(&c, "\"a\"\"b\",\"c\"\"\"\"d\"\n");
    expect_row(&c, "[a\"b][c\"\"d]", 1);
    tally_csv__error_at_field(&c, 1, TALLY_EINVAL, "x");
    assert_string_equal(tally_error_last()->text, "c\"\"d");
    assert_string_equal(tally_error_last()->message, "t.csv:1:8: x");
    tally_csv__fini(&c);
}

static void test_csv__find_column(void **state)
{
    (void)state;
    tally_csv c;
    open_text(&c, "code,name,\"level\",\"par\"\"ent\",,名称\n");
    expect_row(&c, "[code][name][level][par\"ent][][名称]", 1);
    assert_int_equal(tally_csv__find_column(&c, "code"), 0);
    assert_int_equal(tally_csv__find_column(&c, "name"), 1);
    assert_int_equal(tally_csv__find_column(&c, "level"), 2);
    assert_int_equal(tally_csv__find_column(&c, "par\"ent"), 3);
    assert_int_equal(tally_csv__find_column(&c, ""), 4);
    assert_int_equal(tally_csv__find_column(&c, "名称"), 5);
    /* Exact match only: no prefixes, no case folding. */
    assert_int_equal(tally_csv__find_column(&c, "nam"), -1);
    assert_int_equal(tally_csv__find_column(&c, "names"), -1);
    assert_int_equal(tally_csv__find_column(&c, "Code"), -1);
    assert_int_equal(tally_csv__find_column(&c, "parent_code"), -1);
    tally_csv__fini(&c);

    /* The first of two equal names. */
    open_text(&c, "a,b,a\n");
    expect_row(&c, "[a][b][a]", 1);
    assert_int_equal(tally_csv__find_column(&c, "a"), 0);
    tally_csv__fini(&c);
}

static void test_csv__thousand_fields(void **state)
{
    (void)state;
    /* Row 1: f0..f999 unquoted; row 2: the same quoted with a doubled
     * quote in each ("g0""", ...). */
    size_t cap = 40000;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n, "%sf%d", i ? "," : "", i);
    text[n++] = '\n';
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"g%d\"\"\"", i ? "," : "", i);
    text[n++] = '\n';
    text[n] = '\0';

    tally_csv c;
    tally_csv__init(&c, text, n, "wide.csv");
    assert_int_equal(tally_csv__next(&c), 1);
    assert_int_equal(c.nfields, 1000);
    for (int i = 0; i < 1000; i++) {
        char want[16];
        int wl = snprintf(want, sizeof want, "f%d", i);
        assert_int_equal(c.fields[i].len, (size_t)wl);
        assert_memory_equal(c.fields[i].ptr, want, (size_t)wl);
    }
    assert_int_equal(tally_csv__find_column(&c, "f999"), 999);
    assert_int_equal(tally_csv__next(&c), 1);
    assert_int_equal(c.line, 2);
    assert_int_equal(c.nfields, 1000);
    for (int i = 0; i < 1000; i++) {
        char want[16];
        int wl = snprintf(want, sizeof want, "g%d\"", i);
        assert_int_equal(c.fields[i].len, (size_t)wl);
        assert_memory_equal(c.fields[i].ptr, want, (size_t)wl);
    }
    /* Locating the last field: before it come g0..g9, 6 characters each
     * quoted ("g0"""), g10..g99, 7 each, and g100..g998, 8 each, every
     * one followed by a comma. */
    unsigned long line, col;
    tally_csv__locate(&c, c.fields[999].offset, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 10 * 7 + 90 * 8 + 899 * 9 + 1);
    expect_end(&c);
    tally_csv__fini(&c);
    free(text);
}

static void test_csv__reader_reusable_after_fini(void **state)
{
    (void)state;
    /* init after fini starts afresh: no state leaks from one input to the
     * next. */
    tally_csv c;
    open_text(&c, "\"a\"\"\",b\nc\n");
    expect_row(&c, "[a\"][b]", 1);
    tally_csv__fini(&c);
    open_text(&c, "x\n");
    expect_row(&c, "[x]", 1);
    expect_end(&c);
    tally_csv__fini(&c);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void test_csv__random_input_invariants(void **state)
{
    (void)state;
    /* Short random inputs over the bytes that matter. Whatever the input:
     * reading ends, rows come in line order, ranges stay inside the data,
     * fields point into the data or the scratch buffer, and a row without
     * quotes is exactly its fields joined by commas. */
    static const char alphabet[] = { 'a', 'b', ',', ',', '"', '"', '\n', '\r', '\xE4', '\xB8', '\xAD' };
    char text[48];
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = (size_t)(rng() % sizeof text);
        for (size_t i = 0; i < n; i++)
            text[i] = alphabet[rng() % sizeof alphabet];
        tally_csv c;
        tally_csv__init(&c, text, n, "r.csv");
        unsigned long prev_line = 0;
        size_t prev_end = 0;
        int rc, calls = 0;
        while ((rc = tally_csv__next(&c)) != 0) {
            assert_true(++calls <= (int)n + 1);
            assert_true(c.line > prev_line);
            assert_true(c.row_start >= prev_end);
            assert_true(c.row_start <= c.row_end);
            assert_true(c.row_end <= n);
            prev_line = c.line;
            prev_end = c.row_end;
            if (rc < 0) {
                assert_int_equal(rc, TALLY_EPARSE);
                assert_true(tally_error_last()->line >= c.line);
                assert_true(tally_error_last()->column >= 1);
                continue;
            }
            assert_int_equal(rc, 1);
            assert_true(c.nfields >= 1);
            int quoted = memchr(text + c.row_start, '"', c.row_end - c.row_start) != NULL;
            char joined[100];
            size_t jl = 0;
            for (size_t i = 0; i < c.nfields; i++) {
                const char *p = c.fields[i].ptr;
                size_t len = c.fields[i].len;
                int in_data = p >= text && p + len <= text + n;
                int in_scratch = c.scratch && p >= c.scratch && p + len <= c.scratch + c.scratch_cap;
                assert_true(in_data || in_scratch);
                assert_true(c.fields[i].offset >= c.row_start && c.fields[i].offset <= c.row_end);
                if (i)
                    joined[jl++] = ',';
                memcpy(joined + jl, p, len);
                jl += len;
            }
            if (!quoted) {
                assert_int_equal(jl, c.row_end - c.row_start);
                assert_memory_equal(joined, text + c.row_start, jl);
            }
        }
        tally_csv__fini(&c);
    }
}

/* ---- fixtures: bad files paired with code, line and column ------------- */

static void read_fixture(tally_mapped *m, char *path, size_t path_size, const char *name)
{
    const char *dir = getenv("TALLY_TEST_DATA");
    if (!dir)
        dir = "tests/data";
    snprintf(path, path_size, "%s/csv/%s", dir, name);
    int rc = tally_util__map_file(m, path);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
}

/* Reads every row of a fixture; expects exactly one bad row, with `code`
 * at line:col, and `good` good rows, the last of them on `last_line`. */
static void expect_fixture(const char *name, int code, unsigned long line, unsigned long col,
                           int good, unsigned long last_line)
{
    char path[512];
    tally_mapped m;
    read_fixture(&m, path, sizeof path, name);
    tally_csv c;
    tally_csv__init(&c, m.data, m.size, path);
    int rc, bad = 0, rows = 0;
    unsigned long last = 0;
    while ((rc = tally_csv__next(&c)) != 0) {
        if (rc < 0) {
            const tally_error *e = tally_error_last();
            if (e->code != code || e->line != line || e->column != col)
                print_error("%s: %s (code %d), expected code %d at %lu:%lu\n", name, e->message,
                            e->code, code, line, col);
            assert_int_equal(rc, code);
            assert_int_equal(e->line, line);
            assert_int_equal(e->column, col);
            assert_string_equal(e->path, path);
            bad++;
        } else {
            rows++;
            last = c.line;
        }
    }
    assert_int_equal(bad, 1);
    assert_int_equal(rows, good);
    assert_int_equal(last, last_line);
    tally_csv__fini(&c);
    tally_util__unmap(&m);
}

static void test_csv__fixture_unterminated_quote(void **state)
{
    (void)state;
    /* unterminated-quote.csv (CRLF, with a BOM):
     *   1 region_code,name,value
     *   2 430602001001,"村1,一组",12
     *   3 430602001002,"村2
     *   4 二组",13
     *   5 430602001003,"村3,13
     *   6 430602001004,村4,14
     * The quote on line 5 opens at character 14 and never closes. */
    expect_fixture("unterminated-quote.csv", TALLY_EPARSE, 5, 14, 3, 3);
}

static void test_csv__fixture_text_after_quote(void **state)
{
    (void)state;
    /* text-after-quote.csv:
     *   1 region_code,name,value
     *   2 430602001001,"村1"组,12       <- '组' after the quote, character 18
     *   3
     *   4 430602001002,"村2",13
     * Reading continues: the last good row is on line 4. */
    expect_fixture("text-after-quote.csv", TALLY_EPARSE, 2, 18, 2, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv__plain_rows),
        cmocka_unit_test(test_csv__empty_input),
        cmocka_unit_test(test_csv__data_is_not_nul_terminated),
        cmocka_unit_test(test_csv__quoted_fields_with_commas),
        cmocka_unit_test(test_csv__doubled_quotes),
        cmocka_unit_test(test_csv__doubled_quotes_scratch_grows),
        cmocka_unit_test(test_csv__newlines_inside_quotes),
        cmocka_unit_test(test_csv__crlf_and_lf),
        cmocka_unit_test(test_csv__cr_inside_unquoted_field_kept),
        cmocka_unit_test(test_csv__final_row_without_newline),
        cmocka_unit_test(test_csv__trailing_cr_at_end),
        cmocka_unit_test(test_csv__blank_lines_skipped),
        cmocka_unit_test(test_csv__bom_skipped),
        cmocka_unit_test(test_csv__empty_fields),
        cmocka_unit_test(test_csv__row_of_one_quoted_empty_string),
        cmocka_unit_test(test_csv__unterminated_quote),
        cmocka_unit_test(test_csv__unterminated_is_flagged),
        cmocka_unit_test(test_csv__text_after_closing_quote),
        cmocka_unit_test(test_csv__locate_columns_in_characters),
        cmocka_unit_test(test_csv__error_at_field),
        cmocka_unit_test(test_csv__find_column),
        cmocka_unit_test(test_csv__thousand_fields),
        cmocka_unit_test(test_csv__reader_reusable_after_fini),
        cmocka_unit_test(test_csv__random_input_invariants),
        cmocka_unit_test(test_csv__fixture_unterminated_quote),
        cmocka_unit_test(test_csv__fixture_text_after_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
