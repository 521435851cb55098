/* lservice.c: an activity service played by Lua functions, in process: the
 * stand-in behind `luaworker invoke` and require "luaworker.testing".
 *
 * The service table (borrowed from the registry by the worker object):
 *   kind = "swf" | "sfn"             limits and error codes of that service
 *   heartbeat(token, details) -> "ok" | "cancel" | "gone" | "timed_out"
 *                                | "throttle" | "error" [, message]
 *   respond(token, outcome, a, b) -> "ok" | "gone" | "throttle" | "error" [, message]
 *        outcome "completed" (a = result or nil), "failed" (a = reason,
 *        b = details) or "canceled" (b = details)
 *   latency = seconds              delay of every answer (default 0: next turn)
 *   heartbeat_timeout = seconds    optional: a task that does not heartbeat
 *   start_to_close = seconds       for this long (or runs longer) times out,
 *        as the real service would: timed_out(token, kind) is called, and
 *        its later calls are answered "gone"
 *   timed_out(token, kind)          optional callback, kind "HEARTBEAT" or
 *                                   "START_TO_CLOSE"
 * Tasks arrive through worker:submit(), never from polls. The functions run
 * on the loop, in the main thread of the state, through lua_pcall: an error
 * in them is reported as a retryable service error, never raised. */
#include "lhost.h"
#include "log.h"
#include "worker.h"
#include <stdlib.h>
#include <string.h>

enum op_kind { OP_HB, OP_RESP };

struct ltrack {                 /* the service's clock for one token */
    char *token;
    bool timed_out;
    struct lw_timer hb_timer, stc_timer;
    struct lsvc *s;
    struct ltrack *next;
};

struct lw_svc_op {
    struct lsvc *s;
    enum op_kind kind;
    void *cb;
    void *ud;
    enum lw_hb_status hb;
    enum lw_resp_status resp;
    struct lw_error err;
    bool has_err;
    struct lw_timer timer;
    struct lw_svc_op *prev, *next;
};

struct lsvc {
    struct lw_service base;
    lua_State *L;
    int ref;                    /* the service table */
    struct lw_loop *loop;
    double latency, hb_timeout, stc;
    struct ltrack *tracks;
    struct lw_svc_op *ops;
};

/* ---- service-side timeouts ---- */

