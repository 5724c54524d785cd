# Everything sets itself up from a fresh clone: `make test`, `make demo`.
PYTHON ?= python3
VENV := .venv
VENV_AF2 := .venv-af2
# Airflow 2.11 is kept working: the compiler suite also runs against it in a second venv.
AF2_REQUIREMENTS := "apache-airflow==2.11.*" apache-airflow-providers-amazon \
	"pytest>=8" hypothesis
AF2_TESTS := tests/compiler/test_golden.py tests/compiler/test_errors.py tests/compiler/test_properties_hypothesis.py \
	tests/compiler/test_group.py tests/compiler/test_experiment_config.py tests/definition/test_model.py tests/test_cli.py \
	tests/ui/test_plugin.py tests/compiler/test_bad_dags.py tests/compiler/test_mutations_hypothesis.py tests/definition/test_limits.py \
	tests/operators/test_aws_conventions.py tests/hooks/test_client_settings.py

# The MWAA matrix (docs/mwaa.md): per Airflow version MWAA runs, a Python 3.12 venv installed the way MWAA
# installs it, with MWAA's own constraints (tests/mwaa/constraints/), then this project's wheel under the same
# constraints, then tests/mwaa and the examples' runs with that venv's Airflow (the engine runs in .venv).
MWAA_VERSIONS := 2.11.0 3.0.6 3.3.1
MWAA_PYTHON ?= PYENV_VERSION=3.12.1 python3.12
MWAA_CONSTRAINTS = tests/mwaa/constraints/constraints-$(1).txt
# What MWAA's images install (without pycurl/celery[sqs], which need libcurl headers and only serve SQS brokers);
# the postgres provider and asyncpg because MWAA's metadata database is PostgreSQL (Airflow 3.3 also opens it async).
MWAA_REQUIREMENTS = "apache-airflow[celery,statsd]==$(1)" "apache-airflow-providers-amazon[aiobotocore]" \
	apache-airflow-providers-postgres asyncpg psycopg2-binary watchtower
WHEEL := dist/airflow_sagemaker_mlops-0.1.0-py3-none-any.whl
MWAA_TESTS := tests/mwaa tests/examples/test_demo.py tests/examples/test_runs.py

# The declared minimums (pyproject.toml) for real: uv's lowest-direct resolution of the package and its
# [local] extra on the oldest Python it allows, the test tools added without moving any of them, then the
# compiler, run-time and engine suites. Left out: the SageMaker SDK oracle tests (the sdk extra pins its own
# botocore), the property-schema and limits freshness checks (generated from the newest botocore) and four
# engine and start-task tests whose clients send request fields botocore 1.37.3 does not know (PipelineVersionId,
# MLflow).
VENV_MIN := .venv-minimums
MIN_TESTS := tests/compiler tests/definition tests/hooks tests/triggers tests/operators tests/sensors tests/local \
	tests/runtime/test_dags_test.py tests/test_cli.py tests/test_assets.py tests/test_packaging.py
MIN_DESELECT := --deselect tests/definition/test_properties.py::test_schema_is_up_to_date \
	--deselect tests/definition/test_limits.py::test_limits_json_is_what_botocore_says \
	--deselect tests/local/test_engine_pipelines.py::test_create_describe_update_list_delete \
	--deselect tests/local/test_engine_tracking.py::test_mlflow_config_is_reported_and_the_start_request_overrides_its_experiment \
	--deselect tests/operators/test_experiments.py::test_experiment_trial_and_mlflow_are_logged_and_pushed \
	--deselect tests/operators/test_experiments.py::test_the_start_task_of_a_groups_dag_file_reports_them

# The MWAA venvs are kept between runs (pattern-rule targets would otherwise be deleted as intermediate).
.PRECIOUS: .venv-mwaa-%/.installed

