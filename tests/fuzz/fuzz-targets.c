/* Fuzz target: the targets CSV reader (tally_targets_read_buffer), then the
 * effective targets over the hierarchy.
 *
 * The input is a targets file read over the hierarchy and definitions of
 * tests/fixtures.h. Invariants checked besides "no crash, no leak, no
 * undefined behaviour, no hang":
 *   - rows read = rows accepted + rows rejected, in both modes, and one
 *     target per accepted row;
 *   - collect mode: one reject per rejected row, with the buffer's name, a
 *     line inside the input, a column, a code and a reason; stop mode
 *     stops at the first of them;
 *   - effective targets: a given target is the effective one; a sum
 *     indicator's parent without one of its own has the sum of its
 *     children's when each child has one, else none.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "fuzz.h"

static const char name[] = "targets.csv";

static void check_effective(const tally_targets *t, const fixture *f)
{
    size_t n = tally_hierarchy_size(f->h);
    double eff[16], sum[16];
    int complete[16];
    FUZZ_CHECK(n <= 16);
    for (size_t ind = 0; ind < tally_definitions_indicator_count(f->d); ind++) {
        for (int year = 2018; year <= 2020; year++) {
            int rc = tally_targets_effective(t, ind, year, eff, n);
            FUZZ_CHECK(rc >= 0 && (size_t)rc <= n);
            int agg = tally_definitions_aggregate(f->d, ind);
            for (size_t i = 0; i < n; i++) {
                sum[i] = 0;
                complete[i] = 1;
            }
            int has_child[16] = { 0 };
            for (size_t i = 0; i < n; i++) {
                size_t p = tally_hierarchy_parent(f->h, i);
                if (p == TALLY_NONE)
                    continue;
                has_child[p] = 1;
                if (isnan(eff[i]))
                    complete[p] = 0;
                else
                    sum[p] += eff[i];
            }
            int counted = 0;
            for (size_t i = 0; i < n; i++) {
                double given;
                int present;
                FUZZ_CHECK(tally_targets_given(t, i, ind, year, &given, &present) == 0);
                counted += !isnan(eff[i]);
                if (present) {
                    FUZZ_CHECK(eff[i] == given);
                } else if (has_child[i] && complete[i] &&
                           (agg == TALLY_AGGREGATE_SUM || agg == TALLY_AGGREGATE_COUNT)) {
                    FUZZ_CHECK(fabs(eff[i] - sum[i]) <= 1e-9 * fmax(1.0, fabs(sum[i])) ||
                               (isnan(eff[i]) && !isfinite(sum[i])));
                } else {
                    FUZZ_CHECK(isnan(eff[i]));
                }
            }
            FUZZ_CHECK(counted == rc);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fixture f;
    static int loaded;
    if (!loaded) {
        fixture_load(&f, NULL);
        loaded = 1;
    }
    const char *text = (const char *)data;
    unsigned long lines = fuzz_line_count(data, size);

    tally_targets *t;
    tally_rejects *rej;
    FUZZ_CHECK(tally_targets_new(&t, f.h, f.d) == 0);
    FUZZ_CHECK(tally_rejects_new(&rej) == 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    memset(&st, 0xAB, sizeof st);
    int rc = tally_targets_read_buffer(t, text, size, name, &opts, rej, &st);
    FUZZ_CHECK(st.rows_read == st.rows_accepted + st.rows_rejected);
    FUZZ_CHECK(st.rows_read < lines);
    FUZZ_CHECK(tally_targets_count(t) == st.rows_accepted);
    size_t nrej = tally_rejects_count(rej);
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(st.rows_read == 0 && nrej == 0);
    }
    FUZZ_CHECK(nrej == st.rows_rejected);
    unsigned long prev_line = 0;
    for (size_t i = 0; i < nrej; i++) {
        FUZZ_CHECK(strcmp(tally_rejects_path(rej, i), name) == 0);
        unsigned long line = tally_rejects_line(rej, i);
        FUZZ_CHECK(line >= 2 && line <= lines && line > prev_line);
        prev_line = line;
        FUZZ_CHECK(tally_rejects_column(rej, i) >= 1);
        FUZZ_CHECK(tally_rejects_code(rej, i) < 0 && tally_rejects_code(rej, i) != TALLY_ENOMEM);
        FUZZ_CHECK(tally_rejects_reason(rej, i) && tally_rejects_reason(rej, i)[0]);
        FUZZ_CHECK(tally_rejects_row(rej, i) != NULL);
    }
    if (!rc)
        check_effective(t, &f);

    tally_targets *t2;
    FUZZ_CHECK(tally_targets_new(&t2, f.h, f.d) == 0);
    tally_read_stats st2;
    int rc2 = tally_targets_read_buffer(t2, text, size, name, NULL, NULL, &st2);
    FUZZ_CHECK(st2.rows_read == st2.rows_accepted + st2.rows_rejected);
    FUZZ_CHECK(st2.rows_rejected <= 1);
    if (rc) {
        FUZZ_CHECK(rc2 == rc && st2.rows_read == 0);
    } else if (nrej) {
        fuzz_check_error(rc2);
        FUZZ_CHECK(tally_error_last()->line == tally_rejects_line(rej, 0));
        FUZZ_CHECK(tally_error_last()->column == tally_rejects_column(rej, 0));
        FUZZ_CHECK(rc2 == tally_rejects_code(rej, 0));
    } else {
        FUZZ_CHECK(rc2 == 0 && st2.rows_accepted == st.rows_accepted);
    }
    tally_targets_free(t2);
    tally_rejects_free(rej);
    tally_targets_free(t);
    return 0;
}
