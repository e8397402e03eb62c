"""Every LSF command carries LSB_NTRIES=1 and a timeout; the setup file and options are honoured."""

from __future__ import annotations

import pytest

from molq.core import Completed, ConfigError
from molq.shell.schedulers._lsf import LSFScheduler, LSFSchedulerOptions
from molq.shell.transport._local import LocalTransport


class Recording(LocalTransport):
    """Answers like OpenLava with nothing queued, and records each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def run(self, argv, *, stdin=None, cwd=None, env=None, timeout=None):  # type: ignore[override]
        self.calls.append({"argv": tuple(argv), "env": dict(env or {}), "timeout": timeout})
        if "-V" in argv:
            return Completed(tuple(argv), 0, "", "OpenLava 4.0dev4, Dec  2 2026\n")
        return Completed(tuple(argv), 255, "", "Job <5> is not found\n")


def test_every_command_has_lsb_ntries_and_a_timeout():
    """OpenLava clients retry forever without LSB_NTRIES: molq sets it, and a timeout, on each call."""
    transport = Recording()
    sched = LSFScheduler(transport, LSFSchedulerOptions(timeout=7))
    sched.observe_many(["5"])
    sched.cancel("5")
    sched.list_queue()
    assert [c["argv"][0] for c in transport.calls] == ["bjobs", "bjobs", "bhist", "bkill", "bjobs"]
    assert all(c["env"] == {"LSB_NTRIES": "1"} and c["timeout"] == 7 for c in transport.calls)


def test_setup_file_is_sourced_before_each_command():
    """``setup`` wraps each command in ``sh -c '. FILE && exec "$@"'`` (for SSH logins without LSF)."""
    transport = Recording()
    sched = LSFScheduler(transport, LSFSchedulerOptions(setup="/opt/openlava/etc/openlava.sh", dialect="openlava"))
    sched.cancel("5")
    [call] = transport.calls
    assert call["argv"] == ("/bin/sh", "-c", '. "$0" && exec "$@"', "/opt/openlava/etc/openlava.sh", "bkill", "5")


def test_the_dialect_is_asked_once():
    """``bjobs -V`` runs once per scheduler, however many polls follow."""
    transport = Recording()
    sched = LSFScheduler(transport)
    sched.observe_many(["5"])
    sched.observe_many(["5"])
    assert sum("-V" in c["argv"] for c in transport.calls) == 1


def test_profile_options_are_typed():
    """setup and dialect come from a profile; an unknown dialect is a ConfigError naming the key."""
    from molq.api._config import scheduler_options_for

    options = scheduler_options_for("lsf", {"setup": "/etc/lsf.sh", "dialect": "ibm"})
    assert (options.setup, options.dialect) == ("/etc/lsf.sh", "ibm")
    with pytest.raises(ConfigError, match="dialect"):
        scheduler_options_for("lsf", {"dialect": "pbs"})


def test_missing_clients_name_the_setup_option(tmp_path, monkeypatch):
    """bjobs not on PATH (an SSH login without LSF's environment): the error says to set ``setup``."""
    from molq.core import TransportError

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TransportError, match="setup="):
        LSFScheduler(LocalTransport()).dialect()
