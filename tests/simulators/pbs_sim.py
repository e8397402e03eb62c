"""Real-Torque simulator behind tests/simulators/pbs/{qsub,qstat,qdel}.

Since issue 14 the tests run against real OpenPBS 23.06 and Slurm's Torque wrappers;
this simulator is used only for what no real system here shows (ADR 0012, 2026-12
amendment): a real Torque server (``job_state = C`` with ``exit_status``, -11 for
walltime; Torque 6.1 Administrator Guide) and injected faults. Its former PBS Pro
flavor is gone: OpenPBS itself runs in CI. Each canned message below says where it comes from: "captured" means seen on
OpenPBS 23.06.06 here (tests/fixtures/pbs), "manual" the vendor documentation,
"invented" neither. Stdlib only.
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
from simcore import Job, State, ctime, locked


SERVER = os.environ.get("MOLQ_SIM_PBS_SERVER", "pbssim")
HOST = socket.gethostname().split(".")[0] or "localhost"
ROOT = simcore.state_dir("pbs")
E_UNKNOWN, E_BADSTATE = 153, 168  # PBSE_* % 256 (manual: Torque 6.1 error codes)
WALLTIME_EXIT = -11  # manual: JOB_EXEC_OVERLIMIT_WT (Torque 6.1)
DONE_LETTER = "C"
OPTS_WITH_ARG = set("NoeqAplWJtMmjrS")
_CLOCK = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+)$")


def err(text: str) -> None:
    print(text, file=sys.stderr)


def key(job_id: str) -> str:
    return job_id.split(".", 1)[0].split("@", 1)[0]


def full(job_id: str) -> str:
    return job_id if "." in job_id else f"{job_id}.{SERVER}"


# ---------------------------------------------------------------- qsub
def parse_options(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    opts: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and len(word) >= 2 and word[1] in OPTS_WITH_ARG:
            value = word[2:] or (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if word[2:] else 2
            opts.setdefault(word[1], []).append(value)
        elif word.startswith("-") and word not in ("-V", "-h"):
            raise ValueError(word)
        else:
            rest.append(word)
            i += 1
    return opts, rest


def directives(script: str) -> list[str]:
    words: list[str] = []
    for line in script.splitlines()[1:]:
        if line.startswith("#PBS"):
            words += shlex.split(line[4:])
        elif line.strip() and not line.startswith("#"):
            break
    return words


def walltime_seconds(text: str) -> int:
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(text)
    parts = [int(p) for p in match.groups() if p is not None]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


def resources(values: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            name, _, val = item.partition("=")
            found[name] = val
    return found


def parse_depend(value: str) -> list[tuple[str, str]]:
    spec = value.removeprefix("depend=")
    pairs = []
    for group in spec.split(","):
        kind, *ids = group.split(":")
        if kind not in ("after", "afterok", "afternotok", "afterany") or not ids:
            raise ValueError(value)
        pairs += [(kind, key(i)) for i in ids]
    return pairs


def array_indices(text: str) -> list[int]:
    match = re.match(r"^(\d+)(?:-(\d+)(?::(\d+))?)?(?:%\d+)?$", text)
    if not match:
        raise ValueError(text)
    start = int(match.group(1))
    end = int(match.group(2) or start)
    return list(range(start, end + 1, int(match.group(3) or 1)))


def new_job(seq: str, opts: dict[str, list[str]], script_path: str) -> Job:
    def last(flag: str, default: str = "") -> str:
        return opts.get(flag, [default])[-1]

    res = resources(opts.get("l", []))
    name = last("N", Path(script_path).name)
    home = os.environ.get("HOME", "/")
    wall = res.get("walltime")
    return {
        "id": full(seq),
        "key": seq,
        "name": name,
        "owner": simcore.user_name(),
        "queue": last("q", "workq"),
        "account": last("A"),
        "priority": last("p", "0"),
        "stdout": last("o", f"{home}/{name}.o{seq}"),
        "stderr": last("e", f"{home}/{name}.e{seq}"),
        "resources": res,
        "walltime_s": walltime_seconds(wall) if wall else None,
        "scale": simcore.time_scale(),
        "depend": [],
        "depend_text": "",
        "submitted": time.time(),
        "started": None,
        "finished": None,
        "status": "Q",
        "substate": 10,
        "exit": None,
        "comment": "",
        "done": False,
        "script": script_path,
    }


def validate(
    opts: dict[str, list[str]], state: State
) -> tuple[list[tuple[str, str]], str]:
    int(opts.get("p", ["0"])[-1])
    if not -1024 <= int(opts.get("p", ["0"])[-1]) <= 1023:
        raise ValueError("p")
    depend_text = ""
    pairs: list[tuple[str, str]] = []
    for value in opts.get("W", []):
        if value.startswith("depend="):
            depend_text = value.removeprefix("depend=")
            pairs = parse_depend(value)
    for _kind, dep in pairs:
        if dep not in state["jobs"]:
            raise LookupError(full(dep))
    return pairs, depend_text


def qsub(args: list[str]) -> int:
    try:
        opts, rest = parse_options(args)
    except ValueError as exc:
        err(f"qsub: invalid option -- '{str(exc).lstrip('-')}'")  # captured (real: "/opt/pbs/bin/qsub: …", rc 0 there)
        return 2
    if len(rest) != 1 or not Path(rest[0]).is_file():
        err("qsub: script file:: No such file or directory")  # captured (real rc 1)
        return 2
    script = Path(rest[0]).read_text()
    try:
        script_opts, _ = parse_options(directives(script))
        merged = {**script_opts, **opts}
        walltime_seconds(resources(merged.get("l", [])).get("walltime", "0"))
        indices = (
            array_indices(merged["t"][-1])
            if "t" in merged
            else None
        )
    except ValueError as exc:
        err(f"qsub: illegal option value {exc}")  # invented (real: "qsub: illegal -p value" + usage)
        return 2
    return submit(merged, rest[0], script, indices)


def add_subjobs(state: State, job: Job) -> list[str]:
    """Create one subjob per array index; outputs honour ``^array_index^``."""
    keys = []
    seq = job["key"][:-2]
    for index in job["array"]:
        child = dict(job, key=f"{seq}[{index}]", id=full(f"{seq}[{index}]"))
        child.update(parent=job["key"], index=index, array=None)
        for stream in ("stdout", "stderr"):
            child[stream] = job[stream].replace("^array_index^", str(index))
        state["jobs"][child["key"]] = child
        keys.append(child["key"])
    return keys


def submit(
    opts: dict[str, list[str]], path: str, script: str, indices: list[int] | None
) -> int:
    with locked(ROOT) as state:
        try:
            pairs, depend_text = validate(opts, state)
        except LookupError as exc:
            err(f"qsub: Unknown Job Id {exc.args[0]}")  # invented: real OpenPBS 23.06 accepts afterok on an unknown id
            return E_UNKNOWN
        except ValueError:
            err("qsub: illegal -p or -W value")  # captured for -p ("qsub: illegal -p value")
            return 2
        seq = str(state["next_id"])
        state["next_id"] += 1
        spool = ROOT / f"{seq}.sh"
        spool.write_text(script)
        seq_key = f"{seq}[]" if indices is not None else seq
        job = new_job(seq_key, opts, path)
        job.update(
            spool=str(spool), depend=pairs, depend_text=depend_text, array=indices
        )
        if pairs:
            job.update(status="H", substate=22)
        state["jobs"][seq_key] = job
        children = [seq_key] if indices is None else add_subjobs(state, job)
    for child_key in children:
        simcore.spawn_supervisor(__file__, ROOT, child_key)
    print(job["id"])
    return 0


# ---------------------------------------------------------------- views
def view(job: Job, state: State) -> Job:
    """A job as qstat shows it; an array parent is derived from its subjobs."""
    if not job.get("array"):
        return job
    subs = [state["jobs"][f"{job['key'][:-2]}[{i}]"] for i in job["array"]]
    shown = dict(job)
    if all(s["done"] for s in subs):
        ran = [s for s in subs if s["substate"] != 91]
        failed = any(s["exit"] not in (0, None) for s in ran)
        shown.update(status=DONE_LETTER, done=True, exit=1 if failed else 0)
        deleted = job.get("deleted") or not ran
        shown.update(
            substate=91 if deleted else 92,
            finished=max(s["finished"] or 0 for s in subs),
        )
    elif any(s["started"] for s in subs):
        shown.update(
            status="B", substate=41, started=min(s["started"] or 1e18 for s in subs)
        )
    else:
        shown.update(status=subs[0]["status"])
    counts = {
        k: sum(1 for s in subs if s["status"] == v)
        for k, v in (("Queued", "Q"), ("Running", "R"), ("Exiting", "E"))
    }
    counts["Expired"] = sum(1 for s in subs if s["done"])
    shown["array_state_count"] = " ".join(f"{k}:{v}" for k, v in counts.items())
    return shown


class PbsDialect:
    kill_signals = (signal.SIGTERM, signal.SIGKILL)
    walltime_signals = (signal.SIGTERM, signal.SIGKILL)

    def __init__(self, root: Path) -> None:
        self.root = root

    def _term(self, kind: str, dep: Job) -> bool | None:
        if kind == "after":
            return (
                True
                if dep.get("started") or dep["status"] in "RBE"
                else (False if dep["done"] else None)
            )
        if not dep["done"]:
            return None
        ok = dep["exit"] == 0 and dep["substate"] != 91
        return {"afterok": ok, "afternotok": not ok, "afterany": True}[kind]

    def verdict(self, job: Job, state: State) -> str:
        terms = [
            self._term(kind, view(state["jobs"][dep], state))
            for kind, dep in job["depend"]
        ]
        if any(t is False for t in terms):
            return "never"
        return "ok" if all(terms) else "wait"

    def on_never(self, job: Job) -> bool:
        dep = next((d for _k, d in job["depend"]), "")
        self._finish(
            job, None, 91, f"Job deleted as result of dependency on job {full(dep)}"
        )
        return True

    def on_start(self, job: Job, now: float) -> None:
        job.update(
            status="R",
            substate=42,
            started=now,
            comment=f"Job run at {ctime(now)} on ({HOST}:ncpus=1)",
        )

    def _finish(self, job: Job, code: int | None, substate: int, comment: str) -> None:
        job.update(
            status=DONE_LETTER,
            substate=substate,
            exit=code,
            done=True,
            finished=time.time(),
            comment=comment,
        )

    def on_end(self, job: Job, rc: int, now: float) -> None:
        if job.get("timed_out"):
            limit = job["walltime_s"]
            with Path(job["stderr"]).open("a") as handle:
                handle.write(
                    f"=>> PBS: job killed: walltime {limit + 1} "
                    f"exceeded limit {limit}\n"
                )
            self._finish(job, WALLTIME_EXIT, 93, f"{job['comment']} and failed")
            return
        code = 256 - rc if rc < 0 else rc
        if job.get("kill_requested"):
            self._finish(job, code, 91, f"{job['comment']} and terminated")
        else:
            self._finish(job, code, 92, f"{job['comment']} and finished")

    def job_env(self, job: Job) -> dict[str, str]:
        env = {
            "PBS_JOBID": job["id"],
            "PBS_JOBNAME": job["name"],
            "PBS_QUEUE": job["queue"],
        }
        if job.get("parent"):
            env["PBS_ARRAY_INDEX"] = str(job["index"])
        return env


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "supervise":
    sys.exit(simcore.supervise(PbsDialect(ROOT), sys.argv[2]))
