"""The `az acr-ext` commands, declared once: each az command, the engine command it runs and its
parameters (with their help). commands.py and _params.py register this table with az, custom.py
turns the parsed arguments back into the engine's argv, and _help.py holds each command's summary
and examples.

To add a command: one EngineCommand below, plus its `helps[...]` entry in _help.py.
"""

from azext_acr_ext import _format

# Parameter kinds.
VALUE = "value"  # --flag VALUE
LIST = "list"  # --flag V1 V2 and/or --flag V1 --flag V2, passed as one --flag=V per value
SWITCH = "switch"  # --flag, no value
POSITIONAL = "positional"  # one bare argument; passed after `--` so a value may start with '-'


class Param:  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """One parameter of an az command and the engine flag it becomes.

    dest: the Python name az passes it under; options: the az option strings (default --dest-with-dashes);
    engine_flag: the engine's long flag (default: the first az option); help: shown by --help;
    value_type: a converter such as int; choices: allowed values; required: az refuses the command
    without it; secret: its values are never logged.
    """

    def __init__(self, dest, help, kind=VALUE, options=None, engine_flag=None, metavar=None,  # pylint: disable=redefined-builtin
                 value_type=None, choices=None, required=False, secret=False):
        if kind not in (VALUE, LIST, SWITCH, POSITIONAL):
            raise ValueError("unknown parameter kind {!r} for {}".format(kind, dest))
        self.dest = dest
        self.help = help
        self.kind = kind
        if kind == POSITIONAL:
            self.options = []
            self.engine_flag = None
        else:
            self.options = list(options or ["--" + dest.replace("_", "-")])
            self.engine_flag = engine_flag or self.options[0]
        self.metavar = metavar
        self.value_type = value_type
        self.choices = choices
        self.required = required
        self.secret = secret


class EngineCommand:  # pylint: disable=too-few-public-methods
    """An az command that runs one engine command.

    name: the az command ("acr-ext cert generate"); engine: the engine's subcommand words;
    params: Param list, in the order they are passed; table: the `-o table` transformer;
    transform: optional function(result, engine) -> result shown to the user.
    """

    def __init__(self, name, engine, params=(), table=None, transform=None):
        self.name = name
        self.engine = tuple(engine)
        self.params = tuple(params)
        self.table = table
        self.transform = transform

    @property
    def group(self):
        return self.name.rsplit(" ", 1)[0]

    @property
    def leaf(self):
        return self.name.rsplit(" ", 1)[1]


# Groups and their one-line summaries live in _help.py; this lists them for registration.
GROUPS = ("acr-ext", "acr-ext cert", "acr-ext connected-registry", "acr-ext custom-domain", "acr-ext policy",
          "acr-ext private-endpoint")

# The Arc extension's settings flags, named as `az k8s-extension create` names them. Shared by
# every command that takes connected registry settings.
SETTINGS_PARAMS = (
    Param("config", kind=LIST, metavar="KEY=VALUE",
          help="A connected registry setting as KEY=VALUE, as `az k8s-extension create --config` takes it. "
               "Space-separated and/or repeated. Keys: service.clusterIP (required), service.type, "
               "pvc.storageClassName, pvc.storageRequest, cert-manager.enabled, cert-manager.install, "
               "trustDistribution.enabled, trustDistribution.useNodeSelector (or the older "
               "trustDistribution.skipNodeSelector), registryLoginServer, httpEnabled, and the container "
               "profile container.image, container.httpsPort, container.httpPort, container.runAsUser, "
               "container.dataPath, container.certsPath, container.certFile, container.keyFile; "
               "connectionString is accepted here too and kept secret. Unknown keys are refused with a "
               "suggestion."),
    Param("config_protected", kind=LIST, metavar="KEY=VALUE", secret=True,
          help="A protected setting as KEY=VALUE: connectionString, tls.crt, tls.key, tls.cacrt (base64 of the "
               "PEM file) or tls.secret (name of a kubernetes.io/tls Secret). Overrides the same key in "
               "--config-protected-file. Values are never printed or logged."),
    Param("config_protected_file", metavar="FILE",
          help="A JSON file of protected settings, as `az k8s-extension create --config-protected-file` takes "
               "it; `-` reads standard input. Invalid JSON is refused with its line and column."),
)

