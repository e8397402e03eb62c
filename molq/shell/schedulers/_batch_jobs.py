"""What the scheduler adapters do alike: job files (all, local too), exit files and command errors (SLURM, PBS, LSF)."""

from __future__ import annotations

from molq.core import Completed, JobSpec, JobState, Observation, SchedulerError, Submission, Transport
from molq.core._sched._batch import exit_file_observation
from molq.core._sched._body import EXIT_CODE_FILE, INLINE_SCRIPT_FILE, inline_script


def write_inline_script(transport: Transport, spec: JobSpec, job_dir: str) -> None:
    """Write an inline script into ``job_dir``, executable so its ``#!`` line is honoured."""
    text = inline_script(spec)
    if text is not None:
        path = f"{job_dir}/{INLINE_SCRIPT_FILE}"
        transport.write_text(path, text)
        transport.chmod(path, 0o700)


def write_job_files(transport: Transport, spec: JobSpec, job_dir: str, submission: Submission) -> None:
    """Make ``job_dir`` and write the job script (and any inline script) into it."""
    transport.mkdir(job_dir)
    write_inline_script(transport, spec, job_dir)
    transport.write_text(submission.script_path, submission.script)


def read_exit_file(transport: Transport, job_dir: str) -> str | None:
    """The text of the job's own ``exit_code`` file, or None when it wrote none."""
    path = f"{job_dir}/{EXIT_CODE_FILE}"
    if not transport.exists(path):
        return None
    return transport.read_text(path)


def with_exit_file(
    transport: Transport, obs: Observation | None, job_dir: str | None, *, scheduler: str
) -> Observation:
    """The scheduler's observation, completed by the exit file where the scheduler cannot tell.

    The file is read for a job the scheduler no longer knows, or one it reports FAILED
    without an exit code.
    """
    unknown = Observation(state=None, reason=f"{scheduler} does not know this job")
    needs_file = obs is None or (obs.state == JobState.FAILED and obs.exit_code is None)
    text = read_exit_file(transport, job_dir) if needs_file and job_dir is not None else None
    from_file = exit_file_observation(text) if text is not None else None
    if from_file is None or (from_file.state is None and obs is not None):
        return obs or unknown
    return from_file


def raise_unless_ok(done: Completed, message: str) -> None:
    """Raise :func:`command_failed` for a command that did not succeed."""
    if not done.ok:
        raise command_failed(done, message)


def command_failed(done: Completed, message: str) -> SchedulerError:
    """A SchedulerError naming the command's exit status and what it printed."""
    detail = (done.stderr.strip() or done.stdout.strip())[:500] or "no output"
    msg = f"{message} (exit {done.returncode}): {detail}"
    return SchedulerError(msg, argv=done.argv, returncode=done.returncode, stderr=done.stderr)
