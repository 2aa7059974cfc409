//! Unit tests of settings resolution: defaults, TLS sources, and every kind of bad input.

use super::*;
use base64::Engine as _;

const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cret==;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";
const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn input(config: &[&str], protected: &[(&str, &str)]) -> SettingsInput {
    SettingsInput {
        config: config
            .iter()
            .map(|arg| split_key_value("--config", arg).expect("key=value"))
            .collect(),
        protected_file: None,
        protected: protected
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

fn resolve(
    config: &[&str],
    protected: &[(&str, &str)],
) -> Result<ConnectedRegistrySettings, SettingsError> {
    ConnectedRegistrySettings::resolve(&input(config, protected))
}

fn error_of(config: &[&str], protected: &[(&str, &str)]) -> String {
    resolve(config, protected)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn defaults_match_the_arc_extension() {
    let settings = resolve(
        &["service.clusterIP=192.100.100.1"],
        &[("connectionString", CONNECTION)],
    )
    .expect("valid");
    assert_eq!(settings.service_cluster_ip.to_string(), "192.100.100.1");
    assert_eq!(settings.pvc_storage_request, "500Gi");
    assert_eq!(settings.pvc_storage_class_name, None);
    assert!(settings.cert_manager_enabled);
    assert!(settings.cert_manager_install);
    assert!(settings.trust_distribution_enabled);
    // The current glossary: trust distribution reaches every node unless useNodeSelector=true.
    assert!(!settings.trust_distribution_use_node_selector);
    assert!(!settings.http_enabled);
    assert_eq!(settings.service_type, ServiceType::ClusterIP);
    assert_eq!(settings.registry_login_server, None);
    assert_eq!(settings.container, ContainerProfile::default());
    assert_eq!(
        settings.container.image,
        "mcr.microsoft.com/acr/connected-registry:0.9.0"
    );
    assert!(matches!(settings.tls_source, TlsSource::CertManagerInstall));
    assert_eq!(
        settings.defaulted.iter().copied().collect::<Vec<_>>(),
        vec![
            "cert-manager.enabled",
            "cert-manager.install",
            "container.certFile",
            "container.certsPath",
            "container.dataPath",
            "container.httpPort",
            "container.httpsPort",
            "container.image",
            "container.keyFile",
            "container.runAsUser",
            "httpEnabled",
            "pvc.storageClassName",
            "pvc.storageRequest",
            "registryLoginServer",
            "service.type",
            "trustDistribution.enabled",
            "trustDistribution.useNodeSelector",
        ]
    );
}

#[test]
fn each_tls_source_is_derived() {
    let existing = resolve(
        &["service.clusterIP=10.0.0.5", "cert-manager.install=false"],
        &[],
    )
    .expect("valid");
    assert!(matches!(
        existing.tls_source,
        TlsSource::CertManagerExisting
    ));

    let byoc = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "cert-manager.enabled=false",
            "cert-manager.install=false",
        ],
        &[
            ("tls.crt", &b64(CERT_PEM)),
            ("tls.key", &b64(KEY_PEM)),
            ("tls.cacrt", &b64(CERT_PEM)),
        ],
    )
    .expect("valid");
    match &byoc.tls_source {
        TlsSource::BringYourOwnCertificate {
            cert_pem,
            key_pem,
            has_custom_ca,
            ..
        } => {
            assert_eq!(cert_pem, CERT_PEM);
            assert_eq!(key_pem.expose(), KEY_PEM);
            assert!(has_custom_ca);
        }
        other => panic!("expected BYOC, got {other:?}"),
    }

    let secret = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "cert-manager.enabled=false",
            "cert-manager.install=false",
        ],
        &[("tls.secret", "registry-tls")],
    )
    .expect("valid");
    assert!(matches!(
        &secret.tls_source,
        TlsSource::ExistingSecret { secret_name } if secret_name == "registry-tls"
    ));
}

