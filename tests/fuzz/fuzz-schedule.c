/* Fuzz target: the schedule reader (tally_schedule_from_buffer), then
 * completion with the schedule it read.
 *
 * The input is a schedule file (month,share). Invariants checked besides
 * "no crash, no leak, no undefined behaviour, no hang":
 *   - a failed read says what is wrong, with the buffer's name, a line
 *     inside the input (or the one after its last, where a missing month
 *     would go) and a column, and leaves the shares untouched;
 *   - a schedule read has 12 shares from 0 to 100, never decreasing, the
 *     December share exactly 100;
 *   - written back as month,share with every digit and read again, it
 *     gives the same shares, bit for bit;
 *   - tally_progress, which checks a schedule it is given, accepts it, and
 *     its time progress in month m is the share of month m.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "fuzz.h"

static const char name[] = "schedule.csv";

/* Completion as of each month with the schedule: accepted, and the time
 * progress is the schedule's share for the month. */
static void check_progress(const fixture *f, const tally_targets *t, const double shares[12])
{
    for (int month = 1; month <= 12; month++) {
        tally_progress_options po = TALLY_PROGRESS_OPTIONS_INIT;
        po.year = 2019;
        po.month = month;
        po.schedule = shares;
        tally_progress *r;
        int rc = tally_progress_run(&r, f->ds, t, &po);
        if (rc)
            fprintf(stderr, "tally_progress refused the schedule: %s\n",
                    tally_error_last()->message);
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(tally_progress_count(r) > 0);
        for (size_t row = 0; row < tally_progress_count(r); row++)
            FUZZ_CHECK(tally_progress_time_progress(r, row) == shares[month - 1]);
        tally_progress_free(r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fixture f; /* hierarchy, definitions, an empty dataset and targets */
    static tally_targets *t;
    if (!t) {
        static const char targets[] = "region_code,indicator,year,target\n"
                                      "430600000000,poor,2019,100\n";
        fixture_load(&f, NULL);
        FUZZ_CHECK(tally_targets_new(&t, f.h, f.d) == 0);
        FUZZ_CHECK(tally_targets_read_buffer(t, targets, sizeof targets - 1, "targets.csv", NULL,
                                             NULL, NULL) == 0);
    }
    const char *text = (const char *)data;

    /* A sentinel the reader must leave alone when it fails. */
    double shares[12], before[12];
    for (int m = 0; m < 12; m++)
        shares[m] = before[m] = -1.0 - m;
    int rc = tally_schedule_from_buffer(shares, text, size, name);
    if (rc) {
        fuzz_check_error(rc);
        const tally_error *e = tally_error_last();
        FUZZ_CHECK(e->path && strcmp(e->path, name) == 0);
        FUZZ_CHECK(e->line >= 1 && e->line <= fuzz_line_count(data, size) + 1);
        FUZZ_CHECK(e->column >= 1);
        FUZZ_CHECK(memcmp(shares, before, sizeof shares) == 0);
        return 0;
    }
    for (int m = 0; m < 12; m++) {
        FUZZ_CHECK(shares[m] >= 0 && shares[m] <= 100);
        FUZZ_CHECK(m == 0 || shares[m] >= shares[m - 1]);
    }
    FUZZ_CHECK(shares[11] == 100);

    /* Written back and read again. */
    char again[12 * 40 + 16];
    size_t len = (size_t)snprintf(again, sizeof again, "month,share\n");
    for (int m = 0; m < 12; m++)
        len += (size_t)snprintf(again + len, sizeof again - len, "%d,%.17g\n", m + 1, shares[m]);
    FUZZ_CHECK(len < sizeof again);
    double read_again[12];
    rc = tally_schedule_from_buffer(read_again, again, len, "again.csv");
    if (rc)
        fprintf(stderr, "reading the schedule written back: %s\n", tally_error_last()->message);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(memcmp(read_again, shares, sizeof shares) == 0);

    check_progress(&f, t, shares);
    return 0;
}
