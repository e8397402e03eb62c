"""SLURM: render sbatch scripts, build query commands, parse what SLURM prints.

Rules of this module:
  Rule 1: pure: text in, values out; no processes, files, clock or environment.
  Rule 2: every user string in a directive goes through ``_value``, so a value can
          neither end the ``#SBATCH`` line nor add an option to it.
  Rule 3: parsers skip lines they cannot read, and never report a terminal state
          the text does not name; a state missing from SLURM_STATES becomes None.
  Rule 4: times are read as epoch seconds only (queries run with QUERY_ENV).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from .._errors import ConfigError, SchedulerOutputError
from .._ports import SchedulerCapabilities
from .._records import Observation, QueueEntry
from .._spec import JobResources, JobScheduling, JobSpec
from .._state import JobState
from ._body import EXIT_CODE_FILE, render_body
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

_Q, _R, _OK = JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED
_F, _C, _T = JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT
SLURM_STATES: Final[Mapping[str, JobState]] = {
    **dict.fromkeys(
        (
            *("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD"),
            *("RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE"),
        ),
        _Q,
    ),
    **dict.fromkeys(
        (
            *("RUNNING", "COMPLETING", "STAGE_OUT", "SUSPENDED", "STOPPED"),
            *("SIGNALING", "RESIZING", "UPDATE_DB"),
        ),
        _R,
    ),
    "COMPLETED": _OK,
    **dict.fromkeys(("FAILED", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"), _F),
    "BOOT_FAIL": _F,
    **dict.fromkeys(("CANCELLED", "REVOKED"), _C),
    **dict.fromkeys(("TIMEOUT", "DEADLINE"), _T),
}
_PLAIN_NAMES: Final = frozenset(
    {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
)
_SEVERITY: Final = (_F, _T, _C, JobState.LOST, _OK)
_ID: Final = re.compile(r"(\d+)(?:[_+](?:\d+|\[[0-9,%:\-]+\]))?", re.ASCII)
_QUERY_ID: Final = re.compile(r"\d+(?:[_+]\d+)?", re.ASCII)
_EPOCH: Final = re.compile(r"[0-9]{1,12}", re.ASCII)
_EXIT: Final = re.compile(r"([0-9]{1,3}):([0-9]{1,3})", re.ASCII)
_BARE: Final = re.compile(r"[A-Za-z0-9_.,:/@%+=\-\[\]]+", re.ASCII)
_GPU_TYPE: Final = re.compile(r"[A-Za-z0-9_.\-]+", re.ASCII)
_SBATCH_ID: Final = re.compile(r"(\d+)(?:;\S+)?", re.ASCII)
_KEY_VALUE: Final = re.compile(r"(?:^|\s)([A-Za-z]+)=(\S*)")


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


# -- parsing -----------------------------------------------------------------------


def parse_sbatch_output(stdout: str) -> str:
    """The job id from ``sbatch --parsable``: ``123`` or ``123;cluster``.

    Raises:
        SchedulerOutputError: no line is a job id.
    """
    for line in reversed(stdout.split("\n")):
        match = _SBATCH_ID.fullmatch(line.strip())
        if match:
            return match.group(1)
    msg = f"sbatch printed no job id: {stdout[:200]!r}"
    raise SchedulerOutputError(msg)


def slurm_state(raw: str) -> JobState | None:
    """Map a SLURM state (``COMPLETED``, ``CANCELLED by 0``, ``RUNNING+``) to ours.

    Returns:
        The state, or None for a state this table does not know.
    """
    return SLURM_STATES.get(_native(raw))


def _native(raw: str) -> str:
    words = raw.split()
    return words[0].rstrip("+") if words else ""


def parse_exit_code(text: str) -> int | None:
    """``3:0`` → 3; a signal ``0:15`` → 143 (128 + signal), as a shell reports it."""
    match = _EXIT.fullmatch(text.strip())
    if match is None:
        return None
    code, signal = int(match.group(1)), int(match.group(2))
    return 128 + signal if signal else code


def parse_exit_code_file(text: str) -> int | None:
    """The exit status written by the job body to ``exit_code``, if it is one."""
    stripped = text.strip()
    if not _EPOCH.fullmatch(stripped) or int(stripped) > 255:
        return None
    return int(stripped)


def exit_file_observation(text: str) -> Observation | None:
    """What an ``exit_code`` file alone says: the script ran to the end."""
    code = parse_exit_code_file(text)
    if code is None:
        return None
    state = _OK if code == 0 else _F
    return Observation(state=state, exit_code=code, reason=f"{EXIT_CODE_FILE} file")


def _epoch(text: str) -> float | None:
    stripped = text.strip()
    if not _EPOCH.fullmatch(stripped) or int(stripped) == 0:
        return None
    return float(stripped)


def observation(
    raw: str, *, exit_text: str = "", start: str = "", end: str = "", reason: str = ""
) -> Observation:
    """One job's fields, as printed by SLURM, turned into an Observation."""
    state = slurm_state(raw)
    native = _native(raw)
    note = reason.strip()
    if state is not None and native not in _PLAIN_NAMES:
        note = native
    exit_code = parse_exit_code(exit_text)
    if state is _OK and exit_code is None:
        exit_code = 0
    ended = state is not None and state.is_terminal
    return Observation(
        state=state,
        raw_state=raw.strip(),
        exit_code=exit_code if ended else None,
        started_at=_epoch(start) if state is not None and state is not _Q else None,
        finished_at=_epoch(end) if ended else None,
        reason=note if note not in ("", "None", "(null)") else None,
    )


