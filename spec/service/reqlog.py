"""The request log (read by tests through the control API) and the one-line-per-
request log on stderr.

Entries carry a sequence number that only grows, across reset() too, so a test
can read "everything since seq N". Only AWS API requests enter the log; control
requests get a stderr line only. The oldest entries are dropped past `limit`.
"""
import collections
import sys
import threading
import time


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


class RequestLog:
    def __init__(self, stream=None, quiet=False):
        self._lock = threading.Lock()
        self._entries = collections.deque()
        self._seq = 0
        self.limit = 20000
        self.body_limit = 1 << 20
        self.stream = stream or sys.stderr
        self.quiet = quiet

    def clip(self, data):
        """Bytes -> (text, truncated) within body_limit."""
        truncated = len(data) > self.body_limit
        if truncated:
            data = data[:self.body_limit]
        return data.decode("utf-8", "replace"), truncated

    def add(self, entry):
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
            while len(self._entries) > self.limit:
                self._entries.popleft()
        self.line(entry.get("target") or entry.get("path"), entry.get("status"),
                  entry.get("error"), entry.get("verdict"), entry.get("fault"),
                  entry.get("duration_ms"), entry.get("time"))
        return entry["seq"]

    def since(self, seq=0, limit=None):
        with self._lock:
            out = [e for e in self._entries if e["seq"] > seq]
        return out[:limit] if limit else out

    def last_seq(self):
        with self._lock:
            return self._seq

    def clear(self):
        with self._lock:
            self._entries.clear()

    def line(self, what, status, error=None, verdict=None, fault=None, ms=None, t=None):
        if self.quiet:
            return
        t = time.time() if t is None else t
        ms_s = f"{ms:.1f}ms" if ms is not None else "-"
        text = (f"{_iso(t)} {what} {status} {error or '-'} sig={verdict or '-'} "
                f"fault={fault or '-'} {ms_s}\n")
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass
