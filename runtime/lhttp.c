/* lhttp.c: lw.http.request{...} for handlers: asynchronous HTTP on the
 * worker's curl multi loop, optionally SigV4-signed with the worker's
 * credentials.
 *
 *   local status, body, headers = lw.http.request{
 *     method = "POST", url = "https://dynamodb.us-east-1.amazonaws.com/",
 *     headers = { ["Content-Type"] = "application/x-amz-json-1.0",
 *                 ["X-Amz-Target"] = "DynamoDB_20120810.ListTables" },
 *     body = "{}", timeout = 10,
 *     aws = { service = "dynamodb" },          -- sign (region: the worker's by default)
 *   }
 *
 * The handler's coroutine yields while the request runs; the runtime keeps
 * heartbeating for it, and a cancellation learned meanwhile aborts the
 * request and is raised here. Transport failures raise luaworker.Error
 * (HttpTimeout, ConnectTimeout, ConnectionRefused, HostNotFound, TlsError,
 * ConnectionClosed, NetworkError, BodyTooLarge); any HTTP status, 4xx and
 * 5xx included, is returned. Response header names are lower-cased;
 * repeated headers are joined with ", ". */
#include "lhost.h"
#include "creds.h"
#include "http.h"
#include "sigv4.h"
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HEADERS 64

struct hreq {
    struct lw_task *t;
    struct lw_http_req *r;
};

static void abort_req(void *ud)
{
    struct hreq *h = ud;
    lw_http_cancel(h->r);
    free(h);
}

/* [-0, +1, m] response headers as a table, names lower-cased */
static void push_headers(lua_State *co, const struct lw_http_response *res)
{
    lua_createtable(co, 0, (int)res->nheaders);
    for (size_t i = 0; i < res->nheaders; i++) {
        char name[128];
        size_t n = 0;
        for (const char *p = res->headers[i].name; *p && n < sizeof name - 1; p++)
            name[n++] = (char)tolower((unsigned char)*p);
        name[n] = '\0';
        lua_getfield(co, -1, name);                     /* hdrs, old */
        if (lua_isstring(co, -1)) {
            lua_pushliteral(co, ", ");
            lua_pushstring(co, res->headers[i].value);
            lua_concat(co, 3);                          /* hdrs, joined */
        } else {
            lua_pop(co, 1);
            lua_pushstring(co, res->headers[i].value);  /* hdrs, value */
        }
        lua_setfield(co, -2, name);
    }
}

static void on_done(void *ud, const struct lw_http_response *res)
{
    struct hreq *h = ud;
    struct lw_task *t = h->t;
    free(h);
    lw_task_wait_end(t);
    lua_State *co = lw_lhost_thread(t);
    if (!co)
        return;
    if (res->status == 0) {
        lua_pushboolean(co, 0);
        lw_push_error(co, &res->error);
        lw_lhost_resume(t, 2);
        return;
    }
    lua_pushboolean(co, 1);
    lua_pushinteger(co, res->status);
    lua_pushlstring(co, res->body, res->body_len);
    push_headers(co, res);
    lw_lhost_resume(t, 4);
}

/* Options, checked before anything is allocated (luaL errors longjmp). */
struct opts {
    const char *method, *url, *body;
    size_t body_len;
    double timeout, connect_timeout;
    size_t max_body;
    const char *aws_service, *aws_region;
    struct lw_http_header hdrs[MAX_HEADERS];
    size_t nhdrs;
};

static const char *str_field(lua_State *L, int idx, const char *k, const char *what)
{
    lua_getfield(L, idx, k);
    const char *v = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "luaworker.http.request: %s must be a string", what);
        v = lua_tostring(L, -1);
    }
    lua_pop(L, 1);             /* the options table keeps the string alive */
    return v;
}

static void read_opts(lua_State *L, struct opts *o)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    memset(o, 0, sizeof *o);
    o->url = str_field(L, 1, "url", "url");
    if (!o->url)
        luaL_error(L, "luaworker.http.request: url is required");
    lua_getfield(L, 1, "body");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "luaworker.http.request: body must be a string");
        o->body = lua_tolstring(L, -1, &o->body_len);
    }
    lua_pop(L, 1);
    o->method = str_field(L, 1, "method", "method");
    if (!o->method)
        o->method = o->body ? "POST" : "GET";
    lua_getfield(L, 1, "timeout");
    o->timeout = luaL_optnumber(L, -1, 30);
    lua_getfield(L, 1, "connect_timeout");
    o->connect_timeout = luaL_optnumber(L, -1, 10);
    lua_getfield(L, 1, "max_body");
    o->max_body = (size_t)luaL_optinteger(L, -1, 16 << 20);
    lua_pop(L, 3);
    if (!(o->timeout > 0) || !(o->connect_timeout > 0))
        luaL_error(L, "luaworker.http.request: timeouts must be numbers > 0");
    lua_getfield(L, 1, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {                       /* opts.headers, k, v */
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "luaworker.http.request: headers must map strings to strings");
            if (o->nhdrs == MAX_HEADERS)
                luaL_error(L, "luaworker.http.request: at most %d headers", MAX_HEADERS);
            o->hdrs[o->nhdrs].name = lua_tostring(L, -2);
            o->hdrs[o->nhdrs].value = lua_tostring(L, -1);
            if (strpbrk(o->hdrs[o->nhdrs].value, "\r\n") || strpbrk(o->hdrs[o->nhdrs].name, "\r\n: "))
                luaL_error(L, "luaworker.http.request: bad header %s", o->hdrs[o->nhdrs].name);
            o->nhdrs++;
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "luaworker.http.request: headers must be a table");
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "aws");
    if (lua_istable(L, -1)) {
        o->aws_service = str_field(L, lua_gettop(L), "service", "aws.service");
        o->aws_region = str_field(L, lua_gettop(L), "region", "aws.region");
        if (!o->aws_service)
            luaL_error(L, "luaworker.http.request: aws.service is required to sign (e.g. \"dynamodb\")");
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "luaworker.http.request: aws must be a table {service = ..., region = ...}");
    }
    lua_pop(L, 1);   /* aws table stays referenced by the options */
}

