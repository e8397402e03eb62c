"""Sweeps, part 1: matrix expansion, flag tokenising and template rendering.

Rules of this module:
  Rule 1: pure functions only; every invalid input is a SpecError naming the rule
          of the srunx reference it breaks (R1.2, R2.4, R2.5, R2.6, R2.10, R3.5,
          R3.6, R3.8, R3.9, R3.10).
  Rule 2: axes keep insertion order; matrix values override base args.
  Rule 3: values never become shell text: in command and inline-script text a
          ``{name}`` becomes a reference to ``$MOLQ_ARG_<name>`` (``_sweep_shell``)
          and the value travels in the job's environment; argv items, env values,
          names and paths get the plain text (they are data, never parsed by a shell).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeAlias

import attrs

from ._errors import SpecError
from ._spec import JobExecution, JobSpec, Script
from ._sweep_shell import PLACEHOLDER, arg_env, check_inline_script, render_shell


ScalarValue: TypeAlias = str | int | float | bool
Matrix: TypeAlias = tuple[tuple[str, tuple[ScalarValue, ...]], ...]

_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _freeze_matrix(value: Mapping[str, Sequence[ScalarValue]] | Matrix) -> Matrix:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((k, tuple(v)) for k, v in items)


@attrs.frozen
class SweepSpec:
    """A validated sweep: ordered axes, concurrency bound and failure policy.

    Args:
        matrix: axis name -> values (insertion order is the expansion order).
        max_parallel: at most this many cells active at once (>= 1, R2.6).
        fail_fast: stop launching cells after the first failed one.
    """

    matrix: Matrix = attrs.field(converter=_freeze_matrix)
    max_parallel: int = 1
    fail_fast: bool = False

    def __attrs_post_init__(self) -> None:
        check_max_parallel(self.max_parallel)
        check_matrix(dict(self.matrix))


def check_max_parallel(value: object) -> int:
    """Return ``value`` if it is an int >= 1.

    Raises:
        SpecError: R2.6, max_parallel must be set and >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"max_parallel must be an integer >= 1, got {value!r}"
        raise SpecError(msg)
    return value


def check_matrix(matrix: Mapping[str, object]) -> None:
    """Validate a matrix without expanding it.

    Raises:
        SpecError: empty matrix (R2.10), empty axis (R2.4), non-scalar value (R2.5)
            or an axis name that cannot be a ``{placeholder}``.
    """
    if not matrix:
        msg = "the sweep matrix is empty: give at least one axis"
        raise SpecError(msg)
    for name, values in matrix.items():
        if not isinstance(name, str) or not _NAME.match(name):
            msg = (
                f"sweep axis name {name!r} must be an identifier (letters, digits, _) to be used as {{name}}"
            )
            raise SpecError(msg)
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            msg = f"sweep axis {name!r} must be a list of values, got {type(values).__name__}"
            raise SpecError(msg)
        if not values:
            msg = f"sweep axis {name!r} has no values"
            raise SpecError(msg)
        for value in values:
            if not isinstance(value, str | int | float | bool) or value != value:  # noqa: PLR0124 - NaN
                msg = f"sweep axis {name!r} has a non-scalar value {value!r}: use str, int, float or bool"
                raise SpecError(msg)


def expand_matrix(
    matrix: Mapping[str, Sequence[ScalarValue]],
    base_args: Mapping[str, ScalarValue] | None = None,
) -> list[dict[str, ScalarValue]]:
    """Cross product of the matrix axes merged into ``base_args``.

    Args:
        matrix: axis name -> values; axes iterate in insertion order, the last axis
            varying fastest.
        base_args: fixed arguments; a matrix axis with the same name wins.

    Returns:
        One dict of arguments per cell.

    Raises:
        SpecError: see ``check_matrix``.
    """
    check_matrix(matrix)
    base = dict(base_args or {})
    names = list(matrix)
    return [{**base, **dict(zip(names, combo, strict=True))} for combo in itertools.product(*matrix.values())]


def _split_flag(flag: str, kind: str) -> tuple[str, str]:
    key, sep, value = flag.partition("=")
    if not sep:
        msg = f"--{kind} {flag!r} needs KEY=VALUE"
        raise SpecError(msg)
    if not key:
        msg = f"--{kind} {flag!r} has an empty key"
        raise SpecError(msg)
    return key, value


def parse_arg_flags(flags: Sequence[str]) -> dict[str, str]:
    """Tokenise ``--arg KEY=VALUE`` occurrences.

    Split at the first ``=``; the last occurrence of a key wins (R1.2); values stay
    strings (R3.10).

    Raises:
        SpecError: a flag without ``=`` (R3.8).
    """
    out: dict[str, str] = {}
    for flag in flags:
        key, value = _split_flag(flag, "arg")
        out.pop(key, None)
        out[key] = value
    return out