def _rows(stdout: str, width: int) -> Iterable[list[str]]:
    for line in stdout.split("\n"):
        fields = line.lstrip().split("|", width - 1)
        if len(fields) == width and _ID.fullmatch(fields[0]):
            yield fields


def parse_squeue(stdout: str) -> dict[str, Observation]:
    """Parse ``squeue -o SQUEUE_FORMAT`` by id; array tasks also under their base id."""
    rows = {
        job_id: observation(raw, start=start, end=end, reason=reason)
        for job_id, raw, start, end, reason in _rows(stdout, 5)
    }
    return _with_parents(rows)


def parse_sacct(stdout: str) -> dict[str, Observation]:
    """Parse ``sacct -X -P -n -o SACCT_FIELDS`` by id; tasks also under the base id."""
    rows = {
        job_id: observation(raw, exit_text=code, start=start, end=end)
        for job_id, raw, code, start, end in _rows(stdout, 5)
    }
    return _with_parents(rows)


def parse_scontrol_show_job(stdout: str) -> Observation | None:
    """Parse ``scontrol show job``; an array's task records are combined into one."""
    records = [_scontrol_record(chunk) for chunk in re.split(r"\n[ \t\r]*\n", stdout)]
    found = [record for record in records if record is not None]
    return combine(found) if found else None


def _scontrol_record(text: str) -> Observation | None:
    lines = text.strip().split("\n")
    if not lines or not lines[0].startswith("JobId="):
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:  # line 0 holds JobName, which the user chose
        for key, value in _KEY_VALUE.findall(line):
            fields.setdefault(key, value)
    if "JobState" not in fields:
        return None
    return observation(
        fields["JobState"],
        exit_text=fields.get("ExitCode", ""),
        start=fields.get("StartTime", ""),
        end=fields.get("EndTime", ""),
        reason=fields.get("Reason", ""),
    )


def parse_queue(stdout: str) -> list[QueueEntry]:
    """Parse ``squeue -o QUEUE_FORMAT`` rows; unknown states are listed as QUEUED."""
    entries = []
    for job_id, raw, partition, user, submit, start, name in _rows(stdout, 7):
        state = slurm_state(raw) or _Q
        entries.append(
            QueueEntry(
                scheduler_job_id=job_id,
                name=name or None,
                user=user or None,
                state=state,
                raw_state=raw,
                partition=partition or None,
                submit_time=_epoch(submit),
                start_time=None if state is _Q else _epoch(start),
            )
        )
    return entries


# -- combining evidence ------------------------------------------------------------


def _with_parents(rows: dict[str, Observation]) -> dict[str, Observation]:
    tasks: dict[str, list[Observation]] = {}
    for job_id, obs in rows.items():
        match = _ID.fullmatch(job_id)
        if match and match.group(1) != job_id:
            tasks.setdefault(match.group(1), []).append(obs)
    parents = {base: combine(obs) for base, obs in tasks.items() if base not in rows}
    return {**rows, **parents}


def combine(parts: Sequence[Observation]) -> Observation:
    """One Observation for an array from its tasks: active while any task is active.

    A finished array takes its most severe task state (FAILED, TIMED_OUT,
    CANCELLED, LOST, SUCCEEDED) and the largest exit code among those tasks.
    """
    if len(parts) == 1:
        return parts[0]
    states = {part.state for part in parts}
    state: JobState | None
    if all(state is not None and state.is_terminal for state in states) and parts:
        state = next(s for s in _SEVERITY if s in states)
    else:
        state = _R if _R in states else (_Q if _Q in states else None)
    chosen = [part for part in parts if part.state is state]
    codes = [part.exit_code for part in chosen if part.exit_code is not None]
    starts = [part.started_at for part in parts if part.started_at is not None]
    ends = [part.finished_at for part in parts if part.finished_at is not None]
    ended = state is not None and state.is_terminal
    return Observation(
        state=state,
        raw_state=",".join(dict.fromkeys(part.raw_state for part in parts)),
        exit_code=max(codes) if codes and ended else None,
        started_at=min(starts) if starts and state is not _Q else None,
        finished_at=max(ends) if ends and ended else None,
        reason=next((part.reason for part in chosen if part.reason), None),
    )


def needs_accounting(obs: Observation | None) -> bool:
    """Whether to ask further: the job is absent, or ended with no exit code."""
    return obs is None or (
        obs.state is not None and obs.state.is_terminal and obs.exit_code is None
    )


def corroborate(
    first: Observation | None, other: Observation | None
) -> Observation | None:
    """Keep ``first``'s verdict; fill gaps from ``other`` if both agree on the state.

    ``first`` is the fresher source (squeue before sacct before scontrol before the
    exit code file); a disagreeing ``other`` is ignored, as sacct can lag behind.
    """
    if first is None:
        return other
    if other is None or other.state is not first.state:
        return first
    return attrs.evolve(
        first,
        exit_code=first.exit_code if first.exit_code is not None else other.exit_code,
        started_at=first.started_at or other.started_at,
        finished_at=first.finished_at or other.finished_at,
        reason=first.reason or other.reason,
    )
