#!/usr/bin/python3
"""The reference: an SWF activity worker written the way boto3 users write one.

    /usr/bin/python3 bench/boto3_worker.py --endpoint URL --domain D --task-list L
        [--threads N (10)] [--handler trivial|sleep|heartbeats]
        [--sleep S (30)] [--heartbeat-interval S (10)] [--heartbeats K (1000)]

A thread pool; one boto3 client shared by the threads (boto3 clients are
thread-safe) with read_timeout=70 for the long poll and a connection pool as
large as the thread pool (else urllib3 warns and discards connections); each
thread polls, runs the handler, reports the outcome, and polls again.
SIGTERM/SIGINT: finish the current task, stop polling, exit.
Debian's python3-boto3 on the system interpreter (/usr/bin/python3), with
credentials and region from the environment as usual.

Handlers (the same work the luaworker handlers in bench/handlers/ do):
  trivial     heartbeat once, return a small JSON result
  sleep       heartbeat, then sleep --sleep seconds heartbeating every
              --heartbeat-interval, return a small JSON result
  heartbeats  --heartbeats heartbeats one after the other, then return
"""
import argparse
import json
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--domain", default="bench")
    p.add_argument("--task-list", default="bench")
    p.add_argument("--threads", type=int, default=10)
    p.add_argument("--handler", choices=["trivial", "sleep", "heartbeats"], default="trivial")
    p.add_argument("--sleep", type=float, default=30)
    p.add_argument("--heartbeat-interval", type=float, default=10)
    p.add_argument("--heartbeats", type=int, default=1000)
    a = p.parse_args()

    swf = boto3.client(
        "swf",
        endpoint_url=a.endpoint,
        config=Config(read_timeout=70, max_pool_connections=a.threads),
    )
    identity = f"{socket.gethostname()}:boto3"
    stop = threading.Event()

    def handle(task):
        args = json.loads(task.get("input") or "{}")
        token = task["taskToken"]
        if a.handler == "trivial":
            swf.record_activity_task_heartbeat(taskToken=token)
        elif a.handler == "sleep":
            end = time.monotonic() + a.sleep
            while True:
                swf.record_activity_task_heartbeat(taskToken=token, details="working")
                left = end - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, a.heartbeat_interval))
        elif a.handler == "heartbeats":
            for i in range(a.heartbeats):
                swf.record_activity_task_heartbeat(taskToken=token, details=str(i))
        return {"ok": True, "n": args.get("n")}

    def poll_loop():
        while not stop.is_set():
            task = swf.poll_for_activity_task(domain=a.domain, taskList={"name": a.task_list},
                                              identity=identity)
            token = task.get("taskToken")
            if not token:
                continue
            try:
                result = handle(task)
                swf.respond_activity_task_completed(taskToken=token, result=json.dumps(result))
            except Exception as e:  # noqa: BLE001 - a worker reports every failure
                swf.respond_activity_task_failed(taskToken=token, reason=type(e).__name__[:256],
                                                 details=str(e)[:32768])

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ThreadPoolExecutor(max_workers=a.threads) as pool:
        futures = [pool.submit(poll_loop) for _ in range(a.threads)]
        while not all(f.done() for f in futures):
            time.sleep(0.2)
        for f in futures:
            f.result()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
