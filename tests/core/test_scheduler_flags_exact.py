"""Which raw scheduler flags molq refuses, for which scheduler and when, in the exact words a user reads.

tests/core/test_scheduler_flags.py shows the merge works; this file pins the whole table of
flags a typed field owns on each scheduler (refused only while that field is set, with a
message naming the flag and the field), and the exact lines and warnings of the merge.
"""

from __future__ import annotations

from typing import Any

import pytest

from molq.core import ConfigError, JobResources, JobScheduling, JobSpec, Script
from molq.core._sched._directives import PREFIXES
from molq.core._sched._flags import dropped_warning, plan_flags
from molq.core._sched._lsf import render_lsf_script
from molq.core._sched._pbs import render_pbs_script
from molq.core._sched._slurm import render_slurm_script


JOB_DIR = "/scratch/molq/jobs/j1"
RENDER = {"slurm": render_slurm_script, "pbs": render_pbs_script, "lsf": render_lsf_script}

# One value for each typed field, as a user would set it.
FIELD: dict[str, dict[str, Any]] = {
    "scheduling.partition": {"partition": "debug"},
    "scheduling.account": {"account": "proj"},
    "scheduling.qos": {"qos": "high"},
    "scheduling.reservation": {"reservation": "maint"},
    "scheduling.priority": {"priority": "10"},
    "scheduling.node_count": {"node_count": 2},
    "scheduling.exclusive_node": {"exclusive_node": True},
    "scheduling.email": {"email": "ada@example.org"},
    "resources.cpu_count": {"resources": JobResources(cpu_count=2)},
    "resources.time_limit": {"resources": JobResources(time_limit="1h")},
    "resources.gpu_count": {"resources": JobResources(gpu_count=1)},
    "resources.memory": {"resources": JobResources(memory="1G")},
}

# (scheduler, the flag as a user writes it, the flag molq names, the typed field that owns it)
TYPED = [
    ("slurm", "--partition=gpu", "--partition", "scheduling.partition"),
    ("slurm", "-p gpu", "--partition", "scheduling.partition"),
    ("slurm", "--account=other", "--account", "scheduling.account"),
    ("slurm", "-A other", "--account", "scheduling.account"),
    ("slurm", "--qos=low", "--qos", "scheduling.qos"),
    ("slurm", "--reservation=other", "--reservation", "scheduling.reservation"),
    ("slurm", "--nice=5", "--nice", "scheduling.priority"),
    ("slurm", "--nodes=4", "--nodes", "scheduling.node_count"),
    ("slurm", "-N 4", "--nodes", "scheduling.node_count"),
    ("slurm", "--exclusive", "--exclusive", "scheduling.exclusive_node"),
    ("slurm", "--mail-user=bob@example.org", "--mail-user", "scheduling.email"),
    ("slurm", "--mail-type=ALL", "--mail-type", "scheduling.email"),
    ("slurm", "--cpus-per-task=8", "--cpus-per-task", "resources.cpu_count"),
    ("slurm", "-c 8", "--cpus-per-task", "resources.cpu_count"),
    ("slurm", "--time=5", "--time", "resources.time_limit"),
    ("slurm", "-t 5", "--time", "resources.time_limit"),
    ("slurm", "--gres=gpu:2", "--gres", "resources.gpu_count"),
    ("slurm", "--mem=2G", "--mem", "resources.memory"),
    ("slurm", "--mem-per-cpu=2G", "--mem-per-cpu", "resources.memory"),
    ("slurm", "--mem-per-gpu=2G", "--mem-per-gpu", "resources.memory"),
    ("pbs", "-q long", "-q", "scheduling.partition"),
    ("pbs", "-A other", "-A", "scheduling.account"),
    ("pbs", "-p 5", "-p", "scheduling.priority"),
    ("pbs", "-M bob@example.org", "-M", "scheduling.email"),
    ("pbs", "-m abe", "-m", "scheduling.email"),
    ("pbs", "-n", "-n", "scheduling.exclusive_node"),
    ("pbs", "-l place=scatter", "-l place", "scheduling.exclusive_node"),
    ("pbs", "-l walltime=00:05:00", "-l walltime", "resources.time_limit"),
    ("pbs", "-l select=2:ncpus=4", "-l select", "resources.cpu_count"),
    ("pbs", "-l ncpus=4", "-l ncpus", "resources.cpu_count"),
    ("pbs", "-l mem=2gb", "-l mem", "resources.memory"),
    ("pbs", "-l vmem=2gb", "-l vmem", "resources.memory"),
    ("pbs", "-l ngpus=2", "-l ngpus", "resources.gpu_count"),
    ("pbs", "-l mpiprocs=4", "-l mpiprocs", "resources.gpu_count"),
    ("pbs", "-l nodes=2:ppn=4", "-l nodes", "scheduling.node_count"),
    ("pbs", "-l ompthreads=2", "-l ompthreads", "scheduling.node_count"),
    ("lsf", "-q long", "-q", "scheduling.partition"),
    ("lsf", "-P other", "-P", "scheduling.account"),
    ("lsf", "-sp 5", "-sp", "scheduling.priority"),
    ("lsf", "-u bob@example.org", "-u", "scheduling.email"),
    ("lsf", "-N", "-N", "scheduling.email"),
    ("lsf", "-x", "-x", "scheduling.exclusive_node"),
    ("lsf", '-R "span[hosts=1]"', "-R span", "scheduling.node_count"),
    ("lsf", "-n 8", "-n", "scheduling.node_count"),
    ("lsf", "-n 8", "-n", "resources.cpu_count"),
    ("lsf", "-M 2000", "-M", "resources.memory"),
    ("lsf", '-R "rusage[mem=2000]"', "-R rusage", "resources.memory"),
    ("lsf", "-W 10", "-W", "resources.time_limit"),
    ("lsf", "-gpu num=2", "-gpu", "resources.gpu_count"),
]

