"""The command line: port line and port file, request log lines, credentials
and region options, clean exit on SIGTERM with polls open."""
import os
import subprocess
import tempfile
import threading
import time
import unittest

from spec.service.harness import LocalService
from spec.service.tests.util import boto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class CommandLineTest(unittest.TestCase):
    def test_sigterm_with_open_polls_exits_cleanly(self):
        svc = LocalService(poll_hold=30).start()
        try:
            swf = boto(svc, "swf", pool=5)
            out = []
            threads = [threading.Thread(target=lambda: out.append(
                swf.poll_for_activity_task(domain="demo", taskList={"name": "main"}))) for _ in range(3)]
            for t in threads:
                t.start()
            svc.client.wait_polls(3, timeout=10)
            t0 = time.monotonic()
        finally:
            rc = svc.stop()
        for t in threads:
            t.join(10)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual([r.get("taskToken") for r in out], [None] * 3)     # answered empty
        log = svc.log_text()
        self.assertNotIn("Traceback", log)
        self.assertIn("shutdown", log)
        self.assertIn("SimpleWorkflowService.PollForActivityTask 200 - sig=ok fault=-", log)

    def test_port_file_and_quiet(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "port")
            with LocalService(port_file=path, quiet=True) as svc:
                with open(path) as f:
                    self.assertEqual(int(f.read()), svc.port)
                swf = boto(svc, "swf")
                with self.assertRaises(swf.exceptions.UnknownResourceFault):
                    swf.record_activity_task_heartbeat(taskToken="t")
                svc.client.health()
            self.assertEqual(svc.returncode, 0)
            self.assertEqual(svc.log_text(), "")

    def test_credentials_and_region_options(self):
        opts = {"credentials": ["AKIDONE:secret-one", "ASIATWO:secret-two:token-two"], "region": "eu-west-1"}
        with LocalService(**opts) as svc:
            self.assertEqual((svc.access_key, svc.region), ("AKIDONE", "eu-west-1"))
            one = boto(svc, "stepfunctions")
            two = boto(svc, "stepfunctions", akid="ASIATWO", secret="secret-two", token="token-two")
            default = boto(svc, "stepfunctions", akid="AKIDLOCALSERVICE",
                           secret="local/service/secret/key/EXAMPLE+0123456789")
            for c in (one, two):
                with self.assertRaises(c.exceptions.InvalidToken):
                    c.send_task_heartbeat(taskToken="t")
            with self.assertRaises(default.exceptions.ClientError) as cm:
                default.send_task_heartbeat(taskToken="t")
            self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def test_port_line_is_the_only_stdout(self):
        p = subprocess.Popen(["/usr/bin/python3", "spec/service/server.py", "--port", "0", "--quiet"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = p.stdout.readline().decode()
        self.assertRegex(line, r"^port \d+\n$")
        p.terminate()
        out, err = p.communicate(timeout=10)
        self.assertEqual((p.returncode, out, err), (0, b"", b""))

    def test_client_command_line(self):
        with LocalService() as svc:
            argv = ["/usr/bin/python3", "spec/service/client.py", svc.endpoint, "enqueue_swf",
                    "activity_type=echo", 'input={"x": 1}']
            r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            tid = r.stdout.strip().strip('"')
            self.assertEqual(svc.client.task(tid)["input"], '{"x": 1}')
