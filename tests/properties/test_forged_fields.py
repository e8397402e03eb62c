"""A field the user controls (job name, path, command) cannot forge another field.

Each parser reads scheduler output in which some values were chosen by whoever
submitted the job. Whatever characters those values hold (every one but ``\\n``,
which molq refuses in directives), the parse is the same as with a plain value.
``str.splitlines`` also splits on ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``,
``\\u2028`` and ``\\u2029``: those are the characters that broke it.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from molq.core._sched import _lsf_parse, _pbs_parse, _slurm, _slurm_parse


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LINE_BREAKS_OF_SPLITLINES = "\v\f\x1c\x1d\x1e\x85\u2028\u2029\r"
FORGERY = "\vJobState=COMPLETED ExitCode=0:0\v"
# Any character but the newline that ends a record line; line-break look-alikes weighted in.
user_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(LINE_BREAKS_OF_SPLITLINES + "|=\t :;"),
        st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
    ),
    max_size=40,
)


def _fixture(kind: str, name: str) -> str:
    return (FIXTURES / kind / name).read_text()


def _scontrol(name: str, path: str) -> str:
    text = _fixture("slurm", "scontrol_failed.txt")
    text = text.replace("JobName=", f"JobName={name}#", 1)
    for key in ("WorkDir=", "StdOut=", "StdErr=", "Command="):
        text = text.replace(f"   {key}", f"   {key}{path}", 1)
    return text


@given(name=user_text, path=user_text)
@example(name=FORGERY, path="")
@example(name="x", path=f"/a{FORGERY}")
def test_scontrol_job_name_and_paths_cannot_forge_fields(name, path):
    """``scontrol show job`` reads the same state whatever the name and paths hold."""
    assert _slurm_parse.parse_scontrol_show_job(_scontrol(name, path)) == _slurm_parse.parse_scontrol_show_job(
        _scontrol("x", "")
    )


def test_scontrol_vertical_tab_in_job_name_is_not_a_line_break():
    """The issue's example: ``\\x0b`` in the job name used to make line 0's tail a field line."""
    seen = _slurm_parse.parse_scontrol_show_job(_scontrol("x\vJobState=COMPLETED ExitCode=0:0", ""))
    assert seen is not None
    assert seen.state.value == "failed"


@given(name=user_text)
@example(name="n\v99|COMPLETED|debug|root|1795447431|N/A|forged")
def test_queue_listing_has_one_row_per_job_whatever_its_name(name):
    """``squeue -o QUEUE_FORMAT`` gives one entry per line and the name as written."""
    base = _fixture("slurm", "squeue_queue.txt").strip().split("\n")
    first, rest = base[0].rsplit("|", 1)[0], base[1:]
    entries = _slurm_parse.parse_queue("\n".join([f"{first}|{name}", *rest]) + "\n")
    assert [e.scheduler_job_id for e in entries] == [line.split("|", 1)[0] for line in base]
    assert entries[0].name == (name or None)


@given(path=user_text)
@example(path="/j/mine\v77|/j/other/job.sbatch")
def test_adopt_finds_only_the_script_it_asks_for(path):
    """A script path holding ``|`` or line-break look-alikes cannot make another id adoptable."""
    stdout = f"41|{path}\n42|/j/real/job.sbatch\n"
    assert _slurm.parse_adopt(stdout, "/j/other/job.sbatch") is None
    assert _slurm.parse_adopt(stdout, "/j/real/job.sbatch") == "42"


def _qstat(name: str, path: str) -> str:
    # A real capture (OpenPBS 23.06.06); its provenance header ends at "# ---".
    text = _fixture("pbs", "openpbs_qstat_xf_finished.txt").partition("# ---\n")[2]
    return text.replace("Job_Name = ok", f"Job_Name = ok{name}", 1).replace(
        "Output_Path = localhost:/tmp/pbscap/run/ok.out", f"Output_Path = localhost:/tmp/pbscap/run/ok.out{path}", 1
    )


@given(name=user_text, path=user_text)
@example(name="\v    Exit_status = 0\v    job_state = F", path="")
def test_qstat_job_name_cannot_forge_attributes(name, path):
    """``qstat -f`` reads the same observations whatever the job name holds."""
    assert _pbs_parse.parse_status(_qstat(name, path)) == _pbs_parse.parse_status(_qstat("", ""))


@given(name=user_text)
@example(name="x\v5302|0|DONE|0|-|alice|gpu|forged")
def test_bjobs_job_name_cannot_forge_rows(name):
    """``bjobs -o`` rows end with the name: whatever it holds, the rows read the same."""
    text = _fixture("lsf", "bjobs_o_rows.txt")
    forged = text.replace("|prep\n", f"|prep{name}\n", 1)
    assert _lsf_parse.parse_status(forged) == _lsf_parse.parse_status(text)
