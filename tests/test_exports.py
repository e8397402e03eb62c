"""The public surface: molq.__all__, the reference names and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import molq
import molq.strategies


REFERENCE_NAMES = {
    "Cluster",
    "Submitor",
    "JobHandle",
    "JobRecord",
    "JobState",
    "StatusTransition",
    "JobDependency",
    "QueueEntry",
    "Script",
    "Memory",
    "Duration",
    "JobResources",
    "JobScheduling",
    "JobExecution",
    "DependencyRef",
    "RetryBackoff",
    "RetryPolicy",
    "RetentionPolicy",
    "SubmitorDefaults",
    "EventType",
    "EventPayload",
    "EventBus",
    "MolqProfile",
    "MolqConfig",
    "load_config",
    "load_profile",
    "JobStore",
    "JobReconciler",
    "JobMonitor",
    "LocalTransport",
    "SshTransport",
    "SshTransportOptions",
    "Workspace",
    "Project",
}


def test_all_sorted():
    """molq.__all__ is sorted and has no duplicates."""
    assert molq.__all__ == sorted(set(molq.__all__))


@pytest.mark.parametrize("name", molq.__all__)
def test_every_name_resolves(name):
    """Every name in __all__ resolves on the package."""
    assert getattr(molq, name) is not None


def test_reference_names_exported():
    """Every name of the API reference is in molq.__all__."""
    assert set(molq.__all__) >= REFERENCE_NAMES


def test_unknown_name():
    """Unknown attributes raise AttributeError naming them."""
    with pytest.raises(AttributeError, match="no_such_thing"):
        molq.no_such_thing  # noqa: B018


def test_dir_lists_all():
    """dir(molq) lists the public names."""
    assert set(molq.__all__) <= set(dir(molq))


def test_polling_strategies():
    """molq.strategies exports the three polling strategies."""
    for name in ("FixedStrategy", "ExponentialBackoffStrategy", "AdaptiveStrategy"):
        assert name in molq.strategies.__all__
        assert hasattr(getattr(molq.strategies, name), "next_interval")
    assert molq.strategies.__all__ == sorted(molq.strategies.__all__)


def test_job_state():
    """JobState has the nine values and marks exactly five terminal."""
    values = {s.value for s in molq.JobState}
    assert values == {
        "created",
        "submitted",
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "timed_out",
        "lost",
    }
    terminal = {s.value for s in molq.JobState if s.is_terminal}
    assert terminal == {"succeeded", "failed", "cancelled", "timed_out", "lost"}


def test_core_names_are_the_same_objects():
    """Names re-exported from molq.core are the very same objects."""
    import molq.core

    for name in molq.__all__:
        if name in molq.core.__dict__:
            assert getattr(molq, name) is getattr(molq.core, name), name


def test_import_is_light():
    """``import molq`` loads neither sqlite_utils, rich nor click."""
    code = (
        "import sys, molq\nprint(','.join(m for m in ('sqlite_utils', 'rich', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
