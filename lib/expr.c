/* Formulas and rules: a recursive-descent compiler to a stack program, and
 * the programs it makes (split into the two sides of a comparison, asked
 * which variables they read). The program is evaluated over whole columns
 * by expr_eval.c, and over intervals by expr_interval.c; what the three
 * share is in expr_impl.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "expr.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "expr_impl.h"
#include "tally/error.h"
#include "util.h"

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

long tally_expr__lag_stride(const tally_expr *e) { return e->lag_stride; }

long tally_expr__max_lag(const tally_expr *e)
{
    long most = 0;
    for (size_t i = 0; e->lag_stride && i < e->nvars; i++)
        if (e->vars[i] / e->lag_stride > most)
            most = e->vars[i] / e->lag_stride;
    return most;
}

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
    l->lag_stride = r->lag_stride = e->lag_stride;
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
    long lag_stride; /* 0: prev and lag are refused */
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
        /* An option of a category: `poor_population[cause=illness]` is one
         * name, resolved as a whole (`*` for the total). */
        if (j < len && s[j] == '[') {
            size_t k = j + 1;
            while (k < len && s[k] != ']' && s[k] != '[' && s[k] != '(' && s[k] != ')')
                k++;
            if (k == len || s[k] != ']') {
                p->err_offset = j;
                return tally_error__set(TALLY_EPARSE,
                                        "'[' without ']'; expected an option such as "
                                        "x[cause=illness]");
            }
            j = k + 1;
        }
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

/* prev(x) and lag(x, n): x, an indicator id, n periods back (prev: 1). */
static int parse_lag(parser *p, int is_prev)
{
    size_t name_at = p->start;
    const char *usage = is_prev ? "prev(indicator)" : "lag(indicator, n)";
    if (!p->lag_stride) {
        p->err_offset = name_at;
        return tally_error__set(TALLY_EPARSE,
                                "%s looks at another period, which only a check rule can do; "
                                "expected a formula over the same period",
                                is_prev ? "prev" : "lag");
    }
    int rc;
    if ((rc = lex(p)) || (rc = lex(p))) /* the name, then '(' */
        return rc;
    if (p->tok != T_IDENT) {
        char what[64];
        snprintf(what, sizeof what, "an indicator id, as in %s", usage);
        return unexpected(p, what);
    }
    long v = p->resolve ? p->resolve(p->ctx, p->src + p->start, p->tlen) : -1;
    if (v < 0 || v >= p->lag_stride) {
        p->err_offset = p->start;
        return tally_error__set(TALLY_ENOTFOUND,
                                "unknown indicator '%.*s'; expected an indicator id defined in "
                                "the file",
                                (int)(p->tlen > 40 ? 40 : p->tlen), p->src + p->start);
    }
    if ((rc = lex(p)))
        return rc;
    long k = 1;
    if (!is_prev) {
        if (p->tok != T_COMMA)
            return unexpected(p, "',' and the number of periods back, as in lag(x, 2)");
        if ((rc = lex(p)))
            return rc;
        if (p->tok != T_NUM || p->num != floor(p->num) || p->num < 1 ||
            p->num > TALLY_EXPR_MAX_LAG) {
            char what[96];
            snprintf(what, sizeof what, "a whole number of periods from 1 to %d, as in lag(x, 2)",
                     TALLY_EXPR_MAX_LAG);
            return unexpected(p, what);
        }
        k = (long)p->num;
        if ((rc = lex(p)))
            return rc;
    }
    if (p->tok != T_RPAREN)
        return unexpected(p, is_prev ? "')': prev takes one indicator id"
                                     : "')': lag takes an indicator id and a number");
    if ((rc = emit(p, OP_LOAD, v + k * p->lag_stride, 0)))
        return rc;
    return lex(p);
}

static int parse_call(parser *p)
{
    size_t name_at = p->start, name_len = p->tlen;
    if (word_is(p, "prev") || word_is(p, "lag"))
        return parse_lag(p, word_is(p, "prev"));
    const struct function *f = NULL;
    for (size_t k = 0; k < NFUNCTIONS; k++)
        if (word_is(p, functions[k].name))
            f = &functions[k];
    if (!f) {
        p->err_offset = name_at;
        return tally_error__set(TALLY_ENOTFOUND,
                                "unknown function '%.*s'; expected one of abs, min, max, "
                                "round, pow, sqrt, ln, exp, if, is_missing, coalesce%s",
                                (int)(name_len > 40 ? 40 : name_len), p->src + name_at,
                                p->lag_stride ? ", prev, lag" : "");
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
    return tally_expr__compile_lagged(out, src, len, resolve, ctx, 0, error_offset);
}

int tally_expr__compile_lagged(tally_expr **out, const char *src, size_t len,
                               tally_expr_resolve resolve, void *ctx, long lag_stride,
                               size_t *error_offset)
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
    p.lag_stride = lag_stride > 0 ? lag_stride : 0;
    int rc = lex(&p);
    if (!rc)
        rc = parse_or(&p);
    if (!rc && p.tok != T_END)
        rc = unexpected(&p, "an operator or the end of the formula");
    if (!rc) {
        *out = program_new(p.code, p.n);
        if (*out)
            (*out)->lag_stride = p.lag_stride;
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
