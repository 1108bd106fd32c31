/* Fuzz target: the records CSV reader (tally_dataset_read_buffer), then a
 * rollup, the consistency checks and the export of what was read.
 *
 * The input is a records file read over the small hand-made hierarchy of
 * tests/fixtures.h (codes 430000000000 ... 430626100201) and its
 * indicators (poor, exits, pop, trained, income, lowest, highest,
 * reporting, rate, rate2) with bounds and a check of each kind added.
 * Invariants checked besides "no crash, no leak, no undefined behaviour,
 * no hang":
 *   - rows read = rows accepted + rows rejected, in both modes;
 *   - collect mode: one reject per rejected row, each with the buffer's
 *     name, a line inside the input, a column, a code and a reason;
 *   - stop mode: at most one rejected row, it is the first row collect
 *     mode rejected, and the failure says what is wrong;
 *   - a header that cannot be used reads nothing in either mode;
 *   - a rejected row stores nothing: a long file stores one cell per
 *     accepted row, a wide one at most a cell per indicator column of each
 *     accepted row;
 *   - read as GB18030 with small limits (8 fields, 64 bytes a field), the
 *     same identities hold, and a conversion error reads nothing.
 * The rollup with the checks, and the GB18030 read, each run for a quarter
 * of the inputs (the last byte picks), which keeps the target fast.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "csv.h"
#include "fuzz.h"

static const char name[] = "records.csv";

static const char definitions[] =
    "indicators:\n"
    "  - { id: poor, name: 贫困人口, over_time: stock, min: 0 }\n"
    "  - { id: exits, over_time: flow, min: 0 }\n"
    "  - { id: pop, over_time: stock, min: 0, max: 100000 }\n"
    "  - { id: trained, over_time: cumulative }\n"
    "  - { id: income, aggregate: mean, over_time: stock, decimals: 1, exact: false }\n"
    "  - { id: lowest, aggregate: min, over_time: stock }\n"
    "  - { id: highest, aggregate: max, over_time: stock }\n"
    "  - { id: reporting, aggregate: count, over_time: stock }\n"
    "  - { id: rate, unit: \"%\", formula: poor / pop * 100 }\n"
    "  - { id: rate2, formula: rate * 2 }\n"
    "checks:\n"
    "  - id: adds_up\n"
    "    hierarchy: [poor, pop, exits]\n"
    "    tolerance: { relative: 0.001 }\n"
    "  - id: poor_le_pop\n"
    "    rule: poor <= pop\n"
    "  - id: identity\n"
    "    rule: highest >= lowest + 0 * income\n"
    "    tolerance: 0.5\n"
    "    severity: warning\n"
    "  - id: complete\n"
    "    required: [poor]\n"
    "    level: village\n"
    "  - id: spikes\n"
    "    outliers: [exits, income]\n"
    "    jump: { max_ratio: 3 }\n";

/* Findings are data: each names a check, a node, a period and a sentence,
 * and every check's items add up. */
static void check_checks(const tally_dataset *ds)
{
    tally_findings *fs;
    int rc = tally_check_run(&fs, ds, NULL);
    if (rc) {
        fuzz_check_error(rc);
        return;
    }
    size_t n = tally_findings_count(fs), nodes = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    size_t inds = tally_definitions_indicator_count(tally_dataset_definitions(ds));
    FUZZ_CHECK(tally_findings_error_count(fs) <= n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(tally_findings_check(fs, i) && tally_findings_check(fs, i)[0]);
        FUZZ_CHECK(tally_findings_node(fs, i) < nodes);
        FUZZ_CHECK(tally_findings_indicator(fs, i) < inds ||
                   tally_findings_indicator(fs, i) == TALLY_NONE);
        FUZZ_CHECK(tally_findings_period(fs, i) != NULL);
        FUZZ_CHECK(tally_findings_message(fs, i) && tally_findings_message(fs, i)[0]);
        FUZZ_CHECK(!isinf(tally_findings_expected(fs, i)) && !isinf(tally_findings_actual(fs, i)));
    }
    for (size_t k = 0; k < tally_findings_check_count(fs); k++) {
        tally_check_summary sum;
        FUZZ_CHECK(tally_findings_summary(fs, k, &sum) == 0);
        FUZZ_CHECK(sum.items == sum.passes + sum.warnings + sum.fails + sum.missing);
    }
    tally_findings_free(fs);
}

