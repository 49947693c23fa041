"""Shared machinery: the registry, config loading and construction from configs."""
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.lazy import Lazy
from allencv_lite.common.params import load_config
from allencv_lite.common.registrable import Registrable

__all__ = ["ConfigurationError", "FromParams", "Lazy", "Registrable", "load_config"]
