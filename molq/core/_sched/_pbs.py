"""PBS Pro / OpenPBS and Torque: script rendering, submit argv and qsub output.

Rules of this module:
  Rule 1: pure: every fact (spec, job dir, flavor) is an argument; no I/O, clock or env.
  Rule 2: every directive value passes ``directive_value`` (no newline or NUL).
  Rule 3: all options are ``#PBS`` directives; argv is ``qsub <script>``, except that
    the torque dialect repeats ``-o``/``-e`` on the command line (Slurm's wrappers
    otherwise override them with ``<script>.o<id>``).
  Rule 4: every job is named (``-N``): the user's name or ``molq-<job dir name>``, so
    an interrupted submission can be found again (adoption).
"""

from __future__ import annotations

import re
from typing import Final, Literal, TypeAlias

from .._errors import ConfigError, SchedulerOutputError
from .._ports import SchedulerCapabilities, Submission
from .._spec import JobSpec
from ._batch import directive_value, literal_path, output_paths, positive_int
from ._body import render_body
from ._flags import YIELDING, plan_flags


PbsFlavor: TypeAlias = Literal["pro", "torque"]
PBS_SCRIPT_FILE: Final = "job.pbs"

PBS_CAPABILITIES: Final = SchedulerCapabilities(
    gpu_count=True,
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
"""PBS Pro honours ``-l ngpus``, ``-q``, ``-A``, ``-p``, ``-W depend``, ``select=N``,
``place=excl``, ``-J``, ``-M``; GPU models, QoS and reservations are site-specific."""

_QSUB_ID: Final = re.compile(r"^\d+(?:\[\d*\])?(?:\.[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_PRO_ARRAY: Final = re.compile(r"^\d+-\d+(?::\d+)?(?:%\d+)?$")
_TORQUE_ARRAY: Final = re.compile(r"^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*(?:%\d+)?$")
_NAME_BAD: Final = re.compile(r"[^A-Za-z0-9_.+-]")


_WRAPPER_SAFE: Final = re.compile(r"^[A-Za-z0-9_./:+@%,=-]+$")


def pbs_job_name(name: str) -> str:
    """A name qsub accepts: ``[A-Za-z0-9_.+-]``, a letter first, at most 236 chars."""
    clean = _NAME_BAD.sub("_", name)[:236]
    return clean if clean[:1].isalpha() else f"j{clean}"[:236]


def pbs_submit_name(spec: JobSpec, job_dir: str) -> str:
    """The ``-N`` molq gives a job: the user's job name, else ``molq-<job dir name>``."""
    if spec.execution.job_name:
        return pbs_job_name(spec.execution.job_name)
    return pbs_job_name(f"molq-{job_dir.rstrip('/').rsplit('/', 1)[-1]}")


def _resource_lines(spec: JobSpec, flavor: PbsFlavor, *, user_chunk: bool = False) -> list[str]:
    """``-l`` lines; with ``user_chunk`` the user's flags give the chunk, so molq's default is left out.

    (A typed chunk field makes such a flag a conflict, so nothing the user typed is lost.)
    """
    res, sch = spec.resources, spec.scheduling
    nodes = sch.node_count or 1
    lines: list[str] = []
    if flavor == "pro":
        if not user_chunk:
            chunk = [f"select={nodes}", f"ncpus={res.cpu_count or 1}"]
            if res.memory is not None:
                chunk.append(f"mem={res.memory.to_pbs()}")
            if res.gpu_count is not None:
                chunk.append(f"ngpus={res.gpu_count}")
            lines.append("-l " + ":".join(chunk))
        if sch.exclusive_node:
            lines.append("-l place=scatter:excl" if nodes > 1 else "-l place=excl")
    else:
        if not user_chunk:
            node_spec = f"nodes={nodes}:ppn={res.cpu_count or 1}"
            if res.gpu_count is not None:
                node_spec += f":gpus={res.gpu_count}"
            lines.append(f"-l {node_spec}")
        if res.memory is not None:
            lines.append(f"-l mem={res.memory.to_pbs()}")
        if sch.exclusive_node:
            lines.append("-n")
    if res.time_limit is not None:
        lines.append(f"-l walltime={res.time_limit.to_pbs()}")
    return lines


def _array_line(spec_text: str, flavor: PbsFlavor) -> str:
    pattern, option = (_PRO_ARRAY, "-J") if flavor == "pro" else (_TORQUE_ARRAY, "-t")
    if not pattern.match(spec_text):
        form = "start-end[:step][%max]" if flavor == "pro" else "1-4,7[%max]"
        msg = f"array_spec {spec_text!r} is not a PBS {flavor} range: use {form}"
        raise ConfigError(msg)
    return f"{option} {spec_text}"


def _scheduling_lines(spec: JobSpec, flavor: PbsFlavor) -> list[str]:
    sch = spec.scheduling
    lines: list[str] = []
    if sch.partition is not None:
        lines.append(f"-q {directive_value('partition', sch.partition)}")
    if sch.account is not None:
        lines.append(f"-A {directive_value('account', sch.account)}")
    if sch.priority is not None:
        lines.append(
            f"-p {positive_int('priority', sch.priority, low=-1024, high=1023)}"
        )
    if sch.dependency:
        lines.append(f"-W depend={directive_value('dependency', sch.dependency)}")
    if sch.array_spec is not None:
        lines.append(_array_line(sch.array_spec, flavor))
    if sch.email is not None:
        lines += [f"-M {directive_value('email', sch.email)}", "-m ae"]
    return lines


def render_pbs_script(spec: JobSpec, job_dir: str, *, flavor: PbsFlavor = "pro") -> str:
    """The job script: ``#PBS`` directives, then the shared body.

    Raises:
        ConfigError: a value cannot be expressed as a directive (newline, NUL,
            bad priority or array range).
    """
    out, err = output_paths(spec, job_dir)
    if flavor == "torque":  # Slurm's qsub wrapper hands -o/-e to sbatch, which expands %
        out = literal_path("stdout path", out, "%", "Slurm's Torque qsub")
        err = literal_path("stderr path", err, "%", "Slurm's Torque qsub")
    options = [
        f"-N {pbs_submit_name(spec, job_dir)}",
        f"-o {directive_value('stdout path', out)}",
        f"-e {directive_value('stderr path', err)}",
    ]
    plan = plan_flags(spec, "pbs")
    options += _resource_lines(spec, flavor, user_chunk=bool(plan.keys & YIELDING["pbs"]))
    options += _scheduling_lines(spec, flavor) + list(plan.options)  # the script's own, then extra_flags
    header = ["#!/bin/bash", *(f"#PBS {option}" for option in options)]
    return "\n".join(header) + "\n" + render_body(spec, job_dir, subshell=True)


def qsub_argv(
    script_path: str,
    *,
    flavor: PbsFlavor = "pro",
    logs: tuple[str, str] | None = None,
    qsub: str = "qsub",
    foreground: bool = False,
) -> tuple[str, ...]:
    """``qsub <script>``; the torque dialect adds ``-o OUT -e ERR`` from ``logs``.

    ``foreground`` adds OpenPBS's ``-f``: no background qsub process is left behind
    (``qsub(1B)``: it can cause communication problems, and it outlives molq).

    Raises:
        ConfigError: a torque path holds characters Slurm's wrapper would pass to a shell.
    """
    if flavor == "pro" or logs is None:
        return (qsub, "-f", script_path) if foreground and flavor == "pro" else (qsub, script_path)
    out, err = logs
    for label, path in (("stdout path", out), ("stderr path", err), ("script path", script_path)):
        if not _WRAPPER_SAFE.match(path):
            msg = f"{label} {path!r} has spaces or shell characters, which Torque-style qsub wrappers cannot pass on"
            raise ConfigError(msg)
    return (qsub, "-o", out, "-e", err, script_path)


def prepare_pbs(
    spec: JobSpec, job_dir: str, *, flavor: PbsFlavor = "pro", qsub: str = "qsub", foreground: bool = False
) -> Submission:
    """The script and argv for one PBS submission (nothing is run)."""
    script_path = f"{job_dir}/{PBS_SCRIPT_FILE}"
    script = render_pbs_script(spec, job_dir, flavor=flavor)
    logs = output_paths(spec, job_dir)
    argv = qsub_argv(script_path, flavor=flavor, logs=logs, qsub=qsub, foreground=foreground)
    return Submission(argv=argv, script=script, script_path=script_path)


def parse_qsub_output(stdout: str) -> str:
    """The job id qsub printed: ``123.server``, ``12[].server`` or a bare ``14``.

    Raises:
        SchedulerOutputError: stdout is not exactly one job id.
    """
    lines = [line.strip() for line in stdout.split("\n") if line.strip()]
    if len(lines) != 1 or not _QSUB_ID.match(lines[0]):
        msg = f"qsub printed no job id: {stdout[:200]!r}"
        raise SchedulerOutputError(msg)
    return lines[0]
