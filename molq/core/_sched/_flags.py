"""Raw scheduler flags and a script's own directives, merged with the directives molq writes.

Rules of this module:
  Rule 1: pure: the spec in, the lines to add out; the shell reads scripts and warns.
  Rule 2: a flag molq always sets (job name, output, error, dependencies, arrays, waiting)
          or sets from a typed field is *owned*: ``extra_flags`` naming it are refused,
          script directives naming it are dropped (molq's typed fields win).
  Rule 3: a default molq writes only to fill a gap (PBS ``select=1:ncpus=1``, LSF ``-n 1``)
          yields to a flag or directive that sets it: the renderer leaves the default out.
  Rule 4: what is kept is kept verbatim, script directives first, then ``extra_flags``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from .._errors import ConfigError
from .._spec import JobSpec
from ._directives import LINE_BREAKING, DirectiveDialect, check_flag_text, directive_line, option_keys


_ALWAYS: Final[dict[str, dict[str, str]]] = {
    "slurm": {
        "--job-name": "the job name (use JobExecution.job_name)",
        "--output": "the output path (use JobExecution.output_file)",
        "--error": "the error path (use JobExecution.error_file)",
        "--chdir": "the working directory",
        "--dependency": "dependencies (use after_success=/after=...)",
        "--kill-on-invalid-dep": "dependencies",
        "--array": "arrays (use JobScheduling.array_spec)",
        "--wait": "how sbatch returns",
        "--parsable": "how sbatch prints the job id",
        "--wrap": "the job script",
    },
    "pbs": {
        "-N": "the job name (use JobExecution.job_name)",
        "-o": "the output path (use JobExecution.output_file)",
        "-e": "the error path (use JobExecution.error_file)",
        "-j": "the output and error paths",
        "-k": "the output and error paths",
        "-J": "arrays (use JobScheduling.array_spec)",
        "-t": "arrays (use JobScheduling.array_spec)",
        "-W depend": "dependencies (use after_success=/after=...)",
        "-W block": "how qsub returns",
        "-I": "how qsub returns (interactive)",
        "-X": "how qsub returns (interactive)",
    },
    "lsf": {
        "-J": "the job name and arrays (use JobExecution.job_name, JobScheduling.array_spec)",
        "-o": "the output path (use JobExecution.output_file)",
        "-oo": "the output path (use JobExecution.output_file)",
        "-e": "the error path (use JobExecution.error_file)",
        "-eo": "the error path (use JobExecution.error_file)",
        "-w": "dependencies (use after_success=/after=...)",
        "-K": "how bsub returns",
        "-I": "how bsub returns (interactive)",
        "-Ip": "how bsub returns (interactive)",
        "-Is": "how bsub returns (interactive)",
    },
}
_PBS_CHUNK: Final = ("select", "ncpus", "mem", "vmem", "ngpus", "nodes", "mpiprocs", "ompthreads")
YIELDING: Final[dict[str, frozenset[str]]] = {
    "slurm": frozenset(),
    "pbs": frozenset(f"-l {name}" for name in _PBS_CHUNK),
    "lsf": frozenset({"-n"}),
}
"""Flags that replace a default molq writes only when no typed field asks for it."""


def _set(pairs: Iterable[tuple[str, str, bool]]) -> dict[str, str]:
    """``flag -> field`` for the typed fields that are set."""
    return {flag: field for flag, field, is_set in pairs if is_set}


def _slurm_typed(spec: JobSpec) -> dict[str, str]:
    res, sch = spec.resources, spec.scheduling
    memory = res.memory is not None
    return _set([
        ("--partition", "scheduling.partition", sch.partition is not None),
        ("--account", "scheduling.account", sch.account is not None),
        ("--qos", "scheduling.qos", sch.qos is not None),
        ("--reservation", "scheduling.reservation", sch.reservation is not None),
        ("--nice", "scheduling.priority", sch.priority is not None),
        ("--nodes", "scheduling.node_count", sch.node_count is not None),
        ("--exclusive", "scheduling.exclusive_node", sch.exclusive_node),
        ("--mail-user", "scheduling.email", sch.email is not None),
        ("--mail-type", "scheduling.email", sch.email is not None),
        ("--cpus-per-task", "resources.cpu_count", res.cpu_count is not None),
        ("--time", "resources.time_limit", res.time_limit is not None),
        ("--gres", "resources.gpu_count", res.gpu_count is not None),
        ("--mem", "resources.memory", memory),  # sbatch takes only one of the three
        ("--mem-per-cpu", "resources.memory", memory),
        ("--mem-per-gpu", "resources.memory", memory),
    ])


def _pbs_typed(spec: JobSpec) -> dict[str, str]:
    res, sch = spec.resources, spec.scheduling
    chunk_fields = (
        ("resources.cpu_count", res.cpu_count is not None),
        ("resources.memory", res.memory is not None),
        ("resources.gpu_count", res.gpu_count is not None),
        ("scheduling.node_count", sch.node_count is not None),
    )
    chunk = next((name for name, is_set in chunk_fields if is_set), "")
    return _set([
        ("-q", "scheduling.partition", sch.partition is not None),
        ("-A", "scheduling.account", sch.account is not None),
        ("-p", "scheduling.priority", sch.priority is not None),
        ("-M", "scheduling.email", sch.email is not None),
        ("-m", "scheduling.email", sch.email is not None),
        ("-n", "scheduling.exclusive_node", sch.exclusive_node),
        ("-l place", "scheduling.exclusive_node", sch.exclusive_node),
        ("-l walltime", "resources.time_limit", res.time_limit is not None),
        *((f"-l {name}", chunk, bool(chunk)) for name in _PBS_CHUNK),
    ])


def _lsf_typed(spec: JobSpec) -> dict[str, str]:
    res, sch = spec.resources, spec.scheduling
    slots = "resources.cpu_count" if res.cpu_count is not None else "scheduling.node_count"
    return _set([
        ("-q", "scheduling.partition", sch.partition is not None),
        ("-P", "scheduling.account", sch.account is not None),
        ("-sp", "scheduling.priority", sch.priority is not None),
        ("-u", "scheduling.email", sch.email is not None),
        ("-N", "scheduling.email", sch.email is not None),
        ("-x", "scheduling.exclusive_node", sch.exclusive_node),
        ("-R span", "scheduling.node_count", sch.node_count is not None),
        ("-n", slots, res.cpu_count is not None or sch.node_count is not None),
        ("-M", "resources.memory", res.memory is not None),
        ("-R rusage", "resources.memory", res.memory is not None),
        ("-W", "resources.time_limit", res.time_limit is not None),
        ("-gpu", "resources.gpu_count", res.gpu_count is not None),
    ])


_TYPED = {"slurm": _slurm_typed, "pbs": _pbs_typed, "lsf": _lsf_typed}


def owned_flags(spec: JobSpec, dialect: DirectiveDialect) -> dict[str, str]:
    """Every flag molq sets for ``spec`` on ``dialect``, with what it sets it from."""
    always = {key: f"molq sets {what}" for key, what in _ALWAYS[dialect].items()}
    typed = {key: f"molq sets it from {field}" for key, field in _TYPED[dialect](spec).items()}
    return always | typed


def conflict(key: str, owned: Mapping[str, str], dialect: DirectiveDialect) -> str | None:
    """The owned flag ``key`` names, if any (sbatch also takes an abbreviated long option)."""
    if key in owned:
        return key
    if dialect == "slurm" and key.startswith("--"):
        return next((name for name in owned if name.startswith(key)), None)
    return None


@attrs.frozen
class FlagPlan:
    """What a renderer adds to molq's directives for one spec.

    Attributes:
        options: the option texts to write after molq's own, each on its own directive line.
        keys: every flag those options set (a yielding default is left out when it is here).
        dropped: the script directives left out, each with why (``"it sets --time, and …"``).
    """

    options: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()
    dropped: tuple[tuple[str, str], ...] = ()

    def lines(self, dialect: DirectiveDialect) -> list[str]:
        """The options as directive lines."""
        return [directive_line(dialect, option) for option in self.options]


def plan_flags(spec: JobSpec, dialect: DirectiveDialect) -> FlagPlan:
    """Merge ``spec``'s extra flags and script directives with what molq sets.

    Raises:
        ConfigError: an extra flag is malformed, or names a flag molq sets itself (the
            message names the flag and what molq sets it from).
    """
    owned = owned_flags(spec, dialect)
    extra = tuple(check_flag_text(text, dialect) for text in spec.scheduling.extra_flags)
    extra_keys: dict[str, str] = {}
    for text in extra:
        for key in option_keys(text, dialect):
            hit = conflict(key, owned, dialect)
            if hit is not None:
                msg = f"scheduler flag {text!r} sets {hit}, but {owned[hit]}: leave it out (or use molq's own field)"
                raise ConfigError(msg)
            extra_keys[key] = f"scheduling.extra_flags sets it ({text!r})"
    kept, dropped = _merge_script(spec.script_directives, {**owned, **extra_keys}, dialect)
    keys = {key for text in (*kept, *extra) for key in _safe_keys(text, dialect)}
    return FlagPlan(options=(*kept, *extra), keys=frozenset(keys), dropped=dropped)


def _safe_keys(text: str, dialect: DirectiveDialect) -> tuple[str, ...]:
    try:
        return option_keys(text, dialect)
    except ConfigError:
        return ()  # a script line molq cannot split is the scheduler's to judge


def _merge_script(
    directives: Iterable[str], owned: Mapping[str, str], dialect: DirectiveDialect
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for text in directives:
        if LINE_BREAKING.search(text) or text.endswith("\\"):
            dropped.append((text, "molq cannot write it as one directive line (a control character or a final backslash)"))
            continue
        hits = [hit for key in _safe_keys(text, dialect) if (hit := conflict(key, owned, dialect))]
        if hits:
            dropped.append((text, f"it sets {hits[0]}, and {owned[hits[0]]}"))
        else:
            kept.append(text)
    return tuple(kept), tuple(dropped)


def dropped_warning(text: str, why: str, dialect: DirectiveDialect) -> str:
    """The warning for a script directive molq left out."""
    return f"script directive '{directive_line(dialect, text)}' is not used: {why}"
