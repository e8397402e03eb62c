"""``SchedulerOptions``: the union of the four scheduler options classes, as upstream molq names it."""

from __future__ import annotations

from typing import TypeAlias

from molq.shell._local_options import LocalSchedulerOptions
from molq.shell._lsf import LSFSchedulerOptions
from molq.shell._pbs import PBSSchedulerOptions
from molq.shell._slurm import SlurmSchedulerOptions


SchedulerOptions: TypeAlias = LocalSchedulerOptions | SlurmSchedulerOptions | PBSSchedulerOptions | LSFSchedulerOptions
