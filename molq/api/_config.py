"""Profiles: ``~/.molq/config.toml`` structured into typed values with cattrs.

Example::

    [profiles.hpc]
    scheduler = "slurm"            # required: local, slurm, pbs or lsf
    cluster_name = "hpc"           # required
    host = "login1"
    jobs_dir = "~/molq-jobs"

    [profiles.hpc.defaults.resources]
    cpu_count = 4
    memory = "8G"
    time_limit = "2h"

    [profiles.hpc.defaults.scheduling]
    partition = "debug"          # the legacy key 'queue' is still accepted

    [profiles.hpc.retry]
    max_attempts = 3
"""

from __future__ import annotations

import os
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from molq.api._scheduler_kinds import SCHEDULER_KINDS, unknown_scheduler_message
from molq.core import (
    ConfigError,
    Duration,
    JobScheduling,
    JobState,
    Memory,
    RetentionPolicy,
    RetryPolicy,
    SpecError,
    SubmitorDefaults,
)


if TYPE_CHECKING:
    import cattrs

    from molq.api._scheduler_options import SchedulerOptions
else:
    # At run time only cattrs reads this annotation (and leaves the value as given, see
    # _converter); importing the four adapters here would slow every CLI command down.
    SchedulerOptions = object

DEFAULT_CONFIG_PATH = "~/.molq/config.toml"


@attrs.frozen
class MolqProfile:
    """A named profile: where jobs go and the lifecycle parameters they get."""

    name: str
    scheduler: str = "local"
    cluster_name: str | None = None
    defaults: SubmitorDefaults = attrs.field(factory=SubmitorDefaults)
    scheduler_options: SchedulerOptions | None = None
    retry: RetryPolicy | None = None
    retention: RetentionPolicy = attrs.field(factory=RetentionPolicy)
    jobs_dir: str | None = None
    host: str | None = None

    def __attrs_post_init__(self) -> None:
        """Type ``scheduler_options`` for the scheduler: a raw table (TOML's, or a dict) becomes its options class.

        Raises:
            ConfigError: an option is unknown or has a bad value.
            TypeError: an options object of another scheduler's class.
        """
        options: object = self.scheduler_options
        if isinstance(options, Mapping):
            object.__setattr__(self, "scheduler_options", scheduler_options_for(self.scheduler, dict(options)))
        elif options is not None:
            from molq.api._scheduler_kinds import check_options

            check_options(self.scheduler, options)

    @property
    def resolved_cluster_name(self) -> str:
        """``cluster_name``, defaulting to the profile name."""
        return self.cluster_name or self.name


@attrs.frozen
class MolqConfig:
    """Every profile of a config file."""

    profiles: dict[str, MolqProfile] = attrs.field(factory=dict)
    plugins: dict[str, dict[str, Any]] = attrs.field(factory=dict)


def default_config_path() -> Path:
    """``$MOLQ_CONFIG`` if set, else ``~/.molq/config.toml``."""
    return Path(os.environ.get("MOLQ_CONFIG") or DEFAULT_CONFIG_PATH).expanduser()


def load_config(path: str | Path | None = None) -> MolqConfig:
    """Read and validate a config file; a missing file is an empty config (as upstream molq).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or a key is invalid
            (the message names the key).
    """
    config_path = Path(path).expanduser() if path is not None else default_config_path()
    if not config_path.exists():
        return MolqConfig()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read config file {config_path}: {exc}"
        raise ConfigError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"{config_path} is not valid TOML: {exc}"
        raise ConfigError(msg) from exc
    return structure_config(raw, source=str(config_path))


def load_profile(name: str, path: str | Path | None = None) -> MolqProfile:
    """One profile by name.

    Raises:
        ConfigError: no such profile (the message lists the known ones).
    """
    config = load_config(path)
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        msg = f"no profile {name!r} in {path or default_config_path()} (profiles: {known})"
        raise ConfigError(msg)
    return config.profiles[name]


