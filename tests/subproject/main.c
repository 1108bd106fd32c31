/* Uses tally built as a subproject: prints the version, then the number of
 * regions of a small hierarchy read from memory and its root's code.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include <tally.h>

int main(void)
{
    static const char csv[] = "code,name,level,parent_code\n"
                              "430000000000,湖南省,province,\n"
                              "430600000000,岳阳市,city,430000000000\n";
    tally_hierarchy *h;
    if (tally_hierarchy_from_buffer(&h, csv, sizeof csv - 1, "hierarchy.csv", NULL)) {
        fprintf(stderr, "%s\n", tally_error_last()->message);
        return 1;
    }
    printf("tally %s: %zu regions, root %s\n", tally_version(), tally_hierarchy_size(h),
           tally_hierarchy_code(h, 0));
    tally_hierarchy_free(h);
    return 0;
}
