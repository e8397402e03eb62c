"""One job array from a list of commands: the shell text each task runs (``map_jobs``).

Rules of this module:
  Rule 1: pure: argv lists in, one POSIX shell command out; nothing is run here.
  Rule 2: tasks are numbered from 1 on every scheduler (LSF has no index 0): task k runs
          item k - 1 of the list.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Final

from ._errors import ConfigError


TASK_INDEX: Final = "${SLURM_ARRAY_TASK_ID:-${PBS_ARRAY_INDEX:-${LSB_JOBINDEX:-}}}"
"""The running task's index under Slurm, PBS or LSF."""


def map_array_spec(count: int, max_parallel: int | None = None) -> str:
    """``1-<count>``, with ``%<max_parallel>`` as the throttle when given.

    Raises:
        ConfigError: ``count`` or ``max_parallel`` is below 1.
    """
    if count < 1:
        msg = "map_jobs needs at least one command"
        raise ConfigError(msg)
    if max_parallel is not None and max_parallel < 1:
        msg = f"max_parallel must be 1 or more, got {max_parallel}"
        raise ConfigError(msg)
    return f"1-{count}" + (f"%{max_parallel}" if max_parallel is not None else "")


def map_command(argvs: Sequence[Sequence[str]]) -> str:
    """A shell ``case`` on the task index that runs task k's argv (``argvs[k - 1]``).

    Raises:
        ConfigError: the list is empty, or an item is not a non-empty list of strings.
    """
    if isinstance(argvs, str) or not argvs:
        msg = "map_jobs needs a list of commands (each a list of strings)"
        raise ConfigError(msg)
    arms = []
    for position, argv in enumerate(argvs, start=1):
        if isinstance(argv, str) or not argv or not all(isinstance(part, str) for part in argv):
            msg = f"map_jobs item {position - 1} must be a non-empty list of strings, got {argv!r}"
            raise ConfigError(msg)
        arms.append(f"{position}) exec {shlex.join(argv)} ;;")
    unknown = 'echo "molq map_jobs: no command for task $__molq_task" >&2; exit 2 ;;'
    return "\n".join(
        [f'__molq_task="{TASK_INDEX}"', 'case "$__molq_task" in', *arms, f"*) {unknown}", "esac"]
    )
