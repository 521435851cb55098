/* sigv4.c: SigV4 canonical request, string to sign, signature, signing-key cache.
 *
 * One pass computes an upper bound for every piece of text, takes one
 * scratch area (on the stack for usual requests, else the heap), and then
 * writes without further allocation. See sigv4.h for the rules. */
#include "sigv4.h"
#include "hash.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 4
#define MAX_SCOPE_PART 64          /* region, service */
#define MAX_KEY_ID 128
#define MAX_PAYLOAD_HASH 64
#define STACK_TEXT 4096            /* scratch bytes kept on the stack */
#define STACK_HEADERS 24
#define STACK_PARAMS 16
#define SMALL_SORT 32              /* insertion sort up to this many items */

static const char ALGORITHM[] = "AWS4-HMAC-SHA256";
static const char TERMINATOR[] = "aws4_request";

/* ---------------------------------------------------------------- cache */

struct cache_entry {
    unsigned long last_used;                /* 0 = empty slot */
    unsigned char secret_hash[LW_SHA256_LEN];
    unsigned char key[LW_SHA256_LEN];
    char date[8];
    size_t region_len, service_len;
    char region[MAX_SCOPE_PART];
    char service[MAX_SCOPE_PART];
};

struct lw_sigv4_cache {
    struct lw_hash *hash;                   /* reusable contexts for this owner */
    unsigned long tick, hits, misses;
    struct cache_entry e[CACHE_SLOTS];
};

struct lw_sigv4_cache *lw_sigv4_cache_new(void)
{
    struct lw_sigv4_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->hash = lw_hash_new();
    if (!c->hash) {
        free(c);
        return NULL;
    }
    return c;
}

void lw_sigv4_cache_free(struct lw_sigv4_cache *c)
{
    if (!c)
        return;
    lw_hash_free(c->hash);
    lw_hash_wipe(c, sizeof *c);
    free(c);
}

void lw_sigv4_cache_stats(const struct lw_sigv4_cache *c, unsigned long *hits,
                          unsigned long *misses)
{
    if (hits)
        *hits = c ? c->hits : 0;
    if (misses)
        *misses = c ? c->misses : 0;
}

static int derive_with(struct lw_hash *h, const char *secret, size_t slen, const char *date8,
                       const char *region, size_t rlen, const char *service, size_t svlen,
                       unsigned char key[LW_SHA256_LEN])
{
    unsigned char stack[4 + 124], *k = stack;
    unsigned char a[LW_SHA256_LEN], b[LW_SHA256_LEN];
    int rc = LW_SIGV4_ECRYPTO;
    if (slen > sizeof stack - 4) {
        k = malloc(slen + 4);
        if (!k)
            return LW_SIGV4_ENOMEM;
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    if (lw_hash_hmac_sha256(h, k, slen + 4, date8, 8, a) < 0
        || lw_hash_hmac_sha256(h, a, sizeof a, region, rlen, b) < 0
        || lw_hash_hmac_sha256(h, b, sizeof b, service, svlen, a) < 0
        || lw_hash_hmac_sha256(h, a, sizeof a, TERMINATOR, sizeof TERMINATOR - 1, key) < 0)
        goto done;
    rc = 0;
done:
    lw_hash_wipe(k, slen + 4);
    lw_hash_wipe(a, sizeof a);
    lw_hash_wipe(b, sizeof b);
    if (k != stack)
        free(k);
    return rc;
}

int lw_sigv4_derive_key(const char *secret, const char *date8, const char *region,
                        const char *service, unsigned char key[32])
{
    if (!secret || !date8 || strlen(date8) != 8 || !region || !service)
        return LW_SIGV4_EARG;
    struct lw_hash *h = lw_hash_new();
    if (!h)
        return LW_SIGV4_ENOMEM;
    int rc = derive_with(h, secret, strlen(secret), date8, region, strlen(region), service,
                         strlen(service), key);
    lw_hash_free(h);
    return rc;
}

/* The signing key for this scope, from the cache when it has it. */
static int signing_key(struct lw_sigv4_cache *c, struct lw_hash *h, const char *secret,
                       size_t slen, const char *date8, const char *region, size_t rlen,
                       const char *service, size_t svlen, unsigned char key[LW_SHA256_LEN])
{
    if (!c)
        return derive_with(h, secret, slen, date8, region, rlen, service, svlen, key);
    unsigned char sh[LW_SHA256_LEN];
    if (lw_hash_sha256(h, secret, slen, sh) < 0)
        return LW_SIGV4_ECRYPTO;
    struct cache_entry *victim = &c->e[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &c->e[i];
        if (e->last_used && e->region_len == rlen && e->service_len == svlen
            && memcmp(e->date, date8, 8) == 0 && memcmp(e->region, region, rlen) == 0
            && memcmp(e->service, service, svlen) == 0
            && lw_hash_equal(e->secret_hash, sh, sizeof sh)) {
            e->last_used = ++c->tick;
            c->hits++;
            memcpy(key, e->key, LW_SHA256_LEN);
            lw_hash_wipe(sh, sizeof sh);
            return 0;
        }
        if (e->last_used < victim->last_used)
            victim = e;
    }
    c->misses++;
    int rc = derive_with(h, secret, slen, date8, region, rlen, service, svlen, key);
    if (rc == 0) {
        victim->last_used = ++c->tick;
        memcpy(victim->secret_hash, sh, sizeof sh);
        memcpy(victim->key, key, LW_SHA256_LEN);
        memcpy(victim->date, date8, 8);
        victim->region_len = rlen;
        victim->service_len = svlen;
        memcpy(victim->region, region, rlen);
        memcpy(victim->service, service, svlen);
    }
    lw_hash_wipe(sh, sizeof sh);
    return rc;
}

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

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Length of s if every byte is visible ASCII (and, for scope parts, not
 * "/" or ","), 1 <= length <= max; else 0. */
static size_t check_word(const char *s, size_t max, bool scope_part)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 0x20 || c >= 0x7f || n >= max)
            return 0;
        if (scope_part && (c == '/' || c == ','))
            return 0;
    }
    return n;
}

