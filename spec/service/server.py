#!/usr/bin/python3
"""Local SWF + Step Functions activity service: command line and HTTP layer.

  /usr/bin/python3 spec/service/server.py --port 0 [--host 127.0.0.1]
      [--port-file PATH] [--poll-hold SECONDS] [--region us-east-1]
      [--credentials AKID:SECRET[:TOKEN]]... [--clock-skew SECONDS]
      [--detect-disconnect] [--quiet]

Prints exactly one line "port N" on stdout once listening (and writes N to
--port-file), then one line per request on stderr. SIGTERM/SIGINT: open polls
are answered empty, the listener closes, exit status 0.

One port serves both the AWS JSON API (POST / with X-Amz-Target) and the control
API (/_control/..., see control.py and README.md). HTTP/1.1 keep-alive, one
thread per connection; every answer goes out in a single write (head and body
together), so small exchanges do not stall on Nagle's algorithm.
"""
import argparse
import itertools
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from spec.service.api import Api, Reply, error_reply, json_reply  # noqa: E402
from spec.service.control import Control  # noqa: E402
from spec.service.errors import ApiError  # noqa: E402
from spec.service.service import DEFAULT_CREDENTIALS, DEFAULTS, Service  # noqa: E402
from spec.service.state import socket_alive  # noqa: E402

MAX_BODY = 16 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 900               # an idle keep-alive connection is dropped after this

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.conn_id = next(self.server.conn_ids)

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self._dispatch("POST")

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return None
        return self.rfile.read(n) if n else b""

    def _dispatch(self, method):
        app = self.server.app
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if body is None:
            r = Reply(413, b"", content_type=None)
            self.close_connection = True
            self._send(r)
            return
        if parts.path.startswith("/_control/"):
            t0 = time.time()
            status, obj = app.control.handle(method, parts.path, parts.query, body)
            r = json_reply(obj, status)
            r.content_type = "application/json"
            app.svc.log.line(f"{method} {parts.path}", status, obj.get("error") and "control-error",
                             ms=(time.time() - t0) * 1000, t=t0)
            self._send(r)
            return
        if method != "POST":
            r = error_reply(ApiError("UnknownOperationException",
                                     "The requested operation is not recognized by the service."))
            app.svc.log.line(f"{method} {parts.path}", r.status, r.error)
            self._send(r)
            return
        ctx = {"client": "%s:%s" % self.client_address[:2], "conn": self.conn_id,
               "alive": lambda sock=self.connection: socket_alive(sock)}
        with app.lock:
            app.active += 1
        try:
            r = app.api.handle(method, parts.path, parts.query, self.headers, body, ctx)
        finally:
            with app.lock:
                app.active -= 1
        self._send(r)

    def _send(self, r):
        try:
            if r.partial is not None:
                # Fault "close": the head and a few body bytes, then the connection ends.
                # With an empty body nothing would be missing, so the cut falls inside
                # the status line instead ("HTTP/1.1 2").
                head = r.head()
                self.wfile.write(head + r.body[:r.partial] if r.body else head[:10])
                self.close_connection = True
            else:
                self.wfile.write(r.head() + r.body)
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class App:
    def __init__(self, svc, info):
        self.svc = svc
        self.api = Api(svc)
        self.control = Control(svc, info)
        self.lock = threading.Lock()
        self.active = 0


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local SWF + Step Functions activity service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--poll-hold", type=float, default=DEFAULTS["poll_hold"])
    p.add_argument("--region", default=DEFAULTS["region"])
    p.add_argument("--credentials", action="append", default=[],
                   help="AKID:SECRET[:TOKEN], repeatable (default: %s:%s)" % DEFAULT_CREDENTIALS)
    p.add_argument("--clock-skew", type=float, default=DEFAULTS["clock_skew"])
    p.add_argument("--detect-disconnect", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no per-request lines on stderr")
    args = p.parse_args(argv)
    creds = []
    for c in args.credentials:
        parts = c.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            p.error(f"--credentials {c!r}: expected AKID:SECRET[:TOKEN]")
        creds.append((parts[0], parts[1], parts[2] if len(parts) > 2 else None))
    return args, creds or None


def main(argv=None):
    args, creds = parse_args(argv)
    config = {"poll_hold": args.poll_hold, "region": args.region, "clock_skew": args.clock_skew,
              "detect_disconnect": args.detect_disconnect}
    svc = Service(config, creds, quiet=args.quiet)
    httpd = Server((args.host, args.port), Handler, bind_and_activate=True)
    httpd.conn_ids = itertools.count(1)
    port = httpd.server_address[1]
    httpd.app = App(svc, {"port": port, "host": args.host})

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                               name="accept", daemon=True)
    serving.start()
    if args.port_file:
        # Written (atomically) before the port line, so both are there once either is.
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"port {port}", flush=True)
    svc.log.line(f"listening on {args.host}:{port}", "-", verdict=None)

    while not stop.wait(0.5):
        pass

    # Shutdown: answer open polls (empty), let in-flight answers go out, close.
    svc.state.shutdown()
    end = time.monotonic() + 5
    while time.monotonic() < end:
        with httpd.app.lock:
            if httpd.app.active == 0:
                break
        time.sleep(0.02)
    httpd.shutdown()
    httpd.server_close()
    svc.timer.stop()
    svc.log.line("shutdown", "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
