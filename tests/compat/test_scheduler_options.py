"""Issue 18: upstream's scheduler options classes, their command paths and extra flags, all honoured."""

from __future__ import annotations

import dataclasses

import pytest

from molq import (
    Cluster,
    ConfigError,
    JobStore,
    LocalSchedulerOptions,
    LSFSchedulerOptions,
    PBSSchedulerOptions,
    SlurmSchedulerOptions,
    Submitor,
)
from molq.core import Completed, JobSpec
from molq.shell.schedulers._lsf import LSFScheduler
from molq.shell.schedulers._pbs import PBSScheduler
from molq.shell.schedulers._slurm import SlurmScheduler
from molq.shell.transport._local import LocalTransport


class Recording(LocalTransport):
    """A local transport that records every command and answers as a scheduler would."""

    def __init__(self, stdout: str = "123\n") -> None:
        self.calls: list[tuple[str, ...]] = []
        self.stdout = stdout

    def run(self, argv, **_kwargs):  # type: ignore[override]
        self.calls.append(tuple(argv))
        return Completed(tuple(argv), 0, self.stdout, "")


SPEC = JobSpec("argv", argv=("true",), cwd="/tmp")


def test_options_classes_are_exported_with_upstream_fields():
    """The four classes come from molq with upstream's field names and defaults."""
    assert {f.name for f in dataclasses.fields(SlurmSchedulerOptions)} >= {
        "sbatch_path", "squeue_path", "scancel_path", "sacct_path", "extra_sbatch_flags"
    }
    pbs, lsf = PBSSchedulerOptions(), LSFSchedulerOptions()
    assert (pbs.qsub_path, pbs.qstat_path, pbs.qdel_path, pbs.tracejob_path, pbs.extra_qsub_flags) == (
        "qsub", "qstat", "qdel", "tracejob", ())
    assert (lsf.bsub_path, lsf.bjobs_path, lsf.bkill_path, lsf.bhist_path, lsf.extra_bsub_flags) == (
        "bsub", "bjobs", "bkill", "bhist", ())
    assert dataclasses.fields(LocalSchedulerOptions) == ()


def test_slurm_options_are_a_frozen_dataclass():
    """SlurmSchedulerOptions behaves as upstream's frozen dataclass."""
    options = SlurmSchedulerOptions()
    assert dataclasses.replace(options, sbatch_path="/x").sbatch_path == "/x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.sbatch_path = "/y"  # type: ignore[misc]


def test_slurm_paths_and_extra_flags_are_honoured(tmp_path):
    """sbatch/squeue/scancel paths and extra_sbatch_flags reach the commands run."""
    transport = Recording()
    options = SlurmSchedulerOptions(
        sbatch_path="/opt/slurm/sbatch", squeue_path="/opt/slurm/squeue", scancel_path="/opt/slurm/scancel",
        sacct_path="/opt/slurm/sacct", extra_sbatch_flags=("--qos=high",), extra_sbatch_args=("--requeue",),
    )
    scheduler = SlurmScheduler(transport, options)
    assert scheduler.submit(SPEC, str(tmp_path / "job")) == "123"
    submit = transport.calls[-1]
    assert submit[0] == "/opt/slurm/sbatch"
    assert submit[1:4] == ("--parsable", "--qos=high", "--requeue")
    scheduler.cancel("123")
    assert transport.calls[-1][0] == "/opt/slurm/scancel"
    transport.stdout = ""
    scheduler.poll_many(["123"])
    assert {call[0] for call in transport.calls[2:]} <= {"/opt/slurm/squeue", "/opt/slurm/sacct", "scontrol"}
    assert transport.calls[2][0] == "/opt/slurm/squeue"


def test_pbs_paths_and_extra_flags_are_honoured(tmp_path):
    """qsub/qdel/qstat paths and extra_qsub_flags reach the commands run."""
    transport = Recording(stdout="77.server\n")
    options = PBSSchedulerOptions(qsub_path="/pbs/qsub", qdel_path="/pbs/qdel", qstat_path="/pbs/qstat", extra_qsub_flags=("-V",))
    scheduler = PBSScheduler(transport, options)
    assert scheduler.prepare(SPEC, str(tmp_path / "job")).argv[:2] == ("/pbs/qsub", "-V")
    scheduler.cancel("77.server")
    assert transport.calls[-1][0] == "/pbs/qdel"
    transport.stdout = ""
    scheduler.list_queue()
    assert transport.calls[-1][0] == "/pbs/qstat"


