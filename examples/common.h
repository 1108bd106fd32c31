/* What the tally subcommands share: common options, loading the inputs,
 * and reporting errors. */
#ifndef TALLY_EXAMPLES_COMMON_H
#define TALLY_EXAMPLES_COMMON_H

#include <getopt.h>
#include <stddef.h>

#include <tally.h>

/* Exit statuses (DESIGN.md): 0 success, 1 findings of severity error,
 * 2 bad usage or bad input. */
enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_BAD = 2 };

typedef struct cli {
    const char *command; /* "rollup" */
    const char *hierarchy_path;
    const char *definitions_path;
    const char **records;
    size_t nrecords;
    const char *levels;
    const char *periods;
    const char *format;
    const char *output;
    const char *rejects_path;
    const char *encoding;
    int on_error;         /* tally_on_error */
    unsigned int threads; /* reading records; 0: one per core */

    tally_definitions *d;
    tally_hierarchy *h;
    tally_dataset *ds;
    tally_rejects *rejects;
    char **period_list;
    size_t period_count;
    int *level_list;
    size_t level_count;
} cli;

/* Options every data subcommand takes; append to a subcommand's table. */
#define CLI_COMMON_OPTIONS                                            \
    { "hierarchy", required_argument, NULL, 'H' },                    \
    { "definitions", required_argument, NULL, 'd' },                  \
    { "records", required_argument, NULL, 'r' },                      \
    { "level", required_argument, NULL, 'l' },                        \
    { "period", required_argument, NULL, 'p' },                       \
    { "format", required_argument, NULL, 'f' },                       \
    { "output", required_argument, NULL, 'o' },                       \
    { "on-error", required_argument, NULL, 1001 },                    \
    { "rejects", required_argument, NULL, 1002 },                     \
    { "encoding", required_argument, NULL, 1003 },                    \
    { "threads", required_argument, NULL, 1004 },                     \
    { "help", no_argument, NULL, 'h' },                               \
    { "version", no_argument, NULL, 'V' }
#define CLI_COMMON_SHORT "H:d:r:l:p:f:o:hV"

void cli_init(cli *c, const char *command);
void cli_free(cli *c);

/* Handles one common option. Returns 1 when handled, 0 when not a common
 * option, -1 on a bad value (message printed). */
int cli_option(cli *c, int opt, const char *arg);

/* Loads definitions, hierarchy and every records file; prints the
 * summary of rows read/accepted/rejected on stderr. Returns 0 or EXIT_BAD
 * (after printing the error). Needs -H and -d; records optional when
 * `need_records` is 0. */
int cli_load(cli *c, int need_records);

/* Parses --prefer computed|reported into *prefer (tally_prefer); prints
 * the usage error and returns -1 on any other word. */
int cli_prefer(const cli *c, const char *arg, int *prefer);

/* Read options for every CSV input: --on-error and --encoding. */
tally_read_options cli_read_options(const cli *c);

/* Resolves --level and --period into level indices and period strings. */
int cli_resolve_levels(cli *c);
int cli_resolve_periods(cli *c);

/* Prints "tally <command>: <message>" for the last library error. */
void cli_report(const cli *c);
/* Prints "tally <command>: <fmt>" and a hint to --help. */
void cli_usage_error(const cli *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

int cmd_rollup(int argc, char **argv);
int cmd_progress(int argc, char **argv);
int cmd_poverty(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

#endif
