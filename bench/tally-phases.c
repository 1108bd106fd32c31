/* The benchmark job through the C API, timing each phase: hierarchy and
 * definitions loaded, records read (parse), rollup, result written.
 *
 * Usage: tally-phases HIERARCHY.csv DEFINITIONS.yaml RECORDS.csv OUT.csv
 * Prints {"load":s,"parse":s,"rollup":s,"write":s} on standard output.
 *
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include <tally.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fputs("usage: tally-phases HIERARCHY.csv DEFINITIONS.yaml RECORDS.csv OUT.csv\n", stderr);
        return 2;
    }
    tally_definitions *d = NULL;
    tally_hierarchy *h = NULL;
    tally_dataset *ds = NULL;
    tally_result *r = NULL;
    double t0 = now();
    if (tally_definitions_from_file(&d, argv[2]) || tally_hierarchy_from_file(&h, argv[1], NULL) ||
        tally_dataset_new(&ds, h, d))
        goto fail;
    double t1 = now();
    if (tally_dataset_read_file(ds, argv[3], NULL, NULL, NULL))
        goto fail;
    double t2 = now();
    if (tally_rollup(&r, ds, NULL))
        goto fail;
    double t3 = now();
    /* The levels the CLI job writes: everything above the villages. */
    int levels[4];
    const char *names[4] = { "province", "city", "county", "town" };
    for (int i = 0; i < 4; i++)
        levels[i] = tally_hierarchy_level_find(h, names[i]);
    tally_write_options wo = TALLY_WRITE_OPTIONS_INIT;
    wo.levels = levels;
    wo.level_count = 4;
    if (tally_result_write(r, argv[4], &wo))
        goto fail;
    double t4 = now();
    printf("{\"load\": %.6f, \"parse\": %.6f, \"rollup\": %.6f, \"write\": %.6f}\n", t1 - t0,
           t2 - t1, t3 - t2, t4 - t3);
    tally_result_free(r);
    tally_dataset_free(ds);
    tally_hierarchy_free(h);
    tally_definitions_free(d);
    return 0;
fail:
    fprintf(stderr, "tally-phases: %s\n", tally_error_last()->message);
    return 2;
}
