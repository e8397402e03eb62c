"""``molq report`` and the usage block of ``molq inspect``, end to end on local jobs."""

from __future__ import annotations

import json
import re
import sys

import pytest


JOB_LINE = re.compile(r"Submitted job ([0-9a-f]{32})")
HOLD = "import time; b = bytearray(30 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.5)"


@pytest.fixture
def two_jobs(molq) -> tuple[str, str]:
    """A job holding 30 MiB of a 64M request, and one asking 2G for a sleep."""
    ids = []
    for mem, code in (("64M", HOLD), ("2G", "import time; time.sleep(0.2)")):
        result = molq("submit", "local", "--mem", mem, "--block", "--", sys.executable, "-c", code)
        assert result.returncode == 0, result.stderr
        match = JOB_LINE.search(result.stdout)
        assert match, result.stdout
        ids.append(match.group(1))
    return ids[0], ids[1]


def test_report_json_and_tsv(molq, two_jobs):
    """The summary counts both jobs, lists the 2G one as over-requesting, and TSV has a row each."""
    held, idle = two_jobs
    result = molq("report", "--json", "--no-fetch")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["jobs"], document["with_usage"]) == (2, 2)
    assert [o["job_id"] for o in document["over_requested"]] == [idle]
    by_id = {u["job_id"]: u["usage"] for u in document["usage"]}
    assert by_id[held]["requested_memory_bytes"] == 64 << 20
    assert 30 << 20 <= by_id[held]["max_rss_bytes"] < 64 << 20
    assert by_id[held]["memory_efficiency"] == by_id[held]["max_rss_bytes"] / (64 << 20)
    assert document["core_hours"] > 0
    tsv = molq("report", "--format", "tsv", "--no-fetch").stdout.splitlines()
    assert tsv[0].split("\t")[:3] == ["job_id", "state", "cpus"]
    assert {line.split("\t")[0] for line in tsv[1:]} == {held, idle}


def test_report_table_and_inspect(molq, two_jobs):
    """The table names the over-requesting job; inspect shows seff's lines for the other."""
    held, idle = two_jobs
    table = molq("report", "--no-fetch")
    assert table.returncode == 0, table.stderr
    assert "finished jobs:            2" in table.stdout
    assert f"  {idle}  used " in table.stdout
    assert "of 2.00 GiB" in table.stdout
    shown = molq("inspect", held[:10]).stdout
    assert "memory efficiency:" in shown
    assert "of 64.00 MiB" in shown
    assert "usage:             from rusage" in shown


def test_report_refuses_a_ratio_above_one(molq, error_line):
    """--ratio is a fraction: 2 is a usage error (exit 2)."""
    result = molq("report", "--ratio", "2")
    assert result.returncode == 2
    assert "ratio" in result.stderr


def test_report_on_an_empty_store(molq):
    """No finished jobs: zero counts, no medians, nobody over-requesting."""
    result = molq("report", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["jobs"], document["core_hours"], document["median_cpu_efficiency"]) == (0, 0.0, None)


def test_the_cli_default_ratio_is_the_library_one():
    """``molq report --ratio``'s default is summarise_usage's."""
    import inspect

    from molq import summarise_usage
    from molq.cli._report import OVER_REQUEST_RATIO

    assert inspect.signature(summarise_usage).parameters["ratio"].default == OVER_REQUEST_RATIO
