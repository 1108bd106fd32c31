/* Fuzz target: the definitions YAML reader (tally_definitions_from_buffer),
 * then every formula it compiled evaluated by a rollup over a small
 * hierarchy.
 *
 * Invariants checked on success: every accessor answers for every
 * indicator, ids are found at their own index, decimals within 0..15,
 * formula indicators have a program whose variables are indicators, and
 * the evaluation order puts every formula after the formulas it reads. On
 * failure: a code, a message, no object, and a line inside the input.
 *
 * The thresholds, checks and inline targets accessors are called when the
 * library has them (weak references), so the target keeps building while
 * those parts are written.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "definitions.h"
#include "fuzz.h"

#if defined(__GNUC__)
#define FUZZ_WEAK __attribute__((weak))
#else
#define FUZZ_WEAK
#endif

size_t tally_definitions__thresholds(const tally_definitions *d, size_t i,
                                     const tally_threshold **out) FUZZ_WEAK;
size_t tally_definitions__checks(const tally_definitions *d, const tally_check_def **out) FUZZ_WEAK;
size_t tally_definitions__targets(const tally_definitions *d, const tally_target_def **out) FUZZ_WEAK;
int tally_definitions__poverty_line(const tally_definitions *d, int year, double *line) FUZZ_WEAK;
double tally_definitions__monitoring_line(const tally_definitions *d) FUZZ_WEAK;

static void check_program(const tally_expr *e, size_t count)
{
    FUZZ_CHECK(e != NULL);
    for (size_t v = 0; v < tally_expr__var_count(e); v++) {
        long var = tally_expr__var(e, v);
        FUZZ_CHECK(var >= 0 && (size_t)var < count);
    }
}

static void check_extras(const tally_definitions *d, size_t count)
{
    for (size_t i = 0; tally_definitions__thresholds && i < count; i++) {
        const tally_threshold *t;
        size_t n = tally_definitions__thresholds(d, i, &t);
        for (size_t k = 0; k < n; k++) {
            FUZZ_CHECK(t[k].level && t[k].line >= 1);
            for (size_t o = 0; o < t[k].override_count; o++)
                for (size_t p = 0; p < t[k].overrides[o].prefix_count; p++)
                    FUZZ_CHECK(t[k].overrides[o].prefixes[p][0] != '\0');
        }
    }
    if (tally_definitions__checks) {
        const tally_check_def *c;
        size_t n = tally_definitions__checks(d, &c);
        for (size_t k = 0; k < n; k++) {
            FUZZ_CHECK(c[k].id && c[k].id[0]);
            for (size_t j = 0; j < c[k].indicator_count; j++)
                FUZZ_CHECK(c[k].indicators[j] < count);
            if (c[k].kind == TALLY_CHECK_RULE)
                check_program(c[k].rule, count);
        }
    }
    if (tally_definitions__targets) {
        const tally_target_def *t;
        size_t n = tally_definitions__targets(d, &t);
        for (size_t k = 0; k < n; k++)
            FUZZ_CHECK(t[k].region && t[k].indicator < count);
    }
    if (tally_definitions__poverty_line) {
        double line;
        (void)tally_definitions__poverty_line(d, 2019, &line);
    }
    if (tally_definitions__monitoring_line)
        (void)tally_definitions__monitoring_line(d);
}

/* One value per reported indicator at two villages and two months, then a
 * rollup: every formula runs over sums, missing values and zeros. */
static void rollup(const tally_hierarchy *h, const tally_definitions *d)
{
    tally_dataset *ds;
    FUZZ_CHECK(tally_dataset_new(&ds, h, d) == 0);
    size_t count = tally_definitions_indicator_count(d);
    for (size_t i = 0; i < count; i++) {
        if (tally_definitions_formula(d, i))
            continue;
        const char *id = tally_definitions_id(d, i);
        FUZZ_CHECK(tally_dataset_add(ds, "430602001001", id, "2019-01", (double)i) == 0);
        /* An indicator that counts whole units refuses a fraction. */
        double half = tally_definitions__whole(d, i) ? 2.0 : 2.5;
        FUZZ_CHECK(tally_dataset_add(ds, "430602001002", id, "2019-01", half) == 0);
        FUZZ_CHECK(tally_dataset_add(ds, "430626100201", id, "2019-02", NAN) == 0);
    }
    tally_result *r;
    int rc = tally_rollup(&r, ds, NULL);
    if (rc)
        fuzz_check_error(rc);
    else
        tally_result_free(r);
    tally_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tally_hierarchy *h;
    if (!h && tally_hierarchy_from_buffer(&h, fixture_hierarchy, sizeof fixture_hierarchy - 1,
                                          "hierarchy.csv", NULL))
        abort();
    tally_definitions *d = (tally_definitions *)&d; /* must be overwritten */
    int rc = tally_definitions_from_buffer(&d, (const char *)data, size, "definitions.yaml");
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(d == NULL);
        FUZZ_CHECK(tally_error_last()->line <= fuzz_yaml_line_count(data, size));
        return 0;
    }
    size_t count = tally_definitions_indicator_count(d);
    for (size_t i = 0; i < tally_definitions_level_count(d); i++)
        FUZZ_CHECK(tally_definitions_level_name(d, i) != NULL);
    size_t nformulas = 0;
    for (size_t i = 0; i < count; i++) {
        const char *id = tally_definitions_id(d, i);
        FUZZ_CHECK(id && id[0]);
        size_t found;
        FUZZ_CHECK(tally_definitions_find(d, id, strlen(id), &found) == 0 && found == i);
        FUZZ_CHECK(tally_definitions_name(d, i) && tally_definitions_unit(d, i));
        int dec = tally_definitions_decimals(d, i);
        FUZZ_CHECK(dec >= 0 && dec <= 15);
        int agg = tally_definitions_aggregate(d, i);
        FUZZ_CHECK(agg >= TALLY_AGGREGATE_SUM && agg <= TALLY_AGGREGATE_FORMULA);
        FUZZ_CHECK(tally_definitions_over_time(d, i) >= 0);
        FUZZ_CHECK(tally_definitions_direction(d, i) >= 0);
        FUZZ_CHECK(tally_definitions_exact(d, i) == 0 || tally_definitions_exact(d, i) == 1);
        FUZZ_CHECK(!isinf(tally_definitions_min(d, i)) && !isinf(tally_definitions_max(d, i)));
        const tally_expr *e = tally_definitions__program(d, i);
        FUZZ_CHECK((tally_definitions_formula(d, i) != NULL) == (e != NULL));
        FUZZ_CHECK((agg == TALLY_AGGREGATE_FORMULA) == (e != NULL));
        if (e) {
            check_program(e, count);
            nformulas++;
        }
        unsigned long line, column;
        tally_definitions__position(d, i, &line, &column);
        FUZZ_CHECK(line >= 1 && column >= 1);
    }
    const size_t *order;
    size_t n = tally_definitions__formula_order(d, &order);
    FUZZ_CHECK(n == nformulas);
    /* Dependency order: each formula's formula operands come before it. */
    for (size_t k = 0; k < n; k++) {
        const tally_expr *e = tally_definitions__program(d, order[k]);
        FUZZ_CHECK(e != NULL);
        for (size_t v = 0; v < tally_expr__var_count(e); v++) {
            size_t var = (size_t)tally_expr__var(e, v);
            if (!tally_definitions__program(d, var))
                continue;
            int before = 0;
            for (size_t j = 0; j < k; j++)
                before |= order[j] == var;
            FUZZ_CHECK(before);
        }
    }
    check_extras(d, count);
    rollup(h, d);
    tally_definitions_free(d);
    return 0;
}
