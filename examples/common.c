/* Shared parts of the tally subcommands: the shared options, the one path
 * that reads every input and reports its rows and rejects, and the error
 * messages.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_init(cli *c, const char *command, const char *usage)
{
    static const tally_write_options write_init = TALLY_WRITE_OPTIONS_INIT;
    memset(c, 0, sizeof *c);
    c->command = command;
    c->usage = usage;
    c->need_records = 1;
    c->on_error = TALLY_ON_ERROR_STOP;
    c->prefer = TALLY_PREFER_COMPUTED;
    c->write = write_init;
}

int cli_done(cli *c)
{
    tally_households_free(c->hh);
    tally_targets_free(c->t);
    tally_dataset_free(c->ds);
    tally_crosswalk_free(c->cw);
    tally_hierarchy_free(c->h);
    tally_definitions_free(c->d);
    tally_rejects_free(c->rejects);
    for (size_t i = 0; i < c->period_count; i++)
        free(c->period_list[i]);
    free(c->period_list);
    free(c->level_list);
    for (size_t i = 0; i < c->indicator_count; i++)
        free(c->indicator_list[i]);
    free(c->indicator_list);
    free(c->records);
    free(c->targets);
    free(c->households);
    return c->status;
}

void cli_report(cli *c)
{
    const tally_error *e = tally_error_last();
    fprintf(stderr, "tally %s: %s\n", c->command, e->message && *e->message ? e->message : tally_strerror(e->code));
    c->status = EXIT_BAD;
}

void cli_usage_error(cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tally %s: ", c->command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, _("\nTry 'tally %s --help'.\n"), c->command);
    c->status = EXIT_BAD;
}

/* ---- options ---------------------------------------------------------- */

/* Appends a file to one of the repeatable options' lists. */
static void append(cli *c, const char ***list, size_t *n, const char *arg)
{
    const char **more = realloc(*list, (*n + 1) * sizeof *more);
    if (!more) {
        fprintf(stderr, _("tally %s: out of memory\n"), c->command);
        c->status = EXIT_BAD;
        return;
    }
    *list = more;
    (*list)[(*n)++] = arg;
}

static char **split(const char *s, size_t *count);

/* "-" is standard input, for one of the inputs. */
static const char *input_path(cli *c, const char *arg)
{
    static int taken;
    if (strcmp(arg, "-"))
        return arg;
    if (taken++)
        cli_usage_error(c, _("'-' (standard input) is given twice; at most one input may be '-'"));
    return "/dev/stdin";
}

