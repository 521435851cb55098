"""A small HTTP/1.1 proxy in front of the local service, for end-to-end tests
of hostile endpoints: it can serve TLS (with a certificate the test made)
and send answers back slowly, byte by byte.

    with Proxy(svc.port, tls=(cert, key), trickle=0.002, slow_targets={"...Heartbeat": (0.05, 1)}) as p:
        p.port, p.handshake_failures, p.forwarded

One thread per client connection; each request (head + Content-Length body)
goes upstream on the connection's own keep-alive connection to the service,
and its answer comes back whole, or one byte every `trickle` seconds (or the
delay slow_targets gives for its X-Amz-Target: a number, or (delay, n) for
the next n answers). Chunked bodies are not
supported: neither luaworker nor the local service sends them.
"""
import socket
import ssl
import threading
import time


def _read_message(f):
    """One HTTP message from a buffered socket file: (head bytes, body bytes,
    headers dict with lower-case names), or None at EOF."""
    head = b""
    while True:
        line = f.readline(65537)
        if not line:
            return None
        head += line
        if line in (b"\r\n", b"\n"):
            break
    headers = {}
    for raw in head.split(b"\r\n")[1:]:
        if b":" in raw:
            k, v = raw.split(b":", 1)
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    n = int(headers.get("content-length", "0") or 0)
    body = f.read(n) if n else b""
    return head, body, headers


class Proxy:
    def __init__(self, upstream_port, tls=None, trickle=0.0, slow_targets=None, host="127.0.0.1"):
        self.upstream = ("127.0.0.1", upstream_port)
        self.trickle = trickle
        self.slow_targets = dict(slow_targets or {})
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*tls)
        self.lock = threading.Lock()
        self.handshake_failures = 0
        self.forwarded = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _delay(self, target):
        """Seconds per byte for this answer: slow_targets[target] is a delay,
        or (delay, n) for the next n answers only."""
        with self.lock:
            v = self.slow_targets.get(target)
            if v is None:
                return self.trickle
            if isinstance(v, tuple):
                delay, n = v
                if n <= 0:
                    return self.trickle
                self.slow_targets[target] = (delay, n - 1)
                return delay
            return v

    def _serve(self, conn):
        up = None
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ctx:
                conn.settimeout(10)
                try:
                    conn = self.ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    with self.lock:
                        self.handshake_failures += 1
                    return
                conn.settimeout(None)
            cf = conn.makefile("rb")
            up = socket.create_connection(self.upstream)
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            uf = up.makefile("rb")
            while True:
                req = _read_message(cf)
                if req is None:
                    return
                head, body, headers = req
                up.sendall(head + body)
                with self.lock:
                    self.forwarded += 1
                resp = _read_message(uf)
                if resp is None:
                    return
                out = resp[0] + resp[1]
                delay = self._delay(headers.get("x-amz-target"))
                if delay > 0:
                    for i in range(len(out)):
                        conn.sendall(out[i:i + 1])
                        time.sleep(delay)
                else:
                    conn.sendall(out)
        except OSError:
            return
        finally:
            for s in (conn, up):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


def make_ca_and_cert(directory, hostname="localhost"):
    """A CA and a server certificate it signs (for hostname and 127.0.0.1),
    made with the openssl command. Returns (ca_pem, cert_pem, key_pem)."""
    import os
    import subprocess

    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=luaworker test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", f"/CN={hostname}")
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))