/* Header value check: tab, visible ASCII and bytes >= 0x80 are fine; CR or
 * LF only as part of a line fold. Returns the length, or (size_t)-1. */
static size_t check_value(const char *v)
{
    size_t i = 0;
    for (; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (c == '\t')
            continue;
        if (c == '\r' && v[i + 1] == '\n')
            continue;
        if (c == '\n' && (v[i + 1] == ' ' || v[i + 1] == '\t'))
            continue;
        return (size_t)-1;
    }
    return i;
}

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
    if (w->len >= w->cap) {
        w->over = true;
        return;
    }
    w->p[w->len++] = c;
}

static inline void put_pct(struct w *w, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char b[3] = {'%', hex[c >> 4], hex[c & 15]};
    put(w, b, 3);
}

/* Percent-encode everything but the unreserved set (and "/" if keep_slash). */
static void put_encoded(struct w *w, const char *s, size_t n, bool keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/'))
            put_c(w, (char)c);
        else
            put_pct(w, c);
    }
}

/* Percent-decode (valid %XX only) then encode: the canonical form of a query
 * name or value. */
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
        if (is_unreserved(c))
            put_c(w, (char)c);
        else
            put_pct(w, c);
    }
}

/* Value trimmed, each run of white space (including folds) one space. */
static void put_value(struct w *w, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && is_ws((unsigned char)v[i]))
        i++;
    while (n > i && is_ws((unsigned char)v[n - 1]))
        n--;
    bool space = false;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_ws(c)) {
            if (!space)
                put_c(w, ' ');
            space = true;
        } else {
            put_c(w, (char)c);
            space = false;
        }
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
        put_encoded(w, path, n, true);
        return;
    }
    /* The output always ends in "/" while segments are added; ".." drops the
     * last segment; "" and "." add nothing. */
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
        put_encoded(w, seg, sl, false);
        put_c(w, '/');
    }
    /* Keep a trailing slash only if the raw path had one. */
    if (!w->over && w->len - start > 1 && path[n - 1] != '/')
        w->len--;
}

/* -------------------------------------------------------------- query */

