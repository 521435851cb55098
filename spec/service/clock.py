"""A timer thread: run callbacks at monotonic deadlines.

Timeouts are enforced here, not only when the next call arrives. Callbacks run
on the timer thread, outside the timer's own lock, and must take whatever lock
they need. Cancellation is lazy: a callback checks whether it still applies
(state.py keeps one pending deadline per attempt and re-arms as needed).
"""
import heapq
import itertools
import threading
import time
import traceback
import sys


class Timer:
    def __init__(self):
        self._cv = threading.Condition()
        self._heap = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="timer", daemon=True)
        self._thread.start()

    @staticmethod
    def now():
        return time.monotonic()

    def at(self, deadline, fn, *args):
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._seq), fn, args))
            if self._heap[0][0] == deadline:
                self._cv.notify()

    def pending(self):
        with self._cv:
            return len(self._heap)

    def stop(self):
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join(timeout=5)

    def _run(self):
        while True:
            with self._cv:
                while not self._stopped:
                    if not self._heap:
                        self._cv.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        break
                    self._cv.wait(delay)
                if self._stopped:
                    return
                _, _, fn, args = heapq.heappop(self._heap)
            try:
                fn(*args)
            except Exception:       # a broken callback must not stop the clock
                traceback.print_exc(file=sys.stderr)
