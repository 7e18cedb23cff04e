"""Department publisher SDK: validate, encode and publish change events with CloudEvents headers."""

from renkei.publish.producer import PreparedRecord, Publisher

__all__ = ["PreparedRecord", "Publisher"]
