"""Japanese public-sector identifiers: check digits and detection of forbidden numbers."""
