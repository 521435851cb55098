"""LocalService: run server.py as a subprocess for the length of a test.

    with LocalService(poll_hold=2) as svc:
        svc.client.enqueue_swf("echo")
        boto3.client("swf", endpoint_url=svc.endpoint, region_name=svc.region,
                     aws_access_key_id=svc.access_key, aws_secret_access_key=svc.secret_key)

Keyword arguments become server options (poll_hold=2 -> --poll-hold 2; a list
repeats the option; True -> a bare flag). The server's stderr goes to a file
(.log_path), by default in scratch_dir(). On exit: SIGTERM, wait up to 10 s,
then SIGKILL; .returncode keeps the exit status.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

from .client import ServiceClient
from .service import DEFAULT_CREDENTIALS, DEFAULTS

_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")
PYTHON = "/usr/bin/python3"
_SCRATCH = None


def scratch_dir():
    """One directory per test process for logs, handler files and the like,
    removed when the process exits (kept when LW_KEEP_TEST_FILES is set, to
    look at after a failure), so test runs leave nothing behind in /tmp."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = tempfile.mkdtemp(prefix="lw-tests-")
        if not os.environ.get("LW_KEEP_TEST_FILES"):
            atexit.register(shutil.rmtree, _SCRATCH, True)
    return _SCRATCH


class LocalService:
    def __init__(self, log_dir=None, startup_timeout=30.0, **server_opts):
        self.opts = server_opts
        self.log_dir = log_dir
        self.startup_timeout = startup_timeout
        self.proc = None
        self.port = None
        self.returncode = None
        creds = server_opts.get("credentials")
        first = (creds[0] if isinstance(creds, list) else creds) if creds else None
        if first:
            parts = first.split(":", 2)
            self.access_key, self.secret_key = parts[0], parts[1]
            self.session_token = parts[2] if len(parts) > 2 else None
        else:
            self.access_key, self.secret_key = DEFAULT_CREDENTIALS
            self.session_token = None
        self.region = server_opts.get("region", DEFAULTS["region"])

    def _argv(self):
        argv = [PYTHON, _SERVER, "--port", str(self.opts.get("port", 0))]
        for k, v in self.opts.items():
            if k == "port" or v is None or v is False:
                continue
            flag = "--" + k.replace("_", "-")
            if v is True:
                argv.append(flag)
            elif isinstance(v, (list, tuple)):
                for item in v:
                    argv += [flag, str(item)]
            else:
                argv += [flag, str(v)]
        return argv

    def start(self):
        fd, self.log_path = tempfile.mkstemp(prefix="local-service-", suffix=".log", dir=self.log_dir or scratch_dir())
        self._log = os.fdopen(fd, "wb")
        self.proc = subprocess.Popen(self._argv(), stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        line = self._read_port_line()
        if not line.startswith("port "):
            self.stop()
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"server did not start ({line!r}); log:\n{f.read()}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.client = ServiceClient(self.endpoint)
        return self

    def _read_port_line(self):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        end = time.monotonic() + self.startup_timeout
        buf = b""
        while b"\n" not in buf and time.monotonic() < end:
            if sel.select(timeout=max(0.0, end - time.monotonic())):
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                buf += chunk
        sel.close()
        return buf.decode(errors="replace").strip()

    def stop(self, timeout=10.0):
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return self.returncode

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


if __name__ == "__main__":
    sys.exit("import LocalService from spec.service.harness")
