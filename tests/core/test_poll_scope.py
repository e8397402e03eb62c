"""The commands of a poll: ids on the command line while few and short, else one scoped listing."""

from __future__ import annotations

import pytest

from molq.core import ConfigError
from molq.core._sched._poll_scope import (
    ID_BUDGET,
    bhist_poll_argv,
    fits,
    pbs_history_argv,
    sacct_poll_argv,
    squeue_poll_argv,
)
from molq.core._sched._slurm import SACCT_FIELDS, SQUEUE_FORMAT


def _ids(n: int, width: int = 7) -> list[str]:
    return [str(10 ** (width - 1) + i) for i in range(n)]


class TestFits:
    def test_exactly_the_budget_fits(self):
        """Ids whose lengths plus one separator each make the budget fit; one character more does not."""
        assert fits(["123", "45"], budget=7)
        assert not fits(["123", "456"], budget=7)

    def test_default_budget_is_under_the_remote_shell_limit(self):
        """The default leaves room below Linux's 128 KiB cap on one argument."""
        assert ID_BUDGET < 128 * 1024
        assert fits(_ids(ID_BUDGET // 8))  # 7 digits + separator
        assert not fits(_ids(ID_BUDGET // 8 + 1))


class TestSqueue:
    def test_few_ids_are_named(self):
        """Up to the limit, squeue gets the ids."""
        assert squeue_poll_argv(["1", "2_3"], ids_limit=2) == (
            "squeue",
            "-h",
            "-t",
            "all",
            "-j",
            "1,2_3",
            "-o",
            SQUEUE_FORMAT,
        )

    def test_more_ids_than_the_limit_ask_for_the_users_jobs(self):
        """Past the limit, one ``squeue --me`` in every state."""
        assert squeue_poll_argv(["1", "2", "3"], ids_limit=2) == (
            "squeue",
            "-h",
            "-t",
            "all",
            "--me",
            "-o",
            SQUEUE_FORMAT,
        )

    def test_ids_too_long_for_a_command_line_ask_for_the_users_jobs(self):
        """Under the limit but over the budget, still ``--me``."""
        many = _ids(ID_BUDGET // 8 + 1)
        assert "--me" in squeue_poll_argv(many, ids_limit=len(many))

    def test_a_bad_id_is_refused(self):
        """An id that is no SLURM job id is a ConfigError naming it."""
        with pytest.raises(ConfigError, match="'1;rm'"):
            squeue_poll_argv(["1", "1;rm"], ids_limit=10)


class TestSacct:
    def test_ids_that_fit_are_named(self):
        """One sacct for all the ids, however many, while they fit."""
        ids = _ids(5000)
        argv = sacct_poll_argv(ids, window_days=14)
        assert argv == ("sacct", "-X", "-P", "-n", "-j", ",".join(ids), "-o", SACCT_FIELDS)

    def test_too_many_ids_ask_for_the_window(self):
        """Past the budget, the user's jobs of the last ``window_days`` days."""
        argv = sacct_poll_argv(_ids(ID_BUDGET // 8 + 1), window_days=3)
        assert argv == ("sacct", "-X", "-P", "-n", "-S", "now-3days", "-o", SACCT_FIELDS)

    def test_window_below_one_day_is_refused(self):
        """A window of 0 days is a ConfigError."""
        with pytest.raises(ConfigError, match="at least 1 day, got 0"):
            sacct_poll_argv(["1"], window_days=0)

    def test_a_bad_id_is_refused(self):
        """An id that is no SLURM job id is a ConfigError."""
        with pytest.raises(ConfigError, match="'x'"):
            sacct_poll_argv(["x"], window_days=1)


class TestPbsAndLsfHistory:
    def test_pbs_ids_that_fit_are_named(self):
        """``qstat -x -f -F json -t`` with the ids; without JSON when the server has none."""
        assert pbs_history_argv("qstat", ["1.s", "2"]) == (
            "qstat",
            "-x",
            "-f",
            "-F",
            "json",
            "-t",
            "1.s",
            "2",
        )
        assert pbs_history_argv("/opt/pbs/bin/qstat", ["1"], json=False) == (
            "/opt/pbs/bin/qstat",
            "-x",
            "-f",
            "-t",
            "1",
        )

    def test_pbs_too_many_ids_ask_for_the_servers_history(self):
        """Past the budget, the whole history in one command."""
        assert pbs_history_argv("qstat", _ids(ID_BUDGET // 8 + 1)) == (
            "qstat",
            "-x",
            "-f",
            "-F",
            "json",
            "-t",
        )

    def test_bhist_ids_or_the_users_finished_jobs(self):
        """``bhist -l`` with the ids while they fit, else ``-d`` (the user's finished jobs)."""
        assert bhist_poll_argv(["5", "6[1]"]) == ("bhist", "-l", "5", "6[1]")
        assert bhist_poll_argv(_ids(ID_BUDGET // 8 + 1)) == ("bhist", "-l", "-d")


def test_no_ids_ask_for_the_scoped_listings():
    """With no id to name, squeue and sacct take their scoped forms."""
    assert "--me" in squeue_poll_argv([], ids_limit=5)
    assert "-S" in sacct_poll_argv([], window_days=2)
