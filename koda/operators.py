"""Operators are Django users with staff status (so Django admin works for audits)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser


def is_operator(user: AbstractBaseUser | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def operator_create(*, username: str, password: str) -> AbstractBaseUser:
    """Create an operator (a staff superuser) or raise ValueError if the username is taken."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValueError(f"an operator named {username!r} already exists")
    return User.objects.create_superuser(username=username, email="", password=password)


def operator_ensure(*, username: str = "", password: str = "") -> tuple[str, str] | None:
    """Make sure an operator exists (start-up). Returns (username, password) only when one was
    generated, so the caller can print it once; returns None when nothing was generated."""
    User = get_user_model()
    if User.objects.filter(is_staff=True, is_active=True).exists():
        return None
    if username and password:
        operator_create(username=username, password=password)
        return None
    username = username or "operator"
    generated = secrets.token_urlsafe(18)
    operator_create(username=username, password=generated)
    return username, generated
