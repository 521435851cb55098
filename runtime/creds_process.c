/* creds_process.c: the credential_process source. The command line is split
 * shell-style (POSIX shlex rules, as botocore's compat_shell_split) and run
 * without a shell through posix_spawn; stdout and stderr are read through
 * loop fd watches, the child is reaped with waitpid(WNOHANG) from a timer and
 * killed when it outlives the timeout, so nothing here blocks the loop. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAP (64u << 10)     /* credentials JSON is well under 4 KiB */
#define ERR_CAP 4096            /* stderr kept for the message; the rest is drained */

/* ---- shell-style split ---- */

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

char **lw_creds_split_command(const char *cmd, const char **why)
{
    size_t n = strlen(cmd), argc = 0, wl = 0;
    char *word = malloc(n + 1);
    char **argv = calloc(n + 2, sizeof *argv);      /* never more words than bytes */
    bool in_word = false;
    *why = "out of memory";
    if (!word || !argv)
        goto fail;
    for (const char *p = cmd; *p;) {
        if (is_space(*p)) {
            p++;
            if (in_word) {
                word[wl] = '\0';
                if (!(argv[argc++] = strdup(word)))
                    goto fail;
                wl = 0;
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (*p == '\\') {                   /* outside quotes: next byte literally */
            if (!*++p) {
                *why = "no character after a trailing backslash";
                goto fail;
            }
            word[wl++] = *p++;
        } else if (*p == '\'') {            /* single quotes: everything literally */
            for (p++; *p && *p != '\''; )
                word[wl++] = *p++;
            if (!*p) {
                *why = "no closing quotation";
                goto fail;
            }
            p++;
        } else if (*p == '"') {             /* double quotes: \" and \\ only */
            for (p++; *p && *p != '"'; ) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                word[wl++] = *p++;
            }
            if (!*p) {
                *why = "no closing quotation";
                goto fail;
            }
            p++;
        } else {
            word[wl++] = *p++;
        }
    }
    if (in_word) {
        word[wl] = '\0';
        if (!(argv[argc++] = strdup(word)))
            goto fail;
    }
    explicit_bzero(word, n + 1);
    free(word);
    return argv;
fail:
    if (word)
        explicit_bzero(word, n + 1);
    free(word);
    lw_creds_argv_free(argv);
    return NULL;
}

void lw_creds_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        lw_creds_wipe_free(*a);             /* arguments may carry secrets */
    free(argv);
}

