# syntax=docker/dockerfile:1
# The project's Airflow image: the official Airflow image plus the project's locked dependencies (uv.lock).
# The code (dags/, plugins/, dbt_project/, expectations/) is mounted by docker-compose.yaml, not baked in.
#
# The lock already pins apache-airflow to the image's version, so it is the constraint set: installing it
# with Airflow's published constraints file as well would conflict wherever the lock chose a newer library.
# Pinning "apache-airflow==${AIRFLOW_VERSION}" on the pip command line (as Airflow's docs advise) stops
# pip from ever up- or downgrading the Airflow of the image.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13.9
ARG NODE_VERSION=20

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv
# node and npm, for the data docs' assets (`python -m elt.docs --assets` in the compose init): served locally,
# the data docs then work without internet
FROM node:${NODE_VERSION}-bookworm-slim AS node

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION

COPY --from=uv /uv /usr/local/bin/uv
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
USER root
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
USER airflow
COPY --chown=airflow:0 pyproject.toml uv.lock /opt/airflow/project/

RUN uv export --project /opt/airflow/project --frozen --no-dev --no-emit-project --no-hashes \
        --output-file /tmp/requirements.txt \
    && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

ENV PYTHONPATH=/opt/airflow/plugins \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
