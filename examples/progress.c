/* tally progress: completion of annual targets as of a month.
 *
 * Definitions, hierarchy and records in; targets read (bad rows named like
 * bad records); completion computed against the share of the year passed;
 * the table written as CSV or JSON, and optionally a chart as SVG.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* YYYY-MM, strictly. */
static int parse_as_of(const char *s, int *year, int *month)
{
    if (strlen(s) != 7 || s[4] != '-')
        return -1;
    int y = 0, m = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        y = y * 10 + (s[i] - '0');
    }
    for (int i = 5; i < 7; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        m = m * 10 + (s[i] - '0');
    }
    if (y < 1000 || m < 1 || m > 12)
        return -1;
    *year = y;
    *month = m;
    return 0;
}

/* Parents whose children's targets do not cover their own: a note here;
 * `tally check` reports them as findings. */
static void note_decomposition(cli *c, const tally_targets *t, int year)
{
    tally_target_findings *f;
    if (tally_targets_decomposition(&f, t)) {
        cli_report(c);
        return;
    }
    for (size_t i = 0; i < tally_target_findings_count(f); i++) {
        if (tally_target_findings_year(f, i) != year)
            continue;
        size_t node = tally_target_findings_node(f, i), ind = tally_target_findings_indicator(f, i);
        int dec = tally_definitions_decimals(c->d, ind);
        char given[64], sum[64];
        if (tally_number_format(given, sizeof given, tally_target_findings_target(f, i), dec) < 0 ||
            tally_number_format(sum, sizeof sum, tally_target_findings_children_sum(f, i), dec) < 0)
            continue;
        int ceiling = tally_definitions_direction(c->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;
        fprintf(stderr,
                _("tally %s: note: %s %s: the targets of %zu of its %zu children sum to %s for %s "
                "%d, %s its own %s\n"),
                c->command, tally_hierarchy_code(c->h, node), tally_hierarchy_name(c->h, node),
                tally_target_findings_children_with_target(f, i),
                tally_target_findings_children(f, i), sum, tally_definitions_id(c->d, ind), year,
                ceiling ? "above" : "below", given);
    }
    tally_target_findings_free(f);
}

/* "tally progress: 2019-08, exited_population (county): 1 done, 4 ahead, ..." */
static void summarize(const cli *c, const tally_progress *r)
{
    size_t nk = tally_progress_indicator_count(r), nodes = tally_hierarchy_size(c->h);
    for (size_t k = 0; k < nk; k++) {
        size_t counts[8] = { 0 };
        for (size_t node = 0; node < nodes; node++) {
            int level = tally_hierarchy_level(c->h, node), want = !c->level_count;
            for (size_t j = 0; j < c->level_count; j++)
                want |= c->level_list[j] == level;
            if (!want)
                continue;
            int s = tally_progress_status(r, node * nk + k);
            if (s >= 0 && s < 8)
                counts[s]++;
        }
        fprintf(stderr, _("tally %s: %04d-%02d %s:"), c->command, tally_progress_year(r),
                tally_progress_month(r), tally_definitions_id(c->d, tally_progress_indicator(r, k)));
        const char *sep = " ";
        for (int s = TALLY_TARGET_DONE; s <= TALLY_TARGET_NOT_MET; s++)
            if (counts[s]) {
                fprintf(stderr, "%s%zu %s", sep, counts[s], tally_target_status_name(s));
                sep = ", ";
            }
        static const int rest[] = { TALLY_TARGET_INCOMPLETE, TALLY_TARGET_NO_TARGET,
                                    TALLY_TARGET_NO_DATA };
        for (int j = 0, s; j < 3; j++)
            if (counts[s = rest[j]]) {
                fprintf(stderr, "%s%zu %s", sep, counts[s], tally_target_status_name(s));
                sep = ", ";
            }
        fputc('\n', stderr);
    }
}

int cmd_progress(int argc, char **argv)
{
    enum { OPT_AS_OF = CLI_OPT_OWN, OPT_SCHEDULE, OPT_SVG };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_TABLE_OPTIONS,
        CLI_TARGETS_OPTION,
        CLI_PREFER_OPTION,
        { "as-of", required_argument, NULL, OPT_AS_OF },
        { "schedule", required_argument, NULL, OPT_SCHEDULE },
        { "svg", required_argument, NULL, OPT_SVG },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "progress", cli_usage_progress);
    tally_progress_options popts = TALLY_PROGRESS_OPTIONS_INIT;
    const char *as_of = NULL, *schedule_path = NULL, *svg = NULL;
    double schedule[12];
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
        switch (opt) {
        case OPT_AS_OF: as_of = optarg; break;
        case OPT_SCHEDULE: schedule_path = c.schedule_path = optarg; break;
        case OPT_SVG: svg = c.svg_path = optarg; break;
        }
    }
    if (opt < 0)
        return cli_done(&c);
    if (!as_of)
        cli_usage_error(&c, _("missing --as-of YYYY-MM"));
    else if (parse_as_of(as_of, &popts.year, &popts.month))
        cli_usage_error(&c, _("--as-of '%s': expected YYYY-MM like 2019-08"), as_of);
    else if (c.periods)
        cli_usage_error(&c, _("--period does not apply; the year to date is given by --as-of"));
    else if (schedule_path && tally_schedule_from_file(schedule, schedule_path))
        cli_report(&c);
    if (cli_load(&c))
        return cli_done(&c);
    /* Without -t, the targets are those of the definitions. */
    if (!c.t && tally_targets_new(&c.t, c.h, c.d)) {
        cli_report(&c);
        return cli_done(&c);
    }

    popts.prefer = c.prefer;
    popts.schedule = schedule_path ? schedule : NULL;
    /* --indicator (checked by cli_load) limits the table; the chart draws
     * the first indicator listed. */
    size_t chart_ind = TALLY_NONE;
    tally_progress *r = NULL;
    if (c.indicator_count)
        tally_definitions_find(c.d, c.indicator_list[0], strlen(c.indicator_list[0]), &chart_ind);
    if (tally_progress_run(&r, c.ds, c.t, &popts))
        cli_report(&c);
    else if (!tally_progress_indicator_count(r)) {
        fprintf(stderr, _("tally progress: no targets for %d%s; expected rows of year %d in the "
                        "targets files or the definitions\n"),
                popts.year, c.ntargets ? "" : " (no -t targets.csv given)", popts.year);
        c.status = EXIT_BAD;
    } else
        note_decomposition(&c, c.t, popts.year);
    if (!c.status && tally_progress_write(r, c.output, &c.write))
        cli_report(&c);
    if (!c.status)
        summarize(&c, r);
    if (!c.status && svg) {
        tally_progress_svg_options sopts = TALLY_PROGRESS_SVG_OPTIONS_INIT;
        sopts.indicator = chart_ind;
        sopts.level = c.level_count ? c.level_list[0] : -1;
        if (tally_progress_write_svg(r, svg, &sopts))
            cli_report(&c);
        else
            fprintf(stderr, _("tally progress: chart written to %s\n"), svg);
    }
    tally_progress_free(r);
    return cli_done(&c);
}
