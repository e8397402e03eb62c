"""``%`` in paths molq renders: escaped where the dialect expands it, refused where it cannot be."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.core import ConfigError, JobExecution, JobScheduling, JobSpec
from molq.core._sched._pbs import render_pbs_script
from molq.core._sched._slurm import escape_filename_pattern, slurm_directives


def _spec(output: str | None = None, cwd: str = "/data/ratio%j", **scheduling: object) -> JobSpec:
    return JobSpec(
        "argv",
        argv=("true",),
        cwd=cwd,
        execution=JobExecution(output_file=output),
        scheduling=JobScheduling(**scheduling),  # type: ignore[arg-type]
    )


class TestSlurm:
    def test_output_and_default_paths_are_escaped_and_chdir_is_literal(self):
        """``--output``/``--error`` double every %; ``--chdir`` is not expanded by sbatch."""
        got = slurm_directives(_spec("/data/ratio%j/o%u"), "/data/ratio%j/.molq/jobs/run%J")
        assert "--output=/data/ratio%%j/o%%u" in got
        assert "--error=/data/ratio%%j/.molq/jobs/run%%J/stderr" in got
        assert "--chdir=/data/ratio%j" in got

    def test_array_suffix_follows_the_escaped_path(self):
        """An array's ``.%A_%a`` suffix stays a pattern; the user's % before it does not."""
        got = slurm_directives(_spec("/l/o%x", array_spec="1-3"), "/j/1")
        assert "--output=/l/o%%x.%A_%a" in got

    @given(st.text(alphabet="%ajAJx/_", max_size=12))
    def test_escaping_is_undone_by_sbatch_expansion(self, path):
        """Reading ``%%`` as ``%`` (sbatch's rule) gives the path back, and no lone % is left."""
        escaped = escape_filename_pattern(path)
        assert escaped.replace("%%", "%") == path
        assert escaped.replace("%%", "").count("%") == 0


class TestPbs:
    def test_torque_flavor_refuses_percent_in_output_paths(self):
        """Slurm's qsub wrapper hands -o to sbatch, which would expand %: a ConfigError first."""
        with pytest.raises(ConfigError, match="Torque qsub"):
            render_pbs_script(_spec("/data/run%j.out"), "/j/1", flavor="torque")

    def test_pro_keeps_percent_as_written(self):
        """OpenPBS expands nothing in -o/-e (checked on 23.06)."""
        assert "-o /data/run%j.out" in render_pbs_script(_spec("/data/run%j.out"), "/j/1", flavor="pro")
