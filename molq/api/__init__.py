"""molq.api: the public verbs (Submitor, JobHandle, Cluster, profiles, workspaces, sweeps, live streams).

Import these names from ``molq``; this package only gives them a home (ADR: layout).
"""
