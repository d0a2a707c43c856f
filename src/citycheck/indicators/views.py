from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from . import services
from .models import Indicator, IndicatorSystem


class IndicatorSystemListView(RestrictedListView):
    queryset = IndicatorSystem.objects.select_related("extends", "owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_import"] = access.may(self.request.user, Action.MANAGE)
        return context


@login_required
def system_import(request):
    """Import a system file (a new system, a new version, or a change of one the user's
    level owns); a province's administrator in a national instance is refused changing
    the national system, with the reason, and may import an extension of it instead."""
    if not access.may(request.user, Action.MANAGE):
        raise PermissionDenied(_("只有管理员可以导入指标体系。"))
    context, status = {}, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["issues"], status = [_("请选择指标体系文件（YAML）。")], 400
        else:
            try:
                system = services.import_uploaded_system(upload, acting_user=request.user)
            except PermissionDenied as refusal:
                context["refusal"], status = str(refusal), 403
            except services.SystemFileError as error:
                context["issues"], status = [str(issue) for issue in error.issues], 400
            else:
                return redirect("indicators:indicatorsystem", system.pk)
    return render(request, "indicators/system_import.html", context, status=status)


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
