"""Full-screen Rich dashboards over the job store: ``RunDashboard`` and ``MolqMonitor``.

Both read the store only and never cancel jobs; ``molq monitor`` opens them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from molq.dashboard._app import MolqMonitor as MolqMonitor
    from molq.dashboard._app import RunDashboard as RunDashboard


from molq.dashboard._rows import DashboardState as DashboardState
from molq.dashboard._rows import DependencyLine as DependencyLine
from molq.dashboard._rows import JobRow as JobRow


def __getattr__(name: str) -> Any:
    # Lazy, so that `molq list` can use the Rich-free formatters without importing Rich.
    if name in ("MolqMonitor", "RunDashboard"):
        from molq.dashboard import _app

        return getattr(_app, name)
    msg = f"module 'molq.dashboard' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = ["DashboardState", "DependencyLine", "JobRow", "MolqMonitor", "RunDashboard"]