/* Applies one shared option; any other code is left to the subcommand. */
static void shared_option(cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'H': c->hierarchy_path = arg; break;
    case 'd': c->definitions_path = arg; break;
    case 'r': append(c, &c->records, &c->nrecords, input_path(c, arg)); break;
    case 't': append(c, &c->targets, &c->ntargets, input_path(c, arg)); break;
    case CLI_OPT_HOUSEHOLDS:
        append(c, &c->households, &c->nhouseholds, input_path(c, arg));
        break;
    case 'l': c->levels = arg; break;
    case 'p': c->periods = arg; break;
    case 'f':
        if (!strcmp(arg, "csv"))
            c->write.format = TALLY_FORMAT_CSV;
        else if (!strcmp(arg, "json"))
            c->write.format = TALLY_FORMAT_JSON;
        else if (!strcmp(arg, "xlsx"))
            c->write.format = TALLY_FORMAT_XLSX;
        else
            cli_usage_error(c, _("--format '%s': expected csv, json or xlsx"), arg);
        break;
    case 'o': c->output = strcmp(arg, "-") ? arg : NULL; break;
    case CLI_OPT_BOM: c->write.bom = 1; break;
    case CLI_OPT_NAMES: c->write.names = 1; break;
    case CLI_OPT_LAYOUT:
        if (!strcmp(arg, "long"))
            c->write.layout = TALLY_LAYOUT_LONG;
        else if (!strcmp(arg, "wide"))
            c->write.layout = TALLY_LAYOUT_WIDE;
        else
            cli_usage_error(c, _("--layout '%s': expected long or wide"), arg);
        break;
    case CLI_OPT_UNDER: c->write.under = arg; break;
    case CLI_OPT_ALL_REGIONS: c->write.all_regions = 1; break;
    case CLI_OPT_INDICATOR:
        for (size_t i = 0; i < c->indicator_count; i++)
            free(c->indicator_list[i]);
        free(c->indicator_list);
        c->indicator_list = split(arg, &c->indicator_count);
        if (!c->indicator_list || !c->indicator_count)
            cli_usage_error(c, _("--indicator '%s': expected indicator ids, comma-separated"), arg);
        c->write.indicators = (const char *const *)c->indicator_list;
        c->write.indicator_count = c->indicator_count;
        break;
    case CLI_OPT_ON_ERROR:
        if (!strcmp(arg, "stop"))
            c->on_error = TALLY_ON_ERROR_STOP;
        else if (!strcmp(arg, "collect"))
            c->on_error = TALLY_ON_ERROR_COLLECT;
        else
            cli_usage_error(c, _("--on-error '%s': expected stop or collect"), arg);
        break;
    case CLI_OPT_REJECTS: c->rejects_path = arg; break;
    case CLI_OPT_CROSSWALK: c->crosswalk_path = arg; break;
    case CLI_OPT_ENCODING: c->encoding = arg; break; /* checked when a file is read */
    case CLI_OPT_HIERARCHY_ENCODING: c->hierarchy_encoding = arg; break;
    case CLI_OPT_HIERARCHY_CACHE: c->hierarchy_cache = 1; break;
    case CLI_OPT_THREADS: {
        char *end;
        errno = 0;
        unsigned long n = strtoul(arg, &end, 10);
        if (!*arg || *end || errno || arg[0] == '-' || n > 64)
            cli_usage_error(c, _("--threads '%s': expected a number from 0 (one per core) to 64"),
                            arg);
        else
            c->threads = (unsigned int)n;
        break;
    }
    case CLI_OPT_MAX_INPUT:
    case CLI_OPT_MAX_MEMORY: {
        /* Bytes, or with a suffix K, M, G (powers of 1024). */
        char *end;
        errno = 0;
        unsigned long long n = strtoull(arg, &end, 10), unit = 1;
        if (*end == 'K' || *end == 'M' || *end == 'G') {
            unit = 1ULL << (*end == 'K' ? 10 : *end == 'M' ? 20 : 30);
            end++;
        }
        if (!*arg || arg[0] == '-' || *end || errno || n == 0 || n > SIZE_MAX / unit)
            cli_usage_error(c, _("--%s '%s': expected a size in bytes, e.g. 4096, 64M or 2G"),
                            opt == CLI_OPT_MAX_INPUT ? "max-input-bytes" : "max-memory", arg);
        else if (opt == CLI_OPT_MAX_INPUT)
            c->max_input_bytes = (size_t)(n * unit);
        else
            c->max_memory = (size_t)(n * unit);
        break;
    }
    case CLI_OPT_PREFER:
        if (!strcmp(arg, "computed"))
            c->prefer = TALLY_PREFER_COMPUTED;
        else if (!strcmp(arg, "reported"))
            c->prefer = TALLY_PREFER_REPORTED;
        else
            cli_usage_error(c, _("--prefer '%s': expected computed or reported"), arg);
        break;
    default: break;
    }
}

/* getopt's short options, from the table: "H:d:r:...hV". */
static void short_options(cli *c, const struct option *options)
{
    size_t n = 0;
    for (const struct option *o = options; o->name; o++) {
        if (o->flag || o->val <= 0 || o->val > 127 || n + 3 > sizeof c->shortopts)
            continue;
        c->shortopts[n++] = (char)o->val;
        if (o->has_arg == required_argument)
            c->shortopts[n++] = ':';
    }
    c->shortopts[n] = '\0';
}

