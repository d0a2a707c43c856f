"""The audit trail stores many-to-many fields and relations as keys, so any change-logged
model can be saved from the web (closing a round used to fail on its places)."""

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from citycheck.collection.models import Round, RoundStatus
from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord


def test_closing_a_round_from_the_web_closes_it_and_records_the_change(client, small_province):
    round_ = small_province.open_round
    admin = small_province.users[Role.PROVINCE_ADMIN]
    client.force_login(admin)
    response = client.post(
        reverse("collection:round_status", args=[round_.pk]), {"status": RoundStatus.CLOSED}
    )
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.status == RoundStatus.CLOSED
    record = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Round), object_id=str(round_.pk)
    ).first()
    assert record.kind == ChangeRecord.Kind.UPDATE and record.user == admin
    assert (record.before["status"], record.after["status"]) == ("open", "closed")
    expected_places = sorted(round_.places.values_list("pk", flat=True))
    assert record.after["places"] == expected_places and len(expected_places) == 7
