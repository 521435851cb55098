/* creds_json.c: the credentials JSON that credential_process prints and the
 * container and instance-metadata endpoints answer, checked the way each
 * source's botocore counterpart checks it. Pure: no I/O, no provider state;
 * the sources (creds_process.c, creds_http.c) and the fuzzer call it. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_creds_doc_free(struct lw_creds_doc *d)
{
    if (!d)
        return;
    free(d->access_key_id);
    lw_creds_wipe_free(d->secret_access_key);
    lw_creds_wipe_free(d->session_token);
    free(d->expiration);
    memset(d, 0, sizeof *d);
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Why an object lacks credentials, or NULL when it has them. */
static const char *check_process(json_t *root, char *why, size_t n)
{
    json_t *v = json_object_get(root, "Version");
    const char *akid = jstr(root, "AccessKeyId"), *secret = jstr(root, "SecretAccessKey");
    json_t *tok = json_object_get(root, "SessionToken");
    json_t *exp = json_object_get(root, "Expiration");
    if (!v)
        return "output has no Version (supported versions: 1)";
    if (!json_is_integer(v))
        return "Version must be the number 1";
    if (json_integer_value(v) != 1) {
        snprintf(why, n, "unsupported Version %lld (supported versions: 1)",
                 (long long)json_integer_value(v));
        return why;
    }
    if (!akid || !*akid)
        return "output lacks AccessKeyId";
    if (!secret || !*secret)
        return "output lacks SecretAccessKey";
    if ((tok && !json_is_null(tok) && !json_is_string(tok))
        || (exp && !json_is_null(exp) && !json_is_string(exp)))
        return "SessionToken and Expiration must be strings";
    return NULL;
}

static const char *check_endpoint(json_t *root, bool imds, char *why, size_t n)
{
    const char *code = jstr(root, "Code");
    if (imds && code && strcmp(code, "Success") != 0) {
        snprintf(why, n, "Code %.60s", code);
        return why;
    }
    /* botocore requires all four fields (a KeyError there) */
    if (!jstr(root, "AccessKeyId"))
        return "the response lacks AccessKeyId";
    if (!jstr(root, "SecretAccessKey"))
        return "the response lacks SecretAccessKey";
    if (!jstr(root, "Token"))
        return "the response lacks Token";
    if (!jstr(root, "Expiration"))
        return "the response lacks Expiration";
    return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

int lw_creds_doc_parse(enum lw_creds_doc_kind kind, const char *body, size_t len,
                       struct lw_creds_doc *d, char *why, size_t n)
{
    memset(d, 0, sizeof *d);
    if (n)
        why[0] = '\0';
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
    const char *msg = NULL;
    int rc = LW_CREDS_DOC_INVALID;
    /* never quote the input or jansson's text (which quotes it): it may hold
     * the secret; the position is enough */
    if (!root || !json_is_object(root)) {
        rc = LW_CREDS_DOC_MALFORMED;
        if (kind == LW_CREDS_DOC_IMDS)
            msg = "the response is not a JSON object";
        else if (root)
            msg = kind == LW_CREDS_DOC_PROCESS ? "output is not a JSON object"
                                               : "the response is not a JSON object";
        else
            snprintf(why, n, "%s is not valid JSON (line %d, column %d)",
                     kind == LW_CREDS_DOC_PROCESS ? "output" : "the response", je.line,
                     je.column);
    } else {
        msg = kind == LW_CREDS_DOC_PROCESS ? check_process(root, why, n)
                                           : check_endpoint(root, kind == LW_CREDS_DOC_IMDS,
                                                            why, n);
        if (!msg) {
            bool oom = false;
            d->access_key_id = dup_or_null(jstr(root, "AccessKeyId"), &oom);
            d->secret_access_key = dup_or_null(jstr(root, "SecretAccessKey"), &oom);
            d->session_token = dup_or_null(
                jstr(root, kind == LW_CREDS_DOC_PROCESS ? "SessionToken" : "Token"), &oom);
            d->expiration = dup_or_null(jstr(root, "Expiration"), &oom);
            rc = LW_CREDS_DOC_OK;
            if (oom) {
                lw_creds_doc_free(d);
                msg = "out of memory";
                rc = LW_CREDS_DOC_NOMEM;
            }
        }
    }
    if (msg && msg != why)
        snprintf(why, n, "%s", msg);
    json_decref(root);
    return rc;
}
