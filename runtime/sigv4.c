/* sigv4.c: SigV4 canonical request, string to sign, signature (the signing
 * key and its cache: sigv4_key.c).
 *
 * One pass measures every piece of text, takes one scratch area (on the
 * stack for usual requests, else the heap) and then writes without further
 * allocation. See sigv4.h for the rules. */
#include "sigv4.h"
#include "hash.h"
#include "sigv4_key.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCOPE_PART LW_SIGV4_MAX_SCOPE_PART    /* region, service */
#define MAX_KEY_ID 128
#define MAX_PAYLOAD_HASH 64
#define STACK_TEXT 4096            /* scratch bytes kept on the stack */
#define STACK_HEADERS 24
#define STACK_PARAMS 16
#define SMALL_SORT 32              /* insertion sort up to this many items */

static const char ALGORITHM[] = "AWS4-HMAC-SHA256";
static const char TERMINATOR[] = LW_SIGV4_TERMINATOR;
#define SCOPE_MAX LW_SIGV4_SCOPE_MAX
#define STS_MAX (sizeof ALGORITHM + 17 + SCOPE_MAX + LW_SHA256_HEX_LEN)

/* ------------------------------------------------------ character classes */

static inline bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline bool is_unreserved(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 token character (header names, methods). */
static inline bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static inline int hexval(unsigned char c)
{
    unsigned d = c - 48u, l = (c | 32u) - 97u;     /* c - '0', lower(c) - 'a' */
    return d < 10 ? (int)d : l < 6 ? (int)l + 10 : -1;
}

static inline unsigned char lower(unsigned char c)
{
    return (unsigned char)(c + ((unsigned)(c - 'A') < 26u) * 32);   /* ASCII only, branch-free */
}

/* Eight bytes at a time (SWAR): these scans see the ~1 KB session token on
 * every call. any_lt: some byte < n (n <= 128); any_gt: some byte > n
 * (n <= 127). Both are exact as yes/no answers for the whole word. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint64_t any_lt(uint64_t x, unsigned n)
{
    return (x - ONES * n) & ~x & HIGHS;
}

static inline uint64_t any_gt(uint64_t x, unsigned n)
{
    return ((x + ONES * (127 - n)) | x) & HIGHS;
}

/* Length of s if every byte is visible ASCII (and, for scope parts, not
 * "/" or ","), 1 <= length <= max; else 0. */
static size_t check_word(const char *s, size_t max, bool scope_part)
{
    if (!s)
        return 0;
    size_t n = strlen(s), i = 0;
    if (n == 0 || n > max)
        return 0;
    if (!scope_part)
        for (; i + 8 <= n; i += 8)
            if (any_lt(load8(s + i), 0x21) | any_gt(load8(s + i), 0x7e))
                return 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || (scope_part && (c == '/' || c == ',')))
            return 0;
    }
    return n;
}

/* Header value check: tab, visible ASCII and bytes >= 0x80 are fine; CR or
 * LF only as part of a line fold. Returns the length, or (size_t)-1. The
 * exact walk starts at the first word holding a control byte. */
static size_t check_value(const char *v)
{
    size_t n = strlen(v), i = 0;
    while (i + 8 <= n && !(any_lt(load8(v + i), 0x20) | any_lt(load8(v + i) ^ (ONES * 0x7f), 1)))
        i += 8;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c >= 0x20 && c != 0x7f) || c == '\t' || (c == '\r' && v[i + 1] == '\n')
            || (c == '\n' && (v[i + 1] == ' ' || v[i + 1] == '\t')))
            continue;
        return (size_t)-1;
    }
    return n;
}

/* Header names: ASCII case-insensitive byte order, shorter first on a tie. */
static int ci_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    for (size_t i = 0; i < an && i < bn; i++) {
        int c = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
        if (c)
            return c;
    }
    return (an > bn) - (an < bn);
}
#define NAME_IS(name, nl, lit) \
    ((nl) == sizeof(lit) - 1 && ci_cmp((name), (nl), (lit), sizeof(lit) - 1) == 0)

/* ----------------------------------------------------------------- writer */

/* Appends into space sized in advance; `over` records a (never expected)
 * overrun instead of writing past the end. */
struct w {
    char *p;
    size_t len, cap;
    bool over;
};

