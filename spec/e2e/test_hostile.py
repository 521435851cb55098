"""Hostile and bad input at every edge (issue 6, section 5): each gets a
clear error and loses nothing. Handler files that do not load (more cases in
test_cli.py), heartbeat details, reasons and details over the services'
limits, results that are not text, inputs that are not valid UTF-16 or are
as big as the services allow, endpoints that do not resolve, refuse, present
a certificate that does not verify, or answer byte by byte; credentials the
service rejects, that expire for good, or that a credential_process rotates.
Asserted on the service's record and request log, the worker's log and exit
status."""
import json
import os
import re
import socket
import subprocess
import tempfile
import time

from spec.e2e.proxy import Proxy, make_ca_and_cert
from spec.e2e.util import BIN, ROOT, E2ETestCase, LocalService, Worker, scratch_dir, worker_env, write_handlers

ARN = "arn:aws:states:us-east-1:123456789012:activity:hostile"

HANDLERS = r'''
local lw = require "luaworker"
local function sfn(task)        -- Step Functions: one function for the activity
  local ok, v = pcall(task.json, task)
  if task.input == "\"!\"" then error(string.rep("é", 300), 0) end
  if task.input == '"long cause"' then lw.fail("Long", string.rep("€", 40000)) end
  return { len = #task.input, json_ok = ok, code = not ok and v.code or nil }
end
return {
  luaworker = { heartbeat_interval = 0.2 },
  BigBeat = function(task)
    local ok1, e1 = pcall(lw.heartbeat, string.rep("é", 2049))       -- one over: refused
    lw.heartbeat(string.rep("é", 2048))                                -- at the limit
    local ok2, e2 = pcall(lw.heartbeat, "bad \255 bytes")              -- not UTF-8
    lw.sleep(0.3)
    return { over = e1.code, bad = e2.code }
  end,
  BigBeatUncaught = function(task) lw.heartbeat(string.rep("x", 3000)) end,
  LongReason = function(task) error(string.rep("é", 300), 0) end,
  LongDetails = function(task) lw.fail("Long", string.rep("€", 40000)) end,
  NotText = function(task) return "\255\254" end,
  NotJson = function(task) return { f = print } end,
  Echo = function(task) return { len = #task.input, head = task.input:sub(1, 24) } end,
  Json = function(task) return task:json() end,
  Beat = function(task)
    for i = 1, 3 do lw.heartbeat(i); lw.sleep(0.2) end
    return { beats = 3, input = task.input }
  end,
  hostile = sfn,                -- the Step Functions activity's name
}
'''

SWF = ("--service", "swf", "--domain", "demo", "--task-list", "main")
SFN = ("--service", "sfn", "--activity-arn", ARN)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def msgs(worker, msg):
    return [r for r in worker.logs() if r.get("msg") == msg]