.PHONY: test test-fast test-af3 test-af2 test-mwaa test-minimums lint demo airflow venv clean chromium services wheel

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(VENV)/bin/python -q -e ".[test]"
	touch $@

$(VENV_AF2)/.installed: pyproject.toml
	test -x $(VENV_AF2)/bin/python || $(PYTHON) -m venv $(VENV_AF2)
	$(VENV_AF2)/bin/python -m pip install -q --upgrade pip uv
	$(VENV_AF2)/bin/uv pip install --python $(VENV_AF2)/bin/python -q $(AF2_REQUIREMENTS) -e ".[local]"
	touch $@

venv: $(VENV)/.installed

# `make demo` needs only the engine and numpy (the [demo] extra), not the test tools.
$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(VENV)/bin/python -q -e ".[demo]"
	touch $@

wheel: $(WHEEL)
$(WHEEL): pyproject.toml $(shell find airflow_sagemaker_mlops -name '*.py' -o -name '*.json' 2>/dev/null) | $(VENV)/.installed
	rm -rf dist && $(VENV)/bin/uv build -q --wheel -o dist .

# One venv per MWAA version, kept between runs (it depends only on the constraints file). The freeze taken
# before our wheel goes in is what tests/mwaa/test_environment.py compares against.
.venv-mwaa-%/.installed: tests/mwaa/constraints/constraints-%.txt Makefile | $(VENV)/.installed
	rm -rf .venv-mwaa-$*
	$(MWAA_PYTHON) -m venv .venv-mwaa-$*
	$(VENV)/bin/uv pip install --python .venv-mwaa-$*/bin/python -q -c $(call MWAA_CONSTRAINTS,$*) \
		$(call MWAA_REQUIREMENTS,$*)
	$(VENV)/bin/uv pip freeze --python .venv-mwaa-$*/bin/python > .venv-mwaa-$*/mwaa-freeze.txt
	touch $@

test-mwaa-%: .venv-mwaa-%/.installed $(WHEEL) $(VENV)/.installed services
	$(VENV)/bin/uv pip install --python .venv-mwaa-$*/bin/python -q -c $(call MWAA_CONSTRAINTS,$*) \
		--reinstall-package airflow-sagemaker-mlops $(WHEEL)
	$(call run_pytest,MWAA_VERSION=$* MWAA_VENV=$(CURDIR)/.venv-mwaa-$* AIRFLOW_BIN=$(CURDIR)/.venv-mwaa-$*/bin/airflow \
		$(VENV)/bin/pytest -q,$(MWAA_TESTS))

test-mwaa: $(addprefix test-mwaa-,$(MWAA_VERSIONS))

$(VENV_MIN)/.installed: pyproject.toml | $(VENV)/.installed
	rm -rf $(VENV_MIN)
	$(VENV)/bin/uv venv -q $(VENV_MIN) --python python3.11
	$(VENV)/bin/uv pip install --python $(VENV_MIN)/bin/python -q --resolution lowest-direct -e ".[local]"
	$(VENV)/bin/uv pip freeze --python $(VENV_MIN)/bin/python | grep "==" > $(VENV_MIN)/minimums.txt
	$(VENV)/bin/uv pip install --python $(VENV_MIN)/bin/python -q -c $(VENV_MIN)/minimums.txt "pytest>=8" \
		"hypothesis>=6.100" "numpy>=1.26"
	touch $@

test-minimums: $(VENV_MIN)/.installed
	$(call run_pytest,MINIMUMS=1 $(VENV_MIN)/bin/pytest -q -m "not sdk" $(MIN_DESELECT),$(MIN_TESTS))

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check airflow_sagemaker_mlops tests bench tools docker dags

# pytest exits 5 when it collected no test: that is a broken suite here, never a pass.
define run_pytest
	$(1) -p no:cacheprovider $(2); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests ($(2))"; exit 1; fi; exit $$rc
endef

