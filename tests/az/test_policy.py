"""`az acr-ext connected-registry check`, `policy check` and `policy list` through the real az and
the real engine with its built-in WebAssembly policies."""

import json

CONNECTION = ("connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cret;"
              "ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https")
SETTINGS = ("--config", "service.clusterIP=10.0.0.1", "--config-protected", CONNECTION)


def test_check_allows_sound_settings(az):
    result = az("acr-ext", "connected-registry", "check", *SETTINGS)
    report = result.json()
    assert report["decision"] == "allowed"
    assert {policy["result"] for policy in report["policies"]} == {"allowed"}
    assert "s3cret" not in result.stdout + result.stderr
    decision = az("acr-ext", "connected-registry", "check", *SETTINGS, "--query", "decision", "-o", "tsv")
    assert decision.stdout == "allowed\n"


def test_check_denial_exits_3_with_every_violation(az):
    result = az("acr-ext", "connected-registry", "check", *SETTINGS, "--config", "trustDistribution.enabled=false",
                expect=3)
    report = result.json()
    assert report["decision"] == "denied"
    denied = [policy["policy"] for policy in report["policies"] if policy["result"] == "denied"]
    assert denied == ["trust-distribution-requires-ca"]
    assert "TRUST_DISTRIBUTION_WITHOUT_CA" in result.stderr


def test_policy_check_reads_a_review_file(az, tmp_path):
    review = tmp_path / "review.json"
    review.write_text(json.dumps({
        "apiVersion": "acr.policy/v1", "operation": "deploy", "subject": "connected-registry",
        "object": {"service.clusterIP": "10.0.0.1", "cert-manager.enabled": False, "cert-manager.install": True,
                   "protected": {}},
    }))
    result = az("acr-ext", "policy", "check", "--input", str(review), expect=3)
    codes = [violation["code"] for policy in result.json()["policies"] for violation in policy["violations"]]
    assert "CONNECTION_STRING_MISSING" in codes


def test_policy_list_names_the_built_in_policies(az):
    names = az("acr-ext", "policy", "list", "--query", "[].metadata.name", "-o", "tsv").stdout.split()
    assert "trust-distribution-requires-ca" in names
    assert "certificate-hygiene" in names


def test_a_policy_error_blocks_with_exit_1_as_kubectl_acr_does(az, tmp_path):
    # certificate-hygiene refuses these settings, so evaluating it is an error; it fails closed.
    (az.cwd / "broken.yaml").write_text(
        'policies:\n  - module: builtin:certificate-hygiene\n    settings: { minDaysLeft: "soon" }\n')
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for command in (("connected-registry", "check"), ("policy", "check")):
        result = az("acr-ext", *command, *SETTINGS, "--policy-set", "broken.yaml", expect=1, env=env)
        assert result.json()["decision"] == "blocked-by-error"
        assert "blocked: 1 policy failed and fail closed" in result.stderr


def test_policy_check_denial_exits_3(az):
    result = az("acr-ext", "policy", "check", *SETTINGS, "--config", "trustDistribution.enabled=false", expect=3)
    assert result.json()["decision"] == "denied"
    assert "Denied by policy" in result.stderr
