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


_P = '[profiles.p]\nscheduler = "local"\ncluster_name = "c"\n'


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
    path = write(tmp_path, '[profiles.p]\nscheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.scheduling]\nqueue = "gpu"\n')
    with pytest.warns(DeprecationWarning, match="partition"):
        profile = load_profile("p", path)
    assert profile.defaults.scheduling.partition == "gpu"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[profiles.p]\nscheduler = "local"\ncluster_name = "c"\nschedulr = "local"\n', "schedulr"),
        (_P + '[profiles.p.defaults.resources]\nmemory = "lots"\n', "memory"),
        (_P + '[profiles.p.defaults.resources]\ncpu_count = "four"\n', "cpu_count"),
        (_P + '[profiles.p.retry]\nmax_attempts = 0\n', "max_attempts"),
        (_P + '[profiles.p.defaults.scheduling]\nqueue = "a"\npartition = "b"\n', "not both"),
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
    with pytest.raises(ConfigError, match=r"no profile 'x'.*profiles: hpc"):
        load_profile("x", write(tmp_path, GOOD))


def test_missing_default_config_is_empty(isolated_home):
    """Without ~/.molq/config.toml there are simply no profiles."""
    assert load_config().profiles == {}


def test_missing_explicit_config_is_empty(tmp_path):
    """load_config(path) on a missing file is an empty config, as upstream molq (issue 18)."""
    assert load_config(tmp_path / "nope.toml").profiles == {}


def test_unknown_top_level_table_is_ignored_with_a_warning(tmp_path):
    """An unknown top-level table is ignored with a warning; profiles still load (issue 18)."""
    path = write(tmp_path, '[other]\nx = 1\n' + GOOD)
    with pytest.warns(UserWarning, match="other"):
        config = load_config(path)
    assert set(config.profiles) == {"hpc"}


def test_plugins_table_is_kept(tmp_path):
    """Upstream's [plugins.NAME] tables load into MolqConfig.plugins without a warning."""
    config = load_config(write(tmp_path, '[plugins.nerve]\nenabled = false\n' + GOOD))
    assert config.plugins == {"nerve": {"enabled": False}}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[profiles.p]\ncluster_name = "c"\n', "profiles.p.scheduler: required"),
        ('[profiles.p]\nscheduler = "local"\n', "profiles.p.cluster_name: required"),
        ('[profiles.p]\nscheduler = "torque"\ncluster_name = "c"\n', "profiles.p.scheduler: Unknown scheduler 'torque'"),
        ('[profiles.p]\nscheduler = "shell"\ncluster_name = "c"\n', "Unknown scheduler 'shell'"),
    ],
)
def test_scheduler_and_cluster_name_are_checked_at_load(tmp_path, body, key):
    """A profile without scheduler or cluster_name, or with an unknown scheduler, fails at load."""
    with pytest.raises(ConfigError, match=key):
        load_config(write(tmp_path, body))


def test_retention_defaults_to_a_policy(tmp_path):
    """profile.retention is RetentionPolicy() when the profile has no [retention] table."""
    from molq import RetentionPolicy

    profile = load_profile("p", write(tmp_path, '[profiles.p]\nscheduler = "local"\ncluster_name = "c"\n'))
    assert profile.retention == RetentionPolicy()


HEAD = '[profiles.p]\nscheduler = "local"\ncluster_name = "c"\n'


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('[profiles.p.defaults.scheduling]\nexclusive_node = "false"\n', "defaults.scheduling.exclusive_node", "a boolean"),
        ('[profiles.p.retention]\nkeep_failed_job_dirs = "no"\n', "retention.keep_failed_job_dirs", "a boolean"),
        ('[profiles.p.retention]\nkeep_job_dirs_for_days = 0.9\n', "retention.keep_job_dirs_for_days", "an integer"),
        ('[profiles.p.defaults.resources]\ncpu_count = 2.9\n', "defaults.resources.cpu_count", "an integer"),
        ('[profiles.p.defaults.execution]\nenv = { A = 1 }\n', "defaults.execution.env", "a string"),
        ('[profiles.p.defaults.scheduling]\npartition = 3\n', "defaults.scheduling.partition", "a string"),
        ('[profiles.p.retry]\nmax_attempts = true\n', "retry.max_attempts", "an integer"),
        ('[profiles.p]\njobs_dir = 5\n', "jobs_dir", "a string"),
    ],
)
def test_wrong_toml_types_are_refused_naming_key_and_type(tmp_path, body, key, expected):
    """Issue 13 item 16: a value of the wrong TOML type is a ConfigError naming the key and type."""
    text = HEAD + body if not body.startswith("[profiles.p]\n") else HEAD + body.removeprefix("[profiles.p]\n")
    with pytest.raises(ConfigError, match=rf"profiles\.p\.{key}\b.*expected {expected}") as info:
        load_config(write(tmp_path, text))
    assert isinstance(info.value, SpecError)
