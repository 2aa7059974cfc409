"""`az acr-ext cert generate|inspect|verify` through the real az: outputs, --query, -o formats, errors."""

import stat

import pytest
import yaml

SERVICE_IP = "192.100.100.1"


@pytest.fixture
def generated(az):
    """A CA and a serving certificate for SERVICE_IP and registry.contoso.local, made through az."""
    result = az("acr-ext", "cert", "generate", "--ip", SERVICE_IP, "--dns", "registry.contoso.local",
                "--days", "30", "--out-dir", "certs").json()
    return az.cwd / "certs", result


def test_generate_writes_the_files_and_returns_what_it_made(generated):
    folder, result = generated
    assert sorted(result["files"]) == ["certs/ca.crt", "certs/ca.key", "certs/tls.crt", "certs/tls.key"]
    for name in ("ca.crt", "ca.key", "tls.crt", "tls.key"):
        assert (folder / name).is_file()
    for key in ("ca.key", "tls.key"):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600
    assert result["caGenerated"] is True
    assert result["keyType"] == "p256"
    assert result["validityDays"] == 30
    assert result["certificate"]["subjectAltNames"]["ip"] == [SERVICE_IP]
    assert result["certificate"]["subjectAltNames"]["dns"] == ["registry.contoso.local"]
    assert result["certificate"]["extendedKeyUsage"] == ["serverAuth"]
    assert result["ca"]["isCa"] is True


def test_generate_takes_space_separated_and_repeated_names_and_the_key_type(az):
    result = az("acr-ext", "cert", "generate", "--ip", "10.0.0.1", "10.0.0.2", "--ip", "10.0.0.3",
                "--dns", "a.contoso.local", "--key-type", "rsa2048", "--out-dir", "rsa").json()
    assert result["certificate"]["subjectAltNames"]["ip"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert result["keyType"] == "rsa2048"
    assert result["certificate"]["publicKey"]["bits"] == 2048


def test_generate_as_a_table_has_one_row_per_certificate(az):
    lines = az("acr-ext", "cert", "generate", "--ip", SERVICE_IP, "--out-dir", "t", "-o", "table").stdout.splitlines()
    assert lines[0].split()[:3] == ["Role", "Subject", "Names"]
    assert lines[2].startswith("serving ")
    assert "IP:{}".format(SERVICE_IP) in lines[2]
    assert lines[3].startswith("CA (new) ")
    assert len(lines) == 4


def test_generate_refuses_to_overwrite_keys_without_force(az, generated):
    folder, _ = generated
    before = (folder / "tls.key").read_bytes()
    result = az("acr-ext", "cert", "generate", "--ip", SERVICE_IP, "--out-dir", "certs", expect=1)
    assert result.stdout == ""
    assert result.stderr.startswith("ERROR: ")
    assert "certs/" in result.stderr and "exists" in result.stderr
    assert "--force" in result.stderr
    assert (folder / "tls.key").read_bytes() == before
    az("acr-ext", "cert", "generate", "--ip", SERVICE_IP, "--out-dir", "certs", "--force")
    assert (folder / "tls.key").read_bytes() != before


def test_a_value_the_engine_refuses_exits_2_with_its_message(az):
    result = az("acr-ext", "cert", "generate", "--ip", "192.100.100.x", "--out-dir", "x", expect=2)
    assert result.stdout == ""
    assert "ERROR: invalid value '192.100.100.x' for '--ip <IP>': invalid IP address syntax" in result.stderr
    assert "Usage: az-acr-ext" not in result.stderr
    assert not (az.cwd / "x").exists()


def test_inspect_query_tsv_gives_the_ip(az, generated):
    result = az("acr-ext", "cert", "inspect", "certs/tls.crt", "--query", "certificates[0].subjectAltNames.ip",
                "-o", "tsv")
    assert result.stdout == SERVICE_IP + "\n"


def test_inspect_returns_the_certificates(az, generated):
    _, made = generated
    result = az("acr-ext", "cert", "inspect", "certs/tls.crt").json()
    assert result["format"] == "pem"
    (certificate,) = result["certificates"]
    assert certificate["sha256Fingerprint"] == made["certificate"]["sha256Fingerprint"]
    assert certificate["subjectAltNames"]["dns"] == ["registry.contoso.local"]


def test_inspect_table_and_yaml(az, generated):
    table = az("acr-ext", "cert", "inspect", "certs/tls.crt", "-o", "table").stdout.splitlines()
    assert table[0].split()[:3] == ["Origin", "Subject", "Names"]
    assert len(table) == 3
    assert table[2].startswith("PEM block 1 ")
    assert "IP:{}, DNS:registry.contoso.local".format(SERVICE_IP) in table[2]
    assert "ECDSA P-256" in table[2]

    parsed = yaml.safe_load(az("acr-ext", "cert", "inspect", "certs/ca.crt", "-o", "yaml").stdout)
    assert parsed["certificates"][0]["isCa"] is True


def test_inspect_reads_standard_input(az, generated):
    folder, _ = generated
    result = az("acr-ext", "cert", "inspect", "-", "--query", "certificates[0].isCa",
                stdin=(folder / "ca.crt").read_text())
    assert result.json() is True


def test_inspect_at_a_later_time(az, generated):
    result = az("acr-ext", "cert", "inspect", "certs/tls.crt", "--at", "2099-01-01",
                "--query", "certificates[0].expired").json()
    assert result is True


def test_inspect_of_a_missing_file_fails_with_the_engine_message(az):
    result = az("acr-ext", "cert", "inspect", "nope.crt", expect=1)
    assert result.stdout == ""
    assert "ERROR: cannot read nope.crt" in result.stderr
    assert "error: " not in result.stderr


def test_verify_passes(az, generated):
    result = az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--key", "certs/tls.key",
                "--ca", "certs/ca.crt", "--ip", SERVICE_IP, "--dns", "registry.contoso.local").json()
    assert result["passed"] is True
    names = {check["name"] for check in result["checks"]}
    assert {"key-matches", "signature", "trust-anchor", "san-covers", "validity"} <= names
    assert all(check["outcome"] in ("pass", "warn") for check in result["checks"])
    assert az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--ca", "certs/ca.crt",
              "--query", "passed").json() is True


