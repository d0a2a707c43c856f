"""API fields shared by the apps."""

from __future__ import annotations

import math

from rest_framework import serializers

from citycheck.core.numbers import NumberError, parse_number


class NumberField(serializers.FloatField):
    """A float read by :func:`~citycheck.core.numbers.parse_number`, the parser of the entry
    form and the Excel upload; a non-finite number already stored is shown as null (JSON
    has no NaN or infinity), never a server error."""

    def to_internal_value(self, data):
        try:
            return parse_number(data)
        except NumberError as bad:
            raise serializers.ValidationError(str(bad), code="invalid") from None
        except TypeError:
            self.fail("invalid")

    def to_representation(self, value):
        number = float(value)
        return number if math.isfinite(number) else None
