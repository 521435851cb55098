#!/usr/bin/python3
"""make demo: the local activity service, two luaworker workers (SWF and Step
Functions) running examples/, a handful of tasks that complete, fail, report
progress and get cancelled, each outcome printed as it lands, then a clean
shutdown. Exits non-zero if any of that does not happen as described."""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from spec.service.harness import LocalService  # noqa: E402

BIN = os.environ.get("LUAWORKER_BIN", os.path.join(ROOT, "build", "luaworker"))
ARN = "arn:aws:states:us-east-1:123456789012:activity:report"
T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - T0:5.1f}s] {msg}", flush=True)


def start_worker(svc, args, log):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=svc.access_key, AWS_SECRET_ACCESS_KEY=svc.secret_key,
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    argv = [BIN, "run"] + args + ["--endpoint", svc.endpoint, "--heartbeat-interval", "0.5"]
    say("starting: " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in argv[1:]))
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def describe(t):
    if t["service"] == "swf":
        what = f"swf {t['activity_type']:<12} {t['activity_id']}"
        if t["state"] == "completed":
            return what, f"completed  result={t['result']}"
        if t["state"] == "failed":
            return what, f"failed     reason={t['reason']!r} details={t['details']!r}"
        if t["state"] == "canceled":
            return what, f"canceled   details={t['details']!r} (cancel requested mid-run)"
    else:
        what = f"sfn report       {t['activity_id']}"
        if t["state"] == "completed":
            return what, f"succeeded  output={t['output']}"
        if t["state"] == "failed":
            return what, f"failed     error={t['error']!r} cause={t['cause']!r}"
    return what, t["state"]


def main():
    logdir = os.path.join(ROOT, "build", "demo")
    os.makedirs(logdir, exist_ok=True)
    with LocalService(poll_hold=2, log_dir=logdir) as svc:
        say(f"local activity service on {svc.endpoint} (SigV4 checked with botocore)")
        log = open(os.path.join(logdir, "workers.log"), "wb")
        swf = start_worker(svc, [os.path.join(ROOT, "examples", "resize.lua"), "--service", "swf",
                                 "--domain", "demo", "--task-list", "main"], log)
        sfn = start_worker(svc, [os.path.join(ROOT, "examples", "report.lua"), "--service", "sfn",
                                 "--activity-arn", ARN], log)
        c = svc.client
        ids = [
            c.enqueue_swf("ResizeImage", input=json.dumps({"width": 1280, "height": 720})),
            c.enqueue_swf("ResizeImage", input=json.dumps({"width": 4000, "height": 3000, "steps": 8})),
            c.enqueue_swf("ResizeImage", input=json.dumps({"height": 10})),
            c.enqueue_sfn(ARN, input=json.dumps({"rows": 4})),
            c.enqueue_sfn(ARN, input=json.dumps({"rows": 2, "fail": True})),
        ]
        slow = c.enqueue_swf("ResizeImage", heartbeat=30,
                             input=json.dumps({"width": 800, "steps": 50, "step_seconds": 0.2}))
        ids.append(slow)
        say(f"enqueued {len(ids)} tasks; one slow SWF task will be cancelled once it has made progress")
        seen, cancelled = set(), False
        deadline = time.monotonic() + 45
        while len(seen) < len(ids) and time.monotonic() < deadline:
            for tid in ids:
                t = c.task(tid)
                if tid == slow and not cancelled and t["heartbeat_count"] >= 2:
                    say(f"progress of {t['activity_id']}: {t['last_heartbeat_details']!r}; requesting cancellation")
                    c.cancel(tid)
                    cancelled = True
                if tid not in seen and t["state"] in ("completed", "failed", "canceled", "timed_out"):
                    seen.add(tid)
                    what, outcome = describe(t)
                    say(f"{what:<30} {outcome}  heartbeats={t['heartbeat_count']}")
            time.sleep(0.1)
        say("stopping the workers with SIGTERM")
        swf.send_signal(signal.SIGTERM)
        sfn.send_signal(signal.SIGTERM)
        rcs = (swf.wait(timeout=30), sfn.wait(timeout=30))
        reqs = c.requests()
        bad_sig = [r for r in reqs if r.get("verdict") != "ok"]
        tasks = [c.task(i) for i in ids]
    ok = (len(seen) == len(ids) and rcs == (0, 0) and not bad_sig
          and all(t["accepted_responses"] == 1 for t in tasks))
    say(f"workers exited {rcs[0]} and {rcs[1]}; {len(reqs)} requests, "
        f"{len(reqs) - len(bad_sig)} passed the signature check; "
        f"{sum(t['accepted_responses'] for t in tasks)} outcomes recorded for {len(tasks)} tasks")
    say(("demo finished" if ok else "demo FAILED") + f"; worker logs: {os.path.relpath(logdir, ROOT)}/workers.log")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
