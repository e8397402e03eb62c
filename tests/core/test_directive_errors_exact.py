"""A value that cannot go into a #PBS / #BSUB directive is refused with the name of the field the user set."""

from __future__ import annotations

import pytest

from molq.core._errors import ConfigError
from molq.core._sched._lsf import render_lsf_script
from molq.core._sched._pbs import qsub_argv, render_pbs_script
from molq.core._spec import JobExecution, JobResources, JobScheduling, JobSpec


DIR = "/w/jobs/abc123"


def spec(**kw: object) -> JobSpec:
    return JobSpec("argv", argv=("true",), **kw)  # type: ignore[arg-type]


FIELDS = [
    ("partition", {"scheduling": JobScheduling(partition="a\nb")}),
    ("account", {"scheduling": JobScheduling(account="a\nb")}),
    ("dependency", {"scheduling": JobScheduling(dependency="a\nb")}),
    ("email", {"scheduling": JobScheduling(email="a\nb")}),
]


@pytest.mark.parametrize(("field", "kw"), FIELDS)
@pytest.mark.parametrize("render", [render_pbs_script, render_lsf_script])
def test_newline_in_a_directive_names_the_field(render: object, field: str, kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        render(spec(**kw), DIR)  # type: ignore[operator]
    assert str(info.value).startswith(f"{field} value 'a\\nb' has a newline or NUL")


@pytest.mark.parametrize("render", [render_pbs_script, render_lsf_script])
def test_bad_priority_names_the_field(render: object) -> None:
    with pytest.raises(ConfigError) as info:
        render(spec(scheduling=JobScheduling(priority="top")), DIR)  # type: ignore[operator]
    assert str(info.value).startswith("priority must be an integer from ")


def test_lsf_field_names() -> None:
    with pytest.raises(ConfigError) as info:
        render_lsf_script(spec(resources=JobResources(gpu_count=1, gpu_type="a\nb")), DIR)
    assert str(info.value).startswith("gpu value ")
    assert "#BSUB -J a_b" in render_lsf_script(spec(execution=JobExecution(job_name="a\nb")), DIR)  # cleaned, not refused
    with pytest.raises(ConfigError) as info:
        render_lsf_script(spec(), "/w/a\nb")
    assert str(info.value).startswith("job dir value ")
    with pytest.raises(ConfigError) as info:
        render_lsf_script(spec(), "/w/%J")
    assert "job dir" in str(info.value)
    assert "LSF" in str(info.value)


def test_lsf_array_name_already_quoted_is_kept() -> None:
    text = render_lsf_script(spec(execution=JobExecution(job_name="a b"), scheduling=JobScheduling(array_spec="1-2")), DIR)
    assert '#BSUB -J "a_b[1-2]"' in text
    assert f"cd {DIR}" in text or DIR in text.split("exec >>", 1)[1]


def test_torque_path_errors_name_the_path() -> None:
    with pytest.raises(ConfigError) as info:
        qsub_argv("/w/j", flavor="torque", logs=("/w/o o", "/w/e"))
    assert str(info.value).startswith("stdout path '/w/o o' has spaces")
    with pytest.raises(ConfigError) as info:
        qsub_argv("/w/j", flavor="torque", logs=("/w/o", "/w/e e"))
    assert str(info.value).startswith("stderr path '/w/e e' has spaces")
    with pytest.raises(ConfigError) as info:
        qsub_argv("/w/j j", flavor="torque", logs=("/w/o", "/w/e"))
    assert str(info.value).startswith("script path '/w/j j' has spaces")
