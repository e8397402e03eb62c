"""Pure pieces of running commands over OpenSSH: option checks, the remote command line and its markers, failure kinds.

Rules of this module:
  Rule 1: no I/O: nothing here runs ssh, reads files or looks at the environment.
  Rule 2: every argv is returned as a tuple of strings, ready for ``subprocess``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal, TypeAlias

from ._errors import ConfigError, TransportError


SshFailure: TypeAlias = Literal["connection", "auth", "host_key", "timeout", "link_dropped"]
# --- ssh command lines -------------------------------------------------------

STARTED_MARKER: Final = "__molq_ssh_started__"
NO_CWD_MARKER: Final = "__molq_ssh_no_cwd__"
NOT_FOUND_MARKER: Final = "__molq_ssh_not_found__"
EXIT_MARKER: Final = "__molq_ssh_exit__"
_EXIT_LINE = re.compile(rf"(?:^|\n){EXIT_MARKER} (\d+)\n\Z")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[A-Za-z0-9_.@%:\[\]+-]+$")
_OPT_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*(?:=|\s)\s*(.+)$", re.DOTALL)
_VALUE_FLAGS: Final = {"-J": "ProxyJump", "-l": "User", "-c": "Ciphers", "-m": "MACs"}
_BARE_FLAGS: Final = {
    "-4": "AddressFamily=inet",
    "-6": "AddressFamily=inet6",
    "-A": "ForwardAgent=yes",
    "-C": "Compression=yes",
    "-q": "LogLevel=QUIET",
}
_FALSE = frozenset({"no", "off", "false"})
_CONTROL_KEYS = frozenset({"controlmaster", "controlpath", "controlpersist"})
_DEFAULTS: Final = {
    "connecttimeout": "ConnectTimeout=20",
    "serveraliveinterval": "ServerAliveInterval=15",
    "serveralivecountmax": "ServerAliveCountMax=3",
}
_LINK_DROPPED = re.compile(
    r"closed by remote host|client_loop:|Broken pipe|not responding|"
    r"mux_client_read|lost connection|Connection reset",
    re.IGNORECASE,
)
_HOST_KEY = re.compile(
    r"Host key verification failed|IDENTIFICATION HAS CHANGED|host key .*not known",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"Permission denied|Too many authentication failures|no more authentication",
    re.IGNORECASE,
)
_TIMEOUT = re.compile(r"timed out", re.IGNORECASE)
_RSYNC_MISSING = re.compile(
    r"\brsync: (?:command )?not found|rsync: No such file or directory|"
    r"command not found: \S*rsync"
)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{what} must be a non-empty string, got {value!r}"
        raise ConfigError(msg)
    if value.startswith("-") or any(ord(ch) < 32 for ch in value):
        msg = f"{what} must not start with '-' or hold control characters: {value!r}"
        raise ConfigError(msg)
    return value


def _check_option(key: str, value: str) -> None:
    low, val = key.lower(), value.strip().strip('"').lower()
    if low == "stricthostkeychecking" and val in _FALSE:
        msg = "StrictHostKeyChecking=no is refused: molq never disables host keys"
        raise ConfigError(msg)
    if low.endswith("knownhostsfile") and ("/dev/null" in val or val == "none"):
        msg = f"{key}={value} is refused: it disables host-key checking"
        raise ConfigError(msg)
    if low == "batchmode" and val in _FALSE:
        msg = "BatchMode=no is refused: molq cannot answer prompts"
        raise ConfigError(msg)


def _parse_o(raw: str) -> tuple[str, str]:
    match = _OPT_KEY.match(raw)
    if match is None or any(ord(ch) < 32 for ch in raw):
        msg = f"ssh -o option must look like Key=Value, got {raw!r}"
        raise ConfigError(msg)
    key, value = match.group(1), match.group(2)
    _check_option(key, value)
    return "-o", f"{key}={value}"


def normalize_ssh_opts(opts: Iterable[object]) -> tuple[tuple[str, str], ...]:
    """Validate ``ssh_opts`` and rewrite them as ``-o``/``-F``/``-i`` pairs.

    Raises:
        ConfigError: an unknown flag, a value starting with ``-``, or an option
            that would disable host-key checking or batch mode.
    """
    pairs: list[tuple[str, str]] = []
    items = iter(opts)
    for token in items:
        if not isinstance(token, str):
            msg = f"ssh option must be a string, got {token!r}"
            raise ConfigError(msg)
        if token in _BARE_FLAGS:
            pairs.append(("-o", _BARE_FLAGS[token]))
        elif token.startswith("-o") and len(token) > 2:
            pairs.append(_parse_o(token[2:]))
        elif token in {"-o", "-F", "-i", *_VALUE_FLAGS}:
            value = _text(next(items, None), f"value of ssh option {token}")
            if token == "-o":  # noqa: S105 - an option flag, not a password
                pairs.append(_parse_o(value))
            elif token in _VALUE_FLAGS:
                pairs.append(("-o", f"{_VALUE_FLAGS[token]}={value}"))
            else:
                pairs.append((token, value))
        else:
            msg = f"unsupported ssh option {token!r}: use -o Key=Value, -F, -i, -J, -l"
            raise ConfigError(msg)
    return tuple(pairs)


def validate_ssh_options(
    host: object,
    port: object,
    identity_file: object,
    ssh_opts: Sequence[str],
    rsync_opts: Sequence[str],
) -> None:
    """Check every field of SshTransportOptions.

    Raises:
        ConfigError: a malformed value, a host or path starting with ``-``, or an
            option that would weaken host-key checking or batch mode.
    """
    if not _HOST.match(_text(host, "ssh host")):
        msg = f"ssh host {host!r} holds characters ssh does not accept"
        raise ConfigError(msg)
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        msg = f"ssh port must be an integer in 1..65535, got {port!r}"
        raise ConfigError(msg)
    if identity_file is not None:
        _text(identity_file, "identity_file")
    normalize_ssh_opts(ssh_opts)
    _check_rsync_opts(rsync_opts)


def _check_rsync_opts(opts: Sequence[str]) -> None:
    for opt in opts:
        if not isinstance(opt, str) or "\0" in opt or "\n" in opt:
            msg = f"invalid rsync option {opt!r}"
            raise ConfigError(msg)
        if opt in {"-e", "--rsh"} or opt.startswith(("--rsh=", "-e")):
            msg = f"rsync option {opt!r} is refused: molq sets the remote shell itself"
            raise ConfigError(msg)


def ssh_option_args(
    ssh_opts: Sequence[str],
    *,
    port: int | None,
    identity_file: str | None,
    control_path: str | None,
) -> tuple[str, ...]:
    """The options molq passes to ssh and scp, before the destination.

    BatchMode comes first (ssh keeps the first value it sees). Connection reuse and
    keep-alive defaults are added only where ``ssh_opts`` does not set them.
    """
    pairs = normalize_ssh_opts(ssh_opts)
    keys = {value.split("=", 1)[0].lower() for flag, value in pairs if flag == "-o"}
    args: list[str] = ["-o", "BatchMode=yes"]
    if port is not None:
        args += ["-o", f"Port={port}"]
    if identity_file is not None:
        args += ["-i", identity_file]
    for flag, value in pairs:
        args += [flag, value]
    if control_path is not None and not keys & _CONTROL_KEYS:
        args += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control_path}"]
        args += ["-o", "ControlPersist=60"]
    for key, option in _DEFAULTS.items():
        if key not in keys:
            args += ["-o", option]
    return tuple(args)


def build_remote_command(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The POSIX sh command line that runs ``argv`` byte-exact on the remote side.

    Raises:
        TransportError: an empty argv, a non-string, or a NUL byte anywhere.
        ConfigError: an environment variable name that is not a shell name.
    """
    words = tuple(argv)
    if not words:
        msg = "cannot run an empty command"
        raise TransportError(msg)
    env = dict(env or {})
    for value in (*words, *env.values(), *env.keys(), cwd or ""):
        if not isinstance(value, str) or "\0" in value:
            msg = f"command argument must be a string without NUL bytes: {value!r}"
            raise TransportError(msg)
    parts = [f"printf '%s\\n' {STARTED_MARKER} >&2"]
    if cwd is not None:
        parts.append(f"cd -- {shlex.quote(cwd)} || {{ {_fail(NO_CWD_MARKER, 126)} }}")
    for name, value in env.items():
        if not _ENV_NAME.match(name):
            msg = f"invalid environment variable name {name!r}"
            raise ConfigError(msg)
        parts.append(f"export {name}={shlex.quote(value)}")
    head = shlex.quote(words[0])
    parts.append(f"command -v {head} >/dev/null 2>&1 || {{ {_fail(NOT_FOUND_MARKER, 127)} }}")
    parts.append(" ".join(shlex.quote(word) for word in words))
    parts.append(f's=$?; printf \'%s %s\\n\' {EXIT_MARKER} "$s" >&2; exit "$s"')
    return "\n".join(parts)


