"""Help for every `az acr-ext` group and command: summaries and examples. Parameter help lives
beside each parameter in _table.py."""

from knack.help_files import helps  # pylint: disable=unused-import

helps["acr-ext"] = """
type: group
short-summary: Azure Container Registry helpers for connected registries, certificates and settings.
long-summary: >
    Runs the az-acr-ext engine, looked for in this order: the AZ_ACR_EXT_BINARY environment variable,
    the `az config set acr_ext.binary=PATH` setting, bin/az-acr-ext inside the installed extension,
    then PATH. Its version must match the extension's major.minor version (see `az acr-ext version`).
    Failed checks exit 1, refused argument values exit 2 and policy denials exit 3.
"""

helps["acr-ext cert"] = """
type: group
short-summary: Generate, inspect and verify the TLS certificates of a connected registry.
"""

helps["acr-ext cert generate"] = """
type: command
short-summary: Generate a CA and a serving certificate, or a serving certificate signed by your CA.
long-summary: >
    Writes ca.crt, ca.key (new CA only), tls.crt and tls.key to --out-dir. Keys are written 0600,
    atomically, and existing files are never replaced without --force. The serving certificate has
    the given IP and DNS subjectAltNames and extendedKeyUsage serverAuth. Prints what was made.
examples:
  - name: A CA and a serving certificate for a connected registry's service IP.
    text: az acr-ext cert generate --ip 192.100.100.1 --out-dir ./certs
  - name: An RSA certificate for an IP and a DNS name, signed by your own CA, valid 90 days.
    text: az acr-ext cert generate --ip 192.100.100.1 --dns registry.contoso.local --key-type rsa3072 --days 90 --ca-cert ca.crt --ca-key ca.key --out-dir ./certs
  - name: Only the paths of the files written.
    text: az acr-ext cert generate --ip 192.100.100.1 --out-dir ./certs --query files -o tsv
"""

helps["acr-ext cert inspect"] = """
type: command
short-summary: Show what a certificate, bundle, base64 value or Kubernetes Secret holds.
long-summary: >
    Reads PEM or DER certificates and bundles, base64 values from protected settings, whole
    protected settings files and Kubernetes Secret manifests. Shows subjects, subjectAltNames,
    validity, key type and fingerprints. Private keys are never shown.
examples:
  - name: Inspect a serving certificate.
    text: az acr-ext cert inspect ./certs/tls.crt
  - name: The IP addresses the first certificate is for.
    text: az acr-ext cert inspect ./certs/tls.crt --query "certificates[0].subjectAltNames.ip" -o tsv
  - name: One row per certificate of a protected settings file, with days left on 1 June 2026.
    text: az acr-ext cert inspect protected-settings-extension.json --at 2026-06-01 -o table
  - name: A certificate from a Kubernetes Secret, read from standard input.
    text: kubectl get secret registry-tls -o yaml | az acr-ext cert inspect -
"""

helps["acr-ext cert verify"] = """
type: command
short-summary: Check a serving certificate - key match, chain, CA flags, validity and names.
long-summary: >
    Runs every check and prints the report (`passed` and one entry per check). When any check fails,
    the report is still printed (so -o and --query work on it), then the command fails with exit
    code 1 and an error listing the failed checks.
examples:
  - name: Verify a serving certificate, its key and CA for the registry's service IP.
    text: az acr-ext cert verify --cert ./certs/tls.crt --key ./certs/tls.key --ca ./certs/ca.crt --ip 192.100.100.1
  - name: Will it still be valid on 1 January 2027? Show the checks as a table.
    text: az acr-ext cert verify --cert ./certs/tls.crt --ca ./certs/ca.crt --at 2027-01-01 -o table
  - name: Only the names of the failed checks.
    text: az acr-ext cert verify --cert ./certs/tls.crt --dns registry.contoso.com --query "checks[?outcome=='fail'].name" -o tsv
"""

