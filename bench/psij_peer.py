"""The PSI/J peer: N trivial jobs through PSI/J's local executor, submit then wait, one at a time.

Runs inside bench/.venv (psij-python is never a molq dependency); prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from psij import Job, JobExecutor, JobSpec

    n = int(sys.argv[1])
    executor = JobExecutor.get_instance("local")
    with tempfile.TemporaryDirectory(prefix="molq-bench-psij-") as tmp:
        spec = JobSpec(executable="/bin/true", directory=Path(tmp))
        warm = Job(spec)
        executor.submit(warm)
        warm.wait()
        start = time.perf_counter()
        for _ in range(n):
            job = Job(JobSpec(executable="/bin/true", directory=Path(tmp)))
            executor.submit(job)
            status = job.wait()
            if status is None or status.exit_code != 0:
                msg = f"psij job did not succeed: {status}"
                raise SystemExit(msg)
        elapsed = time.perf_counter() - start
    print(json.dumps({"jobs": n, "seconds": elapsed}))


if __name__ == "__main__":
    main()
