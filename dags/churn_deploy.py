"""Churn model deployment: runs when churn_training registers a model version, waits until a reviewer approves
that version in the SageMaker Model Registry, then deploys it to the ``churn-staging`` endpoint.

The schedule is the model package group's Airflow Asset: the RegisterModelStep task of churn_training emits
an event on it, whose ``extra`` names the registered version. A Rejected version fails the wait (and so the
run) without deploying. To deploy a given version by hand, trigger with ``{"model_package_arn": "..."}``.

Deploying is CreateModel (from the model package) -> CreateEndpointConfig -> CreateEndpoint, or
UpdateEndpoint when the endpoint exists. On the local engine these are moto's records of the resources
(the endpoint reports InService at once); nothing serves predictions.
"""

from __future__ import annotations

from typing import Any

from example_settings import INSTANCE, MODEL_PACKAGE_GROUP, POLL_INTERVAL, ROLE, START

from airflow_sagemaker_mlops import SageMakerModelPackageApprovalSensor, model_package_group_asset
from airflow_sagemaker_mlops.compat import DAG, task

ENDPOINT = "churn-staging"
REGISTERED = model_package_group_asset(MODEL_PACKAGE_GROUP)

with DAG(
    "churn_deploy",
    schedule=[REGISTERED],
    start_date=START,
    catchup=False,
    tags=["example", "sagemaker"],
    doc_md=__doc__,
):

    @task(multiple_outputs=True)
    def registered_version(**context: Any) -> dict[str, Any]:
        """The version from the triggering asset event (the latest, if several queued up), or from the conf."""
        conf = context["dag_run"].conf or {}
        if conf.get("model_package_arn"):
            return {"model_package_arn": conf["model_package_arn"]}
        events = list(context["triggering_asset_events"].get(REGISTERED) or [])
        if not events:
            raise ValueError("no registration event triggered this run: trigger it with "
                             '{"model_package_arn": "arn:aws:sagemaker:...:model-package/<group>/<version>"}')
        extra = dict(max(events, key=lambda e: e.timestamp).extra)
        print(f"registered: {extra}")
        return extra

    version = registered_version()
    approval = SageMakerModelPackageApprovalSensor(
        task_id="wait_for_approval",
        model_package_arn=version["model_package_arn"],
        poll_interval=POLL_INTERVAL,
        timeout=7 * 24 * 3600,  # a week to review, then the run fails
    )

    @task
    def deploy(approved: dict[str, Any]) -> dict[str, Any]:
        """CreateModel from the approved package, a new endpoint config, then create or update the endpoint."""
        from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

        sm = SageMakerHook(aws_conn_id="aws_default").conn
        arn, number = approved["ModelPackageArn"], approved["ModelPackageVersion"]
        name = f"churn-v{number}"
        sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": arn})
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": INSTANCE}])
        try:
            sm.describe_endpoint(EndpointName=ENDPOINT)
            sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
        except sm.exceptions.ClientError as exc:
            if "Could not find" not in str(exc) and "does not exist" not in str(exc):
                raise
            sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
        sm.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT, WaiterConfig={"Delay": 15})
        endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
        print(f"deployed {arn} to {ENDPOINT} ({endpoint['EndpointStatus']})")
        return {"endpoint": ENDPOINT, "endpoint_config": name, "model_package_arn": arn,
                "status": endpoint["EndpointStatus"]}

    deploy(approval.output)
