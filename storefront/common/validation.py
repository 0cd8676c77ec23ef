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


def validated_by_declared_fields(
    serializer_class: type[serializers.Serializer], data: object
) -> dict[str, Any]:
    """What `serializer_class(data=data)` would hold as `validated_data`; raises the same
    ValidationError (errors keyed by field) when it would not be valid."""
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [_not_an_object(data)]}, code="invalid")
    return _validated_fields(serializer_class, data)


class DeclaredFieldsObject(serializers.Field):
    """A nested object validated by `serializer_class`'s declared fields (see the module), for
    use as a ListField's child; decorate it with `extend_schema_field(serializer_class)`."""

    serializer_class: type[serializers.Serializer]

    def to_internal_value(self, data: object) -> Any:
        if not isinstance(data, Mapping):  # as a list item, the item's own error
            raise ValidationError([_not_an_object(data)], code="invalid")
        return _validated_fields(self.serializer_class, data)


def _validated_fields(
    serializer_class: type[serializers.Serializer], data: Mapping
) -> dict[str, Any]:
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


def _not_an_object(data: object) -> str:
    return f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
