"""Issue 18: a profile's ``scheduler_options`` is the typed options object of its scheduler (upstream's behaviour)."""

from __future__ import annotations

import pytest

from molq import (
    ConfigError,
    LSFSchedulerOptions,
    PBSSchedulerOptions,
    SlurmSchedulerOptions,
    SpecError,
    load_profile,
)
from molq.api._cluster import cluster_from_profile
from molq.api._config import MolqProfile


PBS_PROFILE = """
[profiles.pbs]
scheduler = "pbs"
cluster_name = "pbs-cluster"

[profiles.pbs.scheduler_options]
bin_dir = "/opt/pbs/bin"
qsub_path = "/site/qsub"
extra_qsub_flags = ["-V"]
"""


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_loaded_profile_carries_typed_options(tmp_path):
    """The TOML table becomes PBSSchedulerOptions on the profile itself, not a dict."""
    profile = load_profile("pbs", write(tmp_path, PBS_PROFILE))
    assert profile.scheduler_options == PBSSchedulerOptions(bin_dir="/opt/pbs/bin", qsub_path="/site/qsub", extra_qsub_flags=("-V",))


def test_cluster_from_profile_uses_the_same_options(tmp_path):
    """The Cluster built from the profile gets that very options object."""
    profile = load_profile("pbs", write(tmp_path, PBS_PROFILE))
    assert cluster_from_profile(profile).scheduler_options is profile.scheduler_options


def test_a_bad_option_fails_at_load_naming_the_profile_and_field(tmp_path):
    """A bad value is reported when the file is loaded, with the profile and option named."""
    text = PBS_PROFILE.replace('bin_dir = "/opt/pbs/bin"', "chunk_size = 0")
    with pytest.raises(SpecError, match=r"profiles\.pbs: .*chunk_size"):
        load_profile("pbs", write(tmp_path, text))


def test_an_unknown_option_fails_at_load(tmp_path):
    """A misspelt option is named at load."""
    text = PBS_PROFILE.replace("bin_dir", "bin_dirr")
    with pytest.raises(SpecError, match="bin_dirr"):
        load_profile("pbs", write(tmp_path, text))


@pytest.mark.parametrize(
    ("scheduler", "raw", "expected"),
    [
        ("slurm", {"sbatch_path": "/x/sbatch"}, SlurmSchedulerOptions(sbatch_path="/x/sbatch")),
        ("pbs", {"flavor": "pro", "timeout": 5}, PBSSchedulerOptions(flavor="pro", timeout=5.0)),
        ("lsf", {"dialect": "openlava", "extra_bsub_flags": ["-x"]}, LSFSchedulerOptions(dialect="openlava", extra_bsub_flags=("-x",))),
    ],
)
def test_a_raw_dict_is_still_accepted_and_typed(scheduler, raw, expected):
    """Code that builds a MolqProfile with a dict (the earlier spelling) gets the typed object."""
    profile = MolqProfile("p", scheduler, scheduler_options=raw)
    assert profile.scheduler_options == expected


def test_an_empty_table_is_no_options():
    """An empty table means the scheduler's defaults, as upstream."""
    assert MolqProfile("p", "slurm", scheduler_options={}).scheduler_options is None


def test_options_of_another_scheduler_are_a_type_error():
    """PBS options on a SLURM profile are refused, as on Cluster."""
    with pytest.raises(TypeError, match="SlurmSchedulerOptions"):
        MolqProfile("p", "slurm", scheduler_options=PBSSchedulerOptions())


def test_a_bad_raw_dict_is_a_config_error():
    """A bad dict value is a ConfigError naming the option."""
    with pytest.raises(ConfigError, match="squeue_chunk_size"):
        MolqProfile("p", "slurm", scheduler_options={"squeue_chunk_size": 0})


def test_local_profile_with_options_is_refused():
    """The local scheduler has no options to set."""
    with pytest.raises(ConfigError, match="local scheduler takes no scheduler_options"):
        MolqProfile("p", "local", scheduler_options={"x": 1})
