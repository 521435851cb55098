"""lw.http.request from handlers, end to end: the worker runs SWF tasks from
the local service whose handlers call a local HTTP server. Plain and signed
requests (the server verifies SigV4 with botocore), timeouts, 100 requests
in flight at once from 100 handlers, and cancellation while a handler waits."""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from spec.e2e.util import E2ETestCase, LocalService, Worker
from spec.service.sigcheck import Creds, SigChecker


class TestServer:
    """Threaded HTTP server: /echo, /slow?d=S, /status/N, /signed, and
    /gather?n=N, which answers no request until N of them are waiting (or
    30 s pass) and tells each how many it saw."""

    def __init__(self, akid, secret, token=None):
        self.lock = threading.Lock()
        self.gathered = threading.Condition(self.lock)
        self.inflight = self.max_inflight = self.arrived = 0
        self.verdicts = []
        self.closed_early = 0
        checker = SigChecker()
        checker.add(Creds(akid, secret, token))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _send(self, status, body, ctype="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Multi", "a")
                self.send_header("X-Multi", "b")
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                with outer.lock:
                    outer.inflight += 1
                    outer.max_inflight = max(outer.max_inflight, outer.inflight)
                try:
                    self._route()
                except (BrokenPipeError, ConnectionResetError):
                    with outer.lock:
                        outer.closed_early += 1
                finally:
                    with outer.lock:
                        outer.inflight -= 1

            def _route(self):
                u = urllib.parse.urlsplit(self.path)
                body = self._body()
                if u.path == "/echo":
                    self._send(200, json.dumps({"method": self.command, "path": u.path, "query": u.query,
                                                "headers": dict(self.headers), "body": body.decode()}))
                elif u.path == "/slow":
                    d = float(urllib.parse.parse_qs(u.query)["d"][0])
                    time.sleep(d)
                    self._send(200, "slow")
                elif u.path == "/gather":
                    n = int(urllib.parse.parse_qs(u.query)["n"][0])
                    with outer.gathered:
                        outer.arrived += 1
                        outer.gathered.notify_all()
                        outer.gathered.wait_for(lambda: outer.arrived >= n, timeout=30)
                        seen = outer.arrived
                    self._send(200, str(seen))
                elif u.path.startswith("/status/"):
                    self._send(int(u.path.rsplit("/", 1)[1]), "status")
                elif u.path == "/signed":
                    v = checker.verify(self.command, u.path, u.query, self.headers, body,
                                       "us-east-1", "dynamodb", 300)
                    with outer.lock:
                        outer.verdicts.append(v.ok)
                    self._send(200 if v.ok else 403, json.dumps({"ok": v.ok, "code": v.code, "message": v.message}))
                else:
                    self._send(404, "no")

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            request_queue_size = 256        # 100 connects at once: no SYN retries

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


HANDLERS = r'''
local lw = require "luaworker"
return {
  Plain = function(task)
    local a = task:json()
    local status, body, headers = lw.http.request{ method = "PUT", url = a.url .. "/echo?x=1&y=%20",
      headers = { ["X-Test"] = "yes" }, body = "payload" }
    local echo = lw.json.decode(body)
    return { status = status, method = echo.method, query = echo.query, test = echo.headers["X-Test"],
             body = echo.body, multi = headers["x-multi"], ctype = headers["content-type"] }
  end,
  Status = function(task)
    local status = lw.http.get(task:json().url .. "/status/503")
    return { status = status }
  end,
  Signed = function(task)
    local status, body = lw.http.request{ method = "POST", url = task:json().url .. "/signed?q=a%2Fb",
      headers = { ["Content-Type"] = "application/x-amz-json-1.0", ["X-Amz-Target"] = "DynamoDB_20120810.ListTables" },
      body = "{}", aws = { service = "dynamodb", region = "us-east-1" } }
    return { status = status, verdict = lw.json.decode(body) }
  end,
  Timeout = function(task)
    local ok, err = pcall(lw.http.get, task:json().url .. "/slow?d=5", { timeout = 0.3 })
    return { ok = ok, code = err and err.code, retryable = err and err.retryable }
  end,
  Refused = function(task)
    local ok, err = pcall(lw.http.get, "http://127.0.0.1:1/")
    return { ok = ok, code = err and err.code }
  end,
  Gather = function(task)
    local status, body = lw.http.get(task:json().url .. "/gather?n=100", { timeout = 60 })
    return { status = status, seen = tonumber(body) }
  end,
  Cancelled = function(task)
    local ok, err = pcall(lw.http.get, task:json().url .. "/slow?d=30", { timeout = 60 })
    lw.log.info("http wait ended", { cancelled = lw.is_cancelled(err), reason = err and err.reason })
    error(err)
  end,
}
'''


