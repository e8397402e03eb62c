"""Scheduler adapters: SLURM, PBS, LSF and the local runner, each over any Transport."""
