/* Formulas and rules: a recursive-descent compiler to a stack program, and
 * an evaluator that runs that program over whole columns, one block of rows
 * at a time.
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tally/error.h"
#include "util.h"

/* Rows per block: 256 doubles are 2 KiB per stack slot, so a program with a
 * deep stack still fits in L1 while the per-instruction dispatch is spread
 * over enough rows not to matter. */
enum { BLOCK = 256 };

/* Instructions. The order matters: IS_UNARY, IS_BINARY and IS_COMPARISON
 * below classify them by range. */
enum {
    OP_CONST, /* push value */
    OP_LOAD,  /* push column var */
    /* unary */
    OP_NEG,
    OP_NOT,
    OP_ABS,
    OP_SQRT,
    OP_LN,
    OP_EXP,
    OP_IS_MISSING,
    /* binary */
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_POW,
    OP_MIN,
    OP_MAX,
    OP_ROUND,
    OP_COALESCE,
    OP_AND,
    OP_OR,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    /* ternary */
    OP_IF
};

#define IS_UNARY(op) ((op) >= OP_NEG && (op) <= OP_IS_MISSING)
#define IS_BINARY(op) ((op) >= OP_ADD && (op) <= OP_GE)
#define IS_COMPARISON(op) ((op) >= OP_EQ && (op) <= OP_GE)

typedef struct insn {
    int op;
    long var;     /* OP_LOAD */
    double value; /* OP_CONST */
} insn;

struct tally_expr {
    insn *code;
    size_t n;
    long *vars; /* distinct, first use first */
    size_t nvars;
    size_t stack; /* deepest stack the program reaches */
};

/* ------------------------------------------------------------------------ */
/* Scalar semantics, shared by the evaluator and constant folding so both
 * give the same answer. Any non-finite value counts as missing. */

/* The evaluator's loops should vectorize: these are written without
 * branches (bitwise & and | on comparison results, selects instead of
 * if/return), which GCC and Clang turn into blends. */
static inline int missing(double x) { return !isfinite(x); }
static inline double finite_or_nan(double r) { return isfinite(r) ? r : NAN; }

static inline double s_add(double a, double b) { return finite_or_nan(a + b); }
static inline double s_sub(double a, double b) { return finite_or_nan(a - b); }
static inline double s_mul(double a, double b) { return finite_or_nan(a * b); }
static inline double s_div(double a, double b)
{
    /* b must be checked itself: a / inf would be a finite 0. */
    double q = a / b;
    return ((b != 0) & isfinite(b) & isfinite(q)) ? q : NAN;
}
static inline double s_neg(double a) { return finite_or_nan(-a); }

static inline double s_pow(double a, double b)
{
    /* pow(NaN, 0) and pow(1, NaN) are 1 in C; missing must stay missing. */
    if (missing(a) || missing(b))
        return NAN;
    return finite_or_nan(pow(a, b));
}

static inline double s_min(double a, double b)
{
    return (isfinite(a) & isfinite(b)) ? (b < a ? b : a) : NAN;
}

static inline double s_max(double a, double b)
{
    return (isfinite(a) & isfinite(b)) ? (b > a ? b : a) : NAN;
}

static inline double s_and(double a, double b)
{
    int any_false = (isfinite(a) & (a == 0)) | (isfinite(b) & (b == 0));
    int any_missing = !isfinite(a) | !isfinite(b);
    return any_false ? 0.0 : any_missing ? NAN : 1.0;
}

static inline double s_or(double a, double b)
{
    int any_true = (isfinite(a) & (a != 0)) | (isfinite(b) & (b != 0));
    int any_missing = !isfinite(a) | !isfinite(b);
    return any_true ? 1.0 : any_missing ? NAN : 0.0;
}

static inline double s_coalesce(double a, double b) { return isfinite(a) ? a : finite_or_nan(b); }
static inline double s_not(double a) { return isfinite(a) ? (double)(a == 0) : NAN; }
static inline double s_is_missing(double a) { return (double)!isfinite(a); }
static inline double s_abs(double a) { return finite_or_nan(fabs(a)); }
static inline double s_sqrt(double a) { return (missing(a) || a < 0) ? NAN : sqrt(a); }
static inline double s_ln(double a) { return (missing(a) || a <= 0) ? NAN : log(a); }
static inline double s_exp(double a) { return missing(a) ? NAN : finite_or_nan(exp(a)); }

#define BOTH(a, b) (isfinite(a) & isfinite(b))
static inline double s_eq(double a, double b) { return BOTH(a, b) ? (double)(a == b) : NAN; }
static inline double s_ne(double a, double b) { return BOTH(a, b) ? (double)(a != b) : NAN; }
static inline double s_lt(double a, double b) { return BOTH(a, b) ? (double)(a < b) : NAN; }
static inline double s_le(double a, double b) { return BOTH(a, b) ? (double)(a <= b) : NAN; }
static inline double s_gt(double a, double b) { return BOTH(a, b) ? (double)(a > b) : NAN; }
static inline double s_ge(double a, double b) { return BOTH(a, b) ? (double)(a >= b) : NAN; }
#undef BOTH

