/* What the tally subcommands share: the options they have in common, one
 * path that reads every input (records, targets, households) into one list
 * of rejected rows and reports it, and the error messages. A subcommand
 * file holds only what is its own.
 *
 * A subcommand reads:
 *
 *     cli c;
 *     cli_init(&c, "rollup", usage);
 *     while ((opt = cli_getopt(&c, argc, argv, options)) > 0)
 *         ... its own options ...
 *     if (opt < 0 || cli_load(&c))
 *         return cli_done(&c);
 *     ... the library call on c.ds (c.t, c.hh), written with c.write ...
 *     return cli_done(&c);
 *
 * The exit status is kept in c.status: every error function below sets it
 * to EXIT_BAD, so a subcommand only decides what to do next. */
#ifndef TALLY_EXAMPLES_COMMON_H
#define TALLY_EXAMPLES_COMMON_H

#include <getopt.h>
#include <libintl.h>
#include <stddef.h>

#include <tally.h>

/* A message in the user's language (po/; i18n.c). */
#define _(msgid) dgettext("tally", msgid)
/* Marks a message kept in a variable (the --help texts); printed as _(it). */
#define N_(msgid) msgid

/* Takes the messages' language from the environment (LC_MESSAGES only)
 * and binds the catalogue: $TALLY_LOCALEDIR, else the install's. */
void cli_i18n_init(void);

/* Exit statuses (DESIGN.md): 0 success, 1 findings of severity error,
 * 2 bad usage or bad input. */
enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_BAD = 2 };

/* Codes of the shared long options that have no short form. A subcommand
 * numbers its own from CLI_OPT_OWN. */
enum {
    CLI_OPT_ON_ERROR = 1001,
    CLI_OPT_REJECTS,
    CLI_OPT_ENCODING,
    CLI_OPT_THREADS,
    CLI_OPT_PREFER,
    CLI_OPT_HOUSEHOLDS,
    CLI_OPT_CROSSWALK,
    CLI_OPT_MAX_INPUT,
    CLI_OPT_MAX_MEMORY,
    CLI_OPT_BOM,
    CLI_OPT_NAMES,
    CLI_OPT_LAYOUT,
    CLI_OPT_UNDER,
    CLI_OPT_ALL_REGIONS,
    CLI_OPT_INDICATOR,
    CLI_OPT_HIERARCHY_ENCODING,
    CLI_OPT_HIERARCHY_CACHE,
    CLI_OPT_OWN = 2001
};

typedef struct cli {
    /* What the command line says (cli_getopt). */
    const char *command; /* "rollup" */
    const char *usage;   /* the --help text */
    const char *hierarchy_path;
    const char *definitions_path;
    const char **records;    /* -r, in order */
    size_t nrecords;
    const char **targets;    /* -t */
    size_t ntargets;
    const char **households; /* --households */
    size_t nhouseholds;
    int need_records; /* cli_load refuses a run without -r (1 from cli_init) */
    const char *levels;
    const char *periods;
    const char *output;
    const char *rejects_path;
    const char *encoding;
    const char *hierarchy_encoding;
    int hierarchy_cache;  /* --hierarchy-cache: make -H's cache (docs/hierarchy-cache.md) */
    int on_error;         /* tally_on_error */
    unsigned int threads; /* reading records; 0: one per core */
    size_t max_input_bytes, max_memory; /* --max-input-bytes, --max-memory; 0: defaults */
    int prefer;           /* tally_prefer */
    const char *schedule_path; /* progress's own input and output, set by it so */
    const char *svg_path;      /* that cli_load checks them with the others */
    const char *crosswalk_path; /* --crosswalk: records under old codes carried */

    /* What cli_load makes of it; cli_done frees it all. */
    tally_definitions *d;
    tally_hierarchy *h;
    tally_dataset *ds;       /* the records (made even when there are none) */
    tally_targets *t;        /* the -t files; NULL without -t */
    tally_households *hh;    /* the --households files; NULL without */
    tally_rejects *rejects;  /* every rejected row of every input */
    tally_crosswalk *cw;     /* --crosswalk, set on ds; NULL without */
    char **period_list;      /* --period, split */
    size_t period_count;
    int *level_list;         /* --level, as level indices */
    size_t level_count;
    char **indicator_list;   /* --indicator, split */
    size_t indicator_count;
    tally_write_options write; /* --format, --level and the other output
                                * options, for the _write call */

    int status; /* the exit status so far */
    char shortopts[64];
} cli;