/* The program as execvp would find it, but on the provider's PATH. */
static char *find_program(struct lw_creds *c, const char *name)
{
    if (strchr(name, '/'))
        return strdup(name);
    const char *path = lw_creds_getenv(c, "PATH");
    if (!path)
        path = "/bin:/usr/bin";         /* glibc's default for execvp */
    size_t nl = strlen(name);
    while (true) {
        const char *end = strchr(path, ':');
        size_t dl = end ? (size_t)(end - path) : strlen(path);
        char *cand = malloc(dl + nl + 3);
        if (!cand)
            return NULL;
        if (dl)
            snprintf(cand, dl + nl + 3, "%.*s/%s", (int)dl, path, name);
        else
            snprintf(cand, dl + nl + 3, "./%s", name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        if (!end)
            return NULL;
        path = end + 1;
    }
}

/* ---- the running child ---- */

struct proc {
    struct lw_creds_fetch *f;
    pid_t pid;
    int out_fd, err_fd;             /* -1 once at EOF */
    struct lw_buf out;
    char errb[ERR_CAP];
    size_t errlen;
    bool too_big, timed_out, reaped, status_known;
    int status;
    struct lw_timer deadline, reap;
    double reap_delay;
    char what[200];                 /* credential_process "prog" (profile "x") */
};

static void close_fd(struct proc *p, int *fd)
{
    if (*fd >= 0) {
        lw_loop_unwatch(p->f->loop, *fd);
        close(*fd);
        *fd = -1;
    }
}

static void proc_free(struct proc *p)
{
    lw_timer_stop(p->f->loop, &p->deadline);
    lw_timer_stop(p->f->loop, &p->reap);
    close_fd(p, &p->out_fd);
    close_fd(p, &p->err_fd);
    if (p->out.p)
        explicit_bzero(p->out.p, p->out.len);
    lw_buf_free(&p->out);
    free(p);
}

static bool try_reap(struct proc *p)
{
    int st;
    pid_t r;
    do
        r = waitpid(p->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        p->reaped = p->status_known = true;
        p->status = st;
    } else if (r < 0) {
        /* ECHILD: someone else reaped it (SIGCHLD ignored by the host, or a
         * waitpid(-1) elsewhere): the exit status is lost, the output is not */
        p->reaped = true;
    }
    return p->reaped;
}

/* Cancellation: the child is killed; reap it briefly, a zombie is left to
 * the host only if the kernel takes longer than ~100 ms to deliver SIGKILL. */
static void proc_abort(struct lw_creds_fetch *f)
{
    struct proc *p = f->state;
    if (!p)
        return;
    if (!p->reaped) {
        kill(p->pid, SIGKILL);
        for (int i = 0; i < 50 && !try_reap(p); i++)
            nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
    }
    proc_free(p);
}

static int parse_output(struct proc *p)
{
    struct lw_creds_fetch *f = p->f;
    struct lw_creds_doc d;
    char why[160];
    int st = lw_creds_doc_parse(LW_CREDS_DOC_PROCESS, p->out.p, p->out.len, &d, why, sizeof why);
    if (st == LW_CREDS_DOC_NOMEM)
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    if (st != LW_CREDS_DOC_OK)
        return lw_creds_fail(f, "CredentialProcessError", false, "%s: %s", p->what, why);
    int step = lw_creds_make(f, LW_SRC_PROCESS, d.access_key_id, d.secret_access_key,
                             d.session_token, d.expiration, p->what);
    lw_creds_doc_free(&d);
    return step;
}

static void complete(struct proc *p)
{
    struct lw_creds_fetch *f = p->f;
    int step;
    char line[256];
    lw_creds_first_line(line, sizeof line, p->errb, p->errlen, 200);
    if (p->timed_out) {
        step = lw_creds_fail(f, "CredentialProcessError", true,
                             "%s: no answer within %g s, killed", p->what, f->c->process_timeout);
    } else if (p->too_big) {
        step = lw_creds_fail(f, "CredentialProcessError", false,
                             "%s: output larger than %u bytes", p->what, OUT_CAP);
    } else if (p->status_known && WIFSIGNALED(p->status)) {
        step = lw_creds_fail(f, "CredentialProcessError", true, "%s: killed by signal %d%s%s",
                             p->what, WTERMSIG(p->status), line[0] ? ": " : "", line);
    } else if (p->status_known && WEXITSTATUS(p->status) != 0) {
        step = lw_creds_fail(f, "CredentialProcessError", true, "%s: exited with status %d: %s",
                             p->what, WEXITSTATUS(p->status), line[0] ? line : "(stderr empty)");
    } else {
        step = parse_output(p);
    }
    lw_creds_fetch_step_done(f, step);          /* frees p (reaped: nothing to kill) */
}

static void on_reap_timer(struct lw_timer *t, void *ud)
{
    struct proc *p = ud;
    if (try_reap(p)) {
        complete(p);
        return;
    }
    /* exited children are usually reaped at the first look; poll gently */
    p->reap_delay = p->reap_delay < 0.1 ? p->reap_delay * 2 : 0.1;
    lw_timer_start(p->f->loop, &p->reap, p->reap_delay);
}

static void maybe_done(struct proc *p)
{
    if (p->out_fd >= 0 || p->err_fd >= 0 || lw_timer_active(&p->reap))
        return;
    if (try_reap(p)) {
        complete(p);
        return;
    }
    p->reap_delay = 0.005;
    lw_timer_start(p->f->loop, &p->reap, p->reap_delay);
}

static void on_deadline(struct lw_timer *t, void *ud)
{
    struct proc *p = ud;
    p->timed_out = true;
    kill(p->pid, SIGKILL);
    close_fd(p, &p->out_fd);
    close_fd(p, &p->err_fd);
    maybe_done(p);
}

/* Read what is there; false at EOF or on an error. */
static bool drain(int fd, struct proc *p, bool is_out)
{
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
            if (is_out) {
                if (!p->too_big && lw_buf_append(&p->out, buf, (size_t)r) < 0) {
                    p->too_big = true;
                    kill(p->pid, SIGKILL);
                    return false;
                }
            } else {
                size_t room = sizeof p->errb - 1 - p->errlen;
                size_t take = (size_t)r < room ? (size_t)r : room;
                memcpy(p->errb + p->errlen, buf, take);
                p->errlen += take;
            }
            explicit_bzero(buf, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void on_out(void *ud, int fd, unsigned events)
{
    struct proc *p = ud;
    if (!drain(fd, p, true)) {
        close_fd(p, &p->out_fd);
        maybe_done(p);
    }
}

static void on_err(void *ud, int fd, unsigned events)
{
    struct proc *p = ud;
    if (!drain(fd, p, false)) {
        close_fd(p, &p->err_fd);
        maybe_done(p);
    }
}

static int spawn(struct lw_creds_fetch *f, struct proc *p, char **argv, const char *path)
{
    int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = errno;
        goto out;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* the helper gets no other descriptor of the worker (sockets opened
     * without CLOEXEC by a library, say) */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    /* a clean signal state whatever the host's threads block or ignore */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(&p->pid, path, &fa, &at, argv, f->c->env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc)
        goto out;
    p->out_fd = outp[0];
    p->err_fd = errp[0];
    outp[0] = errp[0] = -1;
    fcntl(p->out_fd, F_SETFL, fcntl(p->out_fd, F_GETFL) | O_NONBLOCK);
    fcntl(p->err_fd, F_SETFL, fcntl(p->err_fd, F_GETFL) | O_NONBLOCK);
    if (lw_loop_watch(f->loop, p->out_fd, LW_READ, on_out, p) < 0
        || lw_loop_watch(f->loop, p->err_fd, LW_READ, on_err, p) < 0) {
        rc = errno;
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        p->reaped = true;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return rc;
}

int lw_creds_src_process(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    if (lw_creds_files_load(f) < 0)
        return LW_STEP_FAIL;
    const char *cmd = lw_creds_profile_get(f, "credential_process");
    if (!cmd || !*cmd)
        return LW_STEP_SKIP;
    const char *why;
    char **argv = lw_creds_split_command(cmd, &why);
    if (!argv)
        return lw_creds_fail(f, "CredentialProcessError", false,
                             "credential_process (profile \"%s\"): cannot split the command "
                             "line: %s", c->profile, why);
    if (!argv[0]) {
        lw_creds_argv_free(argv);
        return lw_creds_fail(f, "CredentialProcessError", false,
                             "credential_process (profile \"%s\") is empty", c->profile);
    }
    struct proc *p = calloc(1, sizeof *p);
    char *path = p ? find_program(c, argv[0]) : NULL;
    int step = LW_STEP_PENDING;
    if (!p) {
        step = lw_creds_fail(f, "OutOfMemory", true, "out of memory");
        goto out;
    }
    /* the program's name, never its arguments (they may hold secrets) */
    snprintf(p->what, sizeof p->what, "credential_process \"%.100s\" (profile \"%.60s\")",
             argv[0], c->profile);
    p->f = f;
    p->out_fd = p->err_fd = -1;
    lw_buf_init(&p->out, OUT_CAP);
    lw_timer_init(&p->deadline, on_deadline, p);
    lw_timer_init(&p->reap, on_reap_timer, p);
    if (!path) {
        step = lw_creds_fail(f, "CredentialProcessError", false,
                             "%s: program not found on PATH", p->what);
        proc_free(p);
        goto out;
    }
    int rc = spawn(f, p, argv, path);
    if (rc) {
        step = lw_creds_fail(f, "CredentialProcessError", false, "%s: cannot run it: %s",
                             p->what, strerror(rc));
        proc_free(p);
        goto out;
    }
    lw_timer_start(f->loop, &p->deadline, c->process_timeout);
    f->state = p;
    f->abort = proc_abort;
out:
    free(path);
    lw_creds_argv_free(argv);
    return step;
}
