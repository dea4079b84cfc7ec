"""The local model catalogs (whisper.cpp variants, Kokoro model and voices, Ollama models) and
the embedding models across connections: what the dashboard and the API list, and the services
that select, delete and set defaults."""

from __future__ import annotations

import re

from django.db import transaction

from connections import services
from connections.downloads import InUse, downloads_reap_stale
from connections.models import ACTIVE_JOB_STATUSES, Connection, DownloadJob, FunctionDefault, Status
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers import model_catalog
from providers.adapters.ollama import PullFailed
from providers.base import Provider
from providers.fields import AuthMethod
from providers.model_catalog import WHISPER_VARIANTS, ModelFile, kokoro_models, kokoro_voices_file
from providers.registry import PROVIDERS
from providers.values import Credential

# Vector lengths of well-known embedding models, where the provider's model list does not say
# (vendors' model pages; providers.md §18 for the local ones). Matched on the id or its prefix.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "text-embedding-004": 768,
    "gemini-embedding-001": 3072,
    "mistral-embed": 1024,
    "embeddinggemma": 768,
    "nomic-embed-text": 768,
    "all-minilm": 384,
    "mxbai-embed-large": 1024,
    "bge-m3": 1024,
}


# Ollama model names: `llama3.2`, `qwen3:8b`, `hf.co/user/repo:Q4_K_M` (no spaces or control
# characters, no path tricks).
OLLAMA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:]{0,199}$")


def is_uuid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", value))


def latest_jobs(provider_id: str) -> dict[str, DownloadJob]:
    """The most recent job of each target of a provider (what a catalog row reports)."""
    latest: dict[str, DownloadJob] = {}
    for job in DownloadJob.objects.filter(provider_id=provider_id).order_by("-created_at")[:200]:
        latest.setdefault(job.target, job)
    return latest


