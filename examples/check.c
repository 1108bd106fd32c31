/* tally check: every reported number that does not add up, and why.
 *
 * Loads the inputs like the other subcommands, runs the checks of the
 * definitions (and the built-in ones), writes one row per finding, prints a
 * summary per check on standard error, and exits 1 when a finding has
 * severity error.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "common.h"

static const char usage[] =
    "Usage: tally check -H hierarchy.csv -d definitions.yaml -r records.csv [-r more.csv ...]\n"
    "                   [-t targets.csv ...] [--period 2019-08,2019] [--level county,town]\n"
    "                   [--prefer computed|reported] [--format csv|json] [-o FILE]\n"
    "                   [--on-error stop|collect] [--rejects FILE]\n"
    "\n"
    "Runs the checks of the definitions (`checks:`: hierarchy, rule, required,\n"
    "outliers) and the built-in ones (bounds from min:/max:, reported values of\n"
    "formula indicators against their operands, cumulative values that fall\n"
    "within a year, and with -t the decomposition of the targets). Prints one\n"
    "row per finding:\n"
    "  check,severity,region_code,region_name,period,indicator,expected,actual,difference,message\n"
    "and a summary per check on standard error.\n"
    "\n"
    "  -H, --hierarchy FILE   regions: code,name,level,parent_code\n"
    "  -d, --definitions FILE indicators and checks (YAML)\n"
    "  -r, --records FILE     records: region_code,indicator,period,value (repeatable)\n"
    "  -t, --targets FILE     targets: region_code,indicator,year,target (repeatable)\n"
    "  -p, --period LIST      periods to check (default: every period filed)\n"
    "  -l, --level LIST       print only the findings of regions at these levels\n"
    "      --prefer WHICH     computed (default): a region's figure is compared with\n"
    "                         the total of the finest reports below it; reported:\n"
    "                         with its children's own figures\n"
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
    "Exit status: 0 no finding of severity error, 1 findings of severity error,\n"
    "2 bad usage or bad input.\n";

int cmd_check(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_TARGETS_OPTION,
        CLI_PREFER_OPTION,
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "check", usage);
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0)
        continue; /* every option of check is a shared one */
    if (opt < 0 || cli_load(&c))
        return cli_done(&c);

    tally_check_options copts = TALLY_CHECK_OPTIONS_INIT;
    copts.prefer = c.prefer;
    copts.targets = c.t; /* with -t: the decomposition of the targets is checked too */
    copts.periods = (const char *const *)c.period_list;
    copts.period_count = c.period_count;
    tally_findings *f = NULL;
    if (tally_check_run(&f, c.ds, &copts) || tally_findings_write(f, c.output, &c.write)) {
        cli_report(&c);
        tally_findings_free(f);
        return cli_done(&c);
    }

    /* The summary, like R validate's: what each check looked at. */
    fprintf(stderr, "tally check: %-20s %8s %8s %8s %8s %8s\n", "check", "items", "passes",
            "warnings", "fails", "missing");
    for (size_t k = 0; k < tally_findings_check_count(f); k++) {
        tally_check_summary s;
        tally_findings_summary(f, k, &s);
        fprintf(stderr, "tally check: %-20s %8zu %8zu %8zu %8zu %8zu\n", s.check, s.items,
                s.passes, s.warnings, s.fails, s.missing);
    }
    size_t errors = tally_findings_error_count(f), total = tally_findings_count(f);
    fprintf(stderr, "tally check: %zu findings: %zu errors, %zu warnings\n", total, errors,
            total - errors);
    c.status = errors ? EXIT_FINDINGS : EXIT_OK;
    tally_findings_free(f);
    return cli_done(&c);
}
