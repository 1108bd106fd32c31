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

/* A positive number from the command line into *out, or a usage error. */
static void parse_positive(cli *c, const char *option, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isfinite(v) || !(v > 0))
        cli_usage_error(c, _("%s '%s': expected a positive number"), option, arg);
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
        fprintf(stderr, _("tally %s: %d, poverty line %s: %zu households measured"),
                c->command, tally_poverty_year(p), line, tally_poverty_households_used(p));
    else
        fprintf(stderr, _("tally %s: poverty line %s: %zu households measured"), c->command, line,
                tally_poverty_households_used(p));
    if (tally_poverty_households_skipped(p))
        fprintf(stderr, _(", %zu of other years skipped"), tally_poverty_households_skipped(p));
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
        CLI_TABLE_OPTIONS,
        CLI_HOUSEHOLDS_OPTION,
        { "year", required_argument, NULL, OPT_YEAR },
        { "line", required_argument, NULL, OPT_LINE },
        { "monitoring-line", required_argument, NULL, OPT_MONITORING },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "poverty", cli_usage_poverty);
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
                cli_usage_error(&c, _("--year '%s': expected a year like 2019"), optarg);
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
        cli_usage_error(&c, _("--period is for records; with --households give --year"));
    else if (c.nrecords && (popts.line != 0 || popts.monitoring_line != 0))
        cli_usage_error(&c, _("--line and --monitoring-line are for --households"));
    else if (c.nrecords && year_arg) {
        if (c.periods)
            cli_usage_error(&c, _("give --year or --period, not both"));
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
