"""The notification channels API (design §7): list, add, change, remove, test; each channel
with its delivery health. A webhook's signing secret is in the 201 answer only (and in the
answer to a PUT that rotates it)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from koda.api import InvalidInput, NotFound, api_view, parse_json
from koda.context import Context, Via
from notifications import services
from notifications.models import Channel, Delivery

FIELDS = {"kind": str, "name": str, "url": str, "to": list, "events": list}
LOG_SHOWN = 20


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.API)


def channel_dict(channel: Channel, *, deliveries: list[Delivery] | None = None) -> dict:
    answer = {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "url_hint": channel.url_hint or None,
        "to": channel.addresses,
        "events": list(channel.events),
        "status": "failing" if channel.failing_since else "ok",
        "failing_since": channel.failing_since.isoformat() if channel.failing_since else None,
        "last_error": channel.last_error,
        "last_delivered_at": (
            channel.last_delivered_at.isoformat() if channel.last_delivered_at else None
        ),
        "created_at": channel.created_at.isoformat(),
    }
    if deliveries is not None:
        answer["deliveries"] = [delivery_dict(d) for d in deliveries]
    return answer


def delivery_dict(delivery: Delivery) -> dict:
    return {
        "at": delivery.created_at.isoformat(),
        "event": delivery.event_kind,
        "event_id": delivery.event_id,
        "attempt": delivery.attempt,
        "ok": delivery.ok,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "retry_at": delivery.retry_at.isoformat() if delivery.retry_at else None,
    }


def channel_or_404(channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(
            f"There is no notification channel {channel_id}.",
            code="unknown_channel",
            details={"channel_id": channel_id},
        )
    return channel


def _invalid(exc: services.InvalidChannel) -> InvalidInput:
    return InvalidInput("Some fields are invalid.", details={"fields": exc.errors})


@api_view(["GET", "POST"])
def channels(request: HttpRequest):
    if request.method == "POST":
        body = parse_json(request, allowed=FIELDS, required=["kind", "name"])
        try:
            saved = services.channel_save(data=body, ctx=_ctx(request))
        except services.InvalidChannel as exc:
            raise _invalid(exc) from None
        answer = {"channel": channel_dict(saved.channel)}
        if saved.signing_secret:
            answer["secret"] = saved.signing_secret
        return 201, answer
    return {"channels": [channel_dict(c) for c in Channel.objects.all()]}


@api_view(["GET", "PUT", "DELETE"])
def channel(request: HttpRequest, channel_id: int):
    found = channel_or_404(channel_id)
    if request.method == "DELETE":
        parse_json(request, allowed={})  # takes no fields
        services.channel_delete(channel=found, ctx=_ctx(request))
        return HttpResponse(status=204)
    if request.method == "PUT":
        body = parse_json(request, allowed={**FIELDS, "rotate_secret": bool})
        try:
            saved = services.channel_save(
                data=body,
                ctx=_ctx(request),
                channel=found,
                rotate_secret=bool(body.get("rotate_secret")),
            )
        except services.InvalidChannel as exc:
            raise _invalid(exc) from None
        answer = {"channel": channel_dict(saved.channel)}
        if saved.signing_secret:
            answer["secret"] = saved.signing_secret
        return answer
    log = list(found.deliveries.all()[:LOG_SHOWN])
    return {"channel": channel_dict(found, deliveries=log)}


@api_view(["POST"])
def channel_test(request: HttpRequest, channel_id: int):
    found = channel_or_404(channel_id)
    delivery = services.channel_test(channel=found, ctx=_ctx(request))
    found.refresh_from_db()
    return {"delivery": delivery_dict(delivery), "channel": channel_dict(found)}
