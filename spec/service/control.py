"""The control API for tests: unsigned JSON under /_control/ on the service port.

Each endpoint takes a JSON object (POST body, or the query string for GET) and
answers a JSON object; errors are {"error": "..."} with 400 (bad input), 404
(unknown task or endpoint) or 409 (the task is already closed). Endpoints and
their arguments are listed in README.md; client.py wraps each one.
"""
import json
import os
from urllib.parse import parse_qsl

from .sigcheck import Creds


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _timeout(v, name):
    """Control timeouts: seconds as numbers (fractions allowed), None or "NONE" = none."""
    if v is None or v == "NONE":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be a number of seconds, null or \"NONE\"")
    if f < 0:
        raise ControlError(400, f"{name} must be >= 0")
    return f


def _wait(a, default):
    t = _timeout(a.get("timeout"), "timeout")
    return default if t is None else t


def _text(v, name, default=None, limit=None):
    if v is None:
        return default
    if not isinstance(v, str):
        v = json.dumps(v)       # convenience: structured input is sent as JSON text
    if limit is not None and len(v) > limit:
        raise ControlError(400, f"{name} longer than {limit}")
    return v


def _name(v, name, default, limit=256):
    v = default if v is None else v
    if not isinstance(v, str) or not v or len(v) > limit:
        raise ControlError(400, f"{name} must be a string of 1-{limit} characters")
    return v


def _retries(v):
    try:
        n = int(v or 0)
    except (TypeError, ValueError):
        raise ControlError(400, "retry_on_timeout must be an integer")
    if n < 0:
        raise ControlError(400, "retry_on_timeout must be >= 0")
    return n


