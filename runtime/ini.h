/* ini.h: the AWS shared `config` and `credentials` files.
 *
 * The syntax is botocore's (Python configparser.RawConfigParser plus
 * botocore's sub-section step), with the differences listed below:
 *   - `[name]` starts a section; the name is everything between the first
 *     '[' and the last ']' of the line, not trimmed; text after that ']' is
 *     ignored. Section names are case-sensitive.
 *   - `key = value` or `key: value` (the first '=' or ':' splits). Keys are
 *     trimmed and lowercased (ASCII), values trimmed.
 *   - A line indented deeper than its key line continues that key's value
 *     (joined with "\n"; blank lines inside are kept, trailing ones dropped).
 *     When the key's own value is empty, the continuation lines are a
 *     sub-section instead: `subkey = value` each, split at the first '=',
 *     sub-keys trimmed but case-sensitive (`s3 =` / `  max_concurrent_requests
 *     = 10`, and `sfn =` / `  endpoint_url = ...` in `[services NAME]`).
 *   - `#` and `;` start a comment at the start of a line (after any
 *     indentation) and, unlike botocore, also inline when preceded by
 *     whitespace (`region = us-east-1  # prod`), as the cross-SDK profile
 *     file format and the other AWS SDKs do. `a#b` and `url;x` are values.
 *   - Lines end with LF, CRLF or CR. Whitespace is ASCII (space, \t, \v, \f,
 *     \r, 0x1c-0x1f, as Python's str.strip sees it) only.
 *   - A `[DEFAULT]` section is configparser's defaults: its keys are
 *     fallbacks for every section, and it is not a profile itself.
 *   - Malformed input is an error, as in botocore: a line that is neither
 *     a section header, a `key = value`, a continuation, a comment nor
 *     blank; an empty key; a sub-section line without '='; a key before the
 *     first section; invalid UTF-8 or a NUL byte.
 *   - Differences from botocore, which fails on these: a leading UTF-8 BOM
 *     is skipped; a key repeated in a section keeps its last value; a
 *     repeated section is merged into the first (later keys win).
 * Error messages name the file, line number and at most a key, never a
 * value (values may be secrets).
 *
 * Ownership: a struct lw_ini owns all its strings; every const char * it
 * returns stays valid until lw_ini_free. Read-only after parsing, so it may
 * be shared between threads. Pure except lw_ini_load (reads one file). */
#ifndef LW_INI_H
#define LW_INI_H
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define LW_INI_MAX_FILE (1024 * 1024)      /* lw_ini_load refuses bigger files */

enum lw_ini_kind {
    LW_INI_CONFIG,          /* ~/.aws/config: [default], [profile NAME], [services NAME] */
    LW_INI_CREDENTIALS,     /* ~/.aws/credentials: [NAME] */
};

struct lw_ini;

/* Parse len bytes of data. name (a path, or "<buffer>") is used in error
 * messages only. 0 and *out set, or -1 with err filled (code
 * "ConfigParseError") and *out NULL. */
int lw_ini_parse(const char *data, size_t len, const char *name, struct lw_ini **out,
                 struct lw_error *err);

/* Read and parse the file at path. A missing file (ENOENT/ENOTDIR) gives an
 * empty result, not an error. A file that cannot be read, is a directory or
 * is larger than LW_INI_MAX_FILE fails with code "ConfigReadError" and a
 * message naming the path. */
int lw_ini_load(const char *path, struct lw_ini **out, struct lw_error *err);

void lw_ini_free(struct lw_ini *ini);     /* accepts NULL */

/* The value of key in section (key matched case-insensitively), falling
 * back to [DEFAULT]; NULL when the section does not exist, the key is not
 * set, or the key holds a sub-section. ini may be NULL. */
const char *lw_ini_get(const struct lw_ini *ini, const char *section, const char *key);

/* The value of subkey (case-sensitive) in key's sub-section, or NULL. */
const char *lw_ini_get_sub(const struct lw_ini *ini, const char *section, const char *key,
                           const char *subkey);

bool lw_ini_has_section(const struct lw_ini *ini, const char *section);

/* Sections in order of first appearance, [DEFAULT] excluded. */
size_t lw_ini_section_count(const struct lw_ini *ini);
const char *lw_ini_section_name(const struct lw_ini *ini, size_t i);

/* The section holding profile `profile`, or NULL when there is none.
 * LW_INI_CREDENTIALS: the section named exactly `profile`.
 * LW_INI_CONFIG: `[default]` for "default", and any section whose name
 * starts with "profile" and splits (shell-style, like Python's shlex.split)
 * into exactly two words, the second being the profile name:
 * `[profile dev]`, `[profile   dev]`, `[profile "my dev"]` (botocore does
 * not check the first word, so `[profiles dev]` counts too). When several
 * sections match (`[default]` and `[profile default]`), the one that
 * appears last in the file wins, as in botocore. */
const char *lw_ini_profile_section(const struct lw_ini *ini, enum lw_ini_kind kind,
                                   const char *profile);

/* The `[services NAME]` section (same splitting rule, first word starting
 * with "services"), or NULL. */
const char *lw_ini_services_section(const struct lw_ini *ini, const char *name);

/* lw_ini_get on the profile's section; NULL when the profile is absent. */
const char *lw_ini_profile_get(const struct lw_ini *ini, enum lw_ini_kind kind,
                               const char *profile, const char *key);

/* The file to read: env_value (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE;
 * NULL or "" = unset) with a leading "~" or "~/" replaced by home, else
 * home + "/.aws/config" or "/.aws/credentials". 0, or -1 when there is no
 * home to use or out is too small. ("~user" and $VARS are not expanded.) */
int lw_ini_default_path(enum lw_ini_kind kind, const char *env_value, const char *home,
                        char *out, size_t outlen);
#endif