int cli_getopt(cli *c, int argc, char **argv, const struct option *options)
{
    if (c->status)
        return -1;
    if (!c->shortopts[0])
        short_options(c, options);
    int opt = getopt_long(argc, argv, c->shortopts, options, NULL);
    switch (opt) {
    case -1:
        if (optind < argc)
            cli_usage_error(c, _("unexpected argument '%s'"), argv[optind]);
        else if (c->write.format == TALLY_FORMAT_XLSX && !c->output && isatty(STDOUT_FILENO))
            cli_usage_error(c, _("--format xlsx writes a workbook, not text; give -o FILE.xlsx"));
        return c->status ? -1 : 0;
    case 'h': fputs(_(c->usage), stdout); return -1;
    case 'V': printf("tally %s\n", tally_version()); return -1;
    case '?':
    case ':':
        /* getopt_long has said what is wrong. */
        fprintf(stderr, _("Try 'tally %s --help'.\n"), c->command);
        c->status = EXIT_BAD;
        return -1;
    default:
        shared_option(c, opt, optarg);
        return c->status ? -1 : opt;
    }
}

/* ---- loading ---------------------------------------------------------- */

/* Splits a comma-separated list into fresh strings. */
static char **split(const char *s, size_t *count)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    char **out = calloc(n, sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == ',' || *p == '\0') {
            if (p > start) {
                out[k] = malloc((size_t)(p - start) + 1);
                if (!out[k])
                    break;
                memcpy(out[k], start, (size_t)(p - start));
                out[k][p - start] = '\0';
                k++;
            }
            if (!*p)
                break;
            start = p + 1;
        }
    }
    *count = k;
    return out;
}

