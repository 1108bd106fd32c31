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

int cmd_check(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_TABLE_OPTIONS,
        CLI_TARGETS_OPTION,
        CLI_PREFER_OPTION,
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "check", cli_usage_check);
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

    /* The summary, like R validate's: what each check looked at. The
     * headings are one message, aligned by hand over the columns below
     * (%-20s, then %8zu five times) in each language. */
    fputs(_("tally check: check                   items   passes warnings    fails  missing\n"),
          stderr);
    for (size_t k = 0; k < tally_findings_check_count(f); k++) {
        tally_check_summary s;
        tally_findings_summary(f, k, &s);
        fprintf(stderr, "tally check: %-20s %8zu %8zu %8zu %8zu %8zu\n", s.check, s.items,
                s.passes, s.warnings, s.fails, s.missing);
    }
    size_t errors = tally_findings_error_count(f), total = tally_findings_count(f);
    fprintf(stderr, _("tally check: %zu findings: %zu errors, %zu warnings\n"), total, errors,
            total - errors);
    c.status = errors ? EXIT_FINDINGS : EXIT_OK;
    tally_findings_free(f);
    return cli_done(&c);
}
