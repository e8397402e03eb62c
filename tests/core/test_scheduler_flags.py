"""Extra scheduler flags and a script's own directives, merged with molq's in the rendered scripts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import directive_dialects, flag_texts, script_texts

from molq.core import ConfigError, JobResources, JobScheduling, JobSpec, Script
from molq.core._sched._directives import PREFIXES, parse_directive_block
from molq.core._sched._flags import dropped_warning, owned_flags, plan_flags
from molq.core._sched._lsf import render_lsf_script
from molq.core._sched._pbs import render_pbs_script
from molq.core._sched._slurm import render_slurm_script


JOB_DIR = "/scratch/molq/jobs/j1"
DEFAULTS = ("#PBS -l select=1:ncpus=1", "#BSUB -n 1")  # molq's defaults that yield to a user's flag
RENDER = {
    "slurm": render_slurm_script,
    "pbs": render_pbs_script,
    "lsf": render_lsf_script,
}


def spec(*flags: str, directives: tuple[str, ...] = (), resources: JobResources | None = None, **scheduling) -> JobSpec:
    return JobSpec(
        command_type="script",
        script=Script.path("/home/ada/job.sh"),
        scheduling=JobScheduling(extra_flags=flags, **scheduling),
        resources=resources or JobResources(),
        cwd="/scratch/ada",
        script_directives=directives,
    )


def header(dialect: str, script: str) -> list[str]:
    return [line for line in script.split("\n") if line.startswith(PREFIXES[dialect])]


class TestExtraFlags:
    def test_slurm_flags_follow_molqs_directives_verbatim(self):
        """Each extra flag becomes one #SBATCH line after molq's, exactly as given."""
        script = render_slurm_script(spec("--constraint=intel", '--comment="two words"', "--ntasks-per-node=2"), JOB_DIR)
        assert header("slurm", script)[-3:] == [
            "#SBATCH --constraint=intel",
            '#SBATCH --comment="two words"',
            "#SBATCH --ntasks-per-node=2",
        ]

    def test_pbs_select_replaces_molqs_default_chunk(self):
        """A user's -l select (no typed chunk field) replaces molq's select=1:ncpus=1."""
        script = render_pbs_script(spec("-l select=2:ncpus=4:mpiprocs=4"), JOB_DIR)
        lines = header("pbs", script)
        assert "#PBS -l select=2:ncpus=4:mpiprocs=4" in lines
        assert "#PBS -l select=1:ncpus=1" not in lines

    def test_pbs_default_chunk_stays_without_user_chunk(self):
        """Flags that set no chunk resource leave molq's default select alone."""
        lines = header("pbs", render_pbs_script(spec("-l walltime=00:05:00", "-A proj"), JOB_DIR))
        assert lines[3:] == ["#PBS -l select=1:ncpus=1", "#PBS -l walltime=00:05:00", "#PBS -A proj"]

    def test_torque_nodes_replaces_default(self):
        """Torque: a user's -l nodes replaces molq's nodes=1:ppn=1."""
        lines = header("pbs", render_pbs_script(spec("-l nodes=1:ppn=2"), JOB_DIR, flavor="torque"))
        assert "#PBS -l nodes=1:ppn=1" not in lines
        assert lines[-1] == "#PBS -l nodes=1:ppn=2"

    def test_lsf_slots_replace_default_n(self):
        """LSF: a user's -n replaces molq's -n 1; -R span is kept quoted."""
        lines = header("lsf", render_lsf_script(spec("-n 2", '-R "span[hosts=1]"'), JOB_DIR))
        assert "#BSUB -n 1" not in lines
        assert lines[-2:] == ["#BSUB -n 2", '#BSUB -R "span[hosts=1]"']

    @pytest.mark.parametrize(
        ("dialect", "flag", "owned"),
        [
            ("slurm", "--output=/tmp/x", "--output"),
            ("slurm", "-o /tmp/x", "--output"),
            ("slurm", "--out=/tmp/x", "--output"),
            ("slurm", "-J name", "--job-name"),
            ("slurm", "--array=1-3", "--array"),
            ("slurm", "--dependency=afterok:1", "--dependency"),
            ("slurm", "--wait", "--wait"),
            ("slurm", "--parsable", "--parsable"),
            ("slurm", "--chdir=/", "--chdir"),
            ("pbs", "-N name", "-N"),
            ("pbs", "-o /tmp/x", "-o"),
            ("pbs", "-j oe", "-j"),
            ("pbs", "-J 1-3", "-J"),
            ("pbs", "-W depend=afterok:1", "-W depend"),
            ("pbs", "-W block=true", "-W block"),
            ("lsf", "-J name", "-J"),
            ("lsf", "-oo /tmp/x", "-oo"),
            ("lsf", "-w done(1)", "-w"),
            ("lsf", "-K", "-K"),
        ],
    )
    def test_flags_molq_always_sets_are_refused(self, dialect, flag, owned):
        """Output, job name, arrays, dependencies and waiting are molq's: the flag is refused by name."""
        with pytest.raises(ConfigError, match="molq sets") as info:
            RENDER[dialect](spec(flag), JOB_DIR)
        assert f"scheduler flag {flag!r} sets {owned}," in str(info.value)

    @pytest.mark.parametrize(
        ("dialect", "flag", "field", "kwargs"),
        [
            ("slurm", "--time=5", "resources.time_limit", {"resources": JobResources(time_limit="1h")}),
            ("slurm", "-p gpu", "scheduling.partition", {"partition": "debug"}),
            ("slurm", "--mem-per-cpu=1G", "resources.memory", {"resources": JobResources(memory="1G")}),
            ("pbs", "-l select=1:ncpus=4", "resources.cpu_count", {"resources": JobResources(cpu_count=2)}),
            ("pbs", "-l mem=1gb", "resources.memory", {"resources": JobResources(memory="1G")}),
            ("pbs", "-A other", "scheduling.account", {"account": "proj"}),
            ("lsf", '-R "span[ptile=2]"', "scheduling.node_count", {"node_count": 2}),
            ("lsf", "-n 4", "resources.cpu_count", {"resources": JobResources(cpu_count=2)}),
            ("lsf", "-W 10", "resources.time_limit", {"resources": JobResources(time_limit="1h")}),
        ],
    )
    def test_flags_a_typed_field_sets_are_refused(self, dialect, flag, field, kwargs):
        """A flag the typed fields already set is refused, naming the field."""
        with pytest.raises(ConfigError, match=f"molq sets it from {field}"):
            RENDER[dialect](spec(flag, **kwargs), JOB_DIR)

    def test_typed_field_unset_leaves_flag_free(self):
        """Without a partition, '-p gpu' is the user's to give."""
        assert header("slurm", render_slurm_script(spec("-p gpu"), JOB_DIR))[-1] == "#SBATCH -p gpu"

    def test_owned_flags_name_every_source(self):
        """owned_flags says where each flag comes from."""
        owned = owned_flags(spec(partition="gpu"), "slurm")
        assert owned["--partition"] == "molq sets it from scheduling.partition"
        assert owned["--output"] == "molq sets the output path (use JobExecution.output_file)"
        assert "--account" not in owned

    @given(flag_texts, directive_dialects)
    def test_hostile_flags_are_refused_or_stay_one_comment_line(self, flag, dialect):
        """Any flag is refused (ConfigError) or adds exactly one directive line, read back verbatim,
        while every other line of the script (the shell's part) is unchanged."""
        base = RENDER[dialect](spec(), JOB_DIR)
        try:
            script = RENDER[dialect](spec(flag), JOB_DIR)
        except ConfigError:
            return
        option = flag.strip(" \t")
        lines, base_lines = header(dialect, script), header(dialect, base)
        assert lines[-1] == f"{PREFIXES[dialect]} {option}"
        assert lines[:-1] in (base_lines, [line for line in base_lines if line not in DEFAULTS])
        prefix = PREFIXES[dialect]
        assert [x for x in script.split("\n") if not x.startswith(prefix)] == [
            x for x in base.split("\n") if not x.startswith(prefix)
        ]
        assert parse_directive_block(script, dialect)[-1] == option


