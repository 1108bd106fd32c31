/* The language of tally's messages: the user's, when there is a catalogue
 * for it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#ifndef TALLY_LOCALEDIR
#define TALLY_LOCALEDIR "/usr/local/share/locale"
#endif

/* The value that names the messages' language, as setlocale reads it. */
static const char *messages_variable(void)
{
    const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return v;
    }
    return NULL;
}

static int is_chinese(const char *v) { return v && v[0] == 'z' && v[1] == 'h'; }

void cli_i18n_init(void)
{
    /* LC_MESSAGES and LC_CTYPE (the codeset of the C library's own
     * messages, getopt's) only: numbers are read and written with '.'
     * whatever the locale, so LC_NUMERIC stays "C"; tally's own messages
     * are UTF-8 as every text it writes (the codeset is bound below). */
    setlocale(LC_CTYPE, "");
    const char *set = setlocale(LC_MESSAGES, "");
    if (!set || !strcmp(set, "C") || !strcmp(set, "POSIX")) {
        /* LANG=zh_CN.UTF-8 on a system without that locale generated, or
         * LANGUAGE=zh_CN alone: gettext ignores LANGUAGE under "C", so the
         * messages go through C.UTF-8 with the language named. */
        const char *v = messages_variable();
        const char *language = getenv("LANGUAGE");
        if (is_chinese(v) || (!v && is_chinese(language))) {
            if (setlocale(LC_MESSAGES, "C.UTF-8") && !(language && *language))
                setenv("LANGUAGE", "zh_CN", 1);
            setlocale(LC_CTYPE, "C.UTF-8");
        }
    }
    const char *dir = getenv("TALLY_LOCALEDIR");
    bindtextdomain("tally", dir && *dir ? dir : TALLY_LOCALEDIR);
    bind_textdomain_codeset("tally", "UTF-8");
}
