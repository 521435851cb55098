"""Hundreds of long polls held at once, poll limits, dead pollers, stats."""
import socket
import threading
import time

from spec.service.tests.util import ARN, ServiceCase, boto, sign

N = 300


class ManyPollsTest(ServiceCase):
    server_opts = {"poll_hold": 30}

    def test_hundreds_of_polls_held_and_all_answered(self):
        swf = boto(self.svc, "swf", pool=N)
        results, errors = [None] * N, []

        def poll(i):
            try:
                results[i] = swf.poll_for_activity_task(domain="demo", taskList={"name": "many"},
                                                        identity=f"w{i % 10}")
            except Exception as e:          # reported below
                errors.append(e)
        threads = [threading.Thread(target=poll, args=(i,)) for i in range(N)]
        for t in threads:
            t.start()
        self.client.wait_polls(N, timeout=60, queue="swf:demo/many")
        st = self.client.stats()
        self.assertEqual(st["polls"]["current"], N)
        self.assertEqual(st["by_identity"]["w3"]["polls"], N // 10)
        ids = [self.client.enqueue_swf("job", task_list="many", input=str(i)) for i in range(N)]
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        tokens = {r["taskToken"] for r in results if r and r.get("taskToken")}
        self.assertEqual(len(tokens), N)                      # every poll got its own task
        self.assertEqual(sorted(r["input"] for r in results), sorted(str(i) for i in range(N)))
        st = self.client.stats()
        self.assertEqual((st["polls"]["current"], st["polls"]["max"]), (0, N))
        self.assertEqual((st["in_flight"]["current"], st["in_flight"]["max"]), (N, N))
        self.assertEqual(st["by_identity"]["w3"]["max_combined"], N // 10)
        self.assertEqual(st["max_combined"], N)
        for r in results:
            swf.respond_activity_task_completed(taskToken=r["taskToken"])
        self.assertTrue(all(t["state"] == "completed" for t in self.client.wait_all(timeout=10)))
        self.assertEqual(len(ids), N)
        self.assertEqual(self.client.stats()["in_flight"]["current"], 0)

    def test_poller_limit(self):
        self.client.configure(max_pollers=3, poll_hold=10)
        sfn = boto(self.svc, "stepfunctions", pool=5)
        swf = boto(self.svc, "swf", pool=5)
        threads = [threading.Thread(target=lambda: sfn.get_activity_task(activityArn=ARN)) for _ in range(3)]
        threads += [threading.Thread(target=lambda: swf.poll_for_activity_task(
            domain="demo", taskList={"name": "x"})) for _ in range(3)]
        for t in threads:
            t.start()
        self.client.wait_polls(6, timeout=10)
        self.assertAwsError(lambda: sfn.get_activity_task(activityArn=ARN), "ActivityWorkerLimitExceeded")
        self.assertAwsError(lambda: swf.poll_for_activity_task(domain="demo", taskList={"name": "x"}),
                            "LimitExceededFault")
        for _ in range(3):
            self.client.enqueue_sfn(ARN)
            self.client.enqueue_swf("x", task_list="x")
        for t in threads:
            t.join(10)
        self.assertEqual(self.client.stats()["in_flight"]["current"], 6)


class DeadPollerTest(ServiceCase):
    server_opts = {"poll_hold": 20}

    def _abandoned_poll(self):
        body, headers = sign(self.svc.endpoint, "SimpleWorkflowService.PollForActivityTask",
                             {"domain": "demo", "taskList": {"name": "main"}, "identity": "ghost"},
                             self.svc.access_key, self.svc.secret_key)
        s = socket.create_connection(("127.0.0.1", self.svc.port))
        s.sendall(("POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                   + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        self.client.wait_polls(1, timeout=10)
        s.close()                   # the worker dies with its poll open

    def test_a_dead_poll_still_takes_a_task_as_on_aws(self):
        self._abandoned_poll()
        tid = self.client.enqueue_swf("lost", heartbeat=0.3, retry_on_timeout=1)
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["worker_identity"]), ("started", "ghost"))
        r = self.poll_swf(identity="alive")         # after the heartbeat timeout, attempt 2
        self.assertIsNotNone(r)
        self.swf.respond_activity_task_completed(taskToken=r["taskToken"])
        t = self.client.task(tid)
        self.assertEqual([a["state"] for a in t["attempts"]], ["timed_out", "completed"])

    def test_detect_disconnect_skips_dead_polls(self):
        self.client.configure(detect_disconnect=True)
        self._abandoned_poll()
        end = time.monotonic() + 10
        while self.client.stats()["polls"]["current"] and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(self.client.stats()["polls"]["current"], 0)
        tid = self.client.enqueue_swf("kept")
        self.assertEqual(self.client.task(tid)["state"], "scheduled")


class StatsTest(ServiceCase):
    def test_combined_polls_and_tasks_per_identity(self):
        self.client.configure(poll_hold=10)
        self.client.enqueue_swf("a")
        self.client.enqueue_swf("b")
        self.poll_swf(identity="box")
        self.poll_swf(identity="box")               # two tasks in flight for "box"
        th = threading.Thread(target=lambda: self.poll_swf(identity="box"))
        th.start()
        self.client.wait_polls(1, timeout=10)       # ... and one poll open: 3 slots busy
        st = self.client.stats()["by_identity"]["box"]
        self.assertEqual((st["in_flight"], st["polls"], st["max_combined"]), (2, 1, 3))
        self.client.enqueue_swf("c")
        th.join(10)
        st = self.client.stats()
        self.assertEqual(st["by_identity"]["box"]["max_combined"], 3)
        self.assertEqual(st["in_flight"]["current"], 3)
        st = self.client.reset_stats()
        self.assertEqual((st["max_combined"], st["polls"]["max"]), (3, 0))
