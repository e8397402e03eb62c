"""Shell completion of job ids (``_MOLQ_COMPLETE=bash_source molq``, see the CLI guide)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final


if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem

MAX_COMPLETIONS: Final = 200


def complete_job_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Job ids in the store (``--db`` if typed, else the default) that start with ``incomplete``.

    Reads only; a missing or unreadable store completes nothing (and is never created).
    """
    from click.shell_completion import CompletionItem

    from molq import JobStore, MolqError

    del param
    try:
        store = JobStore(ctx.params.get("db"), create=False)
    except (MolqError, OSError):
        return []
    try:
        ids = store.find_job_ids(incomplete)
    except (MolqError, OSError):
        return []
    finally:
        store.close()
    return [CompletionItem(job_id) for job_id in sorted(ids)[:MAX_COMPLETIONS]]


__all__ = ["MAX_COMPLETIONS", "complete_job_id"]
