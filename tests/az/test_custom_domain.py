"""`az acr-ext custom-domain prepare` through the real az, with certificates made by openssl and the
written files read back by openssl."""

import datetime
import os
import stat
import subprocess

import pytest

REGISTRY_DOMAIN = "registry.contoso.com"
DATA_DOMAIN = "eastus.data.contoso.com"
DOMAINS = ("--registry", "contoso", "--registry-domain", REGISTRY_DOMAIN, "--data-domain", "eastus=" + DATA_DOMAIN)


def openssl(*args, cwd):
    completed = subprocess.run(["openssl"] + [str(arg) for arg in args], cwd=str(cwd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, check=False)
    assert completed.returncode == 0, "openssl {} failed:\n{}".format(" ".join(map(str, args)), completed.stderr)
    return completed.stdout


class Pki:
    """A root CA, an intermediate CA below it, and leaves issued by the intermediate, made by openssl."""

    def __init__(self, folder):
        self.folder = folder
        folder.mkdir()
        self._key("root.key")
        openssl("req", "-x509", "-new", "-key", "root.key", "-out", "root.crt", "-days", "3650",
                "-subj", "/CN=Contoso Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
        self._key("intermediate.key")
        self._sign("intermediate", "/CN=Contoso Test Intermediate", "root",
                   "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n", 1825)

    def _key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name, cwd=self.folder)

    def _sign(self, name, subject, issuer, extensions, days):
        (self.folder / (name + ".ext")).write_text(extensions)
        openssl("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr", cwd=self.folder)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", issuer + ".crt", "-CAkey", issuer + ".key",
                "-CAcreateserial", "-days", days, "-extfile", name + ".ext", "-out", name + ".crt", cwd=self.folder)

    def leaf(self, name, dns_names, days=365):
        """Writes NAME.key and NAME.crt for the DNS names; returns their paths."""
        self._key(name + ".key")
        sans = ",".join("DNS:" + dns for dns in dns_names)
        self._sign(name, "/CN=" + dns_names[0], "intermediate",
                   "subjectAltName={}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n".format(sans),
                   days)
        return self.folder / (name + ".key"), self.folder / (name + ".crt")

    def path(self, name):
        return self.folder / name

    def text(self, name):
        return self.path(name).read_text()


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path / "pki")


@pytest.fixture
def cache_env(tmp_path):
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def prepare(az, cache_env, *args, expect=0):
    return az("acr-ext", "custom-domain", "prepare", *DOMAINS, *args, expect=expect, env=cache_env)


def test_a_correct_chain_writes_key_leaf_chain_files_that_openssl_reads_back(az, pki, cache_env):
    key, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN])
    out = az.cwd / "domains"
    plan = prepare(az, cache_env, "--key", key, "--cert", cert, "--chain", pki.path("intermediate.crt"),
                   "--ca", pki.path("root.crt"), "--out-dir", out,
                   "--key-vault-secret-id", "https://contosokv.vault.azure.net/secrets/contoso-domains").json()
    assert plan["policyDecision"] == "allowed"
    assert plan["testingOnly"] is False
    assert [domain["fqdn"] for domain in plan["domains"]] == [REGISTRY_DOMAIN, DATA_DOMAIN]
    assert plan["keyVault"]["rotation"] == "automatic"
    assert "up to 15 minutes" in plan["keyVault"]["rotationConsequence"]
    assert plan["supportRequest"]["regions"] == ["eastus"]

    for fqdn in (REGISTRY_DOMAIN, DATA_DOMAIN):
        pem = out / (fqdn + ".pem")
        assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
        assert pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
        # The key read from the file is the leaf's key.
        assert (openssl("pkey", "-in", pem, "-pubout", cwd=az.cwd)
                == openssl("x509", "-in", cert, "-noout", "-pubkey", cwd=az.cwd))
        listed = openssl("crl2pkcs7", "-nocrl", "-certfile", pem, cwd=az.cwd)
        subjects = [line for line in subprocess.run(
            ["openssl", "pkcs7", "-print_certs", "-noout"], input=listed, stdout=subprocess.PIPE, text=True,
            check=True).stdout.splitlines() if line.startswith("subject=")]
        assert subjects == ["subject=CN = " + REGISTRY_DOMAIN, "subject=CN = Contoso Test Intermediate"]
        verified = openssl("verify", "-CAfile", pki.path("root.crt"), "-untrusted", pem, pem, cwd=az.cwd)
        assert verified.strip() == "{}: OK".format(pem)


def test_query_tsv_and_table(az, pki, cache_env):
    key, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN])
    chain = az.cwd / "chain.pem"
    chain.write_text(pki.text("intermediate.crt") + pki.text("root.crt"))
    common = ("--key", key, "--cert", cert, "--chain", chain)
    targets = prepare(az, cache_env, *common, "--out-dir", "a", "--query", "domains[].cname.target", "-o", "tsv")
    assert targets.stdout.split() == ["contoso.azurecr.io", "contoso.eastus.data.azurecr.io"]
    commands = prepare(az, cache_env, *common, "--out-dir", "b", "-g", "rg1",
                       "--key-vault-secret-id", "https://contosokv.vault.azure.net/secrets/domains/0a1b2c3d",
                       "--query", "steps[].command", "-o", "tsv").stdout.splitlines()
    assert "az identity create --resource-group rg1 --name contoso-custom-domain" in commands
    assert any(command.startswith("az keyvault secret set --vault-name contosokv --name domains --file ")
               for command in commands)
    rotation = prepare(az, cache_env, *common, "--out-dir", "c",
                       "--key-vault-secret-id", "https://contosokv.vault.azure.net/secrets/domains/0a1b2c3d",
                       "--query", "keyVault.rotation", "-o", "tsv")
    assert rotation.stdout == "manual\n"
    table = prepare(az, cache_env, *common, "--out-dir", "d", "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Domain", "Kind", "Region", "CnameTarget", "PemFile"]
    assert table[2].split()[:2] == [REGISTRY_DOMAIN, "registry"]


