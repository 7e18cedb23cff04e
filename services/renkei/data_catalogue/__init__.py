"""The data catalogue page (データカタログ): what data exists, where it comes from, who uses it
and why — for staff who are not engineers, served by ``renkei catalogue serve``.

Everything on the page is derived, never kept by hand: topics, owners, bilingual field docs,
PII classes, zones, retention and compatibility from the schema catalogue
(``schemas/avro/*/topic.yaml``) and the purpose views of the agreements; schema versions and
what changed between them from the registry; who may read or write from the data-sharing
agreements and the stage registry; the lineage graph from the same three; live figures from the
platform's own metrics (Kafka offsets and the workers' ``/metrics``). ``dcat.py`` exports it
as DCAT JSON-LD for a CKAN-style portal. ``identity.py`` is where the staff login plugs in.

Modules, in the order a page is built: ``fields`` (schema → documented fields), ``entries``
(one entry per topic), ``access`` (who reads and writes), ``lineage`` (the graph and its
layout), ``versions`` (registry history and diffs), ``live`` (figures), ``dcat`` (export),
``identity``, ``settings``, ``web`` (the aiohttp app), ``server`` (run it).
"""
