/* Crosswalks between two vintages of a hierarchy: the object, inference
 * from two tables, reading one from CSV, writing it and its summary.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "tally/crosswalk.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "util.h"

typedef struct cw_row {
    size_t from_code, from_name, to_code, to_name; /* offsets into the arena */
    double share;                                  /* NaN: not given */
    int how;
    int level;
    unsigned long line;
} cw_row;

struct tally_crosswalk {
    cw_row *rows;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
    size_t *slots; /* from_code -> first row + 1; open addressing, power of two */
    size_t scap;
    char **level_names;
    size_t level_count;
    size_t *counts; /* (level_count + 1) x TALLY_CROSSWALK_KIND_COUNT; last row: any level */
};

static const char *const how_names[TALLY_CROSSWALK_KIND_COUNT] = {
    "same", "renamed", "recoded", "merged", "split", "unmatched", "given"
};

TALLY_EXTERN(const char *) tally_crosswalk_kind_name(int how)
{
    return how >= 0 && how < TALLY_CROSSWALK_KIND_COUNT ? how_names[how] : NULL;
}

/* ---- the object --------------------------------------------------------- */

static int cw_new(tally_crosswalk **out)
{
    tally_crosswalk *cw = calloc(1, sizeof *cw);
    if (!cw)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    /* Offset 0 is the empty string. */
    if (tally_util__grow((void **)&cw->arena, &cw->acap, 1, 1)) {
        free(cw);
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    cw->arena[0] = '\0';
    cw->alen = 1;
    *out = cw;
    return 0;
}

TALLY_EXTERN(void) tally_crosswalk_free(tally_crosswalk *cw)
{
    if (!cw)
        return;
    free(cw->rows);
    free(cw->arena);
    free(cw->slots);
    for (size_t i = 0; i < cw->level_count; i++)
        free(cw->level_names[i]);
    free(cw->level_names);
    free(cw->counts);
    free(cw);
}

/* Copies len bytes into the arena; the offset in *off. */
static int put_text(tally_crosswalk *cw, const char *s, size_t len, size_t *off)
{
    if (!len) {
        *off = 0;
        return 0;
    }
    if (tally_util__grow((void **)&cw->arena, &cw->acap, cw->alen + len + 1, 1))
        return TALLY_ENOMEM;
    memcpy(cw->arena + cw->alen, s, len);
    cw->arena[cw->alen + len] = '\0';
    *off = cw->alen;
    cw->alen += len + 1;
    return 0;
}

static cw_row *add_row(tally_crosswalk *cw)
{
    if (tally_util__grow((void **)&cw->rows, &cw->cap, cw->n + 1, sizeof *cw->rows))
        return NULL;
    cw_row *r = &cw->rows[cw->n++];
    memset(r, 0, sizeof *r);
    r->share = NAN;
    r->level = -1;
    return r;
}

static const char *text(const tally_crosswalk *cw, size_t off)
{
    return cw->arena + off;
}

/* The from_code table: rows of one from_code are next to each other; the
 * table holds the first. Returns TALLY_ENOMEM or 0. */
static int index_rows(tally_crosswalk *cw)
{
    size_t cap = 64;
    while (cap / 2 < cw->n)
        cap *= 2;
    cw->slots = calloc(cap, sizeof *cw->slots);
    if (!cw->slots)
        return TALLY_ENOMEM;
    cw->scap = cap;
    for (size_t i = 0; i < cw->n; i++) {
        if (i > 0 && strcmp(text(cw, cw->rows[i].from_code), text(cw, cw->rows[i - 1].from_code)) == 0)
            continue;
        const char *s = text(cw, cw->rows[i].from_code);
        size_t j = (size_t)tally_util__hash_bytes(s, strlen(s)) & (cap - 1);
        while (cw->slots[j])
            j = (j + 1) & (cap - 1);
        cw->slots[j] = i + 1;
    }
    return 0;
}

/* Counts regions per level and how. */
static int count_rows(tally_crosswalk *cw)
{
    size_t nl = cw->level_count + 1;
    cw->counts = calloc(nl * TALLY_CROSSWALK_KIND_COUNT, sizeof *cw->counts);
    if (!cw->counts)
        return TALLY_ENOMEM;
    for (size_t i = 0; i < cw->n; i++) {
        const cw_row *r = &cw->rows[i];
        if (i > 0 && strcmp(text(cw, r->from_code), text(cw, cw->rows[i - 1].from_code)) == 0)
            continue;
        if (r->level >= 0 && (size_t)r->level < cw->level_count)
            cw->counts[(size_t)r->level * TALLY_CROSSWALK_KIND_COUNT + (size_t)r->how]++;
        cw->counts[cw->level_count * TALLY_CROSSWALK_KIND_COUNT + (size_t)r->how]++;
    }
    return 0;
}

static int finish(tally_crosswalk *cw)
{
    if (index_rows(cw) || count_rows(cw))
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    return 0;
}

TALLY_EXTERN(size_t) tally_crosswalk_size(const tally_crosswalk *cw)
{
    return cw ? cw->n : 0;
}

#define ROW(cw, i) ((cw) && (i) < (cw)->n ? &(cw)->rows[i] : NULL)

TALLY_EXTERN(const char *) tally_crosswalk_from_code(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? text(cw, r->from_code) : NULL;
}

TALLY_EXTERN(const char *) tally_crosswalk_from_name(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? text(cw, r->from_name) : NULL;
}

TALLY_EXTERN(const char *) tally_crosswalk_to_code(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? text(cw, r->to_code) : NULL;
}

TALLY_EXTERN(const char *) tally_crosswalk_to_name(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? text(cw, r->to_name) : NULL;
}

TALLY_EXTERN(double) tally_crosswalk_share(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? r->share : NAN;
}

TALLY_EXTERN(int) tally_crosswalk_how(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? r->how : -1;
}

TALLY_EXTERN(int) tally_crosswalk_level(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? r->level : -1;
}

TALLY_EXTERN(unsigned long) tally_crosswalk_line(const tally_crosswalk *cw, size_t i)
{
    const cw_row *r = ROW(cw, i);
    return r ? r->line : 0;
}

static int same_code(const tally_crosswalk *cw, size_t row, const char *code, size_t len)
{
    const char *s = text(cw, cw->rows[row].from_code);
    return strncmp(s, code, len) == 0 && s[len] == '\0';
}

TALLY_EXTERN(int) tally_crosswalk_find(const tally_crosswalk *cw, const char *code, size_t len,
                                       size_t *first, size_t *count)
{
    if (first)
        *first = TALLY_NONE;
    if (count)
        *count = 0;
    if (!cw || !code || !cw->scap)
        return TALLY_ENOTFOUND;
    size_t j = (size_t)tally_util__hash_bytes(code, len) & (cw->scap - 1);
    for (; cw->slots[j]; j = (j + 1) & (cw->scap - 1)) {
        size_t row = cw->slots[j] - 1;
        if (!same_code(cw, row, code, len))
            continue;
        size_t k = row + 1;
        while (k < cw->n && same_code(cw, k, code, len))
            k++;
        if (first)
            *first = row;
        if (count)
            *count = k - row;
        return 0;
    }
    return TALLY_ENOTFOUND;
}

TALLY_EXTERN(size_t) tally_crosswalk_level_count(const tally_crosswalk *cw)
{
    return cw ? cw->level_count : 0;
}

TALLY_EXTERN(const char *) tally_crosswalk_level_name(const tally_crosswalk *cw, int level)
{
    return cw && level >= 0 && (size_t)level < cw->level_count ? cw->level_names[level] : NULL;
}

TALLY_EXTERN(size_t) tally_crosswalk_count(const tally_crosswalk *cw, int level, int how)
{
    if (!cw || !cw->counts || how < 0 || how >= TALLY_CROSSWALK_KIND_COUNT)
        return 0;
    size_t l = level < 0 ? cw->level_count : (size_t)level;
    if (l > cw->level_count)
        return 0;
    return cw->counts[l * TALLY_CROSSWALK_KIND_COUNT + (size_t)how];
}

/* ---- inference ---------------------------------------------------------- */

#define NONE32 UINT32_MAX
#define UNSET 0xFF

/* Suffixes that come and go between editions without the region changing:
 * committee forms (村委会 / 村民委员会 / 居委会 / 社区居民委员会),
 * 办事处, and the town and village words themselves (镇 / 乡 / 街道 / 村 /
 * 社区), which change when a 乡 becomes a 镇 or a 镇 a 街道. Longest
 * first; stripped repeatedly, never down to nothing. */
static const char *const suffixes[] = {
    "社区居民委员会", "居民委员会", "村民委员会", "社区居委会", "委员会", "居委会", "村委会",
    "办事处", "街道", "社区", "镇", "乡", "村",
};

/* The length of a name without the suffixes above. */
static uint32_t stem_len(const char *s)
{
    size_t n = strlen(s);
    for (;;) {
        int cut = 0;
        for (size_t k = 0; k < sizeof suffixes / sizeof *suffixes; k++) {
            size_t m = strlen(suffixes[k]);
            if (n > m && memcmp(s + n - m, suffixes[k], m) == 0) {
                n -= m;
                cut = 1;
                break;
            }
        }
        if (!cut)
            break;
    }
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

typedef struct infer {
    const tally_hierarchy *F, *T;
    size_t nF, nT;
    uint32_t *stemF, *stemT;
    uint32_t *codeT;   /* F node -> T node of the same code and level, or NONE32 */
    uint8_t *newcode;  /* T node: 1 when its code is not an F code of its level */
    int *lvmap;        /* F level -> T level, or -1 */
    uint8_t *how;
    uint32_t *tgt;     /* T node; for a split, an index into `splits` */
    uint32_t *splits;  /* per split: count, then the T nodes */
    size_t nsplits, splits_cap;
} infer;

static int levelT(const infer *x, size_t i)
{
    int l = tally_hierarchy_level(x->F, i);
    return l >= 0 && (size_t)l < tally_hierarchy_level_count(x->F) ? x->lvmap[l] : -1;
}

static int same_stem(const infer *x, size_t i, const tally_hierarchy *H, const uint32_t *stem,
                     size_t j)
{
    return stem[j] == x->stemF[i] &&
           memcmp(tally_hierarchy_name(H, j), tally_hierarchy_name(x->F, i), x->stemF[i]) == 0;
}

/* Rule 2: the one region of i's level with a new code and i's name in the
 * scope sT (NONE: everywhere), when the old scope sF holds one old region
 * of that name and level that does not live on by code. */
static size_t name_match(const infer *x, size_t i, size_t sT, size_t sF)
{
    int lt = levelT(x, i);
    if (lt < 0)
        return TALLY_NONE;
    size_t b = sT == TALLY_NONE ? 0 : sT + 1;
    size_t e = sT == TALLY_NONE ? x->nT : tally_hierarchy_subtree_end(x->T, sT);
    size_t cand = TALLY_NONE, found = 0;
    for (size_t j = b; j < e && found < 2; j++)
        if (x->newcode[j] && tally_hierarchy_level(x->T, j) == lt &&
            same_stem(x, i, x->T, x->stemT, j)) {
            cand = j;
            found++;
        }
    if (found != 1)
        return TALLY_NONE;
    int lf = tally_hierarchy_level(x->F, i);
    b = sF == TALLY_NONE ? 0 : sF + 1;
    e = sF == TALLY_NONE ? x->nF : tally_hierarchy_subtree_end(x->F, sF);
    found = 0;
    for (size_t k = b; k < e && found < 2; k++)
        if (x->codeT[k] == NONE32 && tally_hierarchy_level(x->F, k) == lf &&
            same_stem(x, i, x->F, x->stemF, k))
            found++;
    return found == 1 ? cand : TALLY_NONE;
}

/* The T ancestor of j (or j) at level lt, or TALLY_NONE. */
static size_t ancestor_at(const infer *x, size_t j, int lt)
{
    while (j != TALLY_NONE) {
        int l = tally_hierarchy_level(x->T, j);
        if (l == lt)
            return j;
        if (l < lt)
            return TALLY_NONE;
        j = tally_hierarchy_parent(x->T, j);
    }
    return TALLY_NONE;
}

static int lives(int how)
{
    return how == TALLY_CROSSWALK_SAME || how == TALLY_CROSSWALK_RENAMED ||
           how == TALLY_CROSSWALK_RECODED;
}

static void set(infer *x, size_t i, int how, size_t t)
{
    x->how[i] = (uint8_t)how;
    x->tgt[i] = t == TALLY_NONE ? NONE32 : (uint32_t)t;
}

/* Decides i and its subtree; sT is the new region i's nearest living
 * ancestor became (NONE: none), sF that ancestor. */
static int resolve(infer *x, size_t i, size_t sT, size_t sF)
{
    size_t end = tally_hierarchy_subtree_end(x->F, i);
    if (x->codeT[i] != NONE32) { /* rule 1 */
        size_t t = x->codeT[i];
        int same = strcmp(tally_hierarchy_name(x->F, i), tally_hierarchy_name(x->T, t)) == 0;
        set(x, i, same ? TALLY_CROSSWALK_SAME : TALLY_CROSSWALK_RENAMED, t);
        for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(x->F, c))
            if (resolve(x, c, t, i))
                return TALLY_ENOMEM;
        return 0;
    }
    size_t j = name_match(x, i, sT, sF); /* rule 2 */
    if (j != TALLY_NONE) {
        set(x, i, TALLY_CROSSWALK_RECODED, j);
        for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(x->F, c))
            if (resolve(x, c, j, i))
                return TALLY_ENOMEM;
        return 0;
    }
    if (end > i + 1) { /* rule 3: where its children went */
        for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(x->F, c))
            if (resolve(x, c, sT, sF))
                return TALLY_ENOMEM;
        int lt = levelT(x, i);
        size_t q[64], nq = 0, live = 0, total = 0;
        int many = 0;
        for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(x->F, c)) {
            total++;
            if (!lives(x->how[c]))
                continue;
            size_t a = lt < 0 ? TALLY_NONE : ancestor_at(x, x->tgt[c], lt);
            if (a == TALLY_NONE)
                continue;
            live++;
            size_t k = 0;
            while (k < nq && q[k] != a)
                k++;
            if (k == nq) {
                if (nq == sizeof q / sizeof *q)
                    many = 1;
                else
                    q[nq++] = a;
            }
        }
        if (nq == 1 && !many && live * 2 >= total) {
            size_t Q = q[0];
            if (x->newcode[Q]) {
                set(x, i, TALLY_CROSSWALK_RECODED, Q);
                /* Children not found in the wider scope may be found in Q. */
                for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(x->F, c))
                    if (!lives(x->how[c]) && resolve(x, c, Q, i))
                        return TALLY_ENOMEM;
            } else {
                set(x, i, TALLY_CROSSWALK_MERGED, Q);
            }
            return 0;
        }
        if (nq >= 2 && !many) {
            if (tally_util__grow((void **)&x->splits, &x->splits_cap, x->nsplits + nq + 1,
                                 sizeof *x->splits))
                return TALLY_ENOMEM;
            /* Successors in the new table's order. */
            for (size_t a = 1; a < nq; a++)
                for (size_t b = a; b > 0 && q[b - 1] > q[b]; b--) {
                    size_t t = q[b];
                    q[b] = q[b - 1];
                    q[b - 1] = t;
                }
            x->how[i] = TALLY_CROSSWALK_SPLIT;
            x->tgt[i] = (uint32_t)x->nsplits;
            x->splits[x->nsplits++] = (uint32_t)nq;
            for (size_t k = 0; k < nq; k++)
                x->splits[x->nsplits++] = (uint32_t)q[k];
            return 0;
        }
    }
    /* rule 4 */
    if (sT != TALLY_NONE)
        set(x, i, TALLY_CROSSWALK_MERGED, sT);
    else
        set(x, i, TALLY_CROSSWALK_UNMATCHED, TALLY_NONE);
    return 0;
}

