from __future__ import annotations

import sys

from airflow_sagemaker_mlops.cli import main

sys.exit(main())
