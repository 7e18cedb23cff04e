"""The schema catalogue: Avro schemas, topic metadata and examples under ``schemas/avro/``."""

from renkei.schemas.catalogue import Catalogue, TopicSpec, load_catalogue

__all__ = ["Catalogue", "TopicSpec", "load_catalogue"]
