"""Wire models of the query API: one module per resource.

Each query route names its answer here, so that ``/openapi.json`` shows every
field and generated clients are typed: ``XPublic`` for a row or record,
``XDetail`` for a record with the rows that belong to it, ``XPage`` for a
page of a list.

A list row's fields are its listing's output columns, in order and of the
columns' types, every one always present (``tests/unit/test_query_models.py``
holds them equal). Lists and details still answer the rows as read, through
``JSONResponse``: the model documents the answer without validating every
row on the way out, and ``tests/e2e/test_query_answers.py`` checks real
answers against the document. These modules import only the domain's value
types, the projections' declarations and pydantic.
"""
