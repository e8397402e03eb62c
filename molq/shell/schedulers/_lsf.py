"""LSFScheduler: IBM Spectrum LSF and OpenLava over any Transport.

The dialect (``bjobs -o`` or the long form) is detected once per scheduler from
``bjobs -V`` and kept; see docs/adr/0020-lsf-dialect-detection.md.
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
    Submission,
    TerminalStatus,
    Transport,
    TransportError,
    check_capabilities,
)
from molq.core._context import CANCEL_MARKER
from molq.core._sched._batch import terminal_status
from molq.core._sched._lsf import LSF_CAPABILITIES, LSF_REPORT_FILE, parse_bsub_output, prepare_lsf
from molq.core._sched._lsf_dialect import (
    QUERY_ENV,
    VERSION_ARGV,
    LsfDialect,
    adopt_argv,
    adopt_from_rows,
    detect_dialect,
    queue_argv,
    status_argv,
)
from molq.core._sched._lsf_long import (
    adopt_from_long,
    after_cancel_request,
    long_queue,
    never_satisfied_keys,
    observe_long,
    observe_records,
    parse_long,
)
from molq.core._sched._lsf_long import needs_history as long_needs_history
from molq.core._sched._lsf_parse import bkill_outcome, parse_bjobs_errors, parse_queue, parse_status
from molq.core._sched._lsf_tasks import needs_history, tasks_from_long, tasks_from_rows
from molq.core._sched._lsf_usage import bjobs_usage_argv, parse_bjobs_usage
from molq.core._sched._poll_scope import bhist_poll_argv
from molq.core._usage import JobUsage
from molq.shell.schedulers._batch_jobs import command_failed, raise_unless_ok, with_exit_file, write_job_files
from molq.shell.schedulers._option_checks import (
    at_least_one,
    command_name,
    one_of,
    optional_text,
    positive_seconds,
    str_tuple,
)


@dataclass(frozen=True, slots=True)
class LSFSchedulerOptions:
    """How molq talks to LSF.

    Attributes:
        chunk_size: at most this many job ids on one bjobs command line; a poll of
            more lists the user's jobs instead (one command whatever the number).
        timeout: seconds allowed per scheduler command.
        dialect: ``auto`` (ask ``bjobs -V`` once), ``openlava`` (``bjobs -l``) or
            ``ibm`` (``bjobs -o``, LSF >= 9.1).
        setup: a shell file sourced before every LSF command (e.g.
            ``/opt/openlava/etc/openlava.sh``) where the login environment lacks it.
    """

    chunk_size: int = 200
    timeout: float | None = 120.0
    bsub: str = "bsub"
    bjobs: str = "bjobs"
    bkill: str = "bkill"
    bhist: str = "bhist"
    dialect: Literal["auto", "openlava", "ibm"] = "auto"
    setup: str | None = None
    # Upstream molq's spellings (issue 18): a path set here wins over the short name above.
    bsub_path: str = "bsub"
    bjobs_path: str = "bjobs"
    bkill_path: str = "bkill"
    bhist_path: str = "bhist"
    extra_bsub_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        owner = "LSFSchedulerOptions"
        at_least_one(owner, "chunk_size", self.chunk_size)
        positive_seconds(owner, "timeout", self.timeout, optional=True)
        one_of(owner, "dialect", self.dialect, ("auto", "openlava", "ibm"))
        optional_text(owner, "setup", self.setup)
        for name in ("bsub", "bjobs", "bkill", "bhist", "bsub_path", "bjobs_path", "bkill_path", "bhist_path"):
            command_name(owner, name, getattr(self, name))
        object.__setattr__(self, "extra_bsub_flags", str_tuple(owner, "extra_bsub_flags", self.extra_bsub_flags))

    def command(self, name: str) -> str:
        """The command to run for ``bsub``/``bjobs``/``bkill``/``bhist``."""
        path: str = getattr(self, f"{name}_path")
        return path if path != name else getattr(self, name, name)


class LSFScheduler:
    """Submits with ``bsub < job.lsf``, observes with ``bjobs`` (then ``bhist``), kills with ``bkill``."""

    name = "lsf"

    def __init__(self, transport: Transport, options: LSFSchedulerOptions | None = None) -> None:
        self._transport = transport
        self._options = options or LSFSchedulerOptions()
        self._dialect: LsfDialect | None = None if self._options.dialect == "auto" else self._options.dialect

    def capabilities(self) -> SchedulerCapabilities:
        """What LSF can honour."""
        return LSF_CAPABILITIES

    def dialect(self) -> LsfDialect:
        """The cluster's dialect, asked of ``bjobs -V`` on first use and kept.

        Raises:
            SchedulerError: bjobs -V failed.
        """
        if self._dialect is None:
            done = self._run(VERSION_ARGV)
            raise_unless_ok(done, "bjobs -V failed")
            self._dialect = detect_dialect(done.stdout + done.stderr)
        return self._dialect

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
        submission = self.prepare(spec, job_dir)  # with extra_bsub_flags, as the dry run shows
        write_job_files(self._transport, spec, job_dir, submission)
        done = self._run(submission.argv, stdin=submission.script.encode(), cwd=job_dir)
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
        """One Observation per id: one ``bjobs``, ``bhist`` for what it cannot tell, then exit files.

        A pending job whose dependency can never be met is CANCELLED and killed.

        Raises:
            SchedulerError: bjobs failed for a reason other than unknown ids.
            SchedulerOutputError: bjobs printed something unreadable.
        """
        ids = list(dict.fromkeys(scheduler_job_ids))
        if not ids:
            return {}
        dialect = self.dialect()
        text = self._bjobs(status_argv(dialect, ids, ids_limit=self._options.chunk_size))
        unsure: set[str] = set()
        if dialect == "ibm":
            found = parse_status(text)
        else:
            records = parse_long(text)
            found = observe_records(records)
            unsure = {r.job_id for r in records if long_needs_history(r)}
            self._kill_never_satisfied(never_satisfied_keys(records), ids)
        found |= self._history([i for i in ids if i not in found or i in unsure], found)
        dirs = job_dirs or {}
        for i in unsure & set(dirs):
            cancelled = after_cancel_request(found[i])
            if cancelled != found[i] and self._transport.exists(f"{dirs[i]}/{CANCEL_MARKER}"):
                found[i] = cancelled
        return {i: with_exit_file(self._transport, found.get(i), dirs.get(i), scheduler="LSF") for i in ids}

    def array_tasks(self, scheduler_job_id: str) -> dict[str, Observation]:
        """Each element of an array as ``{"123[4]": Observation}``: ``bjobs -a``, then ``bhist -l`` for unsure exits.

        Raises:
            SchedulerError: bjobs failed for a reason other than an unknown id.
            SchedulerOutputError: bjobs printed something unreadable.
        """
        dialect = self.dialect()
        text = self._bjobs(status_argv(dialect, [scheduler_job_id], ids_limit=self._options.chunk_size))
        if dialect == "ibm":
            return tasks_from_rows(text, scheduler_job_id)
        history = self._bjobs(bhist_poll_argv([scheduler_job_id])) if needs_history(text, scheduler_job_id) else None
        return tasks_from_long(text, scheduler_job_id, history)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """``bkill`` the job; a job that already finished or is unknown is left alone.

        Raises:
            SchedulerError: bkill failed for another reason.
        """
        done = self._run(("bkill", scheduler_job_id))
        if bkill_outcome(done.returncode, done.stdout + done.stderr) == "error":
            raise command_failed(done, f"bkill failed for {scheduler_job_id}")

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """How a finished job ended (bjobs, bhist, then the exit_code file), else None."""
        dirs = {scheduler_job_id: job_dir} if job_dir else None
        obs = self.observe_many([scheduler_job_id], job_dirs=dirs)[scheduler_job_id]
        return terminal_status(obs)

    def adopt(self, job_dir: str, spec: JobSpec | None = None) -> str | None:
        """The id of a job an interrupted submission handed to bsub, found by its LSF output file.

        Raises:
            SchedulerError: bjobs failed.
        """
        if not job_dir:
            return None
        dialect = self.dialect()
        text = self._bjobs(adopt_argv(dialect))
        output_file = f"{job_dir}/{LSF_REPORT_FILE}"
        if dialect == "ibm":
            return adopt_from_rows(text, output_file)
        return adopt_from_long(text, output_file)

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """Unfinished jobs of ``user`` (all when None), one entry per array element.

        Raises:
            SchedulerError: bjobs failed.
        """
        dialect = self.dialect()
        text = self._bjobs(queue_argv(dialect, user))
        return parse_queue(text) if dialect == "ibm" else long_queue(text)

    def usage_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobUsage]:
        """What the finished jobs used: one ``bjobs -a -l -UF``, then one ``bhist -l`` for the rest.

        Raises:
            SchedulerError: bjobs failed for a reason other than unknown ids.
        """
        del job_dirs  # the accounting knows jobs by id
        ids = list(dict.fromkeys(scheduler_job_ids))
        if not ids:
            return {}
        found = parse_bjobs_usage(self._bjobs(bjobs_usage_argv(ids)), ids)
        forgotten = [i for i in ids if i not in found]  # past CLEAN_PERIOD: bhist still has them
        if forgotten:
            found |= parse_bjobs_usage(self._bjobs(bhist_poll_argv(forgotten)), forgotten)
        return found

    # -- helpers -------------------------------------------------------------------

    def _bjobs(self, argv: tuple[str, ...]) -> str:
        """The stdout of a bjobs or bhist query; "not found" ids are no error, anything else is."""
        done = self._run(argv)
        if done.ok:
            return done.stdout  # nothing to read for errors: a large poll's output is not scanned twice
        said = done.stderr if done.stderr.strip() else done.stdout  # bhist: "No matching job found" on stdout
        _unknown, other = parse_bjobs_errors(said)
        if other or not said.strip():
            raise command_failed(done, f"{argv[0]} failed")
        return done.stdout

    def _history(self, ids: list[str], found: Mapping[str, Observation]) -> dict[str, Observation]:
        """What ``bhist -l`` adds: the end of jobs bjobs forgot, and whether an exit was a bkill."""
        if not ids:
            return {}
        told = observe_long(self._bjobs(bhist_poll_argv(ids)))
        return {
            i: obs
            for i, obs in told.items()
            if i in ids and (i not in found or (obs.state is not None and obs.state.is_terminal))
        }

    def _kill_never_satisfied(self, keys: list[str], ids: Sequence[str]) -> None:
        """Bkill what can never run (molq reports it CANCELLED; OpenLava would keep it pending)."""
        wanted = set(ids)
        doomed = [key for key in keys if key.split("[", 1)[0] in wanted]
        if doomed:
            self._run(("bkill", *doomed))

    def _run(self, argv: Sequence[str], *, stdin: bytes | None = None, cwd: str | None = None) -> Completed:
        programs = {name: self._options.command(name) for name in ("bsub", "bjobs", "bkill", "bhist")}
        command = (programs.get(argv[0], argv[0]), *argv[1:])
        if self._options.setup is not None:
            command = ("/bin/sh", "-c", '. "$0" && exec "$@"', self._options.setup, *command)
        try:
            return self._transport.run(command, stdin=stdin, cwd=cwd, env=QUERY_ENV, timeout=self._options.timeout)
        except TransportError as exc:
            if self._options.setup is not None or "command not found" not in str(exc):
                raise
            msg = (
                f"{exc}: LSF's clients are not on PATH there; set scheduler_options "
                "LSFSchedulerOptions(setup=...) to the file that sets up LSF (e.g. /opt/openlava/etc/openlava.sh)"
            )
            raise TransportError(msg) from exc
