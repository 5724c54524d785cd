"""ModelPackageApprovalTrigger against the local engine."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from registry_helpers import make_group

from airflow_sagemaker_mlops.triggers.registry import ModelPackageApprovalTrigger

FAST = 0.05


async def first_event(trigger: ModelPackageApprovalTrigger, while_waiting: Any = None) -> dict[str, Any]:
    events = trigger.run()
    task = asyncio.ensure_future(events.__anext__())
    if while_waiting is not None:
        await asyncio.sleep(FAST * 4)
        assert not task.done()  # still pending: no decision yet
        await asyncio.to_thread(while_waiting)
    event = await asyncio.wait_for(task, 30)
    await events.aclose()
    return event.payload


@pytest.mark.parametrize("status", ["Approved", "Rejected"])
def test_fires_on_the_decision(engine, status):
    _, (arn,) = make_group(engine, 1)
    sm = engine.client("sagemaker")
    trigger = ModelPackageApprovalTrigger(arn, aws_conn_id=None, poll_interval=FAST)
    payload = asyncio.run(first_event(trigger, lambda: sm.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription="reviewed")))
    assert payload["status"] == status.lower()
    assert payload["version"]["ModelApprovalStatus"] == status
    assert payload["version"]["ApprovalDescription"] == "reviewed"


def test_an_unknown_package_is_an_error_at_once(engine):
    _, (arn,) = make_group(engine, 1)
    trigger = ModelPackageApprovalTrigger(arn + "9", aws_conn_id=None, poll_interval=FAST)
    payload = asyncio.run(first_event(trigger))
    assert payload["status"] == "error" and "not found" in payload["message"]


def test_serialize_round_trip():
    trigger = ModelPackageApprovalTrigger("arn:x", aws_conn_id="c", region_name="eu-west-1", poll_interval=7)
    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**kwargs)
    assert again.serialize() == (path, kwargs)
    with pytest.raises(ValueError, match="poll_interval"):
        ModelPackageApprovalTrigger("arn:x", poll_interval=0)


@pytest.mark.parametrize("decided", ["Approved", None])
def test_the_event_comes_no_sooner_than_the_minimum_deferral(engine, monkeypatch, decided):
    # Airflow's stale-executor-event race (apache/airflow#72716), as for the execution trigger: a decision
    # already there when the trigger starts (or an unknown package) still waits the minimum.
    import time

    _, (arn,) = make_group(engine, 1)
    if decided:
        engine.client("sagemaker").update_model_package(ModelPackageArn=arn, ModelApprovalStatus=decided)
    monkeypatch.setenv("AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS", "1.5")
    trigger = ModelPackageApprovalTrigger(arn if decided else arn + "9", aws_conn_id=None, poll_interval=FAST)
    began = time.monotonic()
    payload = asyncio.run(first_event(trigger))
    assert payload["status"] == ("approved" if decided else "error")
    assert time.monotonic() - began >= 1.5
