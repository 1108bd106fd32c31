/* tally poverty: incidence against exit thresholds from records, or the
 * FGT, Watts, Gini and median measures from household records.
 *
 * Records mode is a rollup followed by tally_poverty_thresholds; households
 * mode reads households (bad rows named like bad records) and runs
 * tally_poverty_households. Both write CSV or JSON, rows in pre-order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

static const char usage[] =
    "Usage: tally poverty -H hierarchy.csv -d definitions.yaml -r records.csv [-r more.csv ...]\n"
    "                     [--year 2019 | --period 2019-12,2019] [--level county,village]\n"
    "                     [--format csv|json] [-o FILE] [--on-error stop|collect] [--rejects FILE]\n"
    "       tally poverty -H hierarchy.csv -d definitions.yaml --households households.csv\n"
    "                     [--year 2019] [--line 3218] [--monitoring-line 5000]\n"
    "                     [--level county,village] [--format csv|json] [-o FILE]\n"
    "                     [--on-error stop|collect] [--rejects FILE]\n"
    "\n"
    "From records (-r): rolls the records up and judges every indicator that has\n"
    "`thresholds:` in the definitions, at every region and period:\n"
    "  region_code,region_name,level,period,indicator,value,threshold,meets_threshold,margin\n"
    "A region's threshold is its level's entry, with the override whose region\n"
    "prefix is the longest prefix of its code; `max: 2` means below 2 (strictly,\n"
    "unless `inclusive: true`). meets_threshold is yes or no, empty when the value\n"
    "is missing or the level has no threshold; margin is how far inside the\n"
    "threshold the value is (threshold - value for a max, value - threshold for a\n"
    "min), negative outside. Numbers have the indicator's decimals.\n"
    "\n"
    "From households (--households): household_id,region_code,size,\n"
    "income_per_capita[,weight][,year]; every region gets, over the households\n"
    "of its subtree, with person weights weight * size:\n"
    "  region_code,region_name,level,year,households,persons,poverty_line,\n"
    "  p0,p1,p2,watts,gini,median_income,below_monitoring_line\n"
    "P0, P1, P2 (Foster-Greer-Thorbecke) and Watts in % with 4 decimals, poor\n"
    "meaning income < line; Watts leaves out incomes of 0; Gini (0..1, 4\n"
    "decimals) and the median are person-weighted; below_monitoring_line counts\n"
    "households with income < the monitoring line. A region without households\n"
    "has empty measures.\n"
    "\n"
    "  -H, --hierarchy FILE       regions: code,name,level,parent_code\n"
    "  -d, --definitions FILE     indicators, thresholds, poverty lines (YAML)\n"
    "  -r, --records FILE         records: region_code,indicator,period,value (repeatable)\n"
    "      --households FILE      household records (repeatable)\n"
    "  -p, --period LIST          records: periods (default: every period in the records)\n"
    "      --year YEAR            records: the same as --period YEAR; households: the\n"
    "                             survey year (rows of other years are skipped and\n"
    "                             counted; default: the one year of the file)\n"
    "      --line YUAN            households: the poverty line (default: the\n"
    "                             definitions' poverty: lines: for the year)\n"
    "      --monitoring-line YUAN households: the monitoring line (default: the\n"
    "                             definitions' poverty: monitoring_line, or none)\n"
    "  -l, --level LIST           levels to print (default: every level)\n"
    "  -f, --format FMT           csv (default) or json\n"
    "  -o, --output FILE          write there instead of standard output\n"
    "      --on-error MODE        stop (default): exit 2 at the first bad row;\n"
    "                             collect: read on and report every bad row\n"
    "      --rejects FILE         with collect: write rejected rows as CSV\n"
    "      --encoding ENC         utf-8 (default), gb18030 or any iconv name\n"
    "      --threads N            threads reading records (default 0: one per core, at most 8)\n"
    "  -h, --help                 this text\n"
    "  -V, --version              the library version\n"
    "\n"
    "Exit status: 0 success, 2 bad usage or bad input.\n";

/* A positive number from the command line into *out, or a usage error. */
static void parse_positive(cli *c, const char *option, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isfinite(v) || !(v > 0))
        cli_usage_error(c, "%s '%s': expected a positive number", option, arg);
    else
        *out = v;
}

