from django.core.paginator import Paginator
from django.urls import reverse

from citycheck.core import access
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from .models import Round, Source, Value


class RoundListView(RestrictedListView):
    queryset = Round.objects.select_related("system")


class RoundView(RestrictedDetailView):
    """A round and, for one source, a table of its values: a row per place in reach (a page
    of places at a time), a column per indicator the user may see."""

    queryset = Round.objects.select_related("system")
    places_per_page = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        source = self.request.GET.get("source", Source.SELF_CHECK)
        if source not in Source.values:
            source = Source.SELF_CHECK
        places = access.restrict(self.object.places.order_by("path"), user)
        page = Paginator(places, self.places_per_page).get_page(self.request.GET.get("page"))
        # Plain tuples: a page of places holds thousands of values.
        values = (
            Value.objects.restrict(user)
            .filter(round=self.object, source=source, place__in=list(page.object_list))
            .values_list("place_id", "indicator_id", "pk", "value")
        )
        cells_by_place = {}
        for place_id, indicator_id, pk, number in values:
            cells_by_place.setdefault(place_id, {})[indicator_id] = (pk, number)
        seen = {indicator_id for cells in cells_by_place.values() for indicator_id in cells}
        columns = list(
            self.object.system.all_indicators()
            .filter(pk__in=seen)
            .only("code", "number", "name_zh", "unit", "decimals", "order", "dimension__order")
            .order_by("dimension__order", "order", "code")
        )
        context.update(
            source=source,
            sources=Source.choices,
            columns=columns,
            page_obj=page,
            rows=[
                (
                    place,
                    [value_cell(cells_by_place.get(place.pk, {}).get(i.pk), i) for i in columns],
                )
                for place in page.object_list
            ],
        )
        return context


def value_cell(cell: tuple[int, float | None] | None, indicator) -> tuple[str, str] | None:
    """(link, formatted number) of one table cell, built here because a province-wide
    table has thousands of cells and per-cell template tags would dominate the page time."""
    if cell is None:
        return None
    pk, number = cell
    shown = "—" if number is None else f"{number:.{indicator.decimals}f}"
    return reverse("collection:value", args=[pk]), shown


class ValueView(RestrictedDetailView):
    queryset = Value.objects.select_related("round", "place", "indicator", "updated_by")