static void infer_free(infer *x)
{
    free(x->stemF);
    free(x->stemT);
    free(x->codeT);
    free(x->newcode);
    free(x->lvmap);
    free(x->how);
    free(x->tgt);
    free(x->splits);
}

static int put_node(tally_crosswalk *cw, const tally_hierarchy *h, size_t i, size_t *code,
                    size_t *name)
{
    const char *c = tally_hierarchy_code(h, i), *n = tally_hierarchy_name(h, i);
    return put_text(cw, c, strlen(c), code) || put_text(cw, n, strlen(n), name) ? TALLY_ENOMEM
                                                                                 : 0;
}

static int emit(tally_crosswalk *cw, const infer *x)
{
    for (size_t i = 0; i < x->nF; i++) {
        size_t fc, fn;
        if (put_node(cw, x->F, i, &fc, &fn))
            return TALLY_ENOMEM;
        int how = x->how[i];
        size_t nt = 1;
        const uint32_t *ts = &x->tgt[i];
        if (how == TALLY_CROSSWALK_SPLIT) {
            nt = x->splits[x->tgt[i]];
            ts = &x->splits[x->tgt[i] + 1];
        }
        for (size_t k = 0; k < nt; k++) {
            cw_row *r = add_row(cw);
            if (!r)
                return TALLY_ENOMEM;
            r->from_code = fc;
            r->from_name = fn;
            r->how = how;
            r->level = tally_hierarchy_level(x->F, i);
            if (ts[k] != NONE32 && put_node(cw, x->T, ts[k], &r->to_code, &r->to_name))
                return TALLY_ENOMEM;
            r->share = how == TALLY_CROSSWALK_SPLIT || how == TALLY_CROSSWALK_UNMATCHED ? NAN : 1.0;
        }
    }
    return 0;
}

