/* tally snapshot: reads records once and saves them as a binary snapshot,
 * which every subcommand then takes as -r in place of the CSV files and
 * loads many times faster than parsing them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "common.h"

static const char usage[] =
    "Usage: tally snapshot -H hierarchy.csv -d definitions.yaml -r records.csv [-r more.csv ...]\n"
    "                      -o FILE [--on-error stop|collect] [--rejects FILE]\n"
    "\n"
    "Reads the records and writes their values to FILE as a binary snapshot.\n"
    "Give FILE as -r to any other command (with the same -H and -d) to skip\n"
    "parsing the CSV. A snapshot is tied to its hierarchy and definitions: it\n"
    "is refused over any other. -r may name snapshots too; their values are\n"
    "merged with the rest (a value given twice is an error, as in CSV).\n"
    "\n"
    "  -H, --hierarchy FILE   regions: code,name,level,parent_code\n"
    "  -d, --definitions FILE indicators (YAML)\n"
    "  -r, --records FILE     records CSV or snapshot (repeatable)\n"
    "  -o, --output FILE      the snapshot to write (required)\n"
    "      --on-error MODE    stop (default): exit 2 at the first bad row;\n"
    "                         collect: read on, report every bad row, and\n"
    "                         save the rows that were accepted\n"
    "      --rejects FILE     with collect: write rejected rows as CSV\n"
    "      --encoding ENC     utf-8 (default), gb18030 or any iconv name\n"
    "      --threads N        threads reading records (default 0: one per core, at most 8)\n"
    "  -h, --help             this text\n"
    "  -V, --version          the library version\n"
    "\n"
    "Exit status: 0 success, 2 bad usage or bad input.\n";

int cmd_snapshot(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "snapshot", usage);
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0)
        if (opt == 'l' || opt == 'p' || opt == 'f')
            /* A snapshot holds every value: there is nothing to select. */
            cli_usage_error(&c, "-%c does not apply to snapshot (it saves every value)", opt);
    if (opt < 0)
        return cli_done(&c);
    if (!c.output)
        cli_usage_error(&c, "missing -o FILE (the snapshot to write)");
    if (cli_load(&c))
        return cli_done(&c);

    if (tally_snapshot_save(c.ds, c.output))
        cli_report(&c);
    else
        fprintf(stderr, "tally snapshot: %zu values saved to %s\n",
                tally_dataset_value_count(c.ds), c.output);
    return cli_done(&c);
}
