/* The computations over a result's node set (the regions with data and
 * their ancestors) against plain references: random hierarchies where the
 * regions of one subtree report, as one county does on the national table,
 * or every region may. The references walk the generated parent links and
 * know nothing of node sets, pre-order or columns. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tally.h>

#define RN_MAX 300

typedef struct rnode {
    int parent; /* generation index, -1 for a root */
    int level;
    char code[16];
} rnode;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *levels[] = { "province", "city", "county", "town", "village" };

/* A random forest of n nodes (parents before children in generation
 * order), as a hierarchy CSV listing them shuffled; *sub is a node with
 * children whose subtree alone reports (-1: every node may). */
static tally_hierarchy *random_hierarchy(rnode *nodes, int n, int *sub, int subtree_only)
{
    for (int i = 0; i < n; i++) {
        snprintf(nodes[i].code, sizeof nodes[i].code, "9%04d", i);
        if (i < 3) {
            nodes[i].parent = -1;
            nodes[i].level = 0;
            continue;
        }
        int p;
        do
            p = (int)(rnd() % (uint64_t)i);
        while (nodes[p].level > 3);
        nodes[i].parent = p;
        nodes[i].level = nodes[p].level + 1 + (nodes[p].level <= 2 && rnd() % 4 == 0);
    }
    int order[RN_MAX];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t cap = (size_t)n * 64 + 64, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv + len, cap - len, "code,name,level,parent_code\n");
    for (int k = 0; k < n; k++) {
        const rnode *r = &nodes[order[k]];
        len += (size_t)snprintf(csv + len, cap - len, "%s,n%s,%s,%s\n", r->code, r->code,
                                levels[r->level], r->parent < 0 ? "" : nodes[r->parent].code);
    }
    tally_hierarchy *h = NULL;
    assert_int_equal(tally_hierarchy_from_buffer(&h, csv, len, "random.csv", NULL), 0);
    free(csv);
    /* The largest subtree below a root of at most a third of the nodes
     * (so that the rest of the hierarchy is most of it). */
    int size[RN_MAX];
    for (int i = 0; i < n; i++)
        size[i] = 1;
    for (int i = n - 1; i >= 3; i--)
        size[nodes[i].parent] += size[i];
    *sub = -1;
    for (int i = 3; subtree_only && i < n; i++)
        if (size[i] > 1 && size[i] <= n / 3 && (*sub < 0 || size[i] > size[*sub]))
            *sub = i;
    return h;
}

static int in_subtree(const rnode *nodes, int i, int sub)
{
    int a = i;
    while (a >= 0 && a != sub)
        a = nodes[a].parent;
    return sub < 0 || a == sub;
}

static const char check_defs[] = "indicators:\n"
                                 "  - id: x\n"
                                 "    aggregate: sum\n"
                                 "    over_time: stock\n"
                                 "    exact: true\n"
                                 "checks:\n"
                                 "  - id: adds_up\n"
                                 "    hierarchy: [x]\n";

/* tally check's hierarchy check, on data of one subtree (or of any region)
 * of random hierarchies: its summary and every finding's region, expected
 * and actual value against a reference that sums the regions that count
 * for each region by walking up the parent links. */
