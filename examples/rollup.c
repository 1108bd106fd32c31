/* tally rollup: totals at every level of the hierarchy.
 *
 * The whole of the library's main path in one page: definitions and
 * hierarchy in, records read (bad rows named), a rollup, and the result
 * written as CSV or JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* A comparison across a change of codes: says which regions' values were
 * carried from other codes (the first few, at the coarsest levels first),
 * so that a reader knows which previous values are not the region's own. */
static void note_carried(const cli *c)
{
    const tally_hierarchy *h = c->h;
    size_t n = tally_dataset_carried_count(c->ds), shown = 0, regions = 0;
    for (size_t i = 0; i < n; i++)
        regions += i == 0 || tally_dataset_carried_node(c->ds, i) != tally_dataset_carried_node(c->ds, i - 1);
    fprintf(stderr, _("tally rollup: note: %zu values of about %zu regions were carried from old "
            "codes through the crosswalk; compared values include them"), n, regions);
    for (int level = 0; level < (int)tally_hierarchy_level_count(h) && shown < 5; level++)
        for (size_t i = 0; i < n && shown < 5; i++) {
            size_t node = tally_dataset_carried_node(c->ds, i);
            if (tally_hierarchy_level(h, node) != level)
                continue;
            fprintf(stderr, _("%s %s %s %s from %s (%s)"), shown ? ";" : ", e.g.",
                    tally_hierarchy_code(h, node), tally_hierarchy_name(h, node),
                    tally_dataset_carried_period(c->ds, i), tally_dataset_carried_from(c->ds, i),
                    tally_crosswalk_kind_name(tally_dataset_carried_how(c->ds, i)));
            shown++;
        }
    fputc('\n', stderr);
}

int cmd_rollup(int argc, char **argv)
{
    enum { OPT_COMPARE = CLI_OPT_OWN, OPT_COVERAGE };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        CLI_TABLE_OPTIONS,
        CLI_PREFER_OPTION,
        { "compare", required_argument, NULL, OPT_COMPARE },
        { "coverage", no_argument, NULL, OPT_COVERAGE },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "rollup", cli_usage_rollup);
    tally_rollup_options ropts = TALLY_ROLLUP_OPTIONS_INIT;
    int opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
        if (opt == OPT_COVERAGE)
            ropts.coverage = 1;
        if (opt != OPT_COMPARE)
            continue;
        if (!strcmp(optarg, "yoy"))
            ropts.compare = TALLY_COMPARE_YOY;
        else if (!strcmp(optarg, "pop"))
            ropts.compare = TALLY_COMPARE_POP;
        else
            cli_usage_error(&c, _("--compare '%s': expected yoy or pop"), optarg);
    }
    if (opt < 0 || cli_load(&c))
        return cli_done(&c);

    ropts.prefer = c.prefer;
    ropts.periods = (const char *const *)c.period_list;
    ropts.period_count = c.period_count;
    if (ropts.compare && tally_dataset_carried_count(c.ds))
        note_carried(&c);
    tally_result *r = NULL;
    /* Nothing reads the records after this: their arrays may move into the
     * result instead of being copied (half the memory on a national run). */
    if (tally_rollup_take(&r, c.ds, &ropts) || tally_result_write(r, c.output, &c.write))
        cli_report(&c);
    /* A period compared like for like says so (on stderr: the rows keep
     * their columns). */
    for (size_t p = 0; r && p < tally_result_period_count(r); p++) {
        int matched;
        const char *with = tally_result_compared(r, p, &matched);
        if (matched)
            fprintf(stderr, _("tally rollup: %s is compared with %s, the months its reports cover\n"),
                    tally_result_period(r, p), with);
    }
    tally_result_free(r);
    return cli_done(&c);
}
