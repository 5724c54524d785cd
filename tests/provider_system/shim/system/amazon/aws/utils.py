"""Shim (see tests/provider_system/shim/README.md): the system-test context task.

The provider's builder reads each variable from SSM (``/<test>/<name>``) or the environment; here it is the
environment only, which the test fills with values pointing at the local engine.
"""

from __future__ import annotations

import os
from typing import Any

from airflow_sagemaker_mlops.compat import task

ENV_ID_KEY = "ENV_ID"
ENV_ID_ENVIRON_KEY = "SYSTEM_TESTS_ENV_ID"


class SystemTestContextBuilder:
    def __init__(self) -> None:
        self.variables: dict[str, str | None] = {}

    def add_variable(self, name: str, default_value: str | None = None, **_: Any) -> SystemTestContextBuilder:
        self.variables[name] = default_value
        return self

    def build(self) -> Any:
        variables = dict(self.variables)

        @task(task_id="variable_fetcher", multiple_outputs=True)
        def variable_fetcher() -> dict[str, str]:
            env_id = os.environ.get(ENV_ID_ENVIRON_KEY)
            if not env_id:
                raise ValueError(f"set {ENV_ID_ENVIRON_KEY} (the system test's environment id)")
            context = {ENV_ID_KEY: env_id}
            for name, default in variables.items():
                value = os.environ.get(name, default)
                if value is None:
                    raise ValueError(f"system test variable {name} is not set in the environment")
                context[name] = value
            return context

        return variable_fetcher
