"""The PyPI-compatible package registry of a project, for the GitLab stand-in (REST v4).

What the release job's twine upload and the CI template's pip install use, answered as GitLab
documents its PyPI API:

* ``POST /projects/:id/packages/pypi`` — twine's upload (multipart ``content`` plus metadata
  fields, ``sha256_digest`` checked); the CI job token (``gitlab-ci-token``) or a token with the
  ``api`` scope; a file already there is GitLab's 400 (``File name has already been taken``)
* ``GET /projects/:id/packages/pypi/simple/:name`` — the PEP 503 page of one package (names
  normalized), each link ``files/<sha256>/<file>#sha256=<sha256>``; anonymous like a public
  project; an unknown package is GitLab's 404
* ``GET /projects/:id/packages/pypi/files/:sha256/:file`` — the file

The project is its numeric id or URL-encoded full path (``acme%2Fsecscan``), as elsewhere; the
index's links name it by id, as GitLab's do (pip would turn ``%2F`` into a path separator).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from tests.support.gitlab_standin import ApiError, GitLabStandIn, Request, Response


@dataclass
class PackageFile:
    name: str
    version: str
    filename: str
    content: bytes
    sha256: str
    requires_python: str


@dataclass
class Registry:
    """Every project's packages: ``files[project] -> [PackageFile]``."""

    files: dict[str, list[PackageFile]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    """Project path -> numeric id (GitLab's links name the project by id)."""
    downloads: list[str] = field(default_factory=list)
    """File names served, in order."""
    pages: list[str] = field(default_factory=list)
    """Index pages served (normalized package names), in order."""


def normalize(name: str) -> str:
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _multipart(req: Request) -> dict[str, tuple[str | None, bytes]]:
    """``name -> (filename, bytes)`` of a multipart/form-data body."""
    ctype = req.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(400, "400 Bad request - multipart/form-data expected")
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + req.body)
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            out[name] = (part.get_filename(), payload)
    return out


def _uploaded(form: dict[str, tuple[str | None, bytes]]) -> PackageFile:
    """The file twine sent, checked as GitLab checks it."""
    fields = {k: v.decode("utf-8") for k, (fname, v) in form.items() if fname is None}
    filename, content = form.get("content", (None, b""))
    if not filename:
        raise ApiError(400, "400 Bad request - content is missing")
    digest = hashlib.sha256(content).hexdigest()
    if fields.get("sha256_digest", digest) != digest:
        raise ApiError(400, "400 Bad request - sha256_digest does not match the file")
    name, version = fields.get("name"), fields.get("version")
    if not name or not version:
        raise ApiError(400, "400 Bad request - name, version are missing")
    return PackageFile(normalize(name), version, filename, content, digest, fields.get("requires_python", ""))


def install(gl: GitLabStandIn) -> Registry:
    registry = Registry()

    def project_key(params: dict[str, str]) -> str:
        project = unquote(params["project"])
        with gl.lock:
            if project.isdigit():
                return next((path for path, pid in registry.ids.items() if str(pid) == project), project)
            registry.ids.setdefault(project, 2000 + len(registry.ids))
        return project

    @gl.route("POST", "/projects/{project}/packages/pypi", name="pypi_upload", job_token=True)
    def upload(req: Request, params: dict[str, str]) -> Response:
        new = _uploaded(_multipart(req))
        with gl.lock:
            files = registry.files.setdefault(project_key(params), [])
            if any(f.filename == new.filename for f in files):
                raise ApiError(400, "Validation failed: File name has already been taken")
            files.append(new)
        return Response(201, {"message": "201 Created"})

    def simple(req: Request, params: dict[str, str]) -> Response:
        wanted = normalize(unquote(params["name"]))
        with gl.lock:
            files = [f for f in registry.files.get(project_key(params), []) if f.name == wanted]
        with gl.lock:
            registry.pages.append(wanted)
        if not files:
            raise ApiError(404, "404 Package Not Found")
        base = f"{req.base_url}/api/v4/projects/{registry.ids[project_key(params)]}/packages/pypi/files"
        links = "\n".join(
            f'<a href="{base}/{f.sha256}/{html.escape(f.filename)}#sha256={f.sha256}"'
            f' data-requires-python="{html.escape(f.requires_python)}">{html.escape(f.filename)}</a><br>'
            for f in files
        )
        page = f"<!DOCTYPE html>\n<html><head><title>Links for {wanted}</title></head><body>\n{links}\n</body></html>\n"
        return Response(200, page.encode("utf-8"), {"Content-Type": "text/html"})

    # pip asks for the page with a trailing slash (PEP 503), GitLab answers both.
    for pattern in (
        "/projects/{project}/packages/pypi/simple/{name}",
        "/projects/{project}/packages/pypi/simple/{name}/",
    ):
        gl.add_route("GET", pattern, simple, name="pypi_simple", job_token=True, public=True)

    @gl.route(
        "GET", "/projects/{project}/packages/pypi/files/{sha}/{filename}", name="pypi_file", job_token=True, public=True
    )
    def file(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            found = next(
                (
                    f
                    for f in registry.files.get(project_key(params), [])
                    if f.sha256 == params["sha"] and f.filename == unquote(params["filename"])
                ),
                None,
            )
            if found is None:
                raise ApiError(404, "404 Not Found")
            registry.downloads.append(found.filename)
        return Response(200, found.content)

    return registry
