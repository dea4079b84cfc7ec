"""An agent runtime that never holds a provider key in its own configuration.

It asks Koda which model to use for a role, calls the first candidate with the official `openai`
SDK (every OpenAI-compatible provider: Groq, Mistral, DeepSeek, OpenRouter, a local llama.cpp…),
and when a call fails it reports the failure to Koda and moves on to the next candidate. Koda
records the report as a health snapshot, so every other agent's next resolve moves on too.

    export KODA_URL=http://127.0.0.1:8000
    export KODA_AGENT_TOKEN=kagent_…   # from the agent's page, or manage.py create_agent_token
    python examples/agent_runtime.py --agent support-bot --role triage "Summarise this ticket"

The token comes from the environment (not the command line, which other users can read in the
process list). The credentials Koda hands out live only in this process's memory, for one call:
they are never logged, printed or written anywhere. Needs `pip install openai`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import openai

TIMEOUT_SECONDS = 30


class Koda:
    """The two runtime endpoints, over the standard library's HTTP client."""

    def __init__(self, url: str, token: str, agent: str) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SystemExit(f"KODA_URL must be an http(s) URL, not {url!r}.")
        self.base = f"{url.rstrip('/')}/api/control-plane/agents/{urllib.parse.quote(agent)}"
        self.token = token

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310 (an http(s) URL: checked above)
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as exc:
            error = json.load(exc).get("error", {})
            raise SystemExit(
                f"Koda refused ({exc.code} {error.get('code')}): {error.get('message')}"
            ) from None

    def resolve(self, role: str) -> dict:
        return self._call("GET", f"/runtime/resolve?role={urllib.parse.quote(role)}")

    def report(self, candidate: dict, outcome: str, status: int | None, raw: str) -> None:
        body = {"provider": candidate["provider"], "model": candidate["model"], "outcome": outcome}
        if status is not None:
            body["http_status"] = status
        if raw:
            body["raw_error"] = raw[:4000]
        try:
            self._call("POST", "/runtime/report", body)
        except SystemExit as refused:  # e.g. rate-limited: the call still moves on
            print(f"  (report not recorded: {refused})", file=sys.stderr)


def outcome_of(error: openai.OpenAIError) -> tuple[str, int | None, str]:
    """A failed call in Koda's outcome codes (design §5), with the status and the raw body."""
    if isinstance(error, openai.APITimeoutError):
        return "timeout", None, str(error)
    if isinstance(error, openai.APIConnectionError):
        return "unreachable", None, str(error)
    if isinstance(error, openai.APIStatusError):
        status, raw = error.status_code, error.response.text
        if status == 401:
            outcome = "invalid_credentials"
        elif status == 402 or "quota" in raw or "billing" in raw:
            outcome = "billing"
        elif status == 403:
            outcome = "insufficient_scope"
        elif status == 404:
            outcome = "endpoint_not_found"
        elif status == 429:
            outcome = "rate_limited"
        elif status >= 500:
            outcome = "provider_unavailable"
        else:
            outcome = "unexpected_response"
        return outcome, status, raw
    return "unexpected_response", None, str(error)


def ask(koda: Koda, role: str, prompt: str) -> tuple[dict, str]:
    """The answer of the first candidate that works, and which candidate that was."""
    resolution = koda.resolve(role)
    for skipped in resolution["skipped"]:
        print(f"  skipped {skipped['provider']} ({skipped['reason']})", file=sys.stderr)
    for candidate in resolution["candidates"]:
        if candidate["protocol"] != "openai":
            print(f"  {candidate['provider']}: speaks {candidate['protocol']}, not the OpenAI API")
            continue
        client = openai.OpenAI(
            api_key=candidate["credential"].get("api_key") or "none",  # keyless local servers
            base_url=candidate["base_url"],
            default_headers=candidate["headers"],
            max_retries=0,  # the next candidate is the retry
            timeout=TIMEOUT_SECONDS,
        )
        try:
            reply = client.chat.completions.create(
                model=candidate["model"], messages=[{"role": "user", "content": prompt}]
            )
        except openai.OpenAIError as error:
            outcome, status, raw = outcome_of(error)
            print(
                f"  {candidate['provider']} {candidate['model']} failed: {outcome}", file=sys.stderr
            )
            koda.report(candidate, outcome, status, raw)
            continue
        return candidate, reply.choices[0].message.content or ""
    message = resolution.get("message") or "every candidate failed"
    raise SystemExit(f"No model answered for role {role!r}: {message}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agent", required=True, help="the agent's id (slug)")
    parser.add_argument("--role", required=True, help="e.g. triage, draft, final, chat")
    parser.add_argument("prompt")
    args = parser.parse_args(argv)
    token = os.environ.get("KODA_AGENT_TOKEN", "")
    if not token:
        raise SystemExit("Set KODA_AGENT_TOKEN to the agent's runtime token.")
    koda = Koda(os.environ.get("KODA_URL", "http://127.0.0.1:8000"), token, args.agent)
    candidate, answer = ask(koda, args.role, args.prompt)
    print(f"[{candidate['provider']} {candidate['model']}] {answer}")


if __name__ == "__main__":
    main()
