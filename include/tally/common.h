/* tally: shared definitions for every public header.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_COMMON_H
#define TALLY_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
#define TALLY_BEGIN_DECLS extern "C" {
#define TALLY_END_DECLS }
#else
#define TALLY_BEGIN_DECLS
#define TALLY_END_DECLS
#endif

/* Marks every public declaration. The library is built with hidden symbols;
 * only what carries this macro (and is listed in the version script) is
 * exported. */
#if defined(TALLY_BUILDING) && defined(__GNUC__)
#define TALLY_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define TALLY_EXTERN(type) extern type
#endif

/* "No such index": returned for the parent of a root node, and by lookups
 * that report an index through an output parameter when nothing matched. */
#define TALLY_NONE ((size_t)-1)

TALLY_BEGIN_DECLS

/* Frees memory the library allocated and handed to the caller as a plain
 * pointer (the buffer of tally_snapshot_save_buffer). Free such memory
 * with this function, never with free(): the caller's free() need not be
 * the library's (another C runtime, a debugging allocator, a binding).
 * NULL does nothing. Objects are freed with their own tally_<noun>_free. */
TALLY_EXTERN(void) tally_free(void *ptr);

TALLY_END_DECLS

#endif