static const double pow10_table[16] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/* Rounds half away from zero at `digits` decimals. The tie is judged on the
 * decimal the user sees, not on the binary double: 2.675 is stored as
 * 2.67499999999999982236431605997495353221893310546875, yet a report that
 * prints 2.68 for it is right. So x * 10^n within 4 ulps of .5 counts as a
 * tie (one ulp from the scaling, the rest from x's own representation). */
static double s_round(double x, double digits)
{
    if (missing(x) || missing(digits))
        return NAN;
    /* n: digits rounded half away from zero, clamped to -15..15. */
    double d = digits < -15 ? -15 : digits > 15 ? 15 : digits;
    int n = (int)(d < 0 ? d - 0.5 : d + 0.5);
    double p = pow10_table[n < 0 ? -n : n];
    double y = n >= 0 ? x * p : x / p;
    /* From 2^52 on every double is an integer: nothing to round. */
    if (!(fabs(y) < 0x1p52))
        return x;
    double t = (double)(int64_t)y; /* trunc, exact below 2^52 */
    double f = fabs(y - t);        /* exact: y and t share their high bits */
    /* ulp(y): the power of two of y's exponent times 2^-52 (0 for
     * subnormals, which are never near a half). */
    double ay = fabs(y), top;
    uint64_t bits;
    memcpy(&bits, &ay, sizeof bits);
    bits &= 0x7ff0000000000000u;
    memcpy(&top, &bits, sizeof top);
    double ulp = top * 0x1p-52;
    /* Near 2^52 four ulps would swallow genuine quarters: cap the slack. */
    double tol = 4 * ulp < 0x1p-6 ? 4 * ulp : 0x1p-6;
    /* Written as selects: whether a row rounds up is data, not a pattern
     * a branch predictor can learn. */
    double away = f >= 0.5 - tol ? 1.0 : 0.0;
    t += copysign(away, y);
    double r = n >= 0 ? t / p : t * p;
    return finite_or_nan(r) + 0.0; /* + 0.0 turns -0 into 0 */
}

static inline double s_if(double c, double a, double b)
{
    return isfinite(c) ? finite_or_nan(c != 0 ? a : b) : NAN;
}

static double s_binary(int op, double a, double b)
{
    switch (op) {
    case OP_ADD: return s_add(a, b);
    case OP_SUB: return s_sub(a, b);
    case OP_MUL: return s_mul(a, b);
    case OP_DIV: return s_div(a, b);
    case OP_POW: return s_pow(a, b);
    case OP_MIN: return s_min(a, b);
    case OP_MAX: return s_max(a, b);
    case OP_ROUND: return s_round(a, b);
    case OP_COALESCE: return s_coalesce(a, b);
    case OP_AND: return s_and(a, b);
    case OP_OR: return s_or(a, b);
    case OP_EQ: return s_eq(a, b);
    case OP_NE: return s_ne(a, b);
    case OP_LT: return s_lt(a, b);
    case OP_LE: return s_le(a, b);
    case OP_GT: return s_gt(a, b);
    case OP_GE: return s_ge(a, b);
    default: return NAN;
    }
}

/* ------------------------------------------------------------------------ */
/* Programs. */

void tally_expr__free(tally_expr *e)
{
    if (!e)
        return;
    free(e->code);
    free(e->vars);
    free(e);
}

/* A program over a copy of code[0, n): its variable list and stack depth.
 * NULL when out of memory. */
static tally_expr *program_new(const insn *code, size_t n)
{
    tally_expr *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->code = malloc((n ? n : 1) * sizeof *e->code);
    e->vars = malloc((n ? n : 1) * sizeof *e->vars);
    if (!e->code || !e->vars) {
        tally_expr__free(e);
        return NULL;
    }
    memcpy(e->code, code, n * sizeof *code);
    e->n = n;
    size_t sp = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        int op = code[i].op;
        if (op == OP_CONST || op == OP_LOAD)
            sp++;
        else if (IS_BINARY(op))
            sp--;
        else if (op == OP_IF)
            sp -= 2;
        if (sp > max)
            max = sp;
        if (op == OP_LOAD) {
            /* Linear search: formulas read a handful of variables. */
            size_t k = 0;
            while (k < e->nvars && e->vars[k] != code[i].var)
                k++;
            if (k == e->nvars)
                e->vars[e->nvars++] = code[i].var;
        }
    }
    e->stack = max;
    return e;
}

size_t tally_expr__var_count(const tally_expr *e) { return e->nvars; }

long tally_expr__var(const tally_expr *e, size_t i) { return i < e->nvars ? e->vars[i] : -1; }

int tally_expr__is_boolean(const tally_expr *e)
{
    if (e->n == 0)
        return 0;
    int op = e->code[e->n - 1].op;
    return IS_COMPARISON(op) || op == OP_AND || op == OP_OR || op == OP_NOT ||
           op == OP_IS_MISSING;
}

