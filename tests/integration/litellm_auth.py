"""LiteLLM's custom-auth hook for tests/integration/test_litellm_proxy.py: the proxy cannot keep
virtual keys without its database, so each key's state is played by raising LiteLLM's own
exceptions, exactly as its auth checks do. As in LiteLLM, the model list and /key/info are
exempt from budget checks (that exemption is what the budget proof exists for)."""

import litellm
from fastapi import Request
from litellm.proxy._types import ProxyErrorTypes, ProxyException, UserAPIKeyAuth


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    key = api_key.removeprefix("Bearer ").strip()
    exempt = request.url.path.endswith(("/models", "/key/info"))
    if key.startswith("sk-good"):
        return UserAPIKeyAuth(api_key=key)
    if key.startswith("sk-budget"):
        if exempt:
            return UserAPIKeyAuth(api_key=key)
        raise litellm.BudgetExceededError(current_cost=10.0003, max_budget=10.0)
    if key.startswith("sk-blocked"):
        raise ProxyException(
            message="Authentication Error, Key is blocked. Update via `/key/unblock` if you're "
            "an admin.",
            type=ProxyErrorTypes.auth_error,
            param="None",
            code=401,
        )
    if key.startswith("sk-expired"):
        raise ProxyException(
            message="Authentication Error - Expired Key. Key Expiry time 2026-11-01 "
            "00:00:00+00:00 and current time 2026-12-01 09:00:00+00:00",
            type=ProxyErrorTypes.expired_key,
            param=None,
            code=400,
        )
    if key.startswith("sk-nodb"):
        raise ProxyException(
            message="No connected db.", type=ProxyErrorTypes.no_db_connection, param=None, code=400
        )
    raise ProxyException(
        message="Authentication Error, Invalid proxy server token passed. Unable to find token "
        "in cache or `LiteLLM_VerificationTokenTable`",
        type=ProxyErrorTypes.token_not_found_in_db,
        param="key",
        code=401,
    )