def run_args(*extra):
    return ("--service", "swf", "--domain", "demo", "--task-list", "main") + extra


class HttpTest(E2ETestCase):
    def test_plain_signed_status_timeout_refused(self):
        with LocalService(poll_hold=1) as svc:
            srv = TestServer(svc.access_key, svc.secret_key)
            try:
                with Worker(svc, HANDLERS, *run_args()) as w:
                    c = svc.client
                    inp = json.dumps({"url": srv.url})
                    ids = {n: c.enqueue_swf(n, input=inp) for n in ("Plain", "Status", "Signed", "Timeout", "Refused")}
                    t = {n: c.wait_task(i, timeout=30) for n, i in ids.items()}
                    self.assertEqual(w.stop(), 0)
            finally:
                srv.close()
        res = {n: json.loads(x["result"]) if x["result"] else x for n, x in t.items()}
        self.assertEqual(res["Plain"], {"status": 200, "method": "PUT", "query": "x=1&y=%20", "test": "yes",
                                        "body": "payload", "multi": "a, b", "ctype": "application/json"})
        self.assertEqual(res["Status"], {"status": 503})
        self.assertEqual(res["Signed"]["status"], 200, res["Signed"])
        self.assertTrue(res["Signed"]["verdict"]["ok"])
        self.assertEqual(srv.verdicts, [True])
        self.assertEqual(res["Timeout"], {"ok": False, "code": "HttpTimeout", "retryable": True})
        self.assertEqual(res["Refused"], {"ok": False, "code": "ConnectionRefused"})
        self.assert_clean(w)

    def test_100_handlers_with_requests_in_flight(self):
        with LocalService(poll_hold=1) as svc:
            srv = TestServer(svc.access_key, svc.secret_key)
            try:
                with Worker(svc, HANDLERS, *run_args("--max-concurrent", "100", "--pollers", "10")) as w:
                    c = svc.client
                    inp = json.dumps({"url": srv.url})
                    ids = [c.enqueue_swf("Gather", input=inp) for _ in range(100)]
                    tasks = [c.wait_task(i, timeout=90) for i in ids]
                    self.assertEqual(w.stop(), 0)
            finally:
                srv.close()
        # every request was answered only once all 100 were waiting at the
        # server: one loop held 100 requests from 100 handlers at once
        results = [json.loads(x["result"]) for x in tasks]
        self.assertEqual(results, [{"status": 200, "seen": 100}] * 100)
        self.assertEqual(srv.max_inflight, 100)
        self.assert_clean(w)

    def test_cancel_while_waiting_aborts_the_request(self):
        with LocalService(poll_hold=1) as svc:
            srv = TestServer(svc.access_key, svc.secret_key)
            try:
                with Worker(svc, HANDLERS, *run_args("--heartbeat-interval", "0.5")) as w:
                    c = svc.client
                    tid = c.enqueue_swf("Cancelled", input=json.dumps({"url": srv.url}), heartbeat=30)
                    end = time.monotonic() + 10
                    while srv.inflight == 0 and time.monotonic() < end:
                        time.sleep(0.05)
                    start = time.monotonic()
                    c.cancel(tid)
                    t = c.wait_task(tid, timeout=20)
                    took = time.monotonic() - start
                    self.assertEqual(w.stop(), 0)
            finally:
                srv.close()
        self.assertEqual(t["state"], "canceled")
        self.assertLess(took, 15)           # not the 30 s the request would take
        ended = [r for r in w.logs() if r.get("msg") == "http wait ended"][0]
        self.assertTrue(ended["cancelled"])
        self.assertEqual(ended["reason"], "cancel_requested")
        self.assert_clean(w)