struct param {
    const char *k, *v;
    size_t kl, vl;
};

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int cmp_param(const void *x, const void *y)
{
    const struct param *a = x, *b = y;
    int c = cmp_bytes(a->k, a->kl, b->k, b->kl);
    return c ? c : cmp_bytes(a->v, a->vl, b->v, b->vl);
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
        const char *ke = eq ? eq : e;
        struct param *pp = &ps[np++];
        pp->k = enc->p + enc->len;
        put_recoded(enc, s, (size_t)(ke - s));
        pp->kl = (size_t)(enc->p + enc->len - pp->k);
        pp->v = enc->p + enc->len;
        if (eq)
            put_recoded(enc, eq + 1, (size_t)(e - eq - 1));
        pp->vl = (size_t)(enc->p + enc->len - pp->v);
    }
    if (np <= SMALL_SORT) {
        for (size_t i = 1; i < np; i++) {
            struct param t = ps[i];
            size_t j = i;
            for (; j > 0 && cmp_param(&ps[j - 1], &t) > 0; j--)
                ps[j] = ps[j - 1];
            ps[j] = t;
        }
    } else {
        qsort(ps, np, sizeof *ps, cmp_param);
    }
    for (size_t i = 0; i < np; i++) {
        if (i)
            put_c(w, '&');
        put(w, ps[i].k, ps[i].kl);
        put_c(w, '=');
        put(w, ps[i].v, ps[i].vl);
    }
}

/* ------------------------------------------------------------ headers */

struct hdr {
    const char *name;   /* lower case */
    const char *value;  /* raw */
    size_t nl, vl, idx; /* idx: position in send order, keeps the sort stable */
};

