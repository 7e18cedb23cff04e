.PHONY: help install stack-up stack-down stack-status demo test test-long lint unit staff-view catalogue deploy-generate fault

help:  ## List the common tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install:  ## Create .venv and install renkei with test tools
	scripts/bootstrap.sh

stack-up: install  ## Start Kafka + Apicurio Registry (downloads them once via Maven)
	.venv/bin/renkei stack up

stack-down:  ## Stop the servers this checkout started
	.venv/bin/renkei stack down

stack-status:  ## Show the servers, versions and addresses
	.venv/bin/renkei stack status

demo: install  ## The main job: the whole platform with a live summary for 2 minutes
	.venv/bin/renkei demo --duration 120

staff-view: install  ## Staff web page (regions, evacuation lists) at http://127.0.0.1:8090/
	.venv/bin/python -m staff_view

catalogue: install  ## Data catalogue for staff (データカタログ) at http://127.0.0.1:8094/
	.venv/bin/renkei catalogue serve

test:  ## The test command: starts the stack, runs lint, unit and integration tests
	scripts/test.sh

test-long: install  ## Only the long live tests CI leaves out (needs `renkei stack up`; ~10 min)
	.venv/bin/pytest -m long

fault: install  ## Fault-injection suite a-i, full length (~30-45 min here; docs/reliability.md)
	scripts/fault.sh

unit: install  ## Fast tests only (no broker needed)
	.venv/bin/pytest -m "not kafka"

lint: install  ## ruff and mypy
	.venv/bin/ruff check services tests
	.venv/bin/mypy

deploy-generate: install  ## Regenerate deploy/k8s/topics.yaml and prometheus-rules.yaml
	.venv/bin/python -m renkei.deploy.k8s_topics -o deploy/k8s/topics.yaml
	.venv/bin/python -m renkei.deploy.k8s_rules > deploy/k8s/prometheus-rules.yaml
