"""The extension as az sees it: installed from the wheel, its metadata, its version, and how it finds
and checks the az-acr-ext engine."""

import json
import os
import zipfile

from packaging.version import Version

from conftest import AZ


def test_the_wheel_is_acr_ext_with_no_dependencies_and_a_minimum_core(wheel, version):
    assert wheel.name == "acr_ext-{}-py3-none-any.whl".format(version)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("acr_ext-{}.dist-info/METADATA".format(version)).decode()
        azext = json.loads(archive.read("azext_acr_ext/azext_metadata.json"))
    assert "azext_acr_ext/__init__.py" in names
    assert "Name: acr-ext" in metadata.splitlines()
    assert [line for line in metadata.splitlines() if line.startswith("Requires-Dist")] == []
    from azure.cli.core import __version__ as core_version
    minimum = Version(azext["azext.minCliCoreVersion"])
    assert Version("2.60.0") <= minimum <= Version(core_version)


def test_the_extension_version_is_the_workspace_version(version):
    from azext_acr_ext._version import VERSION

    assert VERSION == version


def test_az_lists_the_installed_extension(az, version):
    shown = az("extension", "show", "--name", "acr-ext").json()
    assert shown["name"] == "acr-ext"
    assert shown["version"] == version
    assert shown["extensionType"] == "whl"
    listed = az("extension", "list", "--query", "[?name=='acr-ext'].version", "-o", "tsv")
    assert listed.stdout.split() == [version]


def test_version_shows_both_versions_and_where_the_engine_is(az, engine, version):
    result = az("acr-ext", "version").json()
    assert result == {
        "extension": {"name": "acr-ext", "version": version},
        "engine": {"name": "az-acr-ext", "version": version, "path": str(engine), "foundBy": "AZ_ACR_EXT_BINARY"},
    }
    assert az("acr-ext", "version", "--query", "engine.version", "-o", "tsv").stdout == version + "\n"
    table = az("acr-ext", "version", "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Component", "Version", "Path"]
    assert table[2].split() == ["acr-ext", version]
    assert table[3].split() == ["az-acr-ext", version, str(engine)]


def test_the_az_config_setting_names_the_engine(az, engine):
    az("config", "set", "acr_ext.binary={}".format(engine), unset=["AZ_ACR_EXT_BINARY"])
    result = az("acr-ext", "version", unset=["AZ_ACR_EXT_BINARY"]).json()
    assert result["engine"]["path"] == str(engine)
    assert result["engine"]["foundBy"] == "az config acr_ext.binary"


def test_the_environment_variable_wins_over_the_az_config_setting(az, engine, tmp_path):
    az("config", "set", "acr_ext.binary={}".format(tmp_path / "elsewhere"), unset=["AZ_ACR_EXT_BINARY"])
    assert az("acr-ext", "version").json()["engine"]["foundBy"] == "AZ_ACR_EXT_BINARY"


def test_the_engine_is_found_on_path(az, engine, tmp_path):
    folder = tmp_path / "bin-on-path"
    folder.mkdir()
    (folder / "az-acr-ext").symlink_to(engine)
    path = os.pathsep.join([str(folder), str(AZ.parent), "/usr/bin", "/bin"])
    result = az("acr-ext", "version", unset=["AZ_ACR_EXT_BINARY"], env={"PATH": path}).json()
    assert result["engine"]["path"] == str(folder / "az-acr-ext")
    assert result["engine"]["foundBy"] == "PATH"


def test_the_engine_is_found_in_the_extension_bin_folder(az, engine, extension_dir):
    folder = extension_dir / "acr-ext" / "azext_acr_ext" / "bin"
    folder.mkdir()
    try:
        (folder / "az-acr-ext").symlink_to(engine)
        result = az("acr-ext", "version", unset=["AZ_ACR_EXT_BINARY"]).json()
        assert result["engine"]["path"] == str(folder / "az-acr-ext")
        assert result["engine"]["foundBy"] == "the extension's bin folder"
    finally:
        (folder / "az-acr-ext").unlink()
        folder.rmdir()


def test_a_missing_engine_is_reported_with_every_place_looked_and_the_fix(az, extension_dir):
    result = az("acr-ext", "cert", "inspect", "tls.crt", unset=["AZ_ACR_EXT_BINARY"], expect=1)
    assert result.stdout == ""
    bundled = extension_dir / "acr-ext" / "azext_acr_ext" / "bin" / "az-acr-ext"
    assert "ERROR: The az-acr-ext engine, which runs every `az acr-ext` command, was not found." in result.stderr
    assert "AZ_ACR_EXT_BINARY: not set" in result.stderr
    assert "az config acr_ext.binary: not set" in result.stderr
    assert "the extension's bin folder: no {}".format(bundled) in result.stderr
    assert "PATH: no az-acr-ext in {}".format(AZ.parent) in result.stderr
    assert "cargo install --path az-acr-ext" in result.stderr
    assert "az config set acr_ext.binary=/path/to/az-acr-ext" in result.stderr


def test_a_setting_naming_a_missing_file_is_an_error_not_a_fallback(az, tmp_path):
    missing = tmp_path / "no-such-engine"
    result = az("acr-ext", "version", env={"AZ_ACR_EXT_BINARY": str(missing)}, expect=1)
    assert "AZ_ACR_EXT_BINARY names {}, which does not exist or is not a file.".format(missing) in result.stderr


def test_an_engine_of_another_version_is_refused_with_both_versions(az, fake_engine, version):
    fake = fake_engine(version="9.9.0")
    result = az("acr-ext", "cert", "inspect", "tls.crt", env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=1)
    major_minor = ".".join(version.split(".")[:2])
    assert result.stdout == ""
    assert ("ERROR: The az-acr-ext engine at {} (found via AZ_ACR_EXT_BINARY) is version 9.9.0, but the acr-ext "
            "extension {} needs engine version {}.x.".format(fake, version, major_minor)) in result.stderr
    assert "Install az-acr-ext {}.x".format(major_minor) in result.stderr


def test_an_engine_with_another_patch_version_is_accepted(az, fake_engine, version):
    major, minor = version.split(".")[:2]
    patched = "{}.{}.99".format(major, minor)
    fake = fake_engine(version=patched)
    assert az("acr-ext", "version", "--query", "engine.version", "-o", "tsv",
              env={"AZ_ACR_EXT_BINARY": str(fake)}).stdout == patched + "\n"


def test_a_binary_that_is_not_the_engine_is_refused(az, fake_engine):
    fake = fake_engine(version_output="kubectl-acr 0.1.0")
    result = az("acr-ext", "version", env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=1)
    assert "{} (found via AZ_ACR_EXT_BINARY) is not the az-acr-ext engine".format(fake) in result.stderr
    assert "'kubectl-acr 0.1.0'" in result.stderr

    renamed = fake_engine(name="kubectl-acr", version="0.1.0")
    result = az("acr-ext", "version", env={"AZ_ACR_EXT_BINARY": str(renamed)}, expect=1)
    assert "`version` says it is kubectl-acr 0.1.0" in result.stderr


def test_a_file_that_cannot_be_run_is_reported(az, tmp_path):
    not_executable = tmp_path / "az-acr-ext"
    not_executable.write_text("not a program")
    result = az("acr-ext", "version", env={"AZ_ACR_EXT_BINARY": str(not_executable)}, expect=1)
    assert "The az-acr-ext engine at {} (found via AZ_ACR_EXT_BINARY) cannot be run: Permission denied.".format(
        not_executable) in result.stderr