static void test_sparse__hierarchy_check_matches_a_reference(void **state)
{
    (void)state;
    static rnode nodes[RN_MAX];
    static double own[RN_MAX], sum[RN_MAX];
    static int cnt[RN_MAX], below[RN_MAX];
    for (unsigned seed = 1; seed <= 40; seed++) {
        rng_state = 0x9E3779B97F4A7C15ULL * seed;
        int n = 50 + (int)(rnd() % (RN_MAX - 50)), sub;
        tally_hierarchy *h = random_hierarchy(nodes, n, &sub, seed % 4 != 0);
        tally_definitions *d = NULL;
        assert_int_equal(tally_definitions_from_buffer(&d, check_defs, sizeof check_defs - 1,
                                                       "sparse.yaml"),
                         0);
        /* Values bottom-up (children come after their parent in generation
         * order): a region with children that reports files the sum of
         * its children's figures, or one more (a finding). */
        for (int i = 0; i < n; i++)
            own[i] = NAN;
        for (int i = n - 1; i >= 0; i--) {
            if (!in_subtree(nodes, i, sub) || rnd() % 3 == 0)
                continue;
            double s = 0;
            int any = 0;
            for (int c = i + 1; c < n; c++)
                if (nodes[c].parent == i && !isnan(own[c])) {
                    s += own[c];
                    any = 1;
                }
            own[i] = any ? s + (double)(rnd() % 3 == 0) : (double)(rnd() % 1000);
        }
        for (int prefer = 0; prefer <= 1; prefer++) {
            tally_dataset *ds = NULL;
            assert_int_equal(tally_dataset_new(&ds, h, d), 0);
            for (int i = 0; i < n; i++)
                if (!isnan(own[i]))
                    assert_int_equal(tally_dataset_add(ds, nodes[i].code, "x", "2019-01", own[i]),
                                     0);
            /* The reference: which regions count for whom. */
            for (int i = 0; i < n; i++) {
                sum[i] = 0;
                cnt[i] = below[i] = 0;
            }
            for (int i = 0; i < n; i++)
                if (!isnan(own[i]))
                    for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent)
                        below[a] = 1;
            for (int i = 0; i < n; i++) {
                if (isnan(own[i]) || (prefer == TALLY_PREFER_COMPUTED && below[i]))
                    continue;
                for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent) {
                    sum[a] += own[i];
                    cnt[a]++;
                    if (prefer == TALLY_PREFER_REPORTED && !isnan(own[a]))
                        break;
                }
            }
            size_t items = 0, passes = 0, fails = 0, missing = 0;
            int fail_at[RN_MAX] = { 0 };
            for (int i = 0; i < n; i++) {
                if (isnan(own[i]) || !cnt[i])
                    continue;
                items++;
                if (own[i] == sum[i]) {
                    passes++;
                } else {
                    fails++;
                    fail_at[i] = 1;
                }
                /* The regions below with no figure, walking down through
                 * regions whose figure is computed from below. */
                int stack[RN_MAX], top = 0;
                for (int c = n - 1; c > i; c--)
                    if (nodes[c].parent == i)
                        stack[top++] = c;
                while (top) {
                    int x = stack[--top];
                    if (!isnan(own[x]))
                        continue;
                    if (!cnt[x]) {
                        missing++;
                        continue;
                    }
                    for (int c = n - 1; c > x; c--)
                        if (nodes[c].parent == x)
                            stack[top++] = c;
                }
            }
            tally_check_options o = TALLY_CHECK_OPTIONS_INIT;
            o.prefer = prefer;
            tally_findings *F = NULL;
            assert_int_equal(tally_check_run(&F, ds, &o), 0);
            tally_check_summary s;
            assert_int_equal(tally_findings_summary(F, 0, &s), 0);
            assert_string_equal(s.check, "adds_up");
            if (s.items != items + missing || s.passes != passes || s.fails != fails ||
                s.missing != missing || s.warnings != 0) {
                print_error("seed %u prefer %d: items %zu passes %zu fails %zu missing %zu, "
                            "expected %zu %zu %zu %zu\n",
                            seed, prefer, s.items, s.passes, s.fails, s.missing, items + missing,
                            passes, fails, missing);
                fail();
            }
            assert_int_equal(tally_findings_count(F), fails);
            for (size_t k = 0; k < tally_findings_count(F); k++) {
                const char *code = tally_hierarchy_code(h, tally_findings_node(F, k));
                int i = atoi(code + 1);
                assert_true(fail_at[i]);
                fail_at[i] = 0;
                assert_true(tally_findings_actual(F, k) == own[i]);
                assert_true(tally_findings_expected(F, k) == sum[i]);
            }
            tally_findings_free(F);
            tally_dataset_free(ds);
        }
        tally_definitions_free(d);
        tally_hierarchy_free(h);
    }
}

/* A sum by the rollup's rule (prefer computed): a region's value is the
 * sum of the regions below that count (those with a value and nothing
 * below them), else its own value; NaN when it has neither. */
static void ref_sums(const rnode *nodes, int n, const double *own, double *out)
{
    static int below[RN_MAX], cnt[RN_MAX];
    static double sum[RN_MAX];
    for (int i = 0; i < n; i++) {
        below[i] = cnt[i] = 0;
        sum[i] = 0;
    }
    for (int i = 0; i < n; i++)
        if (!isnan(own[i]))
            for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent)
                below[a] = 1;
    for (int i = 0; i < n; i++)
        if (!isnan(own[i]) && !below[i])
            for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent) {
                sum[a] += own[i];
                cnt[a]++;
            }
    for (int i = 0; i < n; i++)
        out[i] = cnt[i] ? sum[i] : own[i];
}

static const char progress_defs[] = "indicators:\n"
                                    "  - id: x\n"
                                    "    aggregate: sum\n"
                                    "    over_time: flow\n"
                                    "    thresholds:\n"
                                    "      - level: county\n"
                                    "        max: 900\n"
                                    "        overrides:\n"
                                    "          - { regions: [\"901\"], max: 1500 }\n";

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* tally progress's year-to-date values and tally_poverty_thresholds's
 * values, limits and judgements at every region, on data of one subtree
 * (or of any region), against sums worked out by walking parent links. */
