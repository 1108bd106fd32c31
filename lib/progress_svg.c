/* The completion chart: a self-contained SVG with one bar per region at a
 * level, coloured by status, sorted, with a legend and the time-progress
 * line (tally_progress_write_svg).
 *
 * SPDX-License-Identifier: MIT
 */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "number.h"
#include "output.h"

/* Formats a number with `decimals`; "" when missing. */
static const char *num(char *buf, size_t size, double v, int decimals)
{
    if (isnan(v) || tally_number_format(buf, size, v, decimals) < 0)
        buf[0] = '\0';
    return buf;
}

/* Colours from the Okabe-Ito palette, which stays distinguishable with the
 * common colour-vision deficiencies; the status is also written beside each
 * bar, so colour is never the only cue. */
static const struct {
    const char *colour, *label, *word;
} status_style[] = {
    [TALLY_TARGET_NO_TARGET] = { "#BBBBBB", "无目标 no target", "无目标" },
    [TALLY_TARGET_NO_DATA] = { "#888888", "无数据 no data", "无数据" },
    [TALLY_TARGET_DONE] = { "#0B4F8A", "已完成 done", "已完成" },
    [TALLY_TARGET_AHEAD] = { "#56B4E9", "快于序时 ahead", "快于序时" },
    [TALLY_TARGET_BEHIND] = { "#E69F00", "慢于序时 behind", "慢于序时" },
    [TALLY_TARGET_MET] = { "#009E73", "达标 met", "达标" },
    [TALLY_TARGET_NOT_MET] = { "#D55E00", "未达标 not met", "未达标" },
    [TALLY_TARGET_INCOMPLETE] = { "#CC79A7", "数据不全 incomplete", "数据不全" },
};

/* XML text or attribute value; characters XML 1.0 cannot hold are left out. */
static void put_xml(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (*p >= 0x20 || *p == '\t' || *p == '\n')
                fputc(*p, f);
        }
    }
}

/* Rough rendered width in px of UTF-8 text at a font size: CJK and other
 * wide characters take a full em, the rest a bit over half. */
static double text_width(const char *s, double size)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp = *p;
        int len = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
        if (len > 1) {
            cp &= 0x3Fu >> (len - 1);
            for (int i = 1; i < len && p[i]; i++)
                cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        w += cp >= 0x1100 ? 1.0 : 0.58;
        for (int i = 0; i < len && *p; i++)
            p++;
    }
    return w * size;
}

typedef struct bar {
    size_t node, row;
    double value; /* the bar's percentage, NaN when none */
} bar;

