"""Issue 18: the core Transport protocol names the keywords the transports take, so typed user code checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from molq.core import Transport
from molq.shell.transport._local import LocalTransport


REPO = Path(__file__).resolve().parents[2]

mypy_api = pytest.importorskip("mypy.api")

USER_CODE = '''
from molq.core import Transport
from molq.shell.transport._local import LocalTransport
from molq.shell.transport._ssh import SshTransport
from molq.shell.transport._ssh_options import SshTransportOptions

TRANSPORTS: list[Transport] = [LocalTransport(), SshTransport(SshTransportOptions("host"))]


def stage(transport: Transport, here: str, there: str) -> str:
    transport.write_text(there + "/run.sh", "echo hi\\n", mode=0o755)
    transport.write_bytes(there + "/data.bin", b"x", mode=0o644)
    transport.upload(here, there, recursive=True, exclude=["*.tmp", "__pycache__"])
    transport.download(there, here, recursive=True, exclude=["*.log"])
    return transport.run(["cat"], input="text", timeout=5.0).stdout
'''


def test_mypy_strict_accepts_upstream_keywords_on_transport(tmp_path, monkeypatch):
    """``mypy --strict`` on code typed against ``Transport`` sees input=, mode= and exclude=."""
    module = tmp_path / "user_code.py"
    module.write_text(USER_CODE)
    monkeypatch.setenv("MYPYPATH", str(REPO))
    argv = ["--strict", "--follow-imports=silent", "--cache-dir", os.devnull, str(module)]  # no sqlite cache left behind
    out, err, status = mypy_api.run(argv)
    assert status == 0, out + err


def test_local_transport_satisfies_the_protocol():
    """The local transport still is a Transport (the protocol grew no method it lacks)."""
    assert isinstance(LocalTransport(), Transport)
