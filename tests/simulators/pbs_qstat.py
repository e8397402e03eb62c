"""qstat and qdel of the PBS simulator (see pbs_sim.py for the state and qsub)."""

from __future__ import annotations

import getopt
import time

from pbs_sim import (
    DONE_LETTER,
    E_BADSTATE,
    E_UNKNOWN,
    HOST,
    ROOT,
    SERVER,
    err,
    full,
    key,
    locked,
    view,
)
from simcore import Job, State, ctime, hms


def _used(job: Job) -> str:
    if not job.get("started"):
        return "0"
    return hms((job.get("finished") or time.time()) - job["started"])


def _attrs(job: Job) -> list[tuple[str, str]]:
    owner = f"{job['owner']}@{HOST}"
    rows = [("Job_Name", job["name"]), ("Job_Owner", owner)]
    if job.get("started"):
        rows.append(("resources_used.walltime", _used(job)))
    rows += [("job_state", job["status"]), ("queue", job["queue"]), ("server", SERVER)]
    rows += [("Checkpoint", "u"), ("ctime", ctime(job["submitted"]))]
    if job["depend_text"]:
        rows.append(
            ("depend", ",".join(f"{p}@{SERVER}" for p in job["depend_text"].split(",")))
        )
    rows += [("Error_Path", f"{HOST}:{job['stderr']}")]
    if job.get("started"):
        rows.append(("exec_host", f"{HOST}/0"))
    rows += [("Hold_Types", "s" if job["status"] == "H" else "n"), ("Join_Path", "n")]
    rows += [("Output_Path", f"{HOST}:{job['stdout']}"), ("Priority", job["priority"])]
    rows += [("qtime", ctime(job["submitted"])), ("Rerunable", "True")]
    rows += [(f"Resource_List.{k}", v) for k, v in sorted(job["resources"].items())]
    if job.get("started"):
        rows.append(("stime", ctime(job["started"])))
    return [*rows, *_tail(job)]


def _tail(job: Job) -> list[tuple[str, str]]:
    rows = []
    home = f"PBS_O_HOME=/home/{job['owner']}"
    rows.append(
        (
            "Variable_List",
            f"{home},PBS_O_LOGNAME={job['owner']},PBS_O_SHELL=/bin/bash,PBS_O_HOST={HOST},PBS_O_QUEUE={job['queue']},PBS_O_SYSTEM=Linux",
        )
    )
    if job["comment"]:
        rows.append(("comment", job["comment"]))
    if job["exit"] is not None:
        rows.append(("exit_status", str(job["exit"])))
    if job.get("array"):
        rows += [
            ("array", "True"),
            ("array_indices_submitted", f"{job['array'][0]}-{job['array'][-1]}"),
        ]
        rows.append(("array_state_count", job["array_state_count"]))
    rows.append(("Submit_arguments", job["script"]))
    return rows


def _wrap(name: str, value: str) -> str:
    line = f"    {name} = {value}"
    if len(line) <= 79:
        return line
    chunks = [line[:79]] + [line[i : i + 78] for i in range(79, len(line), 78)]
    return "\n\t".join(chunks)


def show_full(jobs: list[Job]) -> None:
    """Layout captured (openpbs_qstat_f_active.txt: 4-space attributes, TAB continuations)."""
    for job in jobs:
        print(f"Job Id: {job['id']}")
        for name, value in _attrs(job):
            print(_wrap(name, value))
        print()


def show_table(jobs: list[Job]) -> None:
    """Plain ``qstat``: captured on OpenPBS 23.06 and the Torque wrappers (widths)."""
    idw = 25
    print(f"{'Job id':<{idw}}  {'Name':<16} {'User':<16}  Time Use S Queue")
    print(f"{'-' * idw}  {'-' * 16} {'-' * 16}  -------- - -----")
    for job in jobs:
        jid = job["id"] if len(job["id"]) <= idw else job["id"][: idw - 1] + "*"
        print(
            f"{jid:<{idw}}  {job['name'][:16]:<16} {job['owner'][:16]:<16}  "
            f"{_used(job):>8} {job['status']} {job['queue']:<16}"
        )