static int cmp_hdr(const void *x, const void *y)
{
    const struct hdr *a = x, *b = y;
    int c = cmp_bytes(a->name, a->nl, b->name, b->nl);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

static void sort_hdrs(struct hdr *h, size_t n)
{
    if (n > SMALL_SORT) {
        qsort(h, n, sizeof *h, cmp_hdr);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct hdr t = h[i];
        size_t j = i;
        for (; j > 0 && cmp_hdr(&h[j - 1], &t) > 0; j--)
            h[j] = h[j - 1];
        h[j] = t;
    }
}

static bool name_is(const struct hdr *h, const char *lit, size_t litlen)
{
    return h->nl == litlen && memcmp(h->name, lit, litlen) == 0;
}
#define NAME_IS(h, lit) name_is((h), (lit), sizeof(lit) - 1)

/* ---------------------------------------------------------------- time */

/* "YYYYMMDDTHHMMSSZ" (proleptic Gregorian, UTC) without gmtime_r, whose
 * glibc implementation takes a process-wide lock. */
static int amz_date(time_t t, char out[17])
{
    int64_t s = (int64_t)t;
    if (s < 0 || s > INT64_C(253402300799))        /* 9999-12-31T23:59:59Z */
        return LW_SIGV4_ETIME;
    int64_t days = s / 86400, rem = s % 86400;
    /* civil_from_days, H. Hinnant's algorithm. */
    days += 719468;
    int64_t era = days / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int64_t hh = rem / 3600, mm = rem / 60 % 60, ss = rem % 60;
    int64_t v[6] = {y, m, d, hh, mm, ss};
    int w[6] = {4, 2, 2, 2, 2, 2};
    char *o = out;
    for (int i = 0; i < 6; i++) {
        for (int k = w[i] - 1; k >= 0; k--) {
            o[k] = (char)('0' + v[i] % 10);
            v[i] /= 10;
        }
        o += w[i];
        if (i == 2)
            *o++ = 'T';
    }
    *o++ = 'Z';
    *o = '\0';
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

static int fill_debug(struct lw_sigv4_debug *d, const char *cr, size_t crlen, size_t tok_off,
                      size_t tok_len, const char *sts, size_t stslen)
{
    static const char redacted[] = "<redacted>";
    struct lw_buf *c = &d->canonical_request, *s = &d->string_to_sign;
    lw_buf_reset(c);
    lw_buf_reset(s);
    int bad;
    if (d->redact_token && tok_len)
        bad = lw_buf_append(c, cr, tok_off) | lw_buf_append(c, redacted, sizeof redacted - 1)
              | lw_buf_append(c, cr + tok_off + tok_len, crlen - tok_off - tok_len);
    else
        bad = lw_buf_append(c, cr, crlen);
    bad |= lw_buf_append(s, sts, stslen);
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
    int rc = LW_SIGV4_EARG;

    if (!out)
        return LW_SIGV4_EARG;
    memset(out, 0, offsetof(struct lw_sigv4_result, auth_inline_));
    if (!req || !prm || !req->method || (req->nheaders && !req->headers)
        || (req->body_len && !req->body && !req->payload_hash))
        goto done;

    /* Scalars. */
    size_t mlen = check_word(req->method, 64, false);
    size_t aklen = check_word(prm->access_key_id, MAX_KEY_ID, true);
    size_t rlen = check_word(prm->region, MAX_SCOPE_PART, true);
    size_t svlen = check_word(prm->service, MAX_SCOPE_PART, true);
    size_t slen = prm->secret_access_key ? strlen(prm->secret_access_key) : 0;
    const char *token = prm->session_token && *prm->session_token ? prm->session_token : NULL;
    size_t toklen = token ? check_word(token, SIZE_MAX, false) : 0;
    if (!mlen || !aklen || !rlen || !svlen || !slen || (token && !toklen))
        goto done;
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar((unsigned char)req->method[i]))
            goto done;
    bool sign_token = token && !(prm->flags & LW_SIGV4_OMIT_SESSION_TOKEN);
    bool sign_body = prm->flags & LW_SIGV4_SIGN_BODY;
    if ((rc = amz_date(prm->time, out->amz_date)) < 0)
        goto done;
    rc = LW_SIGV4_EARG;
    if (req->payload_hash) {
        size_t n = check_word(req->payload_hash, MAX_PAYLOAD_HASH, false);
        if (!n)
            goto done;
        memcpy(out->payload_hash, req->payload_hash, n + 1);
    }
    const char *path = req->path ? req->path : "";
    const char *query = req->query ? req->query : "";
    size_t plen = strlen(path), qlen = strlen(query);

    /* Headers: validate, measure. */
    size_t nh = req->nheaders + 1 + (sign_token ? 1 : 0) + (sign_body ? 1 : 0);
    if (nh > STACK_HEADERS && !(hs = malloc(nh * sizeof *hs))) {
        rc = LW_SIGV4_ENOMEM;
        goto done;
    }
    size_t names = 0, hdr_bytes = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct lw_sigv4_header *in = &req->headers[i];
        if (!in->name || !in->value) {
            rc = LW_SIGV4_EHEADER;
            goto done;
        }
        size_t nl = 0;
        while (in->name[nl] && is_tchar((unsigned char)in->name[nl]))
            nl++;
        size_t vl = check_value(in->value);
        if (!nl || in->name[nl] || vl == (size_t)-1) {
            rc = LW_SIGV4_EHEADER;
            goto done;
        }
        hs[i] = (struct hdr){.name = in->name, .value = in->value, .nl = nl, .vl = vl, .idx = i};
        names += nl;
        hdr_bytes += 2 * nl + vl + 3;
    }
    size_t qparams = qlen ? count_params(query, qlen) : 0;
    if (qparams > STACK_PARAMS && !(ps = malloc(qparams * sizeof *ps))) {
        rc = LW_SIGV4_ENOMEM;
        goto done;
    }

    /* Scratch: lower-cased names, encoded query pieces, canonical request. */
    /* Each header costs at most 2 * name + value + 3 ("name:value\n" and
     * "name;" in the signed list); values only shrink when canonicalised. */
    size_t added = (2 * 10 + 16 + 3) + (sign_token ? 2 * 20 + toklen + 3 : 0)
                   + (sign_body ? 2 * 20 + MAX_PAYLOAD_HASH + 3 : 0);
    size_t cr_cap = mlen + 1                /* method \n */
                    + 3 * plen + 3          /* path (each byte at most %XX, plus "/"s) \n */
                    + 4 * qlen + 2          /* query: %XX per byte, "=" per pair \n */
                    + hdr_bytes + added + 1 /* headers, blank line */
                    + 1 + MAX_PAYLOAD_HASH; /* \n payload hash */
    size_t need = names + 3 * qlen + cr_cap;
    if (need > sizeof stack_text && !(text = malloc(need))) {
        rc = LW_SIGV4_ENOMEM;
        goto done;
    }
    struct w lw = {text, 0, names, false};
    struct w enc = {text + names, 0, 3 * qlen, false};
    struct w cr = {text + names + 3 * qlen, 0, cr_cap, false};

    bool host = false;
    for (size_t i = 0; i < req->nheaders; i++) {
        struct hdr *h = &hs[i];
        char *ln = lw.p + lw.len;
        for (size_t k = 0; k < h->nl; k++)
            ln[k] = (char)lower((unsigned char)h->name[k]);
        lw.len += h->nl;
        h->name = ln;
        if (NAME_IS(h, "authorization") || NAME_IS(h, "x-amz-date")
            || NAME_IS(h, "x-amz-security-token")
            || (sign_body && NAME_IS(h, "x-amz-content-sha256"))) {
            rc = LW_SIGV4_ERESERVED;
            goto done;
        }
        host |= NAME_IS(h, "host");
    }
    if (!host) {
        rc = LW_SIGV4_ENOHOST;
        goto done;
    }

    /* Payload hash (needs the hashing contexts). */
    struct lw_hash *hash = cache ? cache->hash : (tmp_hash = lw_hash_new());
    if (!hash) {
        rc = LW_SIGV4_ENOMEM;
        goto done;
    }
    if (!req->payload_hash && lw_hash_sha256_hex(hash, req->body, req->body_len,
                                                 out->payload_hash) < 0) {
        rc = LW_SIGV4_ECRYPTO;
        goto done;
    }
    size_t phlen = strlen(out->payload_hash);

    /* The headers the signer adds, then sort. */
    size_t n = req->nheaders;
    hs[n] = (struct hdr){"x-amz-date", out->amz_date, 10, 16, n};
    n++;
    if (sign_token) {
        hs[n] = (struct hdr){"x-amz-security-token", token, 20, toklen, n};
        n++;
    }
    if (sign_body) {
        hs[n] = (struct hdr){"x-amz-content-sha256", out->payload_hash, 20, phlen, n};
        n++;
    }
    sort_hdrs(hs, n);

    /* Canonical request. */
    put(&cr, req->method, mlen);
    put_c(&cr, '\n');
    put_path(&cr, path, plen, !(prm->flags & LW_SIGV4_NO_NORMALIZE_PATH));
    put_c(&cr, '\n');
    if (qlen)
        put_query(&cr, &enc, ps, query, qlen);
    put_c(&cr, '\n');
    size_t tok_off = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && hs[i].nl == hs[i - 1].nl && memcmp(hs[i].name, hs[i - 1].name, hs[i].nl) == 0) {
            put_c(&cr, ',');
        } else {
            if (i)
                put_c(&cr, '\n');
            put(&cr, hs[i].name, hs[i].nl);
            put_c(&cr, ':');
        }
        if (sign_token && NAME_IS(&hs[i], "x-amz-security-token"))
            tok_off = cr.len;
        put_value(&cr, hs[i].value, hs[i].vl);
    }
    put(&cr, "\n\n", 2);
    size_t signed_off = cr.len;
    for (size_t i = 0; i < n; i++) {
        if (i && hs[i].nl == hs[i - 1].nl && memcmp(hs[i].name, hs[i - 1].name, hs[i].nl) == 0)
            continue;
        if (i)
            put_c(&cr, ';');
        put(&cr, hs[i].name, hs[i].nl);
    }
    size_t signed_len = cr.len - signed_off;
    put_c(&cr, '\n');
    put(&cr, out->payload_hash, phlen);
    if (cr.over || enc.over || lw.over) {
        rc = LW_SIGV4_ENOMEM;                 /* a bound above is wrong: never expected */
        goto done;
    }

    /* String to sign. */
    char scope[8 + 1 + MAX_SCOPE_PART + 1 + MAX_SCOPE_PART + 1 + sizeof TERMINATOR];
    struct w sc = {scope, 0, sizeof scope, false};
    put(&sc, out->amz_date, 8);
    put_c(&sc, '/');
    put(&sc, prm->region, rlen);
    put_c(&sc, '/');
    put(&sc, prm->service, svlen);
    put_c(&sc, '/');
    put(&sc, TERMINATOR, sizeof TERMINATOR - 1);
    char sts_buf[sizeof ALGORITHM + 17 + sizeof scope + LW_SHA256_HEX_LEN + 1];
    struct w sts = {sts_buf, 0, sizeof sts_buf, false};
    char crhash[LW_SHA256_HEX_LEN + 1];
    if (lw_hash_sha256_hex(hash, cr.p, cr.len, crhash) < 0) {
        rc = LW_SIGV4_ECRYPTO;
        goto done;
    }
    put(&sts, ALGORITHM, sizeof ALGORITHM - 1);
    put_c(&sts, '\n');
    put(&sts, out->amz_date, 16);
    put_c(&sts, '\n');
    put(&sts, scope, sc.len);
    put_c(&sts, '\n');
    put(&sts, crhash, LW_SHA256_HEX_LEN);

    /* Signature. */
    if ((rc = signing_key(cache, hash, prm->secret_access_key, slen, out->amz_date,
                          prm->region, rlen, prm->service, svlen, key)) < 0)
        goto done;
    if (lw_hash_hmac_sha256(hash, key, sizeof key, sts.p, sts.len, mac) < 0) {
        rc = LW_SIGV4_ECRYPTO;
        goto done;
    }
    lw_hash_hex(mac, sizeof mac, out->signature);

    /* Authorization: "AWS4-HMAC-SHA256 Credential=<id>/<scope>,
     * SignedHeaders=<list>, Signature=<hex>". */
    static const char c1[] = " Credential=", c2[] = ", SignedHeaders=", c3[] = ", Signature=";
    size_t alen = sizeof ALGORITHM - 1 + sizeof c1 - 1 + aklen + 1 + sc.len + sizeof c2 - 1
                  + signed_len + sizeof c3 - 1 + LW_SHA256_HEX_LEN;
    char *auth = out->auth_inline_;
    if (alen + 1 > sizeof out->auth_inline_ && !(auth = out->auth_heap_ = malloc(alen + 1))) {
        rc = LW_SIGV4_ENOMEM;
        goto done;
    }
    struct w aw = {auth, 0, alen, false};
    put(&aw, ALGORITHM, sizeof ALGORITHM - 1);
    put(&aw, c1, sizeof c1 - 1);
    put(&aw, prm->access_key_id, aklen);
    put_c(&aw, '/');
    put(&aw, scope, sc.len);
    put(&aw, c2, sizeof c2 - 1);
    put(&aw, cr.p + signed_off, signed_len);
    put(&aw, c3, sizeof c3 - 1);
    put(&aw, out->signature, LW_SHA256_HEX_LEN);
    auth[aw.len] = '\0';
    out->authorization = auth;
    out->authorization_len = aw.len;

    size_t na = 0;
    out->add[na++] = (struct lw_sigv4_header){"X-Amz-Date", out->amz_date};
    if (token)
        out->add[na++] = (struct lw_sigv4_header){"X-Amz-Security-Token", token};
    if (sign_body)
        out->add[na++] = (struct lw_sigv4_header){"x-amz-content-sha256", out->payload_hash};
    out->add[na++] = (struct lw_sigv4_header){"Authorization", auth};
    out->nadd = na;

    rc = dbg ? fill_debug(dbg, cr.p, cr.len, tok_off, sign_token ? toklen : 0, sts.p, sts.len)
             : 0;

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
    switch (code) {
    case 0: return "ok";
    case LW_SIGV4_EARG: return "missing or malformed signing argument";
    case LW_SIGV4_EHEADER: return "invalid header name or value";
    case LW_SIGV4_ERESERVED: return "header is set by the signer";
    case LW_SIGV4_ENOHOST: return "no Host header to sign";
    case LW_SIGV4_ETIME: return "time out of range";
    case LW_SIGV4_ENOMEM: return "out of memory";
    case LW_SIGV4_ECRYPTO: return "libcrypto failure";
    default: return "unknown signing error";
    }
}
