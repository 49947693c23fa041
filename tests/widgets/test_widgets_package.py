"""``import allencv_lite.widgets`` is cheap: each panel, and torch with it, loads when first named."""
import json
import subprocess
import sys

PANELS = ("AugmentationExplorer", "DatasetCleaner", "ImageCollector", "ImageDropZone", "LiveTrainingCurves", "PredictionPanel")


def loaded_after(statement: str) -> list:
    """Which of torch, ipywidgets and the panels' modules a fresh interpreter has loaded after ``statement``."""
    probe = (f"import json, sys\n{statement}\n"
             "print(json.dumps(sorted(name for name in sys.modules if name in ('torch', 'ipywidgets') "
             "or name.startswith('allencv_lite.widgets.'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_package_loads_no_panel_nor_torch():
    assert loaded_after("import allencv_lite.widgets") == []


def test_naming_a_panel_imports_its_module_and_every_panel_is_listed():
    assert "allencv_lite.widgets.live_training_curves" in loaded_after(
        "from allencv_lite.widgets import LiveTrainingCurves")
    import allencv_lite.widgets as widgets
    assert sorted(widgets.__all__) == sorted(PANELS)
    assert all(isinstance(getattr(widgets, name), type) for name in PANELS)