class TestScriptDirectives:
    def test_kept_directives_come_before_extra_flags(self):
        """The script's own directives are written verbatim, then the extra flags."""
        lines = header("slurm", render_slurm_script(spec("--comment=extra", directives=("--constraint=a # why",)), JOB_DIR))
        assert lines[-2:] == ["#SBATCH --constraint=a # why", "#SBATCH --comment=extra"]

    def test_molq_wins_over_a_conflicting_directive(self):
        """A directive setting molq's output or a typed field is dropped, and the plan says why."""
        plan = plan_flags(
            spec(directives=("-o mine.log", "--time=10", "--comment=kept"), resources=JobResources(time_limit="1h")),
            "slurm",
        )
        assert plan.options == ("--comment=kept",)
        assert plan.dropped == (
            ("-o mine.log", "it sets --output, and molq sets the output path (use JobExecution.output_file)"),
            ("--time=10", "it sets --time, and molq sets it from resources.time_limit"),
        )

    def test_extra_flags_win_over_the_script(self):
        """A directive an extra flag also sets is dropped in favour of the extra flag."""
        plan = plan_flags(spec("--comment=b", directives=("--comment=a",)), "slurm")
        assert plan.options == ("--comment=b",)
        assert plan.dropped == (("--comment=a", "it sets --comment, and scheduling.extra_flags sets it ('--comment=b')"),)

    def test_script_select_replaces_default_chunk(self):
        """A script's '#PBS -l select=…' replaces molq's default chunk like an extra flag does."""
        lines = header("pbs", render_pbs_script(spec(directives=("-l select=1:ncpus=2:mpiprocs=2",)), JOB_DIR))
        assert "#PBS -l select=1:ncpus=1" not in lines
        assert lines[-1] == "#PBS -l select=1:ncpus=2:mpiprocs=2"

    def test_unsplittable_directive_is_kept_for_the_scheduler(self):
        """A script line molq cannot split (open quote) is the scheduler's to judge: kept as is."""
        assert plan_flags(spec(directives=('--comment="open',)), "slurm").options == ('--comment="open',)

    @pytest.mark.parametrize("text", ["-A x\\", "--comment=a\x0bb", "-N a\u2028b"])
    def test_directive_that_would_leave_its_line_is_dropped(self, text):
        """A script line ending in a backslash (it would swallow molq's next line) or holding a line
        separator is left out with a reason, never written."""
        plan = plan_flags(spec(directives=(text,)), "pbs")
        assert plan.options == ()
        assert plan.dropped == ((text, "molq cannot write it as one directive line (a control character or a final backslash)"),)

    def test_warning_names_the_line_and_the_winner(self):
        """The warning quotes the directive line, the flag and who sets it."""
        text = dropped_warning("-J mine", "it sets -J, and molq sets the job name", "lsf")
        assert text == "script directive '#BSUB -J mine' is not used: it sets -J, and molq sets the job name"


    @given(script_texts, directive_dialects)
    def test_any_script_merges_into_single_lines(self, text, dialect):
        """Whatever a script holds, its kept directives read back verbatim after molq's and the
        shell lines of the rendered script are the same as without them."""
        found = parse_directive_block(text, dialect)
        base = RENDER[dialect](spec(), JOB_DIR)
        script = RENDER[dialect](spec(directives=found), JOB_DIR)
        plan = plan_flags(spec(directives=found), dialect)
        prefix = PREFIXES[dialect]
        assert [x for x in script.split("\n") if not x.startswith(prefix)] == [
            x for x in base.split("\n") if not x.startswith(prefix)
        ]
        read_back = parse_directive_block(script, dialect)
        assert read_back[len(read_back) - len(plan.options):] == plan.options
        assert len(plan.options) + len(plan.dropped) == len(found)