def test_verify_failure_prints_the_report_and_exits_1_listing_the_failed_checks(az, generated):
    result = az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--key", "certs/tls.key",
                "--ca", "certs/ca.crt", "--ip", "10.9.9.9", expect=1)
    report = result.json()
    assert report["passed"] is False
    failed = [check for check in report["checks"] if check["outcome"] == "fail"]
    assert [(check["name"], check["subject"]) for check in failed] == [("san-covers", "IP 10.9.9.9")]
    assert "ERROR: certs/tls.crt failed verification: 1 check failed" in result.stderr
    assert "  - san-covers (IP 10.9.9.9): not in the certificate's subjectAltName" in result.stderr


def test_verify_failure_still_honours_query_and_table(az, generated):
    query = az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--ca", "certs/ca.crt", "--at", "2099-01-01",
               "--query", "checks[?outcome=='fail'].name", "-o", "tsv", expect=1)
    assert query.stdout.split() == ["validity", "validity"]
    assert "2 checks failed" in query.stderr

    table = az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--dns", "other.contoso.local",
               "-o", "table", expect=1)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Check", "Outcome", "Subject", "Detail"]
    assert any(line.split()[:2] == ["san-covers", "fail"] for line in lines[2:])
    assert "san-covers (DNS other.contoso.local)" in table.stderr


def test_verify_with_the_wrong_key_fails(az, generated):
    az("acr-ext", "cert", "generate", "--ip", SERVICE_IP, "--out-dir", "other")
    result = az("acr-ext", "cert", "verify", "--cert", "certs/tls.crt", "--key", "other/tls.key",
                "--query", "checks[?name=='key-matches'].outcome | [0]", expect=1)
    assert result.json() == "fail"
    assert "key-matches" in result.stderr


def test_verify_needs_cert(az):
    result = az("acr-ext", "cert", "verify", "--ip", SERVICE_IP, expect=2)
    assert "the following arguments are required: --cert" in result.stderr
