"""Fill ``Round.scope`` from each round's places (an instance without a nation place gets
its province; nothing else changes)."""

from django.db import migrations


def fill_scope(apps, schema_editor):
    """The lowest province or nation holding every place of the round (as
    ``Place.objects.governing`` finds it); none when its places share no such place."""
    Round = apps.get_model("collection", "Round")
    Place = apps.get_model("places", "Place")
    for round_ in Round.objects.all():
        paths = [
            path.strip("/").split("/") for path in round_.places.values_list("path", flat=True)
        ]
        shared = []
        for codes in zip(*paths, strict=False):
            if len(set(codes)) > 1:
                break
            shared.append(codes[0])
        scope = (
            Place.objects.filter(code__in=shared, level__in=["nation", "province"])
            .order_by("-path")
            .first()
        )
        if scope is not None:
            Round.objects.filter(pk=round_.pk).update(scope=scope)


class Migration(migrations.Migration):
    dependencies = [("collection", "0006_round_scope")]

    operations = [migrations.RunPython(fill_scope, migrations.RunPython.noop)]
