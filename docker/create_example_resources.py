"""Create the buckets, queue and model package group the example DAGs use, on whatever AWS_ENDPOINT_URL
points at (the local engine in docker-compose and in the end-to-end test). Idempotent.

Usage: python create_example_resources.py DAGS_FOLDER   (names come from DAGS_FOLDER/example_settings.py)
"""

from __future__ import annotations

import sys

import boto3


def create(dags_folder: str) -> list[str]:
    sys.path.insert(0, dags_folder)
    import example_settings as s

    created = []
    s3 = boto3.client("s3", region_name=s.REGION)
    for bucket in (s.CODE_BUCKET, s.DATA_BUCKET):
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass  # a previous run made it
        created.append(f"s3://{bucket}")
    boto3.client("sqs", region_name=s.REGION).create_queue(QueueName=s.SIGNOFF_QUEUE)  # idempotent
    created.append(f"sqs {s.SIGNOFF_QUEUE}")
    sm = boto3.client("sagemaker", region_name=s.REGION)
    try:
        sm.create_model_package_group(ModelPackageGroupName=s.MODEL_PACKAGE_GROUP)
    except sm.exceptions.ClientError as exc:
        if "already exists" not in str(exc):
            raise
    created.append(f"model package group {s.MODEL_PACKAGE_GROUP}")
    return created


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name in create(sys.argv[1]):
        print("ready:", name)
