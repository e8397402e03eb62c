"""PBSScheduler: OpenPBS / PBS Pro and Torque (also Slurm's Torque wrappers) over any Transport.

The dialect is detected once per scheduler (``qstat --version``) and kept; see
docs/adr/0019-pbs-dialect-detection.md. Rendering and parsing live in
``molq.core._sched._pbs*``; this module only runs commands and feeds their text back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import attrs

from molq.core import (
    Completed,
    JobSpec,
    JobState,
    Observation,
    QueueEntry,
    SchedulerCapabilities,
    SchedulerError,
    Submission,
    TerminalStatus,
    Transport,
    check_capabilities,
)
from molq.core._context import CANCEL_MARKER
from molq.core._sched._batch import terminal_status
from molq.core._sched._pbs import (
    PBS_CAPABILITIES,
    PBS_SCRIPT_FILE,
    PbsFlavor,
    parse_qsub_output,
    pbs_submit_name,
    prepare_pbs,
)
from molq.core._sched._pbs_dialect import (
    adopt_select_argv,
    dialect_from_version,
    json_supported,
    listing_argv,
    listing_is_empty,
    match_keys,
    parse_adopt,
    parse_listing,
    relevant_jobs,
    tasks_argv,
    version_argv,
)
from molq.core._sched._pbs_outcome import (
    array_tasks,
    confirm_success,
    exit_file_signal,
    needs_exit_file,
    observation_from_attrs,
    observations,
)
from molq.core._sched._pbs_parse import JobAttrs, parse_qstat_errors, qdel_outcome, queue_entries
from molq.core._sched._pbs_usage import pbs_usage_many
from molq.core._sched._poll_scope import fits, pbs_history_argv
from molq.core._usage import JobUsage
from molq.shell.schedulers._batch_jobs import (
    command_failed,
    raise_unless_ok,
    read_exit_file,
    with_exit_file,
    write_job_files,
)
from molq.shell.schedulers._option_checks import (
    at_least_one,
    command_name,
    flag,
    one_of,
    optional_text,
    positive_seconds,
    str_tuple,
)


@dataclass(frozen=True, slots=True)
class PBSSchedulerOptions:
    """How molq talks to PBS.

    Attributes:
        flavor: ``auto`` (ask ``qstat --version`` once), ``pro`` (OpenPBS / PBS
            Professional: JSON, ``qstat -x`` history) or ``torque`` (Torque, Slurm's
            Torque wrappers: text ``qstat -f``, finished jobs as ``C``).
        use_history: ask ``qstat -x`` about jobs the ``pro`` queue no longer lists.
        chunk_size: unused since one ``qstat -x`` serves a whole poll (ADR 0031); kept
            so settings that name it still load.
        timeout: seconds allowed per scheduler command.
        bin_dir: directory of qsub/qstat/qdel/qselect (e.g. ``/opt/pbs/bin`` when the
            remote PATH finds another ``qsub`` first); None means PATH.
        json: read ``qstat -F json`` on ``pro`` servers; None decides by the
            server's pbs_version (PBS Pro >= 13, every OpenPBS), False reads text.
        qsub_daemon: let OpenPBS's qsub leave its background process (faster for
            rapid submissions); by default molq passes ``-f`` so none outlives it.
    """

    flavor: Literal["auto", "pro", "torque"] = "auto"
    use_history: bool = True
    chunk_size: int = 1000
    timeout: float = 60.0
    bin_dir: str | None = None
    json: bool | None = None
    qsub_daemon: bool = False
    qsub: str = "qsub"
    qstat: str = "qstat"
    qdel: str = "qdel"
    qselect: str = "qselect"
    # Upstream molq's spellings (issue 18): a path set here wins over the short name above.
    qsub_path: str = "qsub"
    qstat_path: str = "qstat"
    qdel_path: str = "qdel"
    tracejob_path: str = "tracejob"
    extra_qsub_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        owner = "PBSSchedulerOptions"
        one_of(owner, "flavor", self.flavor, ("auto", "pro", "torque"))
        at_least_one(owner, "chunk_size", self.chunk_size)
        positive_seconds(owner, "timeout", self.timeout)
        for name in ("use_history", "qsub_daemon"):
            flag(owner, name, getattr(self, name))
        flag(owner, "json", self.json, optional=True)
        optional_text(owner, "bin_dir", self.bin_dir)
        for name in ("qsub", "qstat", "qdel", "qselect", "qsub_path", "qstat_path", "qdel_path", "tracejob_path"):
            command_name(owner, name, getattr(self, name))
        object.__setattr__(self, "extra_qsub_flags", str_tuple(owner, "extra_qsub_flags", self.extra_qsub_flags))

    def command(self, name: str) -> str:
        """The path or name to run for ``name`` (one of qsub, qstat, qdel, qselect, tracejob)."""
        path = str(getattr(self, f"{name}_path", name))
        program = path if path != name else str(getattr(self, name, name))
        if self.bin_dir and "/" not in program:
            return f"{self.bin_dir.rstrip('/')}/{program}"
        return program


class PBSScheduler:
    """Submits with ``qsub``, observes with one ``qstat`` listing (+ ``qstat -x``), cancels with ``qdel``."""

    name = "pbs"

    def __init__(self, transport: Transport, options: PBSSchedulerOptions | None = None) -> None:
        self._transport = transport
        self._options = options or PBSSchedulerOptions()
        self._dialect: PbsFlavor | None = None if self._options.flavor == "auto" else self._options.flavor
        self._json = True if self._options.json is None else self._options.json

    def __repr__(self) -> str:
        return f"PBSScheduler({self._transport!r}, {self._options!r})"

    @property
    def dialect(self) -> PbsFlavor:
        """``pro`` or ``torque``: asked of ``qstat --version`` on first use, then kept.

        Raises:
            SchedulerError: qstat cannot be run at all.
        """
        if self._dialect is None:
            done = self._run(version_argv(self._options.command("qstat")))
            if done.returncode in (126, 127):
                raise command_failed(done, "cannot run qstat (set scheduler_options bin_dir, or PATH)")
            self._dialect = dialect_from_version(done.returncode, done.stdout)
            if self._options.json is None:
                self._json = json_supported(done.stdout)
        return self._dialect

    def capabilities(self) -> SchedulerCapabilities:
        """What PBS can honour."""
        return PBS_CAPABILITIES

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render the ``#PBS`` script and ``qsub`` argv without running anything."""
        qsub = self._options.command("qsub")
        submission = prepare_pbs(spec, job_dir, flavor=self.dialect, qsub=qsub, foreground=not self._options.qsub_daemon)
        if not self._options.extra_qsub_flags:
            return submission
        argv = (submission.argv[0], *self._options.extra_qsub_flags, *submission.argv[1:])
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

    def poll_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobState]:
        """States of the jobs PBS knows; unknown ids are left out."""
        observed = self.observe_many(scheduler_job_ids, job_dirs=job_dirs)
        return {i: o.state for i, o in observed.items() if o.state is not None}

    def observe_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, Observation]:
        """One Observation per id: one queue listing, ``qstat -x`` for the rest (pro), exit files.

        Raises:
            SchedulerError: qstat failed for a reason other than unknown ids.
            SchedulerOutputError: qstat printed something unreadable.
        """
        ids = list(dict.fromkeys(scheduler_job_ids))
        dirs = job_dirs or {}
        jobs = self._listing()
        keys = match_keys(ids, jobs)
        missing = [i for i in ids if i not in keys]
        if missing and self.dialect == "pro" and self._options.use_history:
            history = self._history(missing)
            jobs = {**jobs, **history}
            keys |= match_keys(missing, history)
        seen = observations(relevant_jobs(jobs, list(keys.values())))
        return {i: self._observation(jobs, keys.get(i), seen, dirs.get(i)) for i in ids}

    def _observation(
        self, jobs: JobAttrs, key: str | None, seen: Mapping[str, Observation], job_dir: str | None
    ) -> Observation:
        if key is None:
            return with_exit_file(self._transport, None, job_dir, scheduler="PBS")
        if job_dir and needs_exit_file(jobs[key]):
            text = read_exit_file(self._transport, job_dir)
            asked = exit_file_signal(text) is not None and self._transport.exists(f"{job_dir}/{CANCEL_MARKER}")
            return observation_from_attrs(jobs[key], exit_file=text, cancel_requested=asked)
        if job_dir and seen[key].state is JobState.SUCCEEDED and "array" not in jobs[key]:
            return confirm_success(seen[key], read_exit_file(self._transport, job_dir))
        return seen[key]

    def array_tasks(self, scheduler_job_id: str) -> dict[str, Observation]:
        """Each subjob's Observation for an OpenPBS array (``qstat -x -f -t``); {} on torque.

        Slurm's Torque wrappers list an array's tasks under unrelated ids, so there is
        no per-task view there.

        Raises:
            SchedulerError: qstat failed.
        """
        if self.dialect != "pro":
            return {}
        jobs = self._query(tasks_argv(self._options.command("qstat"), "pro", scheduler_job_id, json=self._json))
        seen = observations(jobs)
        return next(iter(array_tasks(jobs, seen).values()), {})

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """``qdel`` the job; a job that already finished or is unknown is left alone.

        Raises:
            SchedulerError: qdel failed for another reason.
        """
        done = self._run((self._options.command("qdel"), scheduler_job_id))
        if qdel_outcome(done.returncode, done.stderr, done.stdout) == "error":
            raise command_failed(done, f"qdel failed for {scheduler_job_id}")

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """How a finished job ended (history, then the exit_code file), else None."""
        dirs = {scheduler_job_id: job_dir} if job_dir else None
        obs = self.observe_many([scheduler_job_id], job_dirs=dirs)[scheduler_job_id]
        return terminal_status(obs)

    def adopt(self, job_dir: str, spec: JobSpec | None = None) -> str | None:
        """The id of a job an interrupted submission handed to qsub, found by name and script.

        Raises:
            SchedulerError: qstat or qselect failed.
        """
        if spec is None:
            return None
        name = pbs_submit_name(spec, job_dir)
        script_path = f"{job_dir}/{PBS_SCRIPT_FILE}"
        if self.dialect == "torque":
            return parse_adopt(self._listing(), name=name, script_path=script_path)
        done = self._run(adopt_select_argv(self._options.command("qselect"), name))
        raise_unless_ok(done, "qselect failed")
        candidates = done.stdout.split()
        return parse_adopt(self._history(candidates), name=name, script_path=script_path) if candidates else None

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """Jobs the server lists (molq's or not), optionally only ``user``'s.

        Raises:
            SchedulerError: qstat failed.
        """
        return queue_entries(self._listing(), user=user)

    def usage_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobUsage]:
        """What the finished jobs used: ``resources_used`` from one ``qstat -x -f`` per chunk.

        Torque (Slurm's wrappers) has no history query: its plain ``qstat -f`` shows
        finished jobs without ``resources_used`` (the usage then says so).

        Raises:
            SchedulerError: qstat failed for a reason other than unknown ids.
        """
        del job_dirs  # the accounting knows jobs by id
        ids = list(dict.fromkeys(scheduler_job_ids))
        if self.dialect == "pro":
            jobs = self._history(ids)
        else:
            jobs = self._query((self._options.command("qstat"), "-f", *(ids if fits(ids) else ())))
        return pbs_usage_many(jobs, ids)

    # -- commands ------------------------------------------------------------------

    def _listing(self) -> JobAttrs:
        argv = listing_argv(self._options.command("qstat"), self.dialect, json=self._json)
        done = self._run(argv)
        if listing_is_empty(done.returncode, done.stdout, done.stderr):
            return {}
        raise_unless_ok(done, "qstat could not list the queue (is the PBS server up?)")
        return parse_listing(self.dialect, done.stdout, json=self._json)

    def _history(self, ids: Sequence[str]) -> JobAttrs:
        """One ``qstat -x`` for every id (the server's history when they are too many; ADR 0031)."""
        return self._query(pbs_history_argv(self._options.command("qstat"), ids, json=self._json))

    def _query(self, argv: Sequence[str]) -> JobAttrs:
        done = self._run(argv)
        unknown, finished, other = parse_qstat_errors(done.stderr)
        if done.returncode != 0 and (other or not (unknown or finished)):
            raise command_failed(done, "qstat failed")
        return parse_listing(self.dialect, done.stdout, json=self._json)

    def _run(self, argv: Sequence[str], *, cwd: str | None = None) -> Completed:
        return self._transport.run(argv, cwd=cwd, timeout=self._options.timeout)


__all__ = ["PBSScheduler", "PBSSchedulerOptions", "SchedulerError"]
