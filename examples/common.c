/* Shared parts of the tally subcommands.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cli_init(cli *c, const char *command)
{
    memset(c, 0, sizeof *c);
    c->command = command;
    c->on_error = TALLY_ON_ERROR_STOP;
}

void cli_free(cli *c)
{
    tally_dataset_free(c->ds);
    tally_hierarchy_free(c->h);
    tally_definitions_free(c->d);
    tally_rejects_free(c->rejects);
    for (size_t i = 0; i < c->period_count; i++)
        free(c->period_list[i]);
    free(c->period_list);
    free(c->level_list);
    free(c->records);
}

void cli_report(const cli *c)
{
    const tally_error *e = tally_error_last();
    fprintf(stderr, "tally %s: %s\n", c->command, e->message && *e->message ? e->message : tally_strerror(e->code));
}

void cli_usage_error(const cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tally %s: ", c->command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tally %s --help'.\n", c->command);
}

int cli_option(cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'H': c->hierarchy_path = arg; return 1;
    case 'd': c->definitions_path = arg; return 1;
    case 'r': {
        const char **n = realloc(c->records, (c->nrecords + 1) * sizeof *n);
        if (!n) {
            fprintf(stderr, "tally %s: out of memory\n", c->command);
            return -1;
        }
        c->records = n;
        c->records[c->nrecords++] = arg;
        return 1;
    }
    case 'l': c->levels = arg; return 1;
    case 'p': c->periods = arg; return 1;
    case 'f':
        if (strcmp(arg, "csv") && strcmp(arg, "json")) {
            cli_usage_error(c, "--format '%s': expected csv or json", arg);
            return -1;
        }
        c->format = arg;
        return 1;
    case 'o': c->output = arg; return 1;
    case 1001:
        if (!strcmp(arg, "stop"))
            c->on_error = TALLY_ON_ERROR_STOP;
        else if (!strcmp(arg, "collect"))
            c->on_error = TALLY_ON_ERROR_COLLECT;
        else {
            cli_usage_error(c, "--on-error '%s': expected stop or collect", arg);
            return -1;
        }
        return 1;
    case 1002: c->rejects_path = arg; return 1;
    case 1003: c->encoding = arg; return 1; /* checked when a file is read */
    case 1004: {
        char *end;
        errno = 0;
        unsigned long n = strtoul(arg, &end, 10);
        if (!*arg || *end || errno || arg[0] == '-' || n > 64) {
            cli_usage_error(c, "--threads '%s': expected a number from 0 (one per core) to 64",
                            arg);
            return -1;
        }
        c->threads = (unsigned int)n;
        return 1;
    }
    default: return 0;
    }
}

int cli_prefer(const cli *c, const char *arg, int *prefer)
{
    if (!strcmp(arg, "computed"))
        *prefer = TALLY_PREFER_COMPUTED;
    else if (!strcmp(arg, "reported"))
        *prefer = TALLY_PREFER_REPORTED;
    else {
        cli_usage_error(c, "--prefer '%s': expected computed or reported", arg);
        return -1;
    }
    return 0;
}