int tally_expr__split_comparison(const tally_expr *e, tally_expr **left, int *op,
                                 tally_expr **right)
{
    *left = NULL;
    *right = NULL;
    *op = 0;
    if (e->n < 3 || !IS_COMPARISON(e->code[e->n - 1].op))
        return tally_error__set(TALLY_EINVAL,
                                "the rule is not a comparison; expected a rule of the form "
                                "'left op right' with op one of == != < <= > >=");
    /* The right operand is the shortest suffix (before the comparison)
     * that pushes exactly one value; the left operand is the rest. */
    size_t k = e->n - 1;
    long need = 1;
    while (k > 0) {
        int o = e->code[--k].op;
        if (o == OP_CONST || o == OP_LOAD)
            need--;
        else if (IS_BINARY(o))
            need++;
        else if (o == OP_IF)
            need += 2;
        if (need == 0)
            break;
    }
    tally_expr *l = program_new(e->code, k);
    tally_expr *r = program_new(e->code + k, e->n - 1 - k);
    if (!l || !r) {
        tally_expr__free(l);
        tally_expr__free(r);
        return tally_error__set(TALLY_ENOMEM, "out of memory splitting a rule");
    }
    static const int map[] = { TALLY_EXPR_OP_EQ, TALLY_EXPR_OP_NE, TALLY_EXPR_OP_LT,
                               TALLY_EXPR_OP_LE, TALLY_EXPR_OP_GT, TALLY_EXPR_OP_GE };
    *op = map[e->code[e->n - 1].op - OP_EQ];
    *left = l;
    *right = r;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lexer. */

enum {
    T_END,
    T_NUM,
    T_IDENT,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_BAD /* a character no token starts with */
};

typedef struct parser {
    const char *src;
    size_t len;
    size_t pos; /* where the lexer goes on */
    /* the current token */
    int tok;
    size_t start, tlen;
    double num;

    int depth;
    tally_expr_resolve resolve;
    void *ctx;
    insn *code;
    size_t n, cap;
    size_t err_offset;
} parser;

static const char OPERAND[] =
    "a number, an indicator id, a function call, '(', '-' or 'not'";

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int word_is(const parser *p, const char *w)
{
    size_t n = strlen(w);
    return p->tlen == n && memcmp(p->src + p->start, w, n) == 0;
}

/* Reads the next token. Fails only on a number that does not fit a double. */
static int lex(parser *p)
{
    const char *s = p->src;
    size_t i = p->pos, len = p->len;
    while (i < len && is_space(s[i]))
        i++;
    p->start = i;
    if (i >= len) {
        p->tok = T_END;
        p->tlen = 0;
        p->pos = i;
        return 0;
    }
    char c = s[i];
    size_t j = i + 1;
    int t = T_BAD;
    if (is_digit(c) || (c == '.' && i + 1 < len && is_digit(s[i + 1]))) {
        j = i;
        while (j < len && is_digit(s[j]))
            j++;
        if (j < len && s[j] == '.') {
            j++;
            while (j < len && is_digit(s[j]))
                j++;
        }
        /* An exponent only when digits follow: in "2e" the 'e' is left over
         * and reported as unexpected. */
        if (j < len && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < len && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k < len && is_digit(s[k])) {
                while (k < len && is_digit(s[k]))
                    k++;
                j = k;
            }
        }
        int rc = tally_util__parse_number(s + i, j - i, &p->num);
        if (rc) {
            p->err_offset = i;
            return tally_error__set(TALLY_EPARSE,
                                    "number '%.*s' is out of range; expected a finite number",
                                    (int)(j - i > 40 ? 40 : j - i), s + i);
        }
        t = T_NUM;
    } else if (is_ident_start(c)) {
        while (j < len && (is_ident_start(s[j]) || is_digit(s[j])))
            j++;
        p->tlen = j - i;
        t = T_IDENT;
        if (word_is(p, "and"))
            t = T_AND;
        else if (word_is(p, "or"))
            t = T_OR;
        else if (word_is(p, "not"))
            t = T_NOT;
    } else {
        char d = i + 1 < len ? s[i + 1] : '\0';
        switch (c) {
        case '(': t = T_LPAREN; break;
        case ')': t = T_RPAREN; break;
        case ',': t = T_COMMA; break;
        case '+': t = T_PLUS; break;
        case '-': t = T_MINUS; break;
        case '*': t = T_STAR; break;
        case '/': t = T_SLASH; break;
        case '<':
            t = d == '=' ? T_LE : T_LT;
            j += d == '=';
            break;
        case '>':
            t = d == '=' ? T_GE : T_GT;
            j += d == '=';
            break;
        case '=':
            if (d == '=') {
                t = T_EQ;
                j++;
            }
            break;
        case '!':
            if (d == '=') {
                t = T_NE;
                j++;
            }
            break;
        case '&':
        case '|':
            j += d == c; /* "&&", "||": reported whole */
            break;
        default:
            /* Show the whole UTF-8 character (a full-width bracket, say). */
            if ((unsigned char)c >= 0xC0)
                while (j < len && j < i + 4 && ((unsigned char)s[j] & 0xC0) == 0x80)
                    j++;
            break;
        }
    }
    p->tok = t;
    p->tlen = j - i;
    p->pos = j;
    return 0;
}

