# secscan's release image: secscan, its pinned scanners (image/requirements.txt), git, and the
# advisory snapshot it was built with. Non-root, no compilers, no network needed to scan.
#
#   python -m build --outdir dist .                       # the wheel (the release job does this)
#   docker build -t secscan:$(secscan --version | cut -d' ' -f3) .
#
# BASE: any Debian-like image with python3 (>= 3.11), python3-venv and useradd; the default is
# Docker Hub's. tests/release/test_release_image.py makes one from Debian's packages
# (tests/support/image.py: mmdebstrap, docker import) and passes it here; so can a runner that
# cannot pull. ADVISORY_SOURCE_URL: where `secscan advisories update` fetches OSV's exports for
# PyPI and npm at build time (a mirror, or a loopback server in the tests).
ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS build
# Inherit nothing from the build machine's pip configuration; write no bytecode while building
# (what is compiled is chosen below).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_CONFIG_FILE=/dev/null PYTHONDONTWRITEBYTECODE=1
COPY image/requirements.txt /tmp/requirements.txt
COPY dist/ /tmp/dist/
# Only binary wheels: a dependency that would need a compiler fails the build instead of
# pulling one in. PIP_FIND_LINKS / PIP_NO_INDEX as build args point at a local wheelhouse.
ARG PIP_INDEX_URL=
ARG PIP_FIND_LINKS=
ARG PIP_NO_INDEX=
# --no-compile: the scanners' bytecode would add 58 MB to an image whose largest part is
# semgrep's engine (264 MB); secscan's own package, which every job starts several times, is
# compiled. pip stays (pip-audit asks it for its version).
RUN python3 -m venv /opt/secscan \
 && /opt/secscan/bin/pip install --no-compile --only-binary=:all: -r /tmp/requirements.txt /tmp/dist/secscan-*.whl \
 && /opt/secscan/bin/python -m compileall -q /opt/secscan/lib/python3*/site-packages/secscan \
 && /opt/secscan/bin/secscan --version

# The advisory snapshot: OSV's exports of the build day, checked and stored by the same command
# the template's scheduled job runs. Nothing is fetched at scan time.
ARG ADVISORY_SOURCE_URL=https://osv-vulnerabilities.storage.googleapis.com
RUN /opt/secscan/bin/secscan advisories update --store /opt/secscan/advisories.sqlite --source-url "$ADVISORY_SOURCE_URL" \
 && /opt/secscan/bin/secscan advisories info --db /opt/secscan/advisories.sqlite

FROM ${BASE}
# git: the merge base, the diff and the merge request's commits (detect-secrets' history scan).
RUN if ! command -v git >/dev/null; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && useradd --uid 10001 --create-home --shell /bin/sh secscan
COPY --from=build /opt/secscan /opt/secscan
ENV PATH=/opt/secscan/bin:$PATH \
    SECSCAN_IMAGE_ADVISORY_DB=/opt/secscan/advisories.sqlite \
    SEMGREP_ENABLE_VERSION_CHECK=0 \
    SEMGREP_SEND_METRICS=off \
    PYTHONDONTWRITEBYTECODE=1
USER 10001
WORKDIR /home/secscan
CMD ["secscan", "--help"]
