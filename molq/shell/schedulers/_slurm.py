"""SlurmScheduler: runs sbatch/squeue/sacct/scontrol/scancel over a Transport.

The rendering lives in ``molq.core._sched._slurm``, the parsing in ``_slurm_parse``; this module only
runs commands and feeds their text back in. See docs/adr/0010-slurm-polling.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from molq.core import (
    Completed,
    JobSpec,
    JobState,
    Observation,
    QueueEntry,
    SchedulerCapabilities,
    SchedulerOutputError,
    Submission,
    TerminalStatus,
    Transport,
)
from molq.core._sched._poll_scope import ID_BUDGET, sacct_poll_argv, squeue_poll_argv
from molq.core._sched._slurm import (
    QUERY_ENV,
    SLURM_CAPABILITIES,
    adopt_argv,
    chunk_ids,
    is_slurm_job_id,
    is_unknown_job_error,
    list_queue_argv,
    parse_adopt,
    render_slurm_script,
    scancel_argv,
    scontrol_argv,
    slurm_job_name,
    slurm_submit_argv,
    squeue_argv,
)
from molq.core._sched._slurm_parse import (
    corroborate,
    exit_file_observation,
    needs_accounting,
    parse_queue,
    parse_sacct,
    parse_sbatch_output,
    parse_scontrol_show_job,
    parse_squeue,
)
from molq.core._sched._slurm_tasks import (
    needs_exit_codes,
    parse_task_views,
    sacct_tasks_argv,
    scontrol_tasks_argv,
    squeue_tasks_argv,
    with_scontrol,
)
from molq.core._sched._slurm_usage import (
    SCONTROL_USAGE_ARGV,
    parse_sacct_usage,
    parse_scontrol_usage,
    sacct_usage_argv,
)
from molq.core._usage import JobUsage
from molq.shell.schedulers._batch_jobs import raise_unless_ok, read_exit_file, write_job_files
from molq.shell.schedulers._option_checks import at_least_one, command_name, positive_seconds, str_tuple


SCRIPT_FILE = "job.sbatch"


@dataclass(frozen=True, slots=True)
class SlurmSchedulerOptions:
    """Site settings for the SLURM backend (upstream molq's fields first, then molq's).

    Attributes:
        sbatch_path, squeue_path, scancel_path, sacct_path, scontrol_path: the commands to run.
        extra_sbatch_flags: options put on the sbatch command line before the script path;
            they override the script's ``#SBATCH`` directives (``extra_sbatch_args`` is
            molq's earlier name; both are used, flags first).
        squeue_chunk_size: a poll of at most this many jobs names them on the squeue
            command line; a larger one runs one ``squeue --me`` and keeps its own ids.
        history_window_days: how far back sacct looks when a poll's ids are too many
            for one command line (sacct then lists the user's jobs of those days).
        command_timeout: seconds each SLURM command may run.
    """

    sbatch_path: str = "sbatch"
    squeue_path: str = "squeue"
    scancel_path: str = "scancel"
    sacct_path: str = "sacct"
    extra_sbatch_flags: tuple[str, ...] = ()
    scontrol_path: str = "scontrol"
    extra_sbatch_args: tuple[str, ...] = ()
    squeue_chunk_size: int = 500
    command_timeout: float = 60.0
    history_window_days: int = 14

    def __post_init__(self) -> None:
        owner = "SlurmSchedulerOptions"
        for name in ("sbatch_path", "squeue_path", "scancel_path", "sacct_path", "scontrol_path"):
            command_name(owner, name, getattr(self, name))
        for name in ("extra_sbatch_flags", "extra_sbatch_args"):
            object.__setattr__(self, name, str_tuple(owner, name, getattr(self, name)))
        at_least_one(owner, "squeue_chunk_size", self.squeue_chunk_size)
        at_least_one(owner, "history_window_days", self.history_window_days)
        positive_seconds(owner, "command_timeout", self.command_timeout)

    def command(self, argv: Sequence[str]) -> tuple[str, ...]:
        """``argv`` with its SLURM command replaced by the configured path."""
        paths = {
            "sbatch": self.sbatch_path,
            "squeue": self.squeue_path,
            "scancel": self.scancel_path,
            "sacct": self.sacct_path,
            "scontrol": self.scontrol_path,
        }
        return (paths.get(argv[0], argv[0]), *argv[1:])


class SlurmScheduler:
    """The SLURM batch system, reached through any Transport (local or SSH)."""

    name = "slurm"

    def __init__(self, transport: Transport, options: SlurmSchedulerOptions | None = None) -> None:
        self._transport = transport
        self._options = options or SlurmSchedulerOptions()

    def __repr__(self) -> str:
        return f"SlurmScheduler({self._transport!r}, {self._options!r})"

    def capabilities(self) -> SchedulerCapabilities:
        """Everything a JobSpec can ask for."""
        return SLURM_CAPABILITIES

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render ``<job_dir>/job.sbatch`` and the sbatch argv; nothing is run.

        Raises:
            ConfigError: the spec cannot be expressed as sbatch directives.
        """
        script_path = f"{job_dir}/{SCRIPT_FILE}"
        return Submission(
            argv=self._options.command(
                slurm_submit_argv(script_path, extra=(*self._options.extra_sbatch_flags, *self._options.extra_sbatch_args))
            ),
            script=render_slurm_script(spec, job_dir),
            script_path=script_path,
        )

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        """Write the scripts into ``job_dir``, run sbatch and return the job id.

        Raises:
            ConfigError: the spec cannot be expressed as sbatch directives.
            SchedulerError: sbatch refused the job or printed no job id.
            TransportError: the files could not be written or sbatch not run.
        """
        submission = self.prepare(spec, job_dir)
        write_job_files(self._transport, spec, job_dir, submission)
        done = self._run(submission.argv)
        raise_unless_ok(done, "sbatch refused the job")
        try:
            return parse_sbatch_output(done.stdout)
        except SchedulerOutputError as exc:
            raise SchedulerOutputError(
                str(exc), argv=done.argv, returncode=done.returncode, stderr=done.stderr
            ) from exc

    def poll_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, JobState]:
        """States of the given jobs; ids SLURM does not know are omitted.

        Raises:
            SchedulerError: squeue failed.
        """
        observed = self.observe_many(scheduler_job_ids, job_dirs=job_dirs)
        return {key: obs.state for key, obs in observed.items() if obs.state is not None}

    def observe_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, Observation]:
        """One Observation per id: squeue first, then sacct, scontrol, exit files.

        Raises:
            SchedulerError: squeue failed, so nothing can be said about any job.
        """
        wanted = list(dict.fromkeys(scheduler_job_ids))
        queryable = [key for key in wanted if is_slurm_job_id(key)]
        live = self._squeue(queryable)
        unsettled = [key for key in queryable if needs_accounting(live.get(key))]
        settled = self._settle(unsettled, live, job_dirs or {})
        unknown = Observation(state=None)
        return {key: settled.get(key) or live.get(key) or unknown for key in wanted}

    def array_tasks(self, scheduler_job_id: str) -> dict[str, Observation]:
        """Each task of an array as ``{"123_4": Observation}`` (squeue -r; sacct, then scontrol, for exit codes).

        Raises:
            SchedulerError: squeue failed.
        """
        done = self._run(squeue_tasks_argv(scheduler_job_id), env=QUERY_ENV)
        if not done.ok and not is_unknown_job_error(done.stderr):
            raise_unless_ok(done, "squeue failed")
        accounting = self._run(sacct_tasks_argv(scheduler_job_id), env=QUERY_ENV)
        tasks = parse_task_views(done.stdout if done.ok else "", accounting.stdout if accounting.ok else None)
        if needs_exit_codes(tasks):
            record = self._run(scontrol_tasks_argv(scheduler_job_id), env=QUERY_ENV)
            tasks = with_scontrol(tasks, record.stdout) if record.ok else tasks
        return tasks

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """Run scancel; an id SLURM no longer knows is not an error.

        Raises:
            SchedulerError: scancel failed for another reason.
        """
        done = self._run(scancel_argv(scheduler_job_id))
        if not done.ok and not is_unknown_job_error(done.stderr):
            raise_unless_ok(done, "scancel failed")

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """How the job ended, or None while it runs or if nothing can tell.

        Raises:
            SchedulerError: squeue failed.
        """
        dirs = {scheduler_job_id: job_dir} if job_dir is not None else None
        obs = self.observe_many([scheduler_job_id], job_dirs=dirs)[scheduler_job_id]
        if obs.state is None or not obs.state.is_terminal:
            return None
        return TerminalStatus(
            state=obs.state,
            exit_code=obs.exit_code,
            reason=obs.reason,
            finished_at=obs.finished_at,
            raw_state=obs.raw_state,
        )

    def adopt(self, job_dir: str, spec: JobSpec | None = None) -> str | None:
        """The id of a job an interrupted submission handed to sbatch, found by its script path.

        Raises:
            SchedulerError: squeue failed.
        """
        script_path = f"{job_dir}/{SCRIPT_FILE}"
        done = self._run(adopt_argv(slurm_job_name(spec, job_dir)))
        raise_unless_ok(done, "squeue failed")
        return parse_adopt(done.stdout, script_path)

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The current queue (``squeue --me`` or ``-u user``), molq's jobs or not.

        Raises:
            SchedulerError: squeue failed.
        """
        done = self._run(list_queue_argv(user), env=QUERY_ENV)
        raise_unless_ok(done, "squeue failed")
        return parse_queue(done.stdout)

    def usage_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobUsage]:
        """What the finished jobs used, from one ``sacct`` call (more only past one command line).

        Raises:
            SchedulerError: sacct failed and so did the ``scontrol show job`` fallback.
        """
        del job_dirs  # the accounting knows jobs by id
        found: dict[str, JobUsage] = {}
        ids = tuple(dict.fromkeys(scheduler_job_ids))
        # as many ids per sacct as one command line holds (ADR 0031): one call for a pass's ended jobs
        per_call = max(1, ID_BUDGET // (max(map(len, ids), default=1) + 1))
        for chunk in chunk_ids(ids, per_call):
            done = self._run(sacct_usage_argv(chunk), env=QUERY_ENV)
            if not done.ok:  # no accounting storage: what slurmctld still holds, in one call
                shown = self._run(SCONTROL_USAGE_ARGV, env=QUERY_ENV)
                raise_unless_ok(shown, "neither sacct nor scontrol could report usage")
                return parse_scontrol_usage(shown.stdout, list(scheduler_job_ids))
            found.update(parse_sacct_usage(done.stdout, chunk))
        return found

    # -- helpers -------------------------------------------------------------------

    def _run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> Completed:
        return self._transport.run(self._options.command(argv), env=env, timeout=self._options.command_timeout)

    def _chunks(self, ids: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        return chunk_ids(ids, self._options.squeue_chunk_size)

    def _squeue(self, ids: Sequence[str]) -> dict[str, Observation]:
        """One squeue for the whole poll (ADR 0031); chunks only where ``--me`` is unknown."""
        if not ids:
            return {}
        done = self._run(squeue_poll_argv(ids, ids_limit=self._options.squeue_chunk_size), env=QUERY_ENV)
        if not done.ok and is_unknown_job_error(done.stderr):
            return {}  # a lone unknown id makes squeue exit 1
        if not done.ok and "--me" in done.stderr:
            return self._squeue_chunks(ids)  # Slurm before 20.11
        raise_unless_ok(done, "squeue failed")
        return parse_squeue(done.stdout)

    def _squeue_chunks(self, ids: Sequence[str]) -> dict[str, Observation]:
        found: dict[str, Observation] = {}
        for chunk in self._chunks(ids):
            done = self._run(squeue_argv(chunk), env=QUERY_ENV)
            if not done.ok and is_unknown_job_error(done.stderr):
                continue
            raise_unless_ok(done, "squeue failed")
            found.update(parse_squeue(done.stdout))
        return found

    def _sacct(self, ids: Sequence[str]) -> dict[str, Observation] | None:
        """Accounting for ``ids`` in one sacct, or None when sacct fails (accounting disabled)."""
        done = self._run(sacct_poll_argv(ids, window_days=self._options.history_window_days), env=QUERY_ENV)
        return parse_sacct(done.stdout) if done.ok else None

    def _settle(
        self,
        ids: Sequence[str],
        live: Mapping[str, Observation],
        job_dirs: Mapping[str, str],
    ) -> dict[str, Observation]:
        if not ids:
            return {}
        accounting = self._sacct(ids)
        settled: dict[str, Observation] = {}
        for key in ids:
            seen = live.get(key)
            obs = corroborate(seen, (accounting or {}).get(key))
            if needs_accounting(obs) and (accounting is None or seen is not None):
                obs = corroborate(obs, self._scontrol(key))
            if needs_accounting(obs) and job_dirs.get(key):
                obs = corroborate(obs, self._exit_file(job_dirs[key]))
            if obs is not None:
                settled[key] = obs
        return settled

    def _scontrol(self, job_id: str) -> Observation | None:
        done = self._run(scontrol_argv(job_id), env=QUERY_ENV)
        return parse_scontrol_show_job(done.stdout) if done.ok else None

    def _exit_file(self, job_dir: str) -> Observation | None:
        text = read_exit_file(self._transport, job_dir)
        return exit_file_observation(text) if text is not None else None
