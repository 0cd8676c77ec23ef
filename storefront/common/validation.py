"""Validating input with a serializer's declared fields, without building the serializer.

DRF deep-copies every declared field (re-running each field's __init__) for each serializer it
instantiates, nested ones included: for an order's small body that cost more than validating
it. A serializer made only of declared fields, without `validate*` hooks, validates the same
with its class-level fields: unbound fields keep no state while they validate, so every request
(and thread) can share them.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty

NOT_AN_OBJECT = "Invalid data. Expected a dictionary, but got {datatype}."


def validated_by_declared_fields(
    serializer_class: type[serializers.Serializer], data: object
) -> dict[str, Any]:
    """What `serializer_class(data=data)` would hold as `validated_data`; raises the same
    ValidationError (errors keyed by field) when it would not be valid."""
    if not isinstance(data, Mapping):
        message = NOT_AN_OBJECT.format(datatype=type(data).__name__)
        raise ValidationError({"non_field_errors": [message]}, code="invalid")
    values, errors = {}, {}
    for name, field in serializer_class._declared_fields.items():
        try:
            values[field.source or name] = field.run_validation(data.get(name, empty))
        except SkipField:  # absent, optional and without a default
            pass
        except ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise ValidationError(errors)
    return values


class DeclaredFieldsObject(serializers.Field):
    """A nested object validated by `serializer_class`'s declared fields (see the module), for
    use as a ListField's child; decorate it with `extend_schema_field(serializer_class)`."""

    serializer_class: type[serializers.Serializer]

    def to_internal_value(self, data: object) -> Any:
        try:
            return validated_by_declared_fields(self.serializer_class, data)
        except ValidationError as error:
            detail = error.detail
            # As a list item, a body that is no object is the item's own error.
            if isinstance(detail, dict) and list(detail) == ["non_field_errors"]:
                raise ValidationError(detail["non_field_errors"]) from None
            raise
