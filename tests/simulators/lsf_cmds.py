"""bjobs and bkill of the LSF simulator (see lsf_sim.py for the state and bsub).

Output formats: IBM Spectrum LSF 10.1 command reference (``bjobs -o``, bkill replies).
"""

from __future__ import annotations

import os
import time

from lsf_sim import HOST, OWNER, ROOT, elements, err, locked, summary
from simcore import Job, State, user_name


FIELDS = {
    "jobid": lambda j: j["jobid"],
    "jobindex": lambda j: str(j["index"]),
    "stat": lambda j: j["status"],
    "exit_code": lambda j: (
        "-" if j["exit"] is None or j["status"] == "DONE" else str(j["exit"])
    ),
    "exit_reason": lambda j: j["reason"] or "-",
    "user": lambda j: j["user"],
    "queue": lambda j: j["queue"],
    "job_name": lambda j: j["name"],
    "from_host": lambda j: HOST,
    "exec_host": lambda j: HOST if j["started"] else "-",
    "proj_name": lambda j: j["project"],
    "dependency": lambda j: j["depend_text"] or "-",
    "pend_reason": lambda j: j.get("pend_reason") or "-",
    "submit_time": lambda j: _stamp(j["submitted"]),
    "start_time": lambda j: _stamp(j["started"]),
    "finish_time": lambda j: _stamp(j["finished"]),
}


def _stamp(epoch: float | None) -> str:
    return time.strftime("%b %d %H:%M", time.localtime(epoch)) if epoch else "-"


def _consistent() -> bool:
    return os.environ.get("MOLQ_SIM_LSF_CONSISTENT_EXIT_CODE", "N").upper() == "Y"


def _format(spec: str) -> tuple[list[str], str]:
    names, delimiter = [], " "
    for word in spec.split():
        if word.startswith("delimiter="):
            delimiter = word.removeprefix("delimiter=").strip("'\"") or " "
        else:
            names.append(word.split(":", 1)[0].lower())
    bad = [n for n in names if n not in FIELDS]
    if bad:
        raise ValueError(" ".join(bad))
    return names, delimiter


def _options(args: list[str]) -> tuple[dict[str, str], list[str]]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-o", "-u", "-q", "-J"):
            opts[args[i]] = args[i + 1] if i + 1 < len(args) else ""
            i += 2
        elif args[i] in ("-a", "-noheader", "-w", "-W", "-d", "-r", "-p", "-A"):
            opts[args[i]] = ""
            i += 1
        else:
            raise ValueError(args[i])
    return opts, args[i:]


def _select(
    state: State, ids: list[str], opts: dict[str, str]
) -> tuple[list[Job], int]:
    rows: list[Job] = []
    missing = 0
    for job_id in ids:
        job = state["jobs"].get(job_id)
        if job is None:
            err(f"Job <{job_id}> is not found")
            missing += 1
        else:
            rows += elements(job, state)
    if not ids:
        user = opts.get("-u", user_name())
        tops = [j for j in state["jobs"].values() if j.get("array") is None]
        rows = [j for j in tops if "-a" in opts or not j["done"]]
        rows = [j for j in rows if user in ("all", "") or j["user"] == user]
        if not rows:
            err("No job found" if "-a" in opts else "No unfinished job found")
    failed = missing > 0 or not rows
    return rows, 255 if failed and _consistent() else 0


def bjobs(args: list[str]) -> int:
    try:
        opts, ids = _options(args)
        names, delimiter = _format(
            opts.get(
                "-o", "jobid user stat queue from_host exec_host job_name submit_time"
            )
        )
    except ValueError as exc:
        err(f"{exc}: Illegal option or field name")
        return 255
    with locked(ROOT) as state:
        rows, rc = _select(state, ids, opts)
    if rows and "-noheader" not in opts:
        print(
            delimiter.join(n.upper() for n in names)
            if "-o" in opts
            else "JOBID   USER    STAT  QUEUE      FROM_HOST   EXEC_HOST   "
            "JOB_NAME   SUBMIT_TIME"
        )
    for job in rows:
        values = [FIELDS[n](job) for n in names]
        if "-o" in opts:
            print(delimiter.join(values))
        else:
            print("{:<7} {:<7} {:<5} {:<10} {:<11} {:<11} {:<10} {}".format(*values))
    return rc


def _kill(state: State, job: Job) -> None:
    for part in elements(job, state):
        if part["done"]:
            continue
        if part["started"]:
            part["kill_requested"] = True
        else:
            part.update(status="EXIT", reason=OWNER, done=True, finished=time.time())


def bkill(args: list[str]) -> int:
    ids = [a for a in args if not a.startswith("-")]
    if not ids:
        err("Job ID must be specified")
        return 255
    rc = 0
    with locked(ROOT) as state:
        for job_id in ids:
            job = state["jobs"].get(job_id)
            if job is None:
                err(f"Job <{job_id}>: No matching job found")
                rc = 255
            elif summary(job, state)["done"]:
                err(f"Job <{job_id}>: Job has already finished")
                rc = 255
            else:
                _kill(state, job)
                print(f"Job <{job_id}> is being terminated")
    return rc
