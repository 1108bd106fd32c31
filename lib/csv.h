/* Internal: an RFC 4180 CSV reader over memory, allocating nothing per
 * field. Fields point into the input, or into a scratch buffer when a quoted
 * field has doubled quotes. A UTF-8 byte order mark at the start is skipped;
 * CRLF and LF both end rows; blank lines are skipped. At the end, the row
 * loop every reader of a CSV input shares (csv_rows.c). */
#ifndef TALLY_LIB_CSV_H
#define TALLY_LIB_CSV_H

#include <stddef.h>

#include "tally/read.h"

typedef struct tally_csv_field {
    const char *ptr;
    size_t len;
    size_t offset; /* byte offset of the field's first character in the input */
} tally_csv_field;

typedef struct tally_csv {
    const char *data;
    size_t size;
    size_t pos;
    const char *name;          /* path for messages */
    unsigned long line;        /* line of the current row's start (1-based) */
    unsigned long next_line;   /* line where the next row starts */
    size_t row_start, row_end; /* byte range of the current row (no line ending) */
    tally_csv_field *fields;
    size_t nfields, fields_cap;
    char *scratch;
    size_t scratch_cap;
    /* Limits (0: none). A row past them is an error (TALLY_ELIMIT) at the
     * offending field, and reading goes on with the next row. */
    size_t max_fields;
    size_t max_field_bytes;
    /* 1 once a row ran to the end of the input inside a quoted field (an
     * "unterminated quoted field" error): a parallel reader whose piece of
     * the input ends so was cut inside a field. */
    int unterminated;
    /* The file mapping data is, or NULL: the pages of a very long row (a
     * hostile file: gigabytes without a line break) are given back while
     * it is scanned, so that it never counts whole in resident memory. */
    const struct tally_mapped *map;
    /* The xlsx sheet the data is the text of (the read options' sheet,
     * through tally_csv__input_apply), or NULL: with one, places are its
     * cells, not lines and columns (xlsx_read.h). */
    const struct tally_xlsx_sheet *sheet;
    /* 1: the next row read is the header of a targets or households file,
     * whose common Chinese column names (年份, 目标, 人均纯收入...) are
     * then given as the columns' own (tally_csv__name_header). */
    int name_header;
} tally_csv;

/* The readers' defaults for the limits above (README documents them; the
 * read options can change them). */
#define TALLY_CSV_DEFAULT_MAX_FIELDS 4096
#define TALLY_CSV_DEFAULT_MAX_FIELD_BYTES ((size_t)1 << 20)

/* The input of a CSV reader in the encoding and with the limits a
 * tally_read_options asks for (NULL: the defaults). tally_csv__input_open
 * converts the data to UTF-8 when another encoding is declared (then
 * in->data is a new buffer, freed by tally_csv__input_close) and
 * tally_csv__input_apply sets the limits on a reader. The encoding "auto"
 * reads a file whose first megabyte (whole lines) is valid UTF-8 as UTF-8,
 * and one that is not but is valid GB18030 as GB18030 (in->detected says
 * so); any other file as UTF-8, whose bad rows then say they are not
 * UTF-8. The options' sheet (version 5), when given, is kept for
 * tally_csv__input_apply; its text is taken as UTF-8 and must be the size
 * the sheet says (TALLY_EINVAL otherwise). */
typedef struct tally_csv_input {
    const char *data;
    size_t size;
    char *owned;
    int declared;          /* 1 when an encoding other than UTF-8 was declared */
    const char *detected;  /* "GB18030" when "auto" found the file so, else NULL */
    size_t max_fields, max_field_bytes;
    const struct tally_xlsx_sheet *sheet; /* borrowed from the options */
} tally_csv_input;

struct tally_read_options;
int tally_csv__input_open(tally_csv_input *in, const char *data, size_t size, const char *name,
                          const struct tally_read_options *opts);
void tally_csv__input_apply(const tally_csv_input *in, tally_csv *c);
void tally_csv__input_close(tally_csv_input *in);

/* 1 when `encoding` asks for detection ("auto", any case). */
int tally_csv__is_auto(const char *encoding);

/* The note a reader gives when "auto" read a file as GB18030. */
#define TALLY_CSV_DETECTED_NOTE \
    "the file is not valid UTF-8 but is valid GB18030, and was read as GB18030 " \
    "(--encoding forces an encoding)"

/* After the header of a file "auto" read as GB18030: that note, once, as a
 * warning at line 1 in `rejects` (when there is one). */
int tally_csv__note_detected(const tally_csv_input *in, const tally_csv *c,
                             tally_rejects *rejects);

/* After a row (or the header) was rejected, the last error describing it:
 * adds to its message what the raw bytes suggest went wrong: a byte order
 * mark inside the file (files joined together), bare CR line breaks, or,
 * when the input was taken as UTF-8, a row that is not valid UTF-8 (the
 * encoding may need declaring). */
void tally_csv__hint_encoding(const tally_csv_input *in, const tally_csv *c);

/* Prepares a reader over data (borrowed), as CSV: tally_csv__input_apply
 * (or setting c->sheet) makes it the text of a sheet. Never fails. */
void tally_csv__init(tally_csv *c, const char *data, size_t size, const char *name);
void tally_csv__fini(tally_csv *c);

/* Reads the next row: 1 when a row was read, 0 at the end, negative when
 * the row is malformed (unterminated quote, text after a closing quote):
 * then the last error is set with its location, the row's range is known
 * (row_start, row_end) and the reader is past it, so reading can go on. */
int tally_csv__next(tally_csv *c);

/* The same without the fast path for rows that have no quote: every byte
 * through the general state machine. For the tests, which check that both
 * read the same rows, fields, lines and errors. */
int tally_csv__next_plain(tally_csv *c);

/* Line and character column of a byte offset inside the current row. */
void tally_csv__locate(const tally_csv *c, size_t offset, unsigned long *line,
                       unsigned long *column);

/* Sets the last error at field `i` of the current row (i == nfields: at
 * the end of the row), with the field's text. Returns code. */
int tally_csv__error_at_field(const tally_csv *c, size_t i, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Index of the header field equal to `name`, or -1. */
long tally_csv__find_column(const tally_csv *c, const char *name);

/* Gives each field of the current row that is a common Chinese name of a
 * targets or households column (区划代码, 指标, 年份, 目标, 户编号, 家庭人口,
 * 人均纯收入, 权数...) that column's own name, so that a reader that looks
 * its columns up by name finds them; the field's place is unchanged. */
void tally_csv__name_header(tally_csv *c);

/* Whether the current row's cells are all empty (",,,", quoted "" too):
 * a row that every reader skips and counts in tally_rejects_empty_rows. */
int tally_csv__row_empty(const tally_csv *c);

/* The row loop every CSV reader shares: encoding and limits from `opts`,
 * the header through `header` (an error there stops the read), each data
 * row through `row` (0: accepted; an error recorded at the row: rejected),
 * stop or collect, the rejects, the stats (rows read = accepted +
 * rejected), and the encoding hint on rejected rows that are not UTF-8.
 * Returns 0, the first bad row's code in stop mode, or a fatal code. */
typedef int (*tally_csv_header_fn)(void *ctx, tally_csv *c);
typedef int (*tally_csv_row_fn)(void *ctx, const tally_csv *c);
int tally_csv__read_rows(const char *data, size_t size, const char *name,
                         const tally_read_options *opts, tally_rejects *rejects,
                         tally_read_stats *stats, tally_csv_header_fn header,
                         tally_csv_row_fn row, void *ctx);

#endif
