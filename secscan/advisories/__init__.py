"""A local, reproducible OSV advisory database for PyPI, and an OSV-compatible query server.

pip-audit needs an online vulnerability service; on air-gapped runners it silently audits
nothing. This package loads OSV advisories (the PyPA advisory-database YAML layout, or a zip of
OSV JSON as exported by osv.dev) into a SQLite file with a snapshot id, and answers pip-audit's
``--osv-url`` queries from it on loopback.

Modules, one job each:

- :mod:`.osv`       validate and normalize one OSV record (pure)
- :mod:`.matching`  OSV version evaluation with PEP 440 ordering (pure)
- :mod:`.sources`   read a folder or zip of OSV files; malformed files are reported, not dropped
- :mod:`.store`     the SQLite store: build it (with its snapshot id) and query it
- :mod:`.update`    ``advisories update``: fetch OSV's PyPI and npm exports, check them, swap the store
- :mod:`.server`    ``POST /v1/query``, ``POST /v1/querybatch``, ``GET /v1/vulns/{id}``
- :mod:`.service`   ``start(path)``: database or source -> server on an ephemeral loopback port
"""

from __future__ import annotations