def show_alt(jobs: list[Job]) -> None:
    """``qstat -a``/``-u``: header captured on OpenPBS 23.06."""
    print(f"\n{SERVER}: ")
    print(" " * 60 + "Req'd  Req'd   Elap")
    print(
        "Job ID          Username Queue    Jobname    SessID NDS TSK Memory "
        "Time  S Time"
    )
    print(
        "--------------- -------- -------- ---------- ------ --- --- ------ "
        "----- - -----"
    )
    for job in jobs:
        wall = job["resources"].get("walltime", "--")[:5]
        elap = _used(job)[:5] if job.get("started") else "--"
        print(
            f"{job['id'][:15]:<15} {job['owner'][:8]:<8} {job['queue'][:8]:<8} "
            f"{job['name'][:10]:<10} {job.get('pid') or '--':>6}   1   1    -- "
            f"{wall:>5} {job['status']} {elap}"
        )


def _select(
    state: State, ids: list[str], user: str | None
) -> tuple[list[Job], int]:
    rc = 0
    jobs = []
    for job_id in ids:
        job = state["jobs"].get(key(job_id))
        if job is None:
            err(f"qstat: Unknown Job Id Error {full(job_id)}")  # manual (Torque 6.1)
            rc = E_UNKNOWN
            continue
        jobs.append(view(job, state))
    if not ids:
        tops = [view(j, state) for j in state["jobs"].values() if not j.get("parent")]
        jobs = tops
    return [j for j in jobs if user is None or j["owner"] == user], rc


def show_xml(jobs: list[Job]) -> None:
    """Torque ``qstat -x`` XML: manual (Torque 6.1), shape only."""
    body = "".join(
        f"<Job><Job_Id>{j['id']}</Job_Id><job_state>{j['status']}</job_state></Job>"
        for j in jobs
    )
    print(f"<Data>{body}</Data>")


def qstat(args: list[str]) -> int:
    try:
        opts, ids = getopt.getopt(args, "fxHu:tJw1a")
    except getopt.GetoptError as exc:
        err(f"qstat: invalid option -- '{exc.opt}'")  # captured (real prefix: /opt/pbs/bin/qstat)
        return 2
    flags = dict(opts)
    with locked(ROOT) as state:
        jobs, rc = _select(state, ids, flags.get("-u"))
    if "-x" in flags:
        show_xml(jobs)
    elif "-f" in flags:
        show_full(jobs)
    elif "-u" in flags or "-a" in flags:
        show_alt(jobs) if jobs else None
    elif jobs:
        show_table(jobs)
    return rc


def _delete(state: State, job: Job) -> None:
    targets = (
        [job]
        if not job.get("array")
        else [state["jobs"][f"{job['key'][:-2]}[{i}]"] for i in job["array"]]
    )
    job["deleted"] = True
    for target in targets:
        if target["done"]:
            continue
        if target.get("started"):
            target["kill_requested"] = True
        else:
            target.update(
                status=DONE_LETTER,
                substate=91,
                done=True,
                finished=time.time(),
                comment="Job deleted",
            )


def qdel(args: list[str]) -> int:
    ids = [a for a in args if not a.startswith("-")]
    if not ids:
        err("usage: qdel [-W force|suppress_email=X] [-x] job_identifier...")  # captured
        return 2
    rc = 0
    with locked(ROOT) as state:
        for job_id in ids:
            job = state["jobs"].get(key(job_id))
            if job is None:
                err(f"qdel: Unknown Job Id {full(job_id)}")  # captured (openpbs_qdel_errors.txt)
                rc = E_UNKNOWN
            elif view(job, state)["done"]:
                err(f"qdel: Request invalid for state of job {job['id']}")  # manual (Torque 6.1, PBSE_BADSTATE)
                rc = E_BADSTATE
            else:
                _delete(state, job)
    return rc
