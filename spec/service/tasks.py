"""Task and attempt records, their history events and their JSON form.

A Task is what a test enqueues: one SWF activity (with its own workflow
execution) or one Step Functions activity state (with its own execution). Each
time it is scheduled (first, then again on retry_on_timeout) it gets a new
Attempt with a new token. The history is the activity part of what SWF's
GetWorkflowExecutionHistory / SFN's GetExecutionHistory would show.

Event ids follow the real services' numbering: in SWF the first ActivityTaskScheduled
is event 5 (after WorkflowExecutionStarted, DecisionTaskScheduled/Started/Completed)
and every decider action (schedule again, request cancel) consumes three ids for
its decision task; the decision events themselves are not listed. In SFN the first
ActivityScheduled is event 3 (after ExecutionStarted, TaskStateEntered).
Plain data: all locking is state.py's business.
"""
import time

FINAL = {"completed", "failed", "canceled", "timed_out", "stopped"}


def _secs(v):
    """SWF timeouts travel as strings of whole seconds or "NONE"; sub-second
    values (only possible through the control API) keep their fraction."""
    if v is None:
        return "NONE"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _clean(d):
    return {k: v for k, v in d.items() if v is not None}


class Attempt:
    def __init__(self, task, n, token):
        self.task = task
        self.n = n
        self.token = token
        self.state = "scheduled"
        self.scheduled_at = time.time()
        self.sched_mono = time.monotonic()
        self.started_at = self.closed_at = None
        self.start_mono = self.hb_mono = None
        self.worker_identity = None
        self.scheduled_event_id = 0
        self.started_event_id = 0
        self.heartbeat_count = 0
        self.rejected_heartbeats = 0
        self.last_heartbeat_details = None
        self.last_heartbeat_at = None
        self.timeout_type = None
        self.timer_at = None            # monotonic deadline of the pending timer, if any

    @property
    def open(self):
        return self.state in ("scheduled", "started")

    def to_dict(self):
        return {
            "n": self.n, "state": self.state, "token_prefix": self.token[:12],
            "token_length": len(self.token),
            "scheduled_at": self.scheduled_at, "started_at": self.started_at,
            "closed_at": self.closed_at, "worker_identity": self.worker_identity,
            "scheduled_event_id": self.scheduled_event_id, "started_event_id": self.started_event_id,
            "heartbeat_count": self.heartbeat_count, "rejected_heartbeats": self.rejected_heartbeats,
            "last_heartbeat_details": self.last_heartbeat_details,
            "last_heartbeat_at": self.last_heartbeat_at, "timeout_type": self.timeout_type,
        }


