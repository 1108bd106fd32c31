/* A rollup result as an Excel workbook: the wide table on one sheet, as a
 * clerk would lay it out (docs/excel.md).
 *
 * Codes are text (Excel would show 430602000000 as 4.30602E+11), numbers
 * are numbers with the indicator's decimals as their number format, the
 * columns are headed with the indicator's name, unit and period, and the
 * header row and the region columns are frozen.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "error.h"
#include "export.h"
#include "hierarchy.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "tally/number.h"
#include "write.h"

static int sheet_error(tally_write__book *b, lxw_error e, lxw_row_t row, lxw_col_t col)
{
    return tally_error__set_at(TALLY_EIO, b->out.path ? b->out.path : "<stdout>", 0, 0, NULL, 0,
                               "cannot write %s: row %lu, column %u: %s", b->out.what,
                               (unsigned long)row + 1, (unsigned)col + 1, lxw_strerror(e));
}

/* The header row and the column widths. */
static int put_header(tally_write__book *b, lxw_worksheet *ws, const tally_result *r,
                      const tally_write__scope *scope)
{
    const tally_definitions *d = tally_result_definitions(r);
    size_t nind = tally_definitions_indicator_count(d), nper = tally_result_period_count(r);
    lxw_format *bold = workbook_add_format(b->workbook);
    lxw_format *text = workbook_add_format(b->workbook);
    if (!bold || !text)
        return TALLY_ENOMEM;
    format_set_bold(bold);
    format_set_text_wrap(bold);
    format_set_num_format(text, "@");
    static const char *const fixed[3] = { "region_code", "region_name", "level" };
    lxw_col_t col = 0;
    for (; col < 3; col++) {
        lxw_error e = worksheet_write_string(ws, 0, col, fixed[col], bold);
        if (e)
            return sheet_error(b, e, 0, col);
    }
    worksheet_set_column(ws, 0, 0, 14, text);
    worksheet_set_column(ws, 1, 1, 20, NULL);
    for (size_t i = 0; i < nind; i++) {
        for (size_t p = 0; tally_write__scope_indicator(scope, i) && p < nper; p++) {
            char *head = tally_export__wide_header(d, i, tally_result_period(r, p), 1);
            if (!head)
                return TALLY_ENOMEM;
            lxw_error e = worksheet_write_string(ws, 0, col++, head, bold);
            free(head);
            if (e)
                return sheet_error(b, e, 0, (lxw_col_t)(col - 1));
        }
    }
    if (col > 3)
        worksheet_set_column(ws, 3, (lxw_col_t)(col - 1), 16, NULL);
    worksheet_freeze_panes(ws, 1, 2);
    return 0;
}

static int put_rows(tally_write__book *b, lxw_worksheet *ws, const tally_result *r,
                    const tally_write__scope *scope)
{
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t nind = tally_definitions_indicator_count(d), nper = tally_result_period_count(r);
    lxw_format **fmt = calloc(nind ? nind : 1, sizeof *fmt);
    int *dec = calloc(nind ? nind : 1, sizeof *dec);
    if (!fmt || !dec) {
        free(fmt);
        free(dec);
        return TALLY_ENOMEM;
    }
    for (size_t i = 0; i < nind; i++) {
        dec[i] = tally_definitions_decimals(d, i);
        if (!(fmt[i] = tally_write__book_number_format(b, dec[i]))) {
            free(fmt);
            free(dec);
            return TALLY_ENOMEM;
        }
    }
    int rc = 0;
    lxw_row_t row = 1;
    for (size_t node = scope->first; node < scope->last && !rc; node++) {
        int level = tally_hierarchy_level(h, node);
        if (!tally_write__scope_node(scope, node, level) || !tally_export__wide_row(r, node, scope))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *lname = tally_hierarchy_level_name(h, level);
        lxw_error e = worksheet_write_string(ws, row, 0,
                                             tally_hierarchy__code_text(h, node, code_buf), NULL);
        if (!e)
            e = worksheet_write_string(ws, row, 1, tally_hierarchy_name(h, node), NULL);
        if (!e)
            e = worksheet_write_string(ws, row, 2, lname ? lname : "", NULL);
        lxw_col_t col = 3;
        for (size_t i = 0; i < nind && !e; i++) {
            for (size_t p = 0; tally_write__scope_indicator(scope, i) && p < nper && !e; p++) {
                double v = tally_export__wide_value(r, node, i, p);
                /* Missing stays an empty cell, never 0. The cell holds the
                 * number the CSV prints (rounded to the decimals), so that
                 * sums in the sheet add up the published figures. */
                char text[400];
                if (isfinite(v) && tally_number_format(text, sizeof text, v, dec[i]) > 0)
                    e = worksheet_write_number(ws, row, col, strtod(text, NULL), fmt[i]);
                col++;
            }
        }
        if (e)
            rc = sheet_error(b, e, row, col);
        row++;
    }
    free(fmt);
    free(dec);
    return rc;
}

int tally_xlsx__result(const tally_result *r, const char *path, const tally_write__scope *scope)
{
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t rows = 1, cols = 3, nind = tally_definitions_indicator_count(d);
    for (size_t node = scope->first; node < scope->last; node++)
        rows += tally_write__scope_node(scope, node, tally_hierarchy_level(h, node)) &&
                tally_export__wide_row(r, node, scope);
    for (size_t i = 0; i < nind; i++)
        cols += tally_write__scope_indicator(scope, i) ? tally_result_period_count(r) : 0;
    if (rows > LXW_ROW_MAX || cols > LXW_COL_MAX)
        return tally_error__set_at(
            TALLY_ELIMIT, path ? path : "<stdout>", 0, 0, NULL, 0,
            "the table has %zu rows and %zu columns; a sheet holds at most %d rows and %d "
            "columns: write fewer (--level, --under, --indicator, --period) or write CSV",
            rows, cols, LXW_ROW_MAX, LXW_COL_MAX);
    tally_write__book b;
    int rc = tally_write__book_open(&b, path, "the result");
    if (rc)
        return rc;
    lxw_worksheet *ws = workbook_add_worksheet(b.workbook, "rollup");
    rc = ws ? put_header(&b, ws, r, scope) : TALLY_ENOMEM;
    if (!rc)
        rc = put_rows(&b, ws, r, scope);
    if (rc) {
        if (rc == TALLY_ENOMEM)
            tally_error__set(rc, "out of memory writing the result");
        tally_write__book_discard(&b);
        return rc;
    }
    return tally_write__book_close(&b);
}
