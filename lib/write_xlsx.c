/* Workbooks: how a writer makes an xlsx file by the output rules, and the
 * tables of progress, poverty, thresholds and findings as sheets.
 *
 * libxlsxwriter writes to a file name of its own choosing, so it is given
 * the output's temporary file (output.h), which is then synced and renamed
 * over the destination as any other output; standard output and devices
 * get the finished workbook copied from a scratch file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "error.h"
#include "output.h"
#include "tally/error.h"

/* Number formats by decimals, made once per workbook. */
#define MAX_DECIMALS 15

typedef struct book_formats {
    lxw_format *number[MAX_DECIMALS + 1];
} book_formats;

static int book_fail(tally_write__book *b, const char *why)
{
    const char *path = b->out.path ? b->out.path : "<stdout>";
    tally_write__book_discard(b);
    return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write %s: %s",
                               b->out.what, why);
}

int tally_write__book_open(tally_write__book *b, const char *path, const char *what)
{
    memset(b, 0, sizeof *b);
    int rc = tally_output__open(&b->out, path, what);
    if (rc)
        return rc;
    if (b->out.tmp) {
        b->file = strdup(b->out.tmp);
    } else {
        /* Written through: the workbook is made in a scratch file first. */
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = "/tmp";
        size_t n = strlen(dir) + 32;
        b->file = malloc(n);
        if (b->file) {
            snprintf(b->file, n, "%s/tally-xlsx-XXXXXX", dir);
            int fd = mkstemp(b->file);
            if (fd < 0) {
                char why[256];
                snprintf(why, sizeof why, "cannot make a scratch file in %s: %s", dir,
                         strerror(errno));
                free(b->file);
                b->file = NULL;
                return book_fail(b, why);
            }
            close(fd);
            b->scratch = 1;
        }
    }
    if (!b->file) {
        tally_write__book_discard(b);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing %s", what);
    }
    lxw_workbook_options wopts = { .constant_memory = LXW_TRUE, .tmpdir = NULL,
                                   .use_zip64 = LXW_TRUE };
    lxw_workbook *wb = workbook_new_opt(b->file, &wopts);
    book_formats *fm = calloc(1, sizeof *fm);
    if (!wb || !fm) {
        free(fm);
        if (wb)
            workbook_close(wb);
        return book_fail(b, "libxlsxwriter cannot start a workbook");
    }
    b->workbook = wb;
    b->formats = fm;
    return 0;
}

void *tally_write__book_number_format(tally_write__book *b, int decimals)
{
    book_formats *fm = b->formats;
    if (decimals < 0)
        decimals = 0;
    if (decimals > MAX_DECIMALS)
        decimals = MAX_DECIMALS;
    if (!fm->number[decimals]) {
        char spec[MAX_DECIMALS + 3] = "0.";
        memset(spec + 2, '0', (size_t)decimals);
        spec[decimals ? decimals + 2 : 1] = '\0';
        lxw_format *f = workbook_add_format(b->workbook);
        if (!f)
            return NULL;
        format_set_num_format(f, spec);
        fm->number[decimals] = f;
    }
    return fm->number[decimals];
}