static void test_sparse__progress_and_thresholds_match_a_reference(void **state)
{
    (void)state;
    static rnode nodes[RN_MAX];
    static double month[RN_MAX][12], ytd[RN_MAX], year[RN_MAX], ref[RN_MAX];
    static unsigned char filed[RN_MAX][12];
    for (unsigned seed = 1; seed <= 40; seed++) {
        rng_state = 0x2545F4914F6CDD1DULL * seed;
        int n = 50 + (int)(rnd() % (RN_MAX - 50)), sub;
        tally_hierarchy *h = random_hierarchy(nodes, n, &sub, seed % 4 != 0);
        tally_definitions *d = NULL;
        assert_int_equal(tally_definitions_from_buffer(&d, progress_defs,
                                                       sizeof progress_defs - 1, "sparse.yaml"),
                         0);
        tally_dataset *ds = NULL;
        assert_int_equal(tally_dataset_new(&ds, h, d), 0);
        for (int i = 0; i < n; i++) {
            int reports = in_subtree(nodes, i, sub) && rnd() % 3 != 0;
            ytd[i] = year[i] = NAN;
            for (int m = 0; m < 12; m++) {
                filed[i][m] = reports && rnd() % 4 != 0;
                if (!filed[i][m])
                    continue;
                month[i][m] = (double)(rnd() % 200);
                char per[8];
                snprintf(per, sizeof per, "2019-%02d", m + 1);
                assert_int_equal(tally_dataset_add(ds, nodes[i].code, "x", per, month[i][m]), 0);
                year[i] = (isnan(year[i]) ? 0 : year[i]) + month[i][m];
                if (m < 6)
                    ytd[i] = (isnan(ytd[i]) ? 0 : ytd[i]) + month[i][m];
            }
        }
        /* Progress as of June: targets at a tenth of the regions, inside
         * the subtree or not. */
        tally_targets *t = NULL;
        assert_int_equal(tally_targets_new(&t, h, d), 0);
        for (int i = 0; i < n; i++)
            if (rnd() % 10 == 0)
                assert_int_equal(tally_targets_add(t, nodes[i].code, "x", 2019,
                                                   (double)(1 + rnd() % 1000)),
                                 0);
        tally_progress_options po = TALLY_PROGRESS_OPTIONS_INIT;
        po.year = 2019;
        po.month = 6;
        po.prefer = TALLY_PREFER_COMPUTED;
        tally_progress *pr = NULL;
        assert_int_equal(tally_progress_run(&pr, ds, t, &po), 0);
        ref_sums(nodes, n, ytd, ref);
        for (int i = 0; i < n; i++) {
            size_t node, row;
            assert_int_equal(tally_hierarchy_find(h, nodes[i].code, strlen(nodes[i].code), &node),
                             0);
            if (tally_targets_count(t) == 0)
                break;
            assert_int_equal(tally_progress_find(pr, node, 0, &row), 0);
            if (!same(tally_progress_actual(pr, row), ref[i])) {
                print_error("seed %u %s: actual %g, expected %g\n", seed, nodes[i].code,
                            tally_progress_actual(pr, row), ref[i]);
                fail();
            }
        }
        tally_progress_free(pr);
        tally_targets_free(t);

        /* Thresholds over the year: counties under 900, or 1500 for codes
         * that start with 901 (nodes 100..199), strictly. */
        const char *periods[1] = { "2019" };
        tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
        ro.periods = periods;
        ro.period_count = 1;
        tally_result *r = NULL;
        assert_int_equal(tally_rollup(&r, ds, &ro), 0);
        tally_thresholds *th = NULL;
        assert_int_equal(tally_poverty_thresholds(&th, r, NULL), 0);
        ref_sums(nodes, n, year, ref);
        for (int i = 0; i < n; i++) {
            size_t node;
            assert_int_equal(tally_hierarchy_find(h, nodes[i].code, strlen(nodes[i].code), &node),
                             0);
            tally_threshold_status st;
            assert_int_equal(tally_thresholds_status(th, node, 0, 0, &st), 0);
            double limit = nodes[i].level != 2             ? NAN
                           : strncmp(nodes[i].code, "901", 3) ? 900
                                                             : 1500;
            int meets = isnan(limit) || isnan(ref[i]) ? -1 : ref[i] < limit;
            if (!same(st.value, ref[i]) || !same(st.threshold, limit) || st.meets != meets ||
                st.is_max != !isnan(limit) || st.inclusive) {
                print_error("seed %u %s: value %g threshold %g meets %d, expected %g %g %d\n",
                            seed, nodes[i].code, st.value, st.threshold, st.meets, ref[i], limit,
                            meets);
                fail();
            }
        }
        tally_thresholds_free(th);
        tally_result_free(r);
        tally_dataset_free(ds);
        tally_definitions_free(d);
        tally_hierarchy_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse__hierarchy_check_matches_a_reference),
        cmocka_unit_test(test_sparse__progress_and_thresholds_match_a_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
