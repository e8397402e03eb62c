"""The errors of function jobs: fields, messages, and a pickle round trip (they travel back from jobs)."""

from __future__ import annotations

import pickle

from molq.core import (
    ConfigError,
    JobFailedError,
    MolqError,
    RemoteTraceback,
    ResultUnavailableError,
    RuntimeMismatchError,
)


def test_runtime_mismatch_is_a_config_error_with_both_sides():
    """RuntimeMismatchError keeps what was expected and found, and is a ConfigError."""
    error = RuntimeMismatchError("differs", expected={"python": "3.11"}, found={"python": "3.9"})
    assert isinstance(error, ConfigError)
    assert str(error) == "differs"
    assert error.expected == {"python": "3.11"}
    assert error.found == {"python": "3.9"}
    assert error.context == {"expected": {"python": "3.11"}, "found": {"python": "3.9"}}


def test_runtime_mismatch_survives_pickle():
    """Raised inside a job, it comes back whole."""
    error = RuntimeMismatchError("differs", expected={"molq": "1"}, found={"molq": "2"})
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(back) is RuntimeMismatchError
    assert (str(back), back.expected, back.found) == ("differs", {"molq": "1"}, {"molq": "2"})


def test_job_failed_fields_and_pickle():
    """JobFailedError names the attempt, state, exit code and reason; it pickles."""
    error = JobFailedError("ended", job_id="j1", state="TIMED_OUT", exit_code=None, reason="limit")
    assert isinstance(error, MolqError)
    assert not isinstance(error, ConfigError)
    assert (error.job_id, error.state, error.exit_code, error.reason) == ("j1", "TIMED_OUT", None, "limit")
    assert error.context == {"job_id": "j1", "state": "TIMED_OUT", "exit_code": None, "reason": "limit"}
    killed = JobFailedError("killed", job_id="j2", state="FAILED", exit_code=137, reason="signal")
    back = pickle.loads(pickle.dumps(killed))  # noqa: S301 - our own bytes
    assert type(back) is JobFailedError
    assert (str(back), back.job_id, back.state, back.exit_code, back.reason) == ("killed", "j2", "FAILED", 137, "signal")
    assert back.context == killed.context


def test_result_unavailable_is_a_molq_error():
    """ResultUnavailableError is a plain MolqError."""
    assert issubclass(ResultUnavailableError, MolqError)
    assert not issubclass(ResultUnavailableError, ConfigError)


def test_remote_traceback_prints_the_text_quoted():
    """RemoteTraceback keeps the text and prints it between triple quotes (as concurrent.futures)."""
    cause = RemoteTraceback("Traceback ...\nValueError: x\n")
    assert cause.text == "Traceback ...\nValueError: x\n"
    assert str(cause) == '\n"""\nTraceback ...\nValueError: x\n"""'
    assert not isinstance(cause, MolqError)
