"""`-o table` views of the engine's JSON: one row per certificate, check or setting. az uses these
only for `-o table` without `--query`; JSON, YAML and TSV show the engine's result as it is."""

from collections import OrderedDict


def _names(certificate):
    sans = certificate.get("subjectAltNames") or {}
    return ", ".join(["IP:" + ip for ip in sans.get("ip") or []] + ["DNS:" + dns for dns in sans.get("dns") or []])


def _certificate_row(certificate, first_column):
    row = OrderedDict(first_column)
    row["Subject"] = certificate.get("subject")
    row["Names"] = _names(certificate)
    row["Key"] = (certificate.get("publicKey") or {}).get("description")
    row["NotAfter"] = certificate.get("notAfter")
    row["DaysLeft"] = certificate.get("daysLeft")
    row["Issuer"] = certificate.get("issuer")
    return row


def generate_table(result):
    rows = [_certificate_row(result.get("certificate") or {}, [("Role", "serving")])]
    ca_role = "CA (new)" if result.get("caGenerated") else "CA"
    rows.append(_certificate_row(result.get("ca") or {}, [("Role", ca_role)]))
    return rows


def inspect_table(result):
    return [_certificate_row(certificate, [("Origin", certificate.get("origin"))])
            for certificate in result.get("certificates") or []]


def verify_table(result):
    return [OrderedDict([("Check", check.get("name")), ("Outcome", check.get("outcome")),
                         ("Subject", check.get("subject")), ("Detail", check.get("detail"))])
            for check in result.get("checks") or []]


def _text(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "(see -o json)"
    return value


def config_view_table(result):
    defaults = set(result.get("defaults") or [])
    rows = [OrderedDict([("Setting", key), ("Value", _text(value)), ("Source", "default" if key in defaults else "given")])
            for key, value in (result.get("settings") or {}).items()]
    for key, value in (result.get("protected") or {}).items():
        rows.append(OrderedDict([("Setting", key), ("Value", _text(value)), ("Source", "protected")]))
    tls_source = result.get("tlsSource") or {}
    if tls_source:
        rows.append(OrderedDict([("Setting", "TLS source"), ("Value", tls_source.get("description") or tls_source.get("kind")),
                                 ("Source", "derived")]))
    return rows


def custom_domain_table(result):
    return [OrderedDict([("Domain", domain.get("fqdn")), ("Kind", domain.get("kind")),
                         ("Region", domain.get("region") or ""), ("CnameTarget", (domain.get("cname") or {}).get("target")),
                         ("PemFile", domain.get("pemFile"))])
            for domain in result.get("domains") or []]


def version_table(result):
    extension = result.get("extension") or {}
    engine = result.get("engine") or {}
    return [
        OrderedDict([("Component", extension.get("name")), ("Version", extension.get("version")), ("Path", "")]),
        OrderedDict([("Component", engine.get("name")), ("Version", engine.get("version")),
                     ("Path", engine.get("path"))]),
    ]


def private_endpoint_table(result):
    return [OrderedDict([("Endpoint", endpoint.get("name")),
                         ("Passed", _text(endpoint.get("passed"))),
                         ("Chain", " -> ".join(endpoint.get("chain") or [])),
                         ("Addresses", ", ".join(endpoint.get("addresses") or [])),
                         ("Problems", "; ".join(problem.get("kind") for problem in endpoint.get("problems") or []))])
            for endpoint in result.get("endpoints") or []]