class HostileTest(E2ETestCase):
    # ---- what handlers send ---------------------------------------------------

    def test_heartbeat_details_reasons_and_results_over_the_limits(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *SWF) as w, \
                Worker(svc, HANDLERS, *SFN) as w2:
            c = svc.client
            ids = {k: c.enqueue_swf(k) for k in ("BigBeat", "BigBeatUncaught", "LongReason", "LongDetails",
                                                  "NotText", "NotJson")}
            ids["sfn_reason"] = c.enqueue_sfn(ARN, input='"!"')
            ids["sfn_cause"] = c.enqueue_sfn(ARN, input='"long cause"')
            t = {k: c.wait_task(i, timeout=30) for k, i in ids.items()}
            self.assertEqual((w.stop(), w2.stop()), (0, 0))
            reqs = self.assert_signed(svc)
        # the service never saw anything over its limits
        self.assertEqual([r["error"] for r in reqs if r.get("error")], [])
        for v in t.values():
            self.assertEqual(v["accepted_responses"], 1)
        self.assertEqual(t["BigBeat"]["state"], "completed")
        self.assertEqual(json.loads(t["BigBeat"]["result"]), {"over": "DetailsTooLarge", "bad": "InvalidDetails"})
        self.assertEqual(t["BigBeat"]["last_heartbeat_details"], "é" * 2048)
        self.assertEqual((t["BigBeatUncaught"]["state"], t["BigBeatUncaught"]["reason"]),
                         ("failed", "DetailsTooLarge"))
        self.assertIn("3000 characters; swf allows at most 2048", t["BigBeatUncaught"]["details"])
        for reason in (t["LongReason"]["reason"], t["sfn_reason"]["error"]):
            self.assertLessEqual(len(reason), 256)
            self.assertTrue(reason.startswith("éé") and reason.endswith("[truncated]"), reason)
        self.assertIn("é" * 300, t["LongReason"]["details"])        # whole in the details
        for details in (t["LongDetails"]["details"], t["sfn_cause"]["cause"]):
            self.assertLessEqual(len(details), 32768)
            self.assertTrue(details.startswith("€€€") and details.endswith("[truncated]"))
        self.assertEqual((t["NotText"]["state"], t["NotText"]["reason"]), ("failed", "InvalidResult"))
        self.assertIn("not valid UTF-8", t["NotText"]["details"])
        self.assertEqual(t["NotJson"]["reason"], "InvalidResult")
        self.assertIn("cannot be encoded as JSON", t["NotJson"]["details"])
        self.assert_clean(w)
        self.assert_clean(w2)

    def test_inputs_not_valid_utf16_or_as_big_as_allowed(self):
        big = json.dumps({"blob": "é" * ((1 << 19) - 20)}, ensure_ascii=False)   # 1 MiB, the SFN limit
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *SWF) as w, \
                Worker(svc, HANDLERS, *SFN) as w2:
            c = svc.client
            ids = {
                # a Java string may hold an unpaired surrogate; JSON carries it as "\ud800"
                "lone": c.enqueue_swf("Echo", input="bad \ud800 and \udfff alone"),
                "pair": c.enqueue_swf("Echo", input="pair \ud83d\ude00 ok"),
                "nul": c.enqueue_swf("Echo", input="x\u0000y"),
                "swf_max": c.enqueue_swf("Echo", input="\U0001F600" * 16384),   # 32768 UTF-16 units
                "not_json": c.enqueue_swf("Json", input="{not json"),
                "sfn_1mib": c.enqueue_sfn(ARN, input=big),
                "sfn_lone": c.enqueue_sfn(ARN, input='{"s": "\\ud800"}'),
            }
            t = {k: c.wait_task(i, timeout=30) for k, i in ids.items()}
            self.assertEqual((w.stop(), w2.stop()), (0, 0))
        for k, v in t.items():
            self.assertEqual(v["accepted_responses"], 1, k)
        self.assertEqual(json.loads(t["lone"]["result"]),
                         {"len": len("bad \ufffd and \ufffd alone".encode()), "head": "bad \ufffd and \ufffd alone"})
        self.assertEqual(json.loads(t["pair"]["result"])["head"], "pair \U0001F600 ok")
        self.assertEqual(json.loads(t["nul"]["result"]), {"len": 3, "head": "x\u0000y"})
        self.assertEqual(json.loads(t["swf_max"]["result"])["len"], 4 * 16384)
        self.assertEqual((t["not_json"]["state"], t["not_json"]["reason"]), ("failed", "InvalidInput"))
        self.assertIn("not valid JSON", t["not_json"]["details"])
        self.assertEqual(json.loads(t["sfn_1mib"]["output"]), {"len": len(big.encode()), "json_ok": True})
        # inside the input's own JSON the handler decides: task:json() says why it cannot
        self.assertEqual(json.loads(t["sfn_lone"]["output"]), {"len": 15, "json_ok": False, "code": "InvalidInput"})
        self.assert_clean(w)
        self.assert_clean(w2)

    # ---- endpoints ------------------------------------------------------------

    def test_endpoints_that_do_not_resolve_or_refuse(self):
        with LocalService(poll_hold=1) as svc:
            bad = {"HostNotFound": "http://luaworker-no-such-host.invalid",
                   "ConnectionRefused": f"http://127.0.0.1:{free_port()}"}
            workers = {code: Worker(svc, HANDLERS, *SWF, "--endpoint", url).start() for code, url in bad.items()}
            time.sleep(6)
            alive = {code: w.proc.poll() is None for code, w in workers.items()}
            rcs = {code: w.stop() for code, w in workers.items()}
        self.assertEqual(alive, {"HostNotFound": True, "ConnectionRefused": True})
        self.assertEqual(rcs, {"HostNotFound": 0, "ConnectionRefused": 0})
        for code, w in workers.items():
            failures = msgs(w, "poll failed; backing off")
            self.assertTrue(failures, code)
            self.assertEqual({r["error"] for r in failures}, {code})
            self.assertLessEqual(len(failures), 10, code)           # backing off, not spinning
            self.assert_clean(w)

    def test_tls_certificate_that_does_not_verify_is_refused_unless_its_ca_is_given(self):
        d = tempfile.mkdtemp(prefix="lw-tls-", dir=scratch_dir())
        ca, cert, key = make_ca_and_cert(d)
        with LocalService(poll_hold=1) as svc, Proxy(svc.port, tls=(cert, key)) as p:
            for host in ("localhost", "127.0.0.1"):
                url = f"https://{host}:{p.port}"
                w = Worker(svc, HANDLERS, *SWF, "--endpoint", url).start()
                rc = w.wait(timeout=60)
                self.assertEqual(rc, 1, w.text())
                self.assertIn("the endpoint's TLS certificate did not verify; stopping",
                              [r.get("msg") for r in w.logs()])
                last = w.text().strip().splitlines()[-1]
                self.assertRegex(last, r"^luaworker: stopped: TlsError: .*certificate.*AWS_CA_BUNDLE")
            self.assertGreater(p.handshake_failures, 0)
            self.assertEqual(p.forwarded, 0)
            self.assertEqual(svc.client.requests(), [])
            with Worker(svc, HANDLERS, *SWF, "--endpoint", f"https://localhost:{p.port}",
                        env=worker_env(svc, AWS_CA_BUNDLE=ca)) as w:
                tid = svc.client.enqueue_swf("Echo", input="over TLS")
                t = svc.client.wait_task(tid, timeout=30)
                self.assertEqual(w.stop(), 0)
            self.assertGreater(p.forwarded, 0)
            self.assert_signed(svc)
        self.assertEqual(json.loads(t["result"])["head"], "over TLS")
        self.assert_clean(w)

    def test_endpoint_answering_byte_by_byte(self):
        with LocalService(poll_hold=1) as svc, \
                Proxy(svc.port, trickle=0.001,
                      slow_targets={"SimpleWorkflowService.RecordActivityTaskHeartbeat": (0.1, 1)}) as p:
            with Worker(svc, HANDLERS, *SWF, "--endpoint", f"http://127.0.0.1:{p.port}") as w:
                c = svc.client
                ids = [c.enqueue_swf("Beat", input=str(n), heartbeat=60) for n in range(6)]
                t = [c.wait_task(i, timeout=90) for i in ids]
                self.assertEqual(w.stop(), 0)
            reqs = self.assert_signed(svc)
        self.assertEqual([x["state"] for x in t], ["completed"] * 6)
        self.assertEqual([json.loads(x["result"])["input"] for x in t], [str(n) for n in range(6)])
        self.assertEqual([x["accepted_responses"] for x in t], [1] * 6)
        # the first heartbeat's answer took longer than the 10 s timeout: sent again
        by_call = {}
        for r in reqs:
            if r["op"] == "RecordActivityTaskHeartbeat":
                h = {k.lower(): v for k, v in r["headers"].items()}
                by_call.setdefault(h["amz-sdk-invocation-id"], []).append(h["amz-sdk-request"])
        self.assertIn(["attempt=1; max=3", "attempt=2; max=3"], list(by_call.values()))
        self.assert_clean(w)

    # ---- credentials ----------------------------------------------------------

    def test_wrong_credentials_stop_the_worker_with_the_cause(self):
        with LocalService(poll_hold=1) as svc:
            envs = {"InvalidSignatureException": worker_env(svc, AWS_SECRET_ACCESS_KEY="wrong/secret/0123456789"),
                    "UnrecognizedClientException": worker_env(svc, AWS_ACCESS_KEY_ID="AKIDUNKNOWN000000000")}
            workers = {code: Worker(svc, HANDLERS, *SWF, env=env).start() for code, env in envs.items()}
            rcs = {code: w.wait(timeout=60) for code, w in workers.items()}
            reqs = svc.client.requests()
        self.assertEqual(rcs, {code: 1 for code in envs})
        for code, w in workers.items():
            self.assertIn("the service rejected the credentials; stopping", [r.get("msg") for r in w.logs()])
            self.assertRegex(w.text().strip().splitlines()[-1], rf"^luaworker: stopped: {code}: ")
            self.assertNotIn("wrong/secret", w.text())
        # bounded: the polls of the first round, then nothing
        self.assertLessEqual(len(reqs), 2 * 10)
        self.assertEqual({r["error"] for r in reqs}, set(envs))

    def test_session_token_expired_for_good_is_a_clear_error_without_hammering(self):
        akid, secret, token = "AKIDEXPIRING00000001", "expiring/secret/0123456789", "expiring-token-" + "t" * 60
        with LocalService(poll_hold=1) as svc:
            c = svc.client
            c.add_credentials(akid, secret, token=token, expires_at=time.time() + 5)
            env = worker_env(svc, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN=token)
            with Worker(svc, HANDLERS, *SWF, env=env) as w:
                first = c.wait_task(c.enqueue_swf("Echo", input="before"), timeout=20)
                w.wait_log("poll failed: the credentials expired and their source gave no fresh ones; backing off",
                           timeout=30)
                time.sleep(1.5)         # polls the service accepted before the expiry have returned
                t0 = time.time()
                since = c.requests()[-1]["seq"]
                later = c.enqueue_swf("Echo", input="after")
                time.sleep(10)
                rejected = [r for r in c.requests(since=since) if r["error"] == "ExpiredTokenException"]
                self.assertEqual(c.task(later)["state"], "scheduled")     # not taken, not lost
                self.assertIsNone(w.proc.poll())
                self.assertEqual(w.stop(), 0)
        self.assertEqual(first["state"], "completed")
        # about one probe (and its one refresh-and-retry) per backoff step, not a storm
        self.assertLessEqual(len(rejected), 24, f"{len(rejected)} rejected requests in {time.time() - t0:.0f} s")
        errors = [r for r in w.logs() if r.get("level") == "error"]
        self.assertTrue(errors)
        self.assertEqual({r["error"] for r in errors}, {"ExpiredTokenException"})
        self.assertNotIn(token, w.text())
        self.assert_clean(w, allowed=("poll failed: the credentials expired",))

    def test_credential_process_rotates_short_lived_credentials_then_fails_then_recovers(self):
        d = tempfile.mkdtemp(prefix="lw-creds-", dir=scratch_dir())
        plan = os.path.join(d, "plan.json")
        life, step = 12, 4                  # each set lives 12 s; a new one every 4 s
        t0 = time.time()
        sets = [{"akid": "AKIDROTATE%010d" % k, "secret": "rotating/secret/%d/0123456789" % k,
                 "token": "rotating-token-%d-" % k + "r" * 60, "from": t0 + k * step - 1,
                 "expires": int(t0 + k * step + life)} for k in range(60)]
        with open(plan, "w") as f:
            json.dump({"sets": sets}, f)
        config = os.path.join(d, "config")
        with open(config, "w") as f:
            f.write(f"[default]\ncredential_process = /usr/bin/python3 "
                    f"{os.path.join(ROOT, 'spec', 'tools', 'cred_process.py')} {plan}\n")
        with LocalService(poll_hold=1) as svc:
            c = svc.client
            for s in sets:
                c.add_credentials(s["akid"], s["secret"], token=s["token"], expires_at=s["expires"])
            env = worker_env(svc, AWS_CONFIG_FILE=config)
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                env.pop(k, None)
            with Worker(svc, HANDLERS, *SWF, env=env) as w:
                # 1. rotation: work goes on for 20 s across several short-lived sets
                ids = []
                for _ in range(20):
                    ids.append(c.enqueue_swf("Echo", input="rotating"))
                    time.sleep(1)
                rotated = [c.wait_task(i, timeout=30) for i in ids]
                reqs = c.requests()
                with open(plan + ".calls") as f:
                    rotation_calls = sum(1 for _ in f)
                # 2. the helper breaks: once the last set expires, a clear error
                open(plan + ".broken", "w").close()
                w.wait_log("poll failed: no usable AWS credentials; backing off", timeout=60)
                time.sleep(1.5)         # polls the service accepted before the expiry have returned
                waiting = c.enqueue_swf("Echo", input="waits for credentials")
                time.sleep(8)
                self.assertEqual(c.task(waiting)["state"], "scheduled")
                with open(plan + ".calls") as f:
                    broken_calls = sum(1 for line in f if line.split()[1] == "broken")
                # 3. it comes back: the waiting task runs
                os.remove(plan + ".broken")
                recovered = c.wait_task(waiting, timeout=150)
                self.assertEqual(w.stop(), 0)
        self.assertEqual([t["state"] for t in rotated], ["completed"] * 20)
        # refreshed before each set expired: every request accepted, several sets used
        self.assertEqual([r.get("error") for r in reqs if r["verdict"] != "ok"], [])
        used = {r["access_key"] for r in reqs}
        self.assertGreaterEqual(len(used), 3, used)
        self.assertLessEqual(rotation_calls, 10)                    # about one per half life
        self.assertLessEqual(broken_calls, 8)                       # the helper is not hammered
        self.assertEqual(recovered["state"], "completed")
        errors = [r for r in w.logs() if r.get("level") == "error"]
        self.assertEqual({r["error"] for r in errors}, {"CredentialProcessError"})
        self.assertTrue(all("cannot reach the identity broker" in r["message"] for r in errors))
        for s in sets:
            self.assertNotIn(s["secret"], w.text())
            self.assertNotIn(s["token"], w.text())
        self.assert_clean(w, allowed=("poll failed: no usable AWS credentials",))

    # ---- handler files ----------------------------------------------------------

    def test_handler_table_with_a_bad_entry(self):
        bad = write_handlers('return { Echo = function(t) end, Broken = "not a function" }')
        with LocalService(poll_hold=1) as svc:
            p = subprocess.run([BIN, "run", bad, *SWF, "--endpoint", svc.endpoint], env=worker_env(svc),
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(re.search(r'handler "Broken" must be a function or a table with a handler function',
                                      p.stderr), p.stderr)
            self.assertEqual(svc.client.requests(), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
