"""Adopting a Slurm job whose submission was interrupted: the squeue query and reading its answer."""

from __future__ import annotations

from molq.core._sched._slurm import adopt_argv, parse_adopt


def test_adopt_query_lists_every_state_with_the_script_path():
    """squeue is asked for all jobs of that name, finished too, with id and command."""
    assert adopt_argv("molq-abc") == ("squeue", "-h", "-t", "all", "-n", "molq-abc", "-o", "%i|%o")


def test_the_job_running_our_script_is_found():
    """The id whose command is our job script is returned; other jobs of the name are not."""
    out = "  101|/other/job.sh\n102|/w/jobs/a/job.sh  \n"
    assert parse_adopt(out, "/w/jobs/a/job.sh") == "102"


def test_nothing_matching_means_no_adoption():
    """No line with our script, a line without '|', or a malformed id: nothing to adopt."""
    assert parse_adopt("", "/w/a.sh") is None
    assert parse_adopt("102 /w/a.sh\n", "/w/a.sh") is None
    assert parse_adopt("abc|/w/a.sh\n", "/w/a.sh") is None
    assert parse_adopt("101|/w/b.sh\n", "/w/a.sh") is None
