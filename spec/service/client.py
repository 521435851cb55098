#!/usr/bin/python3
"""Python client of the local service's control API (standard library only).

    from spec.service.client import ServiceClient
    c = ServiceClient("http://127.0.0.1:8080")
    tid = c.enqueue_swf("echo", input='{"n": 1}', heartbeat=2.0)
    task = c.wait_task(tid, timeout=30)

Every method takes keyword arguments and returns the decoded JSON answer (or
the documented part of it). Control errors raise ControlError (with .status);
wait_* methods raise TimeoutError when their condition is not met in time.
Timeouts given here are seconds and may be fractions.

Also a small command line, e.g. for `make demo`:
    client.py http://127.0.0.1:N enqueue_swf activity_type=echo input='{"x":1}'
    client.py http://127.0.0.1:N wait_all timeout=30
(values are parsed as JSON when they parse, else taken as strings)
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


_UNSET = object()


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ServiceClient:
    def __init__(self, base_url, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    # -- transport -----------------------------------------------------------------
    def _call(self, name, args=None, method="POST", wait=0.0):
        url = f"{self.base_url}/_control/{name}"
        if method == "GET":
            if args:
                url += "?" + urllib.parse.urlencode(args)
            req = urllib.request.Request(url, method="GET")
        else:
            req = urllib.request.Request(url, data=json.dumps(args or {}).encode(), method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout + wait) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                msg = json.loads(e.read()).get("error", e.reason)
            except ValueError:
                msg = e.reason
            raise ControlError(e.code, msg) from None

    # -- setup -----------------------------------------------------------------------
    def health(self):
        return self._call("health")

    def reset(self):
        """Tasks, faults, request log, stats, settings and credentials back to startup."""
        return self._call("reset")

    def configure(self, poll_hold=_UNSET, region=_UNSET, clock_skew=_UNSET, token_length=_UNSET,
                  **more):
        """Change the settings given (others keep their values); returns all settings.
        Other keys: clock_offset, swf_token_length, sfn_token_length, max_pollers,
        detect_disconnect, known_domains, known_activities, log_limit, log_body_limit.
        None clears the nullable ones (token lengths, known_*)."""
        args = {k: v for k, v in (("poll_hold", poll_hold), ("region", region),
                                  ("clock_skew", clock_skew), ("token_length", token_length))
                if v is not _UNSET}
        args.update(more)
        return self._call("configure", args)

    def config(self):
        return self._call("config")

    def add_credentials(self, akid, secret, token=None, expires_at=None):
        """Requests with this token after expires_at (epoch seconds) get ExpiredTokenException."""
        return self._call("credentials", {"akid": akid, "secret": secret, "token": token,
                                          "expires_at": expires_at})

    def credentials(self):
        return self._call("credentials", method="GET")["credentials"]

    # -- tasks -----------------------------------------------------------------------
    def enqueue_swf(self, activity_type, input=None, domain="demo", task_list="main", version="1",
                    activity_id=None, workflow_id=None, run_id=None, schedule_to_start=None,
                    start_to_close=None, heartbeat=None, schedule_to_close=None, retry_on_timeout=0):
        """Schedule an SWF activity task; returns its task id. Timeouts: seconds or None."""
        return self._call("enqueue", {
            "service": "swf", "activity_type": activity_type, "input": input, "domain": domain,
            "task_list": task_list, "version": version, "activity_id": activity_id,
            "workflow_id": workflow_id, "run_id": run_id, "schedule_to_start": schedule_to_start,
            "start_to_close": start_to_close, "heartbeat": heartbeat,
            "schedule_to_close": schedule_to_close, "retry_on_timeout": retry_on_timeout,
        })["task_id"]

    def enqueue_sfn(self, activity_arn, input="{}", timeout_seconds=None, heartbeat_seconds=None,
                    retry_on_timeout=0):
        """Schedule a Step Functions activity task; returns its task id."""
        return self._call("enqueue", {
            "service": "sfn", "activity_arn": activity_arn, "input": input,
            "timeout_seconds": timeout_seconds, "heartbeat_seconds": heartbeat_seconds,
            "retry_on_timeout": retry_on_timeout,
        })["task_id"]

    def cancel(self, task_id):
        """SWF RequestCancelActivityTask: a scheduled task is canceled at once, a
        started one sees cancelRequested=true on its next heartbeat."""
        return self._call("cancel", {"task_id": task_id})

    def stop_execution(self, task_id, error=None, cause=None):
        """SFN StopExecution (SWF: TerminateWorkflowExecution); the token dies."""
        return self._call("stop_execution", {"task_id": task_id, "error": error, "cause": cause})

    def task(self, task_id):
        return self._call("task", {"task_id": task_id})

    def tasks(self):
        return self._call("tasks", method="GET")["tasks"]

    def wait_task(self, task_id, timeout=30):
        """Wait until the task is closed; returns its record, raises TimeoutError."""
        r = self._call("wait_task", {"task_id": task_id, "timeout": timeout}, wait=timeout)
        if not r["done"]:
            raise TimeoutError(f"task {task_id} still {r['task']['state']} after {timeout}s")
        return r["task"]

    def wait_all(self, timeout=60):
        """Wait until every task is closed; returns all task records."""
        r = self._call("wait_all", {"timeout": timeout}, wait=timeout)
        if not r["done"]:
            raise TimeoutError(f"tasks still open after {timeout}s: {', '.join(r['open'])}")
        return self.tasks()

    # -- observation -----------------------------------------------------------------
    def requests(self, since=0, limit=None):
        """Request-log entries with seq > since (seq only grows, across resets too)."""
        args = {"since": since}
        if limit:
            args["limit"] = limit
        return self._call("requests", args)["requests"]

    def stats(self):
        return self._call("stats", method="GET")

    def reset_stats(self):
        return self._call("stats/reset")

    def wait_polls(self, n, timeout=10, queue=None):
        """Wait until at least n polls are held open (on `queue`, e.g.
        "swf:demo/main" or "sfn:<arn>", or in total)."""
        r = self._call("wait_polls", {"n": n, "timeout": timeout, "queue": queue}, wait=timeout)
        if not r["done"]:
            raise TimeoutError(f"{r['current']} polls held, wanted {n}")
        return r["current"]

    # -- faults ------------------------------------------------------------------------
    def set_faults(self, rules):
        """Replace the fault rules (see faults.py / README.md)."""
        return self._call("faults", {"rules": list(rules)})

    def clear_faults(self):
        return self._call("faults/clear")

    def fault_stats(self):
        return self._call("faults", method="GET")


def _cli(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__)
        return 2
    client = ServiceClient(argv[0])
    kwargs = {}
    for a in argv[2:]:
        k, _, v = a.partition("=")
        try:
            kwargs[k] = json.loads(v)
        except ValueError:
            kwargs[k] = v
    if kwargs.get("input") is not None and not isinstance(kwargs["input"], str):
        kwargs["input"] = json.dumps(kwargs["input"])
    result = getattr(client, argv[1])(**kwargs)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
