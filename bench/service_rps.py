#!/usr/bin/python3
"""Requests per second of the local activity service (spec/service) on loopback,
with hundreds of long polls held open the whole time.

    /usr/bin/python3 bench/service_rps.py [--held 300] [--conns 32] [--procs 2]
        [--seconds 10] [--sign-each] [--log]

1. starts spec/service/server.py (quiet unless --log) with a 60 s poll hold;
2. opens --held raw connections, each with a signed PollForActivityTask on a
   task list that gets no work, and waits until the service holds them all;
3. starts a few tasks (SWF and Step Functions) and, from --procs processes with
   --conns keep-alive connections in all, sends signed heartbeats for them
   (alternating RecordActivityTaskHeartbeat / SendTaskHeartbeat) as fast as the
   answers come, for --seconds; every answer must be HTTP 200;
4. checks the held polls were still held at the end, then gives each of them a
   task and checks every one was answered with a token.

Requests are signed by botocore (SigV4Auth): once per connection by default
(the signature stays valid for 5 minutes), or before every request with
--sign-each (then the client's signing cost is part of what is measured, on
the same two cores). Prints one summary line and a JSON line. Not a test: no
thresholds here.
"""
import argparse
import json
import multiprocessing
import os
import socket
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from spec.service.harness import LocalService  # noqa: E402

ARN = "arn:aws:states:us-east-1:123456789012:activity:bench"


def signed_bytes(port, akid, secret, target, params):
    body = json.dumps(params).encode()
    req = AWSRequest("POST", f"http://127.0.0.1:{port}/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
    SigV4Auth(Credentials(akid, secret), "swf" if target.startswith("Simple") else "states",
              "us-east-1").add_auth(req)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    head += f"Host: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def read_response(f):
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, f.read(length)


def load_proc(port, akid, secret, calls, conns, seconds, sign_each, start_at, out):
    count, errors = [0], []
    lock = threading.Lock()

    def conn_loop(k):
        target, params = calls[k % len(calls)]
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        req = signed_bytes(port, akid, secret, target, params)
        n = 0
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            if sign_each:
                req = signed_bytes(port, akid, secret, target, params)
            s.sendall(req)
            status, body = read_response(f)
            if status != 200:
                with lock:
                    errors.append((status, body[:200].decode(errors="replace")))
                break
            n += 1
        s.close()
        with lock:
            count[0] += n

    threads = [threading.Thread(target=conn_loop, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((count[0], errors))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--held", type=int, default=300)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--sign-each", action="store_true")
    p.add_argument("--log", action="store_true", help="let the service log every request to its log file")
    a = p.parse_args()

    opts = {"poll_hold": 60}
    if not a.log:
        opts["quiet"] = True
    with LocalService(**opts) as svc:
        c = svc.client
        akid, secret = svc.access_key, svc.secret_key
        held = []
        poll = signed_bytes(svc.port, akid, secret, "SimpleWorkflowService.PollForActivityTask",
                            {"domain": "bench", "taskList": {"name": "idle"}, "identity": "held"})
        for _ in range(a.held):
            s = socket.create_connection(("127.0.0.1", svc.port))
            s.sendall(poll)
            held.append(s)
        c.wait_polls(a.held, timeout=60, queue="swf:bench/idle")

        # Tasks to heartbeat: started through the API like a worker would.
        calls = []
        for i in range(4):
            c.enqueue_swf("bench", domain="bench", task_list="busy", heartbeat=600)
            req = signed_bytes(svc.port, akid, secret, "SimpleWorkflowService.PollForActivityTask",
                               {"domain": "bench", "taskList": {"name": "busy"}, "identity": "bench"})
            c.enqueue_sfn(ARN, heartbeat_seconds=600)
            sreq = signed_bytes(svc.port, akid, secret, "AWSStepFunctions.GetActivityTask",
                                {"activityArn": ARN, "workerName": "bench"})
            for r, kind in ((req, "swf"), (sreq, "sfn")):
                s = socket.create_connection(("127.0.0.1", svc.port))
                s.sendall(r)
                status, body = read_response(s.makefile("rb"))
                s.close()
                tok = json.loads(body)["taskToken"]
                if kind == "swf":
                    calls.append(("SimpleWorkflowService.RecordActivityTaskHeartbeat",
                                  {"taskToken": tok, "details": f"progress {i}"}))
                else:
                    calls.append(("AWSStepFunctions.SendTaskHeartbeat", {"taskToken": tok}))

        q = multiprocessing.Queue()
        start_at = time.time() + 1.0
        per = [a.conns // a.procs + (1 if i < a.conns % a.procs else 0) for i in range(a.procs)]
        procs = [multiprocessing.Process(target=load_proc, args=(svc.port, akid, secret, calls, n,
                                                                 a.seconds, a.sign_each, start_at, q))
                 for n in per]
        for pr in procs:
            pr.start()
        results = [q.get() for _ in procs]
        for pr in procs:
            pr.join()
        total = sum(r[0] for r in results)
        errors = [e for r in results for e in r[1]]
        stats = c.stats()
        still_held = stats["polls"]["by_queue"]["swf:bench/idle"]["current"]

        # Every held poll is answered once work arrives.
        for _ in range(a.held):
            c.enqueue_swf("late", domain="bench", task_list="idle")
        answered = 0
        for s in held:
            s.settimeout(30)
            status, body = read_response(s.makefile("rb"))
            answered += status == 200 and "taskToken" in json.loads(body)
            s.close()

    rps = total / a.seconds
    print(f"{rps:.0f} requests/s over {a.seconds:g} s ({total} requests, {a.conns} keep-alive "
          f"connections in {a.procs} processes, signing {'each request' if a.sign_each else 'once per connection'}, "
          f"service logging {'on' if a.log else 'off'}); {still_held}/{a.held} polls held throughout, "
          f"{answered}/{a.held} answered with a task afterwards; errors: {len(errors)}")
    print(json.dumps({"rps": round(rps), "requests": total, "seconds": a.seconds, "conns": a.conns,
                      "procs": a.procs, "sign_each": a.sign_each, "log": a.log, "held": a.held,
                      "held_at_end": still_held, "answered": answered, "errors": errors[:5]}))
    return 0 if not errors and still_held == a.held and answered == a.held else 1


if __name__ == "__main__":
    sys.exit(main())
