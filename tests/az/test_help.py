"""Help for every command and parameter: declared completely, and shown by `az ... --help`."""

import re

import pytest
import yaml

from azext_acr_ext._help import helps
from azext_acr_ext._table import COMMANDS, GROUPS, POSITIONAL


def squeeze(text):
    """Text without whitespace, so that help wrapped to the terminal width still matches."""
    return re.sub(r"\s+", "", text)


def test_every_group_and_command_has_help_with_examples():
    assert {command.group for command in COMMANDS} <= set(GROUPS)
    for group in GROUPS:
        entry = yaml.safe_load(helps[group])
        assert entry["type"] == "group" and entry["short-summary"], group
    for command in COMMANDS:
        entry = yaml.safe_load(helps[command.name])
        assert entry["type"] == "command", command.name
        assert len(entry["short-summary"]) > 20, command.name
        assert entry["examples"], command.name
        for example in entry["examples"]:
            assert example["name"] and (command.name in example["text"]), (command.name, example)
    assert set(helps) >= set(GROUPS) | {command.name for command in COMMANDS}


def test_every_parameter_has_help():
    for command in COMMANDS:
        for param in command.params:
            assert param.help and len(param.help) > 20, (command.name, param.dest)


@pytest.mark.parametrize("command", COMMANDS, ids=[command.name for command in COMMANDS])
def test_command_help_shows_summary_parameters_and_examples(az, command):
    result = az(*command.name.split(), "--help")
    shown = squeeze(result.stdout)
    entry = yaml.safe_load(helps[command.name])
    assert squeeze(entry["short-summary"]) in shown
    for example in entry["examples"]:
        assert squeeze(example["text"]) in shown
        assert squeeze(example["name"]) in shown
    for param in command.params:
        if param.kind == POSITIONAL:
            assert re.search(r"^Positional$", result.stdout, re.MULTILINE)
            assert squeeze(param.metavar) in shown
        for option in param.options:
            assert option in result.stdout, (command.name, option)
        assert squeeze(param.help) in shown, (command.name, param.dest)


def test_group_help_lists_the_commands(az):
    shown = az("acr-ext", "--help").stdout
    assert re.search(r"^\s+cert\s+: Generate, inspect and verify", shown, re.MULTILINE)
    assert re.search(r"^\s+connected-registry\s+: Settings of an ACR connected registry", shown, re.MULTILINE)
    assert re.search(r"^\s+version\s+: Show the versions", shown, re.MULTILINE)
    cert = az("acr-ext", "cert", "--help").stdout
    for leaf in ("generate", "inspect", "verify"):
        assert re.search(r"^\s+{}\s+: ".format(leaf), cert, re.MULTILINE), leaf
    assert "config-view" in az("acr-ext", "connected-registry", "--help").stdout


def test_required_and_choice_parameters_are_marked(az):
    verify = az("acr-ext", "cert", "verify", "--help").stdout
    assert re.search(r"--cert\s+\[Required\]", verify)
    generate = squeeze(az("acr-ext", "cert", "generate", "--help").stdout)
    assert squeeze("Allowed values: p256, p384, rsa2048, rsa3072, rsa4096") in generate