def test_lsf_paths_and_extra_flags_are_honoured(tmp_path):
    """bsub/bkill/bjobs paths and extra_bsub_flags reach the commands run."""
    transport = Recording(stdout="")
    options = LSFSchedulerOptions(bsub_path="/lsf/bsub", bkill_path="/lsf/bkill", bjobs_path="/lsf/bjobs", extra_bsub_flags=("-G", "grp"))
    scheduler = LSFScheduler(transport, options)
    assert scheduler.prepare(SPEC, str(tmp_path / "job")).argv[:3] == ("/lsf/bsub", "-G", "grp")
    transport.stdout = "Job <7> is submitted to queue <normal>.\n"
    assert scheduler.submit(SPEC, str(tmp_path / "job")) == "7"
    assert transport.calls[-1][:3] == ("/lsf/bsub", "-G", "grp")  # submit runs what prepare shows
    transport.stdout = ""
    scheduler.cancel("5")
    assert transport.calls[-1][0] == "/lsf/bkill"
    scheduler.list_queue()
    assert transport.calls[-1][0] == "/lsf/bjobs"


@pytest.mark.parametrize(
    ("kind", "options"),
    [("slurm", PBSSchedulerOptions()), ("pbs", SlurmSchedulerOptions()), ("lsf", LocalSchedulerOptions()), ("local", SlurmSchedulerOptions())],
)
def test_options_of_the_wrong_class_raise_type_error(kind, options):
    """An options object of another scheduler's class is a TypeError at Cluster()."""
    with pytest.raises(TypeError, match="takes"):
        Cluster("c", kind, scheduler_options=options)


def test_local_cluster_takes_local_options(tmp_path):
    """Cluster(..., "local", scheduler_options=LocalSchedulerOptions()) submits as usual."""
    store = JobStore(":memory:")
    try:
        sub = Submitor(Cluster("c", "local", scheduler_options=LocalSchedulerOptions()), store=store)
        assert sub.submit_job(argv=["true"]).wait(timeout=30).exit_code == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [(PBSSchedulerOptions(), "qsub_path", "/pbs/qsub"), (LSFSchedulerOptions(), "bsub_path", "/lsf/bsub")],
)
def test_pbs_and_lsf_options_are_frozen_dataclasses(options, field, value):
    """replace, fields and asdict work on both classes, and assignment raises FrozenInstanceError."""
    changed = dataclasses.replace(options, **{field: value})
    assert getattr(changed, field) == value
    assert getattr(options, field) != value
    assert field in {f.name for f in dataclasses.fields(options)}
    assert dataclasses.asdict(changed)[field] == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(options, field, value)


@pytest.mark.parametrize(
    ("cls", "kwargs", "field"),
    [
        (PBSSchedulerOptions, {"chunk_size": 0}, "chunk_size"),
        (PBSSchedulerOptions, {"timeout": 0}, "timeout"),
        (PBSSchedulerOptions, {"flavor": "sge"}, "flavor"),
        (PBSSchedulerOptions, {"extra_qsub_flags": "-V"}, "extra_qsub_flags"),
        (PBSSchedulerOptions, {"qsub_path": ""}, "qsub_path"),
        (LSFSchedulerOptions, {"chunk_size": 0}, "chunk_size"),
        (LSFSchedulerOptions, {"timeout": -1.0}, "timeout"),
        (LSFSchedulerOptions, {"dialect": "sge"}, "dialect"),
        (LSFSchedulerOptions, {"extra_bsub_flags": [1]}, "extra_bsub_flags"),
        (LSFSchedulerOptions, {"setup": 3}, "setup"),
    ],
)
def test_bad_pbs_and_lsf_options_name_the_field(cls, kwargs, field):
    """A bad value is a ConfigError naming the class and field, raised where the object is built."""
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field} "):
        cls(**kwargs)


def test_extra_flags_given_as_a_list_become_a_tuple():
    """A list (as TOML and scripts give it) is kept as a tuple, so the options stay hashable."""
    pbs = PBSSchedulerOptions(extra_qsub_flags=["-V"])  # type: ignore[arg-type]
    lsf = LSFSchedulerOptions(extra_bsub_flags=["-x"])  # type: ignore[arg-type]
    assert (pbs.extra_qsub_flags, lsf.extra_bsub_flags) == (("-V",), ("-x",))
    assert hash(pbs) != hash(lsf)
