"""``-v/--verbose`` and ``-q/--quiet`` on every command, and job-id completion.

``-v`` shows each command molq runs through a transport (``molq.commands`` logger) with
its exit status and time, on stderr. ``-q`` keeps only what a script needs: commands
that print a list print ids, ``status`` prints the state, the rest print nothing but
errors. Both are added here to every command that does not define them itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from molq.cli._common import echo


if TYPE_CHECKING:
    from collections.abc import Iterable

    from molq import JobRecord

QUIET = "molq.quiet"
"""The ``click.Context.meta`` key ``-q`` sets (``echo`` then prints errors only)."""


class _EchoHandler(logging.Handler):
    """Log records as ``molq: ran ...`` lines on stderr, control characters escaped."""

    def emit(self, record: logging.LogRecord) -> None:
        echo(f"molq: ran {record.getMessage()}", err=True)


def enable_command_log() -> None:
    """Show every transport command on stderr (idempotent)."""
    logger = logging.getLogger("molq.commands")
    logger.setLevel(logging.DEBUG)
    if not any(isinstance(h, _EchoHandler) for h in logger.handlers):
        logger.addHandler(_EchoHandler())


def _on_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    del ctx, param
    if value:
        enable_command_log()


def _on_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    del param
    if value:
        ctx.meta[QUIET] = True


def is_quiet() -> bool:
    """Whether ``-q`` was given to the running command."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(QUIET))


def print_ids(records: Iterable[JobRecord]) -> None:
    """One full job id per line (``list -q``, ``history -q``)."""
    for record in records:
        click.echo(record.job_id)


def verbose_option() -> click.Option:
    """``-v/--verbose``: show the scheduler and transport commands molq runs."""
    return click.Option(
        ["-v", "--verbose"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_on_verbose,
        help="Show each scheduler/transport command molq runs, with exit status and time (stderr).",
    )


def quiet_option() -> click.Option:
    """``-q/--quiet``: only ids (lists), the state (status), or nothing but errors."""
    return click.Option(
        ["-q", "--quiet"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_on_quiet,
        help="Print only ids (lists), the state (status), or nothing but errors.",
    )


def add_verbosity(command: click.Command) -> click.Command:
    """Give ``command`` (and its subcommands) ``-v`` and ``-q`` unless it has them."""
    names = {opt for p in command.params for opt in getattr(p, "opts", ())}
    if "--verbose" not in names:
        command.params.append(verbose_option())
    if "--quiet" not in names:
        command.params.append(quiet_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_verbosity(sub)
    return command


__all__ = ["QUIET", "add_verbosity", "enable_command_log", "is_quiet", "print_ids"]
