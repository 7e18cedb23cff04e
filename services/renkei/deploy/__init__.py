"""Deployment helpers run by operators, not by workers: generators of the files in deploy/."""
