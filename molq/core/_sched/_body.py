"""The shell body every backend runs: cd, environment, the command, its exit code.

Rules of this module:
  Rule 1: every user-supplied string reaches the shell through ``quote`` only.
  Rule 2: bad names and NUL bytes are a ConfigError, never rendered.
"""

from __future__ import annotations

import re
import shlex
from typing import Final

from .._errors import ConfigError
from .._spec import JobSpec


ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EXIT_CODE_FILE: Final = "exit_code"
INLINE_SCRIPT_FILE: Final = "script.sh"


def quote(text: str) -> str:
    """Single-quote ``text`` for POSIX sh; NUL cannot be represented and is refused.

    Raises:
        ConfigError: the text contains a NUL byte.
    """
    if "\0" in text:
        msg = f"NUL byte in {text!r}: it cannot be passed to a shell"
        raise ConfigError(msg)
    return shlex.quote(text)


def env_lines(spec: JobSpec) -> list[str]:
    """``export NAME='value'`` lines for the spec's environment.

    Raises:
        ConfigError: an environment variable name is not a valid shell identifier.
    """
    lines = []
    for name, value in (spec.execution.env or {}).items():
        if not ENV_NAME.match(name):
            msg = f"invalid environment variable name {name!r}: use letters, digits and _, not starting with a digit"
            raise ConfigError(msg)
        lines.append(f"export {name}={quote(value)}")
    return lines


def command_line(spec: JobSpec, job_dir: str) -> str:
    """The line that runs the user's work."""
    if spec.argv is not None:
        return " ".join(quote(arg) for arg in spec.argv)
    if spec.command is not None:
        if "\0" in spec.command:
            msg = "NUL byte in command: it cannot be passed to a shell"
            raise ConfigError(msg)
        return spec.command
    script = spec.script
    assert script is not None  # noqa: S101 - JobSpec guarantees exactly one
    path = str(script.file_path) if script.variant == "path" else f"{job_dir}/{INLINE_SCRIPT_FILE}"
    assert path is not None  # noqa: S101
    quoted = quote(path)
    return f"if [ -x {quoted} ]; then {quoted}; else /bin/sh {quoted}; fi"


def inline_script(spec: JobSpec) -> str | None:
    """The text to write to ``<job_dir>/script.sh`` for an inline script, else None."""
    if spec.script is not None and spec.script.variant == "inline":
        return spec.script.text
    return None


def render_body(
    spec: JobSpec, job_dir: str, *, exit_code_file: bool = True, atomic: bool = True, subshell: bool = False
) -> str:
    """The body of a job script: cd to the cwd, export env, run, record the exit code.

    The exit code goes to ``<job_dir>/exit_code`` so a finished job's result can be
    read back where the scheduler's accounting cannot tell it. ``atomic`` writes it
    through a temp file and ``mv`` (readers elsewhere never see a partial file); the
    local backend passes False and writes it with the ``printf`` builtin, sparing a
    process per job, because it reads the file only once the job's processes are gone.
    ``subshell`` runs the command in ``( … )`` so that an ``exit N`` in it still leaves
    the exit code recorded (PBS: Slurm's Torque wrappers report no exit status).
    """
    command = command_line(spec, job_dir)
    if subshell:
        command = f"(\n{command}\n)"
    lines = [f"cd {quote(spec.cwd)} || exit 127", *env_lines(spec), command]
    if exit_code_file:
        target = quote(f"{job_dir}/{EXIT_CODE_FILE}")
        # an array's tasks end side by side: each its own temp file, or one task's mv finds none
        tmp = f"{target}.tmp" + (".$$" if spec.scheduling.array_spec is not None else "")
        record = (
            f"printf '%s\\n' \"$__molq_rc\" > {tmp} && mv -f {tmp} {target}"
            if atomic
            else f"printf '%s\\n' \"$__molq_rc\" > {target}"
        )
        lines += ["__molq_rc=$?", record, 'exit "$__molq_rc"']
    return "\n".join(lines) + "\n"
