"""The project's own rules: dependencies in step, docs true to the code, notebooks thin."""
from __future__ import annotations

import ast
import re
import tomllib

import nbformat
import pytest
import yaml

from ccinsight import contract, params
from conftest import NOTEBOOKS_DIR, PROJECT_ROOT
from conftest import cli

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _name(requirement: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)", requirement)  # extras as in psycopg[binary]
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda = dict(_name(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip")))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip[-1] == "-e ."
    from_pypi = dict(_name(d) for d in pip[:-1])
    assert not set(conda) & set(from_pypi)
    assert {**conda, **from_pypi} == wanted  # the same packages with the same floors


def test_data_contract_doc_lists_every_column():
    doc = (PROJECT_ROOT / "docs" / "data-contract.md").read_text()
    for table in contract.TABLES.values():
        section = doc.split(f"## `{table.name}`", 1)
        assert len(section) == 2, f"docs/data-contract.md has no section for {table.name}"
        body = section[1].split("\n## ", 1)[0]
        documented = re.findall(r"^\| `([a-z_]+)` \|", body, flags=re.M)
        assert documented == table.columns, f"{table.name}: doc lists {documented}"


def test_readme_quick_start_is_the_two_commands():
    readme = (PROJECT_ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^make \w+", quick, flags=re.M) == ["make deck", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_version_and_the_documented_exit_codes():
    from ccinsight import __version__
    from ccinsight.cli import EXIT_CODES

    assert cli("--version").out.strip() == f"ccinsight {__version__}"
    shown = " ".join(cli("--help").out.split())
    readme = " ".join((PROJECT_ROOT / "README.md").read_text().split())
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in shown
        assert f"**{code}** {meaning}" in readme
    assert cli("deck", "--no-such-option").code == 2  # usage errors are 2, as argparse has it
    assert cli("run").code == 2


@pytest.mark.parametrize("command", [[], ["synth"], ["validate"], ["run"]])
def test_help_on_every_command(command):
    result = cli(*command, "--help")
    assert result.code == 0 and "usage: ccinsight" in result.out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    accepted = params.notebook_parameters(path)  # raises unless annotated literals with help
    assert all(p.help for p in accepted.values()), "every parameter has a trailing # comment"
    for cell in code:
        tree = ast.parse(cell.source.replace("%", "#"))
        defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
        assert not defined, "logic belongs in ccinsight/, not in notebook cells"
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with what it is about"
    assert nb.metadata.kernelspec.name == "ccinsight", "the kernel `make` registers, not the generic python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    import papermill

    ours = params.notebook_parameters(path)
    theirs = papermill.inspect_notebook(str(path))
    assert list(theirs) == list(ours)
    for name, p in ours.items():
        assert theirs[name]["inferred_type_name"] == p.type_text
        assert theirs[name]["help"] == p.help and p.help


def test_readme_worked_example_is_the_shipped_params_file():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Use your own data", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, flags=re.S).group(1)
    shipped = yaml.safe_load((PROJECT_ROOT / "params" / "examples" / "hr_dataset.yaml").read_text())
    assert yaml.safe_load(block) == shipped


def test_docs_list_every_sources_key():
    from ccinsight.sources import KEYS

    doc = (PROJECT_ROOT / "docs" / "sources.md").read_text()
    documented = re.findall(r"^\| `([a-z_]+)` \|", doc.split("## Keys of a table's source", 1)[1], flags=re.M)
    assert documented == list(KEYS)
