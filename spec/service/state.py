"""The service's record of what really happened: tasks, tokens, queues, polls.

One lock guards everything here. A long poll either takes a scheduled attempt
at once or parks a Waiter (an Event) on its queue; enqueue and retries hand
attempts to parked waiters in FIFO order under the lock, so a task is given to
exactly one poll. Timeouts run on the Timer thread (clock.py).

Only operations that were actually applied change this state: faults live in
the HTTP layer, so a test can trust task records to count what the service
accepted (see faults.py for "before"/"after").
"""
import base64
import collections
import os
import random
import secrets
import select
import socket
import threading
import time
import uuid

from . import tasks as T
from .errors import ApiError, sfn_invalid_token, sfn_task_timed_out, swf_unknown_resource

class Waiter:
    __slots__ = ("identity", "event", "attempt", "done", "alive")

    def __init__(self, identity, alive):
        self.identity, self.alive = identity, alive
        self.event = threading.Event()
        self.attempt = None
        self.done = False


class Queue:
    __slots__ = ("scheduled", "waiters", "held_max")

    def __init__(self):
        self.scheduled = collections.deque()
        self.waiters = collections.deque()
        self.held_max = 0


def socket_alive(sock):
    """False once the peer has closed (readable with nothing to read)."""
    try:
        r, _, _ = select.select([sock], [], [], 0)
        if not r:
            return True
        return sock.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


