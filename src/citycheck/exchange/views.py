"""The exchange pages: the submission ledger (what was sent to the level above and what
came back), packages received from below, and offline hand-over by file. Managers only."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from citycheck.collection.models import Round, RoundStatus
from citycheck.core.access import may
from citycheck.core.choices import Action
from citycheck.core.jobs import start_job

from . import conf, package, services
from .models import (
    OutgoingPackage,
    Peer,
    PeerRelation,
    ReceivedPackage,
    RowState,
)

PART_TITLES = {
    package.RELEASE: _lazy("评价结果"),
    package.PROBLEMS: _lazy("问题清单"),
    package.PROJECTS: _lazy("项目清单"),
}


def _manager(request):
    if not may(request.user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以查看和进行平台间报送。"))


@login_required
def ledger(request):
    _manager(request)
    uppers = list(Peer.objects.filter(relation=PeerRelation.UPPER, active=True))
    rounds = list(Round.objects.exclude(status=RoundStatus.PUBLISHED).select_related("system"))
    rounds += list(Round.objects.filter(status=RoundStatus.PUBLISHED).select_related("system")[:3])
    flagged = []
    for peer in uppers:
        for round_ in rounds:
            changed = services.changed_since_submission(peer, round_)
            if not changed.empty:
                flagged.append(
                    {"peer": peer, "round": round_, "rows": changed.head(50), "count": len(changed)}
                )
    context = {
        "instance": services.describe_instance(),
        "mode": conf.instance_mode(),
        "uppers": uppers,
        "lowers": Peer.objects.filter(relation=PeerRelation.LOWER),
        "rounds": rounds,
        "sent": OutgoingPackage.objects.select_related("peer", "round", "created_by")[:100],
        "received": ReceivedPackage.objects.select_related("peer", "round")[:100],
        "flagged": flagged,
    }
    return render(request, "exchange/ledger.html", context)


@login_required
@require_POST
def submit(request):
    """Package (and send) a round as a background job; its page shows the steps."""
    _manager(request)
    round_ = get_object_or_404(Round, pk=request.POST.get("round") or 0)
    peer = get_object_or_404(Peer, pk=request.POST.get("peer") or 0, relation=PeerRelation.UPPER)
    job = start_job(
        "exchange.submit",
        acting_user=request.user,
        round_id=round_.pk,
        peer_id=peer.pk,
        only_changed=request.POST.get("scope") != "all",
        parts=sorted(set(request.POST.getlist("parts")) & set(package.EXTRA_PARTS)),
        send=request.POST.get("send") != "file" and bool(peer.url),
    )
    return redirect("job", pk=job.pk)


@login_required
def sent(request, package_id):
    _manager(request)
    outgoing = get_object_or_404(
        OutgoingPackage.objects.select_related("peer", "round"), package_id=package_id
    )
    rejected = outgoing.lines.filter(state=RowState.REJECTED).select_related("place", "indicator")
    manifest = json.loads(outgoing.package)["manifest"]
    return render(
        request,
        "exchange/sent.html",
        {
            "outgoing": outgoing,
            "manifest": manifest,
            "rejected": rejected[:500],
            "rejected_count": rejected.count(),
            "pending": outgoing.lines.filter(state=RowState.PENDING).count(),
            "may_send": bool(outgoing.peer.url) and not outgoing.has_receipt,
        },
    )


@login_required
@require_POST
def retry(request, package_id):
    _manager(request)
    outgoing = get_object_or_404(OutgoingPackage, package_id=package_id)
    if not outgoing.peer.url or outgoing.has_receipt:
        return redirect("exchange:sent", package_id=outgoing.package_id)
    job = start_job("exchange.send", acting_user=request.user, package_id=outgoing.package_id)
    return redirect("job", pk=job.pk)


@login_required
def download(request, package_id):
    _manager(request)
    outgoing = get_object_or_404(OutgoingPackage, package_id=package_id)
    response = HttpResponse(outgoing.package, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{outgoing.package_id}.json"'
    return response


def _upload(request, field):
    upload = request.FILES.get(field)
    if upload is None:
        raise services.ExchangeError(_("请选择文件。"))
    if upload.size > conf.max_bytes():
        raise services.ExchangeError(_("文件过大。"))
    return upload.read()


def _report(request, outgoing):
    level = messages.success if outgoing.has_receipt else messages.error
    level(request, services.outcome_message(outgoing))


@login_required
@require_POST
def receipt_upload(request):
    """A receipt file brought back from the level above (offline hand-over)."""
    _manager(request)
    try:
        answer = json.loads(_upload(request, "file").decode("utf-8"))
        package_id = (
            (answer.get("body") or {}).get("package_id") if isinstance(answer, dict) else None
        )
        outgoing = OutgoingPackage.objects.filter(package_id=package_id or "").first()
        if outgoing is None:
            raise services.ExchangeError(_("回执对应的数据包不在报送记录中。"))
        outgoing = services.apply_receipt(outgoing, answer, acting_user=request.user)
    except (ValueError, UnicodeDecodeError, AttributeError):
        messages.error(request, _("回执文件不是有效的 JSON。"))
        return redirect("exchange:ledger")
    except services.ExchangeError as error:
        messages.error(request, error.message)
        return redirect("exchange:ledger")
    _report(request, outgoing)
    return redirect("exchange:sent", package_id=outgoing.package_id)


@login_required
@require_POST
def package_upload(request):
    """A package file from a lower instance (offline hand-over): received like a POST."""
    _manager(request)
    try:
        document = services.read_body(_upload(request, "file"), gzipped=False)
        _receipt, repeated = services.receive_package(document, channel="file")
    except services.Refusal as refusal:
        messages.error(request, f"{refusal.code}: {refusal.message}")
        return redirect("exchange:ledger")
    except services.ExchangeError as error:
        messages.error(request, error.message)
        return redirect("exchange:ledger")
    manifest = document["manifest"]
    received = ReceivedPackage.objects.get(
        peer__code=manifest["sender"], package_id=manifest["package_id"]
    )
    if repeated:
        messages.info(request, _("该数据包此前已接收，以下为当时的回执。"))
    return redirect("exchange:received", pk=received.pk)


@login_required
def received(request, pk):
    _manager(request)
    item = get_object_or_404(ReceivedPackage.objects.select_related("peer", "round"), pk=pk)
    body = item.receipt["body"]
    return render(
        request,
        "exchange/received.html",
        {
            "item": item,
            "body": body,
            "rejections": body.get("rejections", [])[:500],
            "reasons": package.REASONS,
        },
    )


@login_required
def peer_round(request, peer_pk, round_pk):
    """What a lower peer reported for a round beyond its values: its release results,
    problem list and project list, each from the latest package that brought it."""
    _manager(request)
    peer = get_object_or_404(Peer, pk=peer_pk, relation=PeerRelation.LOWER)
    round_ = get_object_or_404(Round, pk=round_pk)
    parts = [
        {
            "name": name,
            "title": PART_TITLES[name],
            "package": item,
            "columns": package.EXTRA_PARTS[name],
            "rows": [
                [record.data.get(c, "") for c in package.EXTRA_PARTS[name]] for record in records
            ],
            "about": next((p for p in item.manifest["parts"] if p.get("name") == name), {}),
        }
        for name, (item, records) in services.received_parts(peer, round_).items()
    ]
    return render(
        request,
        "exchange/peer_round.html",
        {"peer": peer, "round": round_, "parts": parts},
    )


@login_required
def received_receipt(request, pk):
    _manager(request)
    item = get_object_or_404(ReceivedPackage, pk=pk)
    response = HttpResponse(
        json.dumps(item.receipt, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="receipt-{item.package_id}.json"'
    return response


@login_required
def systems(request, peer_pk):
    """The systems the upper peer publishes; ``?code=&version=`` shows what one changes
    against ours; POST adopts it."""
    from . import distribution

    _manager(request)
    peer = get_object_or_404(Peer, pk=peer_pk, relation=PeerRelation.UPPER)
    code = request.POST.get("code") or request.GET.get("code", "")
    version = request.POST.get("version") or request.GET.get("version", "")
    context = {"peer": peer, "code": code, "version": version}
    try:
        context["available"] = distribution.available(peer)
        if code and version.isdigit():
            changes, adopted, extensions = distribution.pull_system(
                peer,
                code,
                int(version),
                acting_user=request.user,
                adopt=request.method == "POST",
            )
            context.update(changes=changes, extensions=extensions)
            if adopted is not None:
                messages.success(request, _("已采用指标体系 %(system)s。") % {"system": adopted})
                return redirect("indicators:indicatorsystem", adopted.pk)
    except services.ExchangeError as error:
        messages.error(request, error.message)
    return render(request, "exchange/systems.html", context)


def _upper_reference(request, peer_pk, kind: str, pull):
    """The page of one kind of reference the upper peer hands down. ``pull(peer, context,
    adopt)`` fills the page's context and returns the success message once adopted."""
    _manager(request)
    peer = get_object_or_404(Peer, pk=peer_pk, relation=PeerRelation.UPPER)
    context = {"peer": peer, "kind": kind}
    try:
        adopted_message = pull(peer, context, request.method == "POST")
        if adopted_message:
            messages.success(request, adopted_message)
            return redirect(f"exchange:{kind}", peer.pk)
    except services.ExchangeError as error:
        messages.error(request, error.message)
    return render(request, "exchange/reference.html", context)


@login_required
def methods(request, peer_pk):
    """The method files the upper peer offers; ``?name=`` shows what one changes against
    ours; POST adopts it (offers it to our users; our own files are never overwritten)."""
    from . import distribution

    name = request.POST.get("name") or request.GET.get("name", "")

    def pull(peer, context, adopt):
        context["selected"] = name
        context["available"] = distribution.available(peer, path=distribution.METHODS_PATH)
        if name:
            context["changes"], adopted = distribution.pull_method(
                peer, name, acting_user=request.user, adopt=adopt
            )
            if adopted is not None:
                return _("已采用评价方法 %(name)s。") % {"name": name}
        return None

    return _upper_reference(request, peer_pk, "methods", pull)


@login_required
def divisions(request, peer_pk):
    """What the upper peer's division codes change against ours; POST adopts them."""
    from . import distribution

    def pull(peer, context, adopt):
        context["changes"], counts = distribution.pull_divisions(
            peer, acting_user=request.user, adopt=adopt
        )
        if counts is not None:
            return _("已采用上级平台的区划代码：%(counts)s。") % {"counts": counts}
        return None

    return _upper_reference(request, peer_pk, "divisions", pull)
