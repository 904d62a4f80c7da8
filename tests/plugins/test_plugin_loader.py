"""Airflow's plugin loader must not shadow the installed provider package or any stdlib module.

Airflow 3.3 loads every ``.py`` under the plugins folder as a top-level module named after its file
stem (``sys.modules[stem] = ...``). ``plugins/.airflowignore`` excludes the provider package; the
negative control shows what happens without it (``hooks/genesys_cloud.py`` replaces the package).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
import genesys_cloud
before = {name: getattr(mod, "__file__", None) for name, mod in sys.modules.items()}
if sys.argv[1] == "airflow":
    from airflow import plugins_manager
    plugins_manager.ensure_plugins_loaded()
else:
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory
    _load_plugins_from_plugin_directory(plugins_folder=sys.argv[2])
after = {name: getattr(mod, "__file__", None) for name, mod in sys.modules.items()}
replaced = sorted(n for n in before if n in after and before[n] != after[n])
stdlib_replaced = sorted(n for n in replaced if n.split(".")[0] in sys.stdlib_module_names)
added = sorted(n for n in after if n not in before and str(after[n] or "").startswith(sys.argv[-1])
               and n.split(".")[0] != "genesys_cloud")
print(json.dumps({"genesys_cloud": sys.modules["genesys_cloud"].__file__, "replaced": replaced, "added": added,
                  "stdlib_replaced": stdlib_replaced,
                  "provider_has_info": hasattr(sys.modules["genesys_cloud"], "get_provider_info")}))
"""


def _probe(*args: str, plugins_folder: Path) -> dict:
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder)}
    out = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_airflow_plugin_loading_keeps_the_provider_package_and_stdlib() -> None:
    result = _probe("airflow", str(ROOT / "plugins"), plugins_folder=ROOT / "plugins")
    assert result["genesys_cloud"] == str(ROOT / "plugins" / "genesys_cloud" / "__init__.py")
    assert result["provider_has_info"] is True
    assert result["replaced"] == []
    assert result["stdlib_replaced"] == []
    # No file of the package imported under a second, top-level name; the one plugin file has its own.
    assert result["added"] == ["genesys_outputs_plugin"]


def test_without_airflowignore_the_package_would_be_shadowed(tmp_path: Path) -> None:
    """Negative control: proves the test above would catch a missing or broken .airflowignore."""
    folder = tmp_path / "plugins"
    shutil.copytree(ROOT / "plugins", folder, ignore=shutil.ignore_patterns("__pycache__", ".airflowignore"))
    result = _probe("dir", str(folder), plugins_folder=folder)
    stems = {p.stem for p in (ROOT / "plugins" / "genesys_cloud").rglob("*.py")}
    assert set(result["added"]) & stems, result  # e.g. `config`, `context`, `bootstrap` as top-level modules
    if (ROOT / "plugins" / "genesys_cloud" / "hooks" / "genesys_cloud.py").exists():
        assert "genesys_cloud" in result["replaced"]