/* What a stray character probably meant. */
static const char *hint(const parser *p)
{
    if (p->tok != T_BAD)
        return "";
    switch (p->src[p->start]) {
    case '=': return " (equality is written '==')";
    case '^': return " (powers are written pow(x, y))";
    case '&': return " (write 'and')";
    case '|': return " (write 'or')";
    case '!': return " (write 'not' or '!=')";
    default: return "";
    }
}

static int unexpected(parser *p, const char *expected)
{
    p->err_offset = p->start;
    if (p->tok == T_END)
        return tally_error__set(TALLY_EPARSE, "unexpected end of formula; expected %s",
                                expected);
    int shown = p->tlen > 40 ? 40 : (int)p->tlen;
    return tally_error__set(TALLY_EPARSE, "unexpected '%.*s%s'; expected %s%s", shown,
                            p->src + p->start, p->tlen > 40 ? "..." : "", expected, hint(p));
}

/* ------------------------------------------------------------------------ */
/* Code generation. */

static int emit(parser *p, int op, long var, double value)
{
    if (p->n == p->cap) {
        void *c = p->code;
        if (tally_util__grow(&c, &p->cap, p->n + 1, sizeof *p->code)) {
            p->err_offset = p->start;
            return tally_error__set(TALLY_ENOMEM, "out of memory compiling a formula");
        }
        p->code = c;
    }
    p->code[p->n].op = op;
    p->code[p->n].var = var;
    p->code[p->n].value = value;
    p->n++;
    return 0;
}

/* Folds arithmetic on constants (a negative literal, `1 / 12 * 100`), so the
 * evaluator does not refill constant blocks it could have skipped.
 * Comparisons and logic are left alone: a rule like `1 < 2` must still be
 * seen as a comparison by is_boolean and split_comparison. A constant at
 * the end of the code is a whole operand: no larger operand ends in a push. */
