"""Fault injection rules: which request gets which fault.

A rule: {"op": "<Operation>" | "*", "kind": KIND, "count": N, "probability": p,
"seed": S, "when": "before" | "after", "latency_ms": M, "size": BYTES,
"body": "json" | "empty" | "html"}.

- count N: the next N matching requests; probability p: each matching request
  with probability p from random.Random(seed) (both: at most N times, each with
  probability p). Neither given: count 1.
- when "before" (default): the fault replaces the answer and the operation is not
  applied (a long poll hands out no task). "after": the operation is applied and
  recorded, then its answer is lost or garbled, as when a real response is lost
  on the way back. For "latency", when says whether the delay comes before the
  operation runs or after, before the answer is sent.
- Rules are checked in order; every firing latency rule adds its delay, and at
  most one other fault applies to a request (later rules are not consulted, so
  their counts and random draws are not consumed).

The service's task records never see a fault: they only change when an operation
is applied, so tests can check afterwards that no task was lost or answered twice.
"""
import collections
import random
import threading

KINDS = ("http500", "http503", "throttle", "latency", "close", "malformed", "oversized")
DEFAULT_OVERSIZED = 8 * 1024 * 1024


class Rule:
    def __init__(self, spec, index):
        unknown = set(spec) - {"op", "kind", "count", "probability", "seed", "when",
                               "latency_ms", "size", "body"}
        if unknown:
            raise ValueError(f"rule {index}: unknown keys {sorted(unknown)}")
        self.op = spec.get("op", "*")
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise ValueError(f"rule {index}: kind must be one of {', '.join(KINDS)}")
        self.when = spec.get("when", "before")
        if self.when not in ("before", "after"):
            raise ValueError(f"rule {index}: when must be before or after")
        self.probability = spec.get("probability")
        count = spec.get("count")
        if count is None and self.probability is None:
            count = 1
        self.remaining = None if count is None else int(count)
        if self.probability is not None and not 0 <= float(self.probability) <= 1:
            raise ValueError(f"rule {index}: probability must be within [0, 1]")
        self.rng = random.Random(spec.get("seed", 0))
        self.latency = float(spec.get("latency_ms", 1000 if self.kind == "latency" else 0)) / 1000
        self.size = int(spec.get("size", DEFAULT_OVERSIZED))
        self.body = spec.get("body", "json")
        if self.body not in ("json", "empty", "html"):
            raise ValueError(f"rule {index}: body must be json, empty or html")
        self.spec = dict(spec)
        self.fired = 0

    def matches(self, op):
        return self.op == "*" or self.op == op

    def fire(self):
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.probability is not None and self.rng.random() >= float(self.probability):
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.fired += 1
        return True

    def to_dict(self):
        return {**self.spec, "fired": self.fired, "remaining": self.remaining}


class Decision:
    __slots__ = ("delay_before", "delay_after", "rule")

    def __init__(self):
        self.delay_before = self.delay_after = 0.0
        self.rule = None

    def label(self):
        parts = []
        if self.delay_before or self.delay_after:
            parts.append("latency")
        if self.rule:
            parts.append(f"{self.rule.kind}/{self.rule.when}")
        return ",".join(parts) or None


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []
        self._clear_counts()

    def _clear_counts(self):
        self.by_kind = collections.Counter()
        self.by_op = collections.defaultdict(collections.Counter)

    def set(self, specs):
        rules = [Rule(s, i) for i, s in enumerate(specs or [])]
        with self._lock:
            self._rules = rules

    def clear(self):
        with self._lock:
            self._rules = []
            self._clear_counts()

    def pick(self, op):
        d = Decision()
        with self._lock:
            for r in self._rules:
                if not r.matches(op):
                    continue
                if r.kind != "latency" and d.rule is not None:
                    continue
                if not r.fire():
                    continue
                self.by_kind[r.kind] += 1
                self.by_op[op][r.kind] += 1
                if r.kind == "latency":
                    if r.when == "before":
                        d.delay_before += r.latency
                    else:
                        d.delay_after += r.latency
                else:
                    d.rule = r
        return d

    def stats(self):
        with self._lock:
            return {"total": sum(self.by_kind.values()), "by_kind": dict(self.by_kind),
                    "by_op": {op: dict(c) for op, c in self.by_op.items()},
                    "rules": [r.to_dict() for r in self._rules]}
