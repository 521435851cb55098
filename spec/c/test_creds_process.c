/* Unit tests for credential_process (runtime/creds_process.c): splitting
 * the command line, running it (arguments, inherited descriptors, failures,
 * timeouts, cancellation) without blocking the loop, and re-running it when
 * its credentials near their Expiration. The fixture and the secrets scan:
 * creds_fixture.h. */
#include "creds_fixture.h"
#include <signal.h>

/* ---- the command line ---- */

static void test_split_command(void)
{
    const char *why;
    char **a = lw_creds_split_command("  /bin/p 'a b' \"c \\\"d\\\" \\x\" e\\ f ''  g", &why);
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a[0], "/bin/p");
        CHECK_STR(a[1], "a b");
        CHECK_STR(a[2], "c \"d\" \\x");
        CHECK_STR(a[3], "e f");
        CHECK_STR(a[4], "");
        CHECK_STR(a[5], "g");
        CHECK(a[6] == NULL);
    }
    lw_creds_argv_free(a);
    CHECK(lw_creds_split_command("p 'open", &why) == NULL);
    CHECK_HAS(why, "closing quotation");
    CHECK(lw_creds_split_command("p trailing\\", &why) == NULL);
    a = lw_creds_split_command("   ", &why);
    CHECK(a && !a[0]);
    lw_creds_argv_free(a);
}

/* ---- credential_process ---- */

static struct lw_creds *proc_creds(const char *cmdline, struct fenv *e)
{
    clean_home();
    write_file(path_in("home/.aws/config"), "[default]\ncredential_process = %s\n", cmdline);
    fenv_init(e);
    return mk(e, NULL);
}