class State:
    def __init__(self, timer, config):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)   # task closed, poll parked/unparked
        self.timer = timer
        self.config = config
        self.generation = 0
        self.shutting_down = False
        self._ids = 0
        self._clear()

    # -- lifecycle -----------------------------------------------------------
    def _clear(self):
        self.tasks = collections.OrderedDict()
        self.tokens = {}
        self.queues = collections.defaultdict(Queue)
        self._reset_stats()

    def _reset_stats(self):
        self.held_total = sum(len(q.waiters) for q in self.queues.values())
        self.held_max = self.held_total
        for q in self.queues.values():
            q.held_max = len(q.waiters)
        self.inflight = sum(1 for t in self.tasks.values() for a in t.attempts if a.state == "started")
        self.inflight_max = self.inflight
        self.by_id = collections.defaultdict(lambda: {"polls": 0, "in_flight": 0, "max_polls": 0,
                                                      "max_in_flight": 0, "max_combined": 0})
        for q in self.queues.values():
            for w in q.waiters:
                self.by_id[w.identity or ""]["polls"] += 1
        for t in self.tasks.values():
            for a in t.attempts:
                if a.state == "started":
                    self.by_id[a.worker_identity or ""]["in_flight"] += 1
        for ident in list(self.by_id):
            self._touch(ident)
        self.combined_max = self.held_total + self.inflight

    def reset(self):
        with self.lock:
            self.generation += 1
            self._wake_all()
            self._clear()
            self.changed.notify_all()

    def shutdown(self):
        with self.lock:
            self.shutting_down = True
            self._wake_all()
            self.changed.notify_all()

    def _wake_all(self):
        for q in self.queues.values():
            while q.waiters:
                w = q.waiters.popleft()
                w.done = True
                self._unpark(w)
                w.event.set()

    # -- stats helpers (lock held) -----------------------------------------------
    def _touch(self, ident):
        s = self.by_id[ident]
        s["max_polls"] = max(s["max_polls"], s["polls"])
        s["max_in_flight"] = max(s["max_in_flight"], s["in_flight"])
        s["max_combined"] = max(s["max_combined"], s["polls"] + s["in_flight"])
        self.combined_max = max(self.combined_max, self.held_total + self.inflight)

    def _park(self, q, w):
        q.waiters.append(w)
        q.held_max = max(q.held_max, len(q.waiters))
        self.held_total += 1
        self.held_max = max(self.held_max, self.held_total)
        self.by_id[w.identity or ""]["polls"] += 1
        self._touch(w.identity or "")
        self.changed.notify_all()

    def _unpark(self, w):
        self.held_total -= 1
        self.by_id[w.identity or ""]["polls"] -= 1

    def _inflight(self, ident, delta):
        self.inflight += delta
        self.inflight_max = max(self.inflight_max, self.inflight)
        self.by_id[ident or ""]["in_flight"] += delta
        self._touch(ident or "")

    def stats(self):
        with self.lock:
            by_key = {k: {"current": len(q.waiters), "max": q.held_max, "scheduled":
                          sum(1 for a in q.scheduled if a.state == "scheduled")}
                      for k, q in self.queues.items()}
            states = collections.Counter(t.state for t in self.tasks.values())
            return {
                "polls": {"current": self.held_total, "max": self.held_max, "by_queue": by_key},
                "in_flight": {"current": self.inflight, "max": self.inflight_max},
                "max_combined": self.combined_max,
                "by_identity": {k: dict(v) for k, v in self.by_id.items()},
                "tasks": dict(states),
                "timers_pending": self.timer.pending(),
            }

    def reset_stats(self):
        with self.lock:
            self._reset_stats()

    # -- tokens --------------------------------------------------------------------
    def _token(self, service):
        n = self.config.get(f"{service}_token_length") or self.config.get("token_length")
        if not n:
            # Real tokens are long opaque strings: SWF ~500-800 chars (limit 1024),
            # Step Functions ~1000-1500 (limit 2048 in current models).
            n = random.randint(500, 800) if service == "swf" else random.randint(1000, 1500)
        n = int(n)
        while True:
            tok = secrets.token_urlsafe(n)[:n]      # URL-safe base64 alphabet
            if tok not in self.tokens:
                return tok

    # -- enqueue and scheduling ----------------------------------------------------
    def enqueue(self, service, spec):
        with self.lock:
            self._ids += 1
            task_id = f"{service}-{self._ids}"
            spec["activity_id"] = spec.get("activity_id") or f"activity-{self._ids}"
            if service == "swf":
                spec["workflow_id"] = spec.get("workflow_id") or f"workflow-{self._ids}"
                spec["run_id"] = spec.get("run_id") or (
                    "22" + base64.b64encode(os.urandom(32)).decode()[:42])
            else:
                arn = spec["activity_arn"]
                parts = arn.split(":")
                region = parts[3] if len(parts) > 3 and parts[3] else self.config["region"]
                account = parts[4] if len(parts) > 4 and parts[4] else "123456789012"
                spec["execution_arn"] = (f"arn:aws:states:{region}:{account}:execution:"
                                         f"local-machine:{uuid.uuid4()}")
            task = T.Task(task_id, service, spec)
            self.tasks[task_id] = task
            self._schedule(task)
            return task.to_dict()

    def _schedule(self, task):
        att = T.Attempt(task, len(task.attempts) + 1, self._token(task.service))
        task.attempts.append(att)
        task.state = "scheduled"
        self.tokens[att.token] = att
        task.scheduled_event(att)
        self._arm(att)
        q = self.queues[task.queue_key]
        q.scheduled.append(att)
        self._offer(q)

    def _offer(self, q):
        while q.waiters:
            att = self._take(q)
            if att is None:
                return
            while q.waiters:
                w = q.waiters.popleft()
                w.done = True
                self._unpark(w)
                if self.config.get("detect_disconnect") and w.alive and not w.alive():
                    w.event.set()           # its client is gone: do not hand it a task
                    continue
                self._start(att, w.identity)
                w.attempt = att
                w.event.set()
                break
            else:
                q.scheduled.appendleft(att)     # nobody live took it: keep its place
                return

    @staticmethod
    def _take(q):
        while q.scheduled:
            att = q.scheduled.popleft()
            if att.state == "scheduled":
                return att
        return None

    def _start(self, att, identity):
        att.state = "started"
        att.started_at = time.time()
        att.start_mono = att.hb_mono = time.monotonic()
        att.worker_identity = identity
        att.task.state = "started"
        att.task.started_event(att)
        self._inflight(identity, +1)
        self._arm(att)

    # -- long poll -----------------------------------------------------------------
    def poll(self, key, identity, hold, alive=None, limit_error=None):
        """Block up to `hold` seconds for an attempt; None if nothing came."""
        with self.lock:
            if self.shutting_down:
                return None
            q = self.queues[key]
            att = self._take(q)
            if att is not None:
                self._start(att, identity)
                return att
            if limit_error is not None and len(q.waiters) >= self.config["max_pollers"]:
                raise limit_error
            w = Waiter(identity, alive)
            self._park(q, w)
            gen = self.generation
        deadline = time.monotonic() + hold
        check = bool(self.config.get("detect_disconnect") and alive)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if w.event.wait(min(left, 0.5) if check else left):
                break
            if check and not alive():
                break
        with self.lock:
            if not w.done:
                w.done = True
                if gen == self.generation:
                    try:
                        self.queues[key].waiters.remove(w)
                    except ValueError:
                        pass
                    self._unpark(w)
                self.changed.notify_all()
            return w.attempt

    def wait_polls(self, n, timeout, key=None):
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                q = self.queues.get(key) if key else None
                cur = (len(q.waiters) if q else 0) if key else self.held_total
                if cur >= n:
                    return True, cur
                left = end - time.monotonic()
                if left <= 0:
                    return False, cur
                self.changed.wait(left)

    # -- timers ----------------------------------------------------------------------
    def _arm(self, att):
        d = att.task.deadline(att)
        if d is None:
            return
        if att.timer_at is not None and att.timer_at <= d[0]:
            return              # an earlier timer is pending; it re-evaluates when it fires
        att.timer_at = d[0]
        self.timer.at(d[0], self._on_timer, att, d[0], self.generation)

    def _on_timer(self, att, when, gen):
        with self.lock:
            if gen != self.generation or not att.open:
                return
            if att.timer_at == when:
                att.timer_at = None
            d = att.task.deadline(att)
            if d is None:
                return
            if time.monotonic() + 0.0005 >= d[0]:
                self._timeout(att, d[1])
            else:
                self._arm(att)

    def _timeout(self, att, kind):
        task = att.task
        att.timeout_type = kind
        task.timeout_type = kind
        self._close(att, "timed_out", {})
        if task.retries_left > 0 and not task.cancel_requested:
            task.retries_left -= 1
            self._schedule(task)
        else:
            self._finish(task, "timed_out")

    # -- closing -------------------------------------------------------------------------
    def _close(self, att, kind, fields):
        """Close one attempt (history, counters); the task may live on (retry)."""
        was_started = att.state == "started"
        att.state = kind
        att.closed_at = time.time()
        if was_started:
            self._inflight(att.worker_identity, -1)
        att.task.closed_event(att, kind, fields)

    def _finish(self, task, state, outcome=None):
        task.state = state
        task.closed_at = time.time()
        if outcome:
            task.outcome = {k: v for k, v in outcome.items()}
        self.changed.notify_all()

    def _record(self, att, op, accepted, error=None, fields=None):
        t = att.task
        t.responses.append({"op": op, "at": time.time(), "attempt": att.n, "accepted": accepted,
                            "error": error, "fields": fields or {}})
        if accepted:
            t.accepted_responses += 1

    # -- worker calls: SWF ---------------------------------------------------------------
    def _swf_att(self, token):
        att = self.tokens.get(token)
        if att is None or att.task.service != "swf":
            raise swf_unknown_resource()
        return att

    def swf_heartbeat(self, token, details):
        with self.lock:
            att = self._swf_att(token)
            if att.state != "started":
                att.rejected_heartbeats += 1
                raise swf_unknown_resource()
            att.heartbeat_count += 1
            att.last_heartbeat_details = details
            att.last_heartbeat_at = time.time()
            att.hb_mono = time.monotonic()
            return att.task.cancel_requested

    def swf_respond(self, op, token, fields):
        kind = {"RespondActivityTaskCompleted": "completed", "RespondActivityTaskFailed": "failed",
                "RespondActivityTaskCanceled": "canceled"}[op]
        with self.lock:
            att = self._swf_att(token)
            if att.state != "started":
                self._record(att, op, False, "UnknownResourceFault", fields)
                raise swf_unknown_resource()
            self._record(att, op, True, None, fields)
            self._close(att, kind, fields)
            self._finish(att.task, kind, fields)

    # -- worker calls: Step Functions ------------------------------------------------------
    def _sfn_att(self, token):
        att = self.tokens.get(token)
        if att is None or att.task.service != "sfn":
            raise sfn_invalid_token()
        return att

    def sfn_heartbeat(self, token):
        with self.lock:
            att = self._sfn_att(token)
            if att.state != "started":
                att.rejected_heartbeats += 1
                raise sfn_task_timed_out()
            att.heartbeat_count += 1
            att.last_heartbeat_at = time.time()
            att.hb_mono = time.monotonic()

    def sfn_respond(self, op, token, fields, check=None):
        """check(fields) may raise an ApiError (InvalidOutput) for an open task."""
        kind = "completed" if op == "SendTaskSuccess" else "failed"
        with self.lock:
            att = self._sfn_att(token)
            if att.state != "started":
                self._record(att, op, False, "TaskTimedOut", fields)
                raise sfn_task_timed_out()
            if check is not None:
                try:
                    check(fields)
                except ApiError as e:
                    self._record(att, op, False, e.code, fields)
                    raise
            self._record(att, op, True, None, fields)
            self._close(att, kind, fields)
            self._finish(att.task, kind, fields)

    # -- control: cancel / stop ------------------------------------------------------------
    def cancel(self, task_id):
        with self.lock:
            task = self._task(task_id)
            if task.service != "swf":
                raise KeyError("cancel is SWF's RequestCancelActivityTask; use stop_execution for sfn")
            att = task.current
            if not att.open:
                raise ValueError(f"task {task_id} is already {task.state}")
            if not task.cancel_requested:
                task.cancel_requested = True
                task.cancel_event_id = task.event("ActivityTaskCancelRequested", {
                    "decisionTaskCompletedEventId": task.decision(),
                    "activityId": task.spec["activity_id"]})
            if att.state == "scheduled":
                # Not yet given to a worker: SWF cancels it outright.
                self._close(att, "canceled", {})
                self._finish(task, "canceled", {})
            return task.to_dict()

    def stop_execution(self, task_id, error=None, cause=None):
        with self.lock:
            task = self._task(task_id)
            att = task.current
            if not att.open:
                raise ValueError(f"task {task_id} is already {task.state}")
            self._close(att, "stopped", {})
            if task.service == "sfn":
                task.event("ExecutionAborted", {"error": error, "cause": cause})
                self._finish(task, "stopped", {"error": error, "cause": cause})
            else:
                # SWF's counterpart is TerminateWorkflowExecution: the token dies with it.
                task.event("WorkflowExecutionTerminated", {"reason": error, "details": cause,
                                                           "childPolicy": "TERMINATE",
                                                           "cause": "OPERATOR_INITIATED"})
                self._finish(task, "stopped", {"reason": error, "details": cause})
            return task.to_dict()

    # -- reads ---------------------------------------------------------------------------
    def _task(self, task_id):
        task = self.tasks.get(task_id)
        if task is None:
            raise LookupError(f"no task {task_id}")
        return task

    def task(self, task_id):
        with self.lock:
            return self._task(task_id).to_dict()

    def all_tasks(self):
        with self.lock:
            return [t.to_dict() for t in self.tasks.values()]

    def wait_task(self, task_id, timeout):
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                task = self._task(task_id)
                if task.state in T.FINAL:
                    return True, task.to_dict()
                left = end - time.monotonic()
                if left <= 0:
                    return False, task.to_dict()
                self.changed.wait(left)

    def wait_all(self, timeout):
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                open_ = [t.id for t in self.tasks.values() if t.state not in T.FINAL]
                if not open_:
                    return True, []
                left = end - time.monotonic()
                if left <= 0:
                    return False, open_
                self.changed.wait(left)
