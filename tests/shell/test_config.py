"""Profiles: TOML structured with cattrs, errors that name the key."""

from __future__ import annotations

import pytest

from molq import (
    Cluster,
    ConfigError,
    Duration,
    JobState,
    Memory,
    SpecError,
    Submitor,
    load_config,
    load_profile,
)


GOOD = """
[profiles.hpc]
scheduler = "local"
cluster_name = "hpc-cluster"
jobs_dir = "/tmp/jobs"

[profiles.hpc.defaults.resources]
memory = "8G"
time_limit = "2h"

[profiles.hpc.defaults.execution]
env = { A = "1" }

[profiles.hpc.retry]
max_attempts = 3
retry_on_states = ["failed"]
retry_on_exit_codes = [1, 2]

[profiles.hpc.retry.backoff]
mode = "fixed"
initial_seconds = 1.0

[profiles.hpc.retention]
keep_job_dirs_for_days = 7
"""


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_profile_is_typed(tmp_path):
    """Every section becomes the typed value it describes."""
    profile = load_profile("hpc", write(tmp_path, GOOD))
    assert profile.resolved_cluster_name == "hpc-cluster"
    assert profile.defaults.resources.memory == Memory.gb(8)
    assert profile.defaults.resources.time_limit == Duration.hours(2)
    assert profile.defaults.execution.env == {"A": "1"}
    assert profile.retry.max_attempts == 3
    assert profile.retry.retry_on_states == (JobState.FAILED,)
    assert profile.retry.retry_on_exit_codes == (1, 2)
    assert profile.retry.backoff.mode == "fixed"
    assert profile.retention.keep_job_dirs_for_days == 7


def test_submitor_from_profile(tmp_path, store):
    """from_profile builds the cluster and merges defaults into submissions."""
    path = write(tmp_path, GOOD.replace('memory = "8G"\n', ""))
    sub = Submitor.from_profile("hpc", config_path=path, store=store)
    assert sub.cluster_name == "hpc-cluster"
    assert Cluster.from_profile("hpc", config_path=path).scheduler == "local"
    dry = sub.submit_job(argv=["env"], dry_run=True)
    assert dry.details["job_dir"].startswith("/tmp/jobs/")
    assert "export A=1" in dry.details["script"]


def test_legacy_queue_key_loads_with_a_warning(tmp_path):
    """'queue' still loads as partition, with a DeprecationWarning."""
    path = write(tmp_path, '[profiles.p]\nscheduler = "slurm"\n[profiles.p.defaults.scheduling]\nqueue = "gpu"\n')
    with pytest.warns(DeprecationWarning, match="partition"):
        profile = load_profile("p", path)
    assert profile.defaults.scheduling.partition == "gpu"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[profiles.p]\nschedulr = "local"\n', "schedulr"),
        ('[profiles.p.defaults.resources]\nmemory = "lots"\n', "memory"),
        ('[profiles.p.defaults.resources]\ncpu_count = "four"\n', "cpu_count"),
        ('[profiles.p.retry]\nmax_attempts = 0\n', "max_attempts"),
        ('[profiles.p.defaults.scheduling]\nqueue = "a"\npartition = "b"\n', "not both"),
        ('[other]\nx = 1\n', "other"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path, body, key):
    """Invalid keys raise SpecError (a ConfigError) whose message names them."""
    with pytest.raises(SpecError, match=key):
        load_config(write(tmp_path, body))


def test_invalid_toml_and_missing(tmp_path):
    """Broken TOML, a missing explicit file and an unknown profile are ConfigErrors."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[profiles.p\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"no profile 'x'.*profiles: hpc"):
        load_profile("x", write(tmp_path, GOOD))


def test_missing_default_config_is_empty(isolated_home):
    """Without ~/.molq/config.toml there are simply no profiles."""
    assert load_config().profiles == {}
