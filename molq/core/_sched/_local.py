"""The local (no batch system) backend: wrapper rendering and status parsing.

Rules of this module:
  Rule 1: the wrapper records facts (pids, start, status) in the job dir; this
          module only renders it and interprets what it wrote.
  Rule 2: a job whose exit cannot be known is reported LOST with a reason, never
          guessed; one molq itself stopped (cancel or limit marker) and that is gone
          without a record is CANCELLED or TIMED_OUT, saying the status is unknown.
"""

from __future__ import annotations

from typing import Final

import attrs

from .._ports import SchedulerCapabilities
from .._records import Observation
from .._spec import JobSpec
from .._state import JobState
from ._body import quote, render_body


LOCAL_CAPABILITIES: Final = SchedulerCapabilities(
    cpu_count=False,
    memory=True,
    time_limit=True,
    output_file=True,
    error_file=True,
    job_name=True,
)
WRAPPER_FILE: Final = "run.sh"
JOB_FILE: Final = "job.sh"
KILL_GRACE_S: Final = 5


def render_job_script(spec: JobSpec, job_dir: str) -> str:
    """The job script: a memory limit if asked for, then the shared body."""
    lines = ["#!/bin/sh", "# molq job script (generated)"]
    if spec.resources.memory is not None:
        kib = max(1, spec.resources.memory.n_bytes // 1024)
        lines.append(f"ulimit -v {kib} || exit 126")
    return "\n".join(lines) + "\n" + render_body(spec, job_dir, atomic=False)


def render_wrapper(spec: JobSpec, job_dir: str, stdout_path: str, stderr_path: str) -> str:
    """The detached wrapper that runs job.sh in its own session and records its fate."""
    d = quote(job_dir)
    limit = spec.resources.time_limit
    watchdog = ""
    if limit is not None:
        watchdog = (
            "setsid /bin/sh -c 'sleep \"$1\"; [ -e \"$2/status\" ] || { : > \"$2/timed_out\"; "
            "kill -TERM \"-$3\" 2>/dev/null; sleep \"$4\"; kill -KILL \"-$3\" 2>/dev/null; }' "
            f'molq-watchdog {limit.seconds} "$D" "$child" {KILL_GRACE_S} </dev/null >/dev/null 2>&1 &\n'
            "watchdog=$!\n"
        )
    return f"""#!/bin/sh
# molq local job wrapper (generated): runs job.sh in its own session and records
# its pid, start time and exit status in this directory.
D={d}
finish() {{ printf '%s\\n' "$1" > "$D/status"; }}  # builtins only; the file's mtime is the finish time
printf '%s\\n' "$$" > "$D/wrapper.pid"
if [ -e "$D/cancel_requested" ]; then finish 143; exit 0; fi
watchdog=
setsid /bin/sh "$D/{JOB_FILE}" </dev/null >>{quote(stdout_path)} 2>>{quote(stderr_path)} &
child=$!
n=0; while [ "$n" -lt 100000 ] && ! kill -0 "-$child" 2>/dev/null; do n=$((n+1)); done  # its group exists
printf '%s\\n' "$child" > "$D/pid"
if [ -e "$D/cancel_requested" ]; then kill -TERM "-$child" 2>/dev/null; fi
{watchdog}wait "$child"
rc=$?
times > "$D/rusage" 2>/dev/null  # CPU time of what it waited for (the job); molq's usage record
if [ -n "$watchdog" ]; then kill -TERM "-$watchdog" 2>/dev/null; fi
finish "$rc"
"""


LAUNCH_SCRIPT: Final = 'setsid /bin/sh "$1" </dev/null >/dev/null 2>&1 & echo $!'

PROBE_SCRIPT: Final = r"""
i=0
for d in "$@"; do
  i=$((i+1))
  wp=-; [ -f "$d/wrapper.pid" ] && wp=$(tr -cd 0-9 < "$d/wrapper.pid")
  alive=0; [ "$wp" != - ] && kill -0 "$wp" 2>/dev/null && alive=1
  if [ "$alive" = 0 ] && [ "$wp" != - ] && [ -f "$d/pid" ]; then  # a killed wrapper: does its body live?
    read -r bp < "$d/pid" 2>/dev/null; case $bp in ''|*[!0-9]*) ;; *) kill -0 "$bp" 2>/dev/null && alive=1 ;; esac
  fi
  st=-; [ -f "$d/status" ] && st=$(tr -cd "0-9 .-" < "$d/status") && [ -n "$st" ] && st="$st $(date -r "$d/status" +%s.%N 2>/dev/null)"
  ec=-; [ -f "$d/exit_code" ] && ec=$(tr -cd 0-9- < "$d/exit_code")
  sa=-; [ -f "$d/pid" ] && sa=$(date -r "$d/pid" +%s.%N 2>/dev/null)
  to=0; [ -e "$d/timed_out" ] && to=1
  cr=0; [ -e "$d/cancel_requested" ] && cr=1
  printf 'molq-probe\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$st" "$ec" "$wp" "$alive" "$sa" "$to" "$cr"
done
"""

CANCEL_SCRIPT: Final = r"""
D=$1; grace=$2; ticks=$((grace * 20))
[ -f "$D/status" ] && exit 0
: > "$D/cancel_requested"
n=0
while [ ! -s "$D/pid" ] && [ ! -f "$D/status" ] && [ "$n" -lt "$ticks" ]; do sleep 0.05; n=$((n+1)); done
[ -f "$D/status" ] && exit 0
{ read -r pid; read -r writer; } 2>/dev/null < "$D/pid"  # the job; a runner adds its own pid
case $pid in ''|*[!0-9]*) exit 0 ;; esac
[ -f "$D/wrapper.pid" ] && read -r writer 2>/dev/null < "$D/wrapper.pid"  # who writes status
kill -TERM "-$pid" 2>/dev/null
n=0
while [ ! -f "$D/status" ] && kill -0 "-$pid" 2>/dev/null && [ "$n" -lt "$ticks" ]; do sleep 0.05; n=$((n+1)); done
[ -f "$D/status" ] || kill -KILL "-$pid" 2>/dev/null
n=0  # the status writer records the end; a killed one never will
while [ ! -f "$D/status" ] && [ "$n" -lt 40 ]; do
  case $writer in ''|*[!0-9]*) ;; *) kill -0 "$writer" 2>/dev/null || break ;; esac
  sleep 0.05; n=$((n+1))
done
exit 0
"""


def _float(text: str) -> float | None:
    text = text.strip()
    if not text or text == "-":
        return None
    try:
        return float(text)
    except ValueError:
        head = text.split(".", 1)[0]
        return float(head) if head.isdigit() else None


def _int(text: str) -> int | None:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return None


def parse_probe(stdout: str, job_dirs: list[str]) -> dict[str, Observation]:
    """Interpret the probe's lines; job dirs with no line are unknown (state None)."""
    seen: dict[str, Observation] = {}
    for line in stdout.split("\n"):
        fields = line.split("\t")
        if len(fields) != 9 or fields[0] != "molq-probe":
            continue
        index = _int(fields[1])
        if index is None or not 1 <= index <= len(job_dirs):
            continue
        seen[job_dirs[index - 1]] = observe_facts(*fields[2:])
    return {d: seen.get(d, Observation(state=None, reason="no probe output")) for d in job_dirs}


def observe_facts(
    status: str, exit_file: str, wrapper_pid: str, alive: str, started: str, timed_out: str, cancelled: str
) -> Observation:
    """Interpret one job dir's facts as the probe prints them ("-" for a missing file)."""
    started_at = _float(started)
    if status not in ("-", ""):  # "" is a status file caught mid-write: still running
        parts = status.split()
        rc = _int(parts[0]) if parts else None
        finished = _float(parts[1]) if len(parts) > 1 else None
        return _finished(rc, finished, started_at, timed_out=timed_out == "1", cancelled=cancelled == "1")
    if alive == "1":
        return Observation(state=JobState.RUNNING, raw_state="running", started_at=started_at)
    if not wrapper_pid.strip().isdigit():  # "-" or a pid file caught mid-write
        return Observation(state=None, raw_state="not started", reason="the wrapper has not started")
    rc = _int(exit_file) if exit_file != "-" else None
    if rc is not None:
        return _finished(rc, None, started_at, timed_out=timed_out == "1", cancelled=cancelled == "1")
    if timed_out == "1" or cancelled == "1":  # molq stopped it; nothing recorded how it ended
        ended = _finished(None, None, started_at, timed_out=timed_out == "1", cancelled=cancelled == "1")
        return attrs.evolve(ended, reason=f"{ended.reason} (its exit status was not recorded)")
    return Observation(
        state=JobState.LOST,
        raw_state="wrapper gone",
        started_at=started_at,
        reason="exit status unknown: the job's wrapper process ended without recording one",
    )


def _finished(
    rc: int | None, finished_at: float | None, started_at: float | None, *, timed_out: bool, cancelled: bool
) -> Observation:
    # Exit 0 means the work completed, even if a cancel or the watchdog came too late.
    if rc == 0:
        state, raw, reason = JobState.SUCCEEDED, "exited 0", None
    elif timed_out:
        state, raw, reason = JobState.TIMED_OUT, "timed_out", "time limit reached"
    elif cancelled:
        state, raw, reason = JobState.CANCELLED, "cancelled", "cancelled"
    elif rc is None:
        state, raw, reason = JobState.LOST, "unreadable status", "exit status file is unreadable"
    else:
        state, raw = JobState.FAILED, f"exited {rc}"
        reason = f"killed by signal {rc - 128}" if rc > 128 else f"exit code {rc}"
    return Observation(
        state=state, raw_state=raw, exit_code=rc, finished_at=finished_at, started_at=started_at, reason=reason
    )
