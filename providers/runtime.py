"""Verifying a local runtime binary through the process seam: it exists, is executable, and
answers a harmless command (`--version`) within a few seconds, in a way that names the runtime."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from django.conf import settings

from providers import process
from providers.base import Provider
from providers.values import Outcome, Verdict, VerificationResult

# What a runtime's answer tells: facts for the summary (its version), or None if it is not
# the program it should be.
Recognise = Callable[[str], dict[str, str] | None]


def is_apple_silicon() -> bool:
    return platform.system() == "Darwin" and platform.machine() == "arm64"


def check_binary(
    provider: Provider, path: str, *, args: Sequence[str], recognise: Recognise, program: str
) -> VerificationResult:
    started = datetime.now(UTC)
    command = " ".join([path, *args])

    def finish(verdict: Verdict, raw: str = "", seconds: float = 0.0) -> VerificationResult:
        return provider.result(
            verdict,
            started=started,
            probe=f"run {command}",
            latency_ms=int(seconds * 1000),
            raw_error=raw,
        )

    try:
        answer = process.run(
            [path, *args],
            timeout=min(process.DEFAULT_TIMEOUT, settings.KODA_VERIFY_TIMEOUT_SECONDS),
        )
    except process.ProcessFailed as exc:
        if exc.kind == "timeout":
            return finish(
                Verdict(
                    Outcome.TIMEOUT,
                    f"{program} did not answer {' '.join(args)} in time: {exc.detail}.",
                    f"Check that {path} is {program}, and that the machine is not overloaded.",
                )
            )
        remedy = {
            "not_executable": f"Make it executable (chmod +x {path}), or give the right path.",
            "failed": f"Use a build of {program} made for this machine.",
        }.get(exc.kind, f"Give the absolute path of the {program} binary on the Koda host.")
        return finish(Verdict(Outcome.RUNTIME_MISSING, f"{program}: {exc.detail}.", remedy))
    tail = answer.output[-2000:]
    if answer.returncode != 0:
        return finish(
            Verdict(
                Outcome.RUNTIME_MISSING,
                f"{path} exited with status {answer.returncode} when asked {' '.join(args)}.",
                f"Run {command} by hand to see why (a missing library?).",
            ),
            tail,
            answer.seconds,
        )
    facts = recognise(answer.output)
    if facts is None:
        return finish(
            Verdict(
                Outcome.UNEXPECTED_RESPONSE,
                f"{path} ran, but its answer to {' '.join(args)} does not look like {program}.",
                f"Give the path of the {program} binary itself.",
            ),
            tail,
            answer.seconds,
        )
    version = facts.get("version")
    result = finish(
        Verdict(
            Outcome.OK,
            f"{program} {version} is installed at {path}." if version else f"{program} runs.",
        ),
        seconds=answer.seconds,
    )
    result.details = facts
    return result