static int infer_run(infer *x, tally_crosswalk *cw)
{
    const tally_hierarchy *F = x->F, *T = x->T;
    size_t nF = x->nF, nT = x->nT;
    size_t nlF = tally_hierarchy_level_count(F);
    x->stemF = malloc((nF ? nF : 1) * sizeof *x->stemF);
    x->stemT = malloc((nT ? nT : 1) * sizeof *x->stemT);
    x->codeT = malloc((nF ? nF : 1) * sizeof *x->codeT);
    x->newcode = malloc(nT ? nT : 1);
    x->lvmap = malloc((nlF ? nlF : 1) * sizeof *x->lvmap);
    x->how = malloc(nF ? nF : 1);
    x->tgt = malloc((nF ? nF : 1) * sizeof *x->tgt);
    if (!x->stemF || !x->stemT || !x->codeT || !x->newcode || !x->lvmap || !x->how || !x->tgt)
        return TALLY_ENOMEM;
    for (size_t l = 0; l < nlF; l++)
        x->lvmap[l] = tally_hierarchy_level_find(T, tally_hierarchy_level_name(F, (int)l));
    for (size_t i = 0; i < nF; i++)
        x->stemF[i] = stem_len(tally_hierarchy_name(F, i));
    for (size_t j = 0; j < nT; j++) {
        x->stemT[j] = stem_len(tally_hierarchy_name(T, j));
        x->newcode[j] = 1;
    }
    for (size_t i = 0; i < nF; i++) {
        const char *c = tally_hierarchy_code(F, i);
        size_t j;
        x->codeT[i] = NONE32;
        x->how[i] = UNSET;
        if (tally_hierarchy_find(T, c, strlen(c), &j) == 0 &&
            tally_hierarchy_level(T, j) == levelT(x, i)) {
            x->codeT[i] = (uint32_t)j;
            x->newcode[j] = 0;
        }
    }
    tally_error_clear(); /* the misses above are not errors */
    for (size_t i = 0; i < nF; i++)
        if (tally_hierarchy_parent(F, i) == TALLY_NONE && resolve(x, i, TALLY_NONE, TALLY_NONE))
            return TALLY_ENOMEM;
    /* Several old regions recoded to one new region: merged into it. */
    uint32_t *claims = calloc(nT ? nT : 1, sizeof *claims);
    if (!claims)
        return TALLY_ENOMEM;
    for (size_t i = 0; i < nF; i++)
        if (x->how[i] == TALLY_CROSSWALK_RECODED && claims[x->tgt[i]] < UINT32_MAX)
            claims[x->tgt[i]]++;
    /* ...except the one whose children make up more than half of the new
     * region's (祁阳县 of 祁阳市, beside 金洞管理区 merged into it): it is
     * what lives on. `claims` then holds that region + 1, or 0. */
    for (size_t i = 0; i < nF; i++) {
        if (x->how[i] != TALLY_CROSSWALK_RECODED || claims[x->tgt[i]] < 2)
            continue;
        size_t q = x->tgt[i], qend = tally_hierarchy_subtree_end(T, q), qn = 0, mine = 0;
        for (size_t c = q + 1; c < qend; c = tally_hierarchy_subtree_end(T, c))
            qn++;
        size_t end = tally_hierarchy_subtree_end(F, i);
        for (size_t c = i + 1; c < end; c = tally_hierarchy_subtree_end(F, c))
            if (lives(x->how[c]) && ancestor_at(x, x->tgt[c], tally_hierarchy_level(T, q)) == q)
                mine++;
        x->how[i] = mine * 2 > qn ? UNSET : TALLY_CROSSWALK_MERGED;
    }
    for (size_t i = 0; i < nF; i++)
        if (x->how[i] == UNSET)
            x->how[i] = TALLY_CROSSWALK_RECODED;
    free(claims);
    return emit(cw, x);
}