static void test_process_ok(void)
{
    char exp[32], body[700];
    atomic_store(&fake_now, T0);
    iso(T0 + 3600, exp);
    int stray = open("/dev/null", O_RDONLY);       /* no O_CLOEXEC: the child must not get it */
    snprintf(body, sizeof body,
             "if [ -e /proc/$$/fd/%d ]; then echo 'inherited fd %d' >&2; exit 9; fi\n"
             "printf '%%s\\n' \"$1\" \"$2\" > '%s'\n"
             "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC1\", \"SecretAccessKey\": "
             "\"sekrit-proc-1\", \"SessionToken\": \"tokn-proc-1\", \"Expiration\": \"%s\"}'",
             stray, stray, path_in("args.txt"), exp);
    script("p ok.sh", body);
    /* the script's path has a space: quote it */
    char quoted[400];
    snprintf(quoted, sizeof quoted, "\"%s\" 'one arg' \"two\\\"q\"", path_in("p ok.sh"));
    struct fenv e;
    struct lw_creds *c = proc_creds(quoted, &e);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDPROC1");
        CHECK_STR(cr->secret_access_key, "sekrit-proc-1");
        CHECK_STR(cr->session_token, "tokn-proc-1");
        CHECK(cr->expires_at == T0 + 3600);
        CHECK_STR(cr->source, "credential_process");
    }
    lw_credentials_release(cr);
    char args[128] = "";
    FILE *f = fopen(path_in("args.txt"), "r");
    if (f) {
        size_t n = fread(args, 1, sizeof args - 1, f);
        args[n] = 0;
        fclose(f);
    }
    CHECK_STR(args, "one arg\ntwo\"q\n");
    close(stray);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_process_failures(void)
{
    char msg[512];
    struct fenv e;
    struct {
        const char *body, *want;
    } cases[] = {
        { "echo 'boom: the vault is sealed' >&2; echo 'second line' >&2; exit 3",
          "exited with status 3: boom: the vault is sealed" },
        { "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDBAD\",\"SecretAccessKey\":\"sekrit-bad-json'",
          "not valid JSON" },
        { "echo '{\"Version\":2,\"AccessKeyId\":\"AKIDV2\",\"SecretAccessKey\":\"sekrit-v2\"}'",
          "unsupported Version 2" },
        { "echo '{\"AccessKeyId\":\"AKIDNOV\",\"SecretAccessKey\":\"sekrit-nov\"}'", "no Version" },
        { "echo '{\"Version\":1,\"SecretAccessKey\":\"sekrit-noid\"}'", "lacks AccessKeyId" },
        { "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDX\",\"SecretAccessKey\":\"sekrit-exp\","
          "\"Expiration\":\"2001-01-01T00:00:00Z\"}'", "expired at 2001-01-01T00:00:00Z" },
        { "kill -9 $$", "killed by signal 9" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "fail%zu.sh", i);
        struct lw_creds *c = proc_creds(script(name, cases[i].body), &e);
        resolve_err(c, i == 5 ? "CredentialsExpired" : "CredentialProcessError", msg, sizeof msg);
        CHECK_HAS(msg, cases[i].want);
        CHECK(!strstr(msg, "second line"));
        lw_creds_free(c);
        fenv_free(&e);
    }
    /* stderr is quoted capped */
    char body[1200];
    snprintf(body, sizeof body, "printf '%%0900d\\n' 7 >&2; exit 1");
    struct lw_creds *c = proc_creds(script("longerr.sh", body), &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK(strlen(msg) < 320);
    lw_creds_free(c);
    fenv_free(&e);
    /* not on PATH; a bad command line */
    c = proc_creds("no-such-program-lw --flag", &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "not found");
    lw_creds_free(c);
    fenv_free(&e);
    c = proc_creds("prog 'unbalanced", &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "closing quotation");
    lw_creds_free(c);
    fenv_free(&e);
}

static int ticks;
static void on_tick(struct lw_timer *t, void *ud)
{
    ticks++;
    lw_timer_start(loop, t, 0.02);
}

static void test_process_does_not_block_loop(void)
{
    struct fenv e;
    struct lw_creds *c = proc_creds(script("slow.sh", "sleep 0.5; echo '{\"Version\":1,"
                                           "\"AccessKeyId\":\"AKIDSLOW\",\"SecretAccessKey\":\"sekrit-slow\"}'"),
                                    &e);
    struct lw_timer t;
    lw_timer_init(&t, on_tick, NULL);
    ticks = 0;
    lw_timer_start(loop, &t, 0.02);
    struct lw_credentials *cr = resolve_get(c);
    lw_timer_stop(loop, &t);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDSLOW") == 0);
    CHECK(ticks >= 10);             /* ~25 ticks of 20 ms while the process slept */
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);

    /* killed after the timeout, without waiting for it */
    char msg[512];
    c = proc_creds(script("hang.sh", "sleep 30"), &e);
    lw_creds_free(c);
    struct lw_creds_config cfg = cfg_for(&e, NULL);
    cfg.process_timeout = 0.3;
    c = lw_creds_new(&cfg, NULL);
    lw_loop_update_time(loop);
    double t0 = lw_loop_now(loop);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "killed");
    lw_loop_update_time(loop);
    CHECK(lw_loop_now(loop) - t0 < 5);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_process_cancel(void)
{
    char body[300];
    snprintf(body, sizeof body, "echo $$ > '%s'; exec sleep 30", path_in("pid.txt"));
    unlink(path_in("pid.txt"));
    struct fenv e;
    struct lw_creds *c = proc_creds(script("cancel.sh", body), &e);
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);     /* starts the walk */
    CHECK(cr == NULL);
    CHECK_STR(err.code, "CredentialsRefreshing");
    int pid = 0;
    for (int i = 0; i < 300 && pid <= 0; i++) {
        pump(0.01);
        FILE *f = fopen(path_in("pid.txt"), "r");
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
    }
    CHECK(pid > 0);
    lw_creds_cancel(c, loop);
    CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);   /* killed and reaped */
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);     /* a new attempt may start */
    lw_creds_free(c);                   /* cancels that one too */
    fenv_free(&e);
}

/* ---- refresh ---- */

static void test_process_refresh(void)
{
    /* credential_process with an Expiration: re-run in the advisory window */
    char body[700];
    snprintf(body, sizeof body,
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
             "exp=$(date -u -d @$((%.0f + n * 3600)) +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
             "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIDPR$n\\\","
             "\\\"SecretAccessKey\\\":\\\"sekrit-pr\\\",\\\"Expiration\\\":\\\"$exp\\\"}\"",
             path_in("count"), path_in("count"), T0);
    unlink(path_in("count"));
    atomic_store(&fake_now, T0);
    struct fenv e;
    struct lw_creds *c = proc_creds(script("refresh.sh", body), &e);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDPR1") == 0 && cr->expires_at == T0 + 3600);
    lw_credentials_release(cr);
    atomic_store(&fake_now, T0 + 3600 - 700);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDPR2", 5));
    lw_creds_free(c);
    fenv_free(&e);
}

int main(void)
{
    if (!creds_setup())
        return 2;
    RUN(test_split_command);
    RUN(test_process_ok);
    RUN(test_process_failures);
    RUN(test_process_does_not_block_loop);
    RUN(test_process_cancel);
    RUN(test_process_refresh);
    RUN(test_no_secret_in_messages);
    creds_teardown();
    return T_DONE();
}
