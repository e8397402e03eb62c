"""PBSScheduler: PBS Pro / OpenPBS and Torque over any Transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

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
from molq.core._sched._pbs import PBS_CAPABILITIES, parse_qsub_output, prepare_pbs
from molq.core._sched._pbs_parse import (
    match_ids,
    parse_qstat_errors,
    parse_queue,
    parse_status,
    qdel_outcome,
)

from ._batch_jobs import command_failed, raise_unless_ok, with_exit_file, write_job_files


@attrs.frozen
class PBSSchedulerOptions:
    """How molq talks to PBS.

    Attributes:
        flavor: ``pro`` (PBS Pro / OpenPBS: ``qstat -x`` history) or ``torque``
            (completed jobs stay in ``qstat -f`` as ``C``; ``-x`` means XML there).
        use_history: ask ``qstat -x -f`` about jobs PBS Pro says have finished.
        chunk_size: job ids per qstat call.
        timeout: seconds allowed per scheduler command.
    """

    flavor: Literal["pro", "torque"] = "pro"
    use_history: bool = True
    chunk_size: int = attrs.field(default=200, validator=attrs.validators.ge(1))
    timeout: float | None = 120.0
    qsub: str = "qsub"
    qstat: str = "qstat"
    qdel: str = "qdel"
    # Upstream molq's spellings (issue 18): a path set here wins over the short name above.
    qsub_path: str = "qsub"
    qstat_path: str = "qstat"
    qdel_path: str = "qdel"
    tracejob_path: str = "tracejob"
    extra_qsub_flags: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def command(self, name: str) -> str:
        """The command to run for ``qsub``/``qstat``/``qdel``/``tracejob``."""
        path: str = getattr(self, f"{name}_path")
        return path if path != name else getattr(self, name, name)


class PBSScheduler:
    """Submits with ``qsub``, observes with ``qstat [-x] -f``, cancels with ``qdel``."""

    name = "pbs"

    def __init__(self, transport: Transport, options: PBSSchedulerOptions | None = None) -> None:
        self._transport = transport
        self._options = options or PBSSchedulerOptions()

    def capabilities(self) -> SchedulerCapabilities:
        """What PBS can honour."""
        return PBS_CAPABILITIES

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render the ``#PBS`` script and ``qsub`` argv without running anything."""
        submission = prepare_pbs(spec, job_dir, flavor=self._options.flavor)
        argv = (self._options.command("qsub"), *self._options.extra_qsub_flags, *submission.argv[1:])
        return attrs.evolve(submission, argv=argv)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        """Write the script into ``job_dir``, run qsub and return the job id.

        Raises:
            ConfigError: the spec asks for something PBS cannot do.
            SchedulerError: qsub refused the job.
            SchedulerOutputError: qsub printed no job id.
        """
        check_capabilities(spec, PBS_CAPABILITIES, self.name)
        submission = self.prepare(spec, job_dir)
        write_job_files(self._transport, spec, job_dir, submission)
        done = self._run(submission.argv, cwd=job_dir)
        raise_unless_ok(done, "qsub refused the job")
        return parse_qsub_output(done.stdout)

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """States of the jobs PBS knows; unknown ids are left out."""
        observed = self.observe_many(scheduler_job_ids)
        return {i: o.state for i, o in observed.items() if o.state is not None}

    def observe_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, Observation]:
        """One Observation per id: ``qstat -f``, then ``qstat -x -f``, then exit files.

        Raises:
            SchedulerError: qstat failed for a reason other than unknown ids.
            SchedulerOutputError: qstat printed something unreadable.
        """
        ids = list(dict.fromkeys(scheduler_job_ids))
        found: dict[str, Observation] = {}
        for chunk in split_ids(ids, self._options.chunk_size):
            found |= self._qstat(chunk, history=False)
        if self._options.flavor == "pro" and self._options.use_history:
            missing = [i for i in ids if i not in found]
            for chunk in split_ids(missing, self._options.chunk_size):
                found |= self._qstat(chunk, history=True)
        dirs = job_dirs or {}
        return {i: with_exit_file(self._transport, found.get(i), dirs.get(i), scheduler="PBS") for i in ids}

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """``qdel`` the job; a job that already finished or is unknown is left alone.

        Raises:
            SchedulerError: qdel failed for another reason.
        """
        done = self._run((self._options.command("qdel"), scheduler_job_id))
        if qdel_outcome(done.returncode, done.stderr) == "error":
            raise command_failed(done, f"qdel failed for {scheduler_job_id}")

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """How a finished job ended (history, then the exit_code file), else None."""
        dirs = {scheduler_job_id: job_dir} if job_dir else None
        obs = self.observe_many([scheduler_job_id], job_dirs=dirs)[scheduler_job_id]
        return terminal_status(obs)

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """Jobs ``qstat -f`` reports, optionally only ``user``'s.

        Raises:
            SchedulerError: qstat failed.
        """
        done = self._run((self._options.command("qstat"), "-f"))
        raise_unless_ok(done, "qstat -f failed")
        return parse_queue(done.stdout, user=user)

    def _qstat(self, ids: list[str], *, history: bool) -> dict[str, Observation]:
        flags = ("-x", "-f") if history else ("-f",)
        done = self._run((self._options.command("qstat"), *flags, *ids))
        unknown, finished, other = parse_qstat_errors(done.stderr)
        if done.returncode != 0 and (other or not (unknown or finished)):
            raise command_failed(done, "qstat failed")
        return match_ids(ids, parse_status(done.stdout))

    def _run(self, argv: Sequence[str], *, cwd: str | None = None) -> Completed:
        return self._transport.run(argv, cwd=cwd, timeout=self._options.timeout)
