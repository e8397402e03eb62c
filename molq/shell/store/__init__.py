"""The store: the append-only SQLite event log, its schema, projections, listings and audits."""
