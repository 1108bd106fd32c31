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
#include <stdlib.h>
#include <string.h>

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
        { "targets", required_argument, NULL, 't' },
        { "prefer", required_argument, NULL, 2001 },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "check");
    tally_check_options copts = TALLY_CHECK_OPTIONS_INIT;
    const char **targets = NULL;
    size_t ntargets = 0;
    tally_targets *t = NULL;
    tally_findings *f = NULL;
    int status = EXIT_OK, opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "t:", options, NULL)) != -1) {
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
        case 't': {
            const char **more = realloc(targets, (ntargets + 1) * sizeof *more);
            if (!more) {
                fputs("tally check: out of memory\n", stderr);
                status = EXIT_BAD;
                goto out;
            }
            targets = more;
            targets[ntargets++] = optarg;
            break;
        }
        case 2001:
            if (cli_prefer(&c, optarg, &copts.prefer)) {
                status = EXIT_BAD;
                goto out;
            }
            break;
        default:
            fputs("Try 'tally check --help'.\n", stderr);
            status = EXIT_BAD;
            goto out;
        }
    }
    if (optind < argc) {
        cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
        status = EXIT_BAD;
        goto out;
    }

    status = cli_load(&c, 1);
    if (!status)
        status = cli_resolve_levels(&c);
    if (!status)
        status = cli_resolve_periods(&c);
    if (status)
        goto out;

    /* Targets are read like records: bad rows stop the run or are
     * collected, as --on-error says. */
    if (ntargets) {
        if (tally_targets_new(&t, c.h, c.d)) {
            cli_report(&c);
            status = EXIT_BAD;
            goto out;
        }
        tally_read_options ropts = cli_read_options(&c);
        for (size_t i = 0; i < ntargets; i++) {
            size_t before = tally_rejects_count(c.rejects);
            tally_read_stats st = { 0, 0, 0 };
            if (tally_targets_read_file(t, targets[i], &ropts, c.rejects, &st)) {
                cli_report(&c);
                if (c.on_error == TALLY_ON_ERROR_STOP)
                    fprintf(stderr, "tally check: %s: %zu rows read = %zu accepted + %zu "
                                    "rejected (stopped at the first bad row; --on-error collect "
                                    "reads on)\n",
                            targets[i], st.rows_read, st.rows_accepted, st.rows_rejected);
                status = EXIT_BAD;
                goto out;
            }
            fprintf(stderr, "tally check: %s: %zu rows read = %zu accepted + %zu rejected\n",
                    targets[i], st.rows_read, st.rows_accepted, st.rows_rejected);
            for (size_t k = before; k < tally_rejects_count(c.rejects); k++)
                fprintf(stderr, "tally check: rejected %s:%lu:%lu: %s\n",
                        tally_rejects_path(c.rejects, k), tally_rejects_line(c.rejects, k),
                        tally_rejects_column(c.rejects, k), tally_rejects_reason(c.rejects, k));
        }
        copts.targets = t;
    }

    copts.periods = (const char *const *)c.period_list;
    copts.period_count = c.period_count;
    if (tally_check_run(&f, c.ds, &copts)) {
        cli_report(&c);
        status = EXIT_BAD;
        goto out;
    }
    tally_write_options wopts = TALLY_WRITE_OPTIONS_INIT;
    wopts.format = c.format && !strcmp(c.format, "json") ? TALLY_FORMAT_JSON : TALLY_FORMAT_CSV;
    wopts.levels = c.level_list;
    wopts.level_count = c.level_count;
    if (tally_findings_write(f, c.output, &wopts)) {
        cli_report(&c);
        status = EXIT_BAD;
        goto out;
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
    status = errors ? EXIT_FINDINGS : EXIT_OK;
out:
    tally_findings_free(f);
    tally_targets_free(t);
    free(targets);
    cli_free(&c);
    return status;
}
