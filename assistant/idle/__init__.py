"""System-wide idle detection and the conditions that gate sleep-time thinking.

Pure Python: nothing here imports Qt at module level (the D-Bus backends import
QtDBus inside the call that needs it). The GUI marshals `IdleMonitor` callbacks,
which run on the monitor's polling thread.
"""

from assistant.idle.backends import (
    AppActivityBackend,
    BackendUnavailable,
    Candidate,
    IdleBackend,
    IdleQueryError,
    ProbeResult,
    platform_candidates,
    probe_backend,
)
from assistant.idle.conditions import (
    BudgetCondition,
    Condition,
    CpuLoadCondition,
    CpuSample,
    FullscreenCondition,
    PauseCondition,
    PowerCondition,
    Verdict,
    check_all,
    evaluate,
)
from assistant.idle.coordinator import ThinkingCoordinator
from assistant.idle.gate import Sensors, ThinkingGate
from assistant.idle.monitor import IdleMonitor
from assistant.idle.status import Status, StatusTracker, ThinkingState

__all__ = [
    "AppActivityBackend",
    "BackendUnavailable",
    "BudgetCondition",
    "Candidate",
    "Condition",
    "CpuLoadCondition",
    "CpuSample",
    "FullscreenCondition",
    "IdleBackend",
    "IdleMonitor",
    "IdleQueryError",
    "PauseCondition",
    "PowerCondition",
    "ProbeResult",
    "Sensors",
    "Status",
    "StatusTracker",
    "ThinkingCoordinator",
    "ThinkingGate",
    "ThinkingState",
    "Verdict",
    "check_all",
    "evaluate",
    "platform_candidates",
    "probe_backend",
]
