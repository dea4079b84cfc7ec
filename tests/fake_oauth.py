"""A fake of both sign-ins, served over real HTTP on 127.0.0.1: Claude's OAuth token endpoint,
profile and model list, and ChatGPT's device flow, token endpoint and backend. Shapes and error
bodies follow providers.md §1b and §2b.

    /claude/v1/oauth/token        JSON code exchange and refresh (refresh tokens rotate)
    /claude/api/oauth/profile     Bearer + anthropic-beta: oauth-2025-04-20
    /claude/v1/models             the model list (a "claude_code_only" token gets the 400)
    /auth/api/accounts/deviceauth/usercode, /auth/api/accounts/deviceauth/token
    /auth/oauth/token             form code exchange, JSON refresh
    /chatgpt/wham/usage, /chatgpt/codex/models

`paste_approve(authorize_url)` plays the operator on Claude's page: it answers the `code#state`
the page would show. `device_approve(user_code)` / `device_deny` / `device_expire` play the
operator at OpenAI. Knobs: `fail_probe` (valid tokens refused by the probe), `claude_code_only`,
`refresh_delay` (a slow token endpoint, to make two refreshes overlap), `expires_in`, `down`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.fake_http import QuietHandler

CLAUDE_MODELS = {
    "data": [
        {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5"},
        {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5"},
    ],
    "has_more": False,
}
CODEX_MODELS = {"models": [{"slug": "gpt-5-codex", "display_name": "GPT-5 Codex"}]}
CLAUDE_CODE_ONLY = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "This credential is only authorized for use with Claude Code and cannot be "
        "used for other API requests.",
    },
}
OAUTH_UNSUPPORTED = {
    "type": "error",
    "error": {
        "type": "authentication_error",
        "message": "OAuth authentication is currently not supported.",
    },
}
INVALID_TOKEN = {
    "type": "error",
    "error": {"type": "authentication_error", "message": "Invalid bearer token"},
}
REFRESH_REUSED = {
    "error": {
        "message": "Your refresh token has already been used to generate a new access token. "
        "Please try signing in again.",
        "type": "invalid_request_error",
        "param": None,
        "code": "refresh_token_reused",
    }
}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{_b64({'sig': 'fake'})}"


def challenge_of(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


class FakeOAuth(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.lock = threading.Lock()
        self.codes: dict[str, dict] = {}  # authorization code → what it was issued for
        self.access: dict[str, str] = {}  # live access token → flavour (claude, chatgpt)
        self.refresh: dict[str, str] = {}  # refresh token → flavour; spent ones are removed
        self.spent: set[str] = set()
        # Every secret this fake handed out or was sent: tokens, codes, device ids, verifiers.
        self.issued: list[str] = []
        self.devices: dict[str, dict] = {}
        self.refreshes = 0
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers)
        self.bodies: list[str] = []
        self.fail_probe = False
        self.claude_code_only = False
        self.refresh_delay = 0.0
        self.expires_in = 3600
        self.down = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def settings(self) -> dict:
        """What points Koda at this fake (design §9 names)."""
        return {
            "KODA_CLAUDE_OAUTH_AUTHORIZE_URL": f"{self.url}/claude-ai/oauth/authorize",
            "KODA_CLAUDE_OAUTH_TOKEN_URL": f"{self.url}/claude/v1/oauth/token",
            "KODA_CLAUDE_API_BASE_URL": f"{self.url}/claude",
            "KODA_CHATGPT_AUTH_BASE_URL": f"{self.url}/auth",
            "KODA_CHATGPT_BACKEND_URL": f"{self.url}/chatgpt",
            "KODA_ALLOW_PRIVATE_BASE_URLS": True,
        }

    def start(self) -> FakeOAuth:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # --- the operator's side ---------------------------------------------------------------

    def paste_approve(self, authorize_url: str, *, flavour: str = "claude") -> str:
        """What Claude's page shows after approval: `code#state`."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["code_challenge_method"] == "S256"
        code = "ac_" + secrets.token_urlsafe(24)
        self.issued.append(code)
        with self.lock:
            self.codes[code] = {
                "challenge": query["code_challenge"],
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "flavour": flavour,
            }
        return f"{code}#{query['state']}"

    def device_set(self, user_code: str, status: str) -> bool:
        with self.lock:
            found = [d for d in self.devices.values() if d["user_code"] == user_code.strip()]
            for device in found:
                device["status"] = status
        return bool(found)

    def revoke_access(self) -> None:
        """Every live access token stops working (the refresh tokens still do)."""
        with self.lock:
            self.access.clear()

    def revoke_refresh(self) -> None:
        with self.lock:
            self.refresh.clear()

    # --- issuing -----------------------------------------------------------------------------

    def issue(self, flavour: str) -> dict:
        if flavour == "claude":
            access = "sk-ant-oat01-" + secrets.token_urlsafe(40)
            refresh = "sk-ant-ort01-" + secrets.token_urlsafe(40)
            extra = {
                "account": {"uuid": "acc-1111", "email_address": "ops@example.com"},
                "organization": {"uuid": "org-2222", "name": "Example Org"},
            }
        else:
            access = jwt({"exp": int(time.time()) + self.expires_in, "n": secrets.token_hex(8)})
            refresh = "rt_" + secrets.token_urlsafe(40)
            extra = {
                "id_token": jwt(
                    {
                        "email": "ops@example.com",
                        "https://api.openai.com/auth": {
                            "chatgpt_account_id": "acct-3333",
                            "chatgpt_plan_type": "pro",
                        },
                    }
                )
            }
        self.issued += [access, refresh]
        with self.lock:
            self.access[access] = flavour
            self.refresh[refresh] = flavour
        body = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer", **extra}
        if flavour == "claude":
            body["expires_in"] = self.expires_in
        return body


