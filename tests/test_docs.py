"""Every command documents itself: ``--help`` with an example, and a section in README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from papernotes.cli import COMMANDS, cli

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_has_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"papernotes {name} --help shows no example"
    assert f"papernotes {name}" in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_in_readme(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*`papernotes {re.escape(name)}\b", text, re.MULTILINE), (
        f"README.md has no heading for papernotes {name}"
    )


def test_readme_documents_exit_codes_and_completion() -> None:
    text = README.read_text(encoding="utf-8")
    assert "Exit codes" in text
    assert "papernotes completion" in text
    assert "NO_COLOR" in text


def test_readme_install_and_test_commands_are_what_ci_runs() -> None:
    """README's two commands install from the lock and run the suite exactly as .ci/run does."""
    root = README.parent
    readme = README.read_text(encoding="utf-8")
    install, tests = re.findall(r"^(?!#)(\S.*)$", readme.split("```sh", 1)[1].split("```")[0], re.M)
    ci = [
        line
        for line in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith(".venv/bin/")
    ]
    steps = [s.strip() for s in install.split("&&")]
    assert steps[0] == "python3 -m venv .venv"
    assert "--require-hashes -r requirements.txt" in steps[1]
    assert steps[2].endswith("install --no-deps --no-build-isolation -e .")
    assert tests == ".venv/bin/python -m pytest"
    assert ci[2:] == [tests, f"{tests} -m slow"]  # the README's command, then the slow tests
    assert "--require-hashes -r requirements.txt" in ci[0]
    assert ci[1].endswith("install --quiet --no-deps --no-build-isolation -e .")


def test_the_lock_pins_every_direct_dependency() -> None:
    """Everything pyproject.toml asks for (the dev tools too) is pinned, with hashes, in
    requirements.txt and pylock.toml, which hold exactly uv.lock's versions; constraints.txt
    holds them without hashes, requirements/core.txt the command's own dependencies."""
    import tomllib

    root = README.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    # the build backend too: the project is installed with --no-build-isolation from the lock
    wanted += tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["build-system"][
        "requires"
    ]
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    names = {re.split(r"[<>=!~\[; ]", w, maxsplit=1)[0].lower().replace("_", "-") for w in wanted}
    lock = (root / "requirements.txt").read_text(encoding="utf-8")
    # (name, version) pairs, not a dict: a package may be locked at two versions, by marker
    # (numpy for Python 3.11 and for 3.12 on)
    pinned = sorted(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", lock, re.M))
    assert sorted(names - {name for name, _ in pinned}) == []
    # requirements.txt is uv.lock's export: the same packages at the same versions
    locked = sorted(
        (package["name"], package["version"])
        for package in tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))["package"]
        if package["name"] != project["name"]
    )
    assert pinned == locked
    lines = lock.splitlines()
    unhashed = [
        line
        for i, line in enumerate(lines)
        if "==" in line and not line.startswith("#") and "--hash=sha256:" not in lines[i + 1]
    ]
    assert unhashed == []
    # pylock.toml (PEP 751, the standard lock) is uv.lock's export too, every file hashed
    pylock = tomllib.loads((root / "pylock.toml").read_text(encoding="utf-8"))
    assert sorted((package["name"], package["version"]) for package in pylock["packages"]) == locked
    files = [
        file
        for package in pylock["packages"]
        for file in [*package.get("wheels", []), package.get("sdist")]
        if file is not None
    ]
    assert files and all(file["hashes"]["sha256"] for file in files)
    # constraints.txt: the same pins, without hashes (pip's constraints for one's own env)
    constraints = (root / "constraints.txt").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", constraints, re.M)) == locked
    # requirements/core.txt: the locked versions of the command's own dependencies, hashed
    core = (root / "requirements" / "core.txt").read_text(encoding="utf-8")
    core_pins = re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+) \\$", core, re.M)
    core_names = {
        re.split(r"[<>=!~\[; ]", w, maxsplit=1)[0].lower() for w in project["dependencies"]
    }
    assert set(core_pins) <= set(locked)
    assert core_names <= {name for name, _ in core_pins}
    assert not {"mcp", "pytest", "numpy", "watchfiles"} & {name for name, _ in core_pins}


def test_every_imported_package_is_declared() -> None:
    """A package the code imports is a dependency of its own, not another's dependency."""
    import ast
    import importlib.metadata
    import sys
    import tomllib

    root = README.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        declared |= {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in extra}
    owners = importlib.metadata.packages_distributions()
    undeclared = set()
    for path in (root / "src" / "papernotes").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "papernotes" or top.startswith("_"):
                    continue
                dists = {d.lower() for d in owners.get(top, [top])}
                if not dists & declared:
                    undeclared.add(f"{top} ({path.name})")
    assert sorted(undeclared) == []