class Control:
    def __init__(self, svc, server_info=None):
        self.svc = svc
        self.info = server_info or {}
        self.routes = {
            "health": self.health, "reset": self.reset, "configure": self.configure,
            "config": self.config, "credentials": self.credentials,
            "enqueue": self.enqueue, "cancel": self.cancel, "stop_execution": self.stop_execution,
            "task": self.task, "tasks": self.tasks, "wait_task": self.wait_task,
            "wait_all": self.wait_all, "requests": self.requests, "faults": self.faults,
            "faults/clear": self.faults_clear, "stats": self.stats, "stats/reset": self.stats_reset,
            "wait_polls": self.wait_polls,
        }

    def handle(self, method, path, query, body):
        """-> (status, dict)"""
        name = path[len("/_control/"):].strip("/")
        fn = self.routes.get(name)
        if fn is None:
            return 404, {"error": f"unknown control endpoint {path}"}
        try:
            args = dict(parse_qsl(query)) if query else {}
            if body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ControlError(400, "the body must be a JSON object")
                args.update(data)
            return 200, fn(method, args)
        except ControlError as e:
            return e.status, {"error": str(e)}
        except json.JSONDecodeError as e:
            return 400, {"error": f"body is not JSON: {e}"}
        except LookupError as e:
            return 404, {"error": str(e.args[0]) if e.args else str(e)}
        except ValueError as e:
            return 409 if "already" in str(e) else 400, {"error": str(e)}

    # -- endpoints ---------------------------------------------------------------------
    def health(self, method, a):
        return {"ok": True, "pid": os.getpid(), **self.info}

    def reset(self, method, a):
        self.svc.reset()
        return {"ok": True}

    def configure(self, method, a):
        return self.svc.configure(**a)

    def config(self, method, a):
        return dict(self.svc.config)

    def credentials(self, method, a):
        if method == "POST" and a:
            akid, secret = a.get("akid"), a.get("secret")
            if not isinstance(akid, str) or not akid or not isinstance(secret, str) or not secret:
                raise ControlError(400, "akid and secret are required strings")
            exp = a.get("expires_at")
            self.svc.sig.add(Creds(akid, secret, a.get("token"),
                                   None if exp is None else float(exp)))
        return {"credentials": [{"akid": c.akid, "secret": c.secret, "token": c.token,
                                 "expires_at": c.expires_at} for c in self.svc.sig.credentials()]}

    def enqueue(self, method, a):
        service = a.get("service", "swf")
        if service == "swf":
            spec = {
                "activity_type": _name(a.get("activity_type"), "activity_type", None),
                "version": _name(a.get("version"), "version", "1", 64),
                "domain": _name(a.get("domain"), "domain", "demo"),
                "task_list": _name(a.get("task_list"), "task_list", "main"),
                "input": _text(a.get("input"), "input", None, 32768),
                "activity_id": a.get("activity_id") and _name(a["activity_id"], "activity_id", None),
                "workflow_id": a.get("workflow_id") and _name(a["workflow_id"], "workflow_id", None),
                "run_id": a.get("run_id") and _name(a["run_id"], "run_id", None, 64),
                "schedule_to_start": _timeout(a.get("schedule_to_start"), "schedule_to_start"),
                "start_to_close": _timeout(a.get("start_to_close"), "start_to_close"),
                "heartbeat": _timeout(a.get("heartbeat"), "heartbeat"),
                "schedule_to_close": _timeout(a.get("schedule_to_close"), "schedule_to_close"),
                "retry_on_timeout": _retries(a.get("retry_on_timeout")),
            }
        elif service == "sfn":
            arn = a.get("activity_arn")
            if not isinstance(arn, str) or not arn.startswith("arn:"):
                raise ControlError(400, "activity_arn must be an activity ARN")
            spec = {
                "activity_arn": arn,
                "input": _text(a.get("input"), "input", "{}"),     # checked below (bytes)
                "activity_id": a.get("activity_id"),
                "timeout_seconds": _timeout(a.get("timeout_seconds"), "timeout_seconds"),
                "heartbeat_seconds": _timeout(a.get("heartbeat_seconds"), "heartbeat_seconds"),
                "retry_on_timeout": _retries(a.get("retry_on_timeout")),
            }
            if len(spec["input"].encode("utf-8", "surrogatepass")) > 1048576:
                raise ControlError(400, "input longer than 1048576 bytes (GetActivityTask's limit)")
        else:
            raise ControlError(400, "service must be swf or sfn")
        task = self.svc.state.enqueue(service, spec)
        return {"task_id": task["id"], "task": task}

    def _task_id(self, a):
        tid = a.get("task_id") or a.get("id")
        if not tid:
            raise ControlError(400, "task_id is required")
        return tid

    def cancel(self, method, a):
        try:
            return self.svc.state.cancel(self._task_id(a))
        except KeyError as e:
            raise ControlError(400, e.args[0])

    def stop_execution(self, method, a):
        return self.svc.state.stop_execution(self._task_id(a), a.get("error"), a.get("cause"))

    def task(self, method, a):
        return self.svc.state.task(self._task_id(a))

    def tasks(self, method, a):
        return {"tasks": self.svc.state.all_tasks()}

    def wait_task(self, method, a):
        ok, task = self.svc.state.wait_task(self._task_id(a), _wait(a, 30))
        return {"done": ok, "task": task}

    def wait_all(self, method, a):
        ok, open_ = self.svc.state.wait_all(_wait(a, 60))
        return {"done": ok, "open": open_}

    def requests(self, method, a):
        since = int(a.get("since", 0) or 0)
        limit = int(a["limit"]) if a.get("limit") else None
        return {"requests": self.svc.log.since(since, limit), "last_seq": self.svc.log.last_seq()}

    def faults(self, method, a):
        if method == "POST" and "rules" in a:
            rules = a["rules"]
            if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
                raise ControlError(400, "rules must be a list of objects")
            self.svc.faults.set(rules)
        return self.svc.faults.stats()

    def faults_clear(self, method, a):
        self.svc.faults.clear()
        return self.svc.faults.stats()

    def stats(self, method, a):
        return self.svc.state.stats()

    def stats_reset(self, method, a):
        self.svc.state.reset_stats()
        return self.svc.state.stats()

    def wait_polls(self, method, a):
        ok, cur = self.svc.state.wait_polls(int(a.get("n", 1)), _wait(a, 10),
                                            a.get("queue"))
        return {"done": ok, "current": cur}
