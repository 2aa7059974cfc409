"""`az acr-ext private-endpoint check` through the real az, against a real DNS server: dnsmasq on
127.0.0.1 serving a correct private-endpoint setup and broken variants."""

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REGISTRY = "contoso"


def _dnsmasq_binary():
    sbin = Path("/usr/sbin/dnsmasq")
    if sbin.is_file():
        return str(sbin)
    found = shutil.which("dnsmasq")
    assert found, "dnsmasq is not installed: run scripts/test.sh, which installs dnsmasq-base"
    return found


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dns_server(tmp_path):
    """Starts dnsmasq with the given records (dnsmasq options); returns its IP:PORT."""
    started = []

    def start(*records):
        port = _free_port()
        log = open(tmp_path / "dnsmasq-{}.log".format(port), "w")  # pylint: disable=consider-using-with
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [_dnsmasq_binary(), "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--bind-interfaces", "--listen-address=127.0.0.1", "--port={}".format(port),
             "--user={}".format(getpass.getuser())]
            + list(records), stdout=log, stderr=subprocess.STDOUT)
        started.append((process, log))
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, "dnsmasq exited: {}".format((tmp_path / log.name).read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return "127.0.0.1:{}".format(port)
            except OSError:
                assert time.monotonic() < deadline, "dnsmasq did not start listening"
                time.sleep(0.05)

    yield start
    for process, log in started:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def correct_records(data_address="10.1.0.6"):
    return [
        "--cname=contoso.azurecr.io,contoso.privatelink.azurecr.io",
        "--host-record=contoso.privatelink.azurecr.io,10.1.0.5",
        "--cname=contoso.eastus.data.azurecr.io,contoso.eastus.data.privatelink.azurecr.io",
        "--host-record=contoso.eastus.data.privatelink.azurecr.io,{}".format(data_address),
    ]


def check(az, server, *extra, expect):
    return az("acr-ext", "private-endpoint", "check", "--registry", REGISTRY, "--region", "eastus",
              "--dns-server", server, *extra, expect=expect)


def test_a_correct_setup_passes_with_each_chain_and_address(az, dns_server):
    server = dns_server(*correct_records())
    report = check(az, server, expect=0).json()
    assert report["passed"] is True
    assert report["registry"] == "contoso"
    endpoints = {endpoint["name"]: endpoint for endpoint in report["endpoints"]}
    assert endpoints["contoso.azurecr.io"]["chain"] == ["contoso.azurecr.io", "contoso.privatelink.azurecr.io"]
    assert endpoints["contoso.azurecr.io"]["addresses"] == ["10.1.0.5"]
    assert endpoints["contoso.eastus.data.azurecr.io"]["addresses"] == ["10.1.0.6"]
    tsv = check(az, server, "--query", "endpoints[].name", "-o", "tsv", expect=0).stdout
    assert tsv.split() == ["contoso.azurecr.io", "contoso.eastus.data.azurecr.io"]


def test_a_missing_data_endpoint_record_is_named_with_its_fix(az, dns_server):
    server = dns_server(*correct_records()[:2])
    result = check(az, server, expect=1)
    assert "problem(s) in the DNS of contoso" in result.stderr, result
    failing = check(az, server, "--query", "endpoints[?!passed].name", "-o", "tsv", expect=1).stdout
    assert failing.split() == ["contoso.eastus.data.azurecr.io"]


def test_a_public_answer_through_privatelink_is_reported(az, dns_server):
    server = dns_server(*correct_records(data_address="20.62.128.10"))
    result = check(az, server, "-o", "json", expect=1)
    kinds = check(az, server, "--query", "endpoints[].problems[].kind", "-o", "tsv", expect=1).stdout.split()
    assert kinds == ["public-address"], result
    table = check(az, server, "-o", "table", expect=1).stdout
    assert "public-address" in table and "contoso.eastus.data.azurecr.io" in table, table


def test_no_privatelink_cname_means_public_dns_is_answering(az, dns_server):
    server = dns_server("--host-record=contoso.azurecr.io,20.62.128.9", *correct_records()[2:])
    kinds = check(az, server, "--query", "endpoints[0].problems[].kind", "-o", "tsv", expect=1).stdout.split()
    assert kinds[0] == "no-privatelink-cname"
    fixes = check(az, server, "--query", "endpoints[0].problems[].fix", "-o", "tsv", expect=1).stdout
    assert "privatelink.azurecr.io" in fixes


def test_a_bad_registry_name_is_a_usage_error(az):
    result = az("acr-ext", "private-endpoint", "check", "--registry", "no", "--dns-server", "127.0.0.1:53",
                expect=None)
    assert result.returncode != 0
    assert "is not a registry name" in result.stderr, result
