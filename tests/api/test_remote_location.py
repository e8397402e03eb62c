"""Remote paths are made absolute from the remote login dir and home, without a connection."""

from __future__ import annotations

import pytest

from molq import ConfigError, JobExecution, SubmitorDefaults, TransportError
from molq.api._submit_spec import RemoteLocation, SubmitRequest, build_spec


REMOTE = RemoteLocation(cwd="/home/ada/work", home="/home/ada")


def _build(jobs_dir: str | None, execution: JobExecution | None = None):
    request = SubmitRequest(argv=["true"], execution=execution)
    return build_spec(request, SubmitorDefaults(), job_id="j1", jobs_dir=jobs_dir, local=False, remote=REMOTE)


def test_tilde_jobs_dir_expands_to_remote_home():
    """``~/molq-jobs`` becomes ``$HOME/molq-jobs`` of the remote user, never a literal ``~``."""
    spec, job_dir = _build("~/molq-jobs")
    assert job_dir == "/home/ada/molq-jobs/j1"
    assert spec.metadata["molq.stdout_path"] == "/home/ada/molq-jobs/j1/stdout.log"


def test_no_cwd_is_the_remote_login_dir():
    """Without a cwd the job runs, and its artifacts live, under the remote login directory."""
    spec, job_dir = _build(None)
    assert spec.cwd == "/home/ada/work"
    assert job_dir == "/home/ada/work/.molq/jobs/j1"


def test_relative_cwd_and_outputs_resolve_against_remote_dirs():
    """A relative cwd joins the login dir; relative output files join the cwd; ``~`` output expands."""
    spec, _ = _build("jobs", JobExecution(cwd="runs/a", output_file="out.txt", error_file="~/err.txt"))
    assert spec.cwd == "/home/ada/work/runs/a"
    assert spec.metadata["molq.stdout_path"] == "/home/ada/work/runs/a/out.txt"
    assert spec.metadata["molq.stderr_path"] == "/home/ada/err.txt"


def test_tilde_user_form_is_refused():
    """``~bob/x`` names another user's home, which molq does not look up: a ConfigError, nothing written."""
    with pytest.raises(ConfigError, match="~bob/jobs"):
        _build("~bob/jobs")


@pytest.mark.parametrize("text", ["", "relative\n/home/ada\n", "/ok\n", "/ok\nnot-absolute\n", "garbage"])
def test_unusable_answer_from_remote_shell_is_a_transport_error(text):
    """A remote shell that does not print two absolute paths gives a TransportError naming the host."""
    with pytest.raises(TransportError, match="login1"):
        RemoteLocation.parse(text, host="login1")
