"""``molq sweep`` / ``molq sweeps`` (invoked directly until registered in molq.cli)."""

from __future__ import annotations

from click.testing import CliRunner

from molq.cli._sweep import sweep, sweeps


def test_sweep_runs_cells_and_lists_them(tmp_path):
    """--sweep axes and --arg values fill the template; --block waits; sweeps shows counts."""
    out = tmp_path / "o"
    out.mkdir()
    runner = CliRunner()
    result = runner.invoke(
        sweep,
        [
            "local",
            "--sweep",
            "x=a,b",
            "--arg",
            "y=k=v",
            "--max-parallel",
            "2",
            "--block",
            "--timeout",
            "60",
            "--",
            "sh",
            "-c",
            f"echo {{y}} > {out}/{{x}}",
        ],
        standalone_mode=False,
    )
    assert result.exception is None, result.output
    assert result.return_value == 0
    sweep_id = result.output.splitlines()[0]
    assert "succeeded" in result.output
    assert (out / "a").read_text() == "k=v\n"
    listed = runner.invoke(sweeps, [sweep_id[:8]], standalone_mode=False)
    assert listed.output.startswith(sweep_id)
    assert "succeeded=2" in listed.output


def test_arg_colliding_with_sweep_is_refused():
    """--arg KEY and --sweep KEY together are a clear error, nothing submitted."""
    result = CliRunner().invoke(
        sweep, ["local", "--sweep", "x=1", "--arg", "x=2", "--", "true"], standalone_mode=False
    )
    assert "either fixed or swept" in str(result.exception)


def test_list_and_inspect_show_sweeps(molq):
    """`molq list` lists sweeps under the jobs; `inspect` on a cell names its sweep."""
    done = molq("sweep", "local", "--sweep", "n=1,2", "--block", "--", "echo", "{n}", timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    listing = molq("list", "--all", "--no-refresh")
    assert "Sweeps:" in listing.stdout
    assert "succeeded" in listing.stdout.split("Sweeps:", 1)[1]
    assert "2 cells" in listing.stdout
    cell = listing.stdout.split("\n")[1].split()[0]  # piped: a header, then one line per job
    inspected = molq("inspect", cell)
    assert "sweep:" in inspected.stdout
    assert "cell " in inspected.stdout
