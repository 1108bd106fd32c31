/* tally: the bundled aggregators, one subcommand per job.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char usage[] = N_(
    "Usage: tally COMMAND [OPTIONS]\n"
    "\n"
    "Statistical indicators over administrative hierarchies.\n"
    "\n"
    "Commands:\n"
    "  rollup     totals at every level of the hierarchy\n"
    "  progress   completion of annual targets against the share of the year passed\n"
    "  poverty    incidence and exit thresholds; FGT, Watts, Gini from households\n"
    "  check      every number that does not add up, and why\n"
    "  snapshot   save records as a binary snapshot that -r loads fast\n"
    "  crosswalk  which old region became which new one, between two hierarchies\n"
    "\n"
    "Run 'tally COMMAND --help' for a command's options.\n"
    "Exit status: 0 success, 1 check findings of severity error, 2 bad usage or input.\n");

/* The reader of our output has gone (`tally rollup ... | head -1`): what
 * it wanted it has, so the run ends quietly and well. Outputs to regular
 * files never raise SIGPIPE, so no temporary file is left behind. */
static void on_sigpipe(int sig)
{
    (void)sig;
    _exit(EXIT_OK);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    cli_i18n_init();
    if (argc < 2) {
        fputs(_(usage), stderr);
        return EXIT_BAD;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(_(usage), stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("tally %s\n", tally_version());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "rollup"))
        return cmd_rollup(argc - 1, argv + 1);
    if (!strcmp(cmd, "progress"))
        return cmd_progress(argc - 1, argv + 1);
    if (!strcmp(cmd, "poverty"))
        return cmd_poverty(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "snapshot"))
        return cmd_snapshot(argc - 1, argv + 1);
    if (!strcmp(cmd, "crosswalk"))
        return cmd_crosswalk(argc - 1, argv + 1);
    fprintf(stderr, _("tally: unknown command '%s'\n%s"), cmd, _(usage));
    return EXIT_BAD;
}
