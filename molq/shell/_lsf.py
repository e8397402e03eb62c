"""LSFScheduler: IBM Spectrum LSF over any Transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from molq.core import (
    Completed,
    JobSpec,
    JobState,
    Observation,
    QueueEntry,
    SchedulerCapabilities,
    Submission,
    TerminalStatus,
    Transport,
    check_capabilities,
)
from molq.core._sched._batch import split_ids, terminal_status
from molq.core._sched._lsf import LSF_CAPABILITIES, parse_bsub_output, prepare_lsf
from molq.core._sched._lsf_parse import (
    BJOBS_FORMAT,
    bkill_outcome,
    parse_bjobs_errors,
    parse_queue,
    parse_status,
)

from ._batch_jobs import command_failed, raise_unless_ok, with_exit_file, write_job_files


@attrs.frozen
class LSFSchedulerOptions:
    """How molq talks to LSF.

    Attributes:
        chunk_size: job ids per bjobs call.
        timeout: seconds allowed per scheduler command.
    """

    chunk_size: int = attrs.field(default=200, validator=attrs.validators.ge(1))
    timeout: float | None = 120.0
    bsub: str = "bsub"
    bjobs: str = "bjobs"
    bkill: str = "bkill"
    # Upstream molq's spellings (issue 18): a path set here wins over the short name above.
    bsub_path: str = "bsub"
    bjobs_path: str = "bjobs"
    bkill_path: str = "bkill"
    bhist_path: str = "bhist"
    extra_bsub_flags: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def command(self, name: str) -> str:
        """The command to run for ``bsub``/``bjobs``/``bkill``/``bhist``."""
        path: str = getattr(self, f"{name}_path")
        return path if path != name else getattr(self, name, name)


class LSFScheduler:
    """Submits with ``bsub < job.lsf``, observes with ``bjobs -a -o``, kills: bkill."""

    name = "lsf"

    def __init__(self, transport: Transport, options: LSFSchedulerOptions | None = None) -> None:
        self._transport = transport
        self._options = options or LSFSchedulerOptions()

    def capabilities(self) -> SchedulerCapabilities:
        """What LSF can honour."""
        return LSF_CAPABILITIES

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render the ``#BSUB`` script and ``bsub`` argv without running anything."""
        submission = prepare_lsf(spec, job_dir)
        argv = (self._options.command("bsub"), *self._options.extra_bsub_flags, *submission.argv[1:])
        return attrs.evolve(submission, argv=argv)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        """Write the script into ``job_dir``, feed it to bsub and return the job id.

        Raises:
            ConfigError: the spec asks for something LSF cannot do.
            SchedulerError: bsub refused the job.
            SchedulerOutputError: bsub printed no job id.
        """
        check_capabilities(spec, LSF_CAPABILITIES, self.name)
        submission = self.prepare(spec, job_dir)
        write_job_files(self._transport, spec, job_dir, submission)
        done = self._transport.run(
            submission.argv,
            stdin=submission.script.encode(),
            cwd=job_dir,
            timeout=self._options.timeout,
        )
        raise_unless_ok(done, "bsub refused the job")
        return parse_bsub_output(done.stdout)

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """States of the jobs LSF knows; unknown ids are left out."""
        observed = self.observe_many(scheduler_job_ids)
        return {i: o.state for i, o in observed.items() if o.state is not None}

    def observe_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, Observation]:
        """One Observation per id: ``bjobs -a`` (finished jobs too), then exit files.

        Raises:
            SchedulerError: bjobs failed for a reason other than unknown ids.
            SchedulerOutputError: bjobs printed something unreadable.
        """
        ids = list(dict.fromkeys(scheduler_job_ids))
        found: dict[str, Observation] = {}
        for chunk in split_ids(ids, self._options.chunk_size):
            argv = (self._options.command("bjobs"), "-a", "-noheader", "-o", BJOBS_FORMAT, *chunk)
            found |= self._bjobs(argv)
        dirs = job_dirs or {}
        return {i: with_exit_file(self._transport, found.get(i), dirs.get(i), scheduler="LSF") for i in ids}

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """``bkill`` the job; a job that already finished or is unknown is left alone.

        Raises:
            SchedulerError: bkill failed for another reason.
        """
        done = self._run((self._options.command("bkill"), scheduler_job_id))
        if bkill_outcome(done.returncode, done.stdout + done.stderr) == "error":
            raise command_failed(done, f"bkill failed for {scheduler_job_id}")

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """How a finished job ended (bjobs -a, then the exit_code file), else None."""
        dirs = {scheduler_job_id: job_dir} if job_dir else None
        obs = self.observe_many([scheduler_job_id], job_dirs=dirs)[scheduler_job_id]
        return terminal_status(obs)

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """Unfinished jobs of ``user`` (all when None), one entry per array element.

        Raises:
            SchedulerError: bjobs failed.
        """
        argv = (
            self._options.command("bjobs"),
            "-noheader",
            "-o",
            BJOBS_FORMAT,
            "-u",
            user or "all",
        )
        done = self._run(argv)
        _unknown, other = parse_bjobs_errors(done.stderr)
        if not done.ok and other:
            raise command_failed(done, "bjobs failed")
        return parse_queue(done.stdout)

    def _bjobs(self, argv: tuple[str, ...]) -> dict[str, Observation]:
        done = self._run(argv)
        unknown, other = parse_bjobs_errors(done.stderr)
        if not done.ok and (other or not unknown):
            raise command_failed(done, "bjobs failed")
        return parse_status(done.stdout)

    def _run(self, argv: Sequence[str]) -> Completed:
        return self._transport.run(argv, timeout=self._options.timeout)
