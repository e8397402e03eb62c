"""Usage parsers against outputs captured from the real schedulers (tests/fixtures/usage/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core._sched._local_usage import local_usage, parse_rusage, parse_usage_probe, render_rusage
from molq.core._sched._lsf_usage import bjobs_usage_argv, parse_bjobs_usage
from molq.core._sched._pbs_parse import parse_qstat_full, parse_qstat_json
from molq.core._sched._pbs_usage import NO_MEMORY_SAMPLE, NO_RESOURCES_USED, pbs_usage, pbs_usage_many
from molq.core._sched._slurm_usage import (
    SCONTROL_NOTE,
    parse_req_mem,
    parse_sacct_usage,
    parse_scontrol_usage,
    sacct_usage_argv,
)
from molq.core._usage import JobUsage


FIXTURES = Path(__file__).parent.parent / "fixtures"
MIB = 1024**2


def captured(name: str, folder: str = "usage") -> str:
    """A fixture's text without its ``# ...`` header (ended by ``# ---``)."""
    return (FIXTURES / folder / name).read_text().split("# ---\n", 1)[1]


class TestSacct:
    def test_argv(self):
        """One sacct call for every job, parsable, no header, the usage fields."""
        argv = sacct_usage_argv(["1", "2"])
        assert argv[:3] == ("sacct", "-j", "1,2")
        assert "--parsable2" in argv
        assert "--noheader" in argv
        assert argv[-1].startswith("--format=JobID,Elapsed,TotalCPU,MaxRSS")

    def test_captured(self):
        """Job lines give time, CPU, request and cores; the peak RSS is the largest step's."""
        found = parse_sacct_usage(captured("slurm_sacct_usage.txt"), ["1", "2", "37", "38", "999999"])
        assert set(found) == {"1", "2", "37", "38"}  # 999999 is unknown to sacct
        long = found["2"]
        assert long == JobUsage(
            source="sacct",
            elapsed_seconds=39.0,
            cpu_seconds=1.311,
            max_rss_bytes=96884 * 1024,
            max_vmem_bytes=101084 * 1024,
            requested_memory_bytes=300 * MIB,
            cpus=1,
            nodes="vm",
            raw_state="COMPLETED",
            raw_exit="0:0",
        )
        assert long.memory_efficiency == pytest.approx(96884 * 1024 / (300 * MIB))

    def test_short_job_has_no_rss(self):
        """A job shorter than JobAcctGatherFrequency has no sample: MaxRSS stays unknown."""
        short = parse_sacct_usage(captured("slurm_sacct_usage.txt"), ["1"])["1"]
        assert short.max_rss_bytes is None
        assert short.cpu_seconds == pytest.approx(1.038)
        assert short.memory_efficiency is None

    def test_failed_and_cancelled(self):
        """Exit 3 and a scancel keep their state words; two CPUs with --mem-per-cpu=64M is 128M."""
        found = parse_sacct_usage(captured("slurm_sacct_usage.txt"), ["37", "38"])
        assert (found["37"].raw_state, found["37"].raw_exit) == ("FAILED", "3:0")
        assert found["38"].raw_state == "CANCELLED by 0"
        assert (found["38"].cpus, found["38"].requested_memory_bytes) == (2, 128 * MIB)

    def test_only_wanted_and_well_formed_lines(self):
        """Other jobs, steps without a job line and short lines are ignored."""
        text = "5|00:00:01|00:00.5|||1M|1|1|COMPLETED|0:0|vm\n6.batch|00:00:01|00:00.5|9K||||1|1|COMPLETED|0:0|vm\njunk\n"
        assert parse_sacct_usage(text, ["6"]) == {}
        assert parse_sacct_usage(text, ["7"]) == {}

    def test_peak_over_steps_with_and_without_samples(self):
        """The peak is the largest sampled step; an unsampled step after it does not erase it."""
        text = (
            "4|00:01:00|00:30.000|||1G|1|1|COMPLETED|0:0|vm\n"
            "4.batch|00:01:00|00:10.000|200M|300M||1|1|COMPLETED|0:0|vm\n"
            "4.0|00:00:50|00:20.000|500M|||1|1|COMPLETED|0:0|vm\n"
            "4.extern|00:01:00|00:00.000||||1|1|COMPLETED|0:0|vm\n"
        )
        usage = parse_sacct_usage(text, ["4"])["4"]
        assert (usage.max_rss_bytes, usage.max_vmem_bytes) == (500 * MIB, 300 * MIB)
        assert usage.memory_efficiency == pytest.approx(500 / 1024)

    def test_a_bad_line_or_another_job_does_not_stop_the_parse(self):
        """A short line or an unwanted job before a wanted one is skipped, not the end."""
        text = "junk|line\n6|00:00:01|00:00.5||||1|1|COMPLETED|0:0|vm\n5|00:00:02|00:01.5||||1|1|COMPLETED|0:0|vm\n"
        assert parse_sacct_usage(text, ["5"])["5"].cpu_seconds == 1.5

    def test_garbage_fields_are_none(self):
        """Unreadable cells become None rather than an error."""
        text = "9|bogus|??|x|y|z|many|n|RUNNING|0:0|\n"
        usage = parse_sacct_usage(text, ["9"])["9"]
        assert usage == JobUsage(source="sacct", raw_state="RUNNING", raw_exit="0:0")

    @pytest.mark.parametrize(
        ("text", "cpus", "nodes", "expected"),
        [
            ("200M", 1, 1, 200 * MIB),
            ("100Mn", 4, 2, 200 * MIB),
            ("64Mc", 2, 1, 128 * MIB),
            ("64Mc", None, 1, None),
            ("100Mn", 1, None, None),
            ("", 1, 1, None),
        ],
    )
    def test_req_mem(self, text, cpus, nodes, expected):
        """Old releases' per-node and per-CPU suffixes are multiplied out."""
        assert parse_req_mem(text, cpus=cpus, nodes=nodes) == expected