class Handler(QuietHandler):
    server: FakeOAuth

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        self.server.bodies.append(raw)
        if "application/x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            return {k: v[0] for k, v in parse_qs(raw).items()}
        return json.loads(raw or "{}")

    def do_POST(self) -> None:
        server = self.server
        path = urlsplit(self.path).path
        server.requests.append(("POST", path, dict(self.headers.items())))
        body = self._body()
        if server.down:
            return self._send(503, {"error": {"message": "upstream unavailable"}})
        if path in ("/claude/v1/oauth/token", "/auth/oauth/token"):
            return self._token(body, "claude" if path.startswith("/claude") else "chatgpt")
        if path == "/auth/api/accounts/deviceauth/usercode":
            device_id = "dev_" + secrets.token_urlsafe(16)
            server.issued.append(device_id)
            user_code = f"{secrets.randbelow(9000) + 1000}-{secrets.token_hex(2).upper()}"
            with server.lock:
                server.devices[device_id] = {"user_code": user_code, "status": "pending"}
            return self._send(
                200, {"device_auth_id": device_id, "user_code": user_code, "interval": "1"}
            )
        if path == "/auth/api/accounts/deviceauth/token":
            device = server.devices.get(body.get("device_auth_id"))
            if device is None or device["user_code"] != body.get("user_code"):
                return self._send(400, {"error": "invalid_request"})
            status = device["status"]
            if status == "pending":
                return self._send(404, {"error": {"message": "Device authorization pending"}})
            if status == "slow_down":
                device["status"] = "pending"
                return self._send(400, {"error": "slow_down"})
            if status == "denied":
                return self._send(400, {"error": "access_denied"})
            if status == "expired":
                return self._send(400, {"error": "expired_token"})
            verifier = secrets.token_urlsafe(48)
            code = "ac_" + secrets.token_urlsafe(24)
            server.issued += [verifier, code]
            with server.lock:
                server.codes[code] = {
                    "challenge": challenge_of(verifier),
                    "client_id": "",
                    "redirect_uri": f"{server.url}/auth/deviceauth/callback",
                    "flavour": "chatgpt",
                }
            return self._send(
                200,
                {
                    "authorization_code": code,
                    "code_challenge": challenge_of(verifier),
                    "code_verifier": verifier,
                },
            )
        return self._send(404, {"error": {"message": f"no route {path}"}})

    def _token(self, body: dict, flavour: str) -> None:
        server = self.server
        if body.get("code_verifier"):
            server.issued.append(body["code_verifier"])
        if body.get("grant_type") == "authorization_code":
            with server.lock:
                issued = server.codes.pop(body.get("code", ""), None)
            if (
                issued is None
                or challenge_of(body.get("code_verifier", "")) != issued["challenge"]
                or body.get("redirect_uri") != issued["redirect_uri"]
            ):
                return self._send(
                    400,
                    {"error": "invalid_grant", "error_description": "Invalid 'code' in request."},
                )
            return self._send(200, server.issue(flavour))
        if body.get("grant_type") == "refresh_token":
            time.sleep(server.refresh_delay)
            token = body.get("refresh_token", "")
            with server.lock:
                server.refreshes += 1
                known = server.refresh.pop(token, None)
                reused = token in server.spent
                server.spent.add(token)
            if known is None:
                if flavour == "chatgpt" and reused:
                    return self._send(401, REFRESH_REUSED)
                return self._send(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Refresh token not found or invalid",
                    },
                )
            return self._send(200, server.issue(flavour))
        return self._send(400, {"error": "unsupported_grant_type"})

    def do_GET(self) -> None:
        server = self.server
        path = urlsplit(self.path).path
        server.requests.append(("GET", path, dict(self.headers.items())))
        if path == "/claude-ai/oauth/authorize":  # Claude's page after approval, by hand
            return self._page(
                f"<p>Paste this code into Koda:</p><pre>{server.paste_approve(self.path)}</pre>"
            )
        if path == "/auth/codex/device":  # OpenAI's device page, by hand
            code = parse_qs(urlsplit(self.path).query).get("user_code", [""])[0]
            if code and server.device_set(code, "approved"):
                return self._page("<p>Approved. Back to Koda.</p>")
            return self._page('<form><input name="user_code"><button>Approve</button></form>')
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        live = token in server.access and not server.fail_probe
        if path.startswith("/claude/"):
            if self.headers.get("anthropic-beta") != "oauth-2025-04-20":
                return self._send(401, OAUTH_UNSUPPORTED)
            if not live:
                return self._send(401, INVALID_TOKEN)
            if path == "/claude/api/oauth/profile":
                return self._send(
                    200,
                    {
                        "account": {"uuid": "acc-1111", "email_address": "ops@example.com"},
                        "organization": {"name": "Example Org", "organization_type": "claude_max"},
                    },
                )
            if path == "/claude/v1/models":
                if server.claude_code_only:
                    return self._send(400, CLAUDE_CODE_ONLY)
                return self._send(200, CLAUDE_MODELS)
        if path.startswith("/chatgpt/"):
            if not live:
                return self._send(401, {"detail": "Unauthorized"})
            if path == "/chatgpt/wham/usage":
                return self._send(
                    200,
                    {
                        "plan_type": "pro",
                        "rate_limit": {"primary_window": {"used_percent": 3}},
                    },
                )
            if path == "/chatgpt/codex/models":
                return self._send(200, CODEX_MODELS)
        return self._send(404, {"error": {"message": f"no route {path}"}})

    def _page(self, html: str) -> None:
        self._send(
            200,
            f"<!doctype html><title>Fake sign-in</title>{html}",
            "text/html; charset=utf-8",
        )


def main() -> None:  # pragma: no cover - by hand, to try the sign-ins from `make run`
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    port = parser.parse_args().port
    server = FakeOAuth(port)
    print("Start Koda with:")
    for name, value in server.settings().items():
        print(f"  {name}={str(value).lower() if isinstance(value, bool) else value}")
    print("The Claude sign-in link opens a page that shows the code to paste; the ChatGPT")
    print(f"device page ({server.url}/auth/codex/device) approves the code you enter.")
    server.serve_forever()


if __name__ == "__main__":
    main()
