/* The row loop every CSV reader shares: encoding and limits, the header,
 * each data row, stop or collect, the rejects and the stats.
 *
 * SPDX-License-Identifier: MIT
 */
#include "csv.h"

#include <string.h>

#include "error.h"
#include "rejects.h"

int tally_csv__note_detected(const tally_csv_input *in, const tally_csv *c,
                             tally_rejects *rejects)
{
    if (!in->detected || !rejects)
        return 0;
    return tally_rejects__warn(rejects, c, 0, "%s", TALLY_CSV_DETECTED_NOTE);
}

/* The names offices give the columns of targets and households files (the
 * records' and hierarchy's are in columns.c, which also reads the
 * definitions' `columns:`). */
static const char *const header_names[][2] = {
    { "代码", "region_code" },     { "区划代码", "region_code" },   { "村代码", "region_code" },
    { "地区代码", "region_code" }, { "单位代码", "region_code" },   { "指标", "indicator" },
    { "指标代码", "indicator" },   { "年份", "year" },              { "年度", "year" },
    { "目标", "target" },          { "目标值", "target" },          { "目标数", "target" },
    { "户编号", "household_id" },  { "户码", "household_id" },      { "农户编码", "household_id" },
    { "家庭人口", "size" },        { "家庭人口数", "size" },        { "人口数", "size" },
    { "人均纯收入", "income_per_capita" }, { "人均可支配收入", "income_per_capita" },
    { "人均收入", "income_per_capita" },   { "权数", "weight" },     { "权重", "weight" },
};

void tally_csv__name_header(tally_csv *c)
{
    for (size_t i = 0; i < c->nfields; i++)
        for (size_t k = 0; k < sizeof header_names / sizeof *header_names; k++)
            if (strlen(header_names[k][0]) == c->fields[i].len &&
                memcmp(header_names[k][0], c->fields[i].ptr, c->fields[i].len) == 0) {
                c->fields[i].ptr = header_names[k][1];
                c->fields[i].len = strlen(header_names[k][1]);
                break;
            }
}

int tally_csv__row_empty(const tally_csv *c)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (c->fields[i].len)
            return 0;
    return 1;
}

int tally_csv__read_rows(const char *data, size_t size, const char *name,
                         const tally_read_options *opts, tally_rejects *rejects,
                         tally_read_stats *stats, tally_csv_header_fn header,
                         tally_csv_row_fn row, void *ctx)
{
    tally_read_options defaults = TALLY_READ_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    tally_read_stats st = { 0, 0, 0 };
    if (stats)
        *stats = st;
    if (!data && size)
        return tally_error__set(TALLY_EINVAL, "reading %s: NULL data", name ? name : "<buffer>");
    int collect = opts->on_error == TALLY_ON_ERROR_COLLECT;
    if (collect && !rejects)
        return tally_error__set(TALLY_EINVAL,
                                "collecting rejected rows needs a tally_rejects list");
    tally_csv_input in;
    int rc = tally_csv__input_open(&in, data ? data : "", size, name, opts);
    if (rc)
        return rc;
    tally_csv c;
    tally_csv__init(&c, in.data, in.size, name);
    tally_csv__input_apply(&in, &c);
    c.name_header = 1;
    rc = header(ctx, &c);
    if (rc && rc != TALLY_ENOMEM)
        tally_csv__hint_encoding(&in, &c);
    if (!rc)
        rc = tally_csv__note_detected(&in, &c, rejects);
    while (!rc) {
        int r = tally_csv__next(&c);
        if (r == 0)
            break;
        if (r == TALLY_ENOMEM) {
            rc = r;
            break;
        }
        if (r > 0 && tally_csv__row_empty(&c)) {
            if (rejects)
                rejects->empty_rows++;
            continue;
        }
        st.rows_read++;
        if (r > 0)
            r = row(ctx, &c);
        if (r == 0) {
            st.rows_accepted++;
            continue;
        }
        if (r == TALLY_ENOMEM) {
            st.rows_read--;
            rc = r;
            break;
        }
        st.rows_rejected++;
        tally_csv__hint_encoding(&in, &c);
        if (rejects && tally_rejects__add(rejects, &c)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
            break;
        }
        if (!collect)
            rc = r;
    }
    tally_csv__fini(&c);
    tally_csv__input_close(&in);
    if (stats)
        *stats = st;
    return rc;
}
