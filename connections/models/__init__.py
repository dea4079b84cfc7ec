"""Connections to providers (one per provider), the immutable record of every check, download
jobs, and the defaults chosen across providers."""

from connections.models.connection import THRESHOLD_UNITS, Connection, Status
from connections.models.health import HealthRollup, HealthSnapshot, Incident
from connections.models.work import (
    ACTIVE_JOB_STATUSES,
    ACTIVE_LOGIN_STATUSES,
    DownloadJob,
    FunctionDefault,
    JobKind,
    JobStatus,
    LoginSession,
    LoginStatus,
)

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "ACTIVE_LOGIN_STATUSES",
    "THRESHOLD_UNITS",
    "Connection",
    "DownloadJob",
    "FunctionDefault",
    "HealthRollup",
    "HealthSnapshot",
    "Incident",
    "JobKind",
    "JobStatus",
    "LoginSession",
    "LoginStatus",
    "Status",
]
