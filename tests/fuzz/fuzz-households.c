/* Fuzz target: the household CSV reader (tally_households_read_buffer),
 * then the poverty and inequality measures over what was read.
 *
 * The input is a households file read over the hierarchy of
 * tests/fixtures.h. Invariants checked besides "no crash, no leak, no
 * undefined behaviour, no hang":
 *   - rows read = rows accepted + rows rejected, in both modes, and the
 *     households count equals the rows accepted;
 *   - collect mode: one reject per rejected row, with the buffer's name, a
 *     line inside the input, a column, a code and a reason; stop mode
 *     stops at the first of them;
 *   - the measures at every node: 0 <= P2 <= P1 <= P0 <= 100, Watts >= 0,
 *     Gini in [0, 1], households of a node at least those of each child,
 *     and the root's households plus the skipped ones equal to what was
 *     read (within a forest: summed over the roots).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "fuzz.h"

static const char name[] = "households.csv";

static void check_measures(const tally_households *hh, const tally_hierarchy *h)
{
    tally_poverty_options po = TALLY_POVERTY_OPTIONS_INIT;
    po.line = 3218;
    po.monitoring_line = 5000;
    tally_poverty *p;
    int rc = tally_poverty_households(&p, hh, NULL, &po);
    if (rc) {
        /* Several survey years and no year chosen. */
        fuzz_check_error(rc);
        FUZZ_CHECK(rc == TALLY_EINVAL);
        return;
    }
    size_t n = tally_hierarchy_size(h);
    double root_households = 0;
    for (size_t i = 0; i < n; i++) {
        double m[TALLY_POVERTY_MEASURE_COUNT];
        int present[TALLY_POVERTY_MEASURE_COUNT];
        for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT; k++) {
            FUZZ_CHECK(tally_poverty_value(p, i, k, &m[k], &present[k]) == 0);
            FUZZ_CHECK(present[k] == !isnan(m[k]));
            FUZZ_CHECK(!isinf(m[k]));
        }
        FUZZ_CHECK(present[TALLY_POVERTY_HOUSEHOLDS] && m[TALLY_POVERTY_HOUSEHOLDS] >= 0);
        const double slack = 1e-9;
        if (present[TALLY_POVERTY_P0]) {
            FUZZ_CHECK(m[TALLY_POVERTY_P0] >= 0 && m[TALLY_POVERTY_P0] <= 100 + slack);
            FUZZ_CHECK(m[TALLY_POVERTY_P1] >= 0 && m[TALLY_POVERTY_P1] <= m[TALLY_POVERTY_P0] + slack);
            FUZZ_CHECK(m[TALLY_POVERTY_P2] >= 0 && m[TALLY_POVERTY_P2] <= m[TALLY_POVERTY_P1] + slack);
        }
        if (present[TALLY_POVERTY_WATTS])
            FUZZ_CHECK(m[TALLY_POVERTY_WATTS] >= 0);
        if (present[TALLY_POVERTY_GINI])
            FUZZ_CHECK(m[TALLY_POVERTY_GINI] >= 0 && m[TALLY_POVERTY_GINI] <= 1 + slack);
        size_t parent = tally_hierarchy_parent(h, i);
        if (parent == TALLY_NONE) {
            root_households += m[TALLY_POVERTY_HOUSEHOLDS];
        } else {
            double ph;
            int pp;
            FUZZ_CHECK(tally_poverty_value(p, parent, TALLY_POVERTY_HOUSEHOLDS, &ph, &pp) == 0);
            FUZZ_CHECK(ph >= m[TALLY_POVERTY_HOUSEHOLDS]);
        }
    }
    FUZZ_CHECK(root_households == (double)tally_poverty_households_used(p));
    FUZZ_CHECK(tally_poverty_households_used(p) + tally_poverty_households_skipped(p) ==
               tally_households_count(hh));
    tally_poverty_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tally_hierarchy *h;
    if (!h && tally_hierarchy_from_buffer(&h, fixture_hierarchy, sizeof fixture_hierarchy - 1,
                                          "hierarchy.csv", NULL))
        abort();
    const char *text = (const char *)data;
    unsigned long lines = fuzz_line_count(data, size);

    tally_households *hh;
    tally_rejects *rej;
    FUZZ_CHECK(tally_households_new(&hh, h) == 0);
    FUZZ_CHECK(tally_rejects_new(&rej) == 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    memset(&st, 0xAB, sizeof st);
    int rc = tally_households_read_buffer(hh, text, size, name, &opts, rej, &st);
    FUZZ_CHECK(st.rows_read == st.rows_accepted + st.rows_rejected);
    FUZZ_CHECK(st.rows_read < lines);
    FUZZ_CHECK(tally_households_count(hh) == st.rows_accepted);
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
        check_measures(hh, h);

    tally_households *hh2;
    FUZZ_CHECK(tally_households_new(&hh2, h) == 0);
    tally_read_stats st2;
    int rc2 = tally_households_read_buffer(hh2, text, size, name, NULL, NULL, &st2);
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
    tally_households_free(hh2);
    tally_rejects_free(rej);
    tally_households_free(hh);
    return 0;
}