static void check_rollup(const tally_dataset *ds, int compare, const uint8_t *data, size_t size)
{
    tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
    ro.compare = compare;
    ro.prefer = size && (data[0] & 8) ? TALLY_PREFER_REPORTED : TALLY_PREFER_COMPUTED;
    tally_result *r;
    int rc = tally_rollup(&r, ds, &ro);
    if (rc) {
        fuzz_check_error(rc);
        return;
    }
    size_t nodes = tally_hierarchy_size(tally_result_hierarchy(r));
    size_t inds = tally_definitions_indicator_count(tally_result_definitions(r));
    size_t periods = tally_result_period_count(r);
    for (size_t p = 0; p < periods; p++) {
        size_t found;
        FUZZ_CHECK(tally_result_period_find(r, tally_result_period(r, p), &found) == 0);
        FUZZ_CHECK(found == p);
        for (size_t i = 0; i < inds; i++) {
            const double *col = tally_result_column(r, i, p);
            FUZZ_CHECK(col != NULL);
            for (size_t n = 0; n < nodes; n++) {
                double v, prev, rep, comp;
                int present, prev_present;
                FUZZ_CHECK(tally_result_value(r, n, i, p, &v, &present) == 0);
                FUZZ_CHECK(present == !isnan(v));
                FUZZ_CHECK(present ? v == col[n] : isnan(col[n]));
                FUZZ_CHECK(!present || isfinite(v));
                FUZZ_CHECK(tally_result_sides(r, n, i, p, &rep, &comp) == 0);
                FUZZ_CHECK(tally_result_previous(r, n, i, p, &prev, &prev_present) == 0);
                FUZZ_CHECK(prev_present == !isnan(prev));
            }
        }
    }
    /* The writers format every value; the first byte picks which one, so
     * that most runs stay fast. */
    if (size && (data[0] & 3) == 1) {
        tally_write_options wo = TALLY_WRITE_OPTIONS_INIT;
        wo.format = (data[size - 1] & 1) ? TALLY_FORMAT_JSON : TALLY_FORMAT_CSV;
        rc = tally_result_write(r, "/dev/null", &wo);
        if (rc)
            fuzz_check_error(rc);
    }
    tally_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fixture f; /* hierarchy and definitions, loaded once */
    static int loaded;
    if (!loaded) {
        fixture_load(&f, definitions);
        tally_dataset_free(f.ds);
        f.ds = NULL;
        loaded = 1;
    }
    const char *text = (const char *)data;
    unsigned long lines = fuzz_line_count(data, size);

    /* Collecting mode. */
    tally_dataset *ds;
    tally_rejects *rej;
    FUZZ_CHECK(tally_dataset_new(&ds, f.h, f.d) == 0);
    FUZZ_CHECK(tally_rejects_new(&rej) == 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    memset(&st, 0xAB, sizeof st);
    int rc = tally_dataset_read_buffer(ds, text, size, name, &opts, rej, &st);
    FUZZ_CHECK(st.rows_read == st.rows_accepted + st.rows_rejected);
    FUZZ_CHECK(st.rows_read < lines); /* the header takes a line */
    size_t nrej = tally_rejects_count(rej);
    if (rc) {
        /* Only an unusable header fails a collecting read, before any row. */
        fuzz_check_error(rc);
        FUZZ_CHECK(st.rows_read == 0);
        FUZZ_CHECK(nrej == 0);
        FUZZ_CHECK(tally_dataset_value_count(ds) == 0);
    }
    FUZZ_CHECK(nrej == st.rows_rejected);
    unsigned long prev_line = 0;
    for (size_t i = 0; i < nrej; i++) {
        FUZZ_CHECK(strcmp(tally_rejects_path(rej, i), name) == 0);
        unsigned long line = tally_rejects_line(rej, i);
        FUZZ_CHECK(line >= 2 && line <= lines);
        FUZZ_CHECK(line > prev_line); /* one row per line at most, in order */
        prev_line = line;
        FUZZ_CHECK(tally_rejects_column(rej, i) >= 1);
        FUZZ_CHECK(tally_rejects_code(rej, i) < 0 && tally_rejects_code(rej, i) != TALLY_ENOMEM);
        FUZZ_CHECK(tally_rejects_reason(rej, i) && tally_rejects_reason(rej, i)[0]);
        FUZZ_CHECK(tally_rejects_row(rej, i) != NULL);
    }
    if (!rc) {
        /* The header as the reader saw it (internal CSV reader). */
        tally_csv c;
        tally_csv__init(&c, text, size, name);
        FUZZ_CHECK(tally_csv__next(&c) == 1);
        int is_long = tally_csv__find_column(&c, "indicator") >= 0 &&
                      tally_csv__find_column(&c, "value") >= 0;
        size_t ncols = c.nfields;
        tally_csv__fini(&c);
        size_t cells = tally_dataset_value_count(ds);
        if (is_long)
            FUZZ_CHECK(cells == st.rows_accepted);
        else
            FUZZ_CHECK(cells >= st.rows_accepted && cells <= st.rows_accepted * (ncols - 2));
    }
    /* The costly stages (a rollup with the checks, or the read again as
     * GB18030) run for a quarter of the inputs each, picked by the last
     * byte: every input is still read in both modes, and the fuzzer runs
     * several times as many inputs a second (its bookkeeping grows with
     * the code an input reaches). */
    unsigned stage = size ? data[size - 1] & 3 : 0;
    if (!rc && stage == 0) {
        check_rollup(ds, size && (data[0] & 4) ? TALLY_COMPARE_YOY : TALLY_COMPARE_NONE, data,
                     size);
        check_checks(ds);
    }

    /* Stop mode on a fresh dataset: the same first bad row stops it. */
    tally_dataset *ds2;
    FUZZ_CHECK(tally_dataset_new(&ds2, f.h, f.d) == 0);
    tally_read_stats st2;
    int rc2 = tally_dataset_read_buffer(ds2, text, size, name, NULL, NULL, &st2);
    FUZZ_CHECK(st2.rows_read == st2.rows_accepted + st2.rows_rejected);
    FUZZ_CHECK(st2.rows_rejected <= 1);
    if (rc) {
        FUZZ_CHECK(rc2 == rc);
        FUZZ_CHECK(st2.rows_read == 0);
    } else if (nrej) {
        fuzz_check_error(rc2);
        FUZZ_CHECK(st2.rows_rejected == 1);
        FUZZ_CHECK(tally_error_last()->line == tally_rejects_line(rej, 0));
        FUZZ_CHECK(tally_error_last()->column == tally_rejects_column(rej, 0));
        FUZZ_CHECK(rc2 == tally_rejects_code(rej, 0));
        FUZZ_CHECK(st2.rows_accepted <= st.rows_accepted);
    } else {
        FUZZ_CHECK(rc2 == 0);
        FUZZ_CHECK(st2.rows_read == st.rows_read && st2.rows_accepted == st.rows_accepted);
        FUZZ_CHECK(tally_dataset_value_count(ds2) == tally_dataset_value_count(ds));
    }
    tally_dataset_free(ds2);

    if (stage != 1) {
        tally_rejects_free(rej);
        tally_dataset_free(ds);
        return 0;
    }

    /* Declared GB18030 (through iconv), with small limits. */
    tally_dataset *ds3;
    tally_rejects *rej3;
    FUZZ_CHECK(tally_dataset_new(&ds3, f.h, f.d) == 0);
    FUZZ_CHECK(tally_rejects_new(&rej3) == 0);
    opts.encoding = "gb18030";
    opts.max_columns = 8;
    opts.max_field_bytes = 64;
    tally_read_stats st3;
    int rc3 = tally_dataset_read_buffer(ds3, text, size, name, &opts, rej3, &st3);
    FUZZ_CHECK(st3.rows_read == st3.rows_accepted + st3.rows_rejected);
    FUZZ_CHECK(tally_rejects_count(rej3) == st3.rows_rejected);
    if (rc3) {
        fuzz_check_error(rc3);
        FUZZ_CHECK(st3.rows_read == 0 && tally_dataset_value_count(ds3) == 0);
    }
    for (size_t i = 0; i < tally_rejects_count(rej3); i++) {
        FUZZ_CHECK(tally_rejects_line(rej3, i) >= 2 && tally_rejects_line(rej3, i) <= lines);
        FUZZ_CHECK(tally_rejects_column(rej3, i) >= 1);
        FUZZ_CHECK(tally_rejects_reason(rej3, i) && tally_rejects_reason(rej3, i)[0]);
    }
    tally_rejects_free(rej3);
    tally_dataset_free(ds3);

    tally_rejects_free(rej);
    tally_dataset_free(ds);
    return 0;
}