KEY_TYPES = ("p256", "p384", "rsa2048", "rsa3072", "rsa4096")

# Which policies run; shared by every command that checks policies.
POLICY_PARAMS = (
    Param("policy_set", metavar="FILE",
          help="A policy set file (YAML or JSON) naming modules, their settings and enforcement. Without it "
               "every built-in policy runs, denying and failing closed."),
    Param("policy", kind=LIST, metavar="FILE",
          help="An extra policy module (.wasm) or a folder of them; denies and fails closed. Space-separated "
               "and/or repeated."),
    Param("no_policy_cache", kind=SWITCH,
          help="Do not read or write the compiled-policy cache (~/.cache/kubectl-acr/policies)."),
    Param("ca_file", metavar="FILE",
          help="PEM CA certificates to trust, besides the system trust store, for policy modules named by "
               "https URLs or OCI references (a private registry's CA)."),
    Param("insecure_http", kind=SWITCH,
          help="Pull OCI policy modules in plain HTTP, without TLS (only on a network you trust)."),
    Param("bundle", metavar="DIR",
          help="Use an air-gap bundle (kubectl acr bundle save) for remote policy modules, and fetch nothing."),
    Param("at", metavar="TIME",
          help="Evaluate certificate validity at this time instead of now: RFC 3339 or a date (2026-11-23)."),
)

# A review to check instead of settings (policy check and connected-registry check run one engine command).
REVIEW_INPUT_PARAM = Param(
    "input", metavar="FILE",
    help="Check this admission review (JSON, as docs/policy-abi.md describes) instead of settings.")

# Where the connected registry would be deployed; names the planned certificate's DNS names.
NAMESPACE_PARAM = Param(
    "namespace", options=["--namespace", "-n"], engine_flag="--namespace", metavar="NAMESPACE",
    help="Kubernetes namespace the connected registry would be deployed into; names the DNS names of the "
         "certificate cert-manager would issue. Default: connected-registry.")

