"""molq: submit, track and audit batch jobs."""
