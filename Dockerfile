# The project's Airflow image: the official Airflow 3.3 (Python 3.11) image plus the pinned lock and this
# project installed as a package (no _PIP_ADDITIONAL_REQUIREMENTS). docker-compose.yaml builds it for every
# Airflow component, the sandbox and the local S3, so all of them run the same code.
FROM apache/airflow:3.3.2-python3.11 AS base

# The lock first: its layer is reused as long as requirements.txt does not change. Installing the exact
# apache-airflow pin of the lock keeps pip from replacing the image's Airflow.
COPY --chown=airflow:0 requirements.txt /opt/genesys/requirements.txt
RUN pip install --no-cache-dir -r /opt/genesys/requirements.txt

# The project (dags/, plugins/, include/, config/): editable, as in the venv, so the settings file and the
# package data stay where the code expects them.
COPY --chown=airflow:0 . /opt/genesys
RUN pip install --no-cache-dir --no-deps -e /opt/genesys
WORKDIR /opt/genesys

# The compose `local` profile's sandbox and local S3 (moto's server): the runtime image plus
# requirements-local.txt. Never the image the Airflow components run.
FROM base AS local
RUN pip install --no-cache-dir -r /opt/genesys/requirements-local.txt

# The runtime image (the default target): no local S3 emulator.
FROM base AS runtime
