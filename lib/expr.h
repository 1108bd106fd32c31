/* Internal: formulas and rules, compiled once into a small stack program
 * and evaluated over whole columns of nodes.
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | cmp
 *   cmp     := add (('==' | '!=' | '<' | '<=' | '>' | '>=') add)?
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | identifier | identifier '(' args ')' | '(' expr ')'
 * Functions: abs min max round(x, n) pow sqrt ln exp if(c, a, b)
 *            is_missing(x) coalesce(x, y); in check rules also prev(x) and
 *            lag(x, n) (see tally_expr__compile_lagged). min, max and coalesce take two
 *            or more arguments (coalesce gives the first one not missing).
 * Powers are written pow(x, y): there is no '^' operator.
 * Missing is NaN, in and out. Any missing operand gives missing, except in
 * is_missing, coalesce, and the three-valued `and`/`or` (false and missing
 * = false; true or missing = true). Division by zero, sqrt of a negative,
 * ln of a non-positive and any non-finite result give missing.
 * Booleans are 1 and 0; any non-zero number is true. == and != are exact
 * (tolerances belong to the checks). round(x, n) rounds half away from zero
 * at n decimals (n rounded to an integer and clamped to -15..15), judging
 * the tie on the decimal value: x * 10^n within 4 ulps of .5 is a tie, so
 * round(2.675, 2) = 2.68 although the double 2.675 is slightly below.
 * Numbers: 100, 0.5, 1e3, .5. A name followed by '(' is a call; other
 * names go to the caller's resolver; `and`, `or`, `not` are reserved.
 */
#ifndef TALLY_LIB_EXPR_H
#define TALLY_LIB_EXPR_H

#include <stddef.h>

typedef struct tally_expr tally_expr;

/* Maps an identifier (`len` bytes, not NUL-terminated) to a variable index
 * >= 0, or returns -1 when it is unknown. */
typedef long (*tally_expr_resolve)(void *ctx, const char *name, size_t len);

/* Limits (documented in README): source length and nesting depth. */
#define TALLY_EXPR_MAX_LENGTH 4096
#define TALLY_EXPR_MAX_DEPTH 64
/* The furthest back lag(x, n) may look. */
#define TALLY_EXPR_MAX_LAG 60

/* Compiles `src` (`len` bytes). On failure returns TALLY_EPARSE (syntax,
 * wrong number of arguments), TALLY_ENOTFOUND (unknown identifier or
 * function), TALLY_ELIMIT or TALLY_ENOMEM; sets the last error with a
 * message "what is wrong; what was expected" (no location) and stores the
 * 0-based byte offset of the offending token in *error_offset. On success
 * *out belongs to the caller (tally_expr__free); on failure it is NULL.
 * `resolve` may be NULL (no names known), error_offset may be NULL. Syntax
 * errors read "unexpected 'x'; expected ..." (the offset of the end of the
 * input when it ends too early), an arity error points at the function's
 * name, an over-long source at offset TALLY_EXPR_MAX_LENGTH. */
int tally_expr__compile(tally_expr **out, const char *src, size_t len,
                        tally_expr_resolve resolve, void *ctx, size_t *error_offset);

/* As tally_expr__compile, and also accepts prev(x) and lag(x, n) (x an
 * identifier, n a whole number from 1 to TALLY_EXPR_MAX_LAG): x in the
 * period 1 or n periods back, read as variable x + n * lag_stride. Every
 * identifier must resolve below lag_stride (the number of indicators).
 * lag_stride 0 refuses prev and lag with TALLY_EPARSE at the name, as
 * tally_expr__compile does. */
int tally_expr__compile_lagged(tally_expr **out, const char *src, size_t len,
                               tally_expr_resolve resolve, void *ctx, long lag_stride,
                               size_t *error_offset);

/* The lag_stride the program was compiled with (0: it reads one period),
 * and the furthest lag it reads (0: none). Programs made by
 * tally_expr__split_comparison keep their rule's stride. */
long tally_expr__lag_stride(const tally_expr *e);
long tally_expr__max_lag(const tally_expr *e);

/* Frees a program; NULL does nothing. */
void tally_expr__free(tally_expr *e);

/* The distinct variable indices the program reads, in order of first use. */
size_t tally_expr__var_count(const tally_expr *e);
/* -1 when i >= tally_expr__var_count(e). */
long tally_expr__var(const tally_expr *e, size_t i);

/* 1 when the outermost operation gives a boolean (comparison, and, or, not,
 * is_missing). */
int tally_expr__is_boolean(const tally_expr *e);

/* Evaluates over n rows: columns[v] is the column of variable index v
 * (columns for variables the program does not read may be NULL; a NULL
 * column it reads counts as all missing); out gets n values and may be one
 * of the columns. Non-finite inputs count as missing. Works in blocks of
 * rows on a scratch stack it allocates per call, so one program may be
 * evaluated from several threads at once. Returns 0 or TALLY_ENOMEM. */
int tally_expr__eval(const tally_expr *e, const double *const *columns, size_t n, double *out);

/* Evaluates over intervals: variable v is [lo[v][i], hi[v][i]] (a point when
 * equal; NaN = missing). out_lo/out_hi get the tightest interval the
 * operations give with standard interval arithmetic (division by an interval
 * containing 0 gives missing; monotone functions map endpoints; pow with a
 * non-integer exponent over negative bases gives missing; comparisons and
 * logic give missing). Missing means "no interval holds every point": every
 * point of the operands giving missing, or only some (sqrt or ln over an
 * interval reaching below their domain, an end that overflows). Inside the
 * program the two are kept apart, and comparisons give [0, 0], [1, 1] or
 * [0, 1], so that is_missing, coalesce, if, and, or hold for every point;
 * only a boolean result as a whole comes out as missing. round(x, n) needs n
 * to be a point. Endpoints are computed in ordinary round-to-nearest
 * arithmetic, not widened outward: compare them with a tolerance of a few
 * ulps. lo[v] NULL reads as all missing; hi[v] NULL makes variable v exact
 * (hi = lo); ends given in the wrong order are swapped. Returns 0 or
 * TALLY_ENOMEM. */
int tally_expr__eval_interval(const tally_expr *e, const double *const *lo,
                              const double *const *hi, size_t n, double *out_lo,
                              double *out_hi);

/* Comparison operators, as tally_expr__split_comparison reports them. */
enum {
    TALLY_EXPR_OP_EQ = 1, /* == */
    TALLY_EXPR_OP_NE,     /* != */
    TALLY_EXPR_OP_LT,     /* <  */
    TALLY_EXPR_OP_LE,     /* <= */
    TALLY_EXPR_OP_GT,     /* >  */
    TALLY_EXPR_OP_GE      /* >= */
};

/* For a rule whose outermost operation is a comparison, splits it into its
 * two sides: *left and *right are new programs (the caller frees them with
 * tally_expr__free) and *op is one of TALLY_EXPR_OP_*. TALLY_EINVAL when the
 * outermost operation is not a comparison, TALLY_ENOMEM; on failure the
 * outputs are NULL and 0. */
int tally_expr__split_comparison(const tally_expr *e, tally_expr **left, int *op,
                                 tally_expr **right);

#endif