/* --level into level indices, for c->write and the subcommands. */
static int resolve_levels(cli *c)
{
    if (!c->levels)
        return 0;
    size_t n;
    char **names = split(c->levels, &n);
    if (!names)
        return EXIT_BAD;
    c->level_list = calloc(n ? n : 1, sizeof *c->level_list);
    int rc = c->level_list ? 0 : EXIT_BAD;
    for (size_t i = 0; i < n && !rc; i++) {
        int level = tally_hierarchy_level_find(c->h, names[i]);
        if (level < 0) {
            fprintf(stderr, _("tally %s: --level '%s' is not a level; expected one of"), c->command,
                    names[i]);
            for (size_t k = 0; k < tally_hierarchy_level_count(c->h); k++)
                fprintf(stderr, "%s %s", k ? "," : "", tally_hierarchy_level_name(c->h, (int)k));
            fputc('\n', stderr);
            rc = EXIT_BAD;
        } else {
            c->level_list[c->level_count++] = level;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    c->write.levels = c->level_list;
    c->write.level_count = c->level_count;
    return rc;
}

/* --under and --indicator, named against the hierarchy and definitions
 * before any record is read. */
static int resolve_scope(cli *c)
{
    const char *under = c->write.under;
    size_t node;
    if (under && tally_hierarchy_find(c->h, under, strlen(under), &node)) {
        fprintf(stderr, _("tally %s: --under '%s' is not a region code of %s\n"), c->command, under,
                c->hierarchy_path);
        return c->status = EXIT_BAD;
    }
    for (size_t i = 0; i < c->indicator_count; i++) {
        const char *id = c->indicator_list[i];
        size_t k;
        if (!tally_definitions_find(c->d, id, strlen(id), &k))
            continue;
        fprintf(stderr, _("tally %s: --indicator '%s' is not an indicator of %s; expected one of"),
                c->command, id, c->definitions_path);
        for (size_t j = 0; j < tally_definitions_indicator_count(c->d); j++)
            fprintf(stderr, "%s %s", j ? "," : "", tally_definitions_id(c->d, j));
        fputc('\n', stderr);
        return c->status = EXIT_BAD;
    }
    return 0;
}

static int resolve_periods(cli *c)
{
    if (!c->periods)
        return 0;
    c->period_list = split(c->periods, &c->period_count);
    return c->period_list ? 0 : EXIT_BAD;
}

/* ---- xlsx in: a sheet is read as the CSV it is turned into ---------------- */

/* An input named FILE.xlsx or FILE.xlsx:SHEET: opens the sheet (NULL and
 * no error for any other path). The readers then take its text under its
 * name, with the sheet in their options, which places their messages at
 * its cells. */
static int open_sheet(const char *arg, size_t max_input, tally_xlsx_sheet **s)
{
    *s = NULL;
    const char *x = NULL;
    for (const char *p = arg; (p = strchr(p, '.')) != NULL; p++)
        if (strncasecmp(p, ".xlsx", 5) == 0 && (p[5] == '\0' || p[5] == ':'))
            x = p;
    if (!x)
        return 0;
    size_t n = (size_t)(x + 5 - arg);
    char *path = strndup(arg, n);
    if (!path) {
        fprintf(stderr, _("tally: out of memory\n"));
        exit(EXIT_BAD);
    }
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.max_input_bytes = max_input;
    int rc = tally_xlsx_sheet_open(s, path, x[5] ? x + 6 : NULL, &o);
    free(path);
    return rc;
}

/* Definitions and hierarchy; level names come from the definitions when
 * they give them. */
static int load_model(cli *c)
{
    if (tally_definitions_from_file(&c->d, c->definitions_path)) {
        cli_report(c);
        return EXIT_BAD;
    }
    tally_hierarchy_options hopts = TALLY_HIERARCHY_OPTIONS_INIT;
    /* Each file is decoded on its own: --encoding is for the records,
     * targets and households, never the hierarchy. */
    hopts.encoding = c->hierarchy_encoding ? c->hierarchy_encoding : "auto";
    hopts.definitions = c->d;
    hopts.max_input_bytes = c->max_input_bytes;
    tally_xlsx_sheet *sheet;
    int rc = open_sheet(c->hierarchy_path, c->max_input_bytes, &sheet);
    if (!rc && sheet) {
        size_t n;
        const char *csv = tally_xlsx_sheet_csv(sheet, &n);
        hopts.sheet = sheet;
        rc = tally_hierarchy_from_buffer(&c->h, csv, n, tally_xlsx_sheet_name(sheet), &hopts);
    } else if (!rc) {
        /* FILE.csv.tallyh is used when fresh (docs/hierarchy-cache.md). */
        rc = tally_hierarchy_from_file_cached(&c->h, c->hierarchy_path, &hopts,
                                              c->hierarchy_cache ? TALLY_HIERARCHY_CACHE_MAKE : 0,
                                              NULL);
    }
    tally_xlsx_sheet_free(sheet);
    if (rc) {
        cli_report(c);
        return EXIT_BAD;
    }
    if (tally_hierarchy_detected_encoding(c->h))
        fprintf(stderr, _("tally %s: %s: not valid UTF-8 but valid %s, read as %s "
                "(--hierarchy-encoding forces an encoding)\n"), c->command, c->hierarchy_path,
                tally_hierarchy_detected_encoding(c->h), tally_hierarchy_detected_encoding(c->h));
    if (tally_hierarchy_size(c->h) == 0) {
        fprintf(stderr, _("tally %s: %s: the hierarchy has no regions; expected rows after the "
                "header\n"), c->command, c->hierarchy_path);
        return c->status = EXIT_BAD;
    }
    return 0;
}

/* 1 when the file at `path` starts with the snapshot magic. Unreadable
 * files give 0: the CSV reader then says why. Only regular files are
 * looked at: peeking at a pipe (-r /dev/stdin) would eat its first rows. */
static int is_snapshot_file(const char *path)
{
    unsigned char head[8];
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return tally_snapshot_is(head, n);
}

/* A snapshot from `tally snapshot` given as -r: values, not rows. */
static void load_snapshot(cli *c, const char *path)
{
    size_t before = tally_dataset_value_count(c->ds);
    if (tally_snapshot_load(c->ds, path))
        cli_report(c);
    else
        fprintf(stderr, _("tally %s: %s: snapshot, %zu values loaded\n"), c->command, path,
                tally_dataset_value_count(c->ds) - before);
}

enum { RECORDS, TARGETS, HOUSEHOLDS, KINDS };

/* Makes the object a kind of input is read into. */
static int make_input(cli *c, int kind)
{
    int rc = 0;
    if (kind == TARGETS)
        rc = tally_targets_new(&c->t, c->h, c->d);
    else if (kind == HOUSEHOLDS)
        rc = tally_households_new(&c->hh, c->h);
    if (rc)
        cli_report(c);
    return rc;
}

static int read_input(cli *c, int kind, const char *path, const tally_read_options *ropts,
                      tally_read_stats *st)
{
    tally_xlsx_sheet *sheet;
    int rc = open_sheet(path, c->max_input_bytes, &sheet);
    if (rc || sheet) {
        size_t n = 0;
        const char *csv = tally_xlsx_sheet_csv(sheet, &n), *name = tally_xlsx_sheet_name(sheet);
        tally_read_options o = *ropts;
        o.sheet = sheet;
        if (!rc && kind == RECORDS)
            rc = tally_dataset_read_buffer(c->ds, csv, n, name, &o, c->rejects, st);
        else if (!rc && kind == TARGETS)
            rc = tally_targets_read_buffer(c->t, csv, n, name, &o, c->rejects, st);
        else if (!rc)
            rc = tally_households_read_buffer(c->hh, csv, n, name, &o, c->rejects, st);
        tally_xlsx_sheet_free(sheet);
        return rc;
    }
    switch (kind) {
    case RECORDS: return tally_dataset_read_file(c->ds, path, ropts, c->rejects, st);
    case TARGETS: return tally_targets_read_file(c->t, path, ropts, c->rejects, st);
    default: return tally_households_read_file(c->hh, path, ropts, c->rejects, st);
    }
}

/* The rows carried through the crosswalk since `since` (counts by how),
 * as " (12 mapped through the crosswalk: 10 recoded, 2 merged)". */
static void carried_text(const cli *c, const size_t *since, char *buf, size_t size)
{
    size_t n = 0, all = tally_dataset_carried_rows(c->ds, -1) - since[TALLY_CROSSWALK_KIND_COUNT];
    buf[0] = '\0';
    for (int how = 0; all && how < TALLY_CROSSWALK_KIND_COUNT && n < size; how++) {
        size_t k = tally_dataset_carried_rows(c->ds, how) - since[how];
        if (k)
            n += (size_t)snprintf(buf + n, size - n, "%s%zu %s", n ? ", " : " (", k,
                                  tally_crosswalk_kind_name(how));
    }
    if (all && n < size)
        snprintf(buf + n, size - n, _("; %zu mapped through the crosswalk)"), all);
}

static void print_rows(const cli *c, const char *what, const tally_read_stats *st, int stopped,
                       const char *carried, size_t empty)
{
    char skipped[64] = "";
    if (empty)
        snprintf(skipped, sizeof skipped, _("; %zu empty rows skipped"), empty);
    fprintf(stderr, _("tally %s: %s: %zu rows read = %zu accepted%s + %zu rejected%s%s\n"),
            c->command, what, st->rows_read, st->rows_accepted, carried ? carried : "",
            st->rows_rejected, skipped,
            stopped ? _(" (stopped at the first bad row; --on-error collect reads on)") : "");
}

static void count_carried(const cli *c, size_t *counts)
{
    for (int how = -1; how < TALLY_CROSSWALK_KIND_COUNT; how++)
        counts[how < 0 ? TALLY_CROSSWALK_KIND_COUNT : how] = tally_dataset_carried_rows(c->ds, how);
}

/* Reads every input file, kind by kind, up to the first that fails. Each
 * kind's rows are counted on one line; when a kind has several files,
 * every file gets its line too, and the line of a kind's only file then
 * stands for the kind's. "Stopped" is said where a bad row stopped the
 * read (--on-error stop), not after a file that could not be read. */
static void read_inputs(cli *c)
{
    const char *const names[KINDS] = { _("records"), _("targets"), _("households") };
    const char **files[KINDS] = { c->records, c->targets, c->households };
    size_t nfiles[KINDS] = { c->nrecords, c->ntargets, c->nhouseholds };
    int per_file = nfiles[RECORDS] > 1 || nfiles[TARGETS] > 1 || nfiles[HOUSEHOLDS] > 1;
    tally_read_options ropts = TALLY_READ_OPTIONS_INIT;
    ropts.on_error = c->on_error;
    ropts.encoding = c->encoding ? c->encoding : "auto";
    ropts.threads = c->threads;
    ropts.max_input_bytes = c->max_input_bytes;
    ropts.max_dataset_bytes = c->max_memory;
    for (int kind = 0; kind < KINDS && !c->status; kind++) {
        if (!nfiles[kind])
            continue;
        if (make_input(c, kind))
            break;
        tally_read_stats total = { 0, 0, 0 };
        size_t ncsv = 0, kind_from[TALLY_CROSSWALK_KIND_COUNT + 1], file_from[TALLY_CROSSWALK_KIND_COUNT + 1];
        char carried[256] = "";
        count_carried(c, kind_from);
        size_t kind_empty = tally_rejects_empty_rows(c->rejects);
        int stopped = 0;
        for (size_t i = 0; i < nfiles[kind] && !c->status; i++) {
            const char *path = files[kind][i];
            if (kind == RECORDS && is_snapshot_file(path)) {
                load_snapshot(c, path);
                continue;
            }
            tally_read_stats st = { 0, 0, 0 };
            count_carried(c, file_from);
            size_t file_empty = tally_rejects_empty_rows(c->rejects);
            if (read_input(c, kind, path, &ropts, &st)) {
                cli_report(c);
                stopped = c->on_error == TALLY_ON_ERROR_STOP && st.rows_rejected;
            }
            ncsv++;
            total.rows_read += st.rows_read;
            total.rows_accepted += st.rows_accepted;
            total.rows_rejected += st.rows_rejected;
            carried_text(c, file_from, carried, sizeof carried);
            if (per_file)
                print_rows(c, path, &st, stopped && nfiles[kind] == 1, carried,
                           tally_rejects_empty_rows(c->rejects) - file_empty);
        }
        carried_text(c, kind_from, carried, sizeof carried);
        if (ncsv && !(per_file && nfiles[kind] == 1))
            print_rows(c, names[kind], &total, stopped, carried,
                       tally_rejects_empty_rows(c->rejects) - kind_empty);
    }
}

/* The rejected rows of every input, once: with --rejects FILE all of them
 * go there (written even when there are none, so that no older file
 * stays), else each is named on stderr. */
static void report_rejects(cli *c)
{
    if (c->on_error != TALLY_ON_ERROR_COLLECT)
        return;
    size_t n = tally_rejects_count(c->rejects);
    if (c->rejects_path) {
        if (tally_rejects_write_csv(c->rejects, c->rejects_path))
            cli_report(c);
        else
            fprintf(stderr, _("tally %s: %zu rejected rows written to %s\n"), c->command, n,
                    c->rejects_path);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *path = tally_rejects_path(c->rejects, i), *x = strstr(path, ".xlsx:");
        unsigned long line = tally_rejects_line(c->rejects, i);
        unsigned long col = tally_rejects_column(c->rejects, i);
        char place[32];
        if (x) /* a sheet: its cell */
            fprintf(stderr, _("tally %s: rejected %s!%s: %s\n"), c->command, path,
                    tally_xlsx_cell_name(col, line, place, sizeof place),
                    tally_rejects_reason(c->rejects, i));
        else
            fprintf(stderr, _("tally %s: rejected %s:%lu:%lu: %s\n"), c->command, path, line, col,
                    tally_rejects_reason(c->rejects, i));
    }
}

/* ---- outputs that would overwrite an input ----------------------------- */

/* 1 when a and b are the same regular file (device and inode), or the
 * same name of a file not there yet. Devices and FIFOs are written
 * through, not replaced (docs/output.md): -o /dev/null twice is fine. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = stat(a, &sa), eb = stat(b, &sb);
    if (!ea && !eb)
        return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return ea && eb && !strcmp(a, b);
}

/* Refuses output `out` of option `opt` when it is `other` (an input, or
 * with `output` another output). */
static void check_output(cli *c, const char *opt, const char *out, const char *other_opt,
                         const char *other, int output)
{
    if (c->status || !out || !other || !same_file(out, other))
        return;
    fprintf(stderr, _("tally %s: %s %s and %s %s are the same file; %s\n"), c->command, opt, out,
            other_opt, other,
            output ? "give each output a file of its own" : "an output never overwrites an input");
    c->status = EXIT_BAD;
}

static void check_outputs(cli *c)
{
    const char *out_opts[3] = { "-o", "--rejects", "--svg" };
    const char *outs[3] = { c->output, c->rejects_path, c->svg_path };
    const char *in_opts[3] = { "-H", "-d", "--schedule" };
    const char *ins[3] = { c->hierarchy_path, c->definitions_path, c->schedule_path };
    const char *list_opts[3] = { "-r", "-t", "--households" };
    const char **lists[3] = { c->records, c->targets, c->households };
    size_t counts[3] = { c->nrecords, c->ntargets, c->nhouseholds };
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 3; i++) {
            check_output(c, out_opts[k], outs[k], in_opts[i], ins[i], 0);
            for (size_t n = 0; n < counts[i]; n++)
                check_output(c, out_opts[k], outs[k], list_opts[i], lists[i][n], 0);
        }
        for (int later = k + 1; later < 3; later++)
            check_output(c, out_opts[k], outs[k], out_opts[later], outs[later], 1);
    }
}

