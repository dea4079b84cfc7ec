"""Dashboard pages for the local model catalogs and downloads: the rows of whisper.cpp and Kokoro
files and of Ollama's models on their provider pages, and the Downloads list. Thin: the same
services and selectors as the API.

HTMX: a row that is downloading polls itself every second and is swapped in place; when its job
has ended the answer is 286, which stops the polling (and still swaps the final row in).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from connections import catalogs, downloads
from connections.models import ACTIVE_JOB_STATUSES, DownloadJob, JobKind
from koda.context import Context, Via
from koda.rendering import render_page
from providers.adapters.ollama import PullFailed
from providers.registry import PROVIDERS

CATALOG = "connections/catalogs.html"
DOWNLOADS = "connections/downloads.html"
STOP_POLLING = 286


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.WIZARD)


def _file(provider_id: str, name: str):
    provider = PROVIDERS.get(provider_id)
    model_file = downloads.model_file_of(provider, name) if provider else None
    if model_file is None:
        raise Http404("No such model file")
    return provider, model_file


def file_row_context(provider_id: str, name: str, message: str = "") -> dict:
    entries = catalogs.catalog_for(provider_id)
    entry = next(e for e in entries["files"] if e["name"] == name)
    return {"provider_id": provider_id, "f": entry, "message": message, **entries}


def _row(request: HttpRequest, provider_id: str, name: str, message: str = "") -> HttpResponse:
    if not request.htmx:
        return redirect("provider", provider_id=provider_id)
    context = file_row_context(provider_id, name, message)
    if context["f"]["job"]:
        return render(request, f"{CATALOG}#file-row", context)
    # The job has ended: stop this row's polling, and have the card refresh what depends on
    # the files (the select form).
    response = render(request, f"{CATALOG}#file-row", context, status=STOP_POLLING)
    response["HX-Trigger"] = "files-changed"
    return response


@require_GET
def file_row(request: HttpRequest, provider_id: str, name: str) -> HttpResponse:
    _file(provider_id, name)
    return _row(request, provider_id, name)


@require_POST
def file_download(request: HttpRequest, provider_id: str, name: str) -> HttpResponse:
    provider, model_file = _file(provider_id, name)
    message = ""
    try:
        downloads.download_start(
            provider=provider,
            kind=JobKind.MODEL_FILE,
            target=model_file.name,
            purpose=request.POST.get("voice", "")[:128],
            ctx=_ctx(request),
        )
    except downloads.JobConflict:
        message = "It is already downloading."
    except downloads.AlreadyInstalled:
        message = "It is already downloaded."
    return _row(request, provider_id, name, message)


@require_POST
def file_delete(request: HttpRequest, provider_id: str, name: str) -> HttpResponse:
    provider, model_file = _file(provider_id, name)
    message = ""
    try:
        downloads.model_file_delete(provider=provider, model_file=model_file, ctx=_ctx(request))
    except downloads.JobConflict:
        message = "It is downloading: cancel first."
    except downloads.InUse:
        message = "It is in use: select another first, or disconnect."
    except downloads.NotInstalled:
        message = "It is not downloaded."
    return _row(request, provider_id, name, message)


# --- Ollama -----------------------------------------------------------------------------------


def _pulls(request: HttpRequest, message: str = "") -> HttpResponse:
    listing = catalogs.ollama_catalog()
    active = any(p["status"] in ACTIVE_JOB_STATUSES for p in listing["pulls"])
    context = {"ollama": listing, "message": message}
    if not request.htmx:
        return redirect("provider", provider_id="ollama")
    return render(
        request, f"{CATALOG}#ollama-models", context, status=200 if active else STOP_POLLING
    )


@require_GET
def ollama_models(request: HttpRequest) -> HttpResponse:
    return _pulls(request)


@require_POST
def ollama_pull(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    message = ""
    if not catalogs.OLLAMA_NAME.match(name):
        message = "Name an Ollama model, e.g. llama3.2 or qwen3:8b."
    elif not catalogs.ollama_catalog()["connected"]:
        message = "Connect Ollama on this machine first."
    else:
        try:
            downloads.download_start(
                provider=PROVIDERS["ollama"],
                kind=JobKind.OLLAMA_PULL,
                target=name,
                ctx=_ctx(request),
            )
        except downloads.JobConflict:
            message = f"{name} is already being pulled."
    return _pulls(request, message)


@require_POST
def ollama_delete(request: HttpRequest, name: str) -> HttpResponse:
    message = ""
    try:
        catalogs.ollama_model_delete(name=name, ctx=_ctx(request))
    except downloads.InUse:
        message = f"{name} is the default model: pick another first."
    except PullFailed as exc:
        message = str(exc)
    return _pulls(request, message)


# --- downloads --------------------------------------------------------------------------------


@require_GET
def downloads_page(request: HttpRequest) -> HttpResponse:
    active = catalogs.active_jobs()
    recent = DownloadJob.objects.order_by("-created_at")[:30]
    context = {"active": sorted(active.values(), key=lambda j: j.created_at), "recent": recent}
    response = render_page(request, DOWNLOADS, "downloads", context)
    if request.htmx and not active:
        response.status_code = STOP_POLLING
    return response


@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = DownloadJob.objects.filter(pk=job_id).first() if catalogs.is_uuid(job_id) else None
    if job is None:
        raise Http404("No such download")
    if job.is_active:
        downloads.download_cancel(job=job, ctx=_ctx(request))
    if request.htmx:
        return HttpResponseClientRefresh()
    back = request.POST.get("next", "")
    return redirect(back if url_has_allowed_host_and_scheme(back, None) else "downloads")
