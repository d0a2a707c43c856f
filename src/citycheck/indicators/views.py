from itertools import groupby

from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from .models import Indicator, IndicatorSystem


class IndicatorSystemListView(RestrictedListView):
    queryset = IndicatorSystem.objects.select_related("extends")


class IndicatorSystemView(RestrictedDetailView):
    """A system's dimensions, each with its indicators (own and inherited)."""

    queryset = IndicatorSystem.objects.select_related("extends")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        indicators = (
            self.object.all_indicators()
            .select_related("department", "system")
            .order_by("dimension__order", "dimension__code", "order", "code")
        )
        context["dimensions"] = [
            (dimension, list(rows))
            for dimension, rows in groupby(indicators, key=lambda indicator: indicator.dimension)
        ]
        return context


class IndicatorView(RestrictedDetailView):
    queryset = Indicator.objects.select_related("system", "dimension", "department")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["standards"] = self.object.standards.order_by("city_class")
        context["crosswalk"] = self.object.crosswalk_out.select_related("target__system")
        return context