/* Rows accepted with a warning (a region_name that is not the
 * hierarchy's), each on stderr, whatever --on-error says. */
static void report_warnings(cli *c)
{
    for (size_t i = 0; i < tally_rejects_warning_count(c->rejects); i++)
        fprintf(stderr, _("tally %s: %s:%lu:%lu: warning: %s\n"), c->command,
                tally_rejects_warning_path(c->rejects, i),
                tally_rejects_warning_line(c->rejects, i),
                tally_rejects_warning_column(c->rejects, i),
                tally_rejects_warning_reason(c->rejects, i));
}

/* A --period the records have no value in would print an empty table:
 * say so, with the periods there are. */
static int check_periods(cli *c)
{
    if (!c->nrecords)
        return 0;
    for (size_t i = 0; i < c->period_count; i++) {
        int has = tally_dataset_period_has_values(c->ds, c->period_list[i]);
        if (has < 0) {
            cli_report(c);
            return c->status;
        }
        if (has)
            continue;
        char *there = NULL;
        if (tally_dataset_periods(c->ds, &there)) {
            cli_report(c);
            return c->status;
        }
        fprintf(stderr, _("tally %s: --period '%s' matches no value in the records; expected %s%s\n"),
                c->command, c->period_list[i], *there ? "one of " : "records with values",
                there);
        tally_free(there);
        return c->status = EXIT_BAD;
    }
    return 0;
}