/* The options every data subcommand takes; start a subcommand's table with
 * them. The others are added by the subcommands that take them. */
#define CLI_COMMON_OPTIONS                                            \
    { "hierarchy", required_argument, NULL, 'H' },                    \
    { "definitions", required_argument, NULL, 'd' },                  \
    { "records", required_argument, NULL, 'r' },                      \
    { "level", required_argument, NULL, 'l' },                        \
    { "period", required_argument, NULL, 'p' },                       \
    { "format", required_argument, NULL, 'f' },                       \
    { "output", required_argument, NULL, 'o' },                       \
    { "on-error", required_argument, NULL, CLI_OPT_ON_ERROR },        \
    { "rejects", required_argument, NULL, CLI_OPT_REJECTS },          \
    { "encoding", required_argument, NULL, CLI_OPT_ENCODING },        \
    { "hierarchy-encoding", required_argument, NULL, CLI_OPT_HIERARCHY_ENCODING }, \
    { "hierarchy-cache", no_argument, NULL, CLI_OPT_HIERARCHY_CACHE }, \
    { "threads", required_argument, NULL, CLI_OPT_THREADS },          \
    { "crosswalk", required_argument, NULL, CLI_OPT_CROSSWALK },      \
    { "max-input-bytes", required_argument, NULL, CLI_OPT_MAX_INPUT }, \
    { "max-memory", required_argument, NULL, CLI_OPT_MAX_MEMORY },    \
    { "help", no_argument, NULL, 'h' },                               \
    { "version", no_argument, NULL, 'V' }
#define CLI_TARGETS_OPTION { "targets", required_argument, NULL, 't' }
#define CLI_HOUSEHOLDS_OPTION { "households", required_argument, NULL, CLI_OPT_HOUSEHOLDS }
#define CLI_PREFER_OPTION { "prefer", required_argument, NULL, CLI_OPT_PREFER }
/* What the subcommands that write a table take (docs/excel.md). */
#define CLI_TABLE_OPTIONS                                             \
    { "bom", no_argument, NULL, CLI_OPT_BOM },                        \
    { "names", no_argument, NULL, CLI_OPT_NAMES },                    \
    { "layout", required_argument, NULL, CLI_OPT_LAYOUT },            \
    { "under", required_argument, NULL, CLI_OPT_UNDER },              \
    { "all-regions", no_argument, NULL, CLI_OPT_ALL_REGIONS },        \
    { "indicator", required_argument, NULL, CLI_OPT_INDICATOR }

void cli_init(cli *c, const char *command, const char *usage);

/* getopt_long over `options` (its short options are those of the table).
 * Applies every shared option itself, then returns each option's code,
 * shared or not, for the subcommand to act on its own (optarg holds the
 * argument). Returns 0 when the command line has been read and is good,
 * -1 when the command is to end with c->status: --help or --version (both
 * printed, status 0), or bad usage (message printed, status 2), also when
 * the subcommand has set a bad status meanwhile. */
int cli_getopt(cli *c, int argc, char **argv, const struct option *options);

/* Loads definitions and hierarchy, resolves --level, --period, --under and
 * --indicator (each name checked against them), then
 * reads every -r, -t and --households file, each kind in turn, every
 * rejected row into c->rejects. Prints on standard error the rows read =
 * accepted + rejected of every kind (and of every file when a kind has
 * several), then the rejected rows (with --on-error collect): each one, or
 * their count when --rejects FILE got them. Needs -H and -d, and -r when
 * c->need_records. Refuses, before reading anything, an output (-o,
 * --rejects, --svg) that is the same file as an input or as another
 * output. Returns c->status: 0, or EXIT_BAD after printing why. */
int cli_load(cli *c);

/* Frees everything the command loaded; returns c->status. */
int cli_done(cli *c);

/* Prints "tally <command>: <message>" for the last library error; the
 * status becomes EXIT_BAD. */
void cli_report(cli *c);
/* Prints "tally <command>: <fmt>" and a hint to --help; the status becomes
 * EXIT_BAD. */
void cli_usage_error(cli *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

int cmd_rollup(int argc, char **argv);
int cmd_progress(int argc, char **argv);
int cmd_poverty(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_crosswalk(int argc, char **argv);

/* The --help texts (usage.c). */
extern const char cli_usage_rollup[], cli_usage_progress[], cli_usage_poverty[],
    cli_usage_check[], cli_usage_snapshot[], cli_usage_crosswalk[];

#endif