def job_dict(job: DownloadJob | None) -> dict | None:
    if job is None:
        return None
    return {
        "id": str(job.pk),
        "provider_id": job.provider_id,
        "kind": job.kind,
        "target": job.target,
        "purpose": job.purpose or None,
        "status": job.status,
        "stage": job.stage,
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "percent": job.percent,
        "bytes_per_second": job.bytes_per_second,
        "error": job.error or None,
        "cancel_requested": job.cancel_requested,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def active_jobs(provider_id: str | None = None) -> dict[str, DownloadJob]:
    """Active jobs by target (stale ones are marked failed first)."""
    downloads_reap_stale()
    jobs = DownloadJob.objects.filter(status__in=ACTIVE_JOB_STATUSES)
    if provider_id:
        jobs = jobs.filter(provider_id=provider_id)
    return {job.target: job for job in jobs}


def _file_entry(provider_id: str, model_file: ModelFile, jobs: dict, selected: set[str]) -> dict:
    job = jobs.get(model_file.name)
    return {
        "name": model_file.name,
        "file": model_file.filename,
        "size": model_file.size,
        "sha256": model_file.sha256,
        "notes": list(model_file.notes),
        "state": "downloading" if job else model_catalog.state_of(provider_id, model_file),
        "selected": model_file.name in selected,
        "job": job_dict(job),
    }


def _selected(provider_id: str) -> set[str]:
    connection = Connection.objects.defer("secrets").filter(provider_id=provider_id).first()
    return set(connection.config.values()) if connection else set()


def whisper_catalog() -> dict:
    jobs, selected = active_jobs("whispercpp"), _selected("whispercpp")
    entries = [_file_entry("whispercpp", f, jobs, selected) for f in WHISPER_VARIANTS.values()]
    for entry, variant in zip(entries, WHISPER_VARIANTS.values(), strict=True):
        entry["english_only"] = ".en" in variant.name
        entry["quantized"] = "-q" in variant.name
    return {
        "models": entries,
        "selected": next((e["name"] for e in entries if e["selected"]), None),
    }


def kokoro_catalog() -> dict:
    jobs, selected = active_jobs("kokoro"), _selected("kokoro")
    connection = Connection.objects.defer("secrets").filter(provider_id="kokoro").first()
    if connection is not None:
        selected.add(model_catalog.VOICES_FILE)  # every voice lives in it
    return {
        "models": [_file_entry("kokoro", f, jobs, selected) for f in kokoro_models().values()],
        "voices_file": _file_entry("kokoro", kokoro_voices_file(), jobs, selected),
        "selected": {
            "model_file": connection.config.get("model_file"),
            "voice": connection.config.get("voice"),
        }
        if connection
        else None,
    }


def kokoro_voices() -> dict:
    voices_file = kokoro_voices_file()
    path = model_catalog.path_of("kokoro", voices_file)
    state = model_catalog.state_of("kokoro", voices_file)
    voices = model_catalog.voices_in(path) if state == "installed" else []
    return {
        "voices": [model_catalog.describe_voice(v) for v in voices],
        "voices_file": _file_entry("kokoro", voices_file, active_jobs("kokoro"), set()),
    }


def ollama_catalog() -> dict:
    downloads_reap_stale()
    connection = Connection.objects.defer("secrets").filter(provider_id="ollama").first()
    pulls = [
        job_dict(job)
        for job in DownloadJob.objects.filter(provider_id="ollama").order_by("-created_at")[:10]
    ]
    return {
        "provider_id": "ollama",
        "connected": connection is not None and connection.auth_method == AuthMethod.LOCAL_ENDPOINT,
        "default_model": (connection.default_model or None) if connection else None,
        "models": [m.as_dict() for m in connection.models] if connection else [],
        "pulls": pulls,
    }


def catalog_for(provider_id: str) -> dict:
    """What a model-file provider's page shows: its files (with the last job of each)."""
    if provider_id == "whispercpp":
        listing = whisper_catalog()
        files = listing["models"]
        voices: list[dict] = []
    else:
        listing = kokoro_catalog()
        files = [*listing["models"], listing["voices_file"]]
        voices = kokoro_voices()["voices"]
    latest = latest_jobs(provider_id)
    for entry in files:
        entry["last_job"] = latest.get(entry["name"])
    return {"files": files, "voices": voices, "selected": listing["selected"]}


# --- services -------------------------------------------------------------------------------


def model_files_select(
    *, provider: Provider, values: dict[str, str], ctx: Context
) -> services.Configured:
    """Make the given files the connection's (whisper.cpp: a variant; Kokoro: a model file and
    a voice): verified first (present and checksum-valid), stored only then, the selected model
    also becoming the default model."""
    configured = services.connection_configure_credential(
        provider=provider, credential=Credential(AuthMethod.MODEL_DOWNLOAD, values), ctx=ctx
    )
    if configured.connection is not None and configured.result.models:
        model = configured.result.models[0].id
        connection = services.connection_set_default_model(provider=provider, model=model, ctx=ctx)
        configured = services.Configured(connection, configured.result)
    return configured


def ollama_model_delete(*, name: str, ctx: Context) -> Connection:
    connection = Connection.objects.filter(provider_id="ollama").first()
    if connection is None or connection.auth_method != AuthMethod.LOCAL_ENDPOINT:
        raise PullFailed("Connect Ollama on this machine (a local endpoint) first.")
    if connection.default_model == name:
        raise InUse(name)
    provider = PROVIDERS["ollama"]
    provider.delete_model(connection.credential, name)
    audit_record(ctx=ctx, action="download.delete", target="provider:ollama", diff={"model": name})
    refreshed, _ = services.connection_verify(provider=provider, ctx=ctx)
    return refreshed


def embedding_models() -> dict:
    """Embedding-capable models of every verified (or degraded) connection, with dimensions
    where known, and the one selected as the default."""
    entries = []
    connections = Connection.objects.defer("secrets").filter(
        status__in=[Status.VERIFIED, Status.DEGRADED]
    )
    for connection in connections.order_by("provider_id"):
        provider = PROVIDERS.get(connection.provider_id)
        if provider is None:
            continue
        for model in connection.models:
            if "embedding" not in model.capabilities:
                continue
            entries.append(
                {
                    "id": f"{provider.id}:{model.id}",
                    "provider_id": provider.id,
                    "provider": provider.name,
                    "model": model.id,
                    "dimensions": model.dimensions or _known_dimensions(model.id),
                    "local": provider.kind == "local"
                    and connection.auth_method != AuthMethod.API_KEY,
                }
            )
    chosen = FunctionDefault.objects.filter(function="embedding").first()
    selected = f"{chosen.provider_id}:{chosen.model}" if chosen else None
    for entry in entries:
        entry["selected"] = entry["id"] == selected
    return {"models": entries, "selected": selected}


class UnknownEmbeddingModel(ValueError):
    pass


@transaction.atomic
def embedding_select(*, model_id: str, ctx: Context) -> dict:
    """Make one of the listed embedding models the default (`<provider id>:<model id>`)."""
    entry = next((e for e in embedding_models()["models"] if e["id"] == model_id), None)
    if entry is None:
        raise UnknownEmbeddingModel(model_id)
    before = FunctionDefault.objects.select_for_update().filter(function="embedding").first()
    FunctionDefault.objects.update_or_create(
        function="embedding",
        defaults={"provider_id": entry["provider_id"], "model": entry["model"]},
    )
    audit_record(
        ctx=ctx,
        action="default.embedding",
        target=provider_target(entry["provider_id"]),
        diff={
            "before": f"{before.provider_id}:{before.model}" if before else None,
            "after": model_id,
        },
    )
    return entry


def _known_dimensions(model_id: str) -> int | None:
    base = model_id.split(":", 1)[0].rsplit("/", 1)[-1]
    for name, dims in KNOWN_DIMENSIONS.items():
        if base == name or base.startswith(name + "-"):
            return dims
    return None