helps["acr-ext connected-registry"] = """
type: group
short-summary: Settings of an ACR connected registry's Arc extension.
"""

helps["acr-ext connected-registry config-view"] = """
type: command
short-summary: Show the effective Arc extension settings - defaults filled in, TLS source named, secrets redacted.
long-summary: >
    Takes the settings as `az k8s-extension create --extension-type Microsoft.ContainerRegistry.ConnectedRegistry`
    takes them, so its --config and --config-protected-file arguments paste unchanged. Refuses unknown
    keys (with a suggestion), wrong types, conflicting TLS settings and invalid JSON (with line and column).
examples:
  - name: The settings for a service IP, with the cluster's own cert-manager.
    text: az acr-ext connected-registry config-view --config service.clusterIP=192.100.100.1 cert-manager.install=false
  - name: Check a protected settings file before handing it to az k8s-extension create.
    text: az acr-ext connected-registry config-view --config service.clusterIP=192.100.100.1 --config cert-manager.enabled=false --config cert-manager.install=false --config-protected-file protected-settings-extension.json
  - name: Where the registry's TLS certificate will come from.
    text: az acr-ext connected-registry config-view --config service.clusterIP=192.100.100.1 --query tlsSource.description -o tsv
"""

helps["acr-ext connected-registry protected-settings"] = """
type: command
short-summary: Write the protected settings file of the Arc extension - connection string and TLS - as valid JSON.
long-summary: >
    Writes {"connectionString", "tls.crt", "tls.key", "tls.cacrt"} (certificates and key base64-encoded, as the
    Arc extension expects) or {"connectionString", "tls.secret"} to --out, 0600 and atomically, never over an
    existing file without --force. Refuses a connection string that does not parse and a key that does not
    belong to the certificate. The policies (the built-ins, or --policy-set) check what the file would hold
    first, secrets redacted: a denial exits 3 and writes nothing. Prints a summary; secret values are never
    printed.
examples:
  - name: Bring your own certificate.
    text: az acr-ext connected-registry protected-settings --connection-string-file connection.txt --cert tls.crt --key tls.key --ca ca.crt --out protected-settings-extension.json
  - name: Use an existing kubernetes.io/tls Secret.
    text: az acr-ext connected-registry protected-settings --connection-string-file connection.txt --secret registry-tls --out protected-settings-extension.json
  - name: Only the keys written.
    text: az acr-ext connected-registry protected-settings --connection-string-file connection.txt --secret registry-tls --out protected.json --query keys -o tsv
"""

helps["acr-ext custom-domain"] = """
type: group
short-summary: Prepare custom domains for a registry - certificate checks, PEM files, DNS and Key Vault steps.
"""

helps["acr-ext custom-domain prepare"] = """
type: command
short-summary: Check the certificate for a registry's custom domains, write one PEM per domain and plan the remaining steps.
long-summary: >
    One certificate covers the registry domain and every data domain. It is refused, with every reason,
    when its key does not match, a domain is not in its subjectAltName (a wildcard covers one label only),
    it is expired or not yet valid, the certificates are out of order (the serving certificate first, then
    each issuer; in a bundle the private key first) or the chain is incomplete (the missing issuer is named).
    Then the policies run (subject custom-domain, operation prepare): a denial exits 3 and writes nothing.
    Otherwise <fqdn>.pem (private key, certificate, chain) is written per domain, 0600, and the plan lists the
    CNAME records, the Key Vault, identity and role commands, what the secret ID means for rotation, and the
    details the support request needs.
examples:
  - name: A registry domain and a data domain, with your certificate and its intermediate.
    text: az acr-ext custom-domain prepare --registry contoso --registry-domain registry.contoso.com --data-domain eastus=eastus.data.contoso.com --key contoso.key --cert contoso.crt --chain intermediate.crt --out-dir ./domains --key-vault-secret-id https://contosokv.vault.azure.net/secrets/contoso-domains
  - name: A self-signed certificate to try the steps out (testing only).
    text: az acr-ext custom-domain prepare --registry contoso --registry-domain registry.contoso.com --self-signed --out-dir ./domains
  - name: Only the commands still to run.
    text: az acr-ext custom-domain prepare --registry contoso --registry-domain registry.contoso.com --cert bundle.pem --out-dir ./domains --query "steps[].command" -o tsv
"""

