"""Hostile strings arrive byte-exact or are refused; none is ever executed.

Every payload, if a shell ever interpreted it, would create a canary file
``/tmp/PWNED-<random>``; the canary must never exist. Payloads go through argv, env
names and values, job names, cwd and file names, the local backend end to end, the
SLURM/PBS/LSF script renderers (run with /bin/sh), and the real SshTransport.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from molq import (
    Cluster,
    ConfigError,
    JobExecution,
    JobState,
    SshTransport,
    SshTransportOptions,
    Submitor,
    TransportError,
)
from molq.core import JobSpec
from molq.core._sched._lsf import render_lsf_script
from molq.core._sched._pbs import render_pbs_script
from molq.core._sched._slurm import render_slurm_script


CANARY = Path(f"/tmp/PWNED-{uuid.uuid4().hex}")
T = str(CANARY)
PAYLOADS = [
    f"$(touch {T})",
    f"`touch {T}`",
    f"; touch {T}",
    f"' ; touch {T}; '",
    f'" ; touch {T}; "',
    f"\ntouch {T}\n",
    f"&& touch {T} #",
    f"| touch {T}",
    f"${{IFS}}touch${{IFS}}{T}",
    "héllo wörld ✓ 日本語 \u202e",
    "-n",
    "--help",
    "back\\slash\\",
    "%s %n %%",
    "*",
    "~",
    "\t tab and spaces  ",
]
ECHO = [
    sys.executable,
    "-c",
    "import json, os, sys; print(json.dumps([sys.argv[1:], os.environ.get('MOLQ_PAYLOAD')]))",
]


@pytest.fixture(autouse=True)
def no_canary():
    CANARY.unlink(missing_ok=True)
    yield
    assert not CANARY.exists(), "a payload was executed by a shell"


def _ssh_ready() -> bool:
    done = subprocess.run(["ssh", "molq-test", "true"], capture_output=True, check=False, timeout=30)
    return done.returncode == 0


@pytest.mark.parametrize("payload", PAYLOADS)
def test_local_backend_passes_argv_env_name_and_dirs_byte_exact(payload, tmp_path, jobs_root):
    """argv, env value, job name, cwd and output file names with the payload: exact, never run."""
    cwd = tmp_path / f"cwd {payload.replace('/', '_').strip() or 'x'}"
    cwd.mkdir()
    sub = Submitor(Cluster("inj", "local"), jobs_dir=jobs_root)
    handle = sub.submit_job(
        argv=[*ECHO, payload, "x"],
        execution=JobExecution(
            cwd=str(cwd),
            env={"MOLQ_PAYLOAD": payload},
            job_name=payload,
            output_file="out " + payload.replace("/", "_").strip(),
        ),
    )
    record = handle.wait(timeout=60)
    assert record.state is JobState.SUCCEEDED, record
    out = Path(record.metadata["molq.stdout_path"])
    assert out.parent == cwd
    assert json.loads(out.read_text()) == [[payload, "x"], payload]
    sub.close()


@pytest.mark.parametrize("render", [render_slurm_script, render_pbs_script, render_lsf_script])
def test_batch_scripts_run_payloads_as_data(render, tmp_path):
    """Each batch renderer's script, run by /bin/sh, hands every payload over unchanged."""
    job_dir = tmp_path / "job dir ' ;"
    job_dir.mkdir()
    spec = JobSpec(
        command_type="argv",
        argv=(*ECHO, *PAYLOADS),
        cwd=str(tmp_path),
        execution=JobExecution(env={"MOLQ_PAYLOAD": PAYLOADS[0]}, job_name="job-name"),
    )
    script = tmp_path / "job.sh"
    script.write_text(render(spec, str(job_dir)))
    done = subprocess.run(["/bin/sh", str(script)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    out = job_dir / "stdout"  # LSF's script writes the job's output there itself (ADR 0020)
    assert json.loads(out.read_text() if out.exists() else done.stdout) == [PAYLOADS, PAYLOADS[0]]
    assert (job_dir / "exit_code").read_text() == "0\n"


@pytest.mark.parametrize("render", [render_slurm_script, render_pbs_script, render_lsf_script])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_job_names_stay_inside_their_directive(render, payload, tmp_path):
    """A hostile job name is rendered inside one directive line (or refused), never as a command."""
    spec = JobSpec(
        command_type="argv", argv=("true",), cwd=str(tmp_path), execution=JobExecution(job_name=payload)
    )
    try:
        script = render(spec, str(tmp_path))
    except ConfigError:
        return
    body = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert all(T not in line for line in body), script


@pytest.mark.parametrize("render", [render_slurm_script, render_pbs_script, render_lsf_script])
def test_hostile_job_dirs_render_quoted_or_are_refused(render, tmp_path):
    """A job dir holding $( ) and backticks: refused by directive-based schedulers or quoted."""
    spec = JobSpec(command_type="argv", argv=("true",), cwd=str(tmp_path))
    try:
        script = render(spec, f"{tmp_path}/$(touch {T}) `touch {T}`")
    except ConfigError:
        return
    script_path = tmp_path / "job.sh"
    script_path.write_text(script)
    subprocess.run(["/bin/sh", str(script_path)], capture_output=True, check=False, timeout=60)


@pytest.mark.parametrize(
    "bad",
    [
        {"argv": ["echo", "a\0b"]},
        {"command": "echo a\0b"},
        {"argv": ["true"], "execution": JobExecution(env={"A": "x\0y"})},
        {"argv": ["true"], "execution": JobExecution(env={"A;touch": "x"})},
        {"argv": ["true"], "execution": JobExecution(env={f"$(touch {T})": "x"})},
        {"argv": ["true"], "execution": JobExecution(env={"1A": "x"})},
        {"argv": ["true"], "execution": JobExecution(cwd="/tmp/a\0b")},  # regression: was ValueError
        {"argv": ["true"], "execution": JobExecution(output_file="out\0put")},  # regression: was ValueError
        {"argv": ["true"], "job_dir_name": ".."},
        {"argv": ["true"], "job_dir_name": "a/b"},
        {"argv": ["true"], "job_dir_name": "../escape"},
        {"argv": ["true"], "job_dir_name": "a\0b"},
        {"argv": ["true"], "job_dir_name": "a\nb"},
    ],
)
def test_unrepresentable_input_is_refused_before_anything_is_written(bad, tmp_path, jobs_root):
    """NUL bytes, bad env names and escaping job dir names: ConfigError, no record, no dir."""
    sub = Submitor(Cluster("inj", "local"), jobs_dir=jobs_root)
    with pytest.raises((ConfigError, TransportError)):
        sub.submit_job(**bad)
    assert sub.store.list_records(None) == []
    assert list(jobs_root.iterdir()) == []
    sub.close()


@pytest.mark.parametrize("host", ["-oProxyCommand=touch " + T, "-x", "a b", "host;touch " + T, "h\nx", ""])
def test_hosts_that_look_like_options_are_refused(host):
    """An ssh host starting with '-' or holding shell characters is a ConfigError."""
    with pytest.raises(ConfigError):
        Cluster("inj", "local", host=host)


@pytest.mark.parametrize("opts", [("-o", "StrictHostKeyChecking=no"), ("-oBatchMode=no",), ("-o", "a\nb")])
def test_ssh_options_that_weaken_checks_are_refused(opts):
    """Weakened host-key checking, interactive prompts and newlines never reach ssh."""
    with pytest.raises(ConfigError):
        SshTransportOptions(host="molq-test", ssh_opts=opts)


@pytest.mark.ssh
def test_ssh_transport_round_trips_payloads(tmp_path):
    """Through the real sshd: argv, env, cwd and file names arrive byte-exact; NUL is refused."""
    if not _ssh_ready():
        pytest.skip("no sshd (run shared/ci/sshd-up as root)")
    ssh = SshTransport(SshTransportOptions(host="molq-test"))
    cwd = tmp_path / "dir $(x) `y` ;"
    cwd.mkdir()
    done = ssh.run([*ECHO, *PAYLOADS], env={"MOLQ_PAYLOAD": PAYLOADS[1]}, cwd=str(cwd), timeout=60)
    assert done.ok, done.stderr
    assert json.loads(done.stdout) == [PAYLOADS, PAYLOADS[1]]
    for i, payload in enumerate(PAYLOADS):
        path = f"{cwd}/{i} {payload.replace('/', '_').replace(chr(10), '_')}"
        ssh.write_text(path, payload)
        assert ssh.read_text(path) == payload
        assert os.path.exists(path)
    with pytest.raises((TransportError, ConfigError)):
        ssh.run(["echo", "a\0b"], timeout=30)
