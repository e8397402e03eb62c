"""Waiting through a retry's back-off sleeps instead of spinning (issue 20, item 2).

Before the fix, ``wait()`` through a 5 s back-off used ~3 s of CPU: the ended attempt was
handed to the runner's end-notice wait, which returned at once, every time.
"""

from __future__ import annotations

import resource
import time

from molq import JobState, RetryBackoff, RetryPolicy


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_wait_through_backoff_is_idle(local_submitor):
    """A 3 s back-off between attempts costs a waiting process well under a tenth of a core."""
    backoff = RetryBackoff(mode="fixed", initial_seconds=3, maximum_seconds=3)
    handle = local_submitor.submit_job(command="exit 4", retry=RetryPolicy(max_attempts=2, backoff=backoff))
    wall0, cpu0 = time.monotonic(), _cpu()
    record = handle.wait(timeout=60)
    wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
    assert record.state is JobState.FAILED
    assert record.attempt == 2
    assert wall >= 2.5, "the back-off was honoured"
    assert cpu < 0.1 * wall, f"waiting used {cpu:.2f} s of CPU over {wall:.2f} s"


def test_wait_timeout_is_kept_during_backoff(local_submitor):
    """A timeout shorter than the back-off still ends the wait on time."""
    from molq import MolqTimeoutError

    backoff = RetryBackoff(mode="fixed", initial_seconds=30, maximum_seconds=30)
    handle = local_submitor.submit_job(command="exit 4", retry=RetryPolicy(max_attempts=2, backoff=backoff))
    start = time.monotonic()
    try:
        handle.wait(timeout=2)
    except MolqTimeoutError:
        pass
    else:
        raise AssertionError("wait returned during a 30 s back-off")
    assert time.monotonic() - start < 10
