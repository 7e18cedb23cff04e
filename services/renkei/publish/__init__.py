"""Department publisher SDK: validate, encode and publish change events with CloudEvents headers."""

from renkei.publish.producer import Publisher, PreparedRecord

__all__ = ["PreparedRecord", "Publisher"]