TALLY_EXTERN(int) tally_crosswalk_infer(tally_crosswalk **out, const tally_hierarchy *from,
                                        const tally_hierarchy *to,
                                        const tally_crosswalk_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !from || !to)
        return tally_error__set(TALLY_EINVAL, "tally_crosswalk_infer: NULL argument");
    if (opts && (opts->version < 1 || opts->version > TALLY_CROSSWALK_OPTIONS_VERSION))
        return tally_error__set(TALLY_EINVAL,
                                "tally_crosswalk_options version %u; expected 1 to %d "
                                "(TALLY_CROSSWALK_OPTIONS_INIT)",
                                opts->version, TALLY_CROSSWALK_OPTIONS_VERSION);
    if (tally_hierarchy_size(from) >= NONE32 || tally_hierarchy_size(to) >= NONE32)
        return tally_error__set(TALLY_ELIMIT, "tally_crosswalk_infer: more than 4294967294 regions");
    tally_crosswalk *cw;
    int rc = cw_new(&cw);
    if (rc)
        return rc;
    infer x;
    memset(&x, 0, sizeof x);
    x.F = from;
    x.T = to;
    x.nF = tally_hierarchy_size(from);
    x.nT = tally_hierarchy_size(to);
    size_t nl = tally_hierarchy_level_count(from);
    cw->level_names = calloc(nl ? nl : 1, sizeof *cw->level_names);
    rc = cw->level_names ? 0 : TALLY_ENOMEM;
    for (size_t l = 0; l < nl && !rc; l++) {
        const char *name = tally_hierarchy_level_name(from, (int)l);
        cw->level_names[l] = tally_util__strndup(name, strlen(name));
        if (!cw->level_names[l])
            rc = TALLY_ENOMEM;
        cw->level_count = l + 1;
    }
    if (!rc)
        rc = infer_run(&x, cw);
    infer_free(&x);
    if (rc) {
        tally_crosswalk_free(cw);
        return tally_error__set(TALLY_ENOMEM, "out of memory inferring a crosswalk");
    }
    rc = finish(cw);
    if (rc) {
        tally_crosswalk_free(cw);
        return rc;
    }
    *out = cw;
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct read_row {
    unsigned long line, share_col, to_col;
    size_t group;
} read_row;