/* Copies the scratch file to the output, which is written through. */
static void copy_scratch(tally_write__book *b)
{
    FILE *in = fopen(b->file, "rb");
    if (!in) {
        tally_output__fail(&b->out, errno);
        return;
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (tally_output__write(&b->out, buf, n))
            break;
    if (ferror(in))
        tally_output__fail(&b->out, EIO);
    fclose(in);
}

int tally_write__book_close(tally_write__book *b)
{
    lxw_error e = workbook_close(b->workbook);
    b->workbook = NULL;
    if (e != LXW_NO_ERROR)
        return book_fail(b, lxw_strerror(e));
    if (b->scratch)
        copy_scratch(b);
    if (b->scratch)
        unlink(b->file);
    free(b->file);
    free(b->formats);
    b->file = NULL;
    b->formats = NULL;
    return tally_output__close(&b->out);
}

void tally_write__book_discard(tally_write__book *b)
{
    if (b->workbook) {
        /* libxlsxwriter has no way to give a workbook up unwritten: it is
         * written and then removed with the temporary file. */
        workbook_close(b->workbook);
        b->workbook = NULL;
    }
    if (b->scratch && b->file)
        unlink(b->file);
    free(b->file);
    free(b->formats);
    b->file = NULL;
    b->formats = NULL;
    tally_output__discard(&b->out);
}

/* ---- a CSV table as a sheet ------------------------------------------- */

/* The next field of the CSV at *p (up to end) into `field` (unquoted);
 * *last = 1 when it ends its row. Returns 0 or TALLY_ENOMEM. */
static int next_field(const char **p, const char *end, tally_write__buf *field, int *last)
{
    const char *s = *p;
    field->len = 0;
    if (tally_write__reserve(field, 1))
        return TALLY_ENOMEM;
    if (s < end && *s == '"') {
        for (s++; s < end; s++) {
            if (*s == '"') {
                if (s + 1 < end && s[1] == '"') {
                    s++;
                } else {
                    s++;
                    break;
                }
            }
            if (tally_write__bytes(field, s, 1))
                return TALLY_ENOMEM;
        }
    } else {
        const char *e = s;
        while (e < end && *e != ',' && *e != '\n')
            e++;
        if (tally_write__bytes(field, s, (size_t)(e - s)))
            return TALLY_ENOMEM;
        s = e;
    }
    field->data[field->len] = '\0';
    *last = s >= end || *s == '\n';
    *p = s < end ? s + 1 : s;
    return 0;
}

/* The decimals of a decimal number written as the writers write one
 * (-?digits(.digits)?), or -1 when s is not one. */
static int decimal_digits(const char *s)
{
    if (*s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9')
        s++;
    if (!*s)
        return 0;
    if (*s++ != '.')
        return -1;
    const char *d = s;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s || s == d ? -1 : (int)(s - d);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int text_column(const char *name)
{
    return ends_with(name, "code") || !strcmp(name, "period") || !strcmp(name, "as_of") ||
           !strcmp(name, "indicator") || !strcmp(name, "unit");
}

int tally_write__sheet_from_csv(tally_write__book *b, const char *sheet, const char *csv,
                                size_t len)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->workbook, sheet);
    lxw_format *bold = workbook_add_format(b->workbook);
    if (!ws || !bold)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing %s", b->out.what);
    format_set_bold(bold);
    const char *p = csv, *end = csv + len;
    tally_write__buf field = { NULL, 0, 0 };
    unsigned char *text = NULL; /* by column: written as text */
    size_t ncols = 0, freeze = 0;
    int rc = 0;
    lxw_row_t row = 0;
    while (p < end && !rc) {
        lxw_col_t col = 0;
        int last = 0;
        while (!last && !rc) {
            if ((rc = next_field(&p, end, &field, &last)))
                break;
            if (row >= LXW_ROW_MAX || col >= LXW_COL_MAX) {
                rc = tally_error__set(TALLY_ELIMIT,
                                      "%s: the table has more than %d rows or %d columns, "
                                      "more than a sheet holds; write fewer (--level, --under) "
                                      "or write CSV",
                                      b->out.path ? b->out.path : "<stdout>", LXW_ROW_MAX,
                                      LXW_COL_MAX);
                break;
            }
            lxw_error e = LXW_NO_ERROR;
            if (row == 0) {
                unsigned char *more = realloc(text, ncols + 1);
                if (!more) {
                    rc = TALLY_ENOMEM;
                    break;
                }
                text = more;
                text[ncols++] = (unsigned char)text_column(field.data);
                if (!strcmp(field.data, "region_name") || !strcmp(field.data, "level"))
                    freeze = (size_t)col + 1;
                e = worksheet_write_string(ws, row, col, field.data, bold);
            } else if (field.len) {
                int dec = col < ncols && !text[col] ? decimal_digits(field.data) : -1;
                if (dec >= 0) {
                    lxw_format *f = tally_write__book_number_format(b, dec);
                    if (!f) {
                        rc = TALLY_ENOMEM;
                        break;
                    }
                    e = worksheet_write_number(ws, row, col, strtod(field.data, NULL), f);
                } else {
                    e = worksheet_write_string(ws, row, col, field.data, NULL);
                }
            }
            if (e != LXW_NO_ERROR && !rc)
                rc = tally_error__set_at(TALLY_EIO, b->out.path ? b->out.path : "<stdout>", 0,
                                         0, NULL, 0, "cannot write %s: row %lu, column %u: %s",
                                         b->out.what, (unsigned long)row + 1, (unsigned)col + 1,
                                         lxw_strerror(e));
            col++;
        }
        row++;
    }
    if (rc == TALLY_ENOMEM)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory writing %s", b->out.what);
    if (!rc)
        worksheet_freeze_panes(ws, 1, (lxw_col_t)freeze);
    free(field.data);
    free(text);
    return rc;
}

/* ---- tables ------------------------------------------------------------ */

int tally_write__table_open(tally_write__table *t, const char *path, const char *what,
                            const char *sheet, const tally_write_options *opts)
{
    tally_write_options o = tally_write__current(opts);
    memset(t, 0, sizeof *t);
    t->path = path;
    t->what = what;
    t->sheet = sheet;
    if (o.layout != TALLY_LAYOUT_LONG)
        return tally_error__set(TALLY_EINVAL, "the wide layout is for rollup results; %s is "
                                "written long", what);
    t->csv = o.format != TALLY_FORMAT_JSON;
    if (o.format == TALLY_FORMAT_XLSX) {
        t->f = open_memstream(&t->mem, &t->mem_len);
        if (!t->f)
            return tally_error__set(TALLY_ENOMEM, "out of memory writing %s", what);
        return 0;
    }
    t->out = malloc(sizeof *t->out);
    if (!t->out)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing %s", what);
    int rc = tally_output__open_stream(t->out, path, what);
    if (rc) {
        free(t->out);
        t->out = NULL;
        return rc;
    }
    t->f = t->out->f;
    if (o.bom && t->csv)
        fputs(TALLY_WRITE__BOM, t->f);
    return 0;
}

int tally_write__table_close(tally_write__table *t)
{
    if (t->out) {
        int rc = tally_output__close(t->out);
        free(t->out);
        t->out = NULL;
        return rc;
    }
    int bad = fclose(t->f) != 0;
    t->f = NULL;
    int rc = bad ? tally_error__set(TALLY_ENOMEM, "out of memory writing %s", t->what) : 0;
    tally_write__book b;
    if (!rc)
        rc = tally_write__book_open(&b, t->path, t->what);
    if (!rc) {
        rc = tally_write__sheet_from_csv(&b, t->sheet, t->mem, t->mem_len);
        if (rc)
            tally_write__book_discard(&b);
        else
            rc = tally_write__book_close(&b);
    }
    free(t->mem);
    t->mem = NULL;
    return rc;
}

void tally_write__table_discard(tally_write__table *t)
{
    if (t->out) {
        tally_output__discard(t->out);
        free(t->out);
        t->out = NULL;
        return;
    }
    if (t->f)
        fclose(t->f);
    t->f = NULL;
    free(t->mem);
    t->mem = NULL;
}
