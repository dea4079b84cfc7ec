"""Whatever a provider answers, verification ends in an outcome: never an exception, never the
key in the result. Odd bodies and headers seen in the wild, machine-readable fields winning over
text, and a property-based sweep over every HTTP adapter and method."""

from __future__ import annotations

import json
import logging
import re

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.registry import BUILTINS, PROVIDERS
from providers.values import Credential, Outcome
from providers.verification import HttpProvider

KEY = "sk-OddAnswersKey-0123456789abcdefWXYZ"


def verify(provider_id: str, answers: dict, method: str = "api_key", **values):
    """Verify with each path answered by (status, body, headers); others get a good `{}`."""
    provider = PROVIDERS[provider_id]

    def callback(request):
        path = request.path_url.split("?")[0]
        for suffix, (status, body, headers) in answers.items():
            if path.endswith(suffix):
                text = body if isinstance(body, str) else json.dumps(body)
                return status, {"Content-Type": "application/json", **headers}, text
        return 200, {"Content-Type": "application/json"}, "{}"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for verb in ("GET", "POST"):
            rsps.add_callback(verb, re.compile(r"https?://.*"), callback=callback)
        return provider.verify(Credential(method, values, {"api_key": KEY}))


@pytest.mark.parametrize(
    ("provider_id", "path", "body"),
    [
        ("kimi", "/users/me/balance", {"data": "x"}),
        ("kimi", "/users/me/balance", {"data": {"available_balance": [1, 2]}}),
        ("deepseek", "/user/balance", {"balance_infos": "x"}),
        ("deepseek", "/user/balance", {"is_available": False, "balance_infos": "x"}),
        ("ollama", "/api/balance", {"included": {"balance_usd": "lots"}}),
        ("ollama", "/api/balance", {"included": {"session": {"remaining_percent": "half"}}}),
        ("ollama", "/api/balance", {"included": "x", "purchased": 3}),
        ("openrouter", "/key", {"data": {"limit": 10, "limit_remaining": {"x": 1}}}),
        ("elevenlabs", "/v1/user/subscription", {"character_limit": "many", "character_count": 1}),
        ("xai", "/api-key", {"acls": "everything", "team_blocked": "no"}),
        ("groq", "/models", {"data": [{"id": None, "active": "yes"}, 7]}),
        ("google", "/models", {"models": [{"name": 5}]}),
        ("anthropic", "/v1/models", {"data": {"id": "x"}}),
    ],
)
def test_it_turns_a_wrongly_typed_body_into_an_outcome(provider_id, path, body):
    result = verify(provider_id, {path: (200, body, {})})
    assert isinstance(result.outcome, Outcome)
    assert result.outcome in (Outcome.UNEXPECTED_RESPONSE, Outcome.OK, Outcome.BILLING)
    assert KEY not in json.dumps(result.as_dict())


def test_it_reads_a_wrongly_typed_balance_as_unreadable_not_as_credit():
    for provider_id, path, body in (
        ("kimi", "/users/me/balance", {"data": "x"}),
        ("ollama", "/api/balance", {"included": {"balance_usd": "lots"}}),
        ("deepseek", "/user/balance", {"balance_infos": "x"}),
    ):
        result = verify(provider_id, {path: (200, body, {})})
        assert result.outcome == Outcome.UNEXPECTED_RESPONSE, (provider_id, result.message)
        assert "balance" in result.message


@pytest.mark.parametrize("retry_after", ["²", "9" * 5000, "-1", "soon"])
def test_it_reads_any_retry_after_without_crashing(retry_after):
    result = verify(
        "groq", {"/models": (429, {"error": {"message": "slow"}}, {"Retry-After": retry_after})}
    )
    assert result.outcome == Outcome.RATE_LIMITED and result.retry_after_seconds is None
    assert "Retry after" not in result.message


def test_it_reads_a_body_with_a_bogus_charset():
    models = {"object": "list", "data": [{"id": "llama-3.1-8b-instant", "active": True}]}
    answer = (200, models, {"Content-Type": "application/json; charset=bogus"})
    result = verify("groq", {"/models": answer})
    assert result.ok and [m.id for m in result.models] == ["llama-3.1-8b-instant"]


def test_an_adapter_bug_is_an_outcome_not_an_exception(monkeypatch):
    def broken(self, response, notes):
        raise RuntimeError(f"bug while reading {KEY}")

    monkeypatch.setattr(type(PROVIDERS["kimi"]), "_balance", broken)
    result = verify("kimi", {})
    assert result.outcome == Outcome.UNEXPECTED_RESPONSE and "RuntimeError" in result.message
    assert KEY not in json.dumps(result.as_dict())