static int emit_op(parser *p, int op)
{
    int foldable = op == OP_NEG || op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV;
    if (foldable && op == OP_NEG && p->n >= 1 && p->code[p->n - 1].op == OP_CONST) {
        p->code[p->n - 1].value = s_neg(p->code[p->n - 1].value);
        return 0;
    }
    if (foldable && op != OP_NEG && p->n >= 2 && p->code[p->n - 1].op == OP_CONST &&
        p->code[p->n - 2].op == OP_CONST) {
        p->code[p->n - 2].value =
            s_binary(op, p->code[p->n - 2].value, p->code[p->n - 1].value);
        p->n--;
        return 0;
    }
    return emit(p, op, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* Parser: one function per grammar rule in expr.h. */

static int parse_or(parser *p);

static int enter(parser *p)
{
    if (++p->depth > TALLY_EXPR_MAX_DEPTH) {
        p->err_offset = p->start;
        return tally_error__set(TALLY_ELIMIT,
                                "formula nests deeper than %d levels (parentheses, calls, "
                                "unary operators); expected at most %d",
                                TALLY_EXPR_MAX_DEPTH, TALLY_EXPR_MAX_DEPTH);
    }
    return 0;
}

static const struct function {
    const char *name;
    int op;
    int min_args, max_args; /* max_args 0: any number from min_args */
    const char *usage;
} functions[] = {
    { "abs", OP_ABS, 1, 1, "abs(x)" },
    { "min", OP_MIN, 2, 0, "min(x, y, ...)" },
    { "max", OP_MAX, 2, 0, "max(x, y, ...)" },
    { "round", OP_ROUND, 2, 2, "round(x, n)" },
    { "pow", OP_POW, 2, 2, "pow(x, y)" },
    { "sqrt", OP_SQRT, 1, 1, "sqrt(x)" },
    { "ln", OP_LN, 1, 1, "ln(x)" },
    { "exp", OP_EXP, 1, 1, "exp(x)" },
    { "if", OP_IF, 3, 3, "if(condition, then, else)" },
    { "is_missing", OP_IS_MISSING, 1, 1, "is_missing(x)" },
    { "coalesce", OP_COALESCE, 2, 0, "coalesce(x, y, ...)" },
};

enum { NFUNCTIONS = sizeof functions / sizeof functions[0] };

static int parse_call(parser *p)
{
    size_t name_at = p->start, name_len = p->tlen;
    const struct function *f = NULL;
    for (size_t k = 0; k < NFUNCTIONS; k++)
        if (word_is(p, functions[k].name))
            f = &functions[k];
    if (!f) {
        p->err_offset = name_at;
        return tally_error__set(TALLY_ENOTFOUND,
                                "unknown function '%.*s'; expected one of abs, min, max, "
                                "round, pow, sqrt, ln, exp, if, is_missing, coalesce",
                                (int)(name_len > 40 ? 40 : name_len), p->src + name_at);
    }
    int rc = enter(p);
    if (rc)
        return rc;
    if ((rc = lex(p)) || (rc = lex(p))) /* the name, then '(' */
        return rc;
    int argc = 0;
    if (p->tok != T_RPAREN) {
        for (;;) {
            if ((rc = parse_or(p)))
                return rc;
            argc++;
            /* Variadic functions fold left as they go, which keeps the
             * stack at two slots however many arguments there are. */
            if (!f->max_args && argc >= 2 && (rc = emit_op(p, f->op)))
                return rc;
            if (p->tok == T_RPAREN)
                break;
            if (p->tok != T_COMMA)
                return unexpected(p, "an operator, ',' or ')'");
            if ((rc = lex(p)))
                return rc;
        }
    }
    if (argc < f->min_args || (f->max_args && argc > f->max_args)) {
        p->err_offset = name_at;
        if (f->max_args == f->min_args)
            return tally_error__set(TALLY_EPARSE,
                                    "%s takes %d argument%s, not %d; expected %s", f->name,
                                    f->min_args, f->min_args == 1 ? "" : "s", argc, f->usage);
        return tally_error__set(TALLY_EPARSE, "%s takes %d or more arguments, not %d; expected %s",
                                f->name, f->min_args, argc, f->usage);
    }
    if (f->max_args && (rc = emit_op(p, f->op)))
        return rc;
    p->depth--;
    return lex(p);
}

static int parse_primary(parser *p)
{
    int rc;
    switch (p->tok) {
    case T_NUM:
        if ((rc = emit(p, OP_CONST, 0, p->num)))
            return rc;
        return lex(p);
    case T_LPAREN:
        if ((rc = enter(p)) || (rc = lex(p)) || (rc = parse_or(p)))
            return rc;
        if (p->tok != T_RPAREN)
            return unexpected(p, "an operator or ')'");
        p->depth--;
        return lex(p);
    case T_IDENT: {
        /* A name followed by '(' is a call, whatever the name. */
        size_t k = p->pos;
        while (k < p->len && is_space(p->src[k]))
            k++;
        if (k < p->len && p->src[k] == '(')
            return parse_call(p);
        long v = p->resolve ? p->resolve(p->ctx, p->src + p->start, p->tlen) : -1;
        if (v < 0) {
            p->err_offset = p->start;
            return tally_error__set(TALLY_ENOTFOUND,
                                    "unknown indicator '%.*s'; expected an indicator id "
                                    "defined in the file",
                                    (int)(p->tlen > 40 ? 40 : p->tlen), p->src + p->start);
        }
        if ((rc = emit(p, OP_LOAD, v, 0)))
            return rc;
        return lex(p);
    }
    default:
        return unexpected(p, OPERAND);
    }
}

static int parse_unary(parser *p)
{
    if (p->tok != T_MINUS)
        return parse_primary(p);
    int rc;
    if ((rc = enter(p)) || (rc = lex(p)) || (rc = parse_unary(p)) || (rc = emit_op(p, OP_NEG)))
        return rc;
    p->depth--;
    return 0;
}

static int parse_mul(parser *p)
{
    int rc = parse_unary(p);
    while (!rc && (p->tok == T_STAR || p->tok == T_SLASH)) {
        int op = p->tok == T_STAR ? OP_MUL : OP_DIV;
        if (!(rc = lex(p)) && !(rc = parse_unary(p)))
            rc = emit_op(p, op);
    }
    return rc;
}

static int parse_add(parser *p)
{
    int rc = parse_mul(p);
    while (!rc && (p->tok == T_PLUS || p->tok == T_MINUS)) {
        int op = p->tok == T_PLUS ? OP_ADD : OP_SUB;
        if (!(rc = lex(p)) && !(rc = parse_mul(p)))
            rc = emit_op(p, op);
    }
    return rc;
}

static int comparison_op(int tok)
{
    switch (tok) {
    case T_EQ: return OP_EQ;
    case T_NE: return OP_NE;
    case T_LT: return OP_LT;
    case T_LE: return OP_LE;
    case T_GT: return OP_GT;
    case T_GE: return OP_GE;
    default: return -1;
    }
}

static int parse_cmp(parser *p)
{
    int rc = parse_add(p);
    int op = comparison_op(p->tok);
    if (rc || op < 0)
        return rc;
    if ((rc = lex(p)) || (rc = parse_add(p)) || (rc = emit_op(p, op)))
        return rc;
    if (comparison_op(p->tok) >= 0)
        return unexpected(p, "an operator other than a comparison, as comparisons do not "
                             "chain (write a < b and b < c)");
    return 0;
}

static int parse_not(parser *p)
{
    if (p->tok != T_NOT)
        return parse_cmp(p);
    int rc;
    if ((rc = enter(p)) || (rc = lex(p)) || (rc = parse_not(p)) || (rc = emit_op(p, OP_NOT)))
        return rc;
    p->depth--;
    return 0;
}

static int parse_and(parser *p)
{
    int rc = parse_not(p);
    while (!rc && p->tok == T_AND)
        if (!(rc = lex(p)) && !(rc = parse_not(p)))
            rc = emit_op(p, OP_AND);
    return rc;
}

static int parse_or(parser *p)
{
    int rc = parse_and(p);
    while (!rc && p->tok == T_OR)
        if (!(rc = lex(p)) && !(rc = parse_and(p)))
            rc = emit_op(p, OP_OR);
    return rc;
}

int tally_expr__compile(tally_expr **out, const char *src, size_t len,
                        tally_expr_resolve resolve, void *ctx, size_t *error_offset)
{
    *out = NULL;
    if (error_offset)
        *error_offset = 0;
    if (len > TALLY_EXPR_MAX_LENGTH) {
        if (error_offset)
            *error_offset = TALLY_EXPR_MAX_LENGTH;
        return tally_error__set(TALLY_ELIMIT,
                                "formula is %zu bytes long; expected at most %d bytes", len,
                                TALLY_EXPR_MAX_LENGTH);
    }
    parser p;
    memset(&p, 0, sizeof p);
    p.src = src;
    p.len = len;
    p.resolve = resolve;
    p.ctx = ctx;
    int rc = lex(&p);
    if (!rc)
        rc = parse_or(&p);
    if (!rc && p.tok != T_END)
        rc = unexpected(&p, "an operator or the end of the formula");
    if (!rc) {
        *out = program_new(p.code, p.n);
        if (!*out) {
            p.err_offset = 0;
            rc = tally_error__set(TALLY_ENOMEM, "out of memory compiling a formula");
        }
    }
    free(p.code);
    if (rc && error_offset)
        *error_offset = p.err_offset;
    return rc;
}

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

static void fill(double *r, size_t m, double v)
{
    for (size_t i = 0; i < m; i++)
        r[i] = v;
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

/* ------------------------------------------------------------------------ */
/* Evaluation over intervals.
 *
 * A value is one of three things, kept apart so that is_missing, coalesce
 * and if stay sound (their result must hold for every point the operands
 * stand for):
 *   [lo, hi]  finite ends: every point gives a number in [lo, hi];
 *   missing   (NaN, NaN): every point gives missing;
 *   unknown   (-inf, +inf): points may give anything, missing included
 *             (a divisor interval around 0, an overflowing end, ...).
 * Both missing and unknown come out as NaN. Booleans are [0, 0], [1, 1],
 * or [0, 1] when the operands do not decide. */

typedef struct iv {
    double lo, hi;
} iv;

static inline iv iv_missing(void) { return (iv){ NAN, NAN }; }
static inline iv iv_unknown(void) { return (iv){ -INFINITY, INFINITY }; }
static inline int is_missing_iv(iv x) { return isnan(x.lo); }
static inline int is_unknown_iv(iv x) { return isinf(x.lo); }
static inline int is_range_iv(iv x) { return isfinite(x.lo); }

/* A computed range. An end that overflows means some points do (unknown);
 * a low end at +inf or a high end at -inf means all of them (missing). */
static inline iv iv_make(double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        return (iv){ lo, hi };
    return (lo == INFINITY || hi == -INFINITY) ? iv_missing() : iv_unknown();
}

static inline iv iv_bool(int can_be_false, int can_be_true)
{
    return (iv){ can_be_false ? 0.0 : 1.0, can_be_true ? 1.0 : 0.0 };
}

/* For ranges: whether some point is 0 (false), some point is not. */
static inline int may_be_false(iv x) { return x.lo <= 0 && x.hi >= 0; }
static inline int may_be_true(iv x) { return !(x.lo == 0 && x.hi == 0); }

/* Missing wins over unknown: a strict operation on a missing operand is
 * missing at every point. Returns 1 when *r is decided. */
static inline int strict1(iv a, iv *r)
{
    if (is_range_iv(a))
        return 0;
    *r = a;
    return 1;
}

static inline int strict2(iv a, iv b, iv *r)
{
    if (is_range_iv(a) && is_range_iv(b))
        return 0;
    *r = is_missing_iv(a) || is_missing_iv(b) ? iv_missing() : iv_unknown();
    return 1;
}

static inline double min2(double a, double b) { return b < a ? b : a; }
static inline double max2(double a, double b) { return b > a ? b : a; }
static inline double min4(double a, double b, double c, double d)
{
    return min2(min2(a, b), min2(c, d));
}
static inline double max4(double a, double b, double c, double d)
{
    return max2(max2(a, b), max2(c, d));
}

static iv i_unary(int op, iv a)
{
    iv r;
    if (op == OP_IS_MISSING)
        return is_missing_iv(a) ? iv_bool(0, 1) : is_unknown_iv(a) ? iv_bool(1, 1) : iv_bool(1, 0);
    if (strict1(a, &r))
        return r;
    switch (op) {
    case OP_NEG: return iv_make(-a.hi, -a.lo);
    case OP_NOT: return iv_bool(may_be_true(a), may_be_false(a));
    case OP_ABS:
        if (a.lo >= 0)
            return a;
        if (a.hi <= 0)
            return iv_make(-a.hi, -a.lo);
        return iv_make(0, max2(-a.lo, a.hi));
    case OP_SQRT:
        /* Points below 0 give missing, the others a number. */
        if (a.hi < 0)
            return iv_missing();
        return a.lo < 0 ? iv_unknown() : iv_make(sqrt(a.lo), sqrt(a.hi));
    case OP_LN:
        if (a.hi <= 0)
            return iv_missing();
        return a.lo <= 0 ? iv_unknown() : iv_make(log(a.lo), log(a.hi));
    case OP_EXP: return iv_make(exp(a.lo), exp(a.hi));
    default: return iv_unknown();
    }
}

static iv i_pow(iv a, iv b)
{
    if (a.lo == a.hi && b.lo == b.hi) {
        double v = s_pow(a.lo, b.lo);
        return isfinite(v) ? (iv){ v, v } : iv_missing();
    }
    if (b.lo == b.hi && b.lo == nearbyint(b.lo) && fabs(b.lo) < 0x1p53) {
        /* An integer exponent: x^k is monotone on each side of 0. */
        double k = b.lo;
        if (k == 0)
            return iv_make(1, 1);
        double pa = pow(a.lo, k), pb = pow(a.hi, k);
        if (a.lo <= 0 && a.hi >= 0) {
            if (k < 0) /* 1/0 at x = 0 */
                return a.lo == 0 && a.hi == 0 ? iv_missing() : iv_unknown();
            if (fmod(k, 2) == 0)
                return iv_make(0, max2(pa, pb));
            return iv_make(pa, pb);
        }
        return iv_make(min2(pa, pb), max2(pa, pb));
    }
    if (a.hi < 0)
        return b.lo == b.hi ? iv_missing() : iv_unknown(); /* b may hold integers */
    if (a.lo < 0 || (a.lo == 0 && b.lo < 0))
        return iv_unknown();
    /* x^y on x >= 0 is monotone in x for each y and in y for each x, so
     * the extremes over the box are at its corners. */
    double c1 = pow(a.lo, b.lo), c2 = pow(a.lo, b.hi), c3 = pow(a.hi, b.lo), c4 = pow(a.hi, b.hi);
    return iv_make(min4(c1, c2, c3, c4), max4(c1, c2, c3, c4));
}

static iv i_compare(int op, iv a, iv b)
{
    int t, f; /* decided true, decided false */
    switch (op) {
    case OP_LT: t = a.hi < b.lo; f = a.lo >= b.hi; break;
    case OP_LE: t = a.hi <= b.lo; f = a.lo > b.hi; break;
    case OP_GT: t = a.lo > b.hi; f = a.hi <= b.lo; break;
    case OP_GE: t = a.lo >= b.hi; f = a.hi < b.lo; break;
    case OP_EQ:
        t = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
        f = a.hi < b.lo || b.hi < a.lo;
        break;
    default: /* OP_NE */
        f = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
        t = a.hi < b.lo || b.hi < a.lo;
        break;
    }
    return iv_bool(!t, !f);
}

/* Three-valued and/or: a decided false (and) or true (or) operand decides
 * even against missing; otherwise missing with an operand that cannot
 * decide gives missing, with one that might gives unknown. */
static iv i_logic(int op, iv a, iv b)
{
    int is_and = op == OP_AND;
    /* "deciding" = false for and, true for or. */
    int a_decides = is_range_iv(a) && (is_and ? !may_be_true(a) : !may_be_false(a));
    int b_decides = is_range_iv(b) && (is_and ? !may_be_true(b) : !may_be_false(b));
    if (a_decides || b_decides)
        return is_and ? iv_bool(1, 0) : iv_bool(0, 1);
    if (is_missing_iv(a) || is_missing_iv(b)) {
        iv other = is_missing_iv(a) ? b : a;
        if (is_missing_iv(other))
            return iv_missing();
        int other_may_decide = is_and ? may_be_false(other) : may_be_true(other);
        return is_range_iv(other) && !other_may_decide ? iv_missing() : iv_unknown();
    }
    if (is_unknown_iv(a) || is_unknown_iv(b))
        return iv_unknown();
    if (is_and)
        return iv_bool(may_be_false(a) || may_be_false(b), may_be_true(a) && may_be_true(b));
    return iv_bool(may_be_false(a) && may_be_false(b), may_be_true(a) || may_be_true(b));
}

static iv i_binary(int op, iv a, iv b)
{
    iv r;
    if (op == OP_COALESCE)
        return is_missing_iv(a) ? b : a; /* unknown stays unknown */
    if (op == OP_AND || op == OP_OR)
        return i_logic(op, a, b);
    if (strict2(a, b, &r))
        return r;
    switch (op) {
    case OP_ADD: return iv_make(a.lo + b.lo, a.hi + b.hi);
    case OP_SUB: return iv_make(a.lo - b.hi, a.hi - b.lo);
    case OP_MUL: {
        double p1 = a.lo * b.lo, p2 = a.lo * b.hi, p3 = a.hi * b.lo, p4 = a.hi * b.hi;
        return iv_make(min4(p1, p2, p3, p4), max4(p1, p2, p3, p4));
    }
    case OP_DIV: {
        if (b.lo <= 0 && b.hi >= 0)
            return b.lo == 0 && b.hi == 0 ? iv_missing() : iv_unknown();
        /* The four quotients rather than a * [1/hi, 1/lo]: one rounding
         * instead of two, so [1,2]/[4,5] is exactly [0.2, 0.5]. */
        double q1 = a.lo / b.lo, q2 = a.lo / b.hi, q3 = a.hi / b.lo, q4 = a.hi / b.hi;
        return iv_make(min4(q1, q2, q3, q4), max4(q1, q2, q3, q4));
    }
    case OP_POW: return i_pow(a, b);
    case OP_MIN: return iv_make(min2(a.lo, b.lo), min2(a.hi, b.hi));
    case OP_MAX: return iv_make(max2(a.lo, b.lo), max2(a.hi, b.hi));
    case OP_ROUND:
        /* Monotone in x for a fixed n; n spanning several values is not. */
        if (b.lo != b.hi)
            return iv_unknown();
        return iv_make(s_round(a.lo, b.lo), s_round(a.hi, b.lo));
    default: return i_compare(op, a, b);
    }
}

static iv i_if(iv c, iv a, iv b)
{
    iv r;
    if (strict1(c, &r))
        return r;
    if (!may_be_false(c))
        return a;
    if (!may_be_true(c))
        return b;
    /* Either branch, depending on the point. */
    if (is_missing_iv(a) && is_missing_iv(b))
        return iv_missing();
    if (!is_range_iv(a) || !is_range_iv(b))
        return iv_unknown();
    return iv_make(min2(a.lo, b.lo), max2(a.hi, b.hi));
}

/* Runs the program over rows [base, base + m) and stores the ends in
 * out_lo/out_hi. Level k of the stack lives in mem[2k] (low ends) and
 * mem[2k + 1] (high ends); each row is read before it is written, so an
 * operation writes over its first operand. Not vectorized: this serves the
 * checks, not the rollup. */
static void run_interval_block(const tally_expr *e, const double *const *lo,
                               const double *const *hi, size_t base, size_t m, double *mem,
                               double *out_lo, double *out_hi)
{
    size_t sp = 0;
    for (size_t pc = 0; pc < e->n; pc++) {
        const insn *in = &e->code[pc];
        int op = in->op;
        double *rl = mem + 2 * sp * BLOCK, *rh = rl + BLOCK;
        if (op == OP_CONST) {
            double v = isfinite(in->value) ? in->value : NAN;
            fill(rl, m, v);
            fill(rh, m, v);
            sp++;
            continue;
        }
        if (op == OP_LOAD) {
            /* Copied, to turn non-finite ends into missing (not unknown). */
            const double *cl = lo ? lo[in->var] : NULL;
            const double *ch = hi && hi[in->var] ? hi[in->var] : cl;
            for (size_t i = 0; i < m; i++) {
                double l = cl ? cl[base + i] : NAN, h = cl ? ch[base + i] : NAN;
                if (!isfinite(l) || !isfinite(h))
                    l = h = NAN;
                rl[i] = min2(l, h);
                rh[i] = max2(l, h);
            }
            sp++;
            continue;
        }
        size_t k = IS_UNARY(op) ? sp - 1 : IS_BINARY(op) ? sp - 2 : sp - 3;
        double *al = mem + 2 * k * BLOCK, *ah = al + BLOCK;
        double *bl = al + 2 * BLOCK, *bh = bl + BLOCK;
        double *cl = bl + 2 * BLOCK, *ch = cl + BLOCK;
        for (size_t i = 0; i < m; i++) {
            iv a = { al[i], ah[i] }, r;
            if (IS_UNARY(op))
                r = i_unary(op, a);
            else if (IS_BINARY(op))
                r = i_binary(op, a, (iv){ bl[i], bh[i] });
            else
                r = i_if(a, (iv){ bl[i], bh[i] }, (iv){ cl[i], ch[i] });
            al[i] = r.lo;
            ah[i] = r.hi;
        }
        sp = k + 1;
    }
    /* A boolean result gives missing: the caller compares the sides. */
    int boolean = tally_expr__is_boolean(e);
    for (size_t i = 0; i < m; i++) {
        iv r = sp ? (iv){ mem[i], mem[BLOCK + i] } : iv_missing();
        if (boolean || !is_range_iv(r))
            r = iv_missing();
        out_lo[i] = r.lo;
        out_hi[i] = r.hi;
    }
}

int tally_expr__eval_interval(const tally_expr *e, const double *const *lo,
                              const double *const *hi, size_t n, double *out_lo, double *out_hi)
{
    if (n == 0)
        return 0;
    double *mem = malloc(2 * (e->stack ? e->stack : 1) * BLOCK * sizeof *mem);
    if (!mem)
        return TALLY_ENOMEM;
    for (size_t base = 0; base < n; base += BLOCK) {
        size_t m = n - base < BLOCK ? n - base : BLOCK;
        run_interval_block(e, lo, hi, base, m, mem, out_lo + base, out_hi + base);
    }
    free(mem);
    return 0;
}