COMMANDS = (
    EngineCommand(
        "acr-ext cert generate", engine=("cert", "generate"), table=_format.generate_table,
        params=(
            Param("ip", kind=LIST, metavar="IP",
                  help="An IP address the serving certificate is for, e.g. the registry's service.clusterIP. "
                       "Space-separated and/or repeated. At least one --ip or --dns is required."),
            Param("dns", kind=LIST, metavar="NAME",
                  help="A DNS name the serving certificate is for; `*.example.com` covers one label. "
                       "Space-separated and/or repeated."),
            Param("key_type", choices=KEY_TYPES,
                  help="Key type of the new keys. Default: p256."),
            Param("days", value_type=int, metavar="DAYS",
                  help="Validity of the serving certificate in days, 1 to 3650. Default: 365."),
            Param("ca_days", value_type=int, metavar="DAYS",
                  help="Validity of a newly generated CA in days, 1 to 36500. Default: 3650."),
            Param("ca_cert", metavar="FILE",
                  help="Sign with this CA certificate (PEM) instead of generating a CA. Needs --ca-key."),
            Param("ca_key", metavar="FILE",
                  help="The private key (PEM) of --ca-cert."),
            Param("org", metavar="NAME",
                  help="Organization (O) in the certificate subjects."),
            Param("cn", metavar="NAME",
                  help="Common name (CN) of the serving certificate. Default: the first DNS name, else the first IP."),
            Param("out_dir", metavar="DIR",
                  help="Directory to write ca.crt, ca.key (new CA only), tls.crt and tls.key to. Keys are written "
                       "0600. Default: the current directory."),
            Param("force", kind=SWITCH,
                  help="Replace existing files instead of refusing to overwrite them."),
        ),
    ),
    EngineCommand(
        "acr-ext cert inspect", engine=("cert", "inspect"), table=_format.inspect_table,
        params=(
            Param("file", kind=POSITIONAL, metavar="FILE",
                  help="A PEM or DER certificate or bundle, a base64 value from protected settings, a protected "
                       "settings JSON file, or a Kubernetes Secret manifest (YAML or JSON); `-` reads standard "
                       "input. Private keys are never shown."),
            Param("at", metavar="TIME",
                  help="Compute days left and expiry at this time instead of now: RFC 3339 "
                       "(2026-11-23T12:00:00Z) or a date (2026-11-23)."),
        ),
    ),
    EngineCommand(
        "acr-ext cert verify", engine=("cert", "verify"), table=_format.verify_table,
        params=(
            Param("cert", metavar="FILE", required=True,
                  help="The serving certificate (PEM or DER), optionally followed by its intermediates, leaf first."),
            Param("key", metavar="FILE",
                  help="The private key (PEM) that must match the certificate."),
            Param("ca", metavar="FILE",
                  help="The CA certificate(s) the chain must lead to."),
            Param("ip", kind=LIST, metavar="IP",
                  help="An IP address the certificate must cover. Space-separated and/or repeated."),
            Param("dns", kind=LIST, metavar="NAME",
                  help="A DNS name the certificate must cover. Space-separated and/or repeated."),
            Param("at", metavar="TIME",
                  help="Check validity at this time instead of now: RFC 3339 (2026-11-23T12:00:00Z) or a "
                       "date (2026-11-23)."),
        ),
    ),
    EngineCommand(
        "acr-ext connected-registry config-view", engine=("connected-registry", "config-view"),
        table=_format.config_view_table, params=SETTINGS_PARAMS,
    ),
    EngineCommand(
        "acr-ext connected-registry check", engine=("connected-registry", "check"),
        params=SETTINGS_PARAMS + (REVIEW_INPUT_PARAM, NAMESPACE_PARAM) + POLICY_PARAMS,
    ),
    EngineCommand(
        "acr-ext connected-registry protected-settings", engine=("connected-registry", "protected-settings"),
        params=(
            Param("connection_string_file", metavar="FILE", required=True,
                  help="A file holding the connection string, as `az acr connected-registry get-settings "
                       "--parent-protocol https --generate-password 1` prints it; `-` reads standard input. A "
                       "connection string that does not parse is refused, naming the part."),
            Param("cert", metavar="FILE",
                  help="Your serving certificate (PEM, optionally followed by its chain), written base64-encoded "
                       "as tls.crt. Needs --key; cannot be combined with --secret."),
            Param("key", metavar="FILE",
                  help="The private key (PEM) of --cert, written base64-encoded as tls.key. A key that does not "
                       "belong to the certificate is refused."),
            Param("ca", metavar="FILE",
                  help="The CA certificate (PEM) clients trust, written base64-encoded as tls.cacrt."),
            Param("secret", metavar="NAME",
                  help="The name of an existing kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) instead of "
                       "--cert and --key, written as tls.secret."),
            Param("out", metavar="FILE", required=True,
                  help="The protected settings file to write (JSON, 0600, atomically), for `az k8s-extension "
                       "create --config-protected-file`. An existing file is not replaced without --force."),
            Param("force", kind=SWITCH,
                  help="Replace an existing --out file instead of refusing to overwrite it."),
        ) + POLICY_PARAMS,
    ),
    EngineCommand(
        "acr-ext custom-domain prepare", engine=("custom-domain", "prepare"), table=_format.custom_domain_table,
        params=(
            Param("registry", metavar="NAME", required=True,
                  help="The registry name: contoso for contoso.azurecr.io."),
            Param("registry_domain", metavar="FQDN", required=True,
                  help="The custom domain of the registry's login server, e.g. registry.contoso.com."),
            Param("data_domain", kind=LIST, metavar="REGION=FQDN",
                  help="The custom domain of a region's data endpoint as REGION=FQDN, e.g. "
                       "eastus=eastus.data.contoso.com. Space-separated and/or repeated: one per region the "
                       "registry is replicated to."),
            Param("key", metavar="FILE",
                  help="The private key (PEM) of --cert. Leave it out when --cert is a bundle holding the key "
                       "first."),
            Param("cert", metavar="FILE",
                  help="The serving certificate (PEM) covering every domain, optionally followed by its chain; or a "
                       "bundle: the private key, then the certificate, then its chain. Either --cert or "
                       "--self-signed is required."),
            Param("chain", metavar="FILE",
                  help="Intermediate CA certificates (PEM), the certificate's issuer first, each followed by its "
                       "own issuer."),
            Param("ca", metavar="FILE",
                  help="A private root CA (PEM) the chain must lead to; used for the check, not written. Without it "
                       "the chain must end at a self-signed root or just below a publicly trusted root."),
            Param("self_signed", kind=SWITCH,
                  help="Generate a CA and a certificate for every domain instead of --cert. For testing only: no "
                       "client trusts it."),
            Param("out_dir", metavar="DIR", required=True,
                  help="Directory to write one <fqdn>.pem per domain into: private key, certificate, chain; 0600, "
                       "atomically. Existing files are not replaced without --force."),
            Param("key_vault_secret_id", metavar="URI",
                  help="The Key Vault secret that will hold the certificate. Unversioned "
                       "(https://VAULT.vault.azure.net/secrets/NAME): new versions are picked up automatically, "
                       "with up to 15 minutes in which old and new certificates are both served. Versioned "
                       "(.../NAME/VERSION): no automatic rotation."),
            Param("resource_group", options=["--resource-group", "-g"], metavar="NAME",
                  help="Resource group of the managed identity, used in the commands of the plan. Default: a "
                       "<resource-group> placeholder."),
            Param("identity", metavar="NAME",
                  help="Name of the user-assigned managed identity the registry reads the secret with. Default: "
                       "<registry>-custom-domain."),
            Param("force", kind=SWITCH,
                  help="Replace existing PEM files instead of refusing to overwrite them."),
        ) + POLICY_PARAMS,
    ),
    EngineCommand(
        "acr-ext policy check", engine=("policy", "check"),
        params=SETTINGS_PARAMS + (REVIEW_INPUT_PARAM, NAMESPACE_PARAM) + POLICY_PARAMS,
    ),
    EngineCommand(
        "acr-ext policy list", engine=("policy", "list"),
        params=tuple(param for param in POLICY_PARAMS if param.dest != "at"),
    ),
    EngineCommand(
        "acr-ext private-endpoint check", engine=("private-endpoint", "check"),
        table=_format.private_endpoint_table,
        params=(
            Param("registry", metavar="NAME", required=True,
                  help="The registry's name: contoso for contoso.azurecr.io."),
            Param("region", kind=LIST, metavar="REGION",
                  help="A region whose data endpoint (<registry>.<region>.data.azurecr.io) to check, e.g. eastus. "
                       "Space-separated and/or repeated: one per region the registry is replicated to."),
            Param("dns_server", metavar="IP[:PORT]",
                  help="The DNS server the registry's clients use (for example the VNet's DNS or a forwarder). "
                       "Default: the first nameserver of /etc/resolv.conf."),
            Param("timeout", metavar="DURATION",
                  help="How long each DNS question may take, e.g. 5s or 1m. Default: 5s."),
        ),
    ),
    EngineCommand(
        "acr-ext version", engine=("version",), table=_format.version_table,
        transform=lambda result, engine: {
            "extension": {"name": "acr-ext", "version": engine.extension_version},
            "engine": dict(result, path=engine.path, foundBy=engine.found_by),
        },
    ),
)

BY_NAME = {command.name: command for command in COMMANDS}
