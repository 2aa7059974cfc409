"""Fixtures for running the acr-ext extension inside a real Azure CLI.

Run by scripts/az-extension-test.sh inside the .venv-az virtualenv (azure-cli and pytest from PyPI).
The wheel comes from ACR_EXT_WHEEL (the script builds it), or is built here when that is unset.
The engine is target/debug/az-acr-ext, or ACR_EXT_ENGINE; build it with `cargo build --workspace --bins`.
Every test gets its own AZURE_CONFIG_DIR; the extension is installed once per session into a
temporary AZURE_EXTENSION_DIR.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION_SOURCE = REPO / "az-acr-ext" / "python"
FIXTURES = REPO / "tests" / "fixtures"
AZ = Path(sys.executable).parent / ("az.bat" if os.name == "nt" else "az")

# The extension's own modules (table, help, version) for the tests that check them directly.
sys.path.insert(0, str(EXTENSION_SOURCE))


def workspace_version():
    import tomllib  # Python 3.11+, as in .venv-az

    with open(REPO / "Cargo.toml", "rb") as manifest:
        return tomllib.load(manifest)["workspace"]["package"]["version"]


class AzResult:
    def __init__(self, args, completed):
        self.args = args
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as error:
            raise AssertionError("az {} printed no JSON ({}):\n{}".format(" ".join(self.args), error, self)) from None

    def __str__(self):
        return "exit code {}\n--- stdout\n{}\n--- stderr\n{}".format(self.returncode, self.stdout, self.stderr)


class Az:
    """Runs the real `az` with temporary config and extension folders, telemetry off, and the engine
    named by AZ_ACR_EXT_BINARY unless a test says otherwise."""

    def __init__(self, env, cwd):
        self.env = env
        self.cwd = cwd

    def __call__(self, *args, expect=0, env=None, unset=(), stdin=None, cwd=None):
        run_env = dict(self.env)
        for name in unset:
            run_env.pop(name, None)
        run_env.update(env or {})
        completed = subprocess.run([str(AZ)] + [str(arg) for arg in args], env=run_env, cwd=str(cwd or self.cwd),
                                   input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   timeout=120, check=False)
        result = AzResult([str(arg) for arg in args], completed)
        if expect is not None:
            assert result.returncode == expect, "az {} should exit {}:\n{}".format(" ".join(result.args), expect, result)
        return result


@pytest.fixture(scope="session")
def engine():
    path = Path(os.environ.get("ACR_EXT_ENGINE") or REPO / "target" / "debug" / "az-acr-ext")
    if not path.is_file():
        pytest.fail("the az-acr-ext engine is missing at {}: run `cargo build --workspace --bins` first".format(path),
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    given = os.environ.get("ACR_EXT_WHEEL")
    if given:
        return Path(given)
    # Build from a copy so that setuptools' build/ and egg-info/ stay out of the source tree.
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(EXTENSION_SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(work / "dist"), str(source)], check=True)
    (built,) = (work / "dist").glob("acr_ext-*.whl")
    return built


def base_env():
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AZURE_", "AZ_ACR_EXT_")) and name not in ("PYTHONPATH",)}
    # Only the virtualenv's own folder and the system's: no az-acr-ext from ~/.cargo/bin or elsewhere.
    env["PATH"] = os.pathsep.join([str(AZ.parent), "/usr/bin", "/bin"])
    env["AZURE_CORE_COLLECT_TELEMETRY"] = "false"
    env["AZURE_CORE_SURVEY_MESSAGE"] = "false"
    env["AZURE_CORE_NO_COLOR"] = "true"
    env["AZURE_CORE_ONLY_SHOW_ERRORS"] = "false"
    return env


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory, wheel):
    extensions = tmp_path_factory.mktemp("azure-extensions")
    env = base_env()
    env["AZURE_EXTENSION_DIR"] = str(extensions)
    env["AZURE_CONFIG_DIR"] = str(tmp_path_factory.mktemp("azure-config-install"))
    completed = subprocess.run([str(AZ), "extension", "add", "--source", str(wheel), "--yes"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, check=False)
    assert completed.returncode == 0, "az extension add failed:\n{}\n{}".format(completed.stdout, completed.stderr)
    assert (extensions / "acr-ext" / "azext_acr_ext" / "__init__.py").is_file(), list(extensions.rglob("*"))
    return extensions


@pytest.fixture
def az(tmp_path, extension_dir, engine):
    env = base_env()
    env["AZURE_EXTENSION_DIR"] = str(extension_dir)
    env["AZURE_CONFIG_DIR"] = str(tmp_path / "azure-config")
    env["AZ_ACR_EXT_BINARY"] = str(engine)
    work = tmp_path / "work"
    work.mkdir()
    return Az(env, work)


@pytest.fixture
def fake_engine(tmp_path):
    """Writes a stand-in engine: a Python script answering `version` with the given version and any
    other command with the given stdout, stderr and exit code."""

    def make(version="0.0.0", name="az-acr-ext", stdout="", stderr="", exit_code=0, version_output=None):
        if version_output is None:
            version_output = json.dumps({"name": name, "version": version})
        path = tmp_path / "fake-engine" / "az-acr-ext"
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "#!{python}\n"
            "import sys\n"
            "if sys.argv[1:2] == ['version']:\n"
            "    print({version_output!r})\n"
            "    sys.exit(0)\n"
            "sys.stdout.write({stdout!r})\n"
            "sys.stderr.write({stderr!r})\n"
            "sys.exit({exit_code})\n".format(python=sys.executable, version_output=version_output, stdout=stdout,
                                             stderr=stderr, exit_code=exit_code))
        path.chmod(0o755)
        return path

    return make


@pytest.fixture(scope="session")
def version():
    return workspace_version()


def pytest_report_header(config):  # pylint: disable=unused-argument
    from azure.cli.core import __version__ as core_version

    return "azure-cli-core {} at {}".format(core_version, AZ)
