# The project's Airflow image: the official Airflow 3.3 (Python 3.11) image plus the pinned lock and
# this project installed as a package (no _PIP_ADDITIONAL_REQUIREMENTS).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:0 requirements.txt /opt/genesys/requirements.txt
RUN pip install --no-cache-dir -r /opt/genesys/requirements.txt
COPY --chown=airflow:0 . /opt/genesys
RUN pip install --no-cache-dir --no-deps /opt/genesys
