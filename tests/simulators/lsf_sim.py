"""IBM Spectrum LSF 10.1 simulator behind tests/simulators/lsf/{bsub,bjobs,bkill,bhist}.

Every output it prints (``bjobs -o`` rows, bsub/bkill messages, TERM_* reasons)
follows the IBM Spectrum LSF 10.1 command reference (see
docs/adr/0012-pbs-lsf-simulators.md); none of it is a capture. It stays only for
IBM's ``bjobs -o`` dialect: OpenLava's behaviour is tested against the real system
(tests/integration/test_lsf_real.py). Stdlib only.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import sys
import time
from pathlib import Path

import simcore
from simcore import Job, State, locked


ROOT = simcore.state_dir("lsf")
HOST = socket.gethostname().split(".")[0] or "localhost"
WITH_ARG = {
    "-J",
    "-o",
    "-oo",
    "-e",
    "-eo",
    "-q",
    "-P",
    "-n",
    "-R",
    "-M",
    "-W",
    "-w",
    "-u",
}
WITH_ARG |= {"-gpu", "-sp", "-app", "-G", "-m", "-cwd", "-Q"}
FLAGS = {"-x", "-N", "-B", "-r", "-rn", "-ti"}
RUNLIMIT = "TERM_RUNLIMIT: job killed after reaching LSF run time limit"
OWNER = "TERM_OWNER: job killed by owner"
ORPHAN = "TERM_ORPHAN_SYSTEM: The orphan job was automatically terminated by LSF"
NEVER = "Dependency condition invalid or never satisfied"
_TERM = re.compile(
    r"^\s*(!?)\s*(done|exit|started|ended)\(\s*(\d+(?:\[\d+\])?)\s*(?:,[^)]*)?\)\s*$"
)
_NAME = re.compile(r"^([^\[]*)\[([\d,:\-]+)(?:%\d+)?\]$")


def err(text: str) -> None:
    print(text, file=sys.stderr)


def parse_options(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(words) and words[i].startswith("-"):
        word = words[i]
        if word in FLAGS:
            opts.setdefault(word, []).append("")
            i += 1
        elif word in WITH_ARG and i + 1 < len(words):
            opts.setdefault(word, []).append(words[i + 1])
            i += 2
        else:
            raise ValueError(word)
    return opts, words[i:]


def directives(script: str) -> list[str]:
    words: list[str] = []
    for line in script.splitlines()[1:]:
        if line.startswith("#BSUB"):
            words += shlex.split(line[5:])
        elif line.strip() and not line.startswith("#"):
            break
    return words


def indices(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        rng, _, step = part.partition(":")
        start, _, end = rng.partition("-")
        found += range(int(start), int(end or start) + 1, int(step or 1))
    return found


def runlimit(text: str) -> int:
    hours, _, minutes = text.rpartition(":")
    return (int(hours or 0) * 60 + int(minutes)) * 60


def terms(expression: str) -> list[list[tuple[bool, str, str]]]:
    """``a && b || c`` as [[a, b], [c]] of (negated, kind, id); ValueError if bad."""
    groups = []
    for alternative in expression.split("||"):
        group = []
        for term in alternative.split("&&"):
            match = _TERM.match(term)
            if not match:
                raise ValueError(term)
            group.append((match.group(1) == "!", match.group(2), match.group(3)))
        groups.append(group)
    return groups


def new_job(
    jobid: str, opts: dict[str, list[str]], name: str, array: list[int] | None
) -> Job:
    def last(flag: str, default: str = "") -> str:
        return opts.get(flag, [default])[-1]

    home = os.environ.get("HOME", "/")
    out = last("-oo") or last("-o") or f"{home}/lsf.o{jobid}"
    errf = last("-eo") or last("-e") or out
    wall = last("-W")
    return {
        "key": jobid,
        "jobid": jobid,
        "index": 0,
        "name": name,
        "user": simcore.user_name(),
        "queue": last("-q", "normal"),
        "project": last("-P", "default"),
        "stdout": out,
        "stderr": errf,
        "walltime_s": runlimit(wall) if wall else None,
        "scale": simcore.time_scale(),
        "depend_text": last("-w"),
        "submitted": time.time(),
        "started": None,
        "finished": None,
        "status": "PEND",
        "exit": None,
        "reason": "",
        "done": False,
        "array": array,
    }


def read_submission(args: list[str]) -> tuple[dict[str, list[str]], str]:
    opts, command = parse_options(args)
    if command:
        return opts, "#!/bin/bash\n" + shlex.join(command) + "\n"
    script = sys.stdin.read()
    script_opts, _ = parse_options(directives(script))
    return {**script_opts, **opts}, script


def check(opts: dict[str, list[str]], state: State) -> None:
    for flag in ("-n", "-sp"):
        if flag in opts and not opts[flag][-1].isdigit():
            raise ValueError(f"{flag} {opts[flag][-1]}")
    if "-W" in opts:
        runlimit(opts["-W"][-1])
    for group in terms(opts["-w"][-1]) if "-w" in opts else []:
        for _neg, _kind, dep in group:
            if dep not in state["jobs"]:
                raise LookupError(dep)


def add_elements(state: State, job: Job) -> list[str]:
    """Store the job (and its array elements); ``%J``/``%I`` in paths expand."""
    jobid = job["jobid"]
    for stream in ("stdout", "stderr"):
        job[stream] = job[stream].replace("%J", jobid)
    state["jobs"][jobid] = job
    if job["array"] is None:
        return [jobid]
    keys = []
    for i in job["array"]:
        element = dict(job, key=f"{jobid}[{i}]", index=i, parent=jobid, array=None)
        element["name"] = f"{job['name']}[{i}]"
        for stream in ("stdout", "stderr"):
            element[stream] = job[stream].replace("%I", str(i))
        state["jobs"][element["key"]] = element
        keys.append(element["key"])
    return keys


def bsub(args: list[str]) -> int:
    try:
        opts, script = read_submission(args)
        name_spec = opts.get("-J", [""])[-1]
        match = _NAME.match(name_spec)
        array = indices(match.group(2)) if match else None
    except ValueError as exc:
        err(f"{exc}: Bad argument. Job not submitted.")
        return 255
    name = (match.group(1) if match else name_spec) or "molq"
    with locked(ROOT) as state:
        try:
            check(opts, state)
        except LookupError as exc:
            err(f"{exc.args[0]}: No matching job found. Job not submitted.")
            return 255
        except ValueError as exc:
            err(f"{exc}: Bad argument. Job not submitted.")
            return 255
        jobid = str(state["next_id"])
        state["next_id"] += 1
        job = new_job(jobid, opts, name, array)
        job["spool"] = str(ROOT / f"{jobid}.sh")
        Path(job["spool"]).write_text(script)
        keys = add_elements(state, job)
    for k in keys:
        simcore.spawn_supervisor(__file__, ROOT, k)
    where = f"queue <{opts['-q'][-1]}>" if "-q" in opts else "default queue <normal>"
    print(f"Job <{jobid}> is submitted to {where}.")
    return 0


def elements(job: Job, state: State) -> list[Job]:
    if not job.get("array"):
        return [job]
    return [state["jobs"][f"{job['jobid']}[{i}]"] for i in job["array"]]


def summary(job: Job, state: State) -> Job:
    """One job's overall status (an array's from its elements)."""
    parts = elements(job, state)
    if len(parts) == 1 and not job.get("array"):
        return job
    shown = dict(
        job, started=min((p["started"] for p in parts if p["started"]), default=None)
    )
    if all(p["done"] for p in parts):
        shown.update(
            done=True,
            status="EXIT" if any(p["status"] == "EXIT" for p in parts) else "DONE",
        )
    elif any(p["started"] for p in parts):
        shown.update(status="RUN")
    return shown


class LsfDialect:
    kill_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
    walltime_signals = (signal.SIGUSR2, signal.SIGKILL)

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def _term(kind: str, dep: Job) -> bool | None:
        status = dep["status"]
        if kind == "done":
            return {"DONE": True, "EXIT": False}.get(status)
        if kind == "exit":
            return {"EXIT": True, "DONE": False}.get(status)
        if kind == "ended":
            return True if dep["done"] else None
        return True if dep["started"] else (False if dep["done"] else None)

    def verdict(self, job: Job, state: State) -> str:
        results = []
        for group in terms(job["depend_text"]) if job["depend_text"] else [[]]:
            values = []
            for negated, kind, dep in group:
                value = self._term(kind, summary(state["jobs"][dep], state))
                values.append(value if value is None or not negated else not value)
            results.append(
                None
                if None in values and False not in values
                else all(v is True for v in values)
            )
        if any(r is True for r in results):
            return "ok"
        return "never" if all(r is False for r in results) else "wait"

    def on_never(self, job: Job) -> bool:
        if os.environ.get("MOLQ_SIM_LSF_ORPHAN_TERM", "1") == "0":
            job["pend_reason"] = NEVER
            return True
        job.update(status="EXIT", reason=ORPHAN, done=True, finished=time.time())
        return True

    def on_start(self, job: Job, now: float) -> None:
        job.update(status="RUN", started=now)

    def on_end(self, job: Job, rc: int, now: float) -> None:
        code = 128 - rc if rc < 0 else rc
        reason = (
            RUNLIMIT
            if job.get("timed_out")
            else (OWNER if job.get("kill_requested") else "")
        )
        status = "DONE" if code == 0 and not reason else "EXIT"
        job.update(status=status, exit=code, reason=reason, done=True, finished=now)

    def job_env(self, job: Job) -> dict[str, str]:
        return {
            "LSB_JOBID": job["jobid"],
            "LSB_JOBNAME": job["name"],
            "LSB_QUEUE": job["queue"],
            "LSB_JOBINDEX": str(job["index"]),
        }


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "supervise":
    sys.exit(simcore.supervise(LsfDialect(ROOT), sys.argv[2]))
