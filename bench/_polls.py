"""Commands per poll and CPU of the parse, N = 10 ... 100,000, on SLURM, PBS and LSF (issue 20, item 3).

Each scheduler's answers are copies of one record of the output captured on this
machine (``bench/captures/``, see its README) with the job id replaced: a poll over
100,000 jobs parses text in the real format without a real server. The user's
listing also holds jobs molq does not track (10 % more: other tools, another molq
store), which must be left out; 5 % of the tracked jobs have left the queue and are
only in the history (sacct, ``qstat -x``, bhist). Slurm's Torque wrappers list
finished jobs as ``C`` while slurmctld keeps them, so they need no history command.

Every answer is made once and kept by argv, and the figure is the second of two
identical polls: the CPU time is molq's (argv, parse, matching), not the simulator's.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from molq.core import Completed, JobState, Observation
from molq.shell.schedulers._lsf import LSFScheduler
from molq.shell.schedulers._pbs import PBSScheduler, PBSSchedulerOptions
from molq.shell.schedulers._slurm import SlurmScheduler
from molq.shell.transport._local import LocalTransport


CAPTURES = Path(__file__).resolve().parent / "captures"
SIZES = (10, 1000, 10_000, 100_000)
LEFT = 0.05
UNTRACKED = 0.10
FIRST_ID = 1_000_000
SEPARATOR = "-" * 78
PROBES = ("-V", "--version")


def _capture(name: str) -> str:
    return (CAPTURES / name).read_text()


class Canned(LocalTransport):
    """Answers each argv once from ``answer`` and keeps it; counts commands, dialect probes apart."""

    def __init__(self, answer: Callable[[tuple[str, ...]], str]) -> None:
        self._answer = answer
        self._kept: dict[tuple[str, ...], Completed] = {}
        self.calls: Counter[str] = Counter()

    def run(self, argv: Sequence[str], **_: object) -> Completed:  # type: ignore[override]
        """The kept answer for ``argv`` (made on first use)."""
        key = tuple(argv)
        probe = len(key) > 1 and key[1] in PROBES
        self.calls["probe" if probe else Path(key[0]).name] += 1
        done = self._kept.get(key)
        if done is None:
            done = self._kept[key] = Completed(argv=key, returncode=0, stdout=self._answer(key), stderr="")
        return done


class World:
    """N tracked jobs (the first 5 % only in history) and 10 % untracked jobs of the same user."""

    def __init__(self, n: int) -> None:
        self.tracked = [str(FIRST_ID + i) for i in range(n)]
        left = max(1, int(n * LEFT))
        self.finished = self.tracked[:left]
        untracked = [str(FIRST_ID + n + i) for i in range(max(1, int(n * UNTRACKED)))]
        self.queued = self.tracked[left:] + untracked

    def named(self, argv: Sequence[str], pool: Sequence[str]) -> list[str]:
        """The ids of ``pool`` that ``argv`` names, or all of ``pool`` when it names none."""
        ids = {a for arg in argv[1:] for a in arg.split(",") if a.isdigit()}
        return [i for i in pool if i in ids] if ids else list(pool)


def _slurm(world: World) -> tuple[SlurmScheduler, Canned]:
    running = next(line for line in _capture("slurm_squeue_me.txt").splitlines() if "|RUNNING|" in line)
    done = next(line for line in _capture("slurm_sacct.txt").splitlines() if "|COMPLETED|" in line)

    def answer(argv: tuple[str, ...]) -> str:
        if argv[0] == "squeue":
            tail = running.split("|", 1)[1]
            return "".join(f"{i}|{tail}\n" for i in world.named(argv, world.queued))
        tail = done.split("|", 1)[1]
        return "".join(f"{i}|{tail}\n" for i in world.named(argv, world.finished))

    transport = Canned(answer)
    return SlurmScheduler(transport), transport


def _pbs_json(name: str) -> tuple[str, str]:
    data = json.loads(_capture(name))
    attrs = next(iter(data["Jobs"].values()))
    head = json.dumps({k: v for k, v in data.items() if k != "Jobs"})[:-1]
    return head, json.dumps(attrs)


def _openpbs(world: World) -> tuple[PBSScheduler, Canned]:
    head, running = _pbs_json("openpbs_qstat_f_json.json")
    _, finished = _pbs_json("openpbs_qstat_xf_json.json")

    def answer(argv: tuple[str, ...]) -> str:
        if "--version" in argv:
            return "pbs_version = 23.06.06\n"
        ids, body = (world.named(argv, world.finished), finished) if "-x" in argv else (world.queued, running)
        jobs = ",".join(f'"{i}.pbshost":{body}' for i in ids)
        return f'{head}, "Jobs": {{{jobs}}}}}'

    transport = Canned(answer)
    return PBSScheduler(transport, PBSSchedulerOptions(flavor="pro")), transport


def _torque(world: World) -> tuple[PBSScheduler, Canned]:
    running = _capture("torque_qstat_f_running.txt").split("\n", 1)[1].rstrip("\n")
    finished = _capture("torque_qstat_f_finished.txt").split("\n", 1)[1].rstrip("\n")

    def answer(_argv: tuple[str, ...]) -> str:
        rows = [(i, running) for i in world.queued] + [(i, finished) for i in world.finished]
        return "".join(f"Job Id:\t{i}\n{body}\n\n" for i, body in rows)

    transport = Canned(answer)
    return PBSScheduler(transport, PBSSchedulerOptions(flavor="torque")), transport


def _openlava(world: World) -> tuple[LSFScheduler, Canned]:
    running = _capture("openlava_bjobs_a_l_UF_running.txt").strip("\n").split(",", 1)[1]
    history = _capture("openlava_bhist_l_exited.txt").strip("\n").split(",", 1)[1]

    def answer(argv: tuple[str, ...]) -> str:
        if argv[0] == "bjobs":
            if "-V" in argv:
                return "OpenLava 4.0dev4, Dec  2 2026\n"
            return f"\n{SEPARATOR}\n".join(f"\nJob <{i}>,{running}" for i in world.named(argv, world.queued))
        return f"\n{SEPARATOR}\n".join(f"\nJob Id <{i}>,{history}" for i in world.named(argv, world.finished))

    transport = Canned(answer)
    return LSFScheduler(transport), transport


SCHEDULERS: dict[str, Callable[[World], tuple[Any, Canned]]] = {
    "slurm": _slurm,
    "openpbs": _openpbs,
    "pbs_torque": _torque,
    "openlava": _openlava,
}
STATUS = {"slurm": "squeue", "openpbs": "qstat", "pbs_torque": "qstat", "openlava": "bjobs"}
MOST = {"slurm": 2, "openpbs": 2, "pbs_torque": 1, "openlava": 2}


def _check(world: World, seen: dict[str, Observation]) -> None:
    """Every tracked job is answered, the untracked ones are not, and the states are right."""
    if list(seen) != world.tracked:
        msg = "the poll answered other ids than the tracked ones"
        raise RuntimeError(msg)
    finished = set(world.finished)
    wrong = [
        i
        for i, obs in seen.items()
        if (obs.state is None or obs.state.is_terminal) != (i in finished) or (i not in finished and obs.state is not JobState.RUNNING)
    ]
    if wrong:
        msg = f"{len(wrong)} jobs observed wrongly, e.g. {wrong[0]}: {seen[wrong[0]]}"
        raise RuntimeError(msg)


def one(kind: str, n: int) -> dict[str, Any]:
    """Commands and CPU seconds of one poll over ``n`` tracked jobs on ``kind``."""
    world = World(n)
    scheduler, transport = SCHEDULERS[kind](world)
    scheduler.observe_many(world.tracked)  # makes and keeps the answers; detects the dialect
    transport.calls.clear()
    cpu = time.process_time()
    seen = scheduler.observe_many(world.tracked)
    cpu = time.process_time() - cpu
    _check(world, seen)
    return {"commands": dict(transport.calls), "total": sum(transport.calls.values()), "parse_cpu_s": cpu}


def figures(sizes: Sequence[int] = SIZES, kinds: Sequence[str] = tuple(SCHEDULERS)) -> dict[str, dict[str, Any]]:
    """``poll_{kind}_{N}``: commands per poll (value) and CPU of the parse (detail), bench's format."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        for n in sizes:
            got = one(kind, n)
            status = got["commands"].get(STATUS[kind], 0)
            out[f"poll_{kind}_{n}"] = {
                "value": got["total"],
                "unit": "commands/poll",
                "target": "1 status + at most 1 history command",
                "meets": got["total"] <= MOST[kind] and status >= 1,
                "detail": {
                    "jobs": n,
                    "untracked_listed": max(1, int(n * UNTRACKED)),
                    "left_queue": max(1, int(n * LEFT)),
                    "parse_cpu_ms": round(got["parse_cpu_s"] * 1e3, 2),
                    **got["commands"],
                },
            }
    return out
