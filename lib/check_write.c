/* Consistency checks: writing findings as CSV or JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hierarchy.h"
#include "output.h"
#include "write.h"

static void put_csv(tally_check__sb *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        tally_check__sb_str(b, s);
        return;
    }
    tally_check__sb_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            tally_check__sb_put(b, "\"", 1);
        tally_check__sb_put(b, p, 1);
    }
    tally_check__sb_put(b, "\"", 1);
}

static void put_json(tally_check__sb *b, const char *s)
{
    if (!s) {
        tally_check__sb_str(b, "null");
        return;
    }
    tally_check__sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = { '\\', (char)*p };
            tally_check__sb_put(b, esc, 2);
        } else if (*p < 0x20) {
            tally_check__sb_printf(b, "\\u%04x", *p);
        } else {
            tally_check__sb_put(b, (const char *)p, 1);
        }
    }
    tally_check__sb_put(b, "\"", 1);
}

static void put_num(tally_check__sb *b, double v, int decimals, int json)
{
    if (isnan(v)) {
        if (json)
            tally_check__sb_str(b, "null");
        return;
    }
    tally_check__sb_num(b, v, decimals);
}

TALLY_EXTERN(int) tally_findings_write(const tally_findings *f, const char *path,
                                       const tally_write_options *opts)
{
    if (!f)
        return tally_error__set(TALLY_EINVAL, "tally_findings_write: NULL findings");
    tally_write__scope scope;
    tally_write__table o;
    int orc = tally_write__table_begin(&scope, &o, f->h, f->d, opts, path,
                                       "the findings", "findings");
    if (orc)
        return orc;
    int json = !o.csv, names = scope.opts.names;
    static const char *const severity_names[] = { "error", "warning" };
    tally_check__sb b = { 0 };
    int first = 1;
    tally_check__sb_str(&b,
                        json    ? "["
                        : names ? "check,severity,region_code,region_name,period,indicator,"
                                  "indicator_name,unit,expected,actual,difference,message\n"
                                : "check,severity,region_code,region_name,period,indicator,"
                                  "expected,actual,difference,message\n");
    for (size_t i = 0; i < f->count && !b.failed; i++) {
        const tally_check__finding *x = &f->items[i];
        int level = tally_hierarchy_level(f->h, x->node);
        /* A finding about no indicator (the hierarchy's) stays with
         * --indicator: it concerns every indicator. */
        if (!tally_write__scope_node(&scope, x->node, level) ||
            (x->indicator != TALLY_NONE && !tally_write__scope_indicator(&scope, x->indicator)))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *check = f->checks[x->check].check;
        const char *sev = severity_names[x->severity == TALLY_FINDING_WARNING];
        const char *ind =
            x->indicator == TALLY_NONE ? NULL : tally_definitions_id(f->d, x->indicator);
        if (json) {
            tally_check__sb_str(&b, first ? "\n{\"check\":" : ",\n{\"check\":");
            put_json(&b, check);
            tally_check__sb_str(&b, ",\"severity\":");
            put_json(&b, sev);
            tally_check__sb_str(&b, ",\"region_code\":");
            put_json(&b, tally_hierarchy__code_text(f->h, x->node, code_buf));
            tally_check__sb_str(&b, ",\"region_name\":");
            put_json(&b, tally_hierarchy_name(f->h, x->node));
            tally_check__sb_str(&b, ",\"period\":");
            put_json(&b, x->period_text);
            tally_check__sb_str(&b, ",\"indicator\":");
            put_json(&b, ind);
            if (names) {
                tally_check__sb_str(&b, ",\"indicator_name\":");
                put_json(&b, ind ? tally_definitions_name(f->d, x->indicator) : NULL);
                tally_check__sb_str(&b, ",\"unit\":");
                put_json(&b, ind ? tally_definitions_unit(f->d, x->indicator) : NULL);
            }
            tally_check__sb_str(&b, ",\"expected\":");
            put_num(&b, x->expected, x->decimals, 1);
            tally_check__sb_str(&b, ",\"actual\":");
            put_num(&b, x->actual, x->decimals, 1);
            tally_check__sb_str(&b, ",\"difference\":");
            put_num(&b, x->difference, x->decimals, 1);
            tally_check__sb_str(&b, ",\"message\":");
            put_json(&b, x->message);
            tally_check__sb_str(&b, "}");
        } else {
            put_csv(&b, check);
            tally_check__sb_printf(&b, ",%s,", sev);
            put_csv(&b, tally_hierarchy__code_text(f->h, x->node, code_buf));
            tally_check__sb_str(&b, ",");
            put_csv(&b, tally_hierarchy_name(f->h, x->node));
            tally_check__sb_printf(&b, ",%s,", x->period_text);
            put_csv(&b, ind ? ind : "");
            if (names) {
                tally_check__sb_str(&b, ",");
                put_csv(&b, ind ? tally_definitions_name(f->d, x->indicator) : "");
                tally_check__sb_str(&b, ",");
                put_csv(&b, ind ? tally_definitions_unit(f->d, x->indicator) : "");
            }
            tally_check__sb_str(&b, ",");
            put_num(&b, x->expected, x->decimals, 0);
            tally_check__sb_str(&b, ",");
            put_num(&b, x->actual, x->decimals, 0);
            tally_check__sb_str(&b, ",");
            put_num(&b, x->difference, x->decimals, 0);
            tally_check__sb_str(&b, ",");
            put_csv(&b, x->message);
            tally_check__sb_str(&b, "\n");
        }
        first = 0;
        if (b.len >= (1u << 16)) {
            (void)fwrite(b.p, 1, b.len, o.f); /* a failure is kept in o */
            b.len = 0;
        }
    }
    if (json)
        tally_check__sb_str(&b, first ? "]\n" : "\n]\n");
    if (b.failed) {
        free(b.p);
        tally_write__scope_free(&scope);
        tally_write__table_discard(&o);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing findings");
    }
    if (b.len)
        (void)fwrite(b.p, 1, b.len, o.f); /* a failure is kept in o */
    free(b.p);
    tally_write__scope_free(&scope);
    return tally_write__table_close(&o);
}