# --- machine-readable fields win over message text (providers.md: match on fields first) ----


@pytest.mark.parametrize(
    ("provider_id", "path", "status", "body", "outcome"),
    [
        # Moonshot: the quota type, whatever the text says about suspension.
        (
            "kimi",
            "/users/me/balance",
            429,
            {
                "error": {
                    "type": "exceeded_current_quota_error",
                    "message": "Your account is suspended, please check your plan and "
                    "billing details",
                }
            },
            Outcome.BILLING,
        ),
        # Anthropic: a rate-limit type mentioning a spend limit is still rate limiting.
        (
            "anthropic",
            "/v1/models",
            429,
            {
                "type": "error",
                "error": {"type": "rate_limit_error", "message": "Over your spend limit rate"},
            },
            Outcome.RATE_LIMITED,
        ),
        (
            "anthropic",
            "/v1/models",
            529,
            {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "credit balance checks are slow"},
            },
            Outcome.PROVIDER_UNAVAILABLE,
        ),
        # OpenAI: the code says the key is wrong, the text happens to mention deactivation.
        (
            "openai",
            "/models",
            401,
            {
                "error": {
                    "message": "Incorrect API key provided. Keys of a deactivated account "
                    "look alike.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            Outcome.INVALID_CREDENTIALS,
        ),
        (
            "openai",
            "/models",
            429,
            {
                "error": {
                    "message": "You exceeded your current quota; insufficient permissions "
                    "to raise it.",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            Outcome.BILLING,
        ),
    ],
)
def test_machine_readable_fields_win_over_message_text(provider_id, path, status, body, outcome):
    result = verify(provider_id, {path: (status, body, {})})
    assert result.outcome == outcome, result.message


# --- property: anything in, an outcome out -----------------------------------------------------

HTTP_METHODS = [
    (provider_id, str(method.id))
    for provider_id, provider in BUILTINS.items()
    if isinstance(provider, HttpProvider)
    for method in provider.methods
    if method.id in ("api_key", "local_endpoint")
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Bodies shaped like the envelopes adapters read, with anything inside.
enveloped = st.fixed_dictionaries(
    {},
    optional={
        "error": json_values,
        "detail": json_values,
        "data": json_values,
        "models": json_values,
        "code": json_values,
        "type": json_values,
        "is_available": json_values,
        "balance_infos": json_values,
        "included": json_values,
        "purchased": json_values,
        "version": json_values,
    },
)
bodies = st.one_of(
    enveloped.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.sampled_from(["", "unauthorized\n", "<html><body>Not Found</body></html>", '{"data": [']),
)
answers = st.tuples(
    st.sampled_from(
        [200, 201, 204, 301, 400, 401, 402, 403, 404, 405, 408, 422, 429, 498, 500, 502, 503, 529]
    )
    | st.integers(100, 599),
    bodies,
    st.fixed_dictionaries(
        {
            "Content-Type": st.sampled_from(
                [
                    "application/json",
                    "application/json; charset=bogus",
                    "application/json; charset=utf-16",
                    "text/html",
                    "text/plain",
                    "",
                ]
            )
        },
        optional={"Retry-After": st.text(max_size=12) | st.integers(-5, 10**12).map(str)},
    ),
)


@pytest.mark.parametrize(("provider_id", "method"), HTTP_METHODS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=answers, second=answers)
def test_any_answer_ends_in_an_outcome_without_the_key(provider_id, method, answer, second):
    """The first probe gets one generated answer, every later request another. The adapters'
    own reading handles it: the last-resort net in Provider.verify (which logs) is never needed."""
    provider = PROVIDERS[provider_id]
    calls = []
    caught = _Collect()
    logging.getLogger("koda.verify").addHandler(caught)

    def callback(request):
        status, body, headers = answer if not calls else second
        calls.append(request.url)
        return status, {k: v for k, v in headers.items() if v}, body

    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            for verb in ("GET", "POST"):
                rsps.add_callback(verb, re.compile(r"https?://.*"), callback=callback)
            result = provider.verify(Credential(method, {}, {"api_key": KEY}))
    finally:
        logging.getLogger("koda.verify").removeHandler(caught)
    assert caught.records == [], caught.records[0].getMessage()
    assert isinstance(result.outcome, Outcome) and result.message
    assert result.ok == (result.outcome == Outcome.OK)
    dumped = json.dumps(result.as_dict())
    assert KEY not in dumped and KEY[:12] not in dumped and KEY[-12:] not in dumped


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
