"""validated_by_declared_fields() validates as DRF's own serializer would."""

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from storefront.common.validation import DeclaredFieldsObject, validated_by_declared_fields


class LineSerializer(serializers.Serializer):
    sku = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, max_length=5)


class LineField(DeclaredFieldsObject):
    serializer_class = LineSerializer


class BodySerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=10)
    label = serializers.CharField(required=False, allow_blank=True, default="")
    optional = serializers.IntegerField(required=False)
    renamed = serializers.CharField(required=False, source="name")
    email = serializers.EmailField(required=False)
    lines = serializers.ListField(child=LineField(), allow_empty=False, max_length=2)


class NestedBodySerializer(BodySerializer):
    """The same body with DRF's nested serializer for the lines."""

    lines = LineSerializer(many=True, allow_empty=False, max_length=2)


BODIES = {
    "valid": {"number": 3, "lines": [{"sku": 1}]},
    "every field": {
        "number": "4",
        "label": " x ",
        "optional": 7,
        "renamed": "n",
        "email": " a@example.com ",
        "lines": [{"sku": 1, "note": "hi"}, {"sku": "2"}],
    },
    "missing required": {"lines": [{"sku": 1}]},
    "null": {"number": None, "lines": [{"sku": 1}]},
    "out of range": {"number": 11, "lines": [{"sku": 1}]},
    "not a number": {"number": "x", "lines": [{"sku": 1}]},
    "bad email": {"number": 1, "email": "nope", "lines": [{"sku": 1}]},
    "several errors": {"number": 0, "optional": "y", "lines": []},
    "lines not a list": {"number": 1, "lines": {"sku": 1}},
    "too many lines": {"number": 1, "lines": [{"sku": 1}] * 3},
    "bad line": {"number": 1, "lines": [{"sku": 1}, {"sku": 0, "note": "too long"}]},
    "line missing a field": {"number": 1, "lines": [{"note": "a"}]},
    "body is a list": [{"number": 1}],
    "body is a string": "number",
}


def drf_outcome(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "invalid", serializer.errors


def our_outcome(serializer_class, data):
    try:
        return "valid", validated_by_declared_fields(serializer_class, data)
    except ValidationError as error:
        return "invalid", error.detail


@pytest.mark.parametrize("case", BODIES)
def test_outcome_matches_drfs(case):
    ours = our_outcome(BodySerializer, BODIES[case])
    assert ours == drf_outcome(BodySerializer, BODIES[case])


@pytest.mark.parametrize("case", BODIES)
def test_lines_validate_as_a_nested_serializer_would(case):
    """Same values; errors differ only in shape: keyed by line index, not a list of dicts."""
    status, ours = our_outcome(BodySerializer, BODIES[case])
    nested_status, nested = drf_outcome(NestedBodySerializer, BODIES[case])
    assert status == nested_status
    if status == "valid":
        assert ours == nested | {"lines": [dict(line) for line in nested["lines"]]}
    elif isinstance(nested.get("lines"), list) and isinstance(nested["lines"][0], dict):
        by_index = {index: error for index, error in enumerate(nested["lines"]) if error}
        assert ours["lines"] == by_index
    else:
        assert ours.keys() == nested.keys()


def test_a_line_that_is_no_object_is_that_lines_error():
    status, errors = our_outcome(BodySerializer, {"number": 1, "lines": [{"sku": 1}, "x"]})
    assert (status, errors) == (
        "invalid",
        {"lines": {1: ["Invalid data. Expected a dictionary, but got str."]}},
    )


def test_fields_are_shared_not_bound():
    """No request binds the class's fields to itself (they would then carry its state)."""
    validated_by_declared_fields(BodySerializer, BODIES["every field"])
    assert all(field.parent is None for field in BodySerializer._declared_fields.values())
