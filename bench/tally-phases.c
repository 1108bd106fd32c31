/* The benchmark job through the C API, timing each phase: hierarchy and
 * definitions loaded, records read (parse), rollup, result written; and,
 * given a snapshot path, the dataset saved there and loaded back into a
 * fresh dataset (the snapshot reload, to compare with the parse).
 *
 * Usage: tally-phases HIERARCHY.csv DEFINITIONS.yaml RECORDS.csv OUT.csv [SNAPSHOT]
 * Prints {"load":s,"parse_serial":s,"parse":s,"rollup":s,"write":s
 * [,"save":s,"reload":s]} on standard output: parse_serial reads the records
 * on one thread (into a dataset then dropped), parse with the default
 * threads, as `tally rollup` does. The rollup is tally_rollup_take, as there.
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
    if (argc != 5 && argc != 6) {
        fputs("usage: tally-phases HIERARCHY.csv DEFINITIONS.yaml RECORDS.csv OUT.csv "
              "[SNAPSHOT]\n",
              stderr);
        return 2;
    }
    tally_definitions *d = NULL;
    tally_hierarchy *h = NULL;
    tally_dataset *ds = NULL, *back = NULL;
    tally_result *r = NULL;
    double save = 0, reload = 0;
    double t0 = now();
    if (tally_definitions_from_file(&d, argv[2]) || tally_hierarchy_from_file(&h, argv[1], NULL) ||
        tally_dataset_new(&ds, h, d))
        goto fail;
    double ts0 = now();
    tally_read_options one = TALLY_READ_OPTIONS_INIT;
    one.threads = 1;
    if (tally_dataset_new(&back, h, d) || tally_dataset_read_file(back, argv[3], &one, NULL, NULL))
        goto fail;
    double serial = now() - ts0;
    tally_dataset_free(back);
    back = NULL;
    double t1 = now();
    if (tally_dataset_read_file(ds, argv[3], NULL, NULL, NULL))
        goto fail;
    double t2 = now();
    if (argc == 6) {
        if (tally_snapshot_save(ds, argv[5]))
            goto fail;
        double ts = now();
        if (tally_dataset_new(&back, h, d) || tally_snapshot_load(back, argv[5]))
            goto fail;
        reload = now() - ts;
        save = ts - t2;
        if (tally_dataset_value_count(back) != tally_dataset_value_count(ds)) {
            fputs("tally-phases: the snapshot holds another number of values\n", stderr);
            return 2;
        }
        tally_dataset_free(back);
        back = NULL;
    }
    double t3 = now();
    if (tally_rollup_take(&r, ds, NULL))
        goto fail;
    double t4 = now();
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
    double t5 = now();
    printf("{\"load\": %.6f, \"parse_serial\": %.6f, \"parse\": %.6f, \"rollup\": %.6f, "
           "\"write\": %.6f",
           ts0 - t0, serial, t2 - t1, t4 - t3, t5 - t4);
    if (argc == 6)
        printf(", \"save\": %.6f, \"reload\": %.6f", save, reload);
    puts("}");
    tally_result_free(r);
    tally_dataset_free(ds);
    tally_hierarchy_free(h);
    tally_definitions_free(d);
    return 0;
fail:
    fprintf(stderr, "tally-phases: %s\n", tally_error_last()->message);
    tally_dataset_free(back);
    return 2;
}
