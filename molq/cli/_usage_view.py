"""How one job's usage reads: ``seff``'s lines for ``molq inspect``, an object for ``--json``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from molq import JobUsage


def clock(seconds: float | None) -> str:
    """``[D-]HH:MM:SS`` as seff prints times; ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{text}" if days else text


def size(n_bytes: int | None) -> str:
    """Binary units with two decimals (``94.61 MiB``); ``-`` when unknown."""
    if n_bytes is None:
        return "-"
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} TiB"


def percent(ratio: float | None) -> str:
    """``31.54%``; ``-`` when unknown."""
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


def usage_lines(usage: JobUsage | None) -> list[tuple[str, str]]:
    """``molq inspect``'s usage block, in seff's words."""
    if usage is None:
        return [("usage", "not recorded (the job has not finished, or molq has not seen it end)")]
    cpus = usage.cpus if usage.cpus is not None else 1
    walltime = None if usage.elapsed_seconds is None else usage.elapsed_seconds * cpus
    rows = [
        ("usage", f"from {usage.source}" + (f" ({usage.note})" if usage.note else "")),
        ("cores", "-" if usage.cpus is None else str(usage.cpus)),
        ("cpu utilized", clock(usage.cpu_seconds)),
        ("cpu efficiency", f"{percent(usage.cpu_efficiency)} of {clock(walltime)} core-walltime"),
        ("wall-clock time", clock(usage.elapsed_seconds)),
        ("memory utilized", size(usage.max_rss_bytes)),
        ("memory efficiency", f"{percent(usage.memory_efficiency)} of {size(usage.requested_memory_bytes)}"),
    ]
    if usage.nodes:
        rows.append(("nodes", usage.nodes))
    return rows


def usage_fields(usage: JobUsage | None) -> dict[str, Any] | None:
    """``molq inspect --json``'s ``usage`` object: the recorded figures and the derived ones."""
    if usage is None:
        return None
    return {
        "source": usage.source,
        "elapsed_seconds": usage.elapsed_seconds,
        "cpu_seconds": usage.cpu_seconds,
        "max_rss_bytes": usage.max_rss_bytes,
        "max_vmem_bytes": usage.max_vmem_bytes,
        "requested_memory_bytes": usage.requested_memory_bytes,
        "cpus": usage.cpus,
        "nodes": usage.nodes,
        "raw_state": usage.raw_state,
        "raw_exit": usage.raw_exit,
        "note": usage.note,
        "cpu_efficiency": usage.cpu_efficiency,
        "memory_efficiency": usage.memory_efficiency,
        "core_hours": usage.core_hours,
    }
