"""The registry finds every built-in name without its module having been imported."""
import subprocess
import sys
import textwrap

import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.registrable import Registrable
from tests.helpers.package_modules import import_every_module


def test_every_builtin_implementation_outside_its_base_module_is_declared_lazily():
    import_every_module()
    undeclared = []
    for base, registry in Registrable._registry.items():
        for name, implementation in registry.items():
            module = getattr(implementation, "__module__", "")
            if module.startswith("allencv_lite.") and module != base.__module__:
                if Registrable._lazy_modules[base].get(name) != module:
                    undeclared.append(f"{base.__name__} '{name}' in {module}")
    assert undeclared == []


def test_every_lazy_declaration_names_the_module_that_registers_it():
    import_every_module()
    for base, declared in Registrable._lazy_modules.items():
        if not base.__module__.startswith("allencv_lite."):
            continue  # a test's own base class
        for name, module in declared.items():
            assert base.by_name(name).__module__ == module, f"{base.__name__} '{name}'"


def test_a_misspelled_name_lists_every_builtin_name_before_any_is_imported():
    script = textwrap.dedent("""
        import sys
        from allencv_lite.common.checks import ConfigurationError
        from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
        try:
            Im2ImEncoder.by_name("tim")
        except ConfigurationError as error:
            print(error)
        print("timm imported:", "timm" in sys.modules)
    """)
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert ("'tim' is not a registered Im2ImEncoder. Did you mean 'timm'? Registered choices: feedforward, "
            "pretrained_resnet, residual, resnet, timm.") in output
    assert "timm imported: False" in output


def test_looking_up_a_lazy_name_imports_its_module_and_returns_the_class():
    from allencv_lite.modules.im2vec_encoders.global_average_encoder import GlobalAverageEncoder
    from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder

    assert Im2VecEncoder.by_name("global_average") is GlobalAverageEncoder


def test_a_declared_module_that_does_not_register_its_name_is_a_bug_said_plainly():
    class Widget(Registrable):
        pass

    Widget.register_lazily("gadget", "allencv_lite.common.checks")
    with pytest.raises(RuntimeError, match="allencv_lite.common.checks was declared to register Widget 'gadget'"):
        Widget.by_name("gadget")


def test_an_unknown_name_is_still_a_configuration_error():
    class Gizmo(Registrable):
        pass

    Gizmo.register_lazily("sprocket", "allencv_lite.common.checks")
    with pytest.raises(ConfigurationError, match="'sprockt' is not a registered Gizmo. Did you mean 'sprocket'?"):
        Gizmo.by_name("sprockt")
