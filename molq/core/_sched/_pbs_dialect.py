"""Which PBS a cluster speaks, and the qstat commands molq runs for each dialect.

Two dialects (docs/adr/0019-pbs-dialect-detection.md):
  * ``pro``: OpenPBS / PBS Professional: ``qstat --version`` prints ``pbs_version =``;
    ``qstat -f -F json`` lists the queue, ``qstat -x`` keeps finished jobs (history).
  * ``torque``: Torque, and Slurm's Torque-style wrappers: text ``qstat -f`` only,
    finished jobs show as ``C`` while the server keeps them, no history.

Rules of this module:
  Rule 1: pure: the shell runs the argv and hands the text back.
  Rule 2: a poll is one queue listing plus, on ``pro``, one history query for the ids
    the listing no longer shows (chunked only beyond ``chunk`` ids).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from ._pbs import PbsFlavor
from ._pbs_parse import JobAttrs, parse_qstat_full, parse_qstat_json, sequence_key


NO_JOBS_RC: Final = 153  # PBSE_UNKJOBID; Slurm's wrapper qstat also exits 153 when it lists nothing
JSON_SINCE_MAJOR: Final = 13  # PBS Professional 13.0 added qstat -F json; OpenPBS (18+) has it
_PBS_VERSION: Final = re.compile(r"pbs_version\s*=\s*(\d+)")


def version_argv(qstat: str) -> tuple[str, ...]:
    """The probe: OpenPBS and PBS Pro answer ``pbs_version = …``; Torque says its version."""
    return (qstat, "--version")


def dialect_from_version(returncode: int, stdout: str) -> PbsFlavor:
    """``pro`` when ``qstat --version`` names a pbs_version, else ``torque``."""
    return "pro" if returncode == 0 and "pbs_version" in stdout else "torque"


def json_supported(version_stdout: str) -> bool:
    """Whether a ``pro`` server's qstat has ``-F json`` (PBS Pro >= 13, every OpenPBS)."""
    match = _PBS_VERSION.search(version_stdout)
    return match is None or int(match.group(1)) >= JSON_SINCE_MAJOR


def listing_argv(qstat: str, dialect: PbsFlavor, *, json: bool = True) -> tuple[str, ...]:
    """Every job the server has in its queue, one command whatever their number."""
    return (qstat, "-f", "-F", "json") if dialect == "pro" and json else (qstat, "-f")


def history_argv(qstat: str, ids: Sequence[str], *, json: bool = True) -> tuple[str, ...]:
    """``pro`` history of ``ids`` with array subjobs (``-t``), as JSON where the server has it."""
    return (qstat, "-x", "-f", *(("-F", "json") if json else ()), "-t", *ids)


def tasks_argv(qstat: str, dialect: PbsFlavor, array_id: str, *, json: bool = True) -> tuple[str, ...]:
    """An array and its subjobs (``pro``); the torque dialect has no per-task query."""
    return history_argv(qstat, [array_id], json=json) if dialect == "pro" else (qstat, "-f", array_id)


def parse_listing(dialect: PbsFlavor, stdout: str, *, json: bool = True) -> JobAttrs:
    """Parse what :func:`listing_argv` or :func:`history_argv` printed.

    Raises:
        SchedulerOutputError: the text is not what that dialect prints.
    """
    return parse_qstat_json(stdout) if dialect == "pro" and json else parse_qstat_full(stdout)


def listing_is_empty(returncode: int, stdout: str, stderr: str) -> bool:
    """Slurm's wrapper ``qstat -f`` exits 153 with no output when no job exists."""
    return returncode == NO_JOBS_RC and not stdout.strip() and not stderr.strip()


def match_keys(requested: Sequence[str], jobs: Mapping[str, object]) -> dict[str, str]:
    """``{requested id: id as qstat printed it}``, matching ``12`` to ``12.server``."""
    by_seq = {sequence_key(job_id): job_id for job_id in jobs}
    keys: dict[str, str] = {}
    for job_id in requested:
        key = job_id if job_id in jobs else by_seq.get(sequence_key(job_id))
        if key is not None:
            keys[job_id] = key
    return keys


def relevant_jobs(jobs: JobAttrs, keys: Sequence[str]) -> JobAttrs:
    """The jobs named by ``keys`` and the subjobs of those that are arrays."""
    wanted = set(keys)
    return {k: v for k, v in jobs.items() if k in wanted or v.get("array_id", "") in wanted}


def adopt_select_argv(qselect: str, name: str) -> tuple[str, ...]:
    """OpenPBS ids of every job (finished ones too) with that name."""
    return (qselect, "-x", "-N", name)


def parse_adopt(jobs: Mapping[str, Mapping[str, str]], *, name: str, script_path: str) -> str | None:
    """The id of the job molq submitted as ``script_path`` under ``name``, if listed.

    OpenPBS records the qsub arguments (``Submit_arguments``), so the script path must
    match; the torque dialect shows only the name, which molq makes unique per job dir.
    """
    for job_id, attrs in jobs.items():
        if attrs.get("Job_Name") != name or attrs.get("array_id"):
            continue
        submitted = attrs.get("Submit_arguments")
        if submitted is None or submitted.split()[-1:] == [script_path]:
            return job_id
    return None
