"""Helpers for end-to-end tests: the real luaworker command against the local
activity service (spec/service), asserting on what reached the service.

    with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, "--service", "swf", ...) as w:
        tid = svc.client.enqueue_swf("Echo", input="{}")
        task = svc.client.wait_task(tid)

Workers log JSON lines (--log-format json) to a file; .logs() parses them and
assert_clean() fails a test on any error line it did not expect.
"""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from spec.service.harness import LocalService, scratch_dir  # noqa: F401  (re-exported)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("LUAWORKER_BIN", os.path.join(ROOT, "build", "luaworker"))
SECRET_MARKERS = []   # secrets of the services started by tests: never in a worker log


def write_handlers(source, name="handlers.lua"):
    d = tempfile.mkdtemp(prefix="lw-e2e-", dir=scratch_dir())
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(source)
    return path


def worker_env(svc, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LUAWORKER_"))}
    env.update(AWS_ACCESS_KEY_ID=svc.access_key, AWS_SECRET_ACCESS_KEY=svc.secret_key,
               AWS_REGION=svc.region, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    if svc.session_token:
        env["AWS_SESSION_TOKEN"] = svc.session_token
    env.update(extra)
    SECRET_MARKERS.append(svc.secret_key)
    return env


class Worker:
    """A luaworker run process. handlers: Lua source (written to a temp
    file) or a path; args: command-line options after the handler file."""

    def __init__(self, svc, handlers, *args, env=None, command="run", endpoint=True):
        self.svc = svc
        self.path = handlers if os.path.exists(handlers) else write_handlers(handlers)
        argv = [BIN, command, self.path, "--log-format", "json"]
        if endpoint and "--endpoint" not in args:
            argv += ["--endpoint", svc.endpoint]
        self.argv = argv + list(args)
        self.env = env or worker_env(svc)
        fd, self.log_path = tempfile.mkstemp(prefix="lw-worker-", suffix=".log", dir=scratch_dir())
        os.close(fd)
        self.proc = self.log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._ended()

    def _ended(self):
        """The process is gone: close our end of its log file."""
        if self.log and self.proc and self.proc.poll() is not None:
            self.log.close()
            self.log = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=90):
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=90):
        rc = self.proc.wait(timeout=timeout)
        self._ended()
        return rc

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def logs(self):
        out = []
        for line in self.text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"level": "raw", "msg": line})
        return out

    def wait_log(self, msg, timeout=30, count=1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(1 for r in self.logs() if r.get("msg") == msg) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"worker never logged {msg!r} x{count}; log:\n{self.text()[-4000:]}")

    def errors(self, allowed=()):
        """Error lines (and raw non-JSON lines) not matching any allowed msg."""
        bad = []
        for r in self.logs():
            if r.get("level") in ("error", "raw") and not any(a in r.get("msg", "") for a in allowed):
                bad.append(r)
        return bad


class E2ETestCase(unittest.TestCase):
    """Checks shared by every end-to-end test."""

    def assert_clean(self, worker, allowed=()):
        bad = worker.errors(allowed)
        self.assertEqual(bad, [], f"unexpected error lines in the worker log:\n{worker.text()[-4000:]}")
        text = worker.text()
        for secret in SECRET_MARKERS:
            self.assertNotIn(secret, text, "a secret key appeared in the worker log")

    def assert_signed(self, svc):
        reqs = svc.client.requests()
        bad = [r for r in reqs if r.get("verdict") != "ok"]
        self.assertTrue(reqs, "no request reached the service")
        self.assertEqual(bad, [], "requests that failed the signature check")
        return reqs

    def assert_no_tokens_logged(self, worker, svc):
        text = worker.text()
        for t in svc.client.tasks():
            for a in t.get("attempts", []):
                self.assertNotIn(a["token_prefix"], text, "a task token appeared in the worker log")
