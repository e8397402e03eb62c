"""IBM Spectrum LSF: script rendering, submit argv and bsub output.

Rules of this module:
  Rule 1: pure: every fact (spec, job dir) is an argument; no I/O, clock or env.
  Rule 2: every directive value passes ``directive_value`` (no newline or NUL).
  Rule 3: all options are ``#BSUB`` directives; the script goes to ``bsub`` on
    stdin, the only form in which LSF reads embedded ``#BSUB`` lines.
  Rule 4: ``-o``/``-e`` (every LSF has them; OpenLava has no ``-oo``/``-eo``) name
    LSF's own files in the job dir, which get its job report; the body sends the
    job's output to molq's paths itself, so they hold the job's bytes only.
"""

from __future__ import annotations

import re
from typing import Final

from .._errors import ConfigError, SchedulerOutputError
from .._ports import SchedulerCapabilities, Submission
from .._spec import JobSpec
from ._batch import directive_value, literal_path, output_paths, positive_int
from ._body import quote, render_body
from ._flags import plan_flags


LSF_SCRIPT_FILE: Final = "job.lsf"
LSF_PATH_PATTERNS: Final = "%J %I"  # bsub -o/-e: job id, array index (OpenLava: %%J too)
LSF_REPORT_FILE: Final = "lsf.stdout"
"""LSF's ``-o`` file: its job report; molq finds an interrupted submission by it."""
LSF_REPORT_ERR_FILE: Final = "lsf.stderr"
LSF_CAPABILITIES: Final = SchedulerCapabilities(
    gpu_count=True,
    gpu_type=True,
    partition=True,
    account=True,
    priority=True,
    dependencies=True,
    node_count=True,
    exclusive_node=True,
    array_spec=True,
    email=True,
    extra_flags=True,
)
"""LSF honours ``-gpu num=:gmodel=``, ``-q``, ``-P``, ``-sp``, ``-w``,
``span[ptile=]``, ``-x``, ``-J name[...]`` and ``-u``; no QoS or reservations."""

_BSUB_OK: Final = re.compile(r"Job <(\d+)> is submitted to (?:default )?queue <[^>]*>")
_ARRAY: Final = re.compile(
    r"^\d+(?:-\d+(?::\d+)?)?(?:,\d+(?:-\d+(?::\d+)?)?)*(?:%\d+)?$"
)
_NAME_BAD: Final = re.compile(r"[^A-Za-z0-9_.+-]")
_MAX_PRIORITY: Final = 2**31 - 1


def lsf_job_name(name: str | None, array_spec: str | None) -> str | None:
    """The ``-J`` value: a cleaned name, plus ``[spec]`` for a job array.

    Raises:
        ConfigError: the array spec is not an LSF index list.
    """
    clean = _NAME_BAD.sub("_", name)[:4000] if name else None
    if array_spec is None:
        return clean
    if not _ARRAY.match(array_spec):
        msg = f"array_spec {array_spec!r} is not an LSF index list: use e.g. 1-4,7%2"
        raise ConfigError(msg)
    return f"{clean or 'molq'}[{array_spec}]"


def _resource_lines(spec: JobSpec, *, user_slots: bool = False) -> list[str]:
    """Resource options; with ``user_slots`` the user's ``-n`` replaces molq's default ``-n 1``."""
    res, sch = spec.resources, spec.scheduling
    cpus = res.cpu_count or 1
    lines = [] if user_slots else [f"-n {cpus * (sch.node_count or 1)}"]
    if sch.node_count is not None:
        lines.append(f'-R "span[ptile={cpus}]"')
    if res.memory is not None:
        kb = res.memory.to_lsf_kb()
        lines += [f"-M {kb}KB", f'-R "rusage[mem={kb}KB]"']
    if res.gpu_count is not None:
        gpu = f"num={res.gpu_count}"
        if res.gpu_type is not None:
            gpu += f":gmodel={res.gpu_type}"
        lines.append(f"-gpu {directive_value('gpu', gpu)}")
    if sch.exclusive_node:
        lines.append("-x")
    if res.time_limit is not None:
        lines.append(f"-W {res.time_limit.to_lsf_minutes()}")
    return lines


def _scheduling_lines(spec: JobSpec) -> list[str]:
    sch = spec.scheduling
    lines: list[str] = []
    if sch.partition is not None:
        lines.append(f"-q {directive_value('partition', sch.partition)}")
    if sch.account is not None:
        lines.append(f"-P {directive_value('account', sch.account)}")
    if sch.priority is not None:
        priority = positive_int("priority", sch.priority, low=1, high=_MAX_PRIORITY)
        lines.append(f"-sp {priority}")
    if sch.dependency:
        lines.append(f"-w {directive_value('dependency', sch.dependency)}")
    if sch.email is not None:
        lines += [f"-u {directive_value('email', sch.email)}", "-N"]
    return lines


def render_lsf_script(spec: JobSpec, job_dir: str) -> str:
    """The job script: ``#BSUB`` directives, then the shared body.

    Raises:
        ConfigError: a value cannot be expressed as a directive (newline, NUL,
            bad priority or array spec).
    """
    out, err = output_paths(spec, job_dir)  # written by the shell (exec >>), so '%' stays literal
    # LSF's own report files go under the job dir on the -o/-e lines, where bsub
    # replaces %J/%I with no escape: such a job dir is refused.
    report_dir = literal_path("job dir", job_dir, LSF_PATH_PATTERNS, "LSF")
    options: list[str] = []
    name = lsf_job_name(spec.execution.job_name, spec.scheduling.array_spec)
    if name is not None:
        value = directive_value("job name", name)
        quoted = value if value.startswith('"') or "[" not in value else f'"{value}"'
        options.append(f"-J {quoted}")
    options += [
        f"-o {directive_value('job dir', f'{report_dir}/{LSF_REPORT_FILE}')}",
        f"-e {directive_value('job dir', f'{report_dir}/{LSF_REPORT_ERR_FILE}')}",
    ]
    plan = plan_flags(spec, "lsf")
    options += _resource_lines(spec, user_slots="-n" in plan.keys)
    options += _scheduling_lines(spec) + list(plan.options)  # the script's own, then extra_flags
    header = ["#!/bin/bash", *(f"#BSUB {option}" for option in options)]
    redirect = f"exec >>{quote(out)} 2>>{quote(err)}"
    return "\n".join(header) + "\n" + redirect + "\n" + render_body(spec, job_dir)


def bsub_argv() -> tuple[str, ...]:
    """``bsub`` alone: the script is fed on stdin (``bsub < job.lsf``)."""
    return ("bsub",)


def prepare_lsf(spec: JobSpec, job_dir: str) -> Submission:
    """The script and argv for one LSF submission (nothing is run)."""
    script_path = f"{job_dir}/{LSF_SCRIPT_FILE}"
    return Submission(
        argv=bsub_argv(),
        script=render_lsf_script(spec, job_dir),
        script_path=script_path,
        details=(("stdin", script_path),),
    )


def parse_bsub_output(stdout: str) -> str:
    """The job id in ``Job <123> is submitted to [default ]queue <normal>.``.

    Raises:
        SchedulerOutputError: no such line.
    """
    match = _BSUB_OK.search(stdout)
    if match is None:
        msg = f"bsub printed no job id: {stdout[:200]!r}"
        raise SchedulerOutputError(msg)
    return match.group(1)
