"""What molq's errors carry for a user or a script: message, job id, cluster, command, return code, context."""

from __future__ import annotations

from molq.core._errors import JobNotFoundError, MolqError, SchedulerError


def test_job_not_found_message_and_fields() -> None:
    err = JobNotFoundError("abc", "hpc")
    assert str(err) == "Job 'abc' not found in cluster 'hpc'"
    assert (err.job_id, err.cluster_name) == ("abc", "hpc")
    assert err.context == {"job_id": "abc", "cluster_name": "hpc"}
    anywhere = JobNotFoundError("abc")
    assert str(anywhere) == "Job 'abc' not found"
    assert anywhere.cluster_name is None
    assert str(JobNotFoundError("abc", message="no such job: abc")) == "no such job: abc"
    assert isinstance(err, LookupError)


def test_molq_error_keeps_args_and_context() -> None:
    err = MolqError("bad", "extra", key=1)
    assert err.args == ("bad", "extra")
    assert err.context == {"key": 1}
    assert str(MolqError()) == ""


def test_scheduler_error_fields() -> None:
    err = SchedulerError("sbatch failed", argv=("sbatch", "job.sh"), returncode=1, stderr="boom", cluster="c")
    assert (err.argv, err.returncode, err.stderr, err.command) == (("sbatch", "job.sh"), 1, "boom", "sbatch job.sh")
    assert err.context == {"cluster": "c"}
    upstream = SchedulerError("x", command="qsub job.pbs")
    assert (upstream.argv, upstream.command) == (("qsub job.pbs",), "qsub job.pbs")
    listed = SchedulerError("x", command=["bsub", "-J", "n"])
    assert (listed.argv, listed.command) == (("bsub", "-J", "n"), ["bsub", "-J", "n"])
    bare = SchedulerError("x", stderr=None)
    assert (bare.argv, bare.command, bare.stderr, bare.returncode) == ((), None, "", None)