int cli_load(cli *c)
{
    if (c->status)
        return c->status;
    if (!c->hierarchy_path || !c->definitions_path) {
        cli_usage_error(c, _("missing %s"), !c->hierarchy_path ? "-H hierarchy.csv" : "-d definitions.yaml");
        return c->status;
    }
    if (c->need_records && !c->nrecords) {
        cli_usage_error(c, _("missing -r records.csv"));
        return c->status;
    }
    if (c->rejects_path && c->on_error != TALLY_ON_ERROR_COLLECT) {
        cli_usage_error(c, _("--rejects needs --on-error collect"));
        return c->status;
    }
    check_outputs(c);
    if (c->status || load_model(c))
        return c->status;
    if (resolve_levels(c) || resolve_periods(c) || resolve_scope(c))
        return c->status = EXIT_BAD;
    if ((c->crosswalk_path && tally_crosswalk_from_file(&c->cw, c->crosswalk_path, c->h)) ||
        tally_dataset_new(&c->ds, c->h, c->d) || tally_rejects_new(&c->rejects) ||
        tally_dataset_set_crosswalk(c->ds, c->cw)) {
        cli_report(c);
        return c->status;
    }
    read_inputs(c);
    report_warnings(c);
    report_rejects(c);
    if (!c->status)
        check_periods(c);
    return c->status;
}
