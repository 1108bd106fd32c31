/* The row loop every CSV reader shares: encoding and limits, the header,
 * each data row, stop or collect, the rejects and the stats.
 *
 * SPDX-License-Identifier: MIT
 */
#include "csv.h"

#include "error.h"
#include "rejects.h"

int tally_csv__note_detected(const tally_csv_input *in, const tally_csv *c,
                             tally_rejects *rejects)
{
    if (!in->detected || !rejects)
        return 0;
    return tally_rejects__warn(rejects, c, 0, "%s", TALLY_CSV_DETECTED_NOTE);
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
