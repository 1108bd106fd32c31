/* Formulas and rules: evaluation of a compiled program (expr.c) over whole
 * columns, one block of rows at a time.
 *
 * Why a stack program evaluated per block: a formula is evaluated at every
 * node of a hierarchy (hundreds of thousands) and every period. Walking a
 * tree per row costs a dispatch per operation per row; here each
 * instruction costs one dispatch per block and then a tight loop over the
 * block, on a stack of block-sized arrays that stays in the L1 cache.
 *
 * SPDX-License-Identifier: MIT
 */
#include "expr.h"

#include <math.h>
#include <stdlib.h>

#include "expr_impl.h"
#include "tally/error.h"

/* ------------------------------------------------------------------------ */
/* Evaluation over columns. */

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* One loop per operation. The output never aliases an operand (see
 * exec_block), hence restrict, which lets the loops vectorize. */
#define MAP1(name, fn)                                                                       \
    static ALWAYS_INLINE void name(double *restrict r, const double *restrict a, size_t m)   \
    {                                                                                        \
        for (size_t i = 0; i < m; i++)                                                       \
            r[i] = fn(a[i]);                                                                 \
    }
#define MAP2(name, fn)                                                                       \
    static ALWAYS_INLINE void name(double *restrict r, const double *restrict a,             \
                                   const double *restrict b, size_t m)                       \
    {                                                                                        \
        for (size_t i = 0; i < m; i++)                                                       \
            r[i] = fn(a[i], b[i]);                                                           \
    }

MAP1(map_neg, s_neg)
MAP1(map_not, s_not)
MAP1(map_abs, s_abs)
MAP1(map_sqrt, s_sqrt)
MAP1(map_ln, s_ln)
MAP1(map_exp, s_exp)
MAP1(map_is_missing, s_is_missing)
MAP2(map_add, s_add)
MAP2(map_sub, s_sub)
MAP2(map_mul, s_mul)
MAP2(map_div, s_div)
MAP2(map_pow, s_pow)
MAP2(map_min, s_min)
MAP2(map_max, s_max)
MAP2(map_round, s_round)
MAP2(map_coalesce, s_coalesce)
MAP2(map_and, s_and)
MAP2(map_or, s_or)
MAP2(map_eq, s_eq)
MAP2(map_ne, s_ne)
MAP2(map_lt, s_lt)
MAP2(map_le, s_le)
MAP2(map_gt, s_gt)
MAP2(map_ge, s_ge)

static ALWAYS_INLINE void map_if(double *restrict r, const double *restrict c,
                                 const double *restrict a, const double *restrict b, size_t m)
{
    for (size_t i = 0; i < m; i++)
        r[i] = s_if(c[i], a[i], b[i]);
}

/* The scratch of one evaluation: stack + 1 block-sized buffers (buf, the
 * last one spare) and one pointer per stack level (st), which points
 * either at buf[level] or straight into an input column: loads copy
 * nothing. Each operation writes into the spare buffer and then swaps it
 * with its result level's buffer, so no output aliases an operand. */
typedef struct scratch {
    double *mem;
    double **buf;
    const double **st;
} scratch;

static int scratch_new(scratch *s, size_t levels, size_t sides)
{
    size_t nbuf = (levels + 1) * sides;
    s->mem = malloc(nbuf * BLOCK * sizeof *s->mem);
    s->buf = malloc(nbuf * sizeof *s->buf);
    s->st = malloc(nbuf * sizeof *s->st);
    if (!s->mem || !s->buf || !s->st) {
        free(s->mem);
        free(s->buf);
        free((void *)s->st);
        return TALLY_ENOMEM;
    }
    for (size_t k = 0; k < nbuf; k++)
        s->buf[k] = s->mem + k * BLOCK;
    return 0;
}

static void scratch_free(scratch *s)
{
    free(s->mem);
    free(s->buf);
    free((void *)s->st);
}

/* Runs the program over rows [base, base + m); the result is left in
 * st[0]. Inlined twice, once with m = BLOCK as a constant, so that full
 * blocks run loops of a known length, which compilers vectorize even at
 * -O2. */
static ALWAYS_INLINE void exec_block(const tally_expr *e, const double *const *columns,
                                     size_t base, size_t m, double **buf, const double **st)
{
    const size_t spare = e->stack;
    size_t sp = 0;
    for (size_t pc = 0; pc < e->n; pc++) {
        const insn *in = &e->code[pc];
        int op = in->op;
        if (op == OP_CONST || op == OP_LOAD) {
            const double *c = op == OP_LOAD && columns ? columns[in->var] : NULL;
            if (c) {
                st[sp] = c + base;
            } else {
                fill(buf[sp], m, op == OP_CONST ? in->value : NAN);
                st[sp] = buf[sp];
            }
            sp++;
            continue;
        }
        size_t k = IS_UNARY(op) ? sp - 1 : IS_BINARY(op) ? sp - 2 : sp - 3;
        double *r = buf[spare];
        const double *a = st[k], *b = st[k + 1];
        switch (op) {
        case OP_NEG: map_neg(r, a, m); break;
        case OP_NOT: map_not(r, a, m); break;
        case OP_ABS: map_abs(r, a, m); break;
        case OP_SQRT: map_sqrt(r, a, m); break;
        case OP_LN: map_ln(r, a, m); break;
        case OP_EXP: map_exp(r, a, m); break;
        case OP_IS_MISSING: map_is_missing(r, a, m); break;
        case OP_ADD: map_add(r, a, b, m); break;
        case OP_SUB: map_sub(r, a, b, m); break;
        case OP_MUL: map_mul(r, a, b, m); break;
        case OP_DIV: map_div(r, a, b, m); break;
        case OP_POW: map_pow(r, a, b, m); break;
        case OP_MIN: map_min(r, a, b, m); break;
        case OP_MAX: map_max(r, a, b, m); break;
        case OP_ROUND: map_round(r, a, b, m); break;
        case OP_COALESCE: map_coalesce(r, a, b, m); break;
        case OP_AND: map_and(r, a, b, m); break;
        case OP_OR: map_or(r, a, b, m); break;
        case OP_EQ: map_eq(r, a, b, m); break;
        case OP_NE: map_ne(r, a, b, m); break;
        case OP_LT: map_lt(r, a, b, m); break;
        case OP_LE: map_le(r, a, b, m); break;
        case OP_GT: map_gt(r, a, b, m); break;
        case OP_GE: map_ge(r, a, b, m); break;
        case OP_IF: map_if(r, a, b, st[k + 2], m); break;
        default: fill(r, m, NAN); break;
        }
        buf[spare] = buf[k];
        buf[k] = r;
        st[k] = r;
        sp = k + 1;
    }
}

int tally_expr__eval(const tally_expr *e, const double *const *columns, size_t n, double *out)
{
    if (n == 0)
        return 0;
    scratch s;
    if (scratch_new(&s, e->stack, 1))
        return TALLY_ENOMEM;
    for (size_t base = 0; base < n; base += BLOCK) {
        size_t m = n - base < BLOCK ? n - base : BLOCK;
        if (m == BLOCK)
            exec_block(e, columns, base, BLOCK, s.buf, s.st);
        else
            exec_block(e, columns, base, m, s.buf, s.st);
        /* Operations give finite values or NaN; a bare variable may not.
         * out may be an input column: same row read, then written. */
        const double *res = s.st[0];
        double *o = out + base;
        for (size_t i = 0; i < m; i++)
            o[i] = finite_or_nan(res[i]);
    }
    scratch_free(&s);
    return 0;
}
