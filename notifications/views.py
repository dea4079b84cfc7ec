"""Dashboard pages: the channels (add, test, remove), one channel (change, rotate its secret,
its delivery log), and the latest deliveries across channels."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from koda.context import Context, Via
from notifications import services
from notifications.models import Channel, Delivery, EventKind, Kind

LOG_SHOWN = 50


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.DASHBOARD)


def _data(request: HttpRequest, *, creating: bool) -> dict:
    """The form's fields as the service takes them (the service validates them)."""
    post = request.POST
    data: dict = {"name": post.get("name", ""), "events": post.getlist("events")}
    if creating:
        data["kind"] = post.get("kind", "")
    if post.get("url", "").strip() or creating:
        data["url"] = post.get("url", "")
    if post.get("to", "").strip() or creating:
        data["to"] = [
            a.strip() for a in post.get("to", "").replace("\n", ",").split(",") if a.strip()
        ]
    return data


def _form_context(data: dict | None = None, errors: dict | None = None) -> dict:
    form = dict(data or {"events": list(EventKind.values)})
    to = form.get("to", "")
    form["to_text"] = ", ".join(to) if isinstance(to, list) else to
    return {
        "kinds": Kind.choices,
        "event_kinds": EventKind.choices,
        "form": form,
        "errors": errors or {},
    }


@require_http_methods(["GET", "POST"])
def channels(request: HttpRequest) -> HttpResponse:
    context = _form_context()
    status = 200
    if request.method == "POST":
        data = _data(request, creating=True)
        try:
            saved = services.channel_save(data=data, ctx=_ctx(request))
        except services.InvalidChannel as exc:
            context, status = _form_context(data, exc.errors), 422
        else:
            context["created"] = saved.channel
            context["created_secret"] = saved.signing_secret
    context["channels"] = Channel.objects.all()
    context["deliveries"] = Delivery.objects.select_related("channel")[:LOG_SHOWN]
    return render(request, "notifications/channels.html", context, status=status)


@require_http_methods(["GET", "POST"])
def channel(request: HttpRequest, channel_id: int) -> HttpResponse:
    found = get_object_or_404(Channel, pk=channel_id)
    context = _form_context({"name": found.name, "to": found.to, "events": found.events})
    status = 200
    if request.method == "POST":
        data = _data(request, creating=False)
        try:
            saved = services.channel_save(
                data=data,
                ctx=_ctx(request),
                channel=found,
                rotate_secret=request.POST.get("rotate_secret") == "on",
            )
        except services.InvalidChannel as exc:
            found.refresh_from_db()
            context, status = _form_context(data, exc.errors), 422
        else:
            context = _form_context({"name": found.name, "to": found.to, "events": found.events})
            context["saved"] = True
            context["created_secret"] = saved.signing_secret
    context["channel"] = found
    context["deliveries"] = found.deliveries.all()[:LOG_SHOWN]
    return render(request, "notifications/channel.html", context, status=status)


@require_POST
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    found = get_object_or_404(Channel, pk=channel_id)
    delivery = services.channel_test(channel=found, ctx=_ctx(request))
    if delivery.ok:
        messages.success(request, f"Test notification sent to “{found.name}”.")
    else:
        why = delivery.error or delivery.status_code
        messages.error(request, f"The test notification to “{found.name}” failed: {why}.")
    return redirect("notification-channel", channel_id=found.pk)


@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    found = get_object_or_404(Channel, pk=channel_id)
    services.channel_delete(channel=found, ctx=_ctx(request))
    messages.success(request, f"Channel “{found.name}” removed.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("notifications"))
    return redirect("notifications")
