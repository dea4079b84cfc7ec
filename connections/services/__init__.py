"""Writes to connections. HTML views, the JSON API, commands and admin actions all call these.

The rule at the heart of it (design §1): a credential is verified before it is stored, and a
credential that does not round-trip is never saved. A refused new credential leaves the stored
one, its defaults and its health untouched; the refused check is still recorded (as a candidate
snapshot) and audited, so a failed rotation is visible. One service does this for every auth
method; which methods a provider takes is decided here, from the adapter's declaration.

One module per lifecycle step (`configure`, `verify`, `defaults`), what they share in `common`;
callers import every service from here.
"""

from __future__ import annotations

from connections.services.common import (
    ConfirmationRequired,
    InvalidCredentialInput,
    NotConfigured,
    UnknownModel,
    UnsupportedAuthMethod,
)
from connections.services.configure import (
    Configured,
    connection_configure,
    connection_configure_credential,
    connection_credential,
    connection_disconnect,
    connection_method,
)
from connections.services.defaults import connection_set_default_model
from connections.services.verify import (
    REVERIFY_AFTER_REPORT,
    connection_record_report,
    connection_verify,
)

__all__ = [
    "REVERIFY_AFTER_REPORT",
    "Configured",
    "ConfirmationRequired",
    "InvalidCredentialInput",
    "NotConfigured",
    "UnknownModel",
    "UnsupportedAuthMethod",
    "connection_configure",
    "connection_configure_credential",
    "connection_credential",
    "connection_disconnect",
    "connection_method",
    "connection_record_report",
    "connection_set_default_model",
    "connection_verify",
]
