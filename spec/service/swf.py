"""SWF activity-worker operations: wire parameters in, wire output out.

PollForActivityTask, RecordActivityTaskHeartbeat, RespondActivityTaskCompleted,
RespondActivityTaskFailed, RespondActivityTaskCanceled. Parameters have been
validated against the model already (validate.py). State changes are state.py's.
"""
from .errors import ApiError


def poll(svc, params, ctx):
    domain = params["domain"]
    known = svc.config.get("known_domains")
    if known is not None and domain not in known:
        raise ApiError("UnknownResourceFault", f"Unknown domain: {domain}", "swf")
    key = f"swf:{domain}/{params['taskList']['name']}"
    limit = ApiError("LimitExceededFault",
                     f"Too many pollers on task list {params['taskList']['name']}", "swf")
    att = svc.state.poll(key, params.get("identity"), svc.config["poll_hold"],
                         alive=ctx.get("alive"), limit_error=limit)
    if att is None:
        # What SWF answers when the poll times out: no token, startedEventId 0.
        return {"startedEventId": 0}
    s = att.task.spec
    out = {
        "taskToken": att.token,
        "activityId": s["activity_id"],
        "startedEventId": att.started_event_id,
        "workflowExecution": {"workflowId": s["workflow_id"], "runId": s["run_id"]},
        "activityType": {"name": s["activity_type"], "version": s["version"]},
    }
    if s["input"] is not None:
        out["input"] = s["input"]
    return out


def heartbeat(svc, params, ctx):
    cancel = svc.state.swf_heartbeat(params["taskToken"], params.get("details"))
    return {"cancelRequested": bool(cancel)}


def _respond(op, names):
    def handler(svc, params, ctx):
        fields = {n: params.get(n) for n in names}
        svc.state.swf_respond(op, params["taskToken"], fields)
        # These operations have no output shape; the body is left empty
        # (botocore and the C client treat an empty body as {}).
        return None
    return handler


OPERATIONS = {
    "PollForActivityTask": poll,
    "RecordActivityTaskHeartbeat": heartbeat,
    "RespondActivityTaskCompleted": _respond("RespondActivityTaskCompleted", ("result",)),
    "RespondActivityTaskFailed": _respond("RespondActivityTaskFailed", ("reason", "details")),
    "RespondActivityTaskCanceled": _respond("RespondActivityTaskCanceled", ("details",)),
}