typedef struct reader {
    tally_crosswalk *cw;
    const char *path;
    read_row *rr;
    size_t rr_cap;
    size_t *gslots; /* from_code -> group + 1 */
    size_t gcap;
    size_t *gfirst; /* group -> first row */
    size_t ngroups, gfirst_cap;
} reader;

static int how_of(const char *s, size_t len)
{
    for (int h = 0; h < TALLY_CROSSWALK_KIND_COUNT; h++)
        if (strlen(how_names[h]) == len && memcmp(how_names[h], s, len) == 0)
            return h;
    return -1;
}

/* The group of a from_code, made on first sight; TALLY_ENOMEM. */
static int group_of(reader *rd, size_t row, size_t *group)
{
    tally_crosswalk *cw = rd->cw;
    const char *s = text(cw, cw->rows[row].from_code);
    size_t len = strlen(s);
    if (rd->ngroups * 2 >= rd->gcap) {
        size_t cap = rd->gcap ? rd->gcap * 2 : 64;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return TALLY_ENOMEM;
        for (size_t j = 0; j < rd->gcap; j++) {
            if (!rd->gslots[j])
                continue;
            const char *t = text(cw, cw->rows[rd->gfirst[rd->gslots[j] - 1]].from_code);
            size_t k = (size_t)tally_util__hash_bytes(t, strlen(t)) & (cap - 1);
            while (slots[k])
                k = (k + 1) & (cap - 1);
            slots[k] = rd->gslots[j];
        }
        free(rd->gslots);
        rd->gslots = slots;
        rd->gcap = cap;
    }
    size_t j = (size_t)tally_util__hash_bytes(s, len) & (rd->gcap - 1);
    for (; rd->gslots[j]; j = (j + 1) & (rd->gcap - 1)) {
        size_t g = rd->gslots[j] - 1;
        if (strcmp(text(cw, cw->rows[rd->gfirst[g]].from_code), s) == 0) {
            *group = g;
            return 0;
        }
    }
    if (tally_util__grow((void **)&rd->gfirst, &rd->gfirst_cap, rd->ngroups + 1,
                         sizeof *rd->gfirst))
        return TALLY_ENOMEM;
    rd->gfirst[rd->ngroups] = row;
    rd->gslots[j] = ++rd->ngroups;
    *group = rd->ngroups - 1;
    return 0;
}

