"""Shim (see tests/provider_system/shim/README.md): the SageMaker system tests' experiment teardown.

Only ``delete_experiments`` is provided (the provider's module is itself an example DAG); it makes the same
calls as the provider's, so the engine must answer them as SageMaker does.
"""

from __future__ import annotations

from typing import Any

import boto3

from airflow_sagemaker_mlops.compat import task


@task(trigger_rule="all_done")
def delete_experiments(experiment_names: list[str]) -> None:
    client: Any = boto3.client("sagemaker")
    for experiment in experiment_names:
        for trial in client.list_trials(ExperimentName=experiment)["TrialSummaries"]:
            trial_name = trial["TrialName"]
            components = client.list_trial_components(TrialName=trial_name)["TrialComponentSummaries"]
            for component in components:
                client.disassociate_trial_component(TrialComponentName=component["TrialComponentName"],
                                                    TrialName=trial_name)
                client.delete_trial_component(TrialComponentName=component["TrialComponentName"])
            client.delete_trial(TrialName=trial_name)
        client.delete_experiment(ExperimentName=experiment)