class TestScontrol:
    def test_captured(self):
        """The fallback's figures: run time, CPUs, MinMemoryNode times nodes; no CPU time or RSS."""
        usage = parse_scontrol_usage(captured("slurm_scontrol_show_job.txt"), ["269", "5"])
        assert set(usage) == {"269"}
        assert usage["269"] == JobUsage(
            source="scontrol",
            elapsed_seconds=2.0,
            requested_memory_bytes=100 * MIB,
            cpus=1,
            nodes="vm",
            raw_state="COMPLETED",
            raw_exit="0:0",
            note=SCONTROL_NOTE,
        )

    def test_per_cpu_request_and_job_name_with_equals(self):
        """MinMemoryCPU is multiplied by the CPUs; a JobName holding ``JobState=`` is not read."""
        text = (
            "JobId=7 JobName=JobState=FAKE\n   JobState=FAILED Reason=NonZeroExitCode\n   ExitCode=3:0\n"
            "   RunTime=00:01:00\n   NodeList=(null)\n   NumNodes=1 NumCPUs=4\n   MinMemoryCPU=1G\n"
        )
        usage = parse_scontrol_usage(text, ["7"])["7"]
        assert (usage.raw_state, usage.requested_memory_bytes, usage.nodes) == ("FAILED", 4 * 1024**3, None)

    def test_text_without_records(self):
        """Chunks that are not job records are skipped."""
        assert parse_scontrol_usage("No jobs in the system\n\nslurm_load_jobs error\n", ["1"]) == {}

    def test_no_memory_request(self):
        """MinMemoryNode=0 and no per-CPU figure: the request is unknown."""
        text = "JobId=8 JobName=x\n   JobState=COMPLETED\n   NumNodes=1 NumCPUs=1\n   MinMemoryNode=0\n"
        assert parse_scontrol_usage(text, ["8"])["8"].requested_memory_bytes is None


