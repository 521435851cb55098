/* fuzz_creds.c: credentials JSON from outside the process: what a
 * credential_process prints and what the container and EC2 instance
 * metadata endpoints answer (lw_creds_doc_parse, the function those sources
 * call), the expiration timestamp (lw_creds_parse_time), and the quoting of
 * a body's first line into messages (lw_creds_first_line, used for error
 * bodies, stderr and the IMDS role name). A refusal must never quote the
 * input (IMDS's Code aside): the secret planted by the seeds ("sekrit")
 * must not reach `why`.
 *
 * Input: byte 0 picks the source (0 process, 1 container, 2 IMDS, modulo
 * 3); the rest is the document. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum lw_creds_doc_kind kind = (enum lw_creds_doc_kind)(data[0] % 3);
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);     /* not NUL-terminated */
    if (!body)
        abort();
    memcpy(body, data + 1, len);

    struct lw_creds_doc d;
    char why[200];
    int st = lw_creds_doc_parse(kind, body, len, &d, why, sizeof why);
    if (st == LW_CREDS_DOC_OK) {
        if (!d.access_key_id || !d.secret_access_key || why[0])
            abort();
        if (kind != LW_CREDS_DOC_PROCESS && (!d.session_token || !d.expiration))
            abort();
        double t;
        if (d.expiration && lw_creds_parse_time(d.expiration, &t) == 0 && t != t)
            abort();                        /* NaN */
        lw_creds_doc_free(&d);
    } else {
        if (d.access_key_id || d.secret_access_key || d.session_token || d.expiration
            || !why[0] || !memchr(why, 0, sizeof why)
            || (strstr(why, "sekrit") && strncmp(why, "Code ", 5) != 0))
            abort();
    }
    /* the whole body as a timestamp, too (NUL-terminated copy) */
    char ts[64];
    size_t tl = len < sizeof ts - 1 ? len : sizeof ts - 1;
    memcpy(ts, body, tl);
    ts[tl] = '\0';
    double t;
    lw_creds_parse_time(ts, &t);

    char line[256];
    lw_creds_first_line(line, sizeof line, body, len, 200);
    if (strlen(line) > 200)
        abort();
    for (const char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
    char tiny[4];
    lw_creds_first_line(tiny, sizeof tiny, body, len, 100);
    lw_creds_first_line(tiny, 0, body, len, 100);
    free(body);
    return 0;
}
