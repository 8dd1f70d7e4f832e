# syntax=docker/dockerfile:1
# The one image of DVC Hub: every role (api, inbound, relay, projections, sealer, connector)
# and the command line run from it (compose.yaml). Built in two stages: the locked packages
# and the hub are installed into a virtual environment, which alone is copied into the
# image that runs, as an unprivileged user.
#   docker build -t dvchub:local .
# Debian trixie: its postgresql-client (17) backs up the compose file's PostgreSQL (17);
# pg_dump refuses a server newer than itself.
ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dvchub
# Exactly the locked packages, their hashes checked (scripts/lock writes the file).
COPY requirements/runtime.txt /tmp/runtime.txt
RUN /opt/dvchub/bin/pip install --require-hashes --no-deps -r /tmp/runtime.txt
WORKDIR /src
COPY pyproject.toml README.md ./
COPY events ./events
COPY hub ./hub
COPY projections ./projections
COPY connectors ./connectors
COPY verifier ./verifier
RUN /opt/dvchub/bin/pip install --no-deps --no-build-isolation . \
    && /opt/dvchub/bin/python -m compileall -q /opt/dvchub/lib

FROM ${PYTHON_IMAGE}
# pg_dump and pg_restore, for dvchub backup and restore.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 dvchub \
    && useradd --system --uid 10001 --gid dvchub --home-dir /var/lib/dvchub \
       --no-create-home --shell /usr/sbin/nologin dvchub \
    && install -d -o dvchub -g dvchub -m 0700 /var/lib/dvchub
COPY --from=build /opt/dvchub /opt/dvchub
COPY scenarios /usr/share/dvchub/scenarios
ENV PATH=/opt/dvchub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DVCHUB_DATA_DIR=/var/lib/dvchub \
    DVCHUB_API_HOST=0.0.0.0
USER dvchub:dvchub
WORKDIR /var/lib/dvchub
# The checkpoint signing key, the key wrapping applicants' data keys and the published
# checkpoints live here: a volume, never in the image.
VOLUME ["/var/lib/dvchub"]
EXPOSE 8000
ENTRYPOINT ["dvchub"]
CMD ["--help"]
