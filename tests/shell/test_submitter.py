"""Submitter tokens: naming the submitting process, and telling when it is gone (ADR 0022)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from molq.shell._submitter import submitter_gone, submitter_token


def test_this_process_is_not_gone():
    """The token of the running process names it and is not gone."""
    token = submitter_token()
    host, pid, start, namespace = token.split(" ")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert start != "-"
    assert namespace.startswith("pid:")
    assert not submitter_gone(token)


def test_an_ended_process_is_gone():
    """A token of a process that has exited is gone."""
    done = subprocess.run(
        [sys.executable, "-c", "from molq.shell._submitter import submitter_token; print(submitter_token())"],
        capture_output=True, text=True, check=True,
    )
    assert submitter_gone(done.stdout.strip())


def test_a_reused_pid_is_gone():
    """A live pid whose start time differs from the token's is another process: gone."""
    host, pid, start, namespace = submitter_token().split(" ")
    assert submitter_gone(f"{host} {pid} {start}0 {namespace}")


def test_another_host_cannot_be_known():
    """A token of another host is never taken for gone."""
    assert not submitter_gone("elsewhere.example 1 - -")
    assert not submitter_gone("garbage")


def test_another_pid_namespace_cannot_be_known():
    """A token of a container sharing the host name (another pid namespace) is never gone."""
    host, _, start, _ = submitter_token().split(" ")
    assert not submitter_gone(f"{host} 999999999 {start} pid:[1]")
