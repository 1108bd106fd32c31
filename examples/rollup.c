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

static const char usage[] =
    "Usage: tally rollup -H hierarchy.csv -d definitions.yaml -r records.csv [-r more.csv ...]\n"
    "                    [--level county,town] [--period 2019-08,2019-Q3,2019]\n"
    "                    [--prefer computed|reported] [--compare yoy|pop]\n"
    "                    [--format csv|json] [-o FILE]\n"
    "                    [--on-error stop|collect] [--rejects FILE]\n"
    "\n"
    "Rolls the records up the hierarchy and prints, for every region (in\n"
    "hierarchy pre-order), indicator and period:\n"
    "  region_code,region_name,level,indicator,period,value\n"
    "with previous,change,change_pct added by --compare. Numbers have each\n"
    "indicator's decimals; missing values are empty (null in JSON).\n"
    "\n"
    "  -H, --hierarchy FILE   regions: code,name,level,parent_code\n"
    "  -d, --definitions FILE indicators (YAML)\n"
    "  -r, --records FILE     records: region_code,indicator,period,value (repeatable)\n"
    "  -l, --level LIST       levels to print (default: every level)\n"
    "  -p, --period LIST      periods (default: every period in the records)\n"
    "      --prefer WHICH     computed (default): a region's value comes from below\n"
    "                         when anything below reported; reported: its own first\n"
    "      --compare WHICH    yoy: same period a year earlier; pop: previous period\n"
    "  -f, --format FMT       csv (default) or json\n"
    "  -o, --output FILE      write there instead of standard output\n"
    "      --on-error MODE    stop (default): exit 2 at the first bad row;\n"
    "                         collect: read on and report every bad row\n"
    "      --rejects FILE     with collect: write rejected rows as CSV\n"
    "      --encoding ENC     utf-8 (default), gb18030 or any iconv name\n"
    "      --threads N        threads reading records (default 0: one per core, at most 8)\n"
    "  -h, --help             this text\n"
    "  -V, --version          the library version\n"
    "\n"
    "Exit status: 0 success, 2 bad usage or bad input.\n";

int cmd_rollup(int argc, char **argv)
{
    enum { OPT_COMPARE = CLI_OPT_OWN };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_PREFER_OPTION,
        { "compare", required_argument, NULL, OPT_COMPARE },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "rollup", usage);
    tally_rollup_options ropts = TALLY_ROLLUP_OPTIONS_INIT;
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
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
