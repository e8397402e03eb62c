"""Turning ``submit_job`` keywords into a validated JobSpec and job directory."""

from __future__ import annotations

import dataclasses
import os
import posixpath
from pathlib import Path, PurePath
from typing import cast

import attrs
import msgspec

from molq.core import (
    CommandError,
    ConfigError,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    Script,
    ScriptError,
    SubmitorDefaults,
    TransportError,
)
from molq.core._spec import check_submittable, merge_execution, merge_resources, merge_scheduling
from molq.core._value import encode_extra


RESERVED_METADATA_PREFIX = "molq."


@attrs.frozen
class RemoteLocation:
    """Where relative paths start on a remote host: its login directory and ``$HOME``."""

    cwd: str
    home: str

    @classmethod
    def parse(cls, text: str, *, host: str) -> RemoteLocation:
        """Read ``pwd`` and ``$HOME`` (one line each) as printed by the remote shell.

        Raises:
            TransportError: the answer is not two absolute paths.
        """
        lines = text.split("\n")
        cwd, home = (lines[0], lines[1]) if len(lines) >= 2 else ("", "")
        if not (cwd.startswith("/") and home.startswith("/")):
            msg = f"cannot learn the working directory and home on {host}: got {text[:200]!r}"
            raise TransportError(msg)
        return cls(cwd=cwd, home=home)


@attrs.frozen
class SubmitRequest:
    """The raw keywords of one ``submit_job`` call."""

    argv: object = None
    command: object = None
    script: object = None
    resources: object = None
    scheduling: object = None
    execution: object = None
    metadata: object = None
    job_dir_name: object = None
    max_duration: object = None


def _typed(name: str, value: object, kind: type, error: type[ConfigError] = ConfigError) -> None:
    if value is not None and not isinstance(value, kind):
        msg = f"{name} must be a {kind.__name__}, got {type(value).__name__}"
        raise error(msg)


def _work(request: SubmitRequest) -> dict[str, object]:
    given = {k: v for k, v in (("argv", request.argv), ("command", request.command), ("script", request.script)) if v is not None}
    if len(given) != 1:
        names = ", ".join(given) or "none"
        msg = f"exactly one of argv, command or script must be given (got {names})"
        raise CommandError(msg)
    argv = request.argv
    if argv is not None:
        if isinstance(argv, str) or not isinstance(argv, list | tuple) or not argv:
            msg = "argv must be a non-empty list of strings, e.g. ['python', 'train.py']"
            raise CommandError(msg)
        bad = [a for a in argv if not isinstance(a, str)]
        if bad:
            msg = f"argv items must be strings, got {bad[0]!r}"
            raise CommandError(msg)
        return {"command_type": "argv", "argv": tuple(argv)}
    if request.command is not None:
        if not isinstance(request.command, str) or not request.command.strip():
            msg = "command must be a non-empty shell command string"
            raise CommandError(msg)
        return {"command_type": "command", "command": request.command}
    _typed("script", request.script, Script, ScriptError)
    return {"command_type": "script", "script": request.script}


def check_retry(value: object) -> None:
    """Refuse a ``retry`` that is not a RetryPolicy (``retry="3"`` must not reach the store).

    Raises:
        ConfigError: naming the type given.
    """
    from molq.core import RetryPolicy

    if value is not None and not isinstance(value, RetryPolicy):
        msg = f"retry must be a RetryPolicy (e.g. RetryPolicy(max_attempts=3)), got {type(value).__name__} {value!r}"
        raise ConfigError(msg)


def _metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        msg = f"metadata must be a dict of strings, got {type(value).__name__}"
        raise ConfigError(msg)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            msg = f"metadata keys and values must be strings, got {key!r}: {item!r}"
            raise ConfigError(msg)
        if key.startswith(RESERVED_METADATA_PREFIX):
            msg = f"metadata key {key!r} is reserved: keys starting with 'molq.' are set by molq"
            raise ConfigError(msg)
    return dict(value)


def check_job_dir_name(name: object) -> str | None:
    """Validate a caller-chosen job directory name (one path component).

    Raises:
        ConfigError: not a plain, non-empty directory name.
    """
    if name is None:
        return None
    if (
        not isinstance(name, str)
        or not name.strip()
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or "\n" in name
    ):
        msg = f"job_dir_name must be a single directory name (no '/', '..', NUL or newline), got {name!r}"
        raise ConfigError(msg)
    return name