class TestPbs:
    def test_openpbs_text_and_json_agree(self):
        """``qstat -x -f`` and its ``-F json`` form give the same usage."""
        text = pbs_usage_many(parse_qstat_full(captured("openpbs_qstat_xf_usage.txt")), ["1"])
        js = pbs_usage_many(parse_qstat_json(captured("openpbs_qstat_xf_json_usage.txt")), ["1"])
        assert text == js
        usage = text["1"]
        assert usage.elapsed_seconds == 39.0
        assert usage.cpu_seconds == 0.0
        assert (usage.cpus, usage.requested_memory_bytes) == (1, 300 * MIB)
        assert (usage.nodes, usage.raw_state, usage.raw_exit) == ("pbshost/0", "F", "0")

    def test_mem_0kb_is_no_sample(self):
        """This MoM reports 0kb for every job: unknown with a note, never a 0 % efficiency."""
        usage = pbs_usage_many(parse_qstat_full(captured("openpbs_qstat_xf_usage.txt")), ["1.pbshost"])[
            "1.pbshost"
        ]
        assert usage.max_rss_bytes is None
        assert usage.note == NO_MEMORY_SAMPLE
        assert usage.memory_efficiency is None

    def test_sampled_job(self):
        """A MoM that sampled the job: its kb figures, its CPU time."""
        usage = pbs_usage(
            {
                "resources_used.cput": "00:01:30",
                "resources_used.mem": "102400kb",
                "resources_used.vmem": "204800kb",
                "resources_used.walltime": "00:03:00",
                "resources_used.ncpus": "2",
                "Resource_List.mem": "1gb",
            }
        )
        assert (usage.cpu_seconds, usage.max_rss_bytes, usage.max_vmem_bytes) == (90.0, 100 * MIB, 200 * MIB)
        assert usage.cpu_efficiency == 0.25
        assert usage.memory_efficiency == pytest.approx(100 / 1024)
        assert usage.note == ""

    def test_no_attributes(self):
        """An empty attribute set: no figures, empty state words, the Torque note."""
        usage = pbs_usage({})
        assert (usage.raw_state, usage.raw_exit, usage.nodes, usage.cpus) == ("", "", None, None)
        assert usage.note == NO_RESOURCES_USED

    def test_torque_wrappers_show_none(self):
        """Slurm's Torque wrappers keep no resources_used: only the CPU count, and a note saying so."""
        jobs = parse_qstat_full(captured("torque_qstat_f_finished.txt", "pbs"))
        found = pbs_usage_many(jobs, ["19"])
        assert found["19"].note == NO_RESOURCES_USED
        assert found["19"].cpus == 1
        assert found["19"].elapsed_seconds is None

    def test_unknown_ids_left_out(self):
        """Ids qstat did not print are absent."""
        assert pbs_usage_many(parse_qstat_full(captured("openpbs_qstat_xf_usage.txt")), ["77"]) == {}


