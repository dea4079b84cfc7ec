"""The JSON API for local model catalogs, downloads and embedding models (design §7). Thin:
parse, call a service or selector, serialise. Downloads answer 202 with the job to follow."""

from __future__ import annotations

import re

from django.http import HttpRequest

from connections import catalogs, downloads
from connections.api import _ctx, _not_configured, _state, configured_answer
from connections.catalogs import job_dict
from connections.models import DownloadJob, JobKind
from koda.api import ApiError, Conflict, InvalidInput, NotFound, api_view, parse_json
from providers import model_catalog
from providers.adapters.ollama import PullFailed
from providers.registry import PROVIDERS


def _conflict_active(exc: downloads.JobConflict) -> Conflict:
    return Conflict(
        f"{exc.job.target} is already {exc.job.status}.",
        code="download_active",
        details={"job": job_dict(exc.job)},
    )


def _start(request, provider, kind: str, target: str, purpose: str = ""):
    try:
        job = downloads.download_start(
            provider=provider, kind=kind, target=target, purpose=purpose, ctx=_ctx(request)
        )
    except downloads.JobConflict as exc:
        raise _conflict_active(exc) from None
    except downloads.AlreadyInstalled:
        raise Conflict(f"{target} is already downloaded.", code="already_downloaded") from None
    return 202, {"job": job_dict(job)}


def _model_file(provider, name: str):
    model_file = downloads.model_file_of(provider, name)
    if model_file is None:
        raise NotFound(
            f"{provider.name} has no model file {name!r}.",
            code="unknown_model_file",
            details={"known": list(_names(provider))},
        )
    return model_file


def _names(provider):
    if provider.id == "whispercpp":
        return model_catalog.WHISPER_VARIANTS
    return list(model_catalog.KOKORO_FILES)


def _delete_file(request, provider, name: str):
    try:
        downloads.model_file_delete(
            provider=provider, model_file=_model_file(provider, name), ctx=_ctx(request)
        )
    except downloads.JobConflict as exc:
        raise _conflict_active(exc) from None
    except downloads.InUse:
        raise Conflict(
            f"{name} is the file {provider.name} uses: select another first, or disconnect.",
            code="in_use",
        ) from None
    except downloads.NotInstalled:
        raise NotFound(f"{name} is not downloaded.", code="not_downloaded") from None
    return {"deleted": name}


def _select(request, provider, values: dict[str, str]):
    configured = catalogs.model_files_select(provider=provider, values=values, ctx=_ctx(request))
    return configured_answer(provider, configured)


# --- whisper.cpp -------------------------------------------------------------------------------


@api_view(["GET"])
def whisper_models(request: HttpRequest):
    return catalogs.whisper_catalog()


@api_view(["POST"])
def whisper_download(request: HttpRequest, variant: str):
    provider = PROVIDERS["whispercpp"]
    parse_json(request, allowed={})
    return _start(request, provider, JobKind.MODEL_FILE, _model_file(provider, variant).name)


@api_view(["POST"])
def whisper_select(request: HttpRequest, variant: str):
    provider = PROVIDERS["whispercpp"]
    body = parse_json(request, allowed={"runtime_path": str})
    values = {"variant": _model_file(provider, variant).name}
    if body.get("runtime_path"):
        values["runtime_path"] = body["runtime_path"]
    return _select(request, provider, values)


@api_view(["DELETE"])
def whisper_delete(request: HttpRequest, variant: str):
    parse_json(request, allowed={})
    return _delete_file(request, PROVIDERS["whispercpp"], variant)


# --- Kokoro ------------------------------------------------------------------------------------


@api_view(["GET"])
def kokoro_model(request: HttpRequest):
    return catalogs.kokoro_catalog()


@api_view(["POST"])
def kokoro_model_download(request: HttpRequest):
    provider = PROVIDERS["kokoro"]
    body = parse_json(request, allowed={"file": str})
    name = body.get("file") or model_catalog.KOKORO_DEFAULT_MODEL
    if name not in model_catalog.kokoro_models():
        _model_file(provider, "")  # 404 listing the known files
    return _start(request, provider, JobKind.MODEL_FILE, name)


@api_view(["POST"])
def kokoro_model_select(request: HttpRequest):
    body = parse_json(
        request, allowed={"model_file": str, "voice": str}, required=["model_file", "voice"]
    )
    return _select(
        request, PROVIDERS["kokoro"], {"model_file": body["model_file"], "voice": body["voice"]}
    )


