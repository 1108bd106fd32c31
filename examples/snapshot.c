/* tally snapshot: reads records once and saves them as a binary snapshot,
 * which every subcommand then takes as -r in place of the CSV files and
 * loads many times faster than parsing them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "common.h"

int cmd_snapshot(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "snapshot", cli_usage_snapshot);
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0)
        if (opt == 'l' || opt == 'p' || opt == 'f')
            /* A snapshot holds every value: there is nothing to select. */
            cli_usage_error(&c, _("-%c does not apply to snapshot (it saves every value)"), opt);
    if (opt < 0)
        return cli_done(&c);
    if (!c.output)
        cli_usage_error(&c, _("missing -o FILE (the snapshot to write)"));
    if (cli_load(&c))
        return cli_done(&c);

    if (tally_snapshot_save(c.ds, c.output))
        cli_report(&c);
    else
        fprintf(stderr, _("tally snapshot: %zu values saved to %s\n"),
                tally_dataset_value_count(c.ds), c.output);
    return cli_done(&c);
}