# Typed fields a scheduler has no such flag for: they own nothing there.
NOT_OWNED = [
    ("pbs", "-l walltime=00:05:00", "scheduling.partition"),
    ("pbs", "-q long", "scheduling.qos"),
    ("pbs", "-q long", "scheduling.reservation"),
    ("lsf", "-q long", "scheduling.qos"),
    ("lsf", "-q long", "scheduling.reservation"),
    ("slurm", "--constraint=intel", "resources.memory"),
]


def spec(*flags: str, directives: tuple[str, ...] = (), **fields: Any) -> JobSpec:
    resources = fields.pop("resources", JobResources())
    return JobSpec(
        command_type="script",
        script=Script.path("/home/ada/job.sh"),
        scheduling=JobScheduling(extra_flags=flags, **fields),
        resources=resources,
        cwd="/scratch/ada",
        script_directives=directives,
    )


def header(dialect: str, script: str) -> list[str]:
    return [line for line in script.split("\n") if line.startswith(PREFIXES[dialect])]


def refusal(flag: str, key: str, source: str) -> str:
    return f"scheduler flag {flag!r} sets {key}, but {source}: leave it out (or use molq's own field)"


class TestTypedFieldsOwnTheirFlags:
    @pytest.mark.parametrize(("dialect", "flag", "key", "field"), TYPED)
    def test_refused_while_the_field_is_set(self, dialect, flag, key, field):
        """The message names the flag as the user wrote it, the flag molq sets and the field."""
        with pytest.raises(ConfigError) as info:
            RENDER[dialect](spec(flag, **FIELD[field]), JOB_DIR)
        assert str(info.value) == refusal(flag, key, f"molq sets it from {field}")

    @pytest.mark.parametrize(("dialect", "flag", "key", "field"), TYPED)
    def test_the_users_while_no_field_is_set(self, dialect, flag, key, field):
        """With no typed field set, the same flag is written verbatim as the last directive line."""
        assert header(dialect, RENDER[dialect](spec(flag), JOB_DIR))[-1] == f"{PREFIXES[dialect]} {flag}"

    @pytest.mark.parametrize(("dialect", "flag", "field"), NOT_OWNED)
    def test_a_field_owns_only_its_own_flags(self, dialect, flag, field):
        """A field set on a scheduler that has no flag for it (or for another flag) leaves the flag free."""
        assert header(dialect, RENDER[dialect](spec(flag, **FIELD[field]), JOB_DIR))[-1] == f"{PREFIXES[dialect]} {flag}"

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"resources": JobResources(cpu_count=2, memory="1G", gpu_count=1), "node_count": 2}, "resources.cpu_count"),
            ({"resources": JobResources(memory="1G", gpu_count=1), "node_count": 2}, "resources.memory"),
            ({"resources": JobResources(gpu_count=1), "node_count": 2}, "resources.gpu_count"),
        ],
    )
    def test_pbs_chunk_names_the_first_field_that_sets_it(self, fields, field):
        """PBS: several fields write one select chunk; the refusal names the first of
        cpu_count, memory, gpu_count, node_count that is set."""
        with pytest.raises(ConfigError) as info:
            render_pbs_script(spec("-l mpiprocs=4", **fields), JOB_DIR)
        assert str(info.value) == refusal("-l mpiprocs=4", "-l mpiprocs", f"molq sets it from {field}")

    def test_lsf_slots_name_cpu_count_before_node_count(self):
        """LSF: with both cpu_count and node_count, -n is refused as cpu_count's."""
        with pytest.raises(ConfigError) as info:
            render_lsf_script(spec("-n 8", node_count=2, resources=JobResources(cpu_count=4)), JOB_DIR)
        assert str(info.value) == refusal("-n 8", "-n", "molq sets it from resources.cpu_count")

    def test_slurm_abbreviation_of_a_typed_flag_is_refused(self):
        """sbatch takes '--parti' for '--partition': molq refuses it as --partition."""
        with pytest.raises(ConfigError) as info:
            render_slurm_script(spec("--parti=gpu", partition="debug"), JOB_DIR)
        assert str(info.value) == refusal("--parti=gpu", "--partition", "molq sets it from scheduling.partition")

    def test_the_first_owned_flag_of_a_text_is_named(self):
        """A text setting a free flag and then an owned one is refused for the owned one."""
        with pytest.raises(ConfigError) as info:
            render_pbs_script(spec("-r y -A other", account="proj"), JOB_DIR)
        assert str(info.value) == refusal("-r y -A other", "-A", "molq sets it from scheduling.account")


