# Everything sets itself up from a fresh clone: `make test`, `make demo`.
PYTHON ?= python3
VENV := .venv
VENV_AF2 := .venv-af2
# Airflow 2.11 is kept working: the compiler suite also runs against it in a second venv.
AF2_REQUIREMENTS := "apache-airflow==2.11.*" apache-airflow-providers-amazon apache-airflow-providers-common-compat \
	apache-airflow-providers-standard "pytest>=8" hypothesis
AF2_TESTS := tests/compiler/test_golden.py tests/compiler/test_errors.py tests/compiler/test_properties_hypothesis.py \
	tests/compiler/test_group.py tests/compiler/test_experiment_config.py tests/definition/test_model.py tests/test_cli.py \
	tests/ui/test_plugin.py tests/compiler/test_bad_dags.py tests/compiler/test_mutations_hypothesis.py tests/definition/test_limits.py

.PHONY: test test-af3 test-af2 lint demo airflow venv clean chromium

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed"'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(VENV)/bin/python -q -e ".[test]"
	touch $@

$(VENV_AF2)/.installed: pyproject.toml
	test -x $(VENV_AF2)/bin/python || $(PYTHON) -m venv $(VENV_AF2)
	$(VENV_AF2)/bin/python -m pip install -q --upgrade pip uv
	$(VENV_AF2)/bin/uv pip install --python $(VENV_AF2)/bin/python -q $(AF2_REQUIREMENTS) -e .
	touch $@

venv: $(VENV)/.installed

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

test-af3: $(VENV)/.installed chromium
	$(call run_pytest,$(VENV)/bin/pytest -q,tests)

test-af2: $(VENV_AF2)/.installed
	$(call run_pytest,$(VENV_AF2)/bin/pytest -q -p no:sagemaker_local_engine,$(AF2_TESTS))

test: lint test-af3 test-af2

# The churn_training example end to end on the local engine, once per branch, with a summary (tools/demo.py).
demo: $(VENV)/.installed
	$(VENV)/bin/python tools/demo.py

# Airflow 3 (api-server, scheduler, dag-processor, triggerer) + the local engine on 127.0.0.1, dags/ loaded;
# prints the URL and login, runs until Ctrl-C (tools/airflow_local.py).
airflow: $(VENV)/.installed
	$(VENV)/bin/python tools/airflow_local.py

clean:
	rm -rf $(VENV) $(VENV_AF2) .pytest_cache .ruff_cache .hypothesis .airflow-demo .airflow-local