/* The measures over the households cli_load has read. */
static void run_households(cli *c, const tally_poverty_options *popts)
{
    tally_poverty *p = NULL;
    if (tally_poverty_households(&p, c->hh, c->d, popts)) {
        cli_report(c);
        return;
    }
    char line[64];
    tally_number_format(line, sizeof line, tally_poverty_line(p), 2);
    if (tally_poverty_year(p))
        fprintf(stderr, "tally %s: %d, poverty line %s: %zu households measured",
                c->command, tally_poverty_year(p), line, tally_poverty_households_used(p));
    else
        fprintf(stderr, "tally %s: poverty line %s: %zu households measured", c->command, line,
                tally_poverty_households_used(p));
    if (tally_poverty_households_skipped(p))
        fprintf(stderr, ", %zu of other years skipped", tally_poverty_households_skipped(p));
    fputc('\n', stderr);
    if (tally_poverty_write(p, c->output, &c->write))
        cli_report(c);
    tally_poverty_free(p);
}

/* The exit thresholds over a rollup of the records. */
static void run_records(cli *c)
{
    tally_rollup_options ropts = TALLY_ROLLUP_OPTIONS_INIT;
    ropts.periods = (const char *const *)c->period_list;
    ropts.period_count = c->period_count;
    tally_result *r = NULL;
    tally_thresholds *t = NULL;
    if (tally_rollup(&r, c->ds, &ropts) || tally_poverty_thresholds(&t, r, NULL) ||
        tally_thresholds_write(t, c->output, &c->write))
        cli_report(c);
    tally_thresholds_free(t);
    tally_result_free(r);
}

int cmd_poverty(int argc, char **argv)
{
    enum { OPT_YEAR = CLI_OPT_OWN, OPT_LINE, OPT_MONITORING };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_HOUSEHOLDS_OPTION,
        { "year", required_argument, NULL, OPT_YEAR },
        { "line", required_argument, NULL, OPT_LINE },
        { "monitoring-line", required_argument, NULL, OPT_MONITORING },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "poverty", usage);
    c.need_records = 0; /* -r or --households: checked below */
    tally_poverty_options popts = TALLY_POVERTY_OPTIONS_INIT;
    const char *year_arg = NULL;
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
        switch (opt) {
        case OPT_YEAR: {
            char *end;
            long y = strtol(optarg, &end, 10);
            if (end == optarg || *end || y < 1000 || y > 9999) {
                cli_usage_error(&c, "--year '%s': expected a year like 2019", optarg);
                break;
            }
            popts.year = (int)y;
            year_arg = optarg;
            break;
        }
        case OPT_LINE: parse_positive(&c, "--line", optarg, &popts.line); break;
        case OPT_MONITORING:
            parse_positive(&c, "--monitoring-line", optarg, &popts.monitoring_line);
            break;
        }
    }
    if (opt < 0)
        return cli_done(&c);
    if (!c.nrecords == !c.nhouseholds)
        cli_usage_error(&c, c.nrecords ? "give either -r records.csv or --households "
                                         "households.csv, not both"
                                       : "missing -r records.csv (exit thresholds) or "
                                         "--households households.csv (poverty measures)");
    else if (c.nhouseholds && c.periods)
        cli_usage_error(&c, "--period is for records; with --households give --year");
    else if (c.nrecords && (popts.line != 0 || popts.monitoring_line != 0))
        cli_usage_error(&c, "--line and --monitoring-line are for --households");
    else if (c.nrecords && year_arg) {
        if (c.periods)
            cli_usage_error(&c, "give --year or --period, not both");
        c.periods = year_arg;
    }
    if (cli_load(&c))
        return cli_done(&c);

    if (c.nhouseholds)
        run_households(&c, &popts);
    else
        run_records(&c);
    return cli_done(&c);
}
