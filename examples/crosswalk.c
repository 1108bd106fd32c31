/* tally crosswalk: which old region became which new one, between two
 * vintages of a hierarchy; with --diff, what changed, per level and per
 * county, for a person to read.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Per county (or any region of --by's level) of the old table: how its
 * regions below it were mapped, and what it became (every successor of a
 * split). Rows of the crosswalk come in the old table's pre-order, so a
 * county's rows follow it. */
static int write_diff(const tally_crosswalk *cw, const tally_hierarchy *from, int by, FILE *f)
{
    size_t nl = tally_crosswalk_level_count(cw);
    fprintf(f, "level,regions");
    for (int k = 0; k < TALLY_CROSSWALK_KIND_COUNT - 1; k++)
        fprintf(f, ",%s", tally_crosswalk_kind_name(k));
    fputc('\n', f);
    for (size_t l = 0; l < nl; l++) {
        size_t total = 0;
        for (int k = 0; k < TALLY_CROSSWALK_KIND_COUNT; k++)
            total += tally_crosswalk_count(cw, (int)l, k);
        fprintf(f, "%s,%zu", tally_crosswalk_level_name(cw, (int)l), total);
        for (int k = 0; k < TALLY_CROSSWALK_KIND_COUNT - 1; k++)
            fprintf(f, ",%zu", tally_crosswalk_count(cw, (int)l, k));
        fputc('\n', f);
    }
    if (by < 0)
        return 0;
    fprintf(f, "\ncode,name,becomes,to_code,to_name,regions_below");
    for (int k = 0; k < TALLY_CROSSWALK_KIND_COUNT - 1; k++)
        fprintf(f, ",%s", tally_crosswalk_kind_name(k));
    fputc('\n', f);
    size_t n = tally_crosswalk_size(cw), i = 0;
    while (i < n) {
        if (tally_crosswalk_level(cw, i) != by) {
            i++;
            continue;
        }
        /* The county's own rows, then every row below it. */
        size_t head = i, counts[TALLY_CROSSWALK_KIND_COUNT] = { 0 }, below = 0;
        const char *code = tally_crosswalk_from_code(cw, i);
        size_t node;
        if (tally_hierarchy_find(from, code, strlen(code), &node))
            return -1;
        size_t end = tally_hierarchy_subtree_end(from, node);
        i++;
        while (i < n && !strcmp(tally_crosswalk_from_code(cw, i), code))
            i++;
        const char *prev = NULL;
        while (i < n) {
            const char *c = tally_crosswalk_from_code(cw, i);
            size_t k;
            if (tally_hierarchy_find(from, c, strlen(c), &k) || k < node || k >= end)
                break;
            if (!prev || strcmp(prev, c)) {
                counts[tally_crosswalk_how(cw, i)]++;
                below++;
            }
            prev = c;
            i++;
        }
        /* A split names every successor, separated by ';'. */
        size_t rows = 1;
        while (head + rows < n && !strcmp(tally_crosswalk_from_code(cw, head + rows), code))
            rows++;
        int how = rows > 1 ? TALLY_CROSSWALK_SPLIT : tally_crosswalk_how(cw, head);
        fprintf(f, "%s,%s,%s,", code, tally_crosswalk_from_name(cw, head),
                tally_crosswalk_kind_name(how));
        for (size_t r = 0; r < rows; r++)
            fprintf(f, "%s%s", r ? ";" : "", tally_crosswalk_to_code(cw, head + r));
        fputc(',', f);
        for (size_t r = 0; r < rows; r++)
            fprintf(f, "%s%s", r ? ";" : "", tally_crosswalk_to_name(cw, head + r));
        fprintf(f, ",%zu", below);
        for (int k = 0; k < TALLY_CROSSWALK_KIND_COUNT - 1; k++)
            fprintf(f, ",%zu", counts[k]);
        fputc('\n', f);
    }
    return 0;
}

int cmd_crosswalk(int argc, char **argv)
{
    enum { OPT_FROM = CLI_OPT_OWN, OPT_TO, OPT_DIFF, OPT_BY };
    static const struct option options[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "diff", no_argument, NULL, OPT_DIFF },
        { "by", required_argument, NULL, OPT_BY },
        { "output", required_argument, NULL, 'o' },
        { "encoding", required_argument, NULL, CLI_OPT_ENCODING },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    cli c;
    cli_init(&c, "crosswalk", cli_usage_crosswalk);
    const char *from_path = NULL, *to_path = NULL, *by = NULL;
    int diff = 0, opt;
    while ((opt = cli_getopt(&c, argc, argv, options)) > 0) {
        if (opt == OPT_FROM)
            from_path = optarg;
        else if (opt == OPT_TO)
            to_path = optarg;
        else if (opt == OPT_DIFF)
            diff = 1;
        else if (opt == OPT_BY)
            by = optarg;
    }
    if (opt < 0)
        return cli_done(&c);
    if (!from_path || !to_path) {
        cli_usage_error(&c, _("missing %s"), !from_path ? "--from OLD.csv" : "--to NEW.csv");
        return cli_done(&c);
    }
    tally_hierarchy_options hopts = TALLY_HIERARCHY_OPTIONS_INIT;
    hopts.encoding = c.encoding ? c.encoding : "auto";
    tally_hierarchy *from = NULL, *to = NULL;
    tally_crosswalk *cw = NULL;
    if (tally_hierarchy_from_file(&from, from_path, &hopts) ||
        tally_hierarchy_from_file(&to, to_path, &hopts) ||
        tally_crosswalk_infer(&cw, from, to, NULL)) {
        cli_report(&c);
    } else if (diff) {
        /* The counties: the third level of the old table (whatever its
         * name: 县级 in the NBS tables), or the level --by names (a name,
         * or its number, 1 for the top). */
        int nl = (int)tally_hierarchy_level_count(from), level = nl > 2 ? 2 : nl - 1;
        if (by) {
            char *end;
            long k = strtol(by, &end, 10);
            level = *by && !*end ? (int)k - 1 : tally_hierarchy_level_find(from, by);
            if (level < 0 || level >= nl) {
                cli_usage_error(&c, _("--by '%s': not a level of %s (a name, or 1 to %d)"), by,
                                from_path, nl);
                goto done;
            }
        }
        FILE *f = c.output ? fopen(c.output, "w") : stdout;
        if (!f || write_diff(cw, from, level, f) || ferror(f)) {
            fprintf(stderr, _("tally crosswalk: %s: cannot write\n"),
                    c.output ? c.output : "standard output");
            c.status = EXIT_BAD;
        }
        if (f && c.output)
            fclose(f);
    } else if (tally_crosswalk_write(cw, c.output) || tally_crosswalk_write_summary(cw, NULL)) {
        cli_report(&c);
    }
done:
    tally_crosswalk_free(cw);
    tally_hierarchy_free(to);
    tally_hierarchy_free(from);
    return cli_done(&c);
}