static inline void put(struct w *w, const void *s, size_t n)
{
    if (n > w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static inline void put_c(struct w *w, char c)
{
    put(w, &c, 1);
}

/* Append NUL-terminated strings up to a NULL. */
static void put_all(struct w *w, ...)
{
    va_list ap;
    va_start(ap, w);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        put(w, s, strlen(s));
    va_end(ap);
}

static void put_lower(struct w *w, const char *s, size_t n)
{
    if (n > w->cap - w->len) {
        w->over = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        w->p[w->len++] = (char)lower((unsigned char)s[i]);
}

/* c itself if unreserved (or "/" when keep_slash), else %XX upper-case. */
static inline void put_enc(struct w *w, unsigned char c, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char b[3] = {'%', hex[c >> 4], hex[c & 15]};
    if (is_unreserved(c) || (keep_slash && c == '/'))
        put_c(w, (char)c);
    else
        put(w, b, 3);
}

/* Percent-decode (valid %XX only), then encode: a query name or value. */
static void put_recoded(struct w *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int hi, lo;
        if (c == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0
            && (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        put_enc(w, c, false);
    }
}

/* Value trimmed, each run of white space (including folds) one space.
 * Values were checked by check_value (or are signer-made), so the only bytes
 * <= 0x20 left in them are space, tab, CR and LF: all white space. Copies
 * whole runs of other bytes at once. */
static void put_value(struct w *w, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)v[i] <= 0x20)
        i++;
    while (n > i && (unsigned char)v[n - 1] <= 0x20)
        n--;
    while (i < n) {
        size_t j = i;
        while (j + 8 <= n && !any_lt(load8(v + j), 0x21))
            j += 8;
        while (j < n && (unsigned char)v[j] > 0x20)
            j++;
        put(w, v + i, j - i);
        if (j == n)
            break;
        while ((unsigned char)v[j] <= 0x20)     /* stops before n: v[n-1] > 0x20 */
            j++;
        put_c(w, ' ');
        i = j;
    }
}

/* --------------------------------------------------------------- path */

static void put_path(struct w *w, const char *path, size_t n, bool normalize)
{
    if (n == 0) {
        put_c(w, '/');
        return;
    }
    if (!normalize) {
        for (size_t i = 0; i < n; i++)
            put_enc(w, (unsigned char)path[i], true);
        return;
    }
    /* The output ends in "/" while segments are added; ".." drops the last
     * segment; "" and "." add nothing. */
    size_t start = w->len;
    put_c(w, '/');
    const char *p = path, *end = path + n;
    while (p < end) {
        const char *seg = p;
        while (p < end && *p != '/')
            p++;
        size_t sl = (size_t)(p - seg);
        if (p < end)
            p++;
        if (sl == 0 || (sl == 1 && seg[0] == '.'))
            continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            if (!w->over && w->len - start > 1) {
                size_t i = w->len - 1;
                while (i > start && w->p[i - 1] != '/')
                    i--;
                w->len = i;
            }
            continue;
        }
        for (size_t i = 0; i < sl; i++)
            put_enc(w, (unsigned char)seg[i], false);
        put_c(w, '/');
    }
    /* Keep a trailing slash only if the raw path had one. */
    if (!w->over && w->len - start > 1 && path[n - 1] != '/')
        w->len--;
}

/* -------------------------------------------------------- query, sorting */

struct param {                          /* one query parameter, already encoded */
    const char *k, *v;
    size_t kl, vl;
};

struct hdr {
    const char *name, *value;           /* as given (name in any case) */
    size_t nl, vl, idx;                 /* idx: send order, keeps the sort stable */
};

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int cmp_param(const void *x, const void *y)
{
    const struct param *a = x, *b = y;
    int c = cmp_bytes(a->k, a->kl, b->k, b->kl);
    return c ? c : cmp_bytes(a->v, a->vl, b->v, b->vl);
}

/* Lower-cased names in byte order, then send order. */
static int cmp_hdr(const void *x, const void *y)
{
    const struct hdr *a = x, *b = y;
    int c = ci_cmp(a->name, a->nl, b->name, b->nl);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Insertion sort for the handful of items a request has; qsort beyond. */
_Static_assert(sizeof(struct hdr) <= 64 && sizeof(struct param) <= 64, "sort_small buffer");
static void sort_small(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > SMALL_SORT) {
        qsort(base, n, size, cmp);
        return;
    }
    char *b = base, t[64];
    for (size_t i = 1; i < n; i++) {
        size_t j = i;
        memcpy(t, b + i * size, size);
        while (j > 0 && cmp(b + (j - 1) * size, t) > 0)
            j--;
        memmove(b + (j + 1) * size, b + j * size, (i - j) * size);
        memcpy(b + j * size, t, size);
    }
}

static size_t count_params(const char *q, size_t n)
{
    size_t c = 1;
    for (size_t i = 0; i < n; i++)
        c += q[i] == '&';
    return c;
}

/* Encode each parameter into `enc` (scratch), sort, write into w. */
static void put_query(struct w *w, struct w *enc, struct param *ps, const char *q, size_t n)
{
    size_t np = 0;
    const char *p = q, *end = q + n;
    while (p < end) {
        const char *s = p;
        while (p < end && *p != '&')
            p++;
        const char *e = p;
        if (p < end)
            p++;
        if (e == s)
            continue;                       /* "a=1&&b=2": empty pair ignored */
        const char *eq = memchr(s, '=', (size_t)(e - s));
        struct param *pp = &ps[np++];
        pp->k = enc->p + enc->len;
        put_recoded(enc, s, (size_t)((eq ? eq : e) - s));
        pp->kl = (size_t)(enc->p + enc->len - pp->k);
        pp->v = enc->p + enc->len;
        if (eq)
            put_recoded(enc, eq + 1, (size_t)(e - eq - 1));
        pp->vl = (size_t)(enc->p + enc->len - pp->v);
    }
    sort_small(ps, np, sizeof *ps, cmp_param);
    for (size_t i = 0; i < np; i++) {
        if (i)
            put_c(w, '&');
        put(w, ps[i].k, ps[i].kl);
        put_c(w, '=');
        put(w, ps[i].v, ps[i].vl);
    }
}

/* ---------------------------------------------------------------- time */

/* "YYYYMMDDTHHMMSSZ" (proleptic Gregorian, UTC) without gmtime_r, whose
 * glibc implementation takes a process-wide lock. */
static int amz_date(time_t t, char out[17])
{
    int64_t s = (int64_t)t;
    if (s < 0 || s > INT64_C(253402300799))        /* 9999-12-31T23:59:59Z */
        return LW_SIGV4_ETIME;
    /* civil_from_days, H. Hinnant's algorithm. */
    int64_t days = s / 86400 + 719468, rem = s % 86400;
    int64_t era = days / 146097, doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t v[6] = {yoe + era * 400 + (m <= 2), m, doy - (153 * mp + 2) / 5 + 1,
                    rem / 3600, rem / 60 % 60, rem % 60};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    char *o = out;
    for (int i = 0; i < 6; i++) {
        for (int k = width[i] - 1; k >= 0; k--, v[i] /= 10)
            o[k] = (char)('0' + v[i] % 10);
        o += width[i];
        if (i == 2)
            *o++ = 'T';
    }
    memcpy(o, "Z", 2);
    return 0;
}

/* ---------------------------------------------------------------- sign */

void lw_sigv4_result_free(struct lw_sigv4_result *r)
{
    if (!r)
        return;
    free(r->auth_heap_);
    memset(r, 0, sizeof *r);
}

void lw_sigv4_debug_free(struct lw_sigv4_debug *d)
{
    if (!d)
        return;
    lw_buf_free(&d->canonical_request);
    lw_buf_free(&d->string_to_sign);
}

/* What one signature carries from phase to phase. */
struct job {
    const struct lw_sigv4_request *req;
    const struct lw_sigv4_params *prm;
    struct lw_sigv4_result *out;
    const char *token, *path, *query;       /* token NULL without one */
    size_t mlen, aklen, rlen, svlen, slen, toklen, plen, qlen, phlen;
    bool sign_token, sign_body;
    size_t hdr_bytes;                       /* room the caller's headers need */
    size_t tok_off, signed_off, signed_len; /* positions in the canonical request */
    char sts[STS_MAX];                      /* string to sign */
    size_t sts_len, scope_off, scope_len;   /* the scope is part of it */
};

/* Method, credentials, time, payload hash; starts the string to sign. */
static int check_scalars(struct job *j)
{
    const struct lw_sigv4_request *req = j->req;
    const struct lw_sigv4_params *prm = j->prm;
    if (!req->method || (req->nheaders && !req->headers)
        || (req->body_len && !req->body && !req->payload_hash))
        return LW_SIGV4_EARG;
    j->mlen = check_word(req->method, 64, false);
    j->aklen = check_word(prm->access_key_id, MAX_KEY_ID, true);
    j->rlen = check_word(prm->region, MAX_SCOPE_PART, true);
    j->svlen = check_word(prm->service, MAX_SCOPE_PART, true);
    j->slen = prm->secret_access_key ? strlen(prm->secret_access_key) : 0;
    j->token = prm->session_token && *prm->session_token ? prm->session_token : NULL;
    j->toklen = j->token ? check_word(j->token, SIZE_MAX, false) : 0;
    if (!j->mlen || !j->aklen || !j->rlen || !j->svlen || !j->slen || (j->token && !j->toklen))
        return LW_SIGV4_EARG;
    for (size_t i = 0; i < j->mlen; i++)
        if (!is_tchar((unsigned char)req->method[i]))
            return LW_SIGV4_EARG;
    j->sign_token = j->token && !(prm->flags & LW_SIGV4_OMIT_SESSION_TOKEN);
    j->sign_body = prm->flags & LW_SIGV4_SIGN_BODY;
    if (req->payload_hash) {
        size_t n = check_word(req->payload_hash, MAX_PAYLOAD_HASH, false);
        if (!n)
            return LW_SIGV4_EARG;
        memcpy(j->out->payload_hash, req->payload_hash, n + 1);
    }
    j->path = req->path ? req->path : "";
    j->query = req->query ? req->query : "";
    j->plen = strlen(j->path);
    j->qlen = strlen(j->query);
    int rc = amz_date(prm->time, j->out->amz_date);
    if (rc < 0)
        return rc;
    /* "AWS4-HMAC-SHA256\n<amz date>\n<date>/<region>/<service>/aws4_request\n" */
    struct w st = {j->sts, 0, sizeof j->sts, false};
    put_all(&st, ALGORITHM, "\n", j->out->amz_date, "\n", NULL);
    j->scope_off = st.len;
    put(&st, j->out->amz_date, 8);
    put_all(&st, "/", prm->region, "/", prm->service, "/", TERMINATOR, NULL);
    j->scope_len = st.len - j->scope_off;
    put_c(&st, '\n');
    j->sts_len = st.len;
    return 0;
}

/* Validate the caller's headers into hs[]; refuse the signer's own headers,
 * insist on Host; append the signer's headers (unsorted). *n gets the count. */
static int collect_headers(struct job *j, struct hdr *hs, size_t *n)
{
    bool host = false;
    size_t k = 0;
    for (; k < j->req->nheaders; k++) {
        const struct lw_sigv4_header *in = &j->req->headers[k];
        if (!in->name || !in->value)
            return LW_SIGV4_EHEADER;
        size_t nl = 0;
        while (in->name[nl] && is_tchar((unsigned char)in->name[nl]))
            nl++;
        size_t vl = check_value(in->value);
        if (!nl || in->name[nl] || vl == (size_t)-1)
            return LW_SIGV4_EHEADER;
        if (NAME_IS(in->name, nl, "authorization") || NAME_IS(in->name, nl, "x-amz-date")
            || NAME_IS(in->name, nl, "x-amz-security-token")
            || (j->sign_body && NAME_IS(in->name, nl, "x-amz-content-sha256")))
            return LW_SIGV4_ERESERVED;
        host |= NAME_IS(in->name, nl, "host");
        hs[k] = (struct hdr){in->name, in->value, nl, vl, k};
        j->hdr_bytes += 2 * nl + vl + 3;    /* "name:value\n" and "name;" */
    }
    if (!host)
        return LW_SIGV4_ENOHOST;
    hs[k++] = (struct hdr){"x-amz-date", j->out->amz_date, 10, 16, 0};
    if (j->sign_token)
        hs[k++] = (struct hdr){"x-amz-security-token", j->token, 20, j->toklen, 0};
    if (j->sign_body)                       /* payload_hash is filled in before sorting */
        hs[k++] = (struct hdr){"x-amz-content-sha256", j->out->payload_hash, 20, 0, 0};
    for (size_t i = j->req->nheaders; i < k; i++) {
        hs[i].idx = i;
        j->hdr_bytes += 2 * hs[i].nl + (hs[i].vl ? hs[i].vl : MAX_PAYLOAD_HASH) + 3;
    }
    *n = k;
    return 0;
}

static bool same_name(const struct hdr *a, const struct hdr *b)
{
    return a->nl == b->nl && ci_cmp(a->name, a->nl, b->name, b->nl) == 0;
}

static void write_canonical(struct job *j, const struct hdr *hs, size_t n, struct w *cr,
                            struct w *enc, struct param *ps)
{
    put(cr, j->req->method, j->mlen);
    put_c(cr, '\n');
    put_path(cr, j->path, j->plen, !(j->prm->flags & LW_SIGV4_NO_NORMALIZE_PATH));
    put_c(cr, '\n');
    if (j->qlen)
        put_query(cr, enc, ps, j->query, j->qlen);
    put_c(cr, '\n');
    for (size_t i = 0; i < n; i++) {
        if (i && same_name(&hs[i], &hs[i - 1])) {
            put_c(cr, ',');                 /* repeated name: one line, values in order */
        } else {
            if (i)
                put_c(cr, '\n');
            put_lower(cr, hs[i].name, hs[i].nl);
            put_c(cr, ':');
        }
        if (j->sign_token && NAME_IS(hs[i].name, hs[i].nl, "x-amz-security-token"))
            j->tok_off = cr->len;           /* only the signer adds this name */
        put_value(cr, hs[i].value, hs[i].vl);
    }
    put(cr, "\n\n", 2);
    j->signed_off = cr->len;
    for (size_t i = 0; i < n; i++) {
        if (i && same_name(&hs[i], &hs[i - 1]))
            continue;
        if (i)
            put_c(cr, ';');
        put_lower(cr, hs[i].name, hs[i].nl);
    }
    j->signed_len = cr->len - j->signed_off;
    put_c(cr, '\n');
    put(cr, j->out->payload_hash, j->phlen);
}

/* Authorization ("AWS4-HMAC-SHA256 Credential=<id>/<scope>,
 * SignedHeaders=<list>, Signature=<hex>") and the headers to add. */
static int write_result(struct job *j, const char *signed_list)
{
    static const char c1[] = " Credential=", c2[] = ", SignedHeaders=", c3[] = ", Signature=";
    struct lw_sigv4_result *out = j->out;
    size_t alen = sizeof ALGORITHM - 1 + sizeof c1 - 1 + j->aklen + 1 + j->scope_len
                  + sizeof c2 - 1 + j->signed_len + sizeof c3 - 1 + LW_SHA256_HEX_LEN;
    char *auth = out->auth_inline_;
    if (alen + 1 > sizeof out->auth_inline_ && !(auth = out->auth_heap_ = malloc(alen + 1)))
        return LW_SIGV4_ENOMEM;
    struct w aw = {auth, 0, alen, false};
    put_all(&aw, ALGORITHM, c1, j->prm->access_key_id, "/", NULL);
    put(&aw, j->sts + j->scope_off, j->scope_len);
    put_all(&aw, c2, NULL);
    put(&aw, signed_list, j->signed_len);
    put_all(&aw, c3, out->signature, NULL);
    auth[aw.len] = '\0';
    out->authorization = auth;
    out->authorization_len = aw.len;
    size_t na = 0;
    out->add[na++] = (struct lw_sigv4_header){"X-Amz-Date", out->amz_date};
    if (j->token)
        out->add[na++] = (struct lw_sigv4_header){"X-Amz-Security-Token", j->token};
    if (j->sign_body)
        out->add[na++] = (struct lw_sigv4_header){"x-amz-content-sha256", out->payload_hash};
    out->add[na++] = (struct lw_sigv4_header){"Authorization", auth};
    out->nadd = na;
    return 0;
}

static int write_debug(const struct job *j, struct lw_sigv4_debug *d, const char *cr,
                       size_t crlen)
{
    static const char redacted[] = "<redacted>";
    struct lw_buf *c = &d->canonical_request;
    size_t off = j->tok_off, tl = j->sign_token ? j->toklen : 0;
    lw_buf_reset(c);
    lw_buf_reset(&d->string_to_sign);
    int bad;
    if (d->redact_token && tl)
        bad = lw_buf_append(c, cr, off) | lw_buf_append(c, redacted, sizeof redacted - 1)
              | lw_buf_append(c, cr + off + tl, crlen - off - tl);
    else
        bad = lw_buf_append(c, cr, crlen);
    bad |= lw_buf_append(&d->string_to_sign, j->sts, j->sts_len);
    return bad ? LW_SIGV4_ENOMEM : 0;
}

int lw_sigv4_sign(struct lw_sigv4_cache *cache, const struct lw_sigv4_request *req,
                  const struct lw_sigv4_params *prm, struct lw_sigv4_result *out,
                  struct lw_sigv4_debug *dbg)
{
    char stack_text[STACK_TEXT];
    struct hdr stack_hdrs[STACK_HEADERS];
    struct param stack_params[STACK_PARAMS];
    char *text = stack_text;
    struct hdr *hs = stack_hdrs;
    struct param *ps = stack_params;
    struct lw_hash *tmp_hash = NULL;
    unsigned char key[LW_SHA256_LEN], mac[LW_SHA256_LEN];
    struct job j = {.req = req, .prm = prm, .out = out};
    int rc = LW_SIGV4_EARG;

    if (!out)
        return LW_SIGV4_EARG;
    memset(out, 0, offsetof(struct lw_sigv4_result, auth_inline_));
    if (!req || !prm || (rc = check_scalars(&j)) < 0)
        goto done;

    /* Scratch: the header and parameter arrays, then one text area for the
     * encoded query pieces and the canonical request. A header costs at
     * most 2 * name + value + 3 bytes there; a path or query byte at most 3
     * ("%XX") plus separators. */
    size_t nh = req->nheaders + 1 + j.sign_token + j.sign_body, n = 0;
    size_t np = j.qlen ? count_params(j.query, j.qlen) : 0;
    rc = LW_SIGV4_ENOMEM;
    if ((nh > STACK_HEADERS && !(hs = malloc(nh * sizeof *hs)))
        || (np > STACK_PARAMS && !(ps = malloc(np * sizeof *ps))))
        goto done;
    if ((rc = collect_headers(&j, hs, &n)) < 0)
        goto done;
    size_t cr_cap = j.mlen + 1 + 3 * j.plen + 3 + 4 * j.qlen + 2 + j.hdr_bytes + 2
                    + MAX_PAYLOAD_HASH;
    rc = LW_SIGV4_ENOMEM;
    if (3 * j.qlen + cr_cap > sizeof stack_text && !(text = malloc(3 * j.qlen + cr_cap)))
        goto done;
    struct w enc = {text, 0, 3 * j.qlen, false};
    struct w cr = {text + 3 * j.qlen, 0, cr_cap, false};

    /* Payload hash, canonical request, its hash: the string to sign. */
    struct lw_hash *hash = cache ? lw_sigv4_cache_hash(cache) : (tmp_hash = lw_hash_new());
    rc = hash ? LW_SIGV4_ECRYPTO : LW_SIGV4_ENOMEM;
    if (!hash || (!req->payload_hash
                  && lw_hash_sha256_hex(hash, req->body, req->body_len, out->payload_hash) < 0))
        goto done;
    j.phlen = strlen(out->payload_hash);
    if (j.sign_body)
        hs[n - 1].vl = j.phlen;
    sort_small(hs, n, sizeof *hs, cmp_hdr);
    write_canonical(&j, hs, n, &cr, &enc, ps);
    rc = LW_SIGV4_ENOMEM;                   /* a bound above is wrong: never expected */
    if (cr.over || enc.over)
        goto done;
    rc = LW_SIGV4_ECRYPTO;
    if (lw_hash_sha256_hex(hash, cr.p, cr.len, j.sts + j.sts_len) < 0)
        goto done;
    j.sts_len += LW_SHA256_HEX_LEN;

    /* Signature and result. */
    if ((rc = lw_sigv4_signing_key(cache, hash, prm->secret_access_key, j.slen, j.sts + j.scope_off,
                          j.scope_len, j.rlen, j.svlen, key)) < 0)
        goto done;
    rc = LW_SIGV4_ECRYPTO;
    if (lw_hash_hmac_sha256(hash, key, sizeof key, j.sts, j.sts_len, mac) < 0)
        goto done;
    lw_hash_hex(mac, sizeof mac, out->signature);
    if ((rc = write_result(&j, cr.p + j.signed_off)) == 0 && dbg)
        rc = write_debug(&j, dbg, cr.p, cr.len);

done:
    lw_hash_wipe(key, sizeof key);
    lw_hash_wipe(mac, sizeof mac);
    if (text != stack_text)
        free(text);
    if (hs != stack_hdrs)
        free(hs);
    if (ps != stack_params)
        free(ps);
    lw_hash_free(tmp_hash);
    if (rc < 0)
        lw_sigv4_result_free(out);
    return rc;
}

const char *lw_sigv4_strerror(int code)
{
    static const char *const msg[] = {
        "ok", "missing or malformed signing argument", "invalid header name or value",
        "header is set by the signer", "no Host header to sign", "time out of range",
        "out of memory", "libcrypto failure",
    };
    return code <= 0 && -code < (int)(sizeof msg / sizeof msg[0]) ? msg[-code]
                                                                   : "unknown signing error";
}
