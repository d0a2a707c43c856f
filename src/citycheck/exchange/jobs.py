"""Background jobs of the exchange: submitting to the level above (package, sign, send
with retries, receipt) and sending again a package not yet receipted. A national round
takes tens of seconds, so the ledger page starts a job and shows its progress."""

from django.urls import reverse

from citycheck.collection.models import Round
from citycheck.core.jobs import job_function

from . import services
from .models import OutgoingPackage, Peer, PeerRelation


def _sent_page(result: dict) -> str:
    return reverse("exchange:sent", args=[result["package_id"]])


def _outcome(job, outgoing: OutgoingPackage) -> dict:
    """The job's last message says what came of the package: the receipt's counts, or why
    nothing counts as submitted yet."""
    job.report(100, services.outcome_message(outgoing))
    return {"package_id": outgoing.package_id, "state": outgoing.state}


@job_function(
    "exchange.submit",
    result_url=_sent_page,
    known_errors=(services.ExchangeError,),
)
def submit_job(job, *, round_id: int, peer_id: int, only_changed=True, parts=(), send=True):
    """Package the round for the upper peer and (``send``) deliver it; without ``send``
    the package waits in the ledger to be downloaded as a file."""
    outgoing = services.prepare_package(
        Round.objects.select_related("system").get(pk=round_id),
        Peer.objects.get(pk=peer_id, relation=PeerRelation.UPPER),
        acting_user=job.created_by,
        only_changed=only_changed,
        parts=tuple(parts),
        report=job.report,
    )
    if send:
        outgoing = services.send_package(outgoing, acting_user=job.created_by, report=job.report)
    return _outcome(job, outgoing)


@job_function(
    "exchange.send",
    result_url=_sent_page,
    known_errors=(services.ExchangeError,),
)
def send_job(job, *, package_id: str):
    """Send again a package the peer has not receipted (undelivered, refused, prepared)."""
    outgoing = services.send_package(
        OutgoingPackage.objects.select_related("peer").get(package_id=package_id),
        acting_user=job.created_by,
        report=job.report,
    )
    return _outcome(job, outgoing)