static void timed_out(struct ltrack *tr, const char *kind)
{
    if (tr->timed_out)
        return;
    tr->timed_out = true;
    lua_State *L = tr->s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, tr->s->ref);      /* svc */
    lua_getfield(L, -1, "timed_out");                   /* svc, fn */
    if (lua_isfunction(L, -1)) {
        lua_pushstring(L, tr->token);
        lua_pushstring(L, kind);
        if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
            struct lw_log_field f[] = { LW_STR("error", lua_tostring(L, -1)) };
            lw_log(LW_LOG_ERROR, "the local service's timed_out function failed", f, 1);
            lua_pop(L, 1);
        }
    } else {
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void on_hb_timeout(struct lw_timer *t, void *ud) { timed_out(ud, "HEARTBEAT"); }
static void on_stc_timeout(struct lw_timer *t, void *ud) { timed_out(ud, "START_TO_CLOSE"); }

static struct ltrack *track(struct lsvc *s, const struct lw_task_info *t)
{
    for (struct ltrack *tr = s->tracks; tr; tr = tr->next)
        if (strcmp(tr->token, t->token) == 0)
            return tr;
    struct ltrack *tr = calloc(1, sizeof *tr);
    if (!tr || !(tr->token = strdup(t->token))) {
        free(tr);
        return NULL;
    }
    tr->s = s;
    lw_timer_init(&tr->hb_timer, on_hb_timeout, tr);
    lw_timer_init(&tr->stc_timer, on_stc_timeout, tr);
    if (s->hb_timeout > 0)
        lw_timer_start(s->loop, &tr->hb_timer, s->hb_timeout);
    if (s->stc > 0)
        lw_timer_start(s->loop, &tr->stc_timer, s->stc);
    tr->next = s->tracks;
    s->tracks = tr;
    return tr;
}

/* The service learns of a task when the worker starts it: start its clocks. */
void lw_lservice_task_started(struct lw_service *b, const struct lw_task_info *t)
{
    track((struct lsvc *)b, t);
}

/* ---- answers ---- */

static void unlink_op(struct lw_svc_op *op)
{
    struct lsvc *s = op->s;
    if (op->prev)
        op->prev->next = op->next;
    else
        s->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    lw_timer_stop(s->loop, &op->timer);
}

static void on_answer(struct lw_timer *t, void *ud)
{
    struct lw_svc_op *op = ud;
    unlink_op(op);
    const struct lw_error *e = op->has_err ? &op->err : NULL;
    if (op->kind == OP_HB)
        ((lw_hb_cb)op->cb)(op->ud, op->hb, e);
    else
        ((lw_resp_cb)op->cb)(op->ud, op->resp, e);
    free(op);
}

static struct lw_svc_op *new_op(struct lsvc *s, enum op_kind kind, void *cb, void *ud)
{
    struct lw_svc_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->s = s;
    op->kind = kind;
    op->cb = cb;
    op->ud = ud;
    lw_timer_init(&op->timer, on_answer, op);
    op->next = s->ops;
    if (s->ops)
        s->ops->prev = op;
    s->ops = op;
    lw_timer_start(s->loop, &op->timer, s->latency);
    return op;
}

static void set_error(struct lsvc *s, struct lw_svc_op *op, const char *word, const char *msg)
{
    bool swf = strcmp(s->base.kind, "swf") == 0;
    op->has_err = true;
    if (strcmp(word, "gone") == 0) {
        lw_error_set(&op->err, LW_ERR_SERVICE, false, swf ? "UnknownResourceFault" : "TaskDoesNotExist",
                     "%s", msg ? msg : "Unknown activity");
        op->err.status = 400;
    } else if (strcmp(word, "timed_out") == 0) {
        lw_error_set(&op->err, LW_ERR_SERVICE, false, swf ? "UnknownResourceFault" : "TaskTimedOut",
                     "%s", msg ? msg : "Task timed out");
        op->err.status = 400;
    } else if (strcmp(word, "throttle") == 0) {
        lw_error_set(&op->err, LW_ERR_SERVICE, true, "ThrottlingException", "%s",
                     msg ? msg : "Rate exceeded");
        op->err.throttle = true;
        op->err.status = 400;
    } else {
        lw_error_set(&op->err, LW_ERR_SERVICE, true, "InternalFailure", "%s",
                     msg ? msg : "the local service failed");
        op->err.status = 500;
    }
}

/* Call svc[name](...) with nargs pushed; copy its (word, message) into
 * word/msg: "error" and the error message if the call failed. */
static void call(struct lsvc *s, const char *name, int nargs, char *word, size_t wl, char *msg, size_t ml)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref);          /* args, svc */
    lua_getfield(L, -1, name);                          /* args, svc, fn */
    lua_remove(L, -2);                                  /* args, fn */
    lua_insert(L, base + 1);                            /* fn, args */
    int st = lua_pcall(L, nargs, 2, 0);
    if (st != LUA_OK) {
        snprintf(word, wl, "error");
        snprintf(msg, ml, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error in the local service");
        lua_settop(L, base);
        return;
    }
    snprintf(word, wl, "%s", lua_tostring(L, -2) ? lua_tostring(L, -2) : "ok");
    msg[0] = '\0';
    if (lua_tostring(L, -1))
        snprintf(msg, ml, "%s", lua_tostring(L, -1));
    lua_settop(L, base);
}

/* The start of every answer: the operation and the token's clock; word is
 * "timed_out" when the service has already closed or timed out this token
 * (its functions are not called then), else "". NULL when out of memory. */
static struct lw_svc_op *begin(struct lsvc *s, enum op_kind kind, void *cb, void *ud,
                               const struct lw_task_info *t, struct ltrack **tr, char *word,
                               size_t wl, struct lw_error *err)
{
    struct lw_svc_op *op = new_op(s, kind, cb, ud);
    if (!op) {
        lw_error_set(err, LW_ERR_CLIENT, true, "OutOfMemory", "out of memory");
        return NULL;
    }
    *tr = track(s, t);
    snprintf(word, wl, "%s", *tr && (*tr)->timed_out ? "timed_out" : "");
    return op;
}

static struct lw_svc_op *op_poll(struct lw_service *b, lw_poll_cb cb, void *ud, struct lw_error *err)
{
    lw_error_set(err, LW_ERR_CLIENT, false, "NotSupported", "the local service has no polls");
    return NULL;
}

