"""Finding the az-acr-ext engine binary, checking its version, and running it.

Where the engine is looked for, first match wins:
  1. the environment variable AZ_ACR_EXT_BINARY;
  2. the az config setting acr_ext.binary (`az config set acr_ext.binary=/path/to/az-acr-ext`);
  3. bin/az-acr-ext inside the installed extension package (next to this file);
  4. az-acr-ext on PATH.
An explicit setting (1 or 2) that names a missing file is an error, not a reason to look further.
The engine must report the same major.minor version as the extension (`az-acr-ext version -o json`).
"""

import json
import os
import shutil
import subprocess
import sys

from azure.cli.core import azclierror
from knack.log import get_logger

from azext_acr_ext._version import VERSION

logger = get_logger(__name__)

ENGINE_NAME = "az-acr-ext"
ENV_VAR = "AZ_ACR_EXT_BINARY"
CONFIG_SECTION = "acr_ext"
CONFIG_OPTION = "binary"
CONFIG_LABEL = "az config {}.{}".format(CONFIG_SECTION, CONFIG_OPTION)
EXECUTABLE = ENGINE_NAME + (".exe" if sys.platform == "win32" else "")
BUNDLED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", EXECUTABLE)
VERSION_TIMEOUT_SECONDS = 30


class Engine:  # pylint: disable=too-few-public-methods
    """An engine binary that answered `version` with a compatible version."""

    def __init__(self, path, found_by, version):
        self.path = path
        self.found_by = found_by
        self.version = version
        self.extension_version = VERSION


class EngineRun:  # pylint: disable=too-few-public-methods
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _fix_hint():
    wanted = ".".join(VERSION.split(".")[:2])
    return [
        "Install az-acr-ext {}.x, the engine matching this extension: `cargo install --path az-acr-ext` "
        "in the kubectl-acr sources puts it in ~/.cargo/bin.".format(wanted),
        "Then put it on PATH, copy it to {}, export {}=/path/to/az-acr-ext, or run "
        "`az config set {}.{}=/path/to/az-acr-ext`.".format(BUNDLED_PATH, ENV_VAR, CONFIG_SECTION, CONFIG_OPTION),
    ]


def _configured_path(cli_ctx):
    try:
        value = cli_ctx.config.get(CONFIG_SECTION, CONFIG_OPTION, fallback=None)
    except Exception:  # pylint: disable=broad-except
        value = None
    return value or None


def _explicit(value, source):
    path = os.path.abspath(os.path.expanduser(value))
    if not os.path.isfile(path):
        raise azclierror.FileOperationError(
            "{} names {}, which does not exist or is not a file.".format(source, path),
            recommendation=["Point {} at the az-acr-ext engine binary, or unset it to use bin/ or PATH.".format(source)]
            + _fix_hint())
    return path


def locate(cli_ctx):
    """Returns (path, where it was found) or raises, listing every place looked."""
    looked = []
    env_value = os.environ.get(ENV_VAR)
    if env_value:
        return _explicit(env_value, ENV_VAR), ENV_VAR
    looked.append("{}: not set".format(ENV_VAR))

    config_value = _configured_path(cli_ctx)
    if config_value:
        return _explicit(config_value, CONFIG_LABEL), CONFIG_LABEL
    looked.append("{}: not set".format(CONFIG_LABEL))

    if os.path.isfile(BUNDLED_PATH):
        return BUNDLED_PATH, "the extension's bin folder"
    looked.append("the extension's bin folder: no {}".format(BUNDLED_PATH))

    on_path = shutil.which(ENGINE_NAME)
    if on_path:
        return os.path.abspath(on_path), "PATH"
    looked.append("PATH: no {} in {}".format(ENGINE_NAME, os.environ.get("PATH", "(PATH is not set)")))

    raise azclierror.UnclassifiedUserFault(
        "The az-acr-ext engine, which runs every `az acr-ext` command, was not found. Looked at:\n"
        + "\n".join("  - " + place for place in looked),
        recommendation=_fix_hint())


def _major_minor(version):
    parts = str(version).split("+")[0].split("-")[0].split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def check_version(path, found_by):
    """Runs `version -o json` and returns the Engine, or raises naming the binary and the fix."""
    where = "{} (found via {})".format(path, found_by)
    try:
        completed = subprocess.run([path, "version", "-o", "json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=VERSION_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise azclierror.UnclassifiedUserFault(
            "The az-acr-ext engine at {} did not answer `version` within {} seconds.".format(
                where, VERSION_TIMEOUT_SECONDS), recommendation=_fix_hint())
    except OSError as error:
        raise azclierror.UnclassifiedUserFault(
            "The az-acr-ext engine at {} cannot be run: {}.".format(where, error.strerror or error),
            recommendation=["Make sure it is an executable built for this machine (chmod +x)."] + _fix_hint())

    try:
        info = json.loads(completed.stdout.decode("utf-8", "replace"))
        name, version = info["name"], str(info["version"])
    except (ValueError, TypeError, KeyError):
        said = (completed.stdout or completed.stderr).decode("utf-8", "replace").strip()
        raise azclierror.UnclassifiedUserFault(
            "{} is not the az-acr-ext engine: `version -o json` exited with {} and printed {!r} instead of "
            "{{\"name\": \"az-acr-ext\", \"version\": ...}}.".format(where, completed.returncode, said[:200]),
            recommendation=_fix_hint())
    if completed.returncode != 0 or name != ENGINE_NAME:
        raise azclierror.UnclassifiedUserFault(
            "{} is not the az-acr-ext engine: `version` says it is {} {} (exit code {}).".format(
                where, name, version, completed.returncode), recommendation=_fix_hint())

    wanted = _major_minor(VERSION)
    if _major_minor(version) != wanted:
        raise azclierror.UnclassifiedUserFault(
            "The az-acr-ext engine at {} is version {}, but the acr-ext extension {} needs engine version {}.{}.x.".format(
                where, version, VERSION, wanted[0], wanted[1]),
            recommendation=_fix_hint() + [
                "Or install the acr-ext extension matching engine {} (`az extension add --source "
                "acr_ext-{}-py3-none-any.whl`).".format(version, version)])
    logger.debug("az-acr-ext engine %s %s found via %s", path, version, found_by)
    return Engine(path, found_by, version)


def find(cli_ctx):
    path, found_by = locate(cli_ctx)
    return check_version(path, found_by)


# Settings that are secrets whichever flag brings them: the Arc extension's guides also pass
# connectionString with --config, and the engine keeps it secret there too.
SECRET_KEYS = ("connectionString",)


def redacted(argv, secret_flags):
    """argv for logs: the values of secret flags (KEY=VALUE), and of secret keys given with any
    flag, keep their key only."""
    shown = []
    for argument in argv:
        flag, equals, value = argument.partition("=")
        key = value.split("=", 1)[0]
        if equals and (flag in secret_flags or key in SECRET_KEYS):
            argument = "{}={}=<redacted>".format(flag, key)
        shown.append(argument)
    return shown


def run(engine, argv, secret_flags=()):
    """Runs the engine; standard input is passed through (for `-` arguments)."""
    logger.debug("running %s", " ".join([engine.path] + redacted(argv, secret_flags)))
    try:
        completed = subprocess.run([engine.path] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   check=False)
    except OSError as error:
        raise azclierror.UnclassifiedUserFault("Cannot run the az-acr-ext engine at {}: {}.".format(
            engine.path, error.strerror or error))
    return EngineRun(completed.returncode, completed.stdout.decode("utf-8", "replace"),
                     completed.stderr.decode("utf-8", "replace"))
