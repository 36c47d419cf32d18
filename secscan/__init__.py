"""secscan: a security-scanning orchestrator for CI/CD.

Kept import-free on purpose: `secscan --version` must stay fast, so heavy modules
(semgrep wrappers, python-gitlab, docker, jinja2) are imported only where used.
"""

__version__ = "0.3.0"
