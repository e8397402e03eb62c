"""Stored events: tags, encoding, golden v1 files and forward compatibility."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import msgspec
import pytest

from molq.core import (
    DependencyRef,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    RetryBackoff,
    RetryPolicy,
    decode_event,
    encode_event,
    event_tag,
)
from molq.core._cluster_events import SchedulerCommandFailed
from molq.core._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCheckpointSaved,
    JobCleaned,
    JobCreated,
    JobDependencyRecorded,
    JobFailed,
    JobLogged,
    JobLost,
    JobQueued,
    JobResultSaved,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTaskChanged,
    JobTimedOut,
    JobUnseen,
    JobUsageRecorded,
    LogEvent,
)
from molq.core._sweep_events import (
    SweepCancelRequested,
    SweepCell,
    SweepCellLaunched,
    SweepCreated,
    SweepStopped,
)
from molq.core._usage import JobUsage


GOLDEN = Path(__file__).parent.parent / "fixtures" / "events" / "v1"

TAGS = {
    "job.created",
    "job.submitted",
    "job.submit_failed",
    "job.dependency_recorded",
    "job.queued",
    "job.started",
    "job.succeeded",
    "job.failed",
    "job.cancelled",
    "job.timed_out",
    "job.lost",
    "job.cancel_requested",
    "job.unseen",
    "job.seen_again",
    "job.retry_scheduled",
    "job.cleaned",
    "job.archived",
    "job.log",
    "job.checkpoint_saved",
    "job.result_saved",
    "job.task_changed",
    "job.usage_recorded",
    "sweep.created",
    "sweep.cell_launched",
    "sweep.cancel_requested",
    "sweep.stopped",
    "cluster.command_failed",
}

J = "01J9ZABCDEF"
T = 1_700_000_000.25
SPEC = JobSpec(
    "argv",
    argv=("python", "train.py", "--lr", "0.1"),
    resources=JobResources(cpu_count=4, memory="8G", gpu_count=1, time_limit="2h"),
    scheduling=JobScheduling(partition="gpu", account="proj", dependencies=(DependencyRef("up1", "after"),)),
    execution=JobExecution(env={"OMP_NUM_THREADS": "4"}, job_name="train"),
    metadata={"owner": "ada"},
    cwd="/scratch/ada",
)
# The events the golden files hold, one per tag, with non-default values.
SAMPLES: dict[str, LogEvent] = {
    "job.created": JobCreated(
        job_id=J,
        at=T,
        cluster_name="hpc",
        scheduler="slurm",
        root_job_id="01J9ROOT",
        attempt=2,
        previous_attempt_job_id="01J9PREV",
        retry_group_id="01J9ROOT",
        profile_name="gpu",
        spec=SPEC,
        retry=RetryPolicy(
            max_attempts=3,
            retry_on_states=(JobState.FAILED, JobState.LOST),
            retry_on_exit_codes=(1, 137),
            backoff=RetryBackoff(mode="fixed", initial_seconds=10.0),
        ),
        job_dir="/scratch/ada/.molq/jobs/01J9ZABCDEF",
    ),
    "job.submitted": JobSubmitted(
        job_id=J, at=T, scheduler_job_id="123456", command="sbatch --parsable", adopted=True
    ),
    "job.submit_failed": JobSubmitFailed(job_id=J, at=T, reason="invalid partition"),
    "job.dependency_recorded": JobDependencyRecorded(
        job_id=J,
        at=T,
        dependency_job_id="up1",
        dependency_type="after",
        scheduler_dependency="afterany:123",
    ),
    "job.queued": JobQueued(job_id=J, at=T, raw_state="PENDING"),
    "job.started": JobStarted(job_id=J, at=T, started_at=T - 5, raw_state="RUNNING"),
    "job.succeeded": JobSucceeded(
        job_id=J, at=T, exit_code=0, finished_at=T - 1, raw_state="COMPLETED", started_at=T - 60
    ),
    "job.failed": JobFailed(
        job_id=J, at=T, exit_code=3, finished_at=T - 1, reason="exit code 3", raw_state="FAILED"
    ),
    "job.cancelled": JobCancelled(job_id=J, at=T, reason="cancelled by user", raw_state="CANCELLED"),
    "job.timed_out": JobTimedOut(
        job_id=J, at=T, exit_code=143, reason="time limit reached", raw_state="TIMEOUT"
    ),
    "job.lost": JobLost(job_id=J, at=T, reason="unseen by the scheduler for 3 polls"),
    "job.cancel_requested": JobCancelRequested(job_id=J, at=T, reason="user"),
    "job.unseen": JobUnseen(job_id=J, at=T, detail="not in squeue or sacct"),
    "job.seen_again": JobSeenAgain(job_id=J, at=T),
    "job.retry_scheduled": JobRetryScheduled(
        job_id=J, at=T, due_at=T + 10, next_job_id="01J9NEXT", delay=10.0
    ),
    "job.cleaned": JobCleaned(job_id=J, at=T, removed=("stdout.log", "script.sh")),
    "job.archived": JobArchived(job_id=J, at=T, reason="retention"),
    "job.log": JobLogged(job_id=J, at=T, message="epoch 3 done", level="WARNING", logged_at=T - 2, line=7),
    "job.checkpoint_saved": JobCheckpointSaved(job_id=J, at=T, seq=2, data='{"epoch":3}', saved_at=T - 1),
    "job.result_saved": JobResultSaved(job_id=J, at=T, seq=1, data='{"loss":0.25}', saved_at=T - 1),
    "job.usage_recorded": JobUsageRecorded(
        job_id=J,
        at=T,
        usage=JobUsage(
            source="sacct",
            elapsed_seconds=39.0,
            cpu_seconds=1.311,
            max_rss_bytes=99209216,
            max_vmem_bytes=103510016,
            requested_memory_bytes=314572800,
            cpus=1,
            nodes="vm",
            raw_state="COMPLETED",
            raw_exit="0:0",
        ),
    ),
    "sweep.created": SweepCreated(
        sweep_id="01J9SWEEP",
        at=T,
        cluster_name="hpc",
        scheduler="slurm",
        spec=SPEC,
        job_dir="/scratch/ada/.molq/jobs/01J9SWEEP",
        cells=(
            SweepCell(index=0, job_id="01J9C0", args=(("lr", 0.1), ("opt", "adam"))),
            SweepCell(index=1, job_id="01J9C1", args=(("lr", 1), ("opt", True))),
        ),
        axes=("lr", "opt"),
        max_parallel=2,
        fail_fast=True,
        profile_name="gpu",
    ),
    "sweep.cell_launched": SweepCellLaunched(sweep_id="01J9SWEEP", at=T, index=1, job_id="01J9C1"),
    "sweep.cancel_requested": SweepCancelRequested(sweep_id="01J9SWEEP", at=T, reason="cancelled by user"),
    "sweep.stopped": SweepStopped(sweep_id="01J9SWEEP", at=T, reason="fail_fast: cell 1 ended failed"),
    "job.task_changed": JobTaskChanged(
        job_id=J,
        at=T,
        index=3,
        state=JobState.FAILED,
        exit_code=1,
        reason="NonZeroExitCode",
        raw_state="FAILED",
        task_id="4242_3",
        started_at=T - 2,
        finished_at=T - 1,
    ),
    "cluster.command_failed": SchedulerCommandFailed(
        cluster_name="hpc",
        at=T,
        scheduler="slurm",
        operation="status",
        error="squeue failed: slurm_load_jobs error: Unable to contact slurm controller",
        argv=("squeue", "-h", "-t", "all", "-j", "12,13"),
        returncode=1,
        stderr="slurm_load_jobs error: Unable to contact slurm controller (connect failure)",
    ),
}
EVENT_TYPES = get_args(LogEvent)


def golden(tag: str) -> bytes:
    return (GOLDEN / f"{tag}.json").read_bytes().rstrip(b"\n")


class TestTags:
    def test_stable_literal_set(self):
        """The stored tags are exactly the expected dotted literals."""
        assert {t.__struct_config__.tag for t in EVENT_TYPES} == TAGS

    def test_event_tag(self):
        """event_tag returns the tag an event is encoded under."""
        for tag, event in SAMPLES.items():
            assert event_tag(event) == tag
            assert json.loads(encode_event(event))["type"] == tag

    def test_samples_cover_every_type(self):
        """There is one sample (and golden file) per event type."""
        assert {type(e) for e in SAMPLES.values()} == set(EVENT_TYPES)


@pytest.mark.parametrize("tag", sorted(TAGS))
class TestGolden:
    def test_decodes(self, tag):
        """The v1 golden file decodes to the expected event."""
        assert decode_event(golden(tag)) == SAMPLES[tag]

    def test_reencodes_identically(self, tag):
        """Re-encoding the decoded golden file gives the same bytes."""
        raw = golden(tag)
        assert encode_event(decode_event(raw)) == raw

    def test_unknown_fields_tolerated(self, tag):
        """Fields from a newer molq are ignored, at the top level and nested."""
        data = json.loads(golden(tag))
        data["added_in_v9"] = {"anything": [1, 2]}
        if tag == "job.created":
            data["spec"]["future"] = True
            data["spec"]["resources"]["memory"]["unit_hint"] = "G"
            data["retry"]["backoff"]["jitter"] = 0.5
        assert decode_event(json.dumps(data)) == SAMPLES[tag]


def test_golden_dir_has_one_file_per_tag():
    """Every tag has a golden file and there are no stray files."""
    assert {p.name for p in GOLDEN.iterdir()} == {f"{t}.json" for t in TAGS}


@pytest.mark.parametrize("event", SAMPLES.values(), ids=SAMPLES.keys())
def test_round_trip(event):
    """Every event type encodes to JSON and decodes back equal."""
    data = encode_event(event)
    assert isinstance(data, bytes)
    back = decode_event(data)
    assert back == event
    assert type(back) is type(event)


def test_decode_str():
    """decode_event accepts text as well as bytes."""
    assert decode_event(golden("job.lost").decode()) == SAMPLES["job.lost"]


def test_defaults_fill_missing_fields():
    """Fields with defaults may be absent (an older molq wrote the event)."""
    event = decode_event(b'{"type":"job.submitted","job_id":"j","at":1,"scheduler_job_id":"9"}')
    assert event == JobSubmitted(job_id="j", at=1.0, scheduler_job_id="9")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"job.exploded","job_id":"j","at":1}',
        b'{"job_id":"j","at":1}',
        b'{"type":"job.lost","job_id":"j","at":1}',
        b'{"type":"job.queued","job_id":"j","at":"yesterday"}',
        b"not json",
    ],
    ids=["unknown-tag", "no-tag", "missing-required", "wrong-type", "garbage"],
)
def test_invalid(raw):
    """Unknown tags, missing fields, wrong types and garbage are rejected."""
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        decode_event(raw)


def test_events_frozen():
    """Events cannot be mutated."""
    event = SAMPLES["job.queued"]
    with pytest.raises(AttributeError):
        event.raw_state = "X"  # type: ignore[misc]
    hash(event)
