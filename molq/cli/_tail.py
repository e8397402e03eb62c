"""The last lines of a job's output file, read from the end (``molq logs --tail N``).

A local file is read backwards in blocks until N line ends are seen, so printing five lines
of a 50 MB log reads a few kilobytes. Over any other transport the host's ``tail -n N``
does the same on its side and only those lines cross the wire.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from molq import TransportError


if TYPE_CHECKING:
    from molq import JobRecord, Transport

BLOCK: Final = 64 * 1024


def last_lines_of_file(path: str, count: int, *, block: int = BLOCK) -> str:
    """The last ``count`` lines of the local file ``path`` (a final line without newline counts)."""
    if count <= 0:
        return ""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        start, data = end, b""
        while start > 0 and data.count(b"\n", 0, _body_end(data)) < count:
            step = min(block, start)
            start -= step
            f.seek(start)
            data = f.read(step) + data
    cut = _body_end(data)
    found = 0
    for index in range(cut - 1, -1, -1):
        if data[index] == 0x0A:
            found += 1
            if found == count:
                data = data[index + 1 :]
                break
    return data.decode("utf-8", "replace")


def _body_end(data: bytes) -> int:
    """Where the text before a final newline ends (a last newline ends the last line)."""
    return len(data) - 1 if data.endswith(b"\n") else len(data)


def last_lines(transport: Transport, path: str, count: int) -> str:
    """The last ``count`` lines of ``path`` on the transport's host (read from the end).

    Raises:
        TransportError: the host's ``tail`` failed.
    """
    from molq import LocalTransport

    if isinstance(transport, LocalTransport):
        return last_lines_of_file(path, count)
    done = transport.run(["tail", "-n", str(count), "--", path])
    if done.returncode != 0:
        msg = f"cannot read the end of {path}: {done.stderr.strip() or f'tail exited {done.returncode}'}"
        raise TransportError(msg)
    return done.stdout


def removed_output(record: JobRecord, transport: Transport, paths: list[str]) -> str | None:
    """Why none of ``paths`` can be read because the job's directory was cleaned, or None."""
    job_dir = record.metadata.get("molq.job_dir", "")
    if any(transport.exists(p) for p in paths):
        return None
    if record.cleaned_at is not None:
        from molq.dashboard._clock import fmt_time

        when = fmt_time(record.cleaned_at)
        return f"the output of job {record.job_id} is gone: 'molq cleanup' removed {job_dir or 'its directory'} at {when}"
    if job_dir and not transport.exists(job_dir):
        return f"the output of job {record.job_id} is gone: its directory {job_dir} no longer exists"
    return None


__all__ = ["BLOCK", "last_lines", "last_lines_of_file", "removed_output"]
