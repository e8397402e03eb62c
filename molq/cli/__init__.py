"""The ``molq`` command line: submit, track, audit and monitor jobs.

Run ``molq --help`` for the command list and ``molq COMMAND --help`` for each command.
"""

from __future__ import annotations

import sys

import click

from molq.core import MolqError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="molq", prog_name="molq", message="%(prog)s %(version)s")
def cli() -> None:
    """Submit, track and audit batch jobs on local, SLURM, PBS and LSF clusters."""


def _register() -> None:
    from molq.cli import _clusters, _inspect, _jobs, _maint, _monitor, _replay, _submit, _watch, _workspace

    for module in (_submit, _jobs, _inspect, _watch, _maint, _clusters, _workspace, _monitor, _replay):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def fail(message: str, code: int = 1) -> int:
    """Print ``molq: error: MESSAGE`` as one line on stderr; return ``code``."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = "; ".join(lines).replace(":;", ":") or "unknown error"
    click.echo(f"molq: error: {text}", err=True)
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
        click.echo("molq: interrupted", err=True)
        return 130
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point (``molq = "molq.cli:main"``)."""
    sys.exit(run())


__all__ = ["cli", "main", "run"]