helps["acr-ext policy"] = """
type: group
short-summary: Check settings against your organisation's WebAssembly policies.
"""

helps["acr-ext connected-registry check"] = """
type: command
short-summary: Run the policies on connected registry settings, as kubectl acr deploy would before changing anything.
long-summary: >
    Takes the same settings as config-view. Returns every policy's verdict; when a policy denies, az
    prints the report and fails with exit code 3 listing each violation. A policy that fails (trap,
    limit, bad answer) blocks by default and is reported apart from a denial.
examples:
  - name: Check settings with the built-in policies.
    text: az acr-ext connected-registry check --config service.clusterIP=192.100.100.1 --config-protected-file protected-settings-extension.json
  - name: Only the decision.
    text: az acr-ext connected-registry check --config service.clusterIP=192.100.100.1 --config-protected-file protected-settings-extension.json --query decision -o tsv
"""

helps["acr-ext policy check"] = """
type: command
short-summary: Run the policies on connected registry settings or on an admission review file.
long-summary: >
    Denied: exit code 3 with every violation. A policy error blocks by default (exit 1); a policy set can
    mark a policy `enforcement: warn` or `on-error: allow`.
examples:
  - name: Check settings against your organisation's policy set.
    text: az acr-ext policy check --policy-set org-policies.yaml --config service.clusterIP=192.100.100.1 --config-protected-file protected-settings-extension.json
  - name: Check a review written by hand or by another tool.
    text: az acr-ext policy check --input review.json
"""

helps["acr-ext policy list"] = """
type: command
short-summary: List the policies that would run, with their metadata.
examples:
  - name: The built-in policies.
    text: az acr-ext policy list -o table
  - name: The policies of a set, by name.
    text: az acr-ext policy list --policy-set org-policies.yaml --query "[].metadata.name" -o tsv
"""

helps["acr-ext private-endpoint"] = """
type: group
short-summary: Check that a registry behind private endpoints resolves to private addresses.
"""

helps["acr-ext private-endpoint check"] = """
type: command
short-summary: Check the private-endpoint DNS of a registry and each of its regional data endpoints.
long-summary: >
    Asks the DNS server your clients use about <registry>.azurecr.io and <registry>.<region>.data.azurecr.io
    for each --region. Each must be a CNAME chain through <registry>.privatelink.azurecr.io (or
    <registry>.<region>.data.privatelink.azurecr.io) ending at a private address (RFC 1918, RFC 6598 or
    IPv6 ULA). Each problem is named with its fix: link the privatelink.azurecr.io private DNS zone to the
    VNet (or add a conditional forwarder), create the missing A record in that zone, or replace a public
    address. Fails with exit code 1 when any endpoint has a problem.
examples:
  - name: Check the registry and its East US data endpoint through the VNet's DNS server.
    text: az acr-ext private-endpoint check --registry contoso --region eastus --dns-server 10.1.0.4
  - name: The endpoints that fail, by name.
    text: az acr-ext private-endpoint check --registry contoso --region eastus westeurope --query "endpoints[?!passed].name" -o tsv
"""

helps["acr-ext version"] = """
type: command
short-summary: Show the versions of the extension and of the az-acr-ext engine it runs, and where the engine was found.
long-summary: >
    Fails, naming where it looked and how to fix it, when the engine is missing or its major.minor
    version differs from the extension's.
examples:
  - name: Both versions and the engine's path.
    text: az acr-ext version -o table
  - name: The engine's version only.
    text: az acr-ext version --query engine.version -o tsv
"""
