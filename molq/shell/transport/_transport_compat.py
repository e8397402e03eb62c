"""Upstream molq's transport surface: a result with ``check_returncode`` and its helpers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from molq.core import Completed, TransportError


class CommandResult(Completed):
    """What ``Transport.run`` returns: ``Completed`` plus ``check_returncode()`` (upstream's name)."""

    def check_returncode(self) -> None:
        """Raise ``subprocess.CalledProcessError`` if the command failed, as ``run(check=True)`` would."""
        if self.returncode != 0:
            raise subprocess.CalledProcessError(self.returncode, list(self.argv), self.stdout, self.stderr)


class NotRecursiveError(TransportError, IsADirectoryError):
    """A directory was given to upload/download without ``recursive=True``."""


def result(done: Completed) -> CommandResult:
    """``done`` as a CommandResult."""
    return CommandResult(done.argv, done.returncode, done.stdout, done.stderr)


def stdin_bytes(stdin: bytes | None, text: str | bytes | None) -> bytes | None:
    """One stdin from molq's ``stdin=`` (bytes) and upstream's ``input=`` (text or bytes).

    Raises:
        TransportError: both were given.
    """
    if text is None:
        return stdin
    if stdin is not None:
        msg = "give either stdin= or input=, not both"
        raise TransportError(msg)
    return text.encode("utf-8") if isinstance(text, str) else text


def need_recursive(path: str, *, recursive: bool) -> None:
    """Refuse a directory copied without ``recursive=True`` (an IsADirectoryError, as upstream)."""
    if not recursive:
        msg = f"{path} is a directory: pass recursive=True"
        raise NotRecursiveError(msg)


def filtered_copy(source: str, dest: str, exclude: Sequence[str]) -> None:
    """Merge the tree ``source`` into ``dest``, leaving out names matching ``exclude`` (glob patterns)."""
    import shutil  # here: it loads bz2 and lzma (start-up, ADR 0032)

    ignore = shutil.ignore_patterns(*exclude) if exclude else None
    shutil.copytree(source, dest, ignore=ignore, dirs_exist_ok=True)


def same_file(a: str, b: str) -> bool:
    """Whether two local paths name the same existing file (so copying would change nothing)."""
    try:
        return os.path.samefile(a, b) or Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