class TestFlagTextsChecked:
    def test_lsf_refuses_mixed_quotes(self):
        """bsub reads one kind of quote per #BSUB line, so an LSF flag mixing them is refused."""
        flag = "-R \"select[type==any]\" -J 'x'"
        with pytest.raises(ConfigError) as info:
            render_lsf_script(spec(flag), JOB_DIR)
        assert str(info.value) == f"scheduler flag {flag!r} mixes ' and \": bsub reads one kind of quote per #BSUB line"

    def test_slurm_and_pbs_take_mixed_quotes(self):
        """The same mix is fine where the scheduler reads it (sbatch, qsub)."""
        flag = "--comment=\"it's\""
        assert header("slurm", render_slurm_script(spec(flag), JOB_DIR))[-1] == f"#SBATCH {flag}"
        flag = "-v A=\"it's\""
        assert header("pbs", render_pbs_script(spec(flag), JOB_DIR))[-1] == f"#PBS {flag}"


class TestScriptDirectivesMerged:
    def test_lines_after_an_unwritable_directive_are_still_read(self):
        """A directive molq cannot write is dropped alone: the script's next lines are kept."""
        plan = plan_flags(spec(directives=("-A x\\", "-l place=scatter", "-r y")), "pbs")
        assert plan.options == ("-l place=scatter", "-r y")
        assert plan.lines("pbs") == ["#PBS -l place=scatter", "#PBS -r y"]
        assert [text for text, _ in plan.dropped] == ["-A x\\"]

    def test_slurm_abbreviation_in_a_script_is_dropped(self):
        """'#SBATCH --out=…' sets molq's --output (sbatch expands it): dropped, with the reason."""
        plan = plan_flags(spec(directives=("--out=mine.log", "--comment=kept")), "slurm")
        assert plan.options == ("--comment=kept",)
        assert plan.dropped == (
            ("--out=mine.log", "it sets --output, and molq sets the output path (use JobExecution.output_file)"),
        )

    def test_every_kept_flag_is_in_the_plan_keys(self):
        """The plan knows every flag the kept lines and extra flags set (a default yields to them)."""
        plan = plan_flags(spec("-l ncpus=2,mem=1gb", directives=("-l place=scatter", "-r y")), "pbs")
        assert plan.keys == frozenset({"-l place", "-r", "-l ncpus", "-l mem"})

    def test_an_unsplittable_directive_sets_no_keys(self):
        """A script line molq cannot split is kept for the scheduler, and molq's default chunk stays."""
        lines = header("pbs", render_pbs_script(spec(directives=("-l select=2 'open",)), JOB_DIR))
        assert lines[-2:] == ["#PBS -l select=1:ncpus=1", "#PBS -l select=2 'open"]

    def test_exact_merged_header(self):
        """molq's lines, the script's kept lines in order, then the extra flags, each verbatim."""
        script = render_slurm_script(
            spec(
                "--constraint=intel",
                directives=("--ntasks-per-node=2", "--time=10", "--gres=gpu:1", "-o mine.log"),
                resources=JobResources(time_limit="1h"),
            ),
            JOB_DIR,
        )
        assert header("slurm", script) == [
            "#SBATCH --job-name=molq-j1",
            f"#SBATCH --output={JOB_DIR}/stdout",
            f"#SBATCH --error={JOB_DIR}/stderr",
            "#SBATCH --chdir=/scratch/ada",
            "#SBATCH --time=01:00:00",
            "#SBATCH --ntasks-per-node=2",
            "#SBATCH --gres=gpu:1",
            "#SBATCH --constraint=intel",
        ]

    @pytest.mark.parametrize(
        ("dialect", "text", "why", "warning"),
        [
            (
                "slurm",
                "--mem=4G",
                "it sets --mem, and molq sets it from resources.memory",
                "script directive '#SBATCH --mem=4G' is not used: it sets --mem, and molq sets it from resources.memory",
            ),
            (
                "pbs",
                "-N mine",
                "it sets -N, and molq sets the job name (use JobExecution.job_name)",
                "script directive '#PBS -N mine' is not used: it sets -N, and molq sets the job name (use JobExecution.job_name)",
            ),
        ],
    )
    def test_warning_for_each_dropped_line(self, dialect, text, why, warning):
        """The plan's reason becomes a warning quoting the directive line as it stood in the script."""
        fields = FIELD["resources.memory"] if dialect == "slurm" else {}
        plan = plan_flags(spec(directives=(text,), **fields), dialect)
        assert plan.dropped == ((text, why),)
        assert [dropped_warning(t, w, dialect) for t, w in plan.dropped] == [warning]