#[test]
fn tls_conflicts_name_both_settings() {
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5", "cert-manager.enabled=false"],
            &[("tls.secret", "registry-tls")]
        ),
        "cert-manager.enabled=false and cert-manager.install=true disagree: cert-manager cannot be installed while disabled; add --config cert-manager.install=false (the default is true)"
    );
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5"],
            &[("tls.secret", "registry-tls")]
        ),
        "cert-manager.enabled=true and tls.secret disagree: cert-manager issues the certificate, so your own TLS material would be ignored; to bring your own, set cert-manager.enabled=false and cert-manager.install=false"
    );
    let off = [
        "service.clusterIP=10.0.0.5",
        "cert-manager.enabled=false",
        "cert-manager.install=false",
    ];
    assert_eq!(
        error_of(&off, &[("tls.secret", "s"), ("tls.crt", &b64(CERT_PEM))]),
        "tls.secret and tls.crt disagree: give either an existing Secret or your own certificate, not both"
    );
    assert_eq!(
        error_of(&off, &[("tls.crt", &b64(CERT_PEM))]),
        "tls.key is required: tls.crt was given without its private key"
    );
    assert_eq!(
        error_of(&off, &[]),
        "cert-manager.enabled=false and cert-manager.install=false disagree: with cert-manager off, give your own certificate (tls.crt and tls.key) or an existing Secret (tls.secret) in the protected settings"
    );
}

#[test]
fn unknown_keys_get_a_suggestion() {
    assert_eq!(
        error_of(&["service.clusterIp=10.0.0.5"], &[]),
        "unknown setting `service.clusterIp`; did you mean service.clusterIP?"
    );
    assert_eq!(
        error_of(&["service.clusterIP=10.0.0.5"], &[("tls.cert", "x")]),
        "unknown protected setting (<redacted>, 8 characters); did you mean tls.crt?"
    );
    let message = error_of(&["replicas=3"], &[]);
    assert!(
        message.starts_with("unknown setting `replicas`; known settings: service.clusterIP,"),
        "{message}"
    );
}

#[test]
fn settings_given_to_the_wrong_flag_are_redirected() {
    assert_eq!(
        error_of(&["tls.key=abc"], &[]),
        "tls.key is a protected setting: pass it with --config-protected or --config-protected-file, not --config"
    );
    assert_eq!(
        error_of(&[], &[("service.clusterIP", "10.0.0.1")]),
        "service.clusterIP is not a protected setting: pass it with --config"
    );
}

/// The managed-identity guide passes `connectionString` with `--config`: accepted, held as a
/// secret from the first moment (no error, view or debug output shows it), and refused when
/// also given as a protected setting.
#[test]
fn connection_string_with_config_is_accepted_and_stays_secret() {
    let from_config = format!("connectionString={CONNECTION}");
    let settings = resolve(&["service.clusterIP=10.0.0.5", &from_config], &[]).expect("valid");
    let parsed = settings
        .protected
        .connection_string
        .as_ref()
        .expect("connection string");
    assert_eq!(parsed.connected_registry_name, "edge");
    let view = EffectiveSettings::new(&settings);
    let shown = format!(
        "{} {} {settings:?}",
        view.to_text(),
        serde_json::to_string(&view).expect("json")
    );
    assert!(!shown.contains("s3cret"), "{shown}");

    let broken = CONNECTION.replace("SyncTokenPassword=s3cret==", "SyncTokenPassword:s3cret");
    let error = error_of(
        &[
            "service.clusterIP=10.0.0.5",
            &format!("connectionString={broken}"),
        ],
        &[],
    );
    assert!(error.starts_with("connectionString: "), "{error}");
    assert!(!error.contains("s3cret"), "{error}");

    let both = error_of(
        &["service.clusterIP=10.0.0.5", &from_config],
        &[("connectionString", CONNECTION)],
    );
    assert!(both.contains("give the connection string once"), "{both}");
    assert!(!both.contains("s3cret"), "{both}");
}