def parse_sweep_flags(flags: Sequence[str]) -> dict[str, list[str]]:
    """Tokenise ``--sweep KEY=v1,v2,v3`` occurrences.

    Split at the first ``=``; values split on every ``,`` with no escapes (R3.5);
    empty elements are kept as ``""`` (R3.9); the last occurrence of an axis wins.

    Raises:
        SpecError: a flag without ``=`` (R3.8).
    """
    out: dict[str, list[str]] = {}
    for flag in flags:
        key, value = _split_flag(flag, "sweep")
        out.pop(key, None)
        out[key] = value.split(",")
    return out


def merge_sweep_specs(
    base: SweepSpec | None,
    cli_sweep_axes: Mapping[str, Sequence[ScalarValue]],
    cli_arg_overrides: Mapping[str, str],
    cli_fail_fast: bool | None,
    cli_max_parallel: int | None,
) -> SweepSpec | None:
    """Merge a configured sweep with CLI flags at axis granularity.

    Returns:
        None when neither side gives an axis (the caller runs a single job).

    Raises:
        SpecError: ``--arg KEY`` collides with a sweep axis (R3.6), or the final
            max_parallel is unset or < 1 (R2.6), or the matrix is invalid.
    """
    axes: dict[str, tuple[ScalarValue, ...]] = dict(base.matrix) if base is not None else {}
    for name, values in cli_sweep_axes.items():
        axes[name] = tuple(values)
    if not axes:
        return None
    clash = sorted(set(cli_arg_overrides) & set(axes))
    if clash:
        msg = f"--arg and --sweep both set {', '.join(clash)}: a key is either fixed or swept"
        raise SpecError(msg)
    max_parallel = cli_max_parallel if cli_max_parallel is not None else (base.max_parallel if base else None)
    if max_parallel is None:
        msg = "max_parallel must be set for a sweep"
        raise SpecError(msg)
    fail_fast = cli_fail_fast if cli_fail_fast is not None else (base.fail_fast if base else False)
    return SweepSpec(matrix=tuple(axes.items()), max_parallel=max_parallel, fail_fast=fail_fast)


# -- templates -------------------------------------------------------------------------


def scalar_text(value: ScalarValue) -> str:
    """How a value is written into a template (bools as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text_of(args: Mapping[str, ScalarValue]) -> Callable[[str], str]:
    def text_of(name: str) -> str:
        if name not in args:
            known = ", ".join(sorted(args)) or "none"
            msg = f"template placeholder {{{name}}} names no sweep argument (known: {known})"
            raise SpecError(msg)
        return scalar_text(args[name])

    return text_of


def render_text(template: str, args: Mapping[str, ScalarValue]) -> str:
    """Replace ``{name}`` placeholders with plain text (argv, names, paths, env values).

    ``{{name}}`` is a literal ``{name}`` and ``${name}`` is left alone.

    Raises:
        SpecError: a placeholder names no argument.
    """
    text_of = _text_of(args)

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "{" + match.group(1) + "}"
        return text_of(match.group(2))

    return PLACEHOLDER.sub(substitute, template)


def _render_opt(text: str | None, args: Mapping[str, ScalarValue]) -> str | None:
    return None if text is None else render_text(text, args)


def render_spec(spec: JobSpec, args: Mapping[str, ScalarValue]) -> JobSpec:
    """The spec of one cell: placeholders filled in the work, names, env and log paths.

    In ``command`` and inline-script text a placeholder becomes a reference to
    ``$MOLQ_ARG_<name>``; every argument is exported under that name.

    Raises:
        SpecError: a placeholder names no argument, or stands where no value can
            be placed safely (see ``_sweep_shell``).
    """
    work: dict[str, object] = {}
    shell_text = False
    if spec.argv is not None:
        work["argv"] = tuple(render_text(a, args) for a in spec.argv)
    elif spec.command is not None:
        work["command"] = render_shell(spec.command, _text_of(args))
        shell_text = True
    elif spec.script is not None and spec.script.text is not None:
        check_inline_script(spec.script.text)
        work["script"] = Script.inline(render_shell(spec.script.text, _text_of(args)))
        shell_text = True
    elif spec.script is not None:
        work["script"] = Script.path(render_text(str(spec.script.file_path or ""), args))
    return attrs.evolve(
        spec,
        execution=_render_execution(spec.execution, args, export_args=shell_text),
        **work,  # type: ignore[arg-type]
    )


def _render_execution(
    execution: JobExecution, args: Mapping[str, ScalarValue], *, export_args: bool
) -> JobExecution:
    env = None if execution.env is None else {k: render_text(v, args) for k, v in execution.env.items()}
    if export_args:
        env = {**(env or {}), **arg_env({k: scalar_text(v) for k, v in args.items()})}
    return dataclasses.replace(
        execution,
        env=env,
        job_name=_render_opt(execution.job_name, args),
        output_file=_render_opt(execution.output_file, args),
        error_file=_render_opt(execution.error_file, args),
    )
