# secscan's release image: secscan, its pinned scanners (image/requirements.txt), git, and the
# advisory snapshot it was built with. Non-root, no compilers, no network needed to scan.
#
#   python -m build --outdir dist .                       # the wheel (the release job does this)
#   docker build --build-arg ADVISORIES=advisories -t secscan:$(secscan --version | cut -d' ' -f3) .
#
# BASE: any Debian-like image with python3 (>= 3.11) and python3-venv; the default is Docker
# Hub's. Tests that cannot pull make it from Debian's packages (bench/image.py: mmdebstrap) and
# pass it here. ADVISORIES: a folder in the build context holding OSV exports (zips or folders of
# OSV JSON, e.g. PyPI's and npm's all.zip); the default is the demo set, for local builds only.
ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS build
# Inherit nothing from the build machine's pip configuration.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_CONFIG_FILE=/dev/null
COPY image/requirements.txt /tmp/requirements.txt
COPY dist/ /tmp/dist/
# Only binary wheels: a dependency that would need a compiler fails the build instead of
# pulling one in. PIP_FIND_LINKS / PIP_INDEX_URL as build args point at a local wheelhouse.
ARG PIP_INDEX_URL=
ARG PIP_FIND_LINKS=
ARG PIP_NO_INDEX=
RUN python3 -m venv /opt/secscan \
 && /opt/secscan/bin/pip install --only-binary=:all: -r /tmp/requirements.txt /tmp/dist/secscan-*.whl \
 && /opt/secscan/bin/secscan --version

ARG ADVISORIES=examples/advisories
COPY ${ADVISORIES} /tmp/advisories/
# One import per OSV export zip (PyPI's and npm's all.zip); a folder of OSV files is imported
# whole. Nothing is fetched at scan time.
RUN set -e; db=/opt/secscan/advisories.sqlite; \
    if ls /tmp/advisories/*.zip >/dev/null 2>&1; then \
      for z in /tmp/advisories/*.zip; do /opt/secscan/bin/secscan advisories import "$z" --db "$db"; done; \
    else /opt/secscan/bin/secscan advisories import /tmp/advisories --db "$db"; fi; \
    /opt/secscan/bin/secscan advisories info --db "$db"; rm -rf /tmp/advisories

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