static struct lw_svc_op *op_heartbeat(struct lw_service *b, const struct lw_task_info *t,
                                      const char *details, size_t len, lw_hb_cb cb, void *ud,
                                      struct lw_error *err)
{
    struct lsvc *s = (struct lsvc *)b;
    struct ltrack *tr;
    char word[32], msg[256] = "";
    struct lw_svc_op *op = begin(s, OP_HB, (void *)cb, ud, t, &tr, word, sizeof word, err);
    if (!op)
        return NULL;
    if (!word[0]) {
        lua_pushlstring(s->L, t->token, t->token_len);
        if (details)
            lua_pushlstring(s->L, details, len);
        else
            lua_pushnil(s->L);
        call(s, "heartbeat", 2, word, sizeof word, msg, sizeof msg);
    }
    if (strcmp(word, "ok") == 0 || strcmp(word, "cancel") == 0) {
        op->hb = word[0] == 'c' ? LW_HB_CANCEL_REQUESTED : LW_HB_OK;
        if (tr && s->hb_timeout > 0)
            lw_timer_start(s->loop, &tr->hb_timer, s->hb_timeout);
    } else {
        set_error(s, op, word, msg[0] ? msg : NULL);
        op->hb = strcmp(word, "gone") == 0 ? LW_HB_GONE
               : strcmp(word, "timed_out") == 0 ? (strcmp(b->kind, "swf") == 0 ? LW_HB_GONE : LW_HB_TIMED_OUT)
               : LW_HB_ERROR;
    }
    return op;
}

/* [-0, +4, m] the arguments of svc.respond */
static void push_outcome(lua_State *L, const struct lw_task_info *t, const struct lw_outcome *o)
{
    lua_pushlstring(L, t->token, t->token_len);
    switch (o->kind) {
    case LW_OUTCOME_COMPLETED:
        lua_pushliteral(L, "completed");
        if (o->result)
            lua_pushlstring(L, o->result, o->result_len);
        else
            lua_pushnil(L);
        lua_pushnil(L);
        break;
    case LW_OUTCOME_FAILED:
        lua_pushliteral(L, "failed");
        lua_pushstring(L, o->reason);
        lua_pushstring(L, o->details);
        break;
    case LW_OUTCOME_CANCELED:
        lua_pushliteral(L, "canceled");
        lua_pushnil(L);
        lua_pushstring(L, o->details);
        break;
    }
}

static struct lw_svc_op *op_respond(struct lw_service *b, const struct lw_task_info *t,
                                    const struct lw_outcome *o, lw_resp_cb cb, void *ud,
                                    struct lw_error *err)
{
    struct lsvc *s = (struct lsvc *)b;
    struct ltrack *tr;
    char word[32], msg[256] = "";
    struct lw_svc_op *op = begin(s, OP_RESP, (void *)cb, ud, t, &tr, word, sizeof word, err);
    if (!op)
        return NULL;
    if (!word[0]) {
        push_outcome(s->L, t, o);
        call(s, "respond", 4, word, sizeof word, msg, sizeof msg);
    }
    if (strcmp(word, "ok") == 0) {
        op->resp = LW_RESP_OK;
        if (tr) {
            lw_timer_stop(s->loop, &tr->hb_timer);
            lw_timer_stop(s->loop, &tr->stc_timer);
            tr->timed_out = true;       /* closed: later calls are "gone" */
        }
    } else {
        set_error(s, op, word, msg[0] ? msg : NULL);
        op->resp = strcmp(word, "gone") == 0 || strcmp(word, "timed_out") == 0 ? LW_RESP_GONE : LW_RESP_ERROR;
    }
    return op;
}

static void op_cancel(struct lw_service *b, struct lw_svc_op *op)
{
    unlink_op(op);
    free(op);
}

static void op_free(struct lw_service *b)
{
    struct lsvc *s = (struct lsvc *)b;
    while (s->ops) {
        struct lw_svc_op *op = s->ops;
        unlink_op(op);
        free(op);
    }
    while (s->tracks) {
        struct ltrack *tr = s->tracks;
        s->tracks = tr->next;
        lw_timer_stop(s->loop, &tr->hb_timer);
        lw_timer_stop(s->loop, &tr->stc_timer);
        free(tr->token);
        free(tr);
    }
    luaL_unref(s->L, LUA_REGISTRYINDEX, s->ref);
    free(s);
}

static const struct lw_service_ops ops = { op_poll, op_heartbeat, op_respond, op_cancel, op_free };

struct lw_service *lw_lservice_new(lua_State *L, int idx, struct lw_loop *loop, struct lw_error *err)
{
    struct lsvc *s = calloc(1, sizeof *s);
    if (!s) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    lua_getfield(L, idx, "kind");
    const char *kind = lua_tostring(L, -1);
    bool sfn = kind && strcmp(kind, "sfn") == 0;
    lua_pop(L, 1);
    s->base.ops = &ops;
    s->base.kind = sfn ? "sfn" : "swf";
    s->base.limits = sfn ? lw_sfn_limits : lw_swf_limits;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    s->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    s->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->loop = loop;
    lua_getfield(L, idx, "latency");
    s->latency = lua_tonumber(L, -1);
    lua_getfield(L, idx, "heartbeat_timeout");
    s->hb_timeout = lua_tonumber(L, -1);
    lua_getfield(L, idx, "start_to_close");
    s->stc = lua_tonumber(L, -1);
    lua_pop(L, 3);
    return &s->base;
}
