/* fuzz_ini.c: the AWS shared config and credentials file parser
 * (lw_ini_parse), then every lookup the credentials chain and the endpoint
 * resolver make on what it parsed: each section by name, profile and
 * services sections (shell-style splitting), keys (with [DEFAULT]
 * fallback) and sub-keys, and the credential_process command line split
 * the way creds_process.c splits it. A failed parse must leave no result
 * and a ConfigParseError with a message. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include "ini.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
    "region", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
    "credential_process", "endpoint_url", "services", "role_arn", "sso_session",
    "use_fips_endpoint", "use_dualstack_endpoint", "ignore_configured_endpoint_urls", "s3",
    "sfn", "swf", "", "REGION", NULL,
};

static void lookups(const struct lw_ini *ini, const char *sec)
{
    for (const char *const *k = keys; *k; k++) {
        const char *v = lw_ini_get(ini, sec, *k);
        if (v)
            (void)strlen(v);
        lw_ini_get_sub(ini, sec, *k, "endpoint_url");
        lw_ini_get_sub(ini, sec, *k, "max_concurrent_requests");
    }
    lw_ini_has_section(ini, sec);
    /* every section name doubles as a profile / services name */
    for (int kind = LW_INI_CONFIG; kind <= LW_INI_CREDENTIALS; kind++) {
        const char *ps = lw_ini_profile_section(ini, (enum lw_ini_kind)kind, sec);
        if (ps && !lw_ini_has_section(ini, ps))
            abort();                    /* a section it found must exist */
        lw_ini_profile_get(ini, (enum lw_ini_kind)kind, sec, "region");
    }
    const char *ss = lw_ini_services_section(ini, sec);
    if (ss) {
        lw_ini_get_sub(ini, ss, "sfn", "endpoint_url");
        lw_ini_get_sub(ini, ss, "swf", "endpoint_url");
    }
    const char *cmd = lw_ini_get(ini, sec, "credential_process");
    if (cmd) {
        const char *why;
        char **argv = lw_creds_split_command(cmd, &why);
        lw_creds_argv_free(argv);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* in its own allocation, not NUL-terminated: reads past len are caught */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    struct lw_ini *ini = NULL;
    struct lw_error err;
    if (lw_ini_parse(buf, size, "<fuzz>", &ini, &err) < 0) {
        if (ini || strcmp(err.code, "ConfigParseError") != 0 || !err.message[0])
            abort();
        free(buf);
        return 0;
    }
    size_t n = lw_ini_section_count(ini);
    for (size_t i = 0; i < n; i++) {
        const char *sec = lw_ini_section_name(ini, i);
        if (!sec)
            abort();
        lookups(ini, sec);
    }
    lw_ini_section_name(ini, n);        /* one past the end */
    lookups(ini, "default");
    lookups(ini, "DEFAULT");
    lookups(ini, "profile default");
    lw_ini_profile_section(ini, LW_INI_CONFIG, "");
    lw_ini_free(ini);
    free(buf);
    return 0;
}
