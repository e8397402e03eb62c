"""Submit-time validation of a spec against a scheduler's capabilities."""

from __future__ import annotations

from ._errors import ConfigError
from ._ports import SchedulerCapabilities
from ._spec import JobSpec


def unsupported_fields(spec: JobSpec, caps: SchedulerCapabilities) -> list[str]:
    """Names of the fields set in ``spec`` that ``caps`` cannot honour."""
    res, sch, exe = spec.resources, spec.scheduling, spec.execution
    requested = {
        "resources.cpu_count": res.cpu_count is not None,
        "resources.memory": res.memory is not None,
        "resources.time_limit": res.time_limit is not None,
        "resources.gpu_count": res.gpu_count is not None,
        "resources.gpu_type": res.gpu_type is not None,
        "scheduling.partition": sch.partition is not None,
        "scheduling.account": sch.account is not None,
        "scheduling.priority": sch.priority is not None,
        "scheduling.dependencies": bool(sch.dependencies) or sch.dependency is not None,
        "scheduling.node_count": sch.node_count is not None,
        "scheduling.exclusive_node": sch.exclusive_node,
        "scheduling.array_spec": sch.array_spec is not None,
        "scheduling.email": sch.email is not None,
        "scheduling.qos": sch.qos is not None,
        "scheduling.reservation": sch.reservation is not None,
        "scheduling.extra_flags": bool(sch.extra_flags),
        "execution.output_file": exe.output_file is not None,
        "execution.error_file": exe.error_file is not None,
        "execution.job_name": exe.job_name is not None,
    }
    return [name for name, wanted in requested.items() if wanted and not getattr(caps, name.split(".")[1])]


def check_capabilities(spec: JobSpec, caps: SchedulerCapabilities, scheduler: str) -> None:
    """Raise ConfigError naming every field ``scheduler`` cannot honour.

    Raises:
        ConfigError: at least one requested field is unsupported.
    """
    bad = unsupported_fields(spec, caps)
    if bad:
        msg = f"the {scheduler} scheduler does not support {', '.join(bad)}"
        if "scheduling.extra_flags" in bad:
            msg += " (raw scheduler flags are written as sbatch/qsub/bsub directives; it has none)"
        raise ConfigError(msg)