class TestBjobs:
    def test_argv(self):
        """One bjobs call, finished jobs included, long unformatted form."""
        assert bjobs_usage_argv(["102", "103"]) == ("bjobs", "-a", "-l", "-UF", "102", "103")

    def test_openlava_finished(self):
        """CPU time from the Done line, run time from Started to Done, the MEMLIMIT request."""
        found = parse_bjobs_usage(captured("openlava_bjobs_l_usage.txt"), ["102", "103"])
        assert found["103"] == JobUsage(
            source="bjobs",
            elapsed_seconds=38.0,
            cpu_seconds=1.8,
            requested_memory_bytes=300000 * 1024,
            cpus=1,
            nodes="vm",
            raw_state="DONE",
        )
        assert found["102"].elapsed_seconds == 5.0
        assert found["102"].max_rss_bytes is None  # OpenLava forgets MEM once the job ends

    def test_openlava_bhist(self):
        """bhist -l (wrapped at 80 columns): the CPU time, RUN seconds from its summary, MEMLIMIT."""
        found = parse_bjobs_usage(captured("openlava_bhist_l_usage.txt"), ["102", "103"])
        assert (found["102"].elapsed_seconds, found["102"].cpu_seconds) == (5.0, 1.0)
        assert found["103"] == JobUsage(
            source="bjobs",
            elapsed_seconds=38.0,
            cpu_seconds=1.8,
            requested_memory_bytes=300000 * 1024,
            cpus=1,
        )

    def test_unreadable_summary_falls_back_to_the_event_lines(self):
        """A RUN cell that is no number leaves the Starting→Done span."""
        text = (
            "Job Id <12>, User <ada>, Project <default>, Command <x>\n"
            "Wed Dec  2 14:41:50: Starting (Pid 10521);\n"
            "Wed Dec  2 14:41:57: Done successfully. The CPU time used is 1.0 seconds;\n"
            "Summary of time in seconds spent in various states by  Wed Dec  2 14:41:57\n"
            "  PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL\n"
            "  1        0        -        0\n"
        )
        assert parse_bjobs_usage(text, ["12"])["12"].elapsed_seconds == 7.0

    def test_short_summary_row(self):
        """A summary row cut short has no RUN cell: the event lines decide."""
        text = (
            "Job Id <14>, User <ada>, Project <default>, Command <x>\n"
            "Wed Dec  2 14:41:50: Starting (Pid 1);\n"
            "Wed Dec  2 14:41:53: Done successfully. The CPU time used is 1.0 seconds;\n"
            "  PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL\n"
            "  1        0\n"
        )
        assert parse_bjobs_usage(text, ["14"])["14"].elapsed_seconds == 3.0

    def test_openlava_running_sample(self):
        """While the job runs, the last MEM sample is the peak molq can see."""
        usage = parse_bjobs_usage(captured("openlava_bjobs_l_running_usage.txt"), ["103"])["103"]
        assert usage.max_rss_bytes == 100 * MIB
        assert usage.elapsed_seconds is None  # not ended yet

    def test_ibm_max_mem_and_slots(self):
        """IBM LSF's MAX MEM wins over MEM samples; N Processors Requested is the core count."""
        text = (
            "Job <7>, User <ada>, Project <default>, Status <EXIT>, Queue <normal>, Command <x>\n"
            "Mon Dec 30 23:59:00: Submitted from host <h>, 4 Processors Requested;\n"
            " RUNLIMIT                MEMLIMIT\n"
            " 10.0 min of h           2 G\n"
            "Mon Dec 30 23:59:30: Started on 4 Hosts/Processors <h>;\n"
            "Tue Dec 31 00:01:30: Exited with exit code 1. The CPU time used is 240.0 seconds.\n"
            " MEM: 50 Mbytes;  SWAP: 60 Mbytes\n"
            " MAX MEM: 512 Mbytes;  AVG MEM: 300 Mbytes\n"
        )
        usage = parse_bjobs_usage(text, ["7"])["7"]
        assert (usage.cpus, usage.cpu_seconds, usage.elapsed_seconds) == (4, 240.0, 120.0)
        assert (usage.max_rss_bytes, usage.requested_memory_bytes) == (512 * MIB, 2 * 1024**3)
        assert usage.cpu_efficiency == 0.5
        assert usage.memory_efficiency == 0.25

    def test_new_year(self):
        """A run over New Year is mended by a year, not negative."""
        text = (
            "Job <8>, User <ada>, Project <default>, Status <DONE>, Queue <normal>, Command <x>\n"
            "Thu Dec 31 23:59:50: Started on <h>;\n"
            "Fri Jan  1 00:00:10: Done successfully. The CPU time used is 1.0 seconds.\n"
        )
        assert parse_bjobs_usage(text, ["8"])["8"].elapsed_seconds == 20.0

    def test_bare_memlimit_is_kib(self):
        """A MEMLIMIT without a unit is in KiB, as -M takes it."""
        text = "Job <13>, User <ada>, Project <default>, Status <DONE>, Queue <normal>, Command <x>\n MEMLIMIT\n 2048\n"
        assert parse_bjobs_usage(text, ["13"])["13"].requested_memory_bytes == 2 * MIB

    def test_impossible_dates_and_unreadable_limits(self):
        """A stamp that is no date gives no run time; a MEMLIMIT without a number, no request."""
        text = (
            "Job <11>, User <ada>, Project <default>, Status <DONE>, Queue <normal>, Command <x>\n"
            " MEMLIMIT\n"
            " unlimited\n"
            "Mon Feb 30 10:00:00: Started on <h>;\n"
            "Mon Feb 30 10:00:09: Done successfully. The CPU time used is 1.0 seconds.\n"
        )
        usage = parse_bjobs_usage(text, ["11"])["11"]
        assert (usage.elapsed_seconds, usage.requested_memory_bytes, usage.cpu_seconds) == (None, None, 1.0)

    def test_array_elements_and_others_ignored(self):
        """Array elements (``9[1]``) and jobs not asked for are left out."""
        text = (
            "Job <9[1]>, User <ada>, Project <default>, Status <DONE>, Queue <normal>, Command <x>\n"
            "Job <10>, User <ada>, Project <default>, Status <DONE>, Queue <normal>, Command <x>\n"
        )
        assert parse_bjobs_usage(text, ["9"]) == {}
        assert set(parse_bjobs_usage(text, ["10"])) == {"10"}


