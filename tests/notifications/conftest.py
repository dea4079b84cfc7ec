from __future__ import annotations

import pytest

from tests.notifications.receiver import Receiver


@pytest.fixture
def receiver(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True  # the receiver listens on 127.0.0.1
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def immediate(settings):
    """Deliveries run as they are enqueued (at commit), one attempt each: the worker's retries
    are tested with a real worker process."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.KODA_NOTIFY_RETRIES = 0
