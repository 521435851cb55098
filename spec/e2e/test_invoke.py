"""`luaworker invoke` on the handlers in examples/: completed, failed,
canceled and heartbeat-timeout outcomes, in text and --json modes, with the
exit statuses --help and the man page document (0 completed, 1 failed,
3 canceled, 4 timed out). No service: invoke runs the real runtime against
its in-process stand-in."""
import json
import os
import re
import subprocess
import unittest

from spec.e2e.util import BIN, ROOT

RESIZE = os.path.join(ROOT, "examples", "resize.lua")
REPORT = os.path.join(ROOT, "examples", "report.lua")
CRUNCH = os.path.join(ROOT, "examples", "crunch.lua")
MAN = os.path.join(ROOT, "doc", "luaworker.1")

# name -> (handler file, arguments, expected exit status)
CASES = {
    "completed": (RESIZE, ["--input", '{"width":1280,"height":720,"steps":2,"step_seconds":0.05}'], 0),
    "completed_sfn": (REPORT, ["--service", "sfn", "--input", '{"rows":2,"row_seconds":0.05}'], 0),
    "failed": (RESIZE, ["--input", '{"width":"wide"}'], 1),
    "failed_sfn": (REPORT, ["--service", "sfn", "--input", '{"rows":1,"row_seconds":0.05,"fail":true}'], 1),
    # resize.lua heartbeats at most every 2 s: the 2nd heartbeat (at 2 s) is answered "cancel".
    "canceled": (RESIZE, ["--input", '{"width":10,"steps":50,"step_seconds":0.1}', "--cancel-at-heartbeat", "2"], 3),
    "canceled_after": (RESIZE, ["--input", '{"width":10,"steps":50,"step_seconds":0.1}', "--cancel-after", "0.5"], 3),
    # a 1 s chunk of pure-Lua work without a heartbeat, against a 0.3 s heartbeat timeout
    "timed_out": (CRUNCH, ["--input", '{"chunks":2,"chunk_seconds":1}', "--heartbeat-timeout", "0.3"], 4),
}


class InvokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """Run every case in both modes at once (they mostly sleep)."""
        procs = {}
        for name, (path, args, _) in CASES.items():
            for mode in ("text", "json"):
                argv = [BIN, "invoke", path, *args] + (["--json"] if mode == "json" else [])
                procs[name, mode] = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, text=True)
        cls.results = {}
        for key, p in procs.items():
            out, err = p.communicate(timeout=60)
            cls.results[key] = (p.returncode, out, err)

    def text(self, name):
        rc, out, err = self.results[name, "text"]
        self.assertEqual(rc, CASES[name][2], f"{name}: exit status {rc}\n{out}\n{err}")
        self.assertNotIn("level=error", err)
        return out.splitlines()

    def events(self, name):
        rc, out, err = self.results[name, "json"]
        self.assertEqual(rc, CASES[name][2], f"{name} --json: exit status {rc}\n{out}\n{err}")
        self.assertNotIn("level=error", err)
        evs = [json.loads(line) for line in out.splitlines()]   # every line is JSON
        self.assertTrue(evs, f"{name}: no events")
        self.assertEqual(evs[-1]["event"], "outcome", evs)
        self.assertEqual([e for e in evs if e["event"] == "outcome"], [evs[-1]], "one outcome, last")
        heartbeats = [e for e in evs if e["event"] == "heartbeat"]
        self.assertEqual([e["n"] for e in heartbeats], list(range(1, len(heartbeats) + 1)))
        ats = [e["at"] for e in evs]
        self.assertEqual(ats, sorted(ats), "events in time order")
        return evs, heartbeats, evs[-1]

    def test_completed(self):
        lines = self.text("completed")
        self.assertRegex(lines[0], r"^\[\s*\d+\.\d{3}s\] heartbeat 1: 50%$")
        self.assertEqual(lines[-1], 'completed: {"height":360,"width":640}')
        evs, hbs, out = self.events("completed")
        self.assertEqual(out["outcome"], "completed")
        self.assertEqual(json.loads(out["result"]), {"width": 640, "height": 360})
        self.assertEqual(hbs[0]["details"], "50%")
        self.assertEqual(hbs[-1]["details"], "100%")      # the last details reach the service first
        self.assertTrue(all(h["answer"] == "ok" for h in hbs))

    def test_completed_step_functions(self):
        self.assertEqual(self.text("completed_sfn")[-1], 'completed: {"rows":2,"total":3}')
        _, hbs, out = self.events("completed_sfn")
        self.assertEqual(json.loads(out["result"]), {"rows": 2, "total": 3})
        self.assertTrue(hbs)
        self.assertTrue(all("details" not in h for h in hbs))   # Step Functions heartbeats carry none

    def test_failed(self):
        lines = self.text("failed")
        self.assertEqual(lines, ["failed: BadInput", "input needs a numeric width, got wide"])
        _, _, out = self.events("failed")
        self.assertEqual(out["outcome"], "failed")
        self.assertEqual(out["reason"], "BadInput")
        self.assertEqual(out["details"], "input needs a numeric width, got wide")
        lines = self.text("failed_sfn")
        self.assertEqual(lines[-2:], ["failed: Report.Invalid", "asked to fail after 1 rows"])
        _, _, out = self.events("failed_sfn")
        self.assertEqual(out["reason"], "Report.Invalid")

    def test_canceled(self):
        lines = self.text("canceled")
        self.assertRegex(lines[1], r"^\[\s*[12]\.\d{3}s\] heartbeat 2: \d+% -> cancel$")
        self.assertRegex(lines[-1], r"^canceled: \d+%$")
        for name in ("canceled", "canceled_after"):
            _, hbs, out = self.events(name)
            self.assertEqual(out["outcome"], "canceled")
            self.assertEqual([h["answer"] for h in hbs], ["ok", "cancel"])
            self.assertEqual(out["details"], hbs[-1]["details"])    # the last details go with the cancel
            self.assertLess(out["at"], 4)                           # well before the 5 s the work takes

    def test_heartbeat_timeout(self):
        lines = self.text("timed_out")
        self.assertEqual(lines[0][lines[0].index("]") + 2:], "heartbeat 1: chunk 1 of 2")
        self.assertRegex(lines[1], r"^\[\s*0\.\d{3}s\] the service timed the task out \(HEARTBEAT\)$")
        self.assertEqual(lines[-1], "timed out (HEARTBEAT), last details: chunk 1 of 2")
        evs, hbs, out = self.events("timed_out")
        timeouts = [e for e in evs if e["event"] == "timed_out"]
        self.assertEqual(len(timeouts), 1)
        self.assertEqual(timeouts[0]["timeout_type"], "HEARTBEAT")
        self.assertEqual(timeouts[0]["details"], "chunk 1 of 2")
        self.assertGreaterEqual(timeouts[0]["at"], 0.3)
        self.assertLess(timeouts[0]["at"], 1.0)                   # while the handler was still busy
        self.assertEqual(out["outcome"], "timed_out")
        self.assertEqual(out["timeout_type"], "HEARTBEAT")
        self.assertEqual(len(hbs), 1)

    def test_exit_statuses_are_documented(self):
        p = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        help_text = " ".join(p.stdout.split())
        self.assertIn("invoke: 0 completed, 1 failed, 3 canceled, 4 timed out or gone, 2 bad usage", help_text)
        with open(MAN) as f:
            man = f.read()
        section = man[man.index(".SS invoke\n", man.index(".SH EXIT STATUS")):man.index(".SH FILES")]
        documented = dict(re.findall(r"^\.B (\d)\n(.+)$", section, re.M))
        self.assertEqual(documented["0"], "The task completed.")
        self.assertEqual(documented["1"], "The task failed.")
        self.assertEqual(documented["2"], "Bad usage.")
        self.assertEqual(documented["3"], "The task was canceled.")
        self.assertRegex(documented["4"], r"^The task timed out")
