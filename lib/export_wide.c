/* The wide table of a rollup result: a row per region, a column per
 * indicator and period, as Excel users lay a table out (docs/excel.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "export.h"
#include "hierarchy.h"
#include "output.h"
#include "rollup.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "write.h"

char *tally_export__wide_header(const tally_definitions *d, size_t indicator, const char *period,
                                int names)
{
    const char *id = tally_definitions_id(d, indicator);
    const char *name = tally_definitions_name(d, indicator);
    const char *unit = tally_definitions_unit(d, indicator);
    if (!name || !*name)
        name = id;
    char *s = NULL;
    int n;
    if (!names)
        n = asprintf(&s, "%s %s", id, period);
    else if (unit && *unit)
        n = asprintf(&s, "%s (%s) %s", name, unit, period);
    else
        n = asprintf(&s, "%s %s", name, period);
    return n < 0 ? NULL : s;
}

double tally_export__wide_value(const tally_result *r, size_t node, size_t indicator,
                                size_t period)
{
    tally_rollup__col col;
    return tally_rollup__column(r, indicator, period, &col) ? NAN : tally_rollup__at(&col, node);
}

int tally_export__wide_row(const tally_result *r, size_t node, const tally_write__scope *scope)
{
    if (scope->opts.all_regions)
        return 1;
    size_t nind = tally_definitions_indicator_count(tally_result_definitions(r));
    size_t nper = tally_result_period_count(r);
    for (size_t i = 0; i < nind; i++)
        for (size_t p = 0; tally_write__scope_indicator(scope, i) && p < nper; p++)
            if (!isnan(tally_export__wide_value(r, node, i, p)))
                return 1;
    return 0;
}

/* The wide table as CSV. */
static int wide_csv(const tally_result *r, const char *path, const tally_write__scope *scope)
{
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t nind = tally_definitions_indicator_count(d), nper = tally_result_period_count(r);
    tally_output o;
    int rc = tally_output__open_stream(&o, path, "the result");
    if (rc)
        return rc;
    FILE *f = o.f;
    if (scope->opts.bom)
        fputs(TALLY_WRITE__BOM, f);
    fputs("region_code,region_name,level", f);
    for (size_t i = 0; i < nind && !rc; i++) {
        for (size_t p = 0; tally_write__scope_indicator(scope, i) && p < nper; p++) {
            char *head = tally_export__wide_header(d, i, tally_result_period(r, p),
                                                   scope->opts.names);
            if (!head) {
                rc = TALLY_ENOMEM;
                break;
            }
            fputc(',', f);
            tally_write__csv(f, head);
            free(head);
        }
    }
    fputc('\n', f);
    for (size_t node = scope->first; node < scope->last && !rc && !o.err; node++) {
        int level = tally_hierarchy_level(h, node);
        if (!tally_write__scope_node(scope, node, level) || !tally_export__wide_row(r, node, scope))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *lname = tally_hierarchy_level_name(h, level);
        tally_write__csv(f, tally_hierarchy__code_text(h, node, code_buf));
        fputc(',', f);
        tally_write__csv(f, tally_hierarchy_name(h, node));
        fputc(',', f);
        tally_write__csv(f, lname ? lname : "");
        for (size_t i = 0; i < nind; i++) {
            if (!tally_write__scope_indicator(scope, i))
                continue;
            int dec = tally_definitions_decimals(d, i);
            for (size_t p = 0; p < nper; p++) {
                fputc(',', f);
                tally_write__number(f, tally_export__wide_value(r, node, i, p), dec, 0);
            }
        }
        fputc('\n', f);
    }
    if (rc) {
        tally_output__discard(&o);
        return tally_error__set(rc, "out of memory writing a result");
    }
    return tally_output__close(&o);
}

int tally_export__wide(const tally_result *r, const char *path, const tally_write__scope *scope)
{
    if (scope->opts.format == TALLY_FORMAT_JSON)
        return tally_error__set(TALLY_EINVAL, "the wide layout is written as CSV or xlsx, not "
                                "JSON; JSON is written long");
    if (tally_result_compare(r) != TALLY_COMPARE_NONE || tally_rollup__show_coverage(r))
        return tally_error__set(TALLY_EINVAL,
                                "the wide table has the values only; the columns of --compare "
                                "and --coverage are written in the long layout (CSV or JSON)");
    if (scope->opts.format == TALLY_FORMAT_XLSX)
        return tally_xlsx__result(r, path, scope);
    return wide_csv(r, path, scope);
}
