# Renkei CLI, stage workers and the staff web view. The schema catalogue, the data-sharing
# agreements, the code maps (コード読替表) and the CSV mappings are part of the image; mount your
# own over /app/deploy/... to change them. Build: docker build -t renkei:0.1.0 .
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY schemas ./schemas
COPY deploy/agreements ./deploy/agreements
COPY deploy/code-maps ./deploy/code-maps
COPY deploy/mappings ./deploy/mappings
RUN pip install --no-cache-dir . \
    && mkdir -p /var/lib/renkei \
    && chown 65534:65534 /var/lib/renkei
# Settings (renkei.settings.Settings): catalogue, agreements and code maps from the image;
# state (RocksDB tables of the workers, audit log, pseudonym keys) under RENKEI_HOME, a volume
# in compose/k8s.
ENV RENKEI_SCHEMAS_DIR=/app/schemas/avro \
    RENKEI_AGREEMENTS_DIR=/app/deploy/agreements \
    RENKEI_CODE_MAPS_DIR=/app/deploy/code-maps \
    RENKEI_HOME=/var/lib/renkei \
    PYTHONUNBUFFERED=1
USER 65534:65534
EXPOSE 6066 6067 6068 6069 6070 8090
ENTRYPOINT []
CMD ["renkei", "--help"]
