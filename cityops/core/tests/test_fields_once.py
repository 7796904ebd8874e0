"""Input serializers that keep their bound fields per thread (core.api.FieldsOnce)."""

from __future__ import annotations

import threading

from rest_framework import serializers

from cityops.core.api import FieldsOnce


class Report(FieldsOnce):
    code = serializers.CharField(max_length=5)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    kind = serializers.ChoiceField(choices=["a", "b"], default="a")
    tags = serializers.ListField(child=serializers.CharField(), required=False, default=list)


def test_each_serializer_validates_its_own_data_with_the_same_fields():
    first = Report(data={"code": "07001", "lat": "36.2", "tags": ["x"]})
    assert first.is_valid(), first.errors
    second = Report(data={"code": "too-long", "lat": "91"})
    assert not second.is_valid()
    assert set(second.errors) == {"code", "lat"}
    third = Report(data={"code": "06010", "lat": 1, "kind": "b"})
    assert third.is_valid(), third.errors

    assert first.validated_data == {"code": "07001", "lat": 36.2, "kind": "a", "tags": ["x"]}
    assert third.validated_data == {"code": "06010", "lat": 1.0, "kind": "b", "tags": []}
    # built once: the same field objects, each pointing at the serializer in use
    assert third.fields["code"] is first.fields["code"]
    assert third.fields["code"].parent is third
    assert third.fields["tags"].child.parent is third.fields["tags"]


def test_threads_keep_their_own_fields():
    here = Report(data={"code": "07001", "lat": 0})
    assert here.is_valid()
    seen = {}

    def other():
        s = Report(data={"code": "x" * 9, "lat": 0})
        seen["valid"] = s.is_valid()
        seen["field"] = s.fields["code"]
        seen["errors"] = dict(s.errors)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["valid"] is False and list(seen["errors"]) == ["code"]
    assert seen["field"] is not here.fields["code"]
    assert here.fields["code"].parent is here