class Task:
    def __init__(self, task_id, service, spec):
        self.id = task_id
        self.service = service
        self.spec = spec                 # normalized enqueue arguments (see state.enqueue)
        self.state = "scheduled"
        self.created_at = time.time()
        self.closed_at = None
        self.attempts = []
        self.history = []
        self.responses = []
        self.accepted_responses = 0
        self.cancel_requested = False
        self.cancel_event_id = None
        self.retries_left = spec.get("retry_on_timeout") or 0
        self.outcome = {}                # result/reason/details or output/error/cause
        self.timeout_type = None
        self._next_id = 2 if service == "swf" else 3

    # -- keys and timeouts -------------------------------------------------
    @property
    def queue_key(self):
        s = self.spec
        if self.service == "swf":
            return f"swf:{s['domain']}/{s['task_list']}"
        return f"sfn:{s['activity_arn']}"

    @property
    def current(self):
        return self.attempts[-1]

    def deadline(self, att):
        """(monotonic deadline, timeout type) of the first timeout that can fire."""
        s, c = self.spec, []
        if self.service == "swf":
            if s["schedule_to_close"] is not None:
                c.append((att.sched_mono + s["schedule_to_close"], "SCHEDULE_TO_CLOSE"))
            if att.state == "scheduled" and s["schedule_to_start"] is not None:
                c.append((att.sched_mono + s["schedule_to_start"], "SCHEDULE_TO_START"))
            if att.state == "started":
                if s["start_to_close"] is not None:
                    c.append((att.start_mono + s["start_to_close"], "START_TO_CLOSE"))
                if s["heartbeat"] is not None:
                    c.append((att.hb_mono + s["heartbeat"], "HEARTBEAT"))
        else:
            # TimeoutSeconds bounds the whole Task state, including time spent waiting
            # for a worker (an activity nobody polls for times out with States.Timeout).
            if s["timeout_seconds"] is not None:
                c.append((att.sched_mono + s["timeout_seconds"], "States.Timeout"))
            if att.state == "started" and s["heartbeat_seconds"] is not None:
                c.append((att.hb_mono + s["heartbeat_seconds"], "States.HeartbeatTimeout"))
        return min(c) if c else None

    # -- history -------------------------------------------------------------
    def decision(self):
        """SWF: a decision task (scheduled, started, completed); returns the completed id."""
        self._next_id += 3
        return self._next_id - 1

    def event(self, etype, attrs):
        eid = self._next_id
        self._next_id += 1
        now = time.time()
        attrs = _clean(attrs)
        if self.service == "swf":
            key = etype[0].lower() + etype[1:] + "EventAttributes"
            ev = {"eventId": eid, "eventTimestamp": now, "eventType": etype, key: attrs}
        else:
            key = etype[0].lower() + etype[1:] + "EventDetails"
            ev = {"id": eid, "timestamp": now, "type": etype}
            if self.history:
                ev["previousEventId"] = self.history[-1]["id"]
            ev[key] = attrs
        self.history.append(ev)
        return eid

    def scheduled_event(self, att):
        s = self.spec
        if self.service == "swf":
            att.scheduled_event_id = self.event("ActivityTaskScheduled", {
                "activityType": {"name": s["activity_type"], "version": s["version"]},
                "activityId": s["activity_id"], "input": s["input"],
                "scheduleToStartTimeout": _secs(s["schedule_to_start"]),
                "scheduleToCloseTimeout": _secs(s["schedule_to_close"]),
                "startToCloseTimeout": _secs(s["start_to_close"]),
                "heartbeatTimeout": _secs(s["heartbeat"]),
                "taskList": {"name": s["task_list"]}, "taskPriority": "0",
                "decisionTaskCompletedEventId": self.decision()})
        else:
            att.scheduled_event_id = self.event("ActivityScheduled", {
                "resource": s["activity_arn"], "input": s["input"],
                "inputDetails": {"truncated": False},
                "timeoutInSeconds": s["timeout_seconds"], "heartbeatInSeconds": s["heartbeat_seconds"]})

    def started_event(self, att):
        if self.service == "swf":
            att.started_event_id = self.event("ActivityTaskStarted", {
                "identity": att.worker_identity, "scheduledEventId": att.scheduled_event_id})
        else:
            att.started_event_id = self.event("ActivityStarted", {"workerName": att.worker_identity})

    def closed_event(self, att, kind, fields):
        ids = {"scheduledEventId": att.scheduled_event_id, "startedEventId": att.started_event_id}
        if self.service == "swf":
            if kind == "completed":
                self.event("ActivityTaskCompleted", {"result": fields.get("result"), **ids})
            elif kind == "failed":
                self.event("ActivityTaskFailed", {"reason": fields.get("reason"),
                                                  "details": fields.get("details"), **ids})
            elif kind == "canceled":
                self.event("ActivityTaskCanceled", {"details": fields.get("details"), **ids,
                                                    "latestCancelRequestedEventId": self.cancel_event_id})
            elif kind == "timed_out":
                self.event("ActivityTaskTimedOut", {"timeoutType": att.timeout_type, **ids,
                                                    "details": att.last_heartbeat_details})
        else:
            if kind == "completed":
                self.event("ActivitySucceeded", {"output": fields.get("output"),
                                                 "outputDetails": {"truncated": False}})
            elif kind == "failed":
                self.event("ActivityFailed", {"error": fields.get("error"), "cause": fields.get("cause")})
            elif kind == "timed_out":
                self.event("ActivityTimedOut", {"error": att.timeout_type})

    # -- JSON ----------------------------------------------------------------
    def to_dict(self):
        s = self.spec
        last = self.attempts[-1] if self.attempts else None
        d = {
            "id": self.id, "service": self.service, "state": self.state,
            "queue": self.queue_key, "input": s["input"],
            "created_at": self.created_at, "closed_at": self.closed_at,
            "token_prefix": last.token[:12] if last else None,
            "worker_identity": last.worker_identity if last else None,
            "timeout_type": self.timeout_type,
            "cancel_requested": self.cancel_requested,
            "heartbeat_count": sum(a.heartbeat_count for a in self.attempts),
            "last_heartbeat_details": next((a.last_heartbeat_details for a in reversed(self.attempts)
                                            if a.last_heartbeat_details is not None), None),
            "retry_on_timeout": s.get("retry_on_timeout") or 0,
            "attempts": [a.to_dict() for a in self.attempts],
            "history": list(self.history),
            "responses": list(self.responses),
            "accepted_responses": self.accepted_responses,
        }
        if self.service == "swf":
            d.update({
                "activity_type": s["activity_type"], "version": s["version"],
                "activity_id": s["activity_id"], "domain": s["domain"], "task_list": s["task_list"],
                "workflow_execution": {"workflowId": s["workflow_id"], "runId": s["run_id"]},
                "timeouts": {k: s[k] for k in ("schedule_to_start", "start_to_close",
                                               "heartbeat", "schedule_to_close")},
                "result": self.outcome.get("result"), "reason": self.outcome.get("reason"),
                "details": self.outcome.get("details"),
            })
        else:
            d.update({
                "activity_arn": s["activity_arn"], "execution_arn": s["execution_arn"],
                "activity_id": s["activity_id"],
                "timeouts": {"timeout_seconds": s["timeout_seconds"],
                             "heartbeat_seconds": s["heartbeat_seconds"]},
                "output": self.outcome.get("output"), "error": self.outcome.get("error"),
                "cause": self.outcome.get("cause"),
            })
        return d
