"""SLURM: render sbatch scripts and build query commands (reading the output: ``_slurm_parse``).

Rules of this module:
  Rule 1: pure: text in, values out; no processes, files, clock or environment.
  Rule 2: every user string in a directive goes through ``_value``, so a value can
          neither end the ``#SBATCH`` line nor add an option to it.
  Rule 3: queries run with QUERY_ENV, so ``_slurm_parse`` reads times as epoch seconds only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from .._errors import ConfigError
from .._ports import SchedulerCapabilities
from .._spec import JobResources, JobScheduling, JobSpec
from ._body import render_body
from ._flags import plan_flags


SLURM_CAPABILITIES: Final = SchedulerCapabilities(
    cpu_count=True,
    memory=True,
    time_limit=True,
    gpu_count=True,
    gpu_type=True,
    partition=True,
    account=True,
    priority=True,  # rendered as --nice: an integer, higher is lower priority
    dependencies=True,
    node_count=True,
    exclusive_node=True,
    array_spec=True,
    email=True,
    qos=True,
    reservation=True,
    extra_flags=True,
    output_file=True,
    error_file=True,
    job_name=True,
)
QUERY_ENV: Final[Mapping[str, str]] = {"SLURM_TIME_FORMAT": "%s"}
SQUEUE_FORMAT: Final = "%i|%T|%S|%e|%r"
QUEUE_FORMAT: Final = "%i|%T|%P|%u|%V|%S|%j"
SACCT_FIELDS: Final = "JobID,State,ExitCode,Start,End"
MAIL_TYPES: Final = "END,FAIL"
DEFAULT_CHUNK: Final = 500

_QUERY_ID: Final = re.compile(r"\d+(?:[_+]\d+)?", re.ASCII)
_BARE: Final = re.compile(r"[A-Za-z0-9_.,:/@%+=\-\[\]]+", re.ASCII)
_GPU_TYPE: Final = re.compile(r"[A-Za-z0-9_.\-]+", re.ASCII)


# -- rendering ---------------------------------------------------------------------


def render_slurm_script(spec: JobSpec, job_dir: str) -> str:
    """Render the sbatch script: ``#SBATCH`` directives, then the shared job body.

    Args:
        spec: the job to run; ``spec.scheduling.dependency`` is the compiled
            native expression (e.g. ``afterok:12:13,afternotok:14``).
        job_dir: the job's directory on the cluster (exit code file, defaults).

    Returns:
        The script text.

    Raises:
        ConfigError: a value cannot be expressed as a directive, or an extra flag names
            one molq sets itself.
    """
    directives = [f"#SBATCH {option}" for option in slurm_directives(spec, job_dir)]
    directives += plan_flags(spec, "slurm").lines("slurm")  # the script's own, then extra_flags
    return "\n".join(["#!/bin/bash", *directives, "", render_body(spec, job_dir)])


def slurm_directives(spec: JobSpec, job_dir: str) -> list[str]:
    """The sbatch options for ``spec``, each ready to follow ``#SBATCH``.

    Raises:
        ConfigError: a value cannot be expressed as a directive.
    """
    is_array = spec.scheduling.array_spec is not None
    stdout = _log_path(spec, "stdout", job_dir, is_array=is_array)
    stderr = _log_path(spec, "stderr", job_dir, is_array=is_array)
    name = slurm_job_name(spec, job_dir)
    return [
        _opt("job-name", name),
        _opt("output", stdout),
        _opt("error", stderr),
        _opt("chdir", spec.cwd),
        *_resource_options(spec.resources),
        *_scheduling_options(spec.scheduling),
    ]


def _log_path(spec: JobSpec, stream: str, job_dir: str, *, is_array: bool) -> str:
    given = (
        spec.execution.output_file if stream == "stdout" else spec.execution.error_file
    )
    path = spec.metadata.get(f"molq.{stream}_path") or given or f"{job_dir}/{stream}"
    if is_array and "%a" in path:
        return path  # an array path naming its task is a filename pattern on purpose
    escaped = escape_filename_pattern(path)
    return f"{escaped}.%A_%a" if is_array else escaped


def escape_filename_pattern(path: str) -> str:
    """``path`` as sbatch reads it back literally: every ``%`` doubled.

    sbatch expands ``%j``, ``%x``, ``%u``... in ``--output``/``--error`` (``%%`` is a
    ``%``); ``--chdir`` is taken literally (checked on 22.05), so it is not escaped.
    """
    return path.replace("%", "%%")


def _resource_options(res: JobResources) -> list[str]:
    options = []
    if res.cpu_count is not None:
        options.append(f"--cpus-per-task={res.cpu_count}")
    if res.memory is not None:
        _require_positive("memory", res.memory.n_bytes, "--mem=0 asks for a whole node")
        options.append(f"--mem={res.memory.to_slurm()}")
    if res.time_limit is not None:
        _require_positive(
            "time_limit", res.time_limit.seconds, "--time=0 means no limit"
        )
        options.append(f"--time={res.time_limit.to_slurm()}")
    if res.gpu_count is not None:
        options.append(f"--gres=gpu:{_gpu_prefix(res.gpu_type)}{res.gpu_count}")
    return options


def _require_positive(field: str, amount: int, why: str) -> None:
    if amount <= 0:
        msg = f"resources.{field} must be positive for SLURM ({why}), got 0"
        raise ConfigError(msg)


def _gpu_prefix(gpu_type: str | None) -> str:
    if gpu_type is None:
        return ""
    if not _GPU_TYPE.fullmatch(gpu_type):
        msg = f"invalid gpu_type {gpu_type!r}: use letters, digits, '.', '_' or '-'"
        raise ConfigError(msg)
    return f"{gpu_type}:"


def _scheduling_options(sch: JobScheduling) -> list[str]:
    named = {
        "partition": sch.partition,
        "account": sch.account,
        "qos": sch.qos,
        "reservation": sch.reservation,
        "array": sch.array_spec,
        "dependency": sch.dependency or None,
        "mail-user": sch.email,
    }
    options = [_opt(name, value) for name, value in named.items() if value is not None]
    if sch.dependency:
        options.append("--kill-on-invalid-dep=yes")
    if sch.email is not None:
        options.append(f"--mail-type={MAIL_TYPES}")
    if sch.priority is not None:
        options.append(f"--nice={_nice(sch.priority)}")
    if sch.node_count is not None:
        options.append(f"--nodes={sch.node_count}")
    if sch.exclusive_node:
        options.append("--exclusive")
    return options


def _nice(priority: str) -> int:
    try:
        return int(priority.strip())
    except ValueError:
        msg = (
            f"invalid SLURM priority {priority!r}: it is passed as --nice, so give an "
            "integer (higher is lower priority; negative values need privileges)"
        )
        raise ConfigError(msg) from None


def _opt(name: str, value: str) -> str:
    return f"--{name}={_value(name, value)}"


def _value(name: str, value: str) -> str:
    """Quote a directive value the way sbatch reads it back (checked on 22.05)."""
    if any(c in value for c in "\n\r\0"):
        msg = f"--{name} value {value!r} contains a line break or NUL byte"
        raise ConfigError(msg)
    if _BARE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- commands ----------------------------------------------------------------------


def slurm_job_name(spec: JobSpec | None, job_dir: str) -> str:
    """The job name molq gives a job: the user's, or ``molq-<job dir name>``."""
    if spec is not None and spec.execution.job_name:
        return spec.execution.job_name
    return f"molq-{job_dir.rstrip('/').rsplit('/', 1)[-1]}"


