/* Shared test fixtures: a small hierarchy and definitions (by hand). */
#ifndef TALLY_TESTS_FIXTURES_H
#define TALLY_TESTS_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tally.h>

/* Pre-order indices in the comments.
 *   0 430000000000 湖南省 province
 *   1   430600000000 岳阳市 city
 *   2     430602000000 岳阳楼区 county
 *   3       430602001000 街道A town
 *   4         430602001001 村1 village
 *   5         430602001002 村2 village
 *   6     430626000000 平江县 county
 *   7       430626100000 镇B town
 *   8         430626100201 村3 village
 */
static const char fixture_hierarchy[] =
    "code,name,level,parent_code\n"
    "430000000000,湖南省,province,\n"
    "430600000000,岳阳市,city,430000000000\n"
    "430602000000,岳阳楼区,county,430600000000\n"
    "430602001000,街道A,town,430602000000\n"
    "430602001001,村1,village,430602001000\n"
    "430602001002,村2,village,430602001000\n"
    "430626000000,平江县,county,430600000000\n"
    "430626100000,镇B,town,430626000000\n"
    "430626100201,村3,village,430626100000\n";

static const char fixture_definitions[] =
    "indicators:\n"
    "  - id: poor\n"
    "    name: 贫困人口\n"
    "    over_time: stock\n"
    "  - id: exits\n"
    "    over_time: flow\n"
    "  - id: pop\n"
    "    over_time: stock\n"
    "  - id: trained\n"
    "    over_time: cumulative\n"
    "  - id: income\n"
    "    aggregate: mean\n"
    "    over_time: stock\n"
    "    decimals: 1\n"
    "  - id: lowest\n"
    "    aggregate: min\n"
    "    over_time: stock\n"
    "  - id: highest\n"
    "    aggregate: max\n"
    "    over_time: stock\n"
    "  - id: reporting\n"
    "    aggregate: count\n"
    "    over_time: stock\n"
    "  - id: rate\n"
    "    unit: \"%\"\n"
    "    formula: poor / pop * 100\n"
    "  - id: rate2\n"
    "    formula: rate * 2\n";

enum { N_POOR, N_EXITS, N_POP, N_TRAINED, N_INCOME, N_LOWEST, N_HIGHEST, N_REPORTING, N_RATE, N_RATE2 };
enum { PROV, CITY, YLQ, TOWN_A, V1, V2, PJX, TOWN_B, V3 };

typedef struct fixture {
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *ds;
} fixture;

static inline void fixture_load(fixture *f, const char *defs)
{
    memset(f, 0, sizeof *f);
    if (tally_hierarchy_from_buffer(&f->h, fixture_hierarchy, sizeof fixture_hierarchy - 1,
                                    "hierarchy.csv", NULL) ||
        tally_definitions_from_buffer(&f->d, defs ? defs : fixture_definitions,
                                      strlen(defs ? defs : fixture_definitions), "defs.yaml") ||
        tally_dataset_new(&f->ds, f->h, f->d)) {
        fprintf(stderr, "fixture: %s\n", tally_error_last()->message);
        abort();
    }
}

static inline void fixture_free(fixture *f)
{
    tally_dataset_free(f->ds);
    tally_definitions_free(f->d);
    tally_hierarchy_free(f->h);
}

#endif