class TestLocal:
    def test_runner_round_trip(self):
        """The runner's wait4 figures come back as CPU seconds and bytes."""
        assert parse_rusage(render_rusage(1.25, 0.5, 2048)) == (1.75, 2048 * 1024)

    def test_times_builtin(self):
        """The sh wrapper's ``times``: the children's user + system time, no memory."""
        cpu, rss = parse_rusage("0m0.000000s 0m0.001000s\n0m3.010000s 0m0.020000s\n")
        assert cpu == pytest.approx(3.031)
        assert rss is None

    @pytest.mark.parametrize("text", ["", "garbage", "rusage utime=x", "0m1s"])
    def test_unreadable(self, text):
        """Anything else is unknown."""
        assert parse_rusage(text) == (None, None)

    def test_probe_lines(self):
        """The probe's lines map back to job dirs; a missing file is empty, strays are ignored."""
        out = (
            "molq-usage\t1\trusage utime=1 stime=0 maxrss_kib=1 \nmolq-usage\t2\t-\nmolq-usage\t9\tx\nnoise\n"
        )
        assert parse_usage_probe(out, ["/a", "/b"]) == {
            "/a": "rusage utime=1 stime=0 maxrss_kib=1 ",
            "/b": "",
        }

    def test_usage_from_the_runner_file(self):
        """The runner's file gives CPU time and peak RSS, and no note."""
        usage = local_usage(
            render_rusage(1.0, 0.5, 2048), elapsed_seconds=3.0, requested_memory_bytes=MIB, cpus=1
        )
        assert (usage.cpu_seconds, usage.max_rss_bytes, usage.note, usage.nodes) == (
            1.5,
            2 * MIB,
            "",
            "localhost",
        )
        assert usage.memory_efficiency == 2.0

    def test_usage_notes_a_missing_file(self):
        """No rusage file: the usage says so and keeps the facts molq passed in."""
        usage = local_usage("", elapsed_seconds=2.0, requested_memory_bytes=MIB, cpus=None)
        assert usage.cpu_seconds is None
        assert usage.note
        assert (usage.elapsed_seconds, usage.requested_memory_bytes) == (2.0, MIB)
