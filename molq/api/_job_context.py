"""``molq.context()``: what a running job knows about itself, and how it reports back.

The job writes small files in its job dir (atomic renames, one ``write`` per log
line); the reconciler reads them through the Transport and records them as events,
so this works on every scheduler and over SSH.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from molq.core import ConfigError
from molq.core._context import CANCEL_MARKER, CHECKPOINT_FILE, LOG_FILE, RESULT_FILE, RESUME_CHECKPOINT_FILE


class JobContext:
    """The running job's identity, cancellation flag, log, checkpoints and results.

    Args:
        job_id: this attempt's molq job id.
        job_dir: this attempt's job directory.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        root_job_id: the retry family's first attempt (defaults to ``job_id``).
        sweep_id: the sweep this job is a cell of, if any.
    """

    def __init__(
        self,
        job_id: str,
        job_dir: str | Path,
        *,
        attempt: int = 1,
        root_job_id: str | None = None,
        sweep_id: str | None = None,
    ) -> None:
        self._job_id = job_id
        self._job_dir = Path(job_dir)
        self._attempt = attempt
        self._root_job_id = root_job_id or job_id
        self._sweep_id = sweep_id
        self._cancelled = False

    @property
    def job_id(self) -> str:
        """Current job identifier."""
        return self._job_id

    @property
    def attempt(self) -> int:
        """Which attempt of the retry family this is (1-based)."""
        return self._attempt

    @property
    def root_job_id(self) -> str:
        """The retry family's root job id."""
        return self._root_job_id

    @property
    def sweep_id(self) -> str | None:
        """The sweep this job belongs to, or None."""
        return self._sweep_id

    @property
    def job_dir(self) -> Path:
        """This attempt's job directory."""
        return self._job_dir

    @property
    def is_cancelled(self) -> bool:
        """Whether a cancel was requested (by a user, molq's duration limit, or ``cancel()``)."""
        return self._cancelled or (self._job_dir / CANCEL_MARKER).exists()

    def cancel(self) -> None:
        """Mark this context cancelled (``is_cancelled`` becomes true in this process)."""
        self._cancelled = True

    def log(self, message: str, level: str = "INFO") -> None:
        """Record ``message`` for this job (read into a ``job.log`` event by the next reconcile)."""
        line = json.dumps({"message": str(message), "level": str(level), "at": time.time()}) + "\n"
        fd = os.open(self._job_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Atomically save ``checkpoint`` (JSON-serialisable); a retry starts with the last one.

        Raises:
            ConfigError: the data is not JSON-serialisable.
        """
        self._save(CHECKPOINT_FILE, checkpoint)

    def save_result(self, data: dict[str, Any]) -> None:
        """Atomically save a result (JSON-serialisable), recorded as ``job.result_saved``.

        Raises:
            ConfigError: the data is not JSON-serialisable.
        """
        self._save(RESULT_FILE, data)

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        """The last checkpoint of the previous attempt (None on a first attempt or without one)."""
        saved = _read_json(self._job_dir / RESUME_CHECKPOINT_FILE)
        return saved.get("data") if saved is not None else None

    def _save(self, name: str, data: dict[str, Any]) -> None:
        previous = _read_json(self._job_dir / name)
        seq = int(previous.get("seq", 0)) + 1 if previous is not None else 1
        try:
            text = json.dumps({"seq": seq, "at": time.time(), "data": data}, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            msg = f"{name.split('.', maxsplit=1)[0]} data must be JSON-serialisable: {exc}"
            raise ConfigError(msg) from exc
        tmp = self._job_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        tmp.replace(self._job_dir / name)

    def __repr__(self) -> str:
        return f"JobContext(job_id={self._job_id!r}, attempt={self._attempt}, job_dir={str(self._job_dir)!r})"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def context() -> JobContext:
    """The context of the molq job this process runs in (from the ``MOLQ_*`` environment).

    Raises:
        ConfigError: not running inside a molq job (``MOLQ_JOB_ID``/``MOLQ_JOB_DIR`` unset).
    """
    job_id = os.environ.get("MOLQ_JOB_ID")
    job_dir = os.environ.get("MOLQ_JOB_DIR")
    if not job_id or not job_dir:
        msg = "molq.context() works only inside a job molq started (MOLQ_JOB_ID and MOLQ_JOB_DIR are unset)"
        raise ConfigError(msg)
    return JobContext(
        job_id,
        job_dir,
        attempt=int(os.environ.get("MOLQ_ATTEMPT", "1")),
        root_job_id=os.environ.get("MOLQ_ROOT_JOB_ID"),
        sweep_id=os.environ.get("MOLQ_SWEEP_ID"),
    )