@api_view(["GET"])
def kokoro_voices(request: HttpRequest):
    return catalogs.kokoro_voices()


@api_view(["POST"])
def kokoro_voice_download(request: HttpRequest, voice: str):
    """Every voice is in the one voices file: this fetches it (if it is not here yet) and checks
    that it holds the voice."""
    provider = PROVIDERS["kokoro"]
    parse_json(request, allowed={})
    if not re.fullmatch(r"[a-z]{2}_[a-z0-9]{1,40}", voice):
        raise InvalidInput("A voice is named like af_heart or bm_george.", code="unknown_voice")
    voices_file = model_catalog.kokoro_voices_file()
    if model_catalog.state_of(provider.id, voices_file) == "installed":
        voices = model_catalog.voices_in(model_catalog.path_of(provider.id, voices_file))
        if voice not in voices:
            raise NotFound(
                f"The voices file has no voice {voice!r}.",
                code="unknown_voice",
                details={"voices": voices},
            )
        return {"voice": model_catalog.describe_voice(voice), "installed": True, "job": None}
    return _start(request, provider, JobKind.MODEL_FILE, voices_file.name, purpose=voice)


# --- Ollama ------------------------------------------------------------------------------------


@api_view(["GET"])
def ollama_models(request: HttpRequest):
    return catalogs.ollama_catalog()


@api_view(["POST"])
def ollama_pull(request: HttpRequest):
    provider = PROVIDERS["ollama"]
    body = parse_json(request, allowed={"name": str}, required=["name"])
    name = body["name"].strip()
    if not catalogs.OLLAMA_NAME.match(name):
        raise InvalidInput(
            "Name an Ollama model, e.g. llama3.2 or qwen3:8b.",
            details={"fields": {"name": ["Not an Ollama model name."]}},
        )
    if not catalogs.ollama_catalog()["connected"]:
        raise _not_configured(provider)
    return _start(request, provider, JobKind.OLLAMA_PULL, name)


@api_view(["DELETE"])
def ollama_delete(request: HttpRequest, name: str):
    parse_json(request, allowed={})
    try:
        connection = catalogs.ollama_model_delete(name=name, ctx=_ctx(request))
    except downloads.InUse:
        raise Conflict(
            f"{name} is Ollama's default model: pick another first.", code="in_use"
        ) from None
    except PullFailed as exc:
        raise ApiError(
            str(exc), code="ollama_refused", status=502 if "reach" in str(exc) else 400
        ) from None
    return {"deleted": name, "connection": _state(PROVIDERS["ollama"], connection)}


# --- downloads ---------------------------------------------------------------------------------


def _job(job_id: str) -> DownloadJob:
    job = DownloadJob.objects.filter(pk=job_id).first() if catalogs.is_uuid(job_id) else None
    if job is None:
        raise NotFound(f"There is no download {job_id!r}.", code="unknown_job")
    return job


@api_view(["GET"])
def download_get(request: HttpRequest, job_id: str):
    downloads.downloads_reap_stale()
    return {"job": job_dict(_job(job_id))}


@api_view(["POST"])
def download_cancel(request: HttpRequest, job_id: str):
    parse_json(request, allowed={})
    job = _job(job_id)
    if not job.is_active:
        raise Conflict(f"The download is already {job.status}.", code="not_active")
    return {"job": job_dict(downloads.download_cancel(job=job, ctx=_ctx(request)))}


@api_view(["GET"])
def downloads_active(request: HttpRequest):
    jobs = catalogs.active_jobs()
    return {"jobs": [job_dict(j) for j in sorted(jobs.values(), key=lambda j: j.created_at)]}


# --- embedding models --------------------------------------------------------------------------


@api_view(["GET"])
def embedding_models(request: HttpRequest):
    return catalogs.embedding_models()


@api_view(["POST"])
def embedding_select(request: HttpRequest, model_id: str):
    parse_json(request, allowed={})
    try:
        entry = catalogs.embedding_select(model_id=model_id, ctx=_ctx(request))
    except catalogs.UnknownEmbeddingModel:
        raise NotFound(
            f"{model_id!r} is not an embedding model of a verified connection.",
            code="unknown_model",
            details={"models": [e["id"] for e in catalogs.embedding_models()["models"]]},
        ) from None
    return {"selected": entry["id"], "model": {**entry, "selected": True}}
