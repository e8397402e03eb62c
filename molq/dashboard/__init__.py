"""Full-screen Rich dashboards over the job store: ``RunDashboard`` and ``MolqMonitor``.

Both read the store only and never cancel jobs; ``molq monitor`` opens them.
"""

from molq.dashboard._app import MolqMonitor as MolqMonitor
from molq.dashboard._app import RunDashboard as RunDashboard


__all__ = ["MolqMonitor", "RunDashboard"]
