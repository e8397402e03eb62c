"""A poll runs one status command and at most one history command, and keeps only its own ids.

The transport answers with text in the format of the captures in ``bench/captures``
(this machine's Slurm 22.05, OpenPBS 23.06, OpenLava 4.0); the listings also hold jobs
of the same user that this store does not track (other tools, another molq store).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from molq.core import Completed, JobState
from molq.shell.schedulers._lsf import LSFScheduler
from molq.shell.schedulers._pbs import PBSScheduler, PBSSchedulerOptions
from molq.shell.schedulers._slurm import SlurmScheduler, SlurmSchedulerOptions
from molq.shell.transport._local import LocalTransport


class Scripted(LocalTransport):
    """Answers every command with ``answer(argv)``; keeps the argv of each call."""

    def __init__(self, answer: Callable[[tuple[str, ...]], tuple[int, str, str]]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **_: object) -> Completed:  # type: ignore[override]
        argv = tuple(argv)
        self.calls.append(argv)
        code, out, err = self.answer(argv)
        return Completed(argv=argv, returncode=code, stdout=out, stderr=err)


SQUEUE_ME = (
    "101|RUNNING|1796223125|1827759125|None\n"  # tracked
    "102|PENDING|N/A|N/A|JobHeldUser\n"  # tracked
    "900|RUNNING|1796223125|1827759125|None\n"  # untracked: submitted outside molq
    "901|FAILED|1796223125|1796223126|NonZeroExitCode\n"  # another store's job
)
SACCT = "103|COMPLETED|0:0|1796223125|1796223126\n902|FAILED|3:0|1796223125|1796223126\n"


def _slurm_answer(argv: tuple[str, ...]) -> tuple[int, str, str]:
    if argv[0] == "squeue":
        return 0, SQUEUE_ME, ""
    return 0, SACCT, ""


def test_slurm_past_the_id_limit_one_squeue_me_one_sacct_own_ids_only():
    """Three tracked jobs over a limit of 2: squeue --me, then sacct for the one that left."""
    transport = Scripted(_slurm_answer)
    sched = SlurmScheduler(transport, SlurmSchedulerOptions(squeue_chunk_size=2))
    seen = sched.observe_many(["101", "102", "103"])
    assert list(seen) == ["101", "102", "103"]
    assert [seen[i].state for i in seen] == [JobState.RUNNING, JobState.QUEUED, JobState.SUCCEEDED]
    assert [argv[0] for argv in transport.calls] == ["squeue", "sacct"]
    assert "--me" in transport.calls[0]
    assert transport.calls[1][transport.calls[1].index("-j") + 1] == "103"


def test_slurm_before_20_11_falls_back_to_chunks():
    """A squeue that does not know ``--me`` gets the ids in chunks, as before."""

    def answer(argv: tuple[str, ...]) -> tuple[int, str, str]:
        if "--me" in argv:
            return 1, "", "squeue: unrecognized option '--me'\n"
        return _slurm_answer(argv)

    transport = Scripted(answer)
    sched = SlurmScheduler(transport, SlurmSchedulerOptions(squeue_chunk_size=2))
    seen = sched.observe_many(["101", "102", "103"])
    assert seen["101"].state is JobState.RUNNING
    assert seen["103"].state is JobState.SUCCEEDED
    squeues = [argv for argv in transport.calls if argv[0] == "squeue"]
    assert [argv[argv.index("-j") + 1] for argv in squeues[1:]] == ["101,102", "103"]


def _pbs_jobs(ids: Sequence[str], state: str, owner: str = "root@pbshost") -> str:
    jobs = {f"{i}.pbshost": {"Job_Name": f"j{i}", "Job_Owner": owner, "job_state": state} for i in ids}
    for attrs in jobs.values():
        if state == "F":
            attrs |= {"Exit_status": 0, "substate": 92, "exec_host": "pbshost/0"}
    return json.dumps({"pbs_version": "23.06.06", "pbs_server": "pbshost", "Jobs": jobs})


def test_openpbs_one_listing_and_one_history_for_more_ids_than_a_chunk():
    """Other users' and untracked jobs are ignored; every id that left goes in one ``qstat -x``."""

    def answer(argv: tuple[str, ...]) -> tuple[int, str, str]:
        if "--version" in argv:
            return 0, "pbs_version = 23.06.06\n", ""
        if "-x" in argv:
            return 0, _pbs_jobs([a for a in argv if a.isdigit()], "F"), ""
        return 0, _pbs_jobs(["1", "900"], "R") + "", ""

    transport = Scripted(answer)
    sched = PBSScheduler(transport, PBSSchedulerOptions(flavor="pro", chunk_size=1))
    seen = sched.observe_many(["1", "2", "3", "4"])
    assert list(seen) == ["1", "2", "3", "4"]
    assert seen["1"].state is JobState.RUNNING
    assert {seen[i].state for i in ("2", "3", "4")} == {JobState.SUCCEEDED}
    history = [argv for argv in transport.calls if "-x" in argv]
    assert len(history) == 1
    assert history[0][-3:] == ("2", "3", "4")


OPENLAVA_HIST = (
    "Job Id <{i}>, User <root>, Project <default>, Command <true>\n"
    "Wed Dec  2 14:52:29: Submitted from host <vm> to Queue <normal>, CWD </tmp>;\n"
    "Wed Dec  2 14:52:30: Dispatched to <vm>;\n"
    "Wed Dec  2 14:52:30: Starting (Pid 14666);\n"
    "Wed Dec  2 14:52:30: Done successfully. The CPU time used is 0.0 seconds;\n"
)


def test_openlava_one_bjobs_of_the_user_and_one_bhist_for_many_ids():
    """Past the id limit, ``bjobs -a -l -UF`` without ids; every job it lacks in one bhist."""

    def answer(argv: tuple[str, ...]) -> tuple[int, str, str]:
        if argv[1:] == ("-V",):
            return 0, "", "OpenLava 4.0dev4, Dec  2 2026\n"
        if argv[0] == "bjobs":
            return (
                0,
                (
                    "\nJob <1>, User <root>, Project <default>, Status <RUN>, Queue <normal>, Command <sleep 60>\n"
                    "Wed Dec  2 14:52:29: Submitted from host <vm>, CWD </tmp>;\n"
                    "Wed Dec  2 14:52:30: Started on <vm>, Execution Home </root>, Execution CWD </tmp>;\n"
                ),
                "",
            )
        ids = [a for a in argv[2:] if a.isdigit()]
        return 0, ("-" * 78 + "\n").join(OPENLAVA_HIST.format(i=i) for i in ids), ""

    from molq.shell.schedulers._lsf import LSFSchedulerOptions

    transport = Scripted(answer)
    sched = LSFScheduler(transport, LSFSchedulerOptions(chunk_size=2))
    seen = sched.observe_many(["1", "2", "3", "4"])
    assert seen["1"].state is JobState.RUNNING
    assert {seen[i].state for i in ("2", "3", "4")} == {JobState.SUCCEEDED}
    polls = [argv for argv in transport.calls if argv[1:] != ("-V",)]
    assert polls == [("bjobs", "-a", "-l", "-UF"), ("bhist", "-l", "2", "3", "4")]
