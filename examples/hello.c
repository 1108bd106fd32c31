/* The smallest program on tally: how many people a city's villages lifted
 * out of poverty in 2019, from a year of their monthly reports.
 *
 *     cc hello.c $(pkg-config --cflags --libs tally) -o hello
 *     ./hello [hierarchy.csv definitions.yaml records.csv]
 *
 * Without arguments it reads the demo data (run it from the top of the
 * source tree) and prints "岳阳市 exited_population 2019: 93424".
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <tally.h>

int main(int argc, char **argv)
{
    const char *hierarchy = "examples/data/yueyang-hierarchy.csv";
    const char *definitions = "examples/data/yueyang.yaml";
    const char *records = "examples/data/yueyang-2019.csv";
    if (argc == 4) {
        hierarchy = argv[1];
        definitions = argv[2];
        records = argv[3];
    } else if (argc != 1) {
        fputs("usage: hello [hierarchy.csv definitions.yaml records.csv]\n", stderr);
        return 2;
    }

    /* Every object is the caller's, freed with its _free (NULL is fine). */
    tally_definitions *d = NULL;
    tally_hierarchy *h = NULL;
    tally_dataset *ds = NULL;
    tally_result *r = NULL;
    const char *const id = "exited_population", *const year[] = { "2019" };
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    opts.periods = year;
    opts.period_count = 1;
    size_t ind = 0;
    double value = 0;
    int present = 0, status = 0;
    char figure[64] = "missing";

    /* Each call returns 0 or a negative TALLY_E... code; the thread's last
     * error then says what is wrong, as path:line:col: when it is in a file. */
    if (tally_definitions_from_file(&d, definitions) ||
        tally_hierarchy_from_file(&h, hierarchy, NULL) ||
        tally_dataset_new(&ds, h, d) ||
        tally_dataset_read_file(ds, records, NULL, NULL, NULL) ||
        tally_rollup(&r, ds, &opts) ||
        tally_definitions_find(d, id, strlen(id), &ind) ||
        tally_result_value(r, 0, ind, 0, &value, &present)) {
        fprintf(stderr, "hello: %s\n", tally_error_last()->message);
        status = 2;
    } else if (present && tally_number_format(figure, sizeof figure, value,
                                              tally_definitions_decimals(d, ind)) < 0) {
        fprintf(stderr, "hello: %s\n", tally_strerror(TALLY_EINVAL));
        status = 2;
    } else {
        /* Node 0 is the first region of the hierarchy, its root. */
        printf("%s %s %s: %s\n", tally_hierarchy_name(h, 0), id, year[0], figure);
    }

    tally_result_free(r);
    tally_dataset_free(ds);
    tally_hierarchy_free(h);
    tally_definitions_free(d);
    return status;
}
