"""A path script's own ``#SBATCH``/``#PBS``/``#BSUB`` lines: read once at submission, kept on the spec.

The parsing and the merge are pure (``molq.core._sched._directives`` / ``_flags``); this
module only reads the file through the transport and turns dropped directives into
Python warnings, at the call, before anything is stored.
"""

from __future__ import annotations

import logging
import warnings

import attrs

from molq.core import JobSpec, Transport, TransportError
from molq.core._sched._directives import PREFIXES, DirectiveDialect, parse_directive_block
from molq.core._sched._flags import dropped_warning, plan_flags


log = logging.getLogger("molq.submit")
_DIALECTS: dict[str, DirectiveDialect] = {"slurm": "slurm", "pbs": "pbs", "lsf": "lsf"}


def script_file(spec: JobSpec) -> str | None:
    """Where the job body will find a path script: relative paths are taken from the job's cwd."""
    if spec.script is None or spec.script.variant != "path" or spec.script.file_path is None:
        return None
    path = str(spec.script.file_path)
    if path.startswith(("/", "~")) or spec.cwd in ("", "."):
        return path
    return f"{spec.cwd.rstrip('/')}/{path}"


def with_script_directives(spec: JobSpec, transport: Transport, scheduler: str) -> JobSpec:
    """``spec`` with its script's directives for ``scheduler`` (unchanged for argv/command jobs).

    A script that cannot be read is left to fail when the job runs, as before: molq
    submits what it was given and reports nothing it did not see.
    """
    dialect = _DIALECTS.get(scheduler)
    if dialect is not None and spec.script is not None and spec.script.variant == "inline":
        text = spec.script.text or ""
        return attrs.evolve(spec, script_directives=parse_directive_block(text, dialect))
    path = script_file(spec)
    if dialect is None or path is None:
        return spec
    try:
        text = transport.read_text(path)
    except TransportError as exc:
        log.debug("script %s not read for its directives: %s", path, exc)
        return spec
    return attrs.evolve(spec, script_directives=parse_directive_block(text, dialect))


def warn_dropped_directives(spec: JobSpec, scheduler: str, *, stacklevel: int = 2) -> None:
    """One ``UserWarning`` for each script directive molq's own flags override.

    ``stacklevel`` counts from the caller of this function, as ``warnings.warn``'s does.

    Raises:
        ConfigError: an extra flag is malformed or names a flag molq sets itself.
    """
    dialect = _DIALECTS.get(scheduler)
    if dialect is None:
        return
    for text, why in plan_flags(spec, dialect).dropped:
        warnings.warn(dropped_warning(text, why, dialect), UserWarning, stacklevel=stacklevel + 1)


def directive_header(script: str, scheduler: str) -> str | None:
    """The directive lines the scheduler will read in a rendered ``script`` (None for local)."""
    dialect = _DIALECTS.get(scheduler)
    if dialect is None:
        return None
    prefix = PREFIXES[dialect]
    return "\n".join(f"{prefix} {option}" for option in parse_directive_block(script, dialect))
