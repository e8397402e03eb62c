"""Properties of matrix expansion, flag tokenising and sweep planning."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from molq.core import JobSpec, JobState
from molq.core._sweep import expand_matrix, parse_arg_flags, parse_sweep_flags
from molq.core._sweep_events import SweepCell, SweepCellLaunched, SweepCreated
from molq.core._sweep_state import evolve_sweep, plan_sweep


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
scalars = st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.floats(allow_nan=False))
matrices = st.dictionaries(names, st.lists(scalars, min_size=1, max_size=3), min_size=1, max_size=4)
flag_values = st.text(alphabet=st.characters(blacklist_characters="\0"), max_size=8)


@given(matrices, st.dictionaries(names, scalars, max_size=3))
def test_expansion_is_the_cross_product(matrix, base):
    """One cell per combination, matrix values win, base args are kept, order follows the axes."""
    cells = expand_matrix(matrix, base)
    assert len(cells) == math.prod(len(v) for v in matrix.values())
    for cell in cells:
        assert set(cell) == set(matrix) | set(base)
        assert all(cell[k] == v for k, v in base.items() if k not in matrix)
    first = next(iter(matrix))
    stride = len(cells) // len(matrix[first])
    assert [cells[i * stride][first] for i in range(len(matrix[first]))] == matrix[first]


@given(st.lists(st.tuples(names, flag_values), max_size=6))
def test_arg_flags_round_trip_last_wins(pairs):
    """Rendering KEY=VALUE and parsing gives the last value per key, as strings."""
    parsed = parse_arg_flags([f"{k}={v}" for k, v in pairs])
    assert parsed == dict(pairs)


@given(
    st.lists(st.tuples(names, st.lists(flag_values.filter(lambda v: "," not in v), min_size=1)), max_size=5)
)
def test_sweep_flags_round_trip(axes):
    """Joining values with ',' and parsing splits them back (empty strings kept)."""
    parsed = parse_sweep_flags([f"{k}={','.join(vs)}" for k, vs in axes])
    assert parsed == dict(axes)


@given(
    st.integers(1, 8),
    st.integers(1, 4),
    st.lists(st.sampled_from([None, *JobState]), min_size=8, max_size=8),
    st.integers(0, 8),
)
def test_plan_never_exceeds_max_parallel(n, max_parallel, pool, launched_count):
    """After applying a plan, active cells never exceed max_parallel (unless already above)."""
    cells = tuple(SweepCell(index=i, job_id=f"c{i}") for i in range(n))
    created = SweepCreated(
        sweep_id="s",
        at=0,
        cluster_name="k",
        scheduler="local",
        spec=JobSpec("argv", argv=("x",)),
        job_dir="/d",
        cells=cells,
        max_parallel=max_parallel,
    )
    record = evolve_sweep(None, created)
    launched = list(range(min(launched_count, n)))
    for i in launched:
        record = evolve_sweep(record, SweepCellLaunched(sweep_id="s", at=1, index=i, job_id=f"c{i}"))
    states = {i: pool[i] for i in launched}
    active_before = sum(1 for s in states.values() if s is None or not s.is_terminal)
    events = plan_sweep(record, states, now=2)
    assert all(isinstance(e, SweepCellLaunched) for e in events)
    assert active_before + len(events) <= max(max_parallel, active_before)
    assert [e.index for e in events if isinstance(e, SweepCellLaunched)] == list(
        range(len(launched), len(launched) + len(events))
    )