static int by_bar_desc(const void *a, const void *b)
{
    const bar *x = a, *y = b;
    int nx = isnan(x->value), ny = isnan(y->value);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

static int by_bar_asc(const void *a, const void *b)
{
    const bar *x = a, *y = b;
    int nx = isnan(x->value), ny = isnan(y->value);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

TALLY_EXTERN(int) tally_progress_write_svg(const tally_progress *r, const char *path,
                                           const tally_progress_svg_options *opts)
{
    tally_progress_svg_options defaults = TALLY_PROGRESS_SVG_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_progress_write_svg: NULL result");
    if (!r->nk)
        return tally_error__set(TALLY_EINVAL, "no indicator has a target for %d; nothing to chart",
                                r->year);
    size_t k = 0;
    if (opts->indicator != TALLY_NONE) {
        while (k < r->nk && r->inds[k] != opts->indicator)
            k++;
        if (k == r->nk)
            return tally_error__set(TALLY_EINVAL,
                                    "indicator '%s' has no target for %d; expected one of the "
                                    "indicators with targets",
                                    opts->indicator < tally_definitions_indicator_count(r->d)
                                        ? tally_definitions_id(r->d, opts->indicator)
                                        : "?",
                                    r->year);
    }
    size_t ind = r->inds[k];
    int level = opts->level;
    if (level < 0) {
        /* The level of the first node below the first root. */
        for (size_t i = 0; i < r->nodes && level < 0; i++)
            if (tally_hierarchy_parent(r->h, i) == 0)
                level = tally_hierarchy_level(r->h, i);
        if (level < 0 && r->nodes)
            level = tally_hierarchy_level(r->h, 0);
    }
    if (level < 0 || (size_t)level >= tally_hierarchy_level_count(r->h))
        return tally_error__set(TALLY_EINVAL, "chart level %d is out of range", level);
    int ceiling = tally_definitions_direction(r->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;

    bar *bars = malloc((r->nodes ? r->nodes : 1) * sizeof *bars);
    if (!bars)
        return tally_error__set(TALLY_ENOMEM, "out of memory drawing a chart");
    size_t nb = 0;
    double vmax = ceiling ? 100 : fmax(100, r->time_progress);
    double name_w = 0;
    int present[8] = { 0 };
    for (size_t node = 0; node < r->nodes; node++) {
        if (tally_hierarchy_level(r->h, node) != level)
            continue;
        size_t row = node * r->nk + k;
        double v = r->completion[row];
        if (ceiling && (r->status[row] == TALLY_TARGET_MET || r->status[row] == TALLY_TARGET_NOT_MET))
            v = r->target[row] > 0 ? r->actual[row] * 100.0 / r->target[row] : NAN;
        bar b = { node, row, v };
        bars[nb++] = b;
        if (!isnan(v))
            vmax = fmax(vmax, v);
        name_w = fmax(name_w, text_width(tally_hierarchy_name(r->h, node), 14));
        present[r->status[row]] = 1;
    }
    if (!nb) {
        free(bars);
        return tally_error__set(TALLY_EINVAL, "no region at level '%s' to chart",
                                tally_hierarchy_level_name(r->h, level));
    }
    qsort(bars, nb, sizeof *bars, ceiling ? by_bar_asc : by_bar_desc);

    tally_output o;
    int orc = tally_output__open_stream(&o, path, "the chart");
    if (orc) {
        free(bars);
        return orc;
    }
    FILE *f = o.f;
    /* Layout, in px. */
    const double width = 960, row_h = 30, bar_h = 20, top = 112, bottom = 44, right = 240;
    double left = fmax(110, name_w + 24);
    double plot_w = width - left - right;
    double step = vmax <= 120 ? 20 : vmax <= 300 ? 50 : 100;
    double scale_max = ceil(vmax / step) * step;
    double height = top + row_h * (double)nb + bottom;
    double y0 = top, y1 = top + row_h * (double)nb;
    int dec = tally_definitions_decimals(r->d, ind);
    char as_of[16], tp[32], b1[64], b2[64];
    snprintf(as_of, sizeof as_of, "%04d-%02d", r->year, r->month);
    num(tp, sizeof tp, r->time_progress, 2);
#define X(v) (left + (v) / scale_max * plot_w)

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif\" "
               "font-size=\"14\">\n",
            width, height, width, height);
    fputs("<title>", f);
    if (opts->title)
        put_xml(f, opts->title);
    else {
        put_xml(f, tally_definitions_name(r->d, ind));
        fprintf(f, " %d 年目标完成情况（截至 %s）", r->year, as_of);
    }
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>\n", f);
    /* Title and subtitle. */
    fputs("<text x=\"20\" y=\"32\" font-size=\"20\" font-weight=\"bold\" fill=\"#222222\">", f);
    if (opts->title)
        put_xml(f, opts->title);
    else {
        put_xml(f, tally_definitions_name(r->d, ind));
        fprintf(f, " %d 年目标完成情况（截至 %s）", r->year, as_of);
    }
    fputs("</text>\n<text x=\"20\" y=\"56\" font-size=\"13\" fill=\"#555555\">", f);
    put_xml(f, tally_definitions_id(r->d, ind));
    if (ceiling)
        fputs(" · 目标为上限（越低越好）· 条长 = 实际 / 上限 × 100", f);
    else
        fputs(" · 完成率 = 实际 / 年度目标 × 100", f);
    fprintf(f, " · %zu 个 ", nb);
    put_xml(f, tally_hierarchy_level_name(r->h, level));
    fputs("</text>\n", f);
    /* Legend: the statuses that occur, in a fixed order. */
    static const int order[] = { TALLY_TARGET_DONE,   TALLY_TARGET_AHEAD,     TALLY_TARGET_BEHIND,
                                 TALLY_TARGET_MET,    TALLY_TARGET_NOT_MET,   TALLY_TARGET_NO_DATA,
                                 TALLY_TARGET_INCOMPLETE, TALLY_TARGET_NO_TARGET };
    double lx = 20;
    fputs("<g class=\"legend\" font-size=\"13\">\n", f);
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int s = order[i];
        if (!present[s])
            continue;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"72\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"84\" fill=\"#333333\">%s</text>\n",
                lx, status_style[s].colour, lx + 19, status_style[s].label);
        lx += 19 + text_width(status_style[s].label, 13) + 22;
    }
    fputs("</g>\n", f);
    /* Grid and axis labels. */
    fputs("<g class=\"grid\" font-size=\"12\" fill=\"#666666\">\n", f);
    for (double v = 0; v <= scale_max + 1e-9; v += step)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#E3E3E3\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n",
                X(v), y0 - 6, X(v), y1 + 4, X(v), y1 + 20, v);
    fputs("</g>\n", f);
    /* Per region: its name, the track and the bar. */
    for (size_t i = 0; i < nb; i++) {
        const bar *b = &bars[i];
        int s = r->status[b->row];
        double y = y0 + row_h * (double)i + (row_h - bar_h) / 2;
        double w = isnan(b->value) ? 0 : X(fmin(b->value, scale_max)) - left;
        fprintf(f, "<g class=\"region\">\n<text class=\"name\" x=\"%.1f\" y=\"%.1f\" "
                   "text-anchor=\"end\" fill=\"#222222\">",
                left - 10, y + bar_h - 5);
        put_xml(f, tally_hierarchy_name(r->h, b->node));
        fprintf(f, "</text>\n<rect class=\"track\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.0f\" fill=\"#F4F4F4\"/>\n",
                left, y, plot_w, bar_h);
        fprintf(f, "<rect class=\"bar\" data-region=\"");
        put_xml(f, tally_hierarchy_code(r->h, b->node));
        fprintf(f, "\" data-status=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                   "fill=\"%s\"><title>",
                tally_target_status_name(s), left, y, w, bar_h, status_style[s].colour);
        put_xml(f, tally_hierarchy_name(r->h, b->node));
        fputs(" (", f);
        put_xml(f, tally_hierarchy_code(r->h, b->node));
        fprintf(f, "): %s</title></rect>\n</g>\n", status_style[s].label);
    }
    /* The reference line, over the bars: time progress, or the ceiling. */
    double ref = ceiling ? 100 : r->time_progress;
    fprintf(f,
            "<g class=\"time-progress\">\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#222222\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
            "font-weight=\"bold\" fill=\"#222222\">",
            X(ref), y0 - 4, X(ref), y1 + 2, X(ref), y0 - 10);
    if (ceiling)
        fputs("目标上限 100%", f);
    else
        fprintf(f, "序时进度 %s%%", tp);
    fputs("</text>\n</g>\n", f);
    /* Labels in a column right of the plot, where neither the bars nor the
     * line reach them: the percentage, actual / target, and the status in
     * words (so colour is never the only cue). */
    fputs("<g class=\"values\">\n", f);
    for (size_t i = 0; i < nb; i++) {
        const bar *b = &bars[i];
        int s = r->status[b->row];
        double y = y0 + row_h * (double)i + (row_h - bar_h) / 2;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222222\">", left + plot_w + 12,
                y + bar_h - 5);
        if (!isnan(b->value)) {
            char pct[32];
            num(pct, sizeof pct, b->value, 2);
            fprintf(f, "<tspan font-weight=\"bold\">%s%%</tspan> ", pct);
        }
        if (!isnan(r->actual[b->row]) || !isnan(r->target[b->row]))
            fprintf(f, "<tspan fill=\"#555555\">%s / %s</tspan> ",
                    *num(b1, sizeof b1, r->actual[b->row], dec) ? b1 : "–",
                    *num(b2, sizeof b2, r->target[b->row], dec) ? b2 : "–");
        fprintf(f, "<tspan fill=\"#555555\">%s</tspan></text>\n", status_style[s].word);
    }
    fputs("</g>\n</svg>\n", f);
#undef X
    free(bars);
    return tally_output__close(&o);
}