def adopt_argv(name: str) -> tuple[str, ...]:
    """``squeue`` listing every job of that name (finished ones too) with its script path."""
    return ("squeue", "-h", "-t", "all", "-n", name, "-o", "%i|%o")


def parse_adopt(stdout: str, script_path: str) -> str | None:
    """The id of the job whose batch script is ``script_path``, if squeue lists one."""
    for line in stdout.split("\n"):
        job_id, sep, command = line.strip().partition("|")
        if sep and command == script_path and is_slurm_job_id(job_id):
            return job_id
    return None


def slurm_submit_argv(
    script_path: str, *, extra: Sequence[str] = ()
) -> tuple[str, ...]:
    """The sbatch command; site options in ``extra`` override the script's."""
    return ("sbatch", "--parsable", *extra, script_path)


def is_slurm_job_id(text: str) -> bool:
    """Whether ``text`` is an id squeue/sacct accept: ``123``, ``123_4``, ``123+1``."""
    return _QUERY_ID.fullmatch(text) is not None


def _id_list(ids: Sequence[str]) -> str:
    bad = [i for i in ids if not is_slurm_job_id(i)]
    if bad or not ids:
        msg = f"SLURM job ids must look like 123 or 123_4, got {list(bad or ids)!r}"
        raise ConfigError(msg)
    return ",".join(ids)


def squeue_argv(ids: Sequence[str]) -> tuple[str, ...]:
    """The squeue command for ``ids``, in every state slurmctld still knows."""
    return ("squeue", "-h", "-t", "all", "-j", _id_list(ids), "-o", SQUEUE_FORMAT)


def sacct_argv(ids: Sequence[str]) -> tuple[str, ...]:
    """The sacct command: allocation lines (no steps) for ``ids``, ``|``-separated."""
    return ("sacct", "-X", "-P", "-n", "-j", _id_list(ids), "-o", SACCT_FIELDS)


def scontrol_argv(job_id: str) -> tuple[str, ...]:
    """The scontrol command printing one job's full record."""
    return ("scontrol", "show", "job", _id_list([job_id]))


def scancel_argv(job_id: str) -> tuple[str, ...]:
    """Cancel one job (every task, for an array)."""
    return ("scancel", _id_list([job_id]))


def list_queue_argv(user: str | None = None) -> tuple[str, ...]:
    """The squeue command for the current queue: yours (``--me``) or ``user``'s."""
    if user is None:
        return ("squeue", "-h", "--me", "-o", QUEUE_FORMAT)
    if not user or user.startswith("-") or any(c in user for c in "\n\r\0,"):
        msg = f"invalid user name {user!r}"
        raise ConfigError(msg)
    return ("squeue", "-h", "-u", user, "-o", QUEUE_FORMAT)


def chunk_ids(
    ids: Iterable[str], size: int = DEFAULT_CHUNK
) -> tuple[tuple[str, ...], ...]:
    """Split ids into tuples of at most ``size``, keeping order and dropping repeats.

    Raises:
        ConfigError: ``size`` is below 1.
    """
    if size < 1:
        msg = f"chunk size must be at least 1, got {size}"
        raise ConfigError(msg)
    unique = tuple(dict.fromkeys(ids))
    return tuple(unique[i : i + size] for i in range(0, len(unique), size))


def is_unknown_job_error(stderr: str) -> bool:
    """Whether a failed squeue/scontrol only said that the job id is unknown."""
    return "Invalid job id specified" in stderr