def _fail(marker: str, code: int) -> str:
    return f"printf '%s\\n' {marker} >&2; exit {code};"


def split_markers(stderr: str) -> tuple[bool, int | None, str]:
    """Read molq's markers out of a remote command's stderr.

    Returns:
        Whether the command started, the exit status it reported on finishing
        (None if it never finished), and stderr without the markers.
    """
    head, sep, tail = stderr.partition(STARTED_MARKER + "\n")
    match = _EXIT_LINE.search(tail)
    if match is None:
        return bool(sep), None, head + tail
    return bool(sep), int(match.group(1)), head + tail[: match.start() + 1]


def rsync_missing(stderr: str) -> bool:
    """Whether rsync failed because the remote side has no rsync program."""
    return _RSYNC_MISSING.search(stderr) is not None


def classify_ssh_failure(
    stderr: str, *, started: bool = False, exit_status: int | None = None
) -> SshFailure | None:
    """What an ssh exit status 255 means, or None if the remote command chose it.

    Args:
        stderr: ssh's standard error (ssh's own messages come last).
        started: whether the remote command had started (its marker was seen).
        exit_status: the status the command reported on finishing, if it did.
    """
    if exit_status == 255:
        return None
    if started:
        return "link_dropped"
    lines = [line for line in stderr.split("\n") if line.strip()]
    last = lines[-1] if lines else ""
    checks: tuple[tuple[re.Pattern[str], SshFailure], ...] = (
        (_HOST_KEY, "host_key"),
        (_AUTH, "auth"),
        (_TIMEOUT, "timeout"),
    )
    for pattern, error in checks:
        if pattern.search(stderr):
            return error
    if _LINK_DROPPED.search(last) and "Connection to" in last:
        return "link_dropped"
    return "connection"
