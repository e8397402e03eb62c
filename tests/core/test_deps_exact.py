"""compile_dependencies when the job's own id is known (the usual case at submission)."""

from __future__ import annotations

import pytest

from molq.core import DependencyCycle
from molq.core._deps import compile_dependencies
from molq.core._spec import DependencyRef


def test_other_jobs_compile_when_the_own_id_is_given():
    """Knowing the job's own id does not refuse dependencies on other jobs."""
    native, edges = compile_dependencies([DependencyRef("up")], {"up": "41"}, "slurm", job_id="me")
    assert native == "afterok:41"
    assert [e.dependency_job_id for e in edges] == ["up"]


def test_depending_on_itself_is_a_cycle():
    """A job that names itself is refused with DependencyCycle."""
    with pytest.raises(DependencyCycle, match="job me cannot depend on itself"):
        compile_dependencies([DependencyRef("me")], {"me": "41"}, "slurm", job_id="me")
