"""Errors of Python function jobs (``Submitor.submit_function``, ``JobHandle.result``).

Rules of this module:
  Rule 1: every error derives from MolqError (RuntimeMismatchError from ConfigError:
          nothing was written when it is raised).
  Rule 2: messages name the job, the state or the versions involved.
"""

from __future__ import annotations

from ._errors import ConfigError, MolqError


class RuntimeMismatchError(ConfigError):
    """The target's Python cannot run this function job (checked before submission).

    Its Python version, molq version or cloudpickle version differs from the
    submitting process's, or molq or cloudpickle is not importable there.
    ``.expected`` and ``.found`` map ``python``/``molq``/``cloudpickle`` to versions.
    """

    def __init__(self, message: str, *, expected: dict[str, str], found: dict[str, str]) -> None:
        super().__init__(message, expected=expected, found=found)
        self.expected = expected
        self.found = found

    def __reduce__(self) -> tuple[object, ...]:
        # Raised inside a job and sent back pickled: keyword-only fields need this.
        return (_mismatch, (str(self), self.expected, self.found))


class JobFailedError(MolqError):
    """A function job ended without a Python outcome: killed, timed out, lost or cancelled.

    ``.state`` is the final state's name (``"FAILED"``, ``"TIMED_OUT"``, ...),
    ``.exit_code`` and ``.reason`` are as recorded, ``.job_id`` is the attempt's id.
    """

    def __init__(self, message: str, *, job_id: str, state: str, exit_code: int | None, reason: str | None) -> None:
        super().__init__(message, job_id=job_id, state=state, exit_code=exit_code, reason=reason)
        self.job_id = job_id
        self.state = state
        self.exit_code = exit_code
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        return (_failed, (str(self), self.job_id, self.state, self.exit_code, self.reason))


def _mismatch(message: str, expected: dict[str, str], found: dict[str, str]) -> RuntimeMismatchError:
    return RuntimeMismatchError(message, expected=expected, found=found)


def _failed(message: str, job_id: str, state: str, exit_code: int | None, reason: str | None) -> JobFailedError:
    return JobFailedError(message, job_id=job_id, state=state, exit_code=exit_code, reason=reason)


class ResultUnavailableError(MolqError):
    """The job ran its function, but the outcome can no longer be read back.

    The job directory was cleaned and the outcome was too large to keep inline, the
    file does not match the hash recorded in the log, or it cannot be unpickled here.
    """


class RemoteTraceback(Exception):
    """The traceback of an exception raised inside a function job, as text.

    ``JobHandle.result()`` re-raises the job's exception with this as its
    ``__cause__``, so a traceback printed locally shows where it failed remotely.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'
