"""Step Functions activity-worker operations: GetActivityTask, SendTaskHeartbeat,
SendTaskSuccess, SendTaskFailure. Parameters were validated against the model
(lengths of output/input in UTF-8 bytes) by validate.py.
"""
import json
import re

from .errors import ApiError

_ACTIVITY_ARN = re.compile(r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:activity:[^:\s]{1,80}")


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _check_output(fields):
    try:
        json.loads(fields["output"], parse_constant=_reject_constant)
    except ValueError as e:
        raise ApiError("InvalidOutput", f"Invalid Output: '{e}'", "sfn")


def get_activity_task(svc, params, ctx):
    arn = params["activityArn"]
    if not _ACTIVITY_ARN.fullmatch(arn):
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'", "sfn")
    known = svc.config.get("known_activities")
    if known is not None and arn not in known:
        raise ApiError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'", "sfn")
    limit = ApiError("ActivityWorkerLimitExceeded",
                     f"Activity Worker Limit Exceeded: '{arn}'", "sfn")
    att = svc.state.poll(f"sfn:{arn}", params.get("workerName"), svc.config["poll_hold"],
                         alive=ctx.get("alive"), limit_error=limit)
    if att is None:
        # No task within the hold: the documented answer is a null token; the
        # members are simply absent here (botocore drops nulls either way).
        return {}
    out = {"taskToken": att.token}
    if att.task.spec["input"] is not None:
        out["input"] = att.task.spec["input"]
    return out


def send_task_heartbeat(svc, params, ctx):
    svc.state.sfn_heartbeat(params["taskToken"])
    return {}


def send_task_success(svc, params, ctx):
    # The token is checked first (InvalidToken / TaskTimedOut), then the output
    # (InvalidOutput), so a late answer reports the dead task whatever it carries.
    svc.state.sfn_respond("SendTaskSuccess", params["taskToken"], {"output": params["output"]},
                          check=_check_output)
    return {}


def send_task_failure(svc, params, ctx):
    svc.state.sfn_respond("SendTaskFailure", params["taskToken"],
                          {"error": params.get("error"), "cause": params.get("cause")})
    return {}


OPERATIONS = {
    "GetActivityTask": get_activity_task,
    "SendTaskHeartbeat": send_task_heartbeat,
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
}
