"""fork_map: forked workers inherit the function (no pickling of it), keep the order, and report failures."""

from __future__ import annotations

import os
import threading

import pytest

from hf_asr.modeling.fork_pool import fork_map


def test_results_keep_the_input_order_and_progress_counts_every_item():
    lock = threading.Lock()  # unpicklable: the workers can use it only because they inherit the closure
    calls = []

    def square(x):
        with lock:
            return x * x, os.getpid()

    results = fork_map(square, list(range(50)), num_processes=3, on_result=lambda: calls.append(1))
    assert [r[0] for r in results] == [x * x for x in range(50)]
    assert os.getpid() not in {r[1] for r in results}  # computed in workers
    assert len(calls) == 50


def test_one_process_and_empty_input_run_here():
    assert fork_map(lambda x: os.getpid(), [1, 2], num_processes=1) == [os.getpid()] * 2
    assert fork_map(lambda x: x, [], num_processes=4) == []


def test_a_worker_exception_is_raised_with_its_type():
    def fail_on_seven(x):
        if x == 7:
            raise KeyError(f"item {x}")
        return x

    with pytest.raises(KeyError, match="item 7"):
        fork_map(fail_on_seven, list(range(20)), num_processes=2)


def test_an_unpicklable_result_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="pickle"):
        fork_map(lambda x: threading.Lock(), [1, 2, 3, 4], num_processes=2)


def test_a_dead_worker_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exit code 3"):
        fork_map(lambda x: os._exit(3), [1, 2, 3, 4], num_processes=2)
