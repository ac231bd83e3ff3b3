"""FHIR Bulk Data Access (v2) export of an organisation: `GET /fhir/$export` and its files."""