class TestSpecField:
    def test_list_becomes_tuple(self):
        """extra_flags given as a list is stored as a tuple of stripped texts."""
        assert JobScheduling(extra_flags=[" --constraint=a "]).extra_flags == ("--constraint=a",)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", ["--constraint=a", 5, [3]])
    def test_wrong_types_are_refused(self, value):
        """A lone string (it would be split into letters) or non-strings are refused."""
        with pytest.raises(ConfigError, match=r"extra_flags must be a tuple of strings|must be a string"):
            JobScheduling(extra_flags=value)

    def test_line_break_refused_at_construction(self):
        """A line break is refused when the value is built, before any scheduler is chosen."""
        with pytest.raises(ConfigError, match="line break"):
            JobScheduling(extra_flags=("--comment=a\n#SBATCH --output=/tmp/x",))

    @given(st.lists(st.sampled_from(["--constraint=a", "-l select=1", '-R "span[hosts=1]"']), max_size=3))
    def test_event_round_trip(self, flags):
        """A spec with extra flags and directives survives encode/decode; empty ones are left out of the bytes."""
        from molq.core._events import JobCreated, decode_event, encode_event

        event = JobCreated(
            job_id="j", at=1.0, cluster_name="c", scheduler="slurm", root_job_id="j",
            spec=spec(*flags, directives=tuple(flags)),
        )
        data = encode_event(event)
        assert decode_event(data) == event
        assert (b'"extra_flags"' in data) == bool(flags)
        assert (b'"script_directives"' in data) == bool(flags)
