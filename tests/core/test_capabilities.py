"""Submit-time refusal of spec fields a scheduler cannot honour (e.g. a GPU on the local backend)."""

from __future__ import annotations

import pytest

from molq.core import ConfigError, JobSpec
from molq.core._ports import SchedulerCapabilities
from molq.core._spec import DependencyRef, JobExecution, JobResources, JobScheduling
from molq.core._validate import check_capabilities, unsupported_fields


NOTHING = SchedulerCapabilities(cpu_count=False, memory=False, time_limit=False, output_file=False,
                                error_file=False, job_name=False)
FIELDS = {
    "resources.cpu_count": JobResources(cpu_count=2),
    "resources.memory": JobResources(memory="1G"),
    "resources.time_limit": JobResources(time_limit="1h"),
    "resources.gpu_count": JobResources(gpu_count=1),
    "resources.gpu_type": JobResources(gpu_count=1, gpu_type="a100"),
    "scheduling.partition": JobScheduling(partition="p"),
    "scheduling.account": JobScheduling(account="a"),
    "scheduling.priority": JobScheduling(priority="high"),
    "scheduling.dependencies": JobScheduling(dependencies=[DependencyRef("j0")]),
    "scheduling.node_count": JobScheduling(node_count=2),
    "scheduling.exclusive_node": JobScheduling(exclusive_node=True),
    "scheduling.array_spec": JobScheduling(array_spec="1-3"),
    "scheduling.email": JobScheduling(email="a@b.c"),
    "scheduling.qos": JobScheduling(qos="q"),
    "scheduling.reservation": JobScheduling(reservation="r"),
    "execution.output_file": JobExecution(output_file="o.log"),
    "execution.error_file": JobExecution(error_file="e.log"),
    "execution.job_name": JobExecution(job_name="n"),
}
EVERYTHING = SchedulerCapabilities(**{name.split(".")[1]: True for name in FIELDS})


def spec(part=None) -> JobSpec:
    kind = {JobResources: "resources", JobScheduling: "scheduling", JobExecution: "execution"}
    return JobSpec("argv", argv=("true",), **({kind[type(part)]: part} if part is not None else {}))


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_each_field_set_is_refused_when_unsupported(name):
    """Each field, when set, is named if the scheduler cannot honour it, and only then."""
    requested = spec(FIELDS[name])
    expected = ["resources.gpu_count", name] if name == "resources.gpu_type" else [name]
    assert unsupported_fields(requested, NOTHING) == expected
    assert unsupported_fields(requested, EVERYTHING) == []


def test_an_empty_spec_asks_for_nothing():
    """A spec with only a command needs no capability."""
    assert unsupported_fields(spec(), NOTHING) == []


def test_a_raw_dependency_string_needs_the_capability():
    """A raw scheduler dependency string also needs dependency support."""
    requested = spec(JobScheduling(dependency="afterok:1"))
    assert unsupported_fields(requested, NOTHING) == ["scheduling.dependencies"]


def test_refusal_names_the_scheduler_and_every_field():
    """The error names the scheduler and every unsupported field, in order."""
    requested = JobSpec(
        "argv", argv=("true",), resources=JobResources(gpu_count=1), scheduling=JobScheduling(partition="p")
    )
    with pytest.raises(ConfigError) as info:
        check_capabilities(requested, SchedulerCapabilities(), "local")
    assert str(info.value) == "the local scheduler does not support resources.gpu_count, scheduling.partition"


def test_supported_spec_passes():
    """Nothing is raised when every field is supported."""
    check_capabilities(spec(JobResources(cpu_count=2)), SchedulerCapabilities(), "local")
