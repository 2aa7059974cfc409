"""`az acr-ext connected-registry protected-settings` through the real az; the files it writes are
read back by json.loads and by the kubectl-acr plugin, and broken files are refused through az."""

import base64
import json
import os
import stat
import subprocess

import pytest

from conftest import FIXTURES

CONNECTION = ("ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cretPassw0rd;"
              "ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https")
TUTORIAL_BROKEN = FIXTURES / "golden" / "protected-tutorial-broken.json"
BYOC_CONFIG = ("--config", "service.clusterIP=10.0.0.1", "--config", "cert-manager.enabled=false",
               "--config", "cert-manager.install=false")


@pytest.fixture
def inputs(az):
    (az.cwd / "connection.txt").write_text(CONNECTION + "\n")
    az("acr-ext", "cert", "generate", "--ip", "10.0.0.1", "--out-dir", "certs")
    return az.cwd


def kubectl_acr(engine, *args):
    path = engine.parent / "kubectl-acr"
    if not path.is_file():
        pytest.fail("kubectl-acr is missing at {}: run `cargo build --workspace --bins` first".format(path),
                    pytrace=False)
    return subprocess.run([str(path)] + [str(arg) for arg in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=False)


def test_own_certificate_settings_are_valid_json_kubectl_acr_accepts(az, inputs, engine):
    result = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
                "--cert", "certs/tls.crt", "--key", "certs/tls.key", "--ca", "certs/ca.crt", "--out", "protected.json")
    summary = result.json()
    assert summary["keys"] == ["connectionString", "tls.crt", "tls.key", "tls.cacrt"]
    assert summary["tlsSource"] == "bring-your-own-certificate"
    assert "s3cretPassw0rd" not in result.stdout + result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr

    written = inputs / "protected.json"
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    settings = json.loads(written.read_text())
    assert settings["connectionString"] == CONNECTION
    assert base64.b64decode(settings["tls.key"]).decode() == (inputs / "certs" / "tls.key").read_text()
    assert base64.b64decode(settings["tls.crt"]).decode() == (inputs / "certs" / "tls.crt").read_text()

    viewed = kubectl_acr(engine, "config", "view", *BYOC_CONFIG, "--config-protected-file", written, "-o", "json")
    assert viewed.returncode == 0, viewed.stderr
    view = json.loads(viewed.stdout)
    assert view["tlsSource"]["kind"] == "bring-your-own-certificate"
    assert view["tlsSource"]["hasCustomCa"] is True


def test_secret_settings_are_valid_json_kubectl_acr_accepts(az, inputs, engine):
    keys = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
              "--secret", "registry-tls", "--out", "protected.json", "--query", "keys", "-o", "tsv")
    assert keys.stdout.split() == ["connectionString", "tls.secret"]
    settings = json.loads((inputs / "protected.json").read_text())
    assert settings == {"connectionString": CONNECTION, "tls.secret": "registry-tls"}
    viewed = kubectl_acr(engine, "config", "view", *BYOC_CONFIG, "--config-protected-file",
                         inputs / "protected.json", "-o", "json")
    assert viewed.returncode == 0, viewed.stderr
    source = json.loads(viewed.stdout)["tlsSource"]
    assert (source["kind"], source["secretName"]) == ("existing-secret", "registry-tls")
    # The same file through az.
    view = az("acr-ext", "connected-registry", "config-view", *BYOC_CONFIG, "--config-protected-file",
              "protected.json", "--query", "tlsSource.secretName", "-o", "tsv")
    assert view.stdout == "registry-tls\n"


def test_an_existing_file_is_not_replaced_without_force(az, inputs):
    args = ("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
            "--out", "protected.json")
    az(*args, "--secret", "first")
    refused = az(*args, "--secret", "second", expect=1)
    assert "protected.json already exists; pass --force to replace it" in refused.stderr
    az(*args, "--secret", "second", "--force")
    assert json.loads((inputs / "protected.json").read_text())["tls.secret"] == "second"


def test_a_connection_string_that_does_not_parse_is_refused(az, inputs):
    (inputs / "connection.txt").write_text("ConnectedRegistryName=edge;SyncTokenName=edge-sync\n")
    result = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
                "--secret", "registry-tls", "--out", "protected.json", expect=1)
    assert ("ERROR: connectionString: connection string is missing SyncTokenPassword, ParentGatewayEndpoint, "
            "ParentEndpointProtocol") in result.stderr
    assert not (inputs / "protected.json").exists()


def test_a_key_that_does_not_match_the_certificate_is_refused(az, inputs):
    az("acr-ext", "cert", "generate", "--ip", "10.0.0.1", "--out-dir", "other")
    result = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
                "--cert", "certs/tls.crt", "--key", "other/tls.key", "--out", "protected.json", expect=1)
    assert "ERROR: tls.key (ECDSA P-256) does not belong to the certificate in tls.crt" in result.stderr
    assert not (inputs / "protected.json").exists()


def test_the_tutorials_broken_sample_is_refused_with_line_and_column_by_both_tools(az, engine):
    result = az("acr-ext", "connected-registry", "config-view", *BYOC_CONFIG, "--config-protected-file",
                TUTORIAL_BROKEN, expect=1)
    assert "{}: invalid JSON at line 3, column 12: expected value".format(TUTORIAL_BROKEN) in result.stderr
    viewed = kubectl_acr(engine, "config", "view", *BYOC_CONFIG, "--config-protected-file", TUTORIAL_BROKEN)
    assert viewed.returncode == 1
    assert "{}: invalid JSON at line 3, column 12: expected value".format(TUTORIAL_BROKEN) in viewed.stderr


def test_a_policy_denial_exits_3_and_writes_nothing(az, inputs, tmp_path):
    (inputs / "strict.yaml").write_text(
        "policies:\n  - module: builtin:certificate-hygiene\n    settings: { minDaysLeft: 4000 }\n")
    result = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
                "--cert", "certs/tls.crt", "--key", "certs/tls.key", "--ca", "certs/ca.crt", "--out", "protected.json",
                "--policy-set", "strict.yaml", expect=3, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.json()["decision"] == "denied"
    assert "CERTIFICATE_EXPIRES_SOON" in result.stderr
    # The message is the refusal and its violations, not the engine's verdict lines again.
    assert "Denied by policy: denied by 1 policy" in result.stderr
    assert "Decision:" not in result.stderr
    assert "s3cretPassw0rd" not in result.stdout + result.stderr
    assert not (inputs / "protected.json").exists()


def test_policy_warnings_of_an_allowed_write_are_shown(az, inputs, tmp_path):
    (inputs / "warn.yaml").write_text(
        "policies:\n  - module: builtin:certificate-hygiene\n    enforcement: warn\n"
        "    settings: { minDaysLeft: 4000 }\n")
    result = az("acr-ext", "connected-registry", "protected-settings", "--connection-string-file", "connection.txt",
                "--cert", "certs/tls.crt", "--key", "certs/tls.key", "--ca", "certs/ca.crt", "--out", "protected.json",
                "--policy-set", "warn.yaml", env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert "CERTIFICATE_EXPIRES_SOON" in result.stderr
    assert (inputs / "protected.json").exists()
