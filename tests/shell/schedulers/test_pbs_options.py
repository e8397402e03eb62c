"""PBS scheduler options from a profile: dialect, client directory, timeouts."""

from __future__ import annotations

import pytest

from molq import ConfigError
from molq.api._config import scheduler_options_for
from molq.shell.schedulers._pbs import PBSSchedulerOptions


def test_profile_options_structure_into_pbs_options():
    """bin_dir, flavor and timeout from TOML become PBSSchedulerOptions."""
    options = scheduler_options_for("pbs", {"bin_dir": "/opt/pbs/bin/", "flavor": "pro", "timeout": 5})
    assert options == PBSSchedulerOptions(bin_dir="/opt/pbs/bin/", flavor="pro", timeout=5.0)
    assert options.command("qsub") == "/opt/pbs/bin/qsub"
    assert options.command("qselect") == "/opt/pbs/bin/qselect"


def test_explicit_command_paths_win_over_bin_dir():
    """A full path for one client is used as given."""
    options = PBSSchedulerOptions(bin_dir="/opt/pbs/bin", qstat="/site/bin/qstat")
    assert (options.command("qstat"), options.command("qdel")) == ("/site/bin/qstat", "/opt/pbs/bin/qdel")


def test_default_is_auto_detection_with_a_timeout():
    """By default the dialect is asked of qstat once, and every command has a timeout."""
    options = PBSSchedulerOptions()
    assert (options.flavor, options.timeout, options.command("qsub")) == ("auto", 60.0, "qsub")


@pytest.mark.parametrize("raw", [{"flavor": "sge"}, {"timeout": 0}, {"chunk_size": 0}, {"bin_dirr": "/x"}])
def test_bad_options_are_config_errors(raw):
    """An unknown dialect, a zero timeout or chunk, or a misspelt key is named."""
    with pytest.raises(ConfigError, match="scheduler_options"):
        scheduler_options_for("pbs", raw)
