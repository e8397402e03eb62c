"""Full-screen Rich dashboards over the job store: ``RunDashboard`` and ``MolqMonitor``.

Both read the store only and never cancel jobs; ``molq monitor`` opens them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from molq.dashboard._app import MolqMonitor as MolqMonitor
    from molq.dashboard._app import RunDashboard as RunDashboard


def __getattr__(name: str) -> Any:
    # Lazy, so that `molq list` can use the Rich-free formatters without importing Rich.
    if name in __all__:
        from molq.dashboard import _app

        return getattr(_app, name)
    msg = f"module 'molq.dashboard' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = ["MolqMonitor", "RunDashboard"]
