"""One conformance suite, run against every backend: local, SLURM, PBS and LSF.

PBS runs against the real servers: OpenPBS 23.06 (``pbs``) and Slurm's Torque-style
wrappers (``pbs-torque``); LSF is the real OpenLava 4.0 cluster (shared/ci/lsf/lsf-up).
No backend here is a simulator.

Hypothesis generates batches of jobs (exit codes, environment values, retry policies,
cancellations); every backend must give the same lifecycle guarantees:

- every job reaches a final state, and the family's latest attempt is what a wait returns;
- exit 0 is SUCCEEDED; a non-zero exit is FAILED with that exit code;
- a cancelled long job is CANCELLED and is not retried;
- retries create exactly ``max_attempts`` attempts for a job that always fails;
- environment values arrive byte-exact in the job's stdout;
- every recorded transition is legal under the core's transition table;
- the projections equal a rebuild from the log;
- Python function jobs return values and exceptions, retry, map and cancel alike (issue 16).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from tests import function_jobs
from tests.integration import pbs_real
from tests.openlava import openlava_env, openlava_ready
from tests.slurm import slurm_ready

from molq import Cluster, JobExecution, JobState, JobStore, RetryBackoff, RetryPolicy, Submitor
from molq.core import TRANSITIONS


FAST = RetryBackoff(mode="fixed", initial_seconds=0.1, maximum_seconds=0.1)
BACKENDS = ["local", "local-wrapper", "slurm", "pbs", "pbs-torque", "lsf"]  # local-wrapper: no runner (ADR 0016)


@attrs.frozen
class JobPlan:
    """One generated job and what every backend must make of it."""

    exit_code: int
    value: str
    attempts: int
    cancel: bool


safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from("\n\t'\"$`\\;"),
    max_size=16,
)
plans = st.lists(
    st.builds(
        JobPlan,
        exit_code=st.sampled_from([0, 1, 3]),
        value=safe_text,
        attempts=st.integers(1, 2),
        cancel=st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> Iterator[tuple[str, Path]]:
    """Yield (scheduler kind, work dir) with the backend ready; PATH set for simulators."""
    kind = request.param
    if kind == "slurm" and not slurm_ready():
        pytest.skip("no Slurm cluster here (run shared/ci/slurm-up as root)")
    if kind in pbs_real.BIN_DIRS and (reason := pbs_real.not_ready(kind)):
        pytest.skip(reason)
    if kind == "lsf" and not openlava_ready():
        pytest.skip("no OpenLava here (run shared/ci/lsf/lsf-up as root)")
    lsf_env = openlava_env() if kind == "lsf" else {}
    keys = ("PATH", "MOLQ_LOCAL_RUNNER", *lsf_env)
    saved = {k: os.environ.get(k) for k in keys}
    work = Path(tempfile.mkdtemp(prefix=f"molq-conformance-{kind}-"))
    os.environ.update(lsf_env)
    if kind == "local-wrapper":
        os.environ["MOLQ_LOCAL_RUNNER"] = "0"
        kind = "local"
    try:
        yield kind, work
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


def _command(plan: JobPlan) -> str:
    if plan.cancel:
        return 'printf %s "$MOLQ_VALUE"; sleep 60'
    return f'printf %s "$MOLQ_VALUE"; exit {plan.exit_code}'


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=plans)
def test_lifecycle_guarantees_hold_on_every_backend(backend, batch):
    """The same batch of jobs ends the same way on every backend."""
    kind, work = backend
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        name = f"conformance-{kind}"
        target = pbs_real.cluster(kind, name) if kind in pbs_real.BIN_DIRS else Cluster(name, kind)
        sub = Submitor(target, store=store, jobs_dir=Path(tmp) / "jobs")
        try:
            handles = [
                sub.submit_job(
                    command=_command(plan),
                    execution=JobExecution(env={"MOLQ_VALUE": plan.value}, cwd=tmp),
                    retry=RetryPolicy(max_attempts=plan.attempts, backoff=FAST),
                )
                for plan in batch
            ]
            for plan, handle in zip(batch, handles, strict=True):
                if plan.cancel:
                    handle.cancel()
            records = sub.watch_jobs([h.job_id for h in handles], timeout=180)
            for plan, handle, record in zip(batch, handles, records, strict=True):
                _check_job(sub, plan, handle.job_id, record)
            assert sub.list_jobs() == []
            assert store.verify_projections() == []
        finally:
            for handle in sub.list_jobs():
                sub.cancel_job(handle.job_id)
            sub.close()


def test_function_jobs_on_every_backend(backend):
    """The shared function-job checks (tests/function_jobs.py) pass on every backend."""
    kind, work = backend
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        name = f"functions-{kind}"
        target = pbs_real.cluster(kind, name) if kind in pbs_real.BIN_DIRS else Cluster(name, kind)
        sub = Submitor(target, store=store, jobs_dir=Path(tmp) / "jobs")
        try:
            function_jobs.run_all(sub, execution=JobExecution(cwd=tmp))
        finally:
            for record in sub.list_jobs():
                sub.cancel_job(record.job_id)
            sub.close()


def _check_job(sub: Submitor, plan: JobPlan, root: str, record) -> None:
    family = sub.get_retry_family(root)
    assert family[-1] == record
    assert [r.attempt for r in family] == list(range(1, len(family) + 1))
    if plan.cancel:
        assert record.state is JobState.CANCELLED, record
        assert len(family) == 1
    elif plan.exit_code == 0:
        assert record.state is JobState.SUCCEEDED, record
        assert record.exit_code == 0
        assert len(family) == 1
    else:
        assert record.state is JobState.FAILED, record
        assert record.exit_code == plan.exit_code, record
        assert len(family) == plan.attempts
    for attempt in family:
        _check_transitions(sub, attempt.job_id)
    if not plan.cancel:
        out = Path(record.metadata["molq.stdout_path"]).read_bytes()
        assert out.decode("utf-8") == plan.value


def _check_transitions(sub: Submitor, job_id: str) -> None:
    transitions = sub.get_transitions(job_id)
    assert transitions[0].old_state is None
    assert transitions[0].new_state is JobState.CREATED
    for t in transitions[1:]:
        assert t.new_state in TRANSITIONS[t.old_state].values(), t
    assert transitions[-1].new_state.is_terminal