#[test]
fn arc_extension_settings_are_accepted_with_their_meaning() {
    let settings = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "registryLoginServer=Registry.Contoso.LOCAL",
            "httpEnabled=true",
            "service.type=NodePort",
        ],
        &[],
    )
    .expect("valid");
    assert_eq!(
        settings.registry_login_server.as_deref(),
        Some("registry.contoso.local")
    );
    assert!(settings.http_enabled);
    assert_eq!(settings.service_type, ServiceType::NodePort);
    let ip = resolve(
        &["service.clusterIP=10.0.0.5", "registryLoginServer=10.0.0.5"],
        &[],
    )
    .expect("an address is a login server too");
    assert_eq!(ip.registry_login_server.as_deref(), Some("10.0.0.5"));
    for (value, expected) in [
        ("https://registry.contoso.local", "without scheme or path"),
        ("registry.contoso.local:5000", "has a port"),
        ("bad_name.local", "is not a host name"),
    ] {
        let error = error_of(
            &[
                "service.clusterIP=10.0.0.5",
                &format!("registryLoginServer={value}"),
            ],
            &[],
        );
        assert!(error.contains(expected), "{value}: {error}");
    }
    let error = error_of(
        &["service.clusterIP=10.0.0.5", "service.type=ExternalName"],
        &[],
    );
    assert!(
        error.contains("give ClusterIP (the default), NodePort or LoadBalancer"),
        "{error}"
    );
}

#[test]
fn container_profile_values_are_checked() {
    for (setting, expected) in [
        ("container.httpsPort=0", "is not a port"),
        ("container.httpsPort=70000", "is not a port"),
        ("container.httpPort=8443", "two different container ports"),
        ("container.runAsUser=-1", "is not a user id"),
        ("container.runAsUser=root", "is not a user id"),
        ("container.dataPath=var/acr", "absolute path"),
        ("container.certsPath=/var/acr/data", "two directories"),
        ("container.certFile=../tls.crt", "is not a file name"),
        ("container.keyFile=tls.crt", "two file names"),
        (
            "container.image=mcr.microsoft.com/acr/connected-registry",
            "pin it with a tag",
        ),
        (
            "container.image=mcr.microsoft.com/acr/connected-registry:latest",
            "pin it with a tag",
        ),
    ] {
        let error = error_of(&["service.clusterIP=10.0.0.5", setting], &[]);
        assert!(error.contains(expected), "{setting}: {error}");
    }
}

#[test]
fn wrongly_typed_values_are_refused() {
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5", "cert-manager.enabled=yes"],
            &[]
        ),
        "cert-manager.enabled=yes is not a boolean; use true or false"
    );
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5", "pvc.storageRequest=lots"],
            &[]
        ),
        "pvc.storageRequest=lots is not a Kubernetes quantity (for example 500Gi or 1Ti)"
    );
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5", "pvc.storageClassName= "],
            &[]
        ),
        "pvc.storageClassName is empty; leave it out to use the cluster's default storage class"
    );
}

#[test]
fn service_ip_must_be_one_address() {
    assert_eq!(
        error_of(&["service.clusterIP=registry.local"], &[]),
        "service.clusterIP=registry.local is not an IP address: expected an IPv4 address such as 192.100.100.1 or an IPv6 address"
    );
    assert_eq!(
        error_of(&["service.clusterIP=10.0.0.0/24"], &[]),
        "service.clusterIP=10.0.0.0/24 is not an IP address: give a single address, not a CIDR range"
    );
    assert_eq!(
        error_of(&["service.clusterIP=10.0.0.1:443"], &[]),
        "service.clusterIP=10.0.0.1:443 is not an IP address: give the address without a port"
    );
    assert_eq!(
        error_of(&["service.clusterIP=300.1.1.1"], &[]),
        "service.clusterIP=300.1.1.1 is not an IP address: expected an IPv4 address such as 192.100.100.1 or an IPv6 address"
    );
    assert!(error_of(&[], &[]).starts_with("service.clusterIP is required: give the ClusterIP"),);
    let v6 = resolve(&["service.clusterIP=fd00::10"], &[]).expect("IPv6 is fine");
    assert_eq!(v6.service_cluster_ip.to_string(), "fd00::10");
}

