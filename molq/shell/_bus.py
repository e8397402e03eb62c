"""EventBus: in-process notification of lifecycle changes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from molq.core import JobRecord, JobState, StatusTransition


class EventType(str, enum.Enum):
    """Lifecycle events emitted through an EventBus."""

    STATUS_CHANGE = "status_change"
    JOB_STARTED = "job_started"
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"
    JOB_TIMEOUT = "job_timeout"
    JOB_TIMED_OUT = "job_timed_out"
    JOB_LOST = "job_lost"
    ALL_COMPLETED = "all_completed"


@attrs.frozen
class EventPayload:
    """What a handler receives."""

    event: EventType
    job_id: str | None = None
    transition: StatusTransition | None = None
    record: JobRecord | None = None
    data: Any = None


Handler = Callable[[EventPayload], object]

_BY_STATE: dict[JobState, tuple[EventType, ...]] = {
    JobState.RUNNING: (EventType.JOB_STARTED,),
    JobState.SUCCEEDED: (EventType.JOB_COMPLETED,),
    JobState.FAILED: (EventType.JOB_FAILED,),
    JobState.CANCELLED: (EventType.JOB_CANCELLED,),
    JobState.TIMED_OUT: (EventType.JOB_TIMED_OUT, EventType.JOB_TIMEOUT),
    JobState.LOST: (EventType.JOB_LOST,),
}


class EventBus:
    """Registers handlers per event type and calls them in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[EventType, list[Handler]] = {}

    def on(self, event: EventType | str, handler: Handler) -> None:
        """Call ``handler`` whenever ``event`` is emitted."""
        self._handlers.setdefault(EventType(event), []).append(handler)

    @property
    def has_handlers(self) -> bool:
        """Whether any handler is registered (emitters may skip building payloads otherwise)."""
        return any(self._handlers.values())

    def off(self, event: EventType | str, handler: Handler) -> None:
        """Stop calling ``handler`` for ``event`` (a no-op if it was not registered)."""
        handlers = self._handlers.get(EventType(event), [])
        if handler in handlers:
            handlers.remove(handler)

    def emit(self, event: EventType | str, data: EventPayload | Any = None) -> None:
        """Call every handler of ``event``; a handler's exception is raised after all ran."""
        kind = EventType(event)
        payload = data if isinstance(data, EventPayload) else EventPayload(event=kind, data=data)
        errors: list[BaseException] = []
        for handler in list(self._handlers.get(kind, [])):
            try:
                handler(payload)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def emit_transition(self, transition: StatusTransition, record: JobRecord) -> None:
        """Emit STATUS_CHANGE and the state-specific events for one transition."""
        kinds = (EventType.STATUS_CHANGE, *_BY_STATE.get(transition.new_state, ()))
        errors: list[BaseException] = []
        for kind in kinds:
            try:
                self.emit(kind, EventPayload(kind, transition.job_id, transition, record))
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
