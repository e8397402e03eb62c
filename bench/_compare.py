"""What moved since the previous run: each figure's ratio to the same figure in an earlier JSON.

A figure moved when it changed by more than ``MOVED`` (this 2-core VM shared with other
work drifts by that much between minutes; see bench/README.md), in the direction its
unit says is better or worse. Figures only one of the two runs has are listed apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


MOVED = 0.10
HIGHER_IS_BETTER = ("jobs/s", "events/s")


def load(path: Path) -> dict[str, Any] | None:
    """The earlier run in ``path``, or None when there is none (or it cannot be read)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def compare(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Per figure: old and new value, ratio new/old, and ``better``/``worse``/``same``."""
    old_figs, new_figs = previous.get("figures", {}), current.get("figures", {})
    rows: dict[str, Any] = {}
    for name, new in new_figs.items():
        old = old_figs.get(name)
        if old is None or old.get("value") in (None, 0) or new.get("value") is None:
            continue
        ratio = new["value"] / old["value"]
        rows[name] = {"old": old["value"], "new": new["value"], "ratio": round(ratio, 3), "moved": _moved(new["unit"], ratio)}
    return {
        "previous_machine": previous.get("machine", {}),
        "figures": rows,
        "only_now": sorted(set(new_figs) - set(old_figs)),
        "only_before": sorted(set(old_figs) - set(new_figs)),
    }


def _moved(unit: str, ratio: float) -> str:
    if abs(ratio - 1) <= MOVED:
        return "same"
    up = ratio > 1
    return "better" if up == unit.startswith(HIGHER_IS_BETTER) else "worse"


def report(diff: dict[str, Any]) -> str:
    """The comparison as text: what moved first, then the figures that did not."""
    load_before = diff["previous_machine"].get("loadavg_at_start")
    lines = [f"Compared with the previous run (load average at its start: {load_before}):"]
    rows = diff["figures"]
    moved = {k: v for k, v in rows.items() if v["moved"] != "same"}
    for name, row in sorted(moved.items(), key=lambda kv: kv[1]["moved"]):
        lines.append(f"  {row['moved']:>6}  {name}: {row['old']:,.4g} -> {row['new']:,.4g} (x{row['ratio']})")
    if not moved:
        lines.append(f"  nothing moved by more than {MOVED:.0%}")
    same = sorted(k for k, v in rows.items() if v["moved"] == "same")
    if same:
        lines.append(f"  within {MOVED:.0%}: " + ", ".join(f"{k} x{rows[k]['ratio']}" for k in same))
    if diff["only_now"]:
        lines.append("  new figures: " + ", ".join(diff["only_now"]))
    if diff["only_before"]:
        lines.append("  not measured this time: " + ", ".join(diff["only_before"]))
    return "\n".join(lines)
