"""How engine outcomes the real engine cannot produce on demand (policy denials, crashes, warnings,
broken output) reach the az user. A stand-in engine plays each one; az and the extension are real."""

import json
import subprocess
import sys

DENIED_REPORT = {
    "allowed": False,
    "policies": [{
        "policy": "require-custom-ca",
        "allowed": False,
        "violations": [{"code": "TRUST_DISTRIBUTION_WITHOUT_CA", "field": "tls.cacrt",
                        "message": "trust distribution needs a custom CA in tls.cacrt"}],
        "warnings": [],
    }],
}


def test_a_policy_denial_prints_the_verdicts_and_exits_3(az, fake_engine, version):
    fake = fake_engine(version=version, stdout=json.dumps(DENIED_REPORT),
                       stderr="error: denied by policy: 1 violation\n", exit_code=3)
    result = az("acr-ext", "connected-registry", "config-view", "--config", "service.clusterIP=10.0.0.1",
                env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=3)
    assert result.json() == DENIED_REPORT
    assert "ERROR: denied by policy: 1 violation" in result.stderr
    assert ("  - TRUST_DISTRIBUTION_WITHOUT_CA: trust distribution needs a custom CA in tls.cacrt (tls.cacrt)"
            in result.stderr)
    query = az("acr-ext", "connected-registry", "config-view", "--query", "policies[0].violations[0].code", "-o", "tsv",
               env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=3)
    assert query.stdout == "TRUST_DISTRIBUTION_WITHOUT_CA\n"


def test_a_policy_denial_without_a_report_still_says_so(az, fake_engine, version):
    fake = fake_engine(version=version, stderr="error: the deploy request was refused\n", exit_code=3)
    result = az("acr-ext", "connected-registry", "config-view", env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=3)
    assert result.stdout == ""
    assert "ERROR: Denied by policy: the deploy request was refused" in result.stderr


def test_an_engine_crash_is_an_internal_error_with_its_message(az, fake_engine, version):
    fake = fake_engine(version=version, stderr="thread 'main' panicked at src/main.rs:1:1:\nboom\n", exit_code=101)
    result = az("acr-ext", "cert", "inspect", "tls.crt", env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=1)
    assert result.stdout == ""
    assert "ERROR: az-acr-ext cert inspect failed with exit code 101 unexpectedly: thread 'main' panicked" in result.stderr
    assert "boom" in result.stderr


def test_output_that_is_not_json_is_an_internal_error(az, fake_engine, version):
    fake = fake_engine(version=version, stdout="Serving certificate: CN=x\n")
    result = az("acr-ext", "cert", "inspect", "tls.crt", env={"AZ_ACR_EXT_BINARY": str(fake)}, expect=1)
    assert "ERROR: az-acr-ext cert inspect printed output that is not JSON" in result.stderr
    assert "Serving certificate: CN=x" in result.stderr


def test_engine_warnings_are_shown_as_az_warnings(az, fake_engine, version):
    fake = fake_engine(version=version, stdout='{"ok": true}', stderr="warning: the CA expires in 10 days\n")
    result = az("acr-ext", "cert", "inspect", "tls.crt", env={"AZ_ACR_EXT_BINARY": str(fake)})
    assert result.json() == {"ok": True}
    assert "WARNING: the CA expires in 10 days" in result.stderr


def test_arguments_reach_the_engine_as_given(az, tmp_path, version):
    """The argv the engine receives: az flags mapped one to one, lists expanded, positionals after --."""
    record = tmp_path / "argv.json"
    fake = tmp_path / "recording-engine"
    fake.write_text(
        "#!{python}\n"
        "import json, sys\n"
        "if sys.argv[1:2] == ['version']:\n"
        "    print(json.dumps({{'name': 'az-acr-ext', 'version': {version!r}}}))\n"
        "    sys.exit(0)\n"
        "open({record!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        "print('{{}}')\n".format(python=sys.executable, version=version, record=str(record)))
    fake.chmod(0o755)
    env = {"AZ_ACR_EXT_BINARY": str(fake)}

    az("acr-ext", "cert", "inspect", "--at", "2030-01-01", "--", "-weird.pem", env=env)
    assert json.loads(record.read_text()) == ["cert", "inspect", "--at=2030-01-01", "--", "-weird.pem"]

    az("acr-ext", "cert", "generate", "--ip", "10.0.0.1", "10.0.0.2", "--ip", "10.0.0.3", "--dns", "a.local",
       "--key-type", "RSA3072", "--days", "90", "--force", "--out-dir=-dir", env=env)
    assert json.loads(record.read_text()) == [
        "cert", "generate", "--ip=10.0.0.1", "--ip=10.0.0.2", "--ip=10.0.0.3", "--dns=a.local",
        "--key-type=rsa3072", "--days=90", "--out-dir=-dir", "--force"]


def test_a_failed_check_does_not_leak_into_the_next_command_in_the_same_process(az, engine, tmp_path):
    """Scripts that drive az in-process (get_default_cli().invoke) run several commands on one CLI."""
    az("acr-ext", "cert", "generate", "--ip", "10.0.0.1", "--out-dir", "certs")
    program = (
        "import sys\n"
        "from azure.cli.core import get_default_cli\n"
        "cli = get_default_cli()\n"
        "failed = cli.invoke(['acr-ext', 'cert', 'verify', '--cert', 'certs/tls.crt', '--ip', '10.9.9.9', '-o', 'none'])\n"
        "passed = cli.invoke(['acr-ext', 'cert', 'verify', '--cert', 'certs/tls.crt', '--ip', '10.0.0.1', '-o', 'none'])\n"
        "sys.stderr.write('exit codes {} {}\\n'.format(failed, passed))\n")
    completed = subprocess.run([sys.executable, "-c", program], env=az.env, cwd=str(az.cwd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert completed.stderr.strip().endswith("exit codes 1 0"), completed.stderr
    assert completed.stderr.count("failed verification") == 1, completed.stderr
