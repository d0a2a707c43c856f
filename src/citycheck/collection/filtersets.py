import django_filters

from .models import Round, Source, Submission, Value


class RoundFilterSet(django_filters.FilterSet):
    class Meta:
        model = Round
        fields = ["year", "kind", "status", "system", "is_synthetic"]


class ValueFilterSet(django_filters.FilterSet):
    place = django_filters.CharFilter(field_name="place__code", label="place code")
    source = django_filters.ChoiceFilter(choices=Source.choices)

    class Meta:
        model = Value
        fields = ["round", "place", "indicator", "source"]


class SubmissionFilterSet(django_filters.FilterSet):
    place = django_filters.CharFilter(field_name="place__code", label="place code")
    department = django_filters.CharFilter(field_name="department__code", label="department code")

    class Meta:
        model = Submission
        fields = ["round", "place", "source", "status", "department"]
