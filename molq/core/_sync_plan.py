"""Pure pieces of file sync: rsync argv, itemize parsing, owner markers, path naming.

Rules of this module:
  Rule 1: no I/O — nothing here runs rsync, reads files or looks at the environment.
  Rule 2: every argv is returned as a tuple of strings, ready for ``subprocess``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from ._errors import ConfigError, TransportError


DEFAULT_RSYNC_OPTS: Final = ("-a", "--partial", "--inplace")
OWNER_MARKER: Final = ".molq-owner.json"
WORKSPACES_ROOT: Final = "~/molq-workspaces"
DEFAULT_EXCLUDES: Final = (
    ".git/",
    "__pycache__/",
    ".venv/",
    ".molq/",
    "*.pyc",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".DS_Store",
)

_ITEMIZE = re.compile(r"^(?P<code>[<>ch.*][fdLDS ][^ ]{9}|\*deleting) +(?P<path>.+)$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def sync_flags(
    *,
    delete: bool,
    dry_run: bool,
    itemize: bool,
    verbose: bool,
    excludes: Sequence[str],
) -> tuple[str, ...]:
    """The rsync flags for one push or pull, after the user's rsync options."""
    flags: list[str] = []
    if delete:
        flags.append("--delete")
    if dry_run:
        flags.append("--dry-run")
    if itemize:
        flags.append("--itemize-changes")
    if verbose:
        flags.extend(("--verbose", "--progress"))
    flags.extend(f"--exclude={pattern}" for pattern in excludes)
    return tuple(flags)


def merge_excludes(*groups: Sequence[str] | None) -> tuple[str, ...]:
    """Concatenate exclude groups, dropping duplicates and keeping first order."""
    seen: dict[str, None] = {}
    for group in groups:
        for pattern in group or ():
            if "\0" in pattern or "\n" in pattern:
                msg = f"exclude pattern contains NUL or newline: {pattern!r}"
                raise ConfigError(msg)
            seen.setdefault(pattern, None)
    return tuple(seen)


def rsync_argv(
    rsync_opts: Sequence[str],
    flags: Sequence[str],
    sources: Sequence[str],
    dest: str,
    *,
    rsh: str | None = None,
) -> tuple[str, ...]:
    """The full rsync command line; ``rsh`` is the ``-e`` remote shell, if any."""
    shell = ("-e", rsh) if rsh is not None else ()
    return ("rsync", *rsync_opts, *flags, *shell, "--", *sources, dest)


def rsh_quote(arg: str) -> str:
    """Quote one word of rsync's ``-e`` command, which rsync splits itself.

    rsync splits on spaces and honours single and double quotes, but not backslashes.

    Raises:
        ConfigError: the word holds both quote kinds, or a control character.
    """
    if any(ord(ch) < 32 for ch in arg):
        msg = f"cannot pass a control character to rsync -e: {arg!r}"
        raise ConfigError(msg)
    if arg and not re.search(r"[\s'\"]", arg):
        return arg
    if "'" not in arg:
        return f"'{arg}'"
    if '"' not in arg:
        return f'"{arg}"'
    msg = f"cannot quote {arg!r} for rsync -e: it holds both quote kinds"
    raise ConfigError(msg)


def rsh_command(argv: Sequence[str]) -> str:
    """Join an ssh argv into one rsync ``-e`` string."""
    return " ".join(rsh_quote(arg) for arg in argv)


def parse_itemized(stdout: str) -> tuple[str, ...]:
    """The itemized change lines of rsync's output (``--itemize-changes``).

    Lines for items that did not change (``.`` type with only dots) are dropped.
    """
    changes: list[str] = []
    for line in stdout.split("\n"):
        match = _ITEMIZE.match(line)
        if match is None:
            continue
        code = match.group("code")
        if code.startswith(".") and set(code[2:]) <= {"."}:
            continue
        changes.append(line)
    return tuple(changes)


def workspace_dir_name(name: str) -> str:
    """A safe directory name derived from a project or repo name."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._")
    return cleaned or "workspace"


def home_relative(path: str) -> str:
    """``~/x`` as ``x`` (remote commands start in $HOME); other paths unchanged.

    Raises:
        TransportError: an empty path or one holding NUL.
    """
    if not isinstance(path, str) or not path or "\0" in path:
        msg = f"invalid remote path {path!r}"
        raise TransportError(msg)
    if path == "~":
        return "."
    return (path[2:] or ".") if path.startswith("~/") else path


def default_remote_path(project_name: str) -> str:
    """The default remote workspace path for a project, e.g. ``~/molq-workspaces/x``."""
    return f"{WORKSPACES_ROOT}/{workspace_dir_name(project_name)}"