def test_existing_files_are_not_replaced_without_force(az, pki, cache_env):
    out = az.cwd / "domains"
    prepare(az, cache_env, "--self-signed", "--out-dir", out)
    before = (out / (REGISTRY_DOMAIN + ".pem")).read_text()
    refused = prepare(az, cache_env, "--self-signed", "--out-dir", out, expect=1)
    assert "already exists; pass --force to replace it" in refused.stderr
    assert (out / (REGISTRY_DOMAIN + ".pem")).read_text() == before
    prepare(az, cache_env, "--self-signed", "--out-dir", out, "--force")
    assert (out / (REGISTRY_DOMAIN + ".pem")).read_text() != before


def test_self_signed_says_it_is_for_testing_only(az, cache_env):
    result = prepare(az, cache_env, "--self-signed", "--out-dir", "domains")
    assert result.json()["testingOnly"] is True
    assert "WARNING: for testing only" in result.stderr
    assert "PRIVATE KEY" not in result.stdout


def refused(az, cache_env, *args):
    result = prepare(az, cache_env, *args, "--out-dir", "domains", expect=1)
    assert result.stdout == ""
    assert not (az.cwd / "domains").exists()
    assert "ERROR: the certificate is refused" in result.stderr
    return result.stderr


def test_a_bundle_with_key_and_certificates_out_of_order_is_refused_with_the_reason(az, pki, cache_env):
    key, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN])
    bundle = az.cwd / "bundle.pem"
    bundle.write_text(pki.text("intermediate.crt") + key.read_text() + cert.read_text())
    stderr = refused(az, cache_env, "--cert", bundle.name, "--ca", pki.path("root.crt"))
    assert ("bundle.pem: the private key is PEM block 2, after the certificate in PEM block 1; a bundle must hold "
            "the private key first, then the serving certificate, then its chain") in stderr
    assert ("out of order: they are given as CN=Contoso Test Intermediate (bundle.pem block 1), then "
            "CN=registry.contoso.com (bundle.pem block 3)") in stderr


def test_a_key_that_does_not_match_is_refused(az, pki, cache_env):
    _, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN])
    other_key, _ = pki.leaf("other", [REGISTRY_DOMAIN])
    stderr = refused(az, cache_env, "--key", other_key, "--cert", cert, "--chain", pki.path("intermediate.crt"),
                     "--ca", pki.path("root.crt"))
    assert "CN=registry.contoso.com: the private key (ECDSA P-256) does not belong to this certificate" in stderr


def test_a_certificate_for_another_domain_is_refused(az, pki, cache_env):
    key, cert = pki.leaf("fabrikam", ["registry.fabrikam.com"])
    stderr = refused(az, cache_env, "--key", key, "--cert", cert, "--chain", pki.path("intermediate.crt"),
                     "--ca", pki.path("root.crt"))
    assert ("registry domain registry.contoso.com: not covered by the serving certificate CN=registry.fabrikam.com, "
            "whose subjectAltName is DNS:registry.fabrikam.com") in stderr
    assert "data domain eastus.data.contoso.com (eastus): not covered" in stderr


def test_a_wildcard_does_not_cover_a_two_level_name(az, pki, cache_env):
    key, cert = pki.leaf("wildcard", ["*.contoso.com"])
    stderr = refused(az, cache_env, "--key", key, "--cert", cert, "--chain", pki.path("intermediate.crt"),
                     "--ca", pki.path("root.crt"))
    assert ("the wildcard *.contoso.com covers exactly one label (RFC 6125), so not eastus.data.contoso.com") in stderr
    assert "registry domain registry.contoso.com" not in stderr


def test_an_expired_certificate_is_refused(az, pki, cache_env):
    key, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN], days=30)
    later = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    stderr = refused(az, cache_env, "--key", key, "--cert", cert, "--chain", pki.path("intermediate.crt"),
                     "--ca", pki.path("root.crt"), "--at", later)
    assert "CN=registry.contoso.com: expired on " in stderr


def test_a_missing_intermediate_is_refused_naming_it(az, pki, cache_env):
    key, cert = pki.leaf("contoso", [REGISTRY_DOMAIN, DATA_DOMAIN])
    stderr = refused(az, cache_env, "--key", key, "--cert", cert)
    assert ("CN=registry.contoso.com: issued by CN=Contoso Test Intermediate, which is neither among the "
            "certificates given nor a publicly trusted root") in stderr


def test_a_policy_denial_exits_3_and_writes_nothing(az, cache_env):
    (az.cwd / "strict.yaml").write_text(
        "policies:\n  - module: builtin:certificate-hygiene\n    settings: { minDaysLeft: 400 }\n")
    result = prepare(az, cache_env, "--self-signed", "--out-dir", "domains", "--policy-set", "strict.yaml", expect=3)
    assert result.json()["decision"] == "denied"
    assert "CERTIFICATE_EXPIRES_SOON" in result.stderr
    assert not (az.cwd / "domains").exists()


def test_a_certificate_source_is_required(az):
    result = az("acr-ext", "custom-domain", "prepare", *DOMAINS, "--out-dir", "domains", expect=2)
    assert "--cert" in result.stderr and "--self-signed" in result.stderr