/* The group of a code, or TALLY_NONE. */
static size_t find_group(const reader *rd, const char *s)
{
    if (!rd->gcap)
        return TALLY_NONE;
    size_t j = (size_t)tally_util__hash_bytes(s, strlen(s)) & (rd->gcap - 1);
    for (; rd->gslots[j]; j = (j + 1) & (rd->gcap - 1)) {
        size_t g = rd->gslots[j] - 1;
        if (strcmp(text(rd->cw, rd->cw->rows[rd->gfirst[g]].from_code), s) == 0)
            return g;
    }
    return TALLY_NONE;
}

static int read_rows(reader *rd, tally_csv *c, const tally_hierarchy *to)
{
    tally_crosswalk *cw = rd->cw;
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row from_code,to_code,share");
    size_t nf = c->nfields;
    long fc = tally_csv__find_column(c, "from_code"), tc = tally_csv__find_column(c, "to_code"),
         sc = tally_csv__find_column(c, "share"), fnc = tally_csv__find_column(c, "from_name"),
         tnc = tally_csv__find_column(c, "to_name"), hc = tally_csv__find_column(c, "how");
    if (fc < 0 || tc < 0 || sc < 0)
        return tally_csv__error_at_field(
            c, 0, TALLY_EPARSE, "header has no '%s' column; expected from_code,to_code,share",
            fc < 0 ? "from_code" : tc < 0 ? "to_code" : "share");
    while ((rc = tally_csv__next(c)) > 0) {
        if (c->nfields != nf)
            return tally_csv__error_at_field(c, c->nfields < nf ? c->nfields : nf, TALLY_EPARSE,
                                             "row has %zu fields; expected %zu as in the header",
                                             c->nfields, nf);
        const tally_csv_field *f = &c->fields[fc], *t = &c->fields[tc], *s = &c->fields[sc];
        if (!f->len)
            return tally_csv__error_at_field(c, (size_t)fc, TALLY_EPARSE,
                                             "empty from_code; expected the old region's code");
        if (t->len && to) {
            size_t node;
            if (tally_hierarchy_find(to, t->ptr, t->len, &node))
                return tally_csv__error_at_field(
                    c, (size_t)tc, TALLY_ENOTFOUND,
                    "unknown to_code '%.*s'; expected a code of the new hierarchy", (int)t->len,
                    t->ptr);
        }
        double share = NAN;
        if (s->len) {
            int r = tally_util__parse_number(s->ptr, s->len, &share);
            if (r)
                return tally_csv__error_at_field(c, (size_t)sc, TALLY_EPARSE,
                                                 "bad share '%.*s'; expected a number above 0 "
                                                 "and at most 1, or empty for a split left open",
                                                 (int)s->len, s->ptr);
            if (!(share > 0 && share <= 1))
                return tally_csv__error_at_field(c, (size_t)sc, TALLY_ERANGE,
                                                 "share %.*s is outside (0, 1]; expected the "
                                                 "part of the old region that went to to_code",
                                                 (int)s->len, s->ptr);
        }
        int how = TALLY_CROSSWALK_GIVEN;
        if (hc >= 0 && c->fields[hc].len) {
            how = how_of(c->fields[hc].ptr, c->fields[hc].len);
            if (how < 0)
                return tally_csv__error_at_field(c, (size_t)hc, TALLY_EPARSE,
                                                 "unknown how '%.*s'; expected same, renamed, "
                                                 "recoded, merged, split, unmatched or given",
                                                 (int)c->fields[hc].len, c->fields[hc].ptr);
        }
        cw_row *r = add_row(cw);
        if (!r || put_text(cw, f->ptr, f->len, &r->from_code) ||
            put_text(cw, t->ptr, t->len, &r->to_code) ||
            (fnc >= 0 && put_text(cw, c->fields[fnc].ptr, c->fields[fnc].len, &r->from_name)) ||
            (tnc >= 0 && put_text(cw, c->fields[tnc].ptr, c->fields[tnc].len, &r->to_name)) ||
            tally_util__grow((void **)&rd->rr, &rd->rr_cap, cw->n, sizeof *rd->rr))
            return tally_error__set(TALLY_ENOMEM, "out of memory");
        r->share = share;
        r->how = how;
        r->line = c->line;
        read_row *q = &rd->rr[cw->n - 1];
        unsigned long line;
        tally_csv__locate(c, s->offset, &line, &q->share_col);
        tally_csv__locate(c, t->offset, &line, &q->to_col);
        q->line = c->line;
        if (group_of(rd, cw->n - 1, &q->group))
            return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    return rc;
}

/* The checks across rows, group by group, then the rows put in group
 * order. */
static void shortest(char *buf, size_t size, double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
}

static int check_groups(reader *rd)
{
    tally_crosswalk *cw = rd->cw;
    size_t n = cw->n, ng = rd->ngroups;
    size_t *start = calloc(ng + 1, sizeof *start), *order = malloc((n ? n : 1) * sizeof *order);
    cw_row *rows = malloc((n ? n : 1) * sizeof *rows);
    int rc = 0;
    if (!start || !order || !rows) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        start[rd->rr[i].group + 1]++;
    for (size_t g = 0; g < ng; g++)
        start[g + 1] += start[g];
    for (size_t i = 0; i < n; i++)
        order[start[rd->rr[i].group]++] = i;
    for (size_t g = ng; g > 0; g--)
        start[g] = start[g - 1];
    start[0] = 0;
    for (size_t g = 0; g < ng && !rc; g++) {
        size_t b = start[g], e = start[g + 1];
        const cw_row *first = &cw->rows[order[b]];
        const char *from = text(cw, first->from_code);
        size_t given = 0;
        double sum = 0, comp = 0;
        for (size_t k = b; k < e; k++) {
            const cw_row *r = &cw->rows[order[k]];
            const read_row *q = &rd->rr[order[k]];
            if (!isnan(r->share)) {
                given++;
                tally_util__neumaier(&sum, &comp, r->share);
            }
            if (!r->to_code && e - b > 1) {
                rc = tally_error__set_at(TALLY_EINVAL, rd->path, q->line, q->to_col, NULL, 0,
                                         "empty to_code for %s, which has other rows; expected "
                                         "the code of a new region",
                                         from);
                break;
            }
            for (size_t m = b; m < k && !rc; m++)
                if (strcmp(text(cw, cw->rows[order[m]].to_code), text(cw, r->to_code)) == 0)
                    rc = tally_error__set_at(TALLY_EINVAL, rd->path, q->line, q->to_col, NULL, 0,
                                             "%s -> %s given twice (also line %lu); expected "
                                             "each successor once",
                                             from, text(cw, r->to_code), rd->rr[order[m]].line);
            if (rc)
                break;
            /* A successor that is itself an old region mapped elsewhere. */
            size_t tg = r->to_code ? find_group(rd, text(cw, r->to_code)) : TALLY_NONE;
            if (tg != TALLY_NONE && tg != g) {
                for (size_t km = start[tg]; km < start[tg + 1]; km++) {
                    size_t m = order[km];
                    if (strcmp(text(cw, cw->rows[m].to_code), text(cw, r->to_code)) != 0) {
                        rc = tally_error__set_at(
                            TALLY_ECYCLE, rd->path, q->line, q->to_col, NULL, 0,
                            "%s -> %s, and %s -> %s on line %lu: a chain (or a cycle); expected "
                            "one step from the old table to the new, a to_code that is not "
                            "mapped on",
                            from, text(cw, r->to_code), text(cw, r->to_code),
                            text(cw, cw->rows[m].to_code), rd->rr[m].line);
                        break;
                    }
                }
                if (rc)
                    break;
            }
        }
        if (rc)
            break;
        const read_row *last = &rd->rr[order[e - 1]];
        if (given && given != e - b) {
            rc = tally_error__set_at(TALLY_EINVAL, rd->path, last->line, last->share_col, NULL, 0,
                                     "%s has a share on %zu of its %zu rows; expected a share "
                                     "on every row, or on none (a split left open)",
                                     from, given, e - b);
        } else if (given && fabs(sum + comp - 1) > 1e-9) {
            /* 12 digits: 0.6 + 0.3 is 0.8999999999999999 in doubles. */
            char total[32];
            snprintf(total, sizeof total, "%.12g", sum + comp);
            rc = tally_error__set_at(TALLY_EINVAL, rd->path, last->line, last->share_col, NULL, 0,
                                     "the shares of %s sum to %s over %zu rows (from line "
                                     "%lu); expected 1",
                                     from, total, e - b, rd->rr[order[b]].line);
        }
    }
    if (!rc) {
        for (size_t k = 0; k < n; k++) {
            rows[k] = cw->rows[order[k]];
        }
        memcpy(cw->rows, rows, n * sizeof *rows);
    }
done:
    free(start);
    free(order);
    free(rows);
    return rc;
}

TALLY_EXTERN(int) tally_crosswalk_from_buffer(tally_crosswalk **out, const char *data,
                                              size_t size, const char *name,
                                              const tally_hierarchy *to)
{
    if (out)
        *out = NULL;
    if (!out || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_crosswalk_from_buffer: NULL argument");
    reader rd;
    memset(&rd, 0, sizeof rd);
    int rc = cw_new(&rd.cw);
    if (rc)
        return rc;
    tally_csv c;
    tally_csv__init(&c, data ? data : "", size, name ? name : "<buffer>");
    rd.path = c.name;
    rc = read_rows(&rd, &c, to);
    if (!rc)
        rc = check_groups(&rd);
    tally_csv__fini(&c);
    free(rd.rr);
    free(rd.gslots);
    free(rd.gfirst);
    if (!rc)
        rc = finish(rd.cw);
    if (rc) {
        tally_crosswalk_free(rd.cw);
        return rc;
    }
    *out = rd.cw;
    return 0;
}

TALLY_EXTERN(int) tally_crosswalk_from_file(tally_crosswalk **out, const char *path,
                                            const tally_hierarchy *to)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return tally_error__set(TALLY_EINVAL, "tally_crosswalk_from_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = tally_crosswalk_from_buffer(out, m.data, m.size, path, to);
    tally_util__unmap(&m);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_share(FILE *f, double v)
{
    if (isnan(v))
        return;
    char buf[32];
    shortest(buf, sizeof buf, v);
    fputs(buf, f);
}

static FILE *open_out(const char *path, FILE *std)
{
    FILE *f = path ? fopen(path, "w") : std;
    if (!f)
        tally_error__set(TALLY_EIO, "%s: cannot open for writing", path);
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (path)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    return bad ? tally_error__set(TALLY_EIO, "%s: write failed", path ? path : "<stdout>") : 0;
}

TALLY_EXTERN(int) tally_crosswalk_write(const tally_crosswalk *cw, const char *path)
{
    if (!cw)
        return tally_error__set(TALLY_EINVAL, "tally_crosswalk_write: NULL crosswalk");
    FILE *f = open_out(path, stdout);
    if (!f)
        return TALLY_EIO;
    fputs("from_code,from_name,to_code,to_name,share,how\n", f);
    for (size_t i = 0; i < cw->n; i++) {
        const cw_row *r = &cw->rows[i];
        put_field(f, text(cw, r->from_code));
        fputc(',', f);
        put_field(f, text(cw, r->from_name));
        fputc(',', f);
        put_field(f, text(cw, r->to_code));
        fputc(',', f);
        put_field(f, text(cw, r->to_name));
        fputc(',', f);
        put_share(f, r->share);
        fputc(',', f);
        fputs(how_names[r->how], f);
        fputc('\n', f);
    }
    return close_out(f, path);
}

TALLY_EXTERN(int) tally_crosswalk_write_summary(const tally_crosswalk *cw, const char *path)
{
    if (!cw)
        return tally_error__set(TALLY_EINVAL, "tally_crosswalk_write_summary: NULL crosswalk");
    FILE *f = open_out(path, stderr);
    if (!f)
        return TALLY_EIO;
    size_t nl = cw->level_count;
    for (size_t l = 0; l <= nl; l++) {
        size_t total = 0;
        for (int h = 0; h < TALLY_CROSSWALK_KIND_COUNT; h++)
            total += tally_crosswalk_count(cw, l == nl ? -1 : (int)l, h);
        if (l < nl && !total)
            continue;
        fprintf(f, "%s: %zu regions =", l == nl ? "all levels" : cw->level_names[l], total);
        int first = 1;
        for (int h = 0; h < TALLY_CROSSWALK_KIND_COUNT; h++) {
            size_t k = tally_crosswalk_count(cw, l == nl ? -1 : (int)l, h);
            if (h == TALLY_CROSSWALK_GIVEN && !k)
                continue;
            fprintf(f, "%s %zu %s", first ? "" : " +", k, how_names[h]);
            first = 0;
        }
        fputc('\n', f);
    }
    return close_out(f, path);
}
