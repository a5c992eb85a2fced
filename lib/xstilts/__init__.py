"""xstilts: English intermediate-task training for zero-shot cross-lingual transfer.

Reproduces Phang et al. (2020) on XTREME and studies how the gap between multilingual
and English-only intermediate-task training changes with model scale.
"""

import os

# The default run never touches a model or data hub: set the offline switches before
# transformers / datasets / huggingface_hub are imported anywhere in the package.
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
