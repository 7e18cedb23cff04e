# Renkei CLI and workers. The schema catalogue is part of the image.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY schemas ./schemas
RUN pip install --no-cache-dir .
ENV RENKEI_SCHEMAS_DIR=/app/schemas/avro
USER nobody
ENTRYPOINT []
CMD ["renkei", "--help"]
