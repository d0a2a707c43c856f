from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from .models import Round, Source, Value


class RoundListView(RestrictedListView):
    queryset = Round.objects.select_related("system")


class RoundView(RestrictedDetailView):
    """A round and, for one source, a table of its values: a row per place in reach, a
    column per indicator the user may see."""

    queryset = Round.objects.select_related("system")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        source = self.request.GET.get("source", Source.SELF_CHECK)
        if source not in Source.values:
            source = Source.SELF_CHECK
        values = (
            Value.objects.restrict(self.request.user)
            .filter(round=self.object, source=source)
            .select_related("place", "indicator")
            .order_by("place__path", "indicator__order")
        )
        indicators, rows = {}, {}
        for value in values:
            indicators.setdefault(value.indicator_id, value.indicator)
            rows.setdefault(value.place, {})[value.indicator_id] = value
        columns = sorted(indicators.values(), key=lambda i: (i.dimension_id, i.order, i.code))
        context.update(
            source=source,
            sources=Source.choices,
            columns=columns,
            rows=[(place, [cells.get(i.pk) for i in columns]) for place, cells in rows.items()],
        )
        return context


class ValueView(RestrictedDetailView):
    queryset = Value.objects.select_related("round", "place", "indicator", "updated_by")
