"""Wire models of the query API: one module per resource.

Each query route names its answer here, so that ``/openapi.json`` shows every
field and generated clients are typed. These modules import only the domain's
value types, the projections' table declarations and pydantic.
"""