#[test]
fn node_selector_alias_is_inverted_and_checked() {
    let with_alias = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "trustDistribution.useNodeSelector=false",
        ],
        &[],
    )
    .expect("valid");
    assert!(!with_alias.trust_distribution_use_node_selector);
    assert!(
        !with_alias
            .defaulted
            .contains("trustDistribution.useNodeSelector")
    );
    let older = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "trustDistribution.skipNodeSelector=false",
        ],
        &[],
    )
    .expect("valid");
    assert!(older.trust_distribution_use_node_selector);
    let agreeing = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "trustDistribution.skipNodeSelector=false",
            "trustDistribution.useNodeSelector=true",
        ],
        &[],
    )
    .expect("both given and agreeing");
    assert!(agreeing.trust_distribution_use_node_selector);
    assert_eq!(
        error_of(
            &[
                "service.clusterIP=10.0.0.5",
                "trustDistribution.useNodeSelector=true",
                "trustDistribution.skipNodeSelector=true"
            ],
            &[]
        ),
        "trustDistribution.skipNodeSelector=true and trustDistribution.useNodeSelector=true disagree: useNodeSelector is the inverse of skipNodeSelector; give only one"
    );
}

#[test]
fn later_values_win_like_az() {
    let settings = resolve(
        &["service.clusterIP=10.0.0.5", "service.clusterIP=10.0.0.6\r"],
        &[],
    )
    .expect("valid");
    assert_eq!(settings.service_cluster_ip.to_string(), "10.0.0.6");
}

#[test]
fn flag_arguments_must_be_key_value() {
    assert_eq!(
        split_key_value("--config", "service.clusterIP")
            .expect_err("no =")
            .to_string(),
        "--config expects key=value, got `service.clusterIP`"
    );
    assert_eq!(
        split_key_value("--config-protected", "s3cretvalue")
            .expect_err("no =")
            .to_string(),
        "--config-protected expects key=value, got `<redacted>`"
    );
    // A connection string with its key left out is not echoed from --config either.
    let refused = split_key_value("--config", &format!("={CONNECTION}"))
        .expect_err("no key")
        .to_string();
    assert!(!refused.contains("s3cret"), "{refused}");
    assert!(
        refused.contains("looks like a connection string"),
        "{refused}"
    );
    assert_eq!(
        split_key_value("--config", "a=b=c").expect("splits once"),
        ("a".to_owned(), "b=c".to_owned())
    );
}

#[test]
fn connection_string_errors_are_prefixed_and_trailing_cr_is_fine() {
    let settings = resolve(
        &["service.clusterIP=10.0.0.5"],
        &[("connectionString", &format!("{CONNECTION}\r"))],
    )
    .expect("valid");
    assert_eq!(
        settings
            .protected
            .connection_string
            .expect("parsed")
            .parent_gateway_endpoint,
        "contoso.eastus.data.azurecr.io"
    );
    assert_eq!(
        error_of(
            &["service.clusterIP=10.0.0.5"],
            &[("connectionString", "ConnectedRegistryName=a")]
        ),
        "connectionString: connection string is missing SyncTokenName, SyncTokenPassword, ParentGatewayEndpoint, ParentEndpointProtocol"
    );
}

#[test]
fn protected_file_and_flags_merge_with_flags_winning() {
    let file = format!("{{\"connectionString\": \"{CONNECTION}\", \"tls.secret\": \"from-file\"}}");
    let settings = ConnectedRegistrySettings::resolve(&SettingsInput {
        config: vec![
            ("service.clusterIP".into(), "10.0.0.5".into()),
            ("cert-manager.enabled".into(), "false".into()),
            ("cert-manager.install".into(), "false".into()),
        ],
        protected_file: Some(("p.json".into(), file.into_bytes())),
        protected: vec![("tls.secret".into(), "from-flag".into())],
    })
    .expect("valid");
    assert_eq!(settings.protected.tls_secret.as_deref(), Some("from-flag"));
    assert!(settings.protected.connection_string.is_some());
}

#[test]
fn secret_names_are_validated() {
    assert_eq!(
        error_of(
            &[
                "service.clusterIP=10.0.0.5",
                "cert-manager.enabled=false",
                "cert-manager.install=false"
            ],
            &[("tls.secret", "Registry_TLS")]
        ),
        "tls.secret (<redacted>, 12 characters) is not a valid Secret name: character 1 is not allowed (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)"
    );
}

