/* Internal: the check run over an explicit list of check definitions, so
 * that tests can give checks without going through YAML. */
#ifndef TALLY_LIB_CHECK_H
#define TALLY_LIB_CHECK_H

#include <stddef.h>

#include "tally/check.h"
#include "definitions.h"

/* tally_check_run with `defs` (borrowed for the call; their rules and
 * indicator arrays must outlive the findings only through their `id`
 * strings, which the findings borrow) in place of the definitions'
 * checks. */
int tally_check__run_defs(tally_findings **out, const tally_dataset *ds,
                          const tally_check_options *opts, const tally_check_def *defs,
                          size_t ndefs);

#endif
