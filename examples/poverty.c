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
#include <string.h>

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

/* A positive number from the command line, or -1 with a message. */
static int parse_positive(const cli *c, const char *option, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isfinite(v) || !(v > 0)) {
        cli_usage_error(c, "%s '%s': expected a positive number", option, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reports rejected household rows as cli_load does for records. */
static int report_rejects(const cli *c)
{
    size_t n = tally_rejects_count(c->rejects);
    if (c->on_error != TALLY_ON_ERROR_COLLECT || !n)
        return 0;
    if (c->rejects_path) {
        if (tally_rejects_write_csv(c->rejects, c->rejects_path)) {
            cli_report(c);
            return EXIT_BAD;
        }
        fprintf(stderr, "tally %s: %zu rejected rows written to %s\n", c->command, n,
                c->rejects_path);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "tally %s: rejected %s:%lu:%lu: %s\n", c->command,
                tally_rejects_path(c->rejects, i), tally_rejects_line(c->rejects, i),
                tally_rejects_column(c->rejects, i), tally_rejects_reason(c->rejects, i));
    return 0;
}

static int run_households(cli *c, const char **files, size_t nfiles,
                          const tally_poverty_options *popts, const tally_write_options *wopts)
{
    tally_households *hh = NULL;
    tally_poverty *p = NULL;
    int status = EXIT_OK;
    if (tally_households_new(&hh, c->h)) {
        cli_report(c);
        return EXIT_BAD;
    }
    tally_read_options ropts = cli_read_options(c);
    tally_read_stats total = { 0, 0, 0 };
    int failed = 0;
    for (size_t i = 0; i < nfiles && !failed; i++) {
        tally_read_stats st;
        if (tally_households_read_file(hh, files[i], &ropts, c->rejects, &st)) {
            cli_report(c);
            failed = 1;
        }
        total.rows_read += st.rows_read;
        total.rows_accepted += st.rows_accepted;
        total.rows_rejected += st.rows_rejected;
        if (nfiles > 1)
            fprintf(stderr, "tally %s: %s: %zu rows read = %zu accepted + %zu rejected\n",
                    c->command, files[i], st.rows_read, st.rows_accepted, st.rows_rejected);
    }
    fprintf(stderr, "tally %s: households: %zu rows read = %zu accepted + %zu rejected%s\n",
            c->command, total.rows_read, total.rows_accepted, total.rows_rejected,
            failed ? " (stopped at the first bad row; --on-error collect reads on)" : "");
    if (report_rejects(c) || failed) {
        status = EXIT_BAD;
        goto out;
    }
    if (tally_poverty_households(&p, hh, c->d, popts)) {
        cli_report(c);
        status = EXIT_BAD;
        goto out;
    }
    char line[64];
    tally_format_number(line, sizeof line, tally_poverty_line(p), 2);
    if (tally_poverty_year(p))
        fprintf(stderr, "tally %s: %d, poverty line %s: %zu households measured",
                c->command, tally_poverty_year(p), line, tally_poverty_households_used(p));
    else
        fprintf(stderr, "tally %s: poverty line %s: %zu households measured", c->command, line,
                tally_poverty_households_used(p));
    if (tally_poverty_households_skipped(p))
        fprintf(stderr, ", %zu of other years skipped", tally_poverty_households_skipped(p));
    fputc('\n', stderr);
    if (tally_poverty_write(p, c->output, wopts)) {
        cli_report(c);
        status = EXIT_BAD;
    }
out:
    tally_poverty_free(p);
    tally_households_free(hh);
    return status;
}

static int run_records(cli *c, const tally_write_options *wopts)
{
    tally_rollup_options ropts = TALLY_ROLLUP_OPTIONS_INIT;
    ropts.periods = (const char *const *)c->period_list;
    ropts.period_count = c->period_count;
    tally_result *r = NULL;
    tally_thresholds *t = NULL;
    int status = EXIT_OK;
    if (tally_rollup(&r, c->ds, &ropts) || tally_poverty_thresholds(&t, r, NULL) ||
        tally_thresholds_write(t, c->output, wopts)) {
        cli_report(c);
        status = EXIT_BAD;
    }
    tally_thresholds_free(t);
    tally_result_free(r);
    return status;
}

int cmd_poverty(int argc, char **argv)
{
    enum { OPT_HOUSEHOLDS = 3001, OPT_YEAR, OPT_LINE, OPT_MONITORING };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        { "households", required_argument, NULL, OPT_HOUSEHOLDS },
        { "year", required_argument, NULL, OPT_YEAR },
        { "line", required_argument, NULL, OPT_LINE },
        { "monitoring-line", required_argument, NULL, OPT_MONITORING },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "poverty");
    tally_poverty_options popts = TALLY_POVERTY_OPTIONS_INIT;
    const char **households = NULL;
    size_t nhouseholds = 0;
    const char *year_arg = NULL;
    int status = EXIT_OK, opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, options, NULL)) != -1) {
        int handled = cli_option(&c, opt, optarg);
        if (handled < 0) {
            status = EXIT_BAD;
            goto out;
        }
        if (handled)
            continue;
        switch (opt) {
        case 'h': fputs(usage, stdout); goto out;
        case 'V': printf("tally %s\n", tally_version()); goto out;
        case OPT_HOUSEHOLDS: {
            const char **n = realloc(households, (nhouseholds + 1) * sizeof *n);
            if (!n) {
                fputs("tally poverty: out of memory\n", stderr);
                status = EXIT_BAD;
                goto out;
            }
            households = n;
            households[nhouseholds++] = optarg;
            break;
        }
        case OPT_YEAR: {
            char *end;
            long y = strtol(optarg, &end, 10);
            if (end == optarg || *end || y < 1000 || y > 9999) {
                cli_usage_error(&c, "--year '%s': expected a year like 2019", optarg);
                status = EXIT_BAD;
                goto out;
            }
            popts.year = (int)y;
            year_arg = optarg;
            break;
        }
        case OPT_LINE:
            if (parse_positive(&c, "--line", optarg, &popts.line)) {
                status = EXIT_BAD;
                goto out;
            }
            break;
        case OPT_MONITORING:
            if (parse_positive(&c, "--monitoring-line", optarg, &popts.monitoring_line)) {
                status = EXIT_BAD;
                goto out;
            }
            break;
        default:
            fputs("Try 'tally poverty --help'.\n", stderr);
            status = EXIT_BAD;
            goto out;
        }
    }
    if (optind < argc) {
        cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
        status = EXIT_BAD;
        goto out;
    }
    if (!c.nrecords == !nhouseholds) {
        cli_usage_error(&c, c.nrecords ? "give either -r records.csv or --households "
                                         "households.csv, not both"
                                       : "missing -r records.csv (exit thresholds) or "
                                         "--households households.csv (poverty measures)");
        status = EXIT_BAD;
        goto out;
    }
    if (nhouseholds && c.periods) {
        cli_usage_error(&c, "--period is for records; with --households give --year");
        status = EXIT_BAD;
        goto out;
    }
    if (c.nrecords && (popts.line != 0 || popts.monitoring_line != 0)) {
        cli_usage_error(&c, "--line and --monitoring-line are for --households");
        status = EXIT_BAD;
        goto out;
    }
    if (c.nrecords && year_arg) {
        if (c.periods) {
            cli_usage_error(&c, "give --year or --period, not both");
            status = EXIT_BAD;
            goto out;
        }
        c.periods = year_arg;
    }

    status = cli_load(&c, c.nrecords != 0);
    if (!status)
        status = cli_resolve_levels(&c);
    if (!status)
        status = cli_resolve_periods(&c);
    if (status)
        goto out;

    tally_write_options wopts = TALLY_WRITE_OPTIONS_INIT;
    wopts.format = c.format && !strcmp(c.format, "json") ? TALLY_FORMAT_JSON : TALLY_FORMAT_CSV;
    wopts.levels = c.level_list;
    wopts.level_count = c.level_count;
    status = nhouseholds ? run_households(&c, households, nhouseholds, &popts, &wopts)
                         : run_records(&c, &wopts);
out:
    free(households);
    cli_free(&c);
    return status;
}
