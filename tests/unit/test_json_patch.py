"""The JSON Patch of two documents, applied by a real RFC 6902 library
(``jsonpatch``), turns the first into the second."""

from __future__ import annotations

import json

import jsonpatch
from hypothesis import given
from hypothesis import strategies as st

from read_api.json_patch import diff

keys = st.sampled_from(["a", "b", "c/d", "e~f", "", "0"])
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=20,
)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


@given(documents, documents)
def test_the_patch_applied_by_jsonpatch_gives_the_target(source, target):
    patch = diff(source, target)
    result = jsonpatch.apply_patch(source, patch)
    assert _canonical(result) == _canonical(target)


@given(documents)
def test_equal_documents_need_no_operation(document):
    assert diff(document, json.loads(json.dumps(document))) == []


def test_one_change_deep_in_a_document_is_one_operation():
    source = {"findings": [{"status": "open", "grade": "minor"}], "n": 1}
    target = {"findings": [{"status": "closed", "grade": "minor"}], "n": 1}
    assert diff(source, target) == [
        {"op": "replace", "path": "/findings/0/status", "value": "closed"}
    ]


def test_a_boolean_replacing_an_integer_is_a_change():
    assert diff({"a": 1}, {"a": True}) == [
        {"op": "replace", "path": "/a", "value": True}
    ]