def _resolve(path: str, base: str, *, local: bool, home: str | None = None) -> str:
    if "\0" in path:
        msg = f"path {path!r} contains a NUL byte: it cannot be a file name"
        raise ConfigError(msg)
    if local:
        if path == ".":
            return base  # already resolved (os.getcwd() or a resolved cwd): skip the lstat walk
        return str((Path(base) / Path(path).expanduser()).resolve())
    if home is not None and (path == "~" or path.startswith("~/")):
        # Paths reach the scheduler quoted, where no shell expands "~": expand it here,
        # with the remote home, so sbatch and #SBATCH lines get a real path.
        path = home + path[1:]
    elif path.startswith("~"):
        msg = f"path {path!r}: molq expands only '~' and '~/' on a remote host; give an absolute path"
        raise ConfigError(msg)
    return posixpath.normpath(posixpath.join(base, path))


def build_spec(
    request: SubmitRequest,
    defaults: SubmitorDefaults,
    *,
    job_id: str,
    jobs_dir: str | None,
    local: bool,
    remote: RemoteLocation | None = None,
) -> tuple[JobSpec, str]:
    """Validate, merge defaults and resolve paths; returns the spec and its job dir.

    On a remote transport, ``remote`` (the login directory and home there) makes every
    recorded path absolute and expands a leading ``~``; without it paths stay relative.

    Raises:
        ConfigError: any input is invalid; nothing has been written.
    """
    work = _work(request)
    _typed("resources", request.resources, JobResources)
    _typed("scheduling", request.scheduling, JobScheduling)
    _typed("execution", request.execution, JobExecution)
    metadata = _metadata(request.metadata)
    dir_name = check_job_dir_name(request.job_dir_name) or job_id
    max_duration = None if request.max_duration is None else Duration.parse(request.max_duration)
    resources = merge_resources(defaults.resources, request.resources)  # type: ignore[arg-type]
    scheduling = merge_scheduling(defaults.scheduling, request.scheduling)  # type: ignore[arg-type]
    execution = merge_execution(defaults.execution, request.execution)  # type: ignore[arg-type]
    check_submittable(resources, max_duration)
    home = None if remote is None else remote.home
    base = os.getcwd() if local else ("." if remote is None else remote.cwd)
    cwd = _resolve(execution.cwd or ".", base, local=local, home=home)
    if local and not os.path.isdir(cwd):
        msg = f"working directory {cwd!r} does not exist (or is not a directory); molq does not create it"
        raise ConfigError(msg)
    root = _resolve(jobs_dir, base, local=local, home=home) if jobs_dir is not None else f"{cwd}/.molq/jobs"
    job_dir = f"{root}/{dir_name}"
    stdout = _resolve(execution.output_file, cwd, local=local, home=home) if execution.output_file else f"{job_dir}/stdout.log"
    stderr = _resolve(execution.error_file, cwd, local=local, home=home) if execution.error_file else f"{job_dir}/stderr.log"
    metadata.update({"molq.job_dir": job_dir, "molq.stdout_path": stdout, "molq.stderr_path": stderr})
    spec = JobSpec(
        resources=resources,
        scheduling=scheduling,
        execution=dataclasses.replace(execution, cwd=cwd),
        metadata=metadata,
        cwd=cwd,
        max_duration=max_duration,
        **work,  # type: ignore[arg-type]
    )
    _check_utf8(spec)
    return spec, job_dir


_PROBE_ENCODER = msgspec.json.Encoder(enc_hook=encode_extra)


def _check_utf8(spec: JobSpec) -> None:
    """Refuse a spec holding text that is not UTF-8, naming the field (see ``_ensure_utf8``).

    Encoding the whole spec at once finds almost every spec clean in microseconds; only
    a spec it cannot encode is walked field by field, for the error (or for a type the
    encoder does not know).
    """
    try:
        _PROBE_ENCODER.encode(spec)
    except (ValueError, TypeError, OverflowError, msgspec.EncodeError):  # UnicodeEncodeError is a ValueError
        _ensure_utf8(spec, "job")


def _ensure_utf8(value: object, where: str) -> None:
    """Refuse text that cannot be stored or passed on as UTF-8 (lone surrogates).

    Raises:
        ConfigError: naming the field that holds such text.
    """
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            msg = f"{where} contains text that is not valid UTF-8 ({exc.reason} at {exc.start}): {value!r}"
            raise ConfigError(msg) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _ensure_utf8(key, f"{where} key")
            _ensure_utf8(item, f"{where}[{key!r}]")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            _ensure_utf8(item, f"{where}[{index}]")
    elif dataclasses.is_dataclass(value) or attrs.has(type(value)):
        for name in _field_names(value):
            _ensure_utf8(getattr(value, name), f"{where}.{name}" if where != "job" else name)


def _field_names(value: object) -> list[str]:
    """Field names of a value class: a stdlib dataclass (public values) or an attrs class (JobSpec)."""
    if dataclasses.is_dataclass(value):
        return [field.name for field in dataclasses.fields(value)]
    return [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))]
