"""The luaworker command's bad-input paths: one clear line, exit status 2,
and nothing sent to the service."""
import subprocess

from spec.e2e.util import BIN, E2ETestCase, LocalService, Worker, worker_env, write_handlers

GOOD = 'return { Echo = function(t) return t.input end }'


class CliTest(E2ETestCase):
    def run_cli(self, svc, *args):
        p = subprocess.run([BIN, *args], env=worker_env(svc), capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def check_usage_error(self, svc, args, pattern):
        rc, out, err = self.run_cli(svc, *args)
        self.assertEqual(rc, 2, f"exit status for {args}: {rc}\n{err}")
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"want one line for {args}, got:\n{err}")
        self.assertRegex(lines[0], pattern)

    def test_bad_input_is_one_line_exit_2_and_no_request(self):
        good = write_handlers(GOOD)
        syntax = write_handlers("return { Echo = function(t) return end end")
        wrong = write_handlers("return 42")
        empty = write_handlers("return {}")
        raises = write_handlers('error("no config")')
        with LocalService(poll_hold=1) as svc:
            base = ["--service", "swf", "--domain", "d", "--task-list", "l", "--endpoint", svc.endpoint]
            self.check_usage_error(svc, ["run", good, "--bogus"] + base, r"unknown option --bogus")
            self.check_usage_error(svc, ["run", "/nonexistent/h.lua"] + base, r"cannot open handler file")
            self.check_usage_error(svc, ["run", syntax] + base, r"handlers\.lua:1: .*near")
            self.check_usage_error(svc, ["run", wrong] + base, r"must return a function or a table.*number")
            self.check_usage_error(svc, ["run", empty] + base, r"no handlers")
            self.check_usage_error(svc, ["run", raises] + base, r"failed while loading.*no config")
            self.check_usage_error(svc, ["run", good, "--max-concurrent", "many"] + base,
                                   r"--max-concurrent must be a whole number")
            self.check_usage_error(svc, ["run", good, "--service", "sqs"], r"--service must be swf or sfn")
            self.check_usage_error(svc, ["run", good, "--service", "swf"], r"SWF needs --domain and --task-list")
            self.check_usage_error(svc, ["run", good, "--service", "sfn"], r"needs --activity-arn")
            self.check_usage_error(svc, ["run", good, "--log-format", "xml"] + base, r"log format")
            self.check_usage_error(svc, ["frobnicate"], r"unknown command")
            self.assertEqual(svc.client.requests(), [])

    def test_help_and_version(self):
        with LocalService(poll_hold=1) as svc:
            rc, out, _ = self.run_cli(svc, "--help")
            self.assertEqual(rc, 0)
            self.assertIn("luaworker run HANDLERS.lua", out)
            self.assertIn("Exit status", out)
            rc, out, _ = self.run_cli(svc, "--version")
            self.assertEqual(rc, 0)
            self.assertRegex(out, r"^luaworker \d+\.\d+\.\d+")

    def test_settings_from_environment_and_handler_file(self):
        handlers = write_handlers('''
return {
  luaworker = { service = "swf", domain = "demo", task_list = "from-file" },
  Echo = function(t) return "ok" end,
}''')
        with LocalService(poll_hold=1) as svc:
            env = worker_env(svc, LUAWORKER_TASK_LIST="main")      # environment beats the file
            p = subprocess.Popen([BIN, "run", handlers, "--endpoint", svc.endpoint, "--log-format", "json"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                tid = svc.client.enqueue_swf("Echo", task_list="main")
                self.assertEqual(svc.client.wait_task(tid, timeout=20)["result"], "ok")
            finally:
                p.terminate()
                _, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, 0, err)

    def test_memory_limit_from_the_handler_file_is_in_mib(self):
        handlers = write_handlers('''
return {
  luaworker = { service = "swf", domain = "demo", task_list = "main", memory_limit = 16 },
  Echo = function(t) return "ok" end,
  Hog = function(t) return #string.rep("x", 64 << 20) end,
}''')
        with LocalService(poll_hold=1) as svc, Worker(svc, handlers) as w:
            echo = svc.client.enqueue_swf("Echo")
            hog = svc.client.enqueue_swf("Hog")
            self.assertEqual(svc.client.wait_task(echo, timeout=20)["result"], "ok")   # 16 MiB, not 16 bytes
            self.assertEqual(svc.client.wait_task(hog, timeout=20)["reason"], "MemoryLimit")
            self.assertEqual(w.stop(), 0)
