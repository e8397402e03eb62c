"""The ``molq`` command line: submit, track, audit and monitor jobs.

Run ``molq --help`` for the command list and ``molq COMMAND --help`` for each command.
"""

from __future__ import annotations

import sys

import click

from molq import MolqError
from molq.cli._common import echo


class _LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name)


@click.group(
    cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(package_name="molq", prog_name="molq", message="%(prog)s %(version)s")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _verbose(value),
    help="Show each scheduler/transport command molq runs (also after any command: molq list -v).",
)
def cli() -> None:
    """Submit, track and audit batch jobs on local, SLURM, PBS and LSF clusters."""


def _verbose(value: bool) -> None:
    if value:
        from molq.cli._verbosity import enable_command_log

        enable_command_log()


# Each command's module is imported only when that command runs (or help lists it),
# so `molq list` does not pay for the dashboard, Rich tables of other commands, etc.
_COMMAND_MODULES: dict[str, str] = {
    "submit": "_submit",
    "list": "_jobs",
    "status": "_jobs",
    "history": "_jobs",
    "cancel": "_jobs",
    "inspect": "_inspect",
    "logs": "_watch",
    "watch": "_watch",
    "cleanup": "_maint",
    "daemon": "_maint",
    "clusters": "_clusters",
    "workspace": "_workspace",
    "monitor": "_monitor",
    "replay": "_replay",
    "sweep": "_sweep",
    "sweeps": "_sweep",
    "queue": "_queue",
    "report": "_report",
}


def _load(name: str) -> click.Command | None:
    module_name = _COMMAND_MODULES.get(name)
    if module_name is None:
        return None
    import importlib

    from molq.cli._verbosity import add_verbosity

    module = importlib.import_module(f"molq.cli.{module_name}")
    command = next((c for c in module.COMMANDS if c.name == name), None)
    return None if command is None else add_verbosity(command)


def fail(message: str, code: int = 1) -> int:
    """Print ``molq: error: MESSAGE`` as one line on stderr; return ``code``."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = "; ".join(lines).replace(":;", ":") or "unknown error"
    echo(f"molq: error: {text}", err=True)
    return code


def run(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit status; user mistakes never print a traceback."""
    try:
        result = cli.main(args=args, prog_name="molq", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return fail(exc.format_message() + hint, exc.exit_code)
    except click.ClickException as exc:
        return fail(exc.format_message(), exc.exit_code)
    except MolqError as exc:
        return fail(str(exc) or type(exc).__name__)
    except (click.Abort, KeyboardInterrupt):
        echo("molq: interrupted", err=True)
        return 130
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point (``molq = "molq.cli:main"``)."""
    sys.exit(run())


__all__ = ["cli", "main", "run"]
