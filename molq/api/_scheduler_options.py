"""``SchedulerOptions``: the union of the four scheduler options classes, as upstream molq names it."""

from __future__ import annotations

from typing import TypeAlias

from molq.shell.schedulers._local_options import LocalSchedulerOptions
from molq.shell.schedulers._lsf import LSFSchedulerOptions
from molq.shell.schedulers._pbs import PBSSchedulerOptions
from molq.shell.schedulers._slurm import SlurmSchedulerOptions


SchedulerOptions: TypeAlias = LocalSchedulerOptions | SlurmSchedulerOptions | PBSSchedulerOptions | LSFSchedulerOptions
