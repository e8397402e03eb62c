"""Which LSF a cluster runs, and the commands molq sends to each dialect.

``ibm``: IBM Spectrum LSF >= 9.1 (``bjobs -o``); ``openlava``: OpenLava and
Platform LSF before 9.1, read through ``bjobs -l -UF`` and ``bhist -l``.
See docs/adr/0020-lsf-dialect-detection.md.

Rules of this module:
  Rule 1: pure; the shell runs ``VERSION_ARGV`` once per cluster and keeps the answer.
  Rule 2: one status command per poll whatever the number of jobs: ids on the
    command line up to ``ids_limit``, beyond that the user's whole listing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

from ._lsf_parse import BJOBS_FORMAT


LsfDialect: TypeAlias = Literal["openlava", "ibm"]
VERSION_ARGV: Final = ("bjobs", "-V")
QUERY_ENV: Final = {"LSB_NTRIES": "1"}
"""Without it OpenLava clients retry forever when mbatchd is down."""

_VERSION: Final = re.compile(r"\bLSF\b[^\d\n]*(\d+)\.(\d+)")


def detect_dialect(banner: str) -> LsfDialect:
    """The dialect ``bjobs -V`` names: ``ibm`` for LSF 9.1 or later, else ``openlava``.

    OpenLava prints ``OpenLava 4.0dev4, Dec  2 2026``; IBM prints e.g. ``IBM
    Spectrum LSF 10.1.0.0 build 403338, May 27 2016``. Anything unrecognised gets
    the long form, which every LSF has.
    """
    if "openlava" in banner.lower():
        return "openlava"
    match = _VERSION.search(banner)
    if match is not None and (int(match.group(1)), int(match.group(2))) >= (9, 1):
        return "ibm"
    return "openlava"


def status_argv(dialect: LsfDialect, ids: Sequence[str], *, ids_limit: int) -> tuple[str, ...]:
    """The one ``bjobs`` command that reports ``ids`` (finished jobs too)."""
    listed = tuple(ids) if len(ids) <= ids_limit else ()
    if dialect == "ibm":
        return ("bjobs", "-a", "-noheader", "-o", BJOBS_FORMAT, *listed)
    return ("bjobs", "-a", "-l", "-UF", *listed)


def history_argv(ids: Sequence[str]) -> tuple[str, ...]:
    """``bhist -l``: how jobs that left bjobs (or were killed) ended."""
    return ("bhist", "-l", *ids)


def queue_argv(dialect: LsfDialect, user: str | None) -> tuple[str, ...]:
    """Unfinished jobs of ``user`` (every user's when None)."""
    who = ("-u", user or "all")
    if dialect == "ibm":
        return ("bjobs", "-noheader", "-o", BJOBS_FORMAT, *who)
    return ("bjobs", "-l", "-UF", *who)


def adopt_argv(dialect: LsfDialect) -> tuple[str, ...]:
    """Every job of the current user, finished ones too, with its output file."""
    if dialect == "ibm":
        return ("bjobs", "-a", "-noheader", "-o", "jobid output_file delimiter='|'")
    return ("bjobs", "-a", "-l", "-UF")


def adopt_from_rows(text: str, output_file: str) -> str | None:
    """The id in ``jobid|output_file`` rows whose output file is ``output_file``."""
    for line in text.split("\n"):
        job_id, sep, path = line.strip().partition("|")
        if sep and path.strip() == output_file and job_id.isdigit():
            return job_id
    return None