tally_read_options cli_read_options(const cli *c)
{
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.on_error = c->on_error;
    o.encoding = c->encoding;
    o.threads = c->threads;
    return o;
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

int cli_load(cli *c, int need_records)
{
    if (!c->hierarchy_path || !c->definitions_path) {
        cli_usage_error(c, "missing %s", !c->hierarchy_path ? "-H hierarchy.csv" : "-d definitions.yaml");
        return EXIT_BAD;
    }
    if (need_records && !c->nrecords) {
        cli_usage_error(c, "missing -r records.csv");
        return EXIT_BAD;
    }
    if (tally_definitions_from_file(&c->d, c->definitions_path)) {
        cli_report(c);
        return EXIT_BAD;
    }
    /* Level names come from the definitions when they give them. */
    size_t nl = tally_definitions_level_count(c->d);
    const char **names = NULL;
    tally_hierarchy_options hopts = TALLY_HIERARCHY_OPTIONS_INIT;
    hopts.encoding = c->encoding;
    if (nl) {
        names = malloc(nl * sizeof *names);
        if (!names)
            return EXIT_BAD;
        for (size_t i = 0; i < nl; i++)
            names[i] = tally_definitions_level_name(c->d, i);
        hopts.level_names = names;
        hopts.level_count = nl;
    }
    int rc = tally_hierarchy_from_file(&c->h, c->hierarchy_path, &hopts);
    free(names);
    if (rc) {
        cli_report(c);
        return EXIT_BAD;
    }
    if (tally_hierarchy_size(c->h) == 0) {
        fprintf(stderr, "tally %s: %s: the hierarchy has no regions; expected rows after the "
                "header\n", c->command, c->hierarchy_path);
        return EXIT_BAD;
    }
    if (tally_dataset_new(&c->ds, c->h, c->d) || tally_rejects_new(&c->rejects)) {
        cli_report(c);
        return EXIT_BAD;
    }
    if (c->rejects_path && c->on_error != TALLY_ON_ERROR_COLLECT) {
        cli_usage_error(c, "--rejects needs --on-error collect");
        return EXIT_BAD;
    }
    tally_read_options ropts = cli_read_options(c);
    tally_read_stats total = { 0, 0, 0 };
    int failed = 0;
    size_t ncsv = 0;
    for (size_t i = 0; i < c->nrecords && !failed; i++) {
        tally_read_stats st;
        if (is_snapshot_file(c->records[i])) {
            /* A snapshot from `tally snapshot`: values, not rows. */
            size_t before = tally_dataset_value_count(c->ds);
            rc = tally_dataset_load(c->ds, c->records[i]);
            if (rc)
                cli_report(c);
            else
                fprintf(stderr, "tally %s: %s: snapshot, %zu values loaded\n", c->command,
                        c->records[i], tally_dataset_value_count(c->ds) - before);
            failed = rc != 0;
            continue;
        }
        ncsv++;
        rc = tally_dataset_read_file(c->ds, c->records[i], &ropts, c->rejects, &st);
        if (rc)
            cli_report(c);
        failed = rc != 0;
        total.rows_read += st.rows_read;
        total.rows_accepted += st.rows_accepted;
        total.rows_rejected += st.rows_rejected;
        if (c->nrecords > 1)
            fprintf(stderr, "tally %s: %s: %zu rows read = %zu accepted + %zu rejected\n",
                    c->command, c->records[i], st.rows_read, st.rows_accepted, st.rows_rejected);
    }
    if (ncsv)
        fprintf(stderr, "tally %s: records: %zu rows read = %zu accepted + %zu rejected%s\n",
                c->command, total.rows_read, total.rows_accepted, total.rows_rejected,
                failed ? " (stopped at the first bad row; --on-error collect reads on)" : "");
    if (c->on_error == TALLY_ON_ERROR_COLLECT &&
        (tally_rejects_count(c->rejects) || c->rejects_path)) {
        /* --rejects is written even when empty, so no older file stays. */
        if (c->rejects_path) {
            if (tally_rejects_write_csv(c->rejects, c->rejects_path)) {
                cli_report(c);
                return EXIT_BAD;
            }
            fprintf(stderr, "tally %s: %zu rejected rows written to %s\n", c->command,
                    tally_rejects_count(c->rejects), c->rejects_path);
        } else {
            /* Without --rejects, every rejected row is named on stderr. */
            size_t n = tally_rejects_count(c->rejects);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "tally %s: rejected %s:%lu:%lu: %s\n", c->command,
                        tally_rejects_path(c->rejects, i), tally_rejects_line(c->rejects, i),
                        tally_rejects_column(c->rejects, i), tally_rejects_reason(c->rejects, i));
        }
    }
    return failed ? EXIT_BAD : 0;
}

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

int cli_resolve_levels(cli *c)
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
            fprintf(stderr, "tally %s: --level '%s' is not a level; expected one of", c->command,
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
    return rc;
}

int cli_resolve_periods(cli *c)
{
    if (!c->periods)
        return 0;
    c->period_list = split(c->periods, &c->period_count);
    return c->period_list ? 0 : EXIT_BAD;
}
