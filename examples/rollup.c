/* tally rollup: totals at every level of the hierarchy.
 *
 * The whole of the library's main path in one page: definitions and
 * hierarchy in, records read (bad rows named), a rollup, and the result
 * written as CSV or JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

int cmd_rollup(int argc, char **argv)
{
    enum { OPT_COMPARE = CLI_OPT_OWN, OPT_COVERAGE };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_TABLE_OPTIONS,
        CLI_PREFER_OPTION,
        { "compare", required_argument, NULL, OPT_COMPARE },
        { "coverage", no_argument, NULL, OPT_COVERAGE },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "rollup", cli_usage_rollup);
    tally_rollup_options ropts = TALLY_ROLLUP_OPTIONS_INIT;
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
        if (opt == OPT_COVERAGE)
            ropts.coverage = 1;
        if (opt != OPT_COMPARE)
            continue;
        if (!strcmp(optarg, "yoy"))
            ropts.compare = TALLY_COMPARE_YOY;
        else if (!strcmp(optarg, "pop"))
            ropts.compare = TALLY_COMPARE_POP;
        else
            cli_usage_error(&c, "--compare '%s': expected yoy or pop", optarg);
    }
    if (opt < 0 || cli_load(&c))
        return cli_done(&c);

    ropts.prefer = c.prefer;
    ropts.periods = (const char *const *)c.period_list;
    ropts.period_count = c.period_count;
    tally_result *r = NULL;
    /* Nothing reads the records after this: their arrays may move into the
     * result instead of being copied (half the memory on a national run). */
    if (tally_rollup_take(&r, c.ds, &ropts) || tally_result_write(r, c.output, &c.write))
        cli_report(&c);
    tally_result_free(r);
    return cli_done(&c);
}
