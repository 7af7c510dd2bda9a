"""The lock file covers every dependency, and ``make sbom`` makes a valid CycloneDX SBOM of it.

The SBOM is checked by cyclonedx-python-lib's strict JSON validator (the
CycloneDX 1.6 schema), independently of the validation cyclonedx-py runs
while writing it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
EXTRAS = ("gen", "jobs", "mcp", "dev")  # not "peers": the evaluation's comparison tools


def pins() -> dict[str, Version]:
    found = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"not an exact pin: {line!r}"
            found[canonicalize_name(name)] = Version(version)
    return found


def test_the_lock_pins_every_dependency_at_a_version_it_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"]]
    for extra in EXTRAS:
        wanted += project["optional-dependencies"][extra]
    locked = pins()
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name == "dgx-pixels":
            continue
        assert name in locked, f"{name} is not in {LOCK.name}: run make lock"
        version = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{LOCK.name} pins {name} {version}, outside {requirement.specifier}"
        )


@pytest.mark.slow  # the schema validation, twice: about 10 s on an idle machine
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_sbom_writes_a_cyclonedx_sbom_the_schema_accepts(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        ["make", "-s", "sbom", f"VENV={sys.prefix}", "STAMP=", f"SBOM={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    sbom = json.loads(text)
    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom["specVersion"] == "1.6"
    assert sbom["metadata"]["component"]["name"] == "dgx-pixels"
    components = {canonicalize_name(c["name"]): c for c in sbom["components"]}
    locked = pins()
    assert set(components) == set(locked)
    numpy = components["numpy"]
    assert numpy["version"] == str(locked["numpy"])
    assert re.fullmatch(r"pkg:pypi/numpy@[\w.+]+", numpy["purl"])
