/* text.h: UTF-8 checks and limit-aware truncation for what goes to the service.
 *
 * The service limits count characters (SWF, Java strings: UTF-16 code units)
 * or bytes (Step Functions output). These helpers measure both ways and cut
 * only at character boundaries, so a truncated reason is still valid UTF-8
 * and within the limit whichever way the service counts. Pure functions. */
#ifndef LW_TEXT_H
#define LW_TEXT_H
#include <stdbool.h>
#include <stddef.h>

bool lw_utf8_valid(const char *s, size_t len);
/* Offset of the first byte that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are invalid),
 * or len when s is valid. */
size_t lw_utf8_first_invalid(const char *s, size_t len);
/* Length in UTF-16 code units of valid UTF-8 text (invalid bytes count 1). */
size_t lw_utf16_units(const char *s, size_t len);
/* Bytes of the longest prefix of s that is at most max_units UTF-16 units
 * and at most max_bytes bytes (0 = no byte limit), ending on a character
 * boundary. */
size_t lw_utf8_prefix(const char *s, size_t len, size_t max_units, size_t max_bytes);
/* A copy of s with every invalid UTF-8 sequence replaced by U+FFFD; caller
 * frees. *outlen gets the new length. NULL only when out of memory. */
char *lw_utf8_sanitize(const char *s, size_t len, size_t *outlen);
/* Copy at most max_units UTF-16 units of s (sanitized) into a new string,
 * ending with " ...[truncated]" when something was cut, so the result still
 * fits; caller frees. */
char *lw_text_limit(const char *s, size_t len, size_t max_units, size_t *outlen);
/* JSON text may escape a UTF-16 surrogate that is not half of a pair
 * ("\ud800"): a Java service (SWF) can send one, and jansson refuses the
 * whole document. A copy of the JSON text s with each such escape replaced
 * by "\ufffd" (same length, so *outlen == len); NULL when s has none, or
 * out of memory. Caller frees. */
char *lw_json_fix_surrogates(const char *s, size_t len, size_t *outlen);
#endif
