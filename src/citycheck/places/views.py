from citycheck.core import access
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from .filtersets import PlaceFilterSet
from .models import Place


class PlaceListView(RestrictedListView):
    """The places in reach as a tree (ordered by path), optionally one level only."""

    queryset = Place.objects.order_by("path")
    paginate_by = None

    def get_queryset(self):
        return PlaceFilterSet(self.request.GET, queryset=super().get_queryset()).qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        places = context["object_list"]
        top_depth = min((p.path.count("/") for p in places), default=0)
        context["rows"] = [(place, place.path.count("/") - top_depth) for place in places]
        return context


class PlaceView(RestrictedDetailView):
    queryset = Place.objects.select_related("parent", "boundary")
    slug_field = slug_url_kwarg = "code"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        place = self.object
        user = self.request.user
        context.update(
            ancestors=access.restrict(place.ancestors(), user),
            children=access.restrict(place.children.all(), user),
            years=place.years.order_by("-year"),
            division_changes=place.predecessors.all(),
            has_boundary=hasattr(place, "boundary"),
        )
        return context
