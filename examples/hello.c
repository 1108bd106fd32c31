/* The smallest program on tally: county totals of a month of reports.
 * Build: cc hello.c $(pkg-config --cflags --libs tally) -o hello */
#include <stdio.h>
#include <tally.h>

int main(int argc, char **argv)
{
    tally_definitions *d; tally_hierarchy *h; tally_dataset *ds; tally_result *r;
    printf("tally %s\n", tally_version());
    if (argc < 4) return 0;                       /* hello hierarchy.csv defs.yaml records.csv */
    if (tally_definitions_from_file(&d, argv[2]) || tally_hierarchy_from_file(&h, argv[1], NULL) ||
        tally_dataset_new(&ds, h, d) || tally_dataset_read_file(ds, argv[3], NULL, NULL, NULL) ||
        tally_rollup(&r, ds, NULL) || tally_result_write(r, NULL, NULL)) {
        fprintf(stderr, "%s\n", tally_error_last()->message);  /* path:line:col: what is wrong */
        return 2;
    }
    tally_result_free(r); tally_dataset_free(ds); tally_hierarchy_free(h); tally_definitions_free(d);
    return 0;
}
