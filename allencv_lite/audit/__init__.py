"""Dataset audit: label issues, duplicates and train/validation leakage, found out of sample
(``allencv-lite audit DATA_DIR``; see ``docs/audit.md``).

Each name is imported on first use.
"""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "AuditReport": "allencv_lite.audit.report",
    "audit": "allencv_lite.audit.dataset_audit",
    "default_cache_folder": "allencv_lite.audit.features",
})
__all__ = __dir__()
