"""Parallel map over forked worker processes that inherit the function and its inputs instead of pickling them.

Forking lets workers share what `fn` holds (a loaded KenLM model, say) without pickling it; only results and
exceptions travel back, pickled. Standard library only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

from .decoder_options import positive_int


def fork_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    num_processes: int | None,
    on_result: Callable[[], None] | None = None,
) -> list[Any]:
    """`[fn(x) for x in items]`, over `num_processes` forked workers when > 1 (None: one per CPU), in order.

    Where fork is unavailable (Windows, macOS spawn default), it runs serially. `on_result` is called after each
    item (progress bars). An exception raised by `fn` in a worker is raised here. `num_processes` other than None
    or a whole number >= 1 raises an error naming it.
    """
    if num_processes is None:
        num_processes = os.cpu_count() or 1
    num_processes = positive_int("num_processes", num_processes)
    num_processes = min(num_processes, len(items))
    if num_processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for x in items:
            results.append(fn(x))
            if on_result:
                on_result()
        return results
    return _ForkedMap(fn, items, num_processes).run(on_result)


class _ForkedMap:
    """One parallel map: workers are forked copies of this object, so `fn` and `items` reach them unpickled.

    Workers take chunks of consecutive items through a shared counter and send (start, results, failure) back
    over one pipe; each message is pickled before it is sent, so a result that cannot be pickled is reported
    as that worker's failure.
    """

    def __init__(self, fn: Callable[[Any], Any], items: Sequence[Any], num_processes: int) -> None:
        context = multiprocessing.get_context("fork")
        self.fn, self.items = fn, items
        self.chunksize = max(1, len(items) // (8 * num_processes))
        self.next_start = context.Value("q", 0)
        self.reader, self.writer = context.Pipe(duplex=False)
        self.write_lock = context.Lock()
        self.workers = [context.Process(target=self._work, daemon=True) for _ in range(num_processes)]

    def run(self, on_result: Callable[[], None] | None) -> list[Any]:
        results: list[Any] = [None] * len(self.items)
        received = 0
        try:
            for worker in self.workers:
                worker.start()
            running = {worker.sentinel: worker for worker in self.workers}
            while received < len(self.items):
                ready = wait([self.reader, *running])
                if self.reader not in ready:  # only exits (a worker's messages are all sent before it exits)
                    for sentinel in ready:
                        worker = running.pop(sentinel)
                        worker.join()
                        if worker.exitcode != 0:
                            raise RuntimeError(f"a forked worker died (exit code {worker.exitcode}) mid-task")
                    if not running:
                        raise RuntimeError("the forked workers exited without returning every result")
                    continue
                start, chunk, failure = pickle.loads(self.reader.recv_bytes())
                if failure is not None:
                    error, remote_traceback = failure
                    raise error from RuntimeError(f"in a forked worker:\n{remote_traceback}")
                results[start : start + len(chunk)] = chunk
                received += len(chunk)
                for _ in chunk:
                    if on_result:
                        on_result()
        finally:
            for worker in self.workers:
                if worker.is_alive() and received < len(self.items):
                    worker.terminate()
                if worker.pid is not None:
                    worker.join()
            self.reader.close()
            self.writer.close()
        return results

    def _work(self) -> None:
        start = -1
        try:
            while True:
                with self.next_start.get_lock():
                    start = self.next_start.value
                    self.next_start.value = start + self.chunksize
                if start >= len(self.items):
                    return
                chunk = self.items[start : start + self.chunksize]
                self._send((start, [self.fn(x) for x in chunk], None))
        except BaseException as error:
            self._send((start, [], (_picklable(error), traceback.format_exc())))

    def _send(self, message: tuple) -> None:
        data = pickle.dumps(message)
        with self.write_lock:
            self.writer.send_bytes(data)


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
