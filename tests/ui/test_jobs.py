"""The job base and the job manager: exactly one terminal signal, cancel, wait."""

from __future__ import annotations

import threading

import pytest

from app.core.errors import Cancelled, WrongPassphrase
from app.workers.base import CallJob, Job
from app.workers.manager import JobManager


class Returns(Job):
    def work(self):
        self.report_progress(1, 1)
        return 42


class Raises(Job):
    def work(self):
        raise WrongPassphrase()


class Crashes(Job):
    def work(self):
        return 1 / 0


class Waits(Job):
    def __init__(self, gate: threading.Event):
        super().__init__()
        self.gate = gate

    def work(self):
        while not self.gate.wait(0.01):
            self.check_cancelled()
        return "done"


def _record(job: Job) -> list[str]:
    seen: list[str] = []
    job.signals.finished.connect(lambda r: seen.append(f"finished:{r}"))
    job.signals.failed.connect(lambda e: seen.append(f"failed:{type(e).__name__}"))
    job.signals.cancelled.connect(lambda: seen.append("cancelled"))
    return seen


@pytest.mark.parametrize("cls, expected", [
    (Returns, ["finished:42"]),
    (Raises, ["failed:WrongPassphrase"]),
    (Crashes, ["failed:ZeroDivisionError"]),
])
def test_exactly_one_terminal_signal(qtbot, cls, expected):
    manager = JobManager()
    job = cls()
    seen = _record(job)
    with qtbot.waitSignal(job.signals.ended, timeout=5000):
        manager.start(job)
    qtbot.waitUntil(lambda: not manager.jobs, timeout=5000)  # the manager's own `ended` slot ran too
    assert seen == expected


def test_cancel_running_job_emits_cancelled(qtbot):
    manager = JobManager()
    job = Waits(threading.Event())
    seen = _record(job)
    manager.start(job)
    qtbot.waitUntil(lambda: manager.busy())
    with qtbot.waitSignal(job.signals.ended, timeout=5000):
        job.cancel()
    assert seen == ["cancelled"]


def test_queued_jobs_cancelled_without_running_and_idle_callback(qtbot):
    manager = JobManager(fast_threads=1)
    gate = threading.Event()
    first, second = Waits(gate), Returns()
    seen_first, seen_second = _record(first), _record(second)
    manager.start(first)
    manager.start(second)  # waits behind the first: one thread
    calls = []
    manager.call_when_idle(lambda: calls.append("idle"))
    manager.cancel_all()
    qtbot.waitUntil(lambda: not manager.jobs, timeout=5000)
    assert seen_second == ["cancelled"]  # taken off the queue, never ran
    assert seen_first == ["cancelled"]
    assert calls == ["idle"]


def test_vault_write_lane_runs_one_at_a_time(qtbot):
    manager = JobManager()
    running = []
    peak = []

    class Writer(Job):
        lane = "vault-write"

        def work(self):
            running.append(1)
            peak.append(len(running))
            threading.Event().wait(0.05)
            running.pop()

    jobs = [Writer() for _ in range(3)]
    for job in jobs:
        manager.start(job)
    qtbot.waitUntil(lambda: not manager.jobs, timeout=5000)
    assert max(peak) == 1


def test_cancelled_core_error_is_cancelled_signal(qtbot):
    class CoreCancels(Job):
        def work(self):
            raise Cancelled()

    manager = JobManager()
    job = CoreCancels()
    seen = _record(job)
    with qtbot.waitSignal(job.signals.ended, timeout=5000):
        manager.start(job)
    assert seen == ["cancelled"]


def test_shutdown_waits_for_running_jobs(qtbot):
    manager = JobManager()
    job = Waits(threading.Event())
    manager.start(job)
    qtbot.waitUntil(lambda: manager.busy())
    assert manager.shutdown(5000)
    assert job.done_event.is_set()


def test_a_job_that_has_done_its_work_no_longer_keeps_its_lane_busy(qtbot):
    """The lane is free once the job's work is over, even before its `ended` signal has reached
    the manager: a dialog whose own `ended` slot runs first (it connected before the manager
    did) may close and let the user start the next write."""
    manager = JobManager()
    job = Returns()
    job.lane = "vault-write"
    manager.start(job)
    assert job.done_event.wait(5)
    assert job in manager.jobs  # no event processed yet: the manager has not heard it ended
    assert not manager.busy("vault-write") and not manager.busy()
    qtbot.waitUntil(lambda: job not in manager.jobs, timeout=5000)


def test_call_job_runs_one_call_in_its_lane(qtbot, caplog):
    manager = JobManager()
    job = CallJob(None, divmod, 7, 2, lane="vault-write", title="Dividing")
    assert (job.lane, job.title, job.cancellable) == ("vault-write", "Dividing", False)
    seen = _record(job)
    with qtbot.waitSignal(job.signals.ended, timeout=5000):
        manager.start(job)
    assert seen == ["finished:(3, 1)"]
    failing = CallJob(None, divmod, 1, 0)
    seen = _record(failing)
    with qtbot.waitSignal(failing.signals.ended, timeout=5000):
        manager.start(failing)
    assert seen == ["failed:ZeroDivisionError"]
    assert "CallJob(divmod) failed: ZeroDivisionError" in caplog.text
