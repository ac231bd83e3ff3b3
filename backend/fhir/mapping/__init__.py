"""Plain functions from PhysioTrack's rows to FHIR R4 resources (dicts), one module per area.

Each `<model>_to_fhir(obj, …) -> dict` reads only the row and what it is given (related rows
preloaded by the caller's selector): it never queries, so the API's views and a later bulk
exporter can stream any number of rows through them. Resource ids are stable strings
(docs/fhir.md): the row's primary key per type, prefixed where one FHIR type holds two kinds of
rows (`Observation/session-12`, `Observation/assessment-5`).
"""
