"""Worker and service outages (issue 6, section 2): a worker killed with
SIGKILL mid-run loses nothing (the service times its tasks out and a new
worker runs them from new polls); a service unreachable for 30 s is waited
out with bounded, jittered backoff and no busy loop, and the worker resumes
by itself when it is back."""
import json
import os
import signal
import time

from spec.e2e.util import E2ETestCase, LocalService, Worker

HANDLERS = r'''
local lw = require "luaworker"
return {
  Work = function(task)
    local a = task:json()
    for i = 1, a.steps do lw.heartbeat({ step = i }); lw.sleep(0.25) end
    return { n = a.n }
  end,
}
'''


def swf_args(*extra):
    return ("--service", "swf", "--domain", "demo", "--task-list", "main", "--heartbeat-interval", "0.5") + extra


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OutageTest(E2ETestCase):
    def test_sigkill_mid_run_loses_nothing(self):
        with LocalService(poll_hold=1) as svc:
            c = svc.client
            c.configure(detect_disconnect=True)      # a dead worker's polls take no task
            ids = [c.enqueue_swf("Work", input=json.dumps({"n": n, "steps": 12}), heartbeat=2,
                                 retry_on_timeout=2) for n in range(60)]
            first = Worker(svc, HANDLERS, *swf_args("--identity", "first", "--max-concurrent", "20"))
            first.start()
            try:
                end = time.monotonic() + 30
                while time.monotonic() < end:
                    tasks = [c.task(i) for i in ids]
                    hb = [t for t in tasks if t["state"] == "started" and t["attempts"][-1]["heartbeat_count"] > 1]
                    if len(hb) >= 15:
                        break
                    time.sleep(0.1)
                first.proc.send_signal(signal.SIGKILL)
                first.proc.wait(timeout=10)
                killed_at = time.time()
                time.sleep(0.5)                     # requests it sent before dying are applied
            finally:
                if first.proc.poll() is None:
                    first.proc.kill()
            at_kill = {t["id"] for t in (c.task(i) for i in ids)
                       if t["state"] == "started" and t["attempts"][-1]["worker_identity"] == "first"}
            self.assertGreaterEqual(len(at_kill), 15)
            with Worker(svc, HANDLERS, *swf_args("--identity", "second", "--max-concurrent", "20")) as second:
                c.wait_all(timeout=120)
                tasks = {i: c.task(i) for i in ids}
                self.assertEqual(second.stop(), 0)
            self.assert_signed(svc)
        for tid, t in tasks.items():
            self.assertEqual((t["state"], t["accepted_responses"]), ("completed", 1), tid)
            self.assertEqual(json.loads(t["result"])["n"], ids.index(tid))
            if tid in at_kill:
                self.assertEqual(t["attempts"][-1]["worker_identity"], "second", tid)
            for a in t["attempts"][:-1]:
                # every earlier attempt was the killed worker's, timed out by the service
                self.assertEqual((a["state"], a["timeout_type"], a["worker_identity"]),
                                 ("timed_out", "HEARTBEAT", "first"), tid)
                self.assertLess(a["started_at"], killed_at)
        retried = {tid for tid, t in tasks.items() if len(t["attempts"]) > 1}
        self.assertEqual(retried, at_kill)
        self.assert_clean(second)

    def test_service_unreachable_30s_backoff_then_recovery(self):
        # two workers ride out the same outage: each backs off on its own
        svc = LocalService(poll_hold=1).start()
        port = svc.port
        workers = [Worker(svc, HANDLERS, *swf_args("--identity", name)) for name in ("w1", "w2")]
        try:
            for w in workers:
                w.start()
            ids = [svc.client.enqueue_swf("Work", input=json.dumps({"n": n, "steps": 1})) for n in range(4)]
            for i in ids:
                self.assertEqual(svc.client.wait_task(i, timeout=30)["state"], "completed")
            svc.stop()                          # open polls answered empty, then refused
            down_at = time.monotonic()
            cpu0 = [cpu_seconds(w.proc.pid) for w in workers]
            time.sleep(30)
            cpu = [cpu_seconds(w.proc.pid) - c0 for w, c0 in zip(workers, cpu0)]
            n_logs = [len(w.logs()) for w in workers]
            svc = LocalService(poll_hold=1, port=port).start()
            up_at = time.monotonic()
            ids = [svc.client.enqueue_swf("Work", input=json.dumps({"n": n, "steps": 1})) for n in range(10)]
            done = [svc.client.wait_task(i, timeout=90) for i in ids]
            # both poll again by themselves, each after at most one capped backoff
            while time.monotonic() - up_at < 60:
                stats = svc.client.stats()["by_identity"]
                if "w1" in stats and "w2" in stats:
                    break
                time.sleep(0.2)
            recovered_in = time.monotonic() - up_at
            for w in workers:
                self.assertIsNone(w.proc.poll())
            self.assertEqual([w.stop() for w in workers], [0, 0])
        finally:
            for w in workers:
                if w.proc and w.proc.poll() is None:
                    w.proc.kill()
            svc.stop()
        self.assertEqual([t["state"] for t in done], ["completed"] * 10)
        self.assertEqual(sorted(k for k in stats if k), ["w1", "w2"])   # both polled again
        delays = []
        for w, n in zip(workers, n_logs):
            failures = [r for r in w.logs()[:n] if r.get("msg") == "poll failed; backing off"]
            self.assertTrue(failures, "no poll failure logged during the outage")
            self.assertEqual({r["error"] for r in failures}, {"ConnectionRefused"})
            d = [r["retry_in"] for r in failures]
            # bounded: one probe at a time, spaced by a capped exponential backoff
            # (about 0.2 * 2^n s, jittered down to a tenth, at most 30 s)
            self.assertLessEqual(len(d), 14, d)
            self.assertTrue(all(0 < x <= 30 for x in d), d)
            self.assertLessEqual(sum(d[:-1]), 31, d)
            delays.append(d)
            self.assert_clean(w)
        # jittered: the two workers do not retry in step
        n = min(len(delays[0]), len(delays[1]))
        self.assertNotEqual([round(x, 3) for x in delays[0][:n]], [round(x, 3) for x in delays[1][:n]])
        # no busy loop: the workers slept through the outage
        self.assertLess(max(cpu), 1.0, f"CPU seconds while the service was down: {cpu}")
        # and they came back by themselves within one capped backoff
        self.assertLess(recovered_in, 60)
        print(f"\noutage: 30 s down; failed polls per worker {[len(d) for d in delays]}, delays "
              f"{[[round(x, 1) for x in d] for d in delays]}; recovered {recovered_in:.1f} s after the "
              f"service came back; CPU {[round(c, 2) for c in cpu]} s", flush=True)


if __name__ == "__main__":
    import unittest
    unittest.main()