/* Sign into sig. The token header in sig points into *crp: the caller
 * releases *crp after lw_http_submit has copied the headers. Returns 0 or -1
 * with e filled. */
static int sign(struct lw_lhost *h, struct opts *o, struct lw_sigv4_result *sig,
                const char *host, const char *path, const char *query,
                struct lw_credentials **crp, struct lw_error *e)
{
    if (!h->creds)
        return lw_error_set(e, LW_ERR_CREDENTIALS, false, "NoCredentials",
                            "this worker has no AWS credentials to sign with (a local stand-in service)");
    const char *region = o->aws_region ? o->aws_region : h->region;
    if (!region || !*region)
        return lw_error_set(e, LW_ERR_CLIENT, false, "NoRegion", "aws.region is needed to sign");
    struct lw_credentials *cr = NULL;
    enum lw_creds_state st = lw_creds_get(h->creds, h->loop, h->http, &cr, e);
    if (st != LW_CREDS_OK || !cr) {
        lw_credentials_release(cr);
        if (!e->code[0])
            lw_error_set(e, LW_ERR_CREDENTIALS, true, "CredentialsExpired", "no usable AWS credentials");
        e->retryable = true;
        return -1;
    }
    struct lw_sigv4_header sh[MAX_HEADERS + 1];
    size_t n = 0;
    sh[n++] = (struct lw_sigv4_header){ "Host", host };
    for (size_t i = 0; i < o->nhdrs; i++)
        if (strcasecmp(o->hdrs[i].name, "Host") != 0 && strcasecmp(o->hdrs[i].name, "User-Agent") != 0)
            sh[n++] = (struct lw_sigv4_header){ o->hdrs[i].name, o->hdrs[i].value };
    bool s3 = strcmp(o->aws_service, "s3") == 0;
    struct lw_sigv4_request req = { .method = o->method, .path = path, .query = query,
                                    .headers = sh, .nheaders = n, .body = o->body,
                                    .body_len = o->body_len };
    struct lw_sigv4_params p = { .access_key_id = cr->access_key_id,
                                 .secret_access_key = cr->secret_access_key,
                                 .session_token = cr->session_token, .region = region,
                                 .service = o->aws_service, .time = time(NULL),
                                 .flags = s3 ? (LW_SIGV4_SIGN_BODY | LW_SIGV4_NO_NORMALIZE_PATH) : 0 };
    int rc = lw_sigv4_sign(h->sigcache, &req, &p, sig, NULL);
    if (rc < 0) {
        lw_credentials_release(cr);
        return lw_error_set(e, LW_ERR_CLIENT, false, "SigningFailed", "cannot sign: %s",
                            lw_sigv4_strerror(rc));
    }
    *crp = cr;
    return 0;
}

static int l_request(lua_State *L)
{
    struct opts o;
    read_opts(L, &o);
    struct lw_task *t = lw_lhost_check_wait(L, "luaworker.http.request");
    struct lw_lhost *h = lw_lhost_of(t);
    struct lw_error e;
    lw_error_clear(&e);
    if (lw_loop_is_virtual(h->loop))
        return luaL_error(L, "luaworker.http.request is not available under the fake clock: "
                             "give the handler a stub for it in tests");
    char host[512], path[2048], query[4096];
    if (lw_http_url_split(o.url, host, sizeof host, path, sizeof path, query, sizeof query, &e) < 0)
        return lw_raise_error(L, &e);
    struct lw_sigv4_result sig;
    memset(&sig, 0, sizeof sig);
    struct lw_credentials *cr = NULL;
    struct lw_http_header all[MAX_HEADERS + 6];
    size_t n = 0;
    for (size_t i = 0; i < o.nhdrs; i++)
        all[n++] = o.hdrs[i];
    if (o.aws_service) {
        if (sign(h, &o, &sig, host, path, query, &cr, &e) < 0)
            return lw_raise_error(L, &e);
        all[n++] = (struct lw_http_header){ "Host", host };
        for (size_t i = 0; i < sig.nadd; i++)
            all[n++] = (struct lw_http_header){ sig.add[i].name, sig.add[i].value };
    }
    struct hreq *hr = malloc(sizeof *hr);
    if (!hr) {
        lw_sigv4_result_free(&sig);
        lw_credentials_release(cr);
        return luaL_error(L, "out of memory");
    }
    struct lw_http_opts ho = { .method = o.method, .url = o.url, .headers = all, .nheaders = n,
                               .body = o.body, .body_len = o.body_len,
                               .connect_timeout = o.connect_timeout, .timeout = o.timeout,
                               .max_body = o.max_body };
    hr->t = t;
    hr->r = lw_http_submit(h->http, &ho, on_done, hr, &e);   /* copies the headers */
    lw_sigv4_result_free(&sig);
    lw_credentials_release(cr);
    if (!hr->r) {
        free(hr);
        return lw_raise_error(L, &e);
    }
    lw_task_wait_external(t, abort_req, hr);
    return lw_lhost_yield(L);
}

void lw_open_http(lua_State *L)
{
    lua_pushcfunction(L, l_request);
    lua_setfield(L, -2, "http_request");
}
