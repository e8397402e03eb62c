"""What a user asks for: scripts, resources, scheduling, execution, retry and retention.

Rules of this module:
  Rule 1: public values are frozen stdlib dataclasses (ADR 0025), JobSpec an attrs class; mappings are FrozenDicts.
  Rule 2: cross-field invariants are checked at construction (and on decode).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

import attrs

from ._checks import check_bool, check_int, check_str, check_str_mapping
from ._errors import CommandError, ConfigError, ScriptError
from ._frozen import FrozenDict, freeze, freeze_required
from ._policies import RetentionPolicy as RetentionPolicy
from ._policies import RetryBackoff as RetryBackoff
from ._policies import RetryPolicy as RetryPolicy
from ._sched._directives import check_flag_shape
from ._units import Duration, Memory
from ._value import sorted_fields


DependencyCondition: TypeAlias = Literal["after_success", "after_failure", "after_started", "after"]
DEPENDENCY_CONDITIONS: tuple[str, ...] = get_args(DependencyCondition)
CommandType: TypeAlias = Literal["argv", "command", "script"]


def _opt_memory(value: Memory | str | int | None) -> Memory | None:
    return None if value is None else Memory.parse(value)


def _opt_duration(value: Duration | str | int | None) -> Duration | None:
    return None if value is None else Duration.parse(value)


def _opt_path_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, PurePath):
        return str(value)
    msg = f"a path must be a str or pathlib.Path, got {type(value).__name__} {value!r}"
    raise ConfigError(msg)


def _convert(value_object: object, name: str, converter: Callable[[Any], object]) -> None:
    """Normalise one field of a frozen dataclass in ``__post_init__`` (runs on decode too)."""
    object.__setattr__(value_object, name, converter(getattr(value_object, name)))


def _positive(name: str, value: int | None) -> None:
    check_int(name, value, minimum=1)


def check_submittable(resources: JobResources, max_duration: Duration | None) -> None:
    """Refuse quantities a job cannot run with (kept constructible so old logs still decode).

    Raises:
        ConfigError: zero memory, or a zero time limit or duration (the job would stop at once).
    """
    if resources.memory is not None and resources.memory.n_bytes == 0:
        msg = "memory must be at least 1 byte: a job cannot run in no memory"
        raise ConfigError(msg)
    if resources.time_limit is not None and resources.time_limit.seconds == 0:
        msg = "time_limit must be longer than 0 seconds: the job would be stopped at once"
        raise ConfigError(msg)
    if max_duration is not None and max_duration.seconds == 0:
        msg = "max_duration must be longer than 0 seconds: the job would be stopped at once"
        raise ConfigError(msg)


@sorted_fields
@dataclass(frozen=True, slots=True)
class Script:
    """Immutable script reference: inline text or a path to a script file."""

    variant: Literal["inline", "path"]
    text: str | None = None
    file_path: Path | None = None

    def __post_init__(self) -> None:
        _convert(self, "file_path", _opt_path_str)
        if self.variant == "path" and self.file_path:
            object.__setattr__(self, "file_path", Path(self.file_path))  # a Path, as upstream molq's
        if self.variant == "inline" and (self.text is None or self.file_path is not None):
            msg = "an inline Script needs text and no file_path"
            raise ScriptError(msg)
        if self.variant == "path" and (not self.file_path or self.text is not None):
            msg = "a path Script needs file_path and no text"
            raise ScriptError(msg)
        if self.variant not in ("inline", "path"):
            msg = f"Script variant must be 'inline' or 'path', got {self.variant!r}"
            raise ScriptError(msg)

    @classmethod
    def inline(cls, text: str) -> Script:
        """A script given as text."""
        return cls("inline", text=text)

    @classmethod
    def path(cls, path: str | PurePath) -> Script:
        """A script read from ``path`` on the cluster's filesystem at submission."""
        return cls("path", file_path=Path(path))


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobResources:
    """Resources a job asks for (``memory`` and ``time_limit`` also take text such as ``"4G"``)."""

    cpu_count: int | None = None
    memory: Memory | None = None
    gpu_count: int | None = None
    gpu_type: str | None = None
    time_limit: Duration | None = None

    if TYPE_CHECKING:  # the generated __init__ converts text; say so to type checkers
        def __init__(
            self,
            cpu_count: int | None = None,
            memory: Memory | str | None = None,
            gpu_count: int | None = None,
            gpu_type: str | None = None,
            time_limit: Duration | str | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        _convert(self, "memory", _opt_memory)
        _convert(self, "time_limit", _opt_duration)
        _positive("cpu_count", self.cpu_count)
        _positive("gpu_count", self.gpu_count)
        check_str("gpu_type", self.gpu_type)
        if self.gpu_type is not None and self.gpu_count is None:
            msg = "gpu_type needs gpu_count"
            raise ConfigError(msg)


def _check_condition(value: str) -> None:
    if value not in DEPENDENCY_CONDITIONS:
        msg = f"unknown dependency condition {value!r}; expected one of {', '.join(DEPENDENCY_CONDITIONS)}"
        raise ConfigError(msg)


@sorted_fields
@dataclass(frozen=True, slots=True)
class DependencyRef:
    """One upstream dependency: a molq job id and a condition."""

    job_id: str
    condition: DependencyCondition = "after_success"

    def __post_init__(self) -> None:
        _check_condition(self.condition)
        check_str("DependencyRef.job_id", self.job_id, optional=False)


def _dep_tuple(value: Iterable[DependencyRef] | None) -> tuple[DependencyRef, ...]:
    return tuple(value) if value else ()


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _flag_tuple(value: object) -> tuple[str, ...]:
    """``extra_flags`` as a tuple of checked flag texts (a lone string is one flag, not letters)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"extra_flags must be a tuple of strings such as ('--constraint=intel',), got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    return tuple(check_flag_shape(item) for item in value)


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobScheduling:
    """Where and how the scheduler should place a job.

    ``dependency`` (a raw scheduler string) and ``dependencies`` (logical refs) are
    mutually exclusive. ``queue`` is the legacy name of ``partition``.
    ``extra_flags`` holds raw scheduler options the typed fields do not cover, each as
    it would follow ``#SBATCH``/``#PBS``/``#BSUB`` (``"--constraint=intel"``,
    ``"-l select=2:ncpus=4:mpiprocs=4"``, ``'-R "span[hosts=1]"'``); molq writes them as
    directives and refuses those naming a flag it sets itself (see docs/guide/scheduler-flags.md).
    """

    partition: str | None = None
    account: str | None = None
    priority: str | None = None
    dependency: str | None = None
    dependencies: tuple[DependencyRef, ...] = ()
    node_count: int | None = None
    exclusive_node: bool = False
    array_spec: str | None = None
    email: str | None = None
    qos: str | None = None
    reservation: str | None = None
    extra_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _convert(self, "dependencies", _dep_tuple)
        _convert(self, "extra_flags", _flag_tuple)
        if self.dependency is not None and self.dependencies:
            msg = "JobScheduling takes either 'dependency' (raw string) or 'dependencies' (DependencyRef tuple), not both"
            raise ConfigError(msg)
        _positive("node_count", self.node_count)
        check_bool("exclusive_node", self.exclusive_node)
        for name in ("partition", "account", "priority", "dependency", "array_spec", "email", "qos", "reservation"):
            check_str(name, getattr(self, name))

    @property
    def queue(self) -> str | None:
        """Deprecated alias of ``partition``."""
        return self.partition


def _opt_env(value: object) -> FrozenDict | None:
    check_str_mapping("env", value)
    return freeze(value)  # type: ignore[arg-type]


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobExecution:
    """How the job's process is started: environment, working directory, names, logs."""

    env: dict[str, str] | None = None
    cwd: str | None = None
    job_name: str | None = None
    output_file: str | None = None
    error_file: str | None = None

    if TYPE_CHECKING:  # the generated __init__ takes any mapping and paths; say so to type checkers
        def __init__(
            self,
            env: Mapping[str, str] | None = None,
            cwd: str | PurePath | None = None,
            job_name: str | None = None,
            output_file: str | None = None,
            error_file: str | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        _convert(self, "env", _opt_env)
        _convert(self, "cwd", _opt_path_str)
        for name in ("job_name", "output_file", "error_file"):
            check_str(name, getattr(self, name))


@sorted_fields
@dataclass(frozen=True, slots=True)
class SubmitorDefaults:
    """Reusable defaults merged into every submission of a Submitor."""

    resources: JobResources | None = None
    scheduling: JobScheduling | None = None
    execution: JobExecution | None = None

    def __post_init__(self) -> None:
        for name, kind in (("resources", JobResources), ("scheduling", JobScheduling), ("execution", JobExecution)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                msg = f"SubmitorDefaults.{name} must be a {kind.__name__}, got {type(value).__name__} {value!r}"
                raise ConfigError(msg)


def _merge(base: object, override: object) -> object:
    """Fields set in ``override`` win; unset (None / empty / default) fields fall back."""
    if base is None:
        return override
    if override is None:
        return base
    changes: dict[str, object] = {}
    for spec_field in fields(override):  # type: ignore[arg-type]
        value = getattr(override, spec_field.name)
        if value != spec_field.default and value is not None and value != ():
            changes[spec_field.name] = value
    if isinstance(override, JobScheduling) and override.dependency is not None:
        changes["dependencies"] = ()
    if isinstance(override, JobScheduling) and override.dependencies:
        changes["dependency"] = None
    if isinstance(override, JobExecution) and override.env is not None and isinstance(base, JobExecution) and base.env:
        changes["env"] = {**base.env, **override.env}
    return replace(base, **changes)  # type: ignore[type-var]


def merge_resources(base: JobResources | None, override: JobResources | None) -> JobResources:
    """Merge submission resources over defaults."""
    return _merge(base, override) or JobResources()  # type: ignore[return-value]


def merge_scheduling(base: JobScheduling | None, override: JobScheduling | None) -> JobScheduling:
    """Merge submission scheduling over defaults."""
    return _merge(base, override) or JobScheduling()  # type: ignore[return-value]


def merge_execution(base: JobExecution | None, override: JobExecution | None) -> JobExecution:
    """Merge submission execution over defaults (env maps are merged key by key)."""
    return _merge(base, override) or JobExecution()  # type: ignore[return-value]


@attrs.frozen
class JobSpec:
    """Everything needed to submit one attempt of a job, resolved and validated."""

    command_type: CommandType
    argv: tuple[str, ...] | None = None
    command: str | None = None
    script: Script | None = None
    resources: JobResources = attrs.field(factory=JobResources)
    scheduling: JobScheduling = attrs.field(factory=JobScheduling)
    execution: JobExecution = attrs.field(factory=JobExecution)
    metadata: dict[str, str] = attrs.field(factory=FrozenDict, converter=freeze_required)
    cwd: str = "."
    max_duration: Duration | None = attrs.field(default=None, converter=_opt_duration)
    script_directives: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    """A path script's own directive options (after ``#SBATCH``...), as read at submission."""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.metadata, FrozenDict):
            object.__setattr__(self, "metadata", FrozenDict(self.metadata))
        given = {
            "argv": self.argv is not None,
            "command": self.command is not None,
            "script": self.script is not None,
        }
        if sum(given.values()) != 1 or not given[self.command_type]:
            msg = "exactly one of argv, command or script must be given"
            raise CommandError(msg)
        if self.argv is not None and not self.argv:
            msg = "argv must not be empty"
            raise CommandError(msg)

    @property
    def display(self) -> str:
        """A one-line human rendering of what runs."""
        if self.argv is not None:
            return " ".join(_display_word(a) for a in self.argv)
        if self.command is not None:
            return self.command
        assert self.script is not None  # noqa: S101 - invariant checked in __attrs_post_init__
        return str(self.script.file_path) if self.script.file_path else "<inline script>"


def _display_word(word: str) -> str:
    if word and all(c.isalnum() or c in "-_./=:,+@%" for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"