# The end-to-end test takes a screenshot of the Airflow UI with Debian's Chromium; install it when missing
# (as root, as CI runs). Without it, only the screenshot part of that test is skipped, saying why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: chromium not installed (needs root and apt-get); the UI screenshot test will be skipped"; }

# Both cores: two pytest-xdist workers, each module whole on one worker and the shared cluster's tests on one
# (tests/conftest.py, pytest_collection_modifyitems). XDIST= runs a suite serially.
XDIST ?= -n 2 --dist loadgroup --no-loadscope-reorder

# The Airflow 3 suite: test-fast's tests, then the Airflow-process tests: `airflow dags test` runs (tests/runtime,
# the examples, the provider's system test) and one Airflow cluster for the session (tests/conftest.py's
# airflow_cluster: api-server, scheduler, dag-processor, triggerer), shared by tests/e2e and tests/runtime's
# scheduler and events tests. 11 min 41 s for 1,521 tests on 2 cores (15 min 59 s serially for 1,495; 25 min 57 s before
# the cluster was shared, under load; the cluster's 13 tests take 339 s, 526 s with one cluster per module).
test-af3: $(VENV)/.installed chromium
	$(call run_pytest,$(VENV)/bin/pytest -q $(XDIST),tests)

# The in-process part of test-af3: compiler, definition, IAM, hooks, triggers, operators and sensors driven
# directly, the engine, the UI and the CLI; no Airflow component runs and, but for the UI tests' fixture (one
# `airflow dags test`), no Airflow command. 1,474 tests; 2 min 27 s on 2 cores (3 min 35 s serially for 1,450;
# 5 min 22 s while the event tests' EventBridge rules stayed: every later execution's events went to their queues).
FAST_IGNORE := --ignore=tests/runtime --ignore=tests/e2e --ignore=tests/mwaa --ignore=tests/provider_system \
	--ignore=tests/examples/test_demo.py --ignore=tests/examples/test_runs.py
test-fast: $(VENV)/.installed chromium
	$(call run_pytest,$(VENV)/bin/pytest -q $(XDIST) $(FAST_IGNORE),tests)

# limits.json is checked against the botocore of .venv, where it is generated; .venv-af2 resolves another one.
test-af2: $(VENV_AF2)/.installed
	$(call run_pytest,$(VENV_AF2)/bin/pytest -q -p no:sagemaker_local_engine \
		--deselect tests/definition/test_limits.py::test_limits_json_is_what_botocore_says,$(AF2_TESTS))

# PostgreSQL and Redis for the MWAA-like end-to-end run (tests/mwaa/test_postgres_celery.py), from Debian's
# packages; the test starts its own servers on 127.0.0.1 and never uses a system service.
services:
	@{ command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
		[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null; }; } || \
		echo "note: postgresql/redis-server not installed (needs root and apt-get); the PostgreSQL + Celery run will fail"

test: lint docs test-af3 test-af2 test-mwaa test-minimums

# The reference site (mkdocs.yml, tools/mkdocs_hooks.py) from the docstrings, docs/*.md and the README, into
# site/. Strict: any warning fails it (a broken link or anchor between pages, a docstring naming a parameter
# that does not exist). Not -q: MkDocs counts warnings only when it logs them.
.PHONY: docs
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The churn_training example end to end on the local engine, once per branch, with a summary (tools/demo.py).
demo: $(VENV)/.demo-installed
	$(VENV)/bin/python tools/demo.py

# Airflow 3 (api-server, scheduler, dag-processor, triggerer) + the local engine on 127.0.0.1, dags/ loaded;
# prints the URL and login, runs until Ctrl-C (tools/airflow_local.py).
airflow: $(VENV)/.demo-installed
	$(VENV)/bin/python tools/airflow_local.py

clean:
	rm -rf $(VENV) $(VENV_AF2) .venv-mwaa-* .venv-minimums dist .pytest_cache .ruff_cache .hypothesis .airflow-demo .airflow-local