def structure_config(raw: dict[str, Any], *, source: str = "<config>") -> MolqConfig:
    """Structure a parsed TOML document into a MolqConfig.

    Raises:
        SpecError: every invalid key, each named by its path.
    """
    import cattrs

    unknown = set(raw) - {"profiles", "plugins"}
    if unknown:
        warnings.warn(
            f"{source}: ignoring unknown top-level key(s) {', '.join(sorted(unknown))}; molq reads [profiles.NAME] tables",
            UserWarning,
            stacklevel=3,
        )
    plugins = {str(k): dict(v) for k, v in raw.get("plugins", {}).items() if isinstance(v, dict)} if isinstance(raw.get("plugins"), dict) else {}
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        msg = f"{source}: 'profiles' must be a table of [profiles.NAME] tables"
        raise SpecError(msg)
    converter = _converter()
    profiles: dict[str, MolqProfile] = {}
    errors: list[str] = []
    for name, body in profiles_raw.items():
        if not isinstance(body, dict):
            errors.append(f"profiles.{name}: must be a table")
            continue
        missing = [key for key in ("scheduler", "cluster_name") if key not in body]
        if missing:
            errors.extend(f"profiles.{name}.{key}: required field missing" for key in missing)
            continue
        if body["scheduler"] not in SCHEDULER_KINDS:
            errors.append(f"profiles.{name}.scheduler: {unknown_scheduler_message(body['scheduler'])}")
            continue
        try:
            profiles[name] = converter.structure({"name": name, **body}, MolqProfile)
        except cattrs.BaseValidationError as exc:
            errors.extend(_messages(exc, prefix=f"profiles.{name}"))
        except (ConfigError, ValueError, TypeError) as exc:
            errors.append(f"profiles.{name}: {exc}")
    if errors:
        msg = f"{source}: invalid configuration:\n  " + "\n  ".join(errors)
        raise SpecError(msg, errors)
    return MolqConfig(profiles=profiles, plugins=plugins)


def _messages(exc: Exception, *, prefix: str = "") -> list[str]:
    """One ``key.path: problem`` line per validation error."""
    import cattrs

    lines = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_describe):
        problem, _, path = line.rpartition(" @ ")
        key = ".".join(part for part in (prefix, path.removeprefix("$").lstrip(".")) if part)
        lines.append(f"{key}: {problem}")
    return lines


def _describe(exc: BaseException, type_: type | None) -> str:
    import cattrs

    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key(s) {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, ValueError | TypeError) and str(exc):
        return str(exc)
    name = getattr(type_, "__name__", str(type_))
    return f"invalid value for {name}: {exc}"


def _converter() -> cattrs.Converter:
    import cattrs

    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    _strict_scalars(converter)
    converter.register_structure_hook(Memory, lambda v, _: Memory.parse(v))
    converter.register_structure_hook(Duration, lambda v, _: Duration.parse(v))
    converter.register_structure_hook(JobState, lambda v, _: JobState(v))
    # Left as given: MolqProfile types a raw table for its scheduler (it knows which one).
    converter.register_structure_hook_func(lambda t: t == SchedulerOptions | None, lambda v, _: v)
    base_scheduling = converter.get_structure_hook(JobScheduling)

    def scheduling_hook(value: Any, _: type) -> JobScheduling:
        if isinstance(value, dict) and "queue" in value:
            if "partition" in value:
                msg = "give either 'partition' or the legacy 'queue', not both"
                raise ConfigError(msg)
            warnings.warn("'queue' is deprecated; use 'partition'", DeprecationWarning, stacklevel=2)
            value = {("partition" if k == "queue" else k): v for k, v in value.items()}
        if isinstance(value, dict) and isinstance(value.get("extra_flags"), str):  # cattrs would split it into letters
            msg = f"extra_flags must be a list of strings such as [\"--constraint=intel\"], got str {value['extra_flags']!r}"
            raise ConfigError(msg)
        return base_scheduling(value, JobScheduling)  # type: ignore[no-any-return]

    converter.register_structure_hook(JobScheduling, scheduling_hook)
    return converter


def _strict_scalars(converter: cattrs.Converter) -> None:
    """Refuse TOML values of the wrong type instead of converting them (``"false"`` is not False)."""

    def exact(kind: type, name: str) -> Any:
        def hook(value: Any, _: type) -> Any:
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                return value
            msg = f"expected {name}, got {type(value).__name__} {value!r}"
            raise ConfigError(msg)

        return hook

    def number(value: Any, _: type) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        msg = f"expected a number, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)

    converter.register_structure_hook(bool, exact(bool, "a boolean (true or false)"))
    converter.register_structure_hook(int, exact(int, "an integer"))
    converter.register_structure_hook(str, exact(str, "a string"))
    converter.register_structure_hook(float, number)


def scheduler_options_for(kind: str, raw: dict[str, Any] | None) -> SchedulerOptions | None:
    """Structure raw scheduler options into the scheduler's options class.

    Raises:
        ConfigError: an option is unknown or has the wrong type.
    """
    if not raw:
        return None
    import cattrs

    option_types = _option_types()
    if kind not in option_types:
        msg = f"the {kind} scheduler takes no scheduler_options (got {', '.join(sorted(raw))})"
        raise ConfigError(msg)
    try:
        options: SchedulerOptions = _converter().structure(raw, option_types[kind])
    except cattrs.BaseValidationError as exc:
        msg = "invalid scheduler_options: " + "; ".join(_messages(exc, prefix="scheduler_options"))
        raise ConfigError(msg) from exc
    except ConfigError as exc:
        msg = f"invalid scheduler_options: {exc}"
        raise ConfigError(msg) from exc
    return options


def _option_types() -> dict[str, type]:
    from molq.api._scheduler_kinds import options_class

    return {kind: options_class(kind) for kind in ("slurm", "pbs", "lsf")}