/// The issue's cases: a private key where the connection string or a Secret name goes, a key
/// given as a protected setting's name, a password after a stray `;` or `:`. No error shows any
/// of it, and none says anything twice (the binaries print the whole chain).
#[test]
fn no_protected_value_reaches_an_error() {
    let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCWgDcaZ+TTGUvH=\n-----END PRIVATE KEY-----\n";
    let public = [
        "service.clusterIP=10.0.0.5",
        "cert-manager.enabled=false",
        "cert-manager.install=false",
    ];
    let password_after_semicolon = CONNECTION.replace("s3cret==", "Pw9;xQz");
    let password_after_colon =
        CONNECTION.replace("SyncTokenPassword=s3cret==", "SyncTokenPassword:Pw9xQz");
    let cases: [(&str, &str); 6] = [
        ("connectionString", key),
        ("connectionString", &password_after_semicolon),
        ("connectionString", &password_after_colon),
        ("tls.secret", key),
        ("tls.key", key),
        (key, "x"),
    ];
    for (name, value) in cases {
        let error = resolve(&public, &[(name, value)]).expect_err("must be refused");
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        let shown = format!("{chain} {error:?}");
        for fragment in ["MIIEvQ", "PRIVATE KEY-----\n", "Pw9", "xQz"] {
            assert!(!shown.contains(fragment), "{name}: {shown}");
        }
        assert!(
            name == "tls.key" || shown.contains("<redacted>"),
            "{name}: {shown}"
        );
        assert!(
            std::error::Error::source(&error).is_none(),
            "{name}: said twice: {chain}"
        );
    }
}

#[test]
fn effective_view_redacts_secrets() {
    let settings = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "cert-manager.enabled=false",
            "cert-manager.install=false",
        ],
        &[
            ("connectionString", CONNECTION),
            ("tls.crt", &b64(CERT_PEM)),
            ("tls.key", &b64(KEY_PEM)),
        ],
    )
    .expect("valid");
    let view = EffectiveSettings::new(&settings);
    let json = serde_json::to_string(&view).expect("json");
    let text = view.to_text();
    for rendered in [&json, &text] {
        assert!(!rendered.contains("s3cret"), "{rendered}");
        assert!(!rendered.contains("MAMCAQA"), "{rendered}");
        assert!(rendered.contains("<redacted>"), "{rendered}");
    }
    assert!(
        text.contains("pvc.storageRequest                   500Gi  (default)"),
        "{text}"
    );
    assert!(
        text.contains("your own certificate from tls.crt and tls.key"),
        "{text}"
    );
}

#[test]
fn cluster_ips_that_no_service_can_take_are_refused_with_the_reason() {
    for (ip, why) in [
        ("0.0.0.0", "the unspecified address"),
        ("127.0.0.1", "a loopback address"),
        ("255.255.255.255", "the broadcast address"),
        ("224.0.0.1", "a multicast address"),
        ("169.254.1.1", "a link-local address"),
        ("::", "the unspecified address"),
        ("::1", "a loopback address"),
        ("ff02::1", "a multicast address"),
        ("fe80::1", "a link-local address"),
        ("::ffff:127.0.0.1", "a loopback address"),
    ] {
        assert_eq!(
            error_of(&[&format!("service.clusterIP={ip}")], &[]),
            format!(
                "service.clusterIP={ip} cannot be a ClusterIP: it is {why}; give an address inside the cluster's service CIDR"
            )
        );
    }
    for usable in ["10.0.0.10", "192.100.100.1", "fd00::10"] {
        let settings = resolve(&[&format!("service.clusterIP={usable}")], &[]);
        assert!(
            !matches!(settings, Err(SettingsError::UnusableIp { .. })),
            "{usable}"
        );
    }
}

#[test]
fn storage_class_names_must_be_dns_subdomains() {
    assert_eq!(
        error_of(
            &[
                "service.clusterIP=10.0.0.5",
                "pvc.storageClassName=Fast_SSD"
            ],
            &[]
        ),
        "pvc.storageClassName `Fast_SSD` is not a valid storage class name: character 1 is not allowed (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)"
    );
    let settings = resolve(
        &[
            "service.clusterIP=10.0.0.5",
            "pvc.storageClassName=fast-ssd.local",
        ],
        &[],
    )
    .expect("valid");
    assert_eq!(
        settings.pvc_storage_class_name.as_deref(),
        Some("fast-ssd.local")
    );
}
