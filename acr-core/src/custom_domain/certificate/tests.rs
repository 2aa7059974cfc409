//! Tests of the custom domain certificate checks, with certificates made in the test.

use super::*;
use crate::custom_domain::{
    IdentityOptions, KeyVaultSecretId, build_plan, custom_domain_review, write_domain_files,
};
use crate::fsio::Overwrite;
use crate::tls::test_support::{TestCa, now, params};
use rcgen::{ExtendedKeyUsagePurpose, SanType};
use std::os::unix::fs::PermissionsExt;
use time::macros::datetime;

const REGISTRY_DOMAIN: &str = "registry.contoso.com";
const DATA_DOMAIN: &str = "eastus.data.contoso.com";

fn domains() -> CustomDomains {
    CustomDomains::new(
        "contoso",
        REGISTRY_DOMAIN,
        &[("eastus".to_owned(), DATA_DOMAIN.to_owned())],
    )
    .expect("valid domains")
}

/// A root, an intermediate below it, and a leaf for `names` issued by the intermediate.
struct Pki {
    root: TestCa,
    intermediate: TestCa,
    leaf_pem: String,
    key_pem: String,
}

fn leaf_params(names: &[&str]) -> rcgen::CertificateParams {
    let mut leaf = params(names[0]);
    leaf.subject_alt_names = names
        .iter()
        .map(|name| SanType::DnsName((*name).try_into().expect("ia5")))
        .collect();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf
}

fn pki_for(leaf: &rcgen::CertificateParams) -> Pki {
    let root = TestCa::new("Contoso Test Root", None);
    let intermediate = root.issue_ca("Contoso Test Intermediate");
    let (leaf_pem, key_pem) = intermediate.issue_with_key(leaf);
    Pki {
        root,
        intermediate,
        leaf_pem,
        key_pem,
    }
}

fn pki() -> Pki {
    pki_for(&leaf_params(&[REGISTRY_DOMAIN, DATA_DOMAIN]))
}

fn file(name: &str, text: &str) -> InputFile {
    InputFile {
        name: name.to_owned(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn files(
    key: Option<&str>,
    cert: &str,
    chain: Option<&str>,
    ca: Option<&str>,
) -> CertificateSource {
    CertificateSource::Files {
        key: key.map(|text| file("key.pem", text)),
        cert: file("cert.pem", cert),
        chain: chain.map(|text| file("chain.pem", text)),
        ca: ca.map(|text| file("root.pem", text)),
    }
}

/// The leaf's key, the leaf, the intermediate as chain and the root as CA: all in order.
fn complete(pki: &Pki) -> CertificateSource {
    files(
        Some(&pki.key_pem),
        &pki.leaf_pem,
        Some(&pki.intermediate.cert_pem),
        Some(&pki.root.cert_pem),
    )
}

fn accepted(pki: &Pki) -> PreparedCertificate {
    prepare_certificate(&domains(), &complete(pki), now()).expect("accepted")
}

fn problems_of(source: &CertificateSource) -> Vec<Problem> {
    match prepare_certificate(&domains(), source, now()) {
        Err(CustomDomainError::Refused { problems }) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn codes(problems: &[Problem]) -> Vec<&str> {
    problems
        .iter()
        .map(|problem| problem.code.as_str())
        .collect()
}

fn subjects(prepared: &PreparedCertificate) -> Vec<String> {
    prepared
        .chain
        .iter()
        .map(|certificate| {
            tls::describe(&certificate.der, now())
                .expect("describe")
                .subject
        })
        .collect()
}

#[test]
fn a_correct_chain_is_accepted_with_or_without_the_root_in_the_files() {
    let pki = pki();
    let with_ca = accepted(&pki);
    assert_eq!(
        subjects(&with_ca),
        ["CN=registry.contoso.com", "CN=Contoso Test Intermediate"]
    );
    assert!(!with_ca.self_signed);
    assert_eq!(with_ca.ca.len(), 1);

    let chain = format!("{}{}", pki.intermediate.cert_pem, pki.root.cert_pem);
    let in_files = prepare_certificate(
        &domains(),
        &files(Some(&pki.key_pem), &pki.leaf_pem, Some(&chain), None),
        now(),
    )
    .expect("accepted");
    assert_eq!(
        subjects(&in_files),
        [
            "CN=registry.contoso.com",
            "CN=Contoso Test Intermediate",
            "CN=Contoso Test Root"
        ]
    );
}

#[test]
fn a_bundle_with_the_key_first_is_accepted_without_key() {
    let pki = pki();
    let bundle = format!(
        "{}{}{}",
        pki.key_pem, pki.leaf_pem, pki.intermediate.cert_pem
    );
    let prepared = prepare_certificate(
        &domains(),
        &files(None, &bundle, None, Some(&pki.root.cert_pem)),
        now(),
    )
    .expect("accepted");
    assert_eq!(prepared.chain.len(), 2);
}

#[test]
fn a_bundle_with_key_and_certificates_out_of_order_is_refused_naming_both() {
    let pki = pki();
    let bundle = format!(
        "{}{}{}",
        pki.intermediate.cert_pem, pki.key_pem, pki.leaf_pem
    );
    let problems = problems_of(&files(None, &bundle, None, Some(&pki.root.cert_pem)));
    assert_eq!(
        codes(&problems),
        ["bundle-order", "chain-order"],
        "{problems:#?}"
    );
    assert_eq!(
        problems[0].to_string(),
        "cert.pem: the private key is PEM block 2, after the certificate in PEM block 1; a bundle \
         must hold the private key first, then the serving certificate, then its chain"
    );
    assert_eq!(
        problems[1].to_string(),
        "certificates: out of order: they are given as CN=Contoso Test Intermediate (cert.pem \
         block 1), then CN=registry.contoso.com (cert.pem block 3); the serving certificate must \
         come first, then each certificate's issuer: CN=registry.contoso.com (cert.pem block 3), \
         then CN=Contoso Test Intermediate (cert.pem block 1)"
    );
}

#[test]
fn a_key_that_does_not_match_is_refused() {
    let pki = pki();
    let other = pki_for(&leaf_params(&[REGISTRY_DOMAIN, DATA_DOMAIN]));
    let problems = problems_of(&files(
        Some(&other.key_pem),
        &pki.leaf_pem,
        Some(&pki.intermediate.cert_pem),
        Some(&pki.root.cert_pem),
    ));
    assert_eq!(codes(&problems), ["key-matches"]);
    assert!(
        problems[0]
            .detail
            .contains("does not belong to this certificate"),
        "{problems:#?}"
    );
}

#[test]
fn a_certificate_for_another_domain_is_refused_for_each_domain() {
    let pki = pki_for(&leaf_params(&["registry.fabrikam.com"]));
    let problems = problems_of(&complete(&pki));
    assert_eq!(codes(&problems), ["san-covers", "san-covers"]);
    assert_eq!(
        problems[0].to_string(),
        "registry domain registry.contoso.com: not covered by the serving certificate \
         CN=registry.fabrikam.com, whose subjectAltName is DNS:registry.fabrikam.com"
    );
    assert_eq!(
        problems[1].subject,
        "data domain eastus.data.contoso.com (eastus)"
    );
}

#[test]
fn a_wildcard_does_not_cover_a_two_level_name() {
    let pki = pki_for(&leaf_params(&["*.contoso.com"]));
    let problems = problems_of(&complete(&pki));
    assert_eq!(codes(&problems), ["san-covers"], "{problems:#?}");
    assert_eq!(
        problems[0].to_string(),
        "data domain eastus.data.contoso.com (eastus): not covered by the serving certificate \
         CN=*.contoso.com, whose subjectAltName is DNS:*.contoso.com; the wildcard *.contoso.com \
         covers exactly one label (RFC 6125), so not eastus.data.contoso.com: add \
         DNS:eastus.data.contoso.com or DNS:*.data.contoso.com to the certificate"
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let mut leaf = leaf_params(&[REGISTRY_DOMAIN, DATA_DOMAIN]);
    leaf.not_after = datetime!(2026-01-01 00:00:00 UTC);
    let pki = pki_for(&leaf);
    let problems = problems_of(&complete(&pki));
    assert_eq!(codes(&problems), ["validity"]);
    assert_eq!(
        problems[0].to_string(),
        "CN=registry.contoso.com: expired on 2026-01-01T00:00:00Z (59 days ago)"
    );
}

#[test]
fn a_missing_intermediate_is_named() {
    let pki = pki();
    let problems = problems_of(&files(Some(&pki.key_pem), &pki.leaf_pem, None, None));
    assert_eq!(codes(&problems), ["missing-intermediate"]);
    assert!(
        problems[0].to_string().starts_with(
            "CN=registry.contoso.com: issued by CN=Contoso Test Intermediate, which is neither \
             among the certificates given nor a publicly trusted root"
        ),
        "{problems:#?}"
    );
    let with_ca = problems_of(&files(
        Some(&pki.key_pem),
        &pki.leaf_pem,
        None,
        Some(&pki.root.cert_pem),
    ));
    assert_eq!(codes(&with_ca), ["trust-anchor"]);
    assert!(
        with_ca[0].detail.contains("missing intermediate"),
        "{with_ca:#?}"
    );
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let mut leaf = leaf_params(&["*.contoso.com"]);
    leaf.not_after = datetime!(2026-01-01 00:00:00 UTC);
    let expired = pki_for(&leaf);
    let other = pki();
    let bundle = format!("{}{}", expired.leaf_pem, other.key_pem);
    let problems = problems_of(&files(None, &bundle, None, None));
    assert_eq!(
        codes(&problems),
        [
            "bundle-order",
            "missing-intermediate",
            "san-covers",
            "key-matches",
            "validity"
        ],
        "{problems:#?}"
    );
    let message = CustomDomainError::Refused { problems }.to_string();
    assert!(
        message.starts_with("the certificate is refused (5 problems); nothing was written:\n  - "),
        "{message}"
    );
}

#[test]
fn missing_key_or_certificate_and_unreadable_pem_are_refused() {
    let pki = pki();
    let problems = problems_of(&files(None, &pki.leaf_pem, None, Some(&pki.root.cert_pem)));
    assert!(codes(&problems).contains(&"private-key"), "{problems:#?}");
    let error = prepare_certificate(
        &domains(),
        &files(
            Some("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n"),
            &pki.leaf_pem,
            None,
            None,
        ),
        now(),
    )
    .expect_err("unreadable");
    assert!(
        error.to_string().starts_with("cannot read key.pem"),
        "{error}"
    );
}

#[test]
fn domain_files_are_key_then_leaf_then_chain_owner_only_and_not_overwritten() {
    let pki = pki();
    let prepared = accepted(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let written = write_domain_files(
        &domains(),
        &prepared,
        &out,
        Overwrite::Refuse,
        &crate::policy::Approval::for_tests(),
    )
    .expect("write");
    let names: Vec<_> = written
        .iter()
        .map(|file| {
            file.path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        ["registry.contoso.com.pem", "eastus.data.contoso.com.pem"]
    );
    for file in &written {
        let mode = std::fs::metadata(&file.path)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&file.path).expect("read");
        let blocks = crate::tls::pem::parse_blocks(&text).expect("pem");
        let labels: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
        assert_eq!(labels, ["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"]);
        assert_eq!(
            blocks[1].der,
            tls::load_certificates(pki.leaf_pem.as_bytes())
                .expect("leaf")
                .certificates[0]
                .der
        );
    }
    let error = write_domain_files(
        &domains(),
        &prepared,
        &out,
        Overwrite::Refuse,
        &crate::policy::Approval::for_tests(),
    )
    .expect_err("exists");
    assert_eq!(error.to_string(), "cannot write the PEM files");
    let cause = std::error::Error::source(&error)
        .expect("the write error")
        .to_string();
    assert!(cause.contains("already exists; pass --force"), "{cause}");
    write_domain_files(
        &domains(),
        &prepared,
        &out,
        Overwrite::Replace,
        &crate::policy::Approval::for_tests(),
    )
    .expect("force");
}

#[test]
fn self_signed_covers_every_domain_and_says_it_is_for_testing() {
    let prepared =
        prepare_certificate(&domains(), &CertificateSource::SelfSigned, now()).expect("generated");
    assert!(prepared.self_signed);
    assert!(prepared.warnings[0].starts_with("for testing only"));
    let leaf = tls::describe(&prepared.chain[0].der, now()).expect("describe");
    assert_eq!(leaf.subject_alt_names.dns, [REGISTRY_DOMAIN, DATA_DOMAIN]);
    assert!(
        prepared
            .pem()
            .expose()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

#[test]
fn the_review_has_the_domains_and_the_serving_certificate() {
    let pki = pki();
    let prepared = accepted(&pki);
    let review = custom_domain_review(&domains(), &prepared, now()).expect("review");
    let value = serde_json::to_value(&review).expect("json");
    assert_eq!(value["subject"], "custom-domain");
    assert_eq!(value["operation"], "prepare");
    assert_eq!(
        value["object"],
        serde_json::json!({
            "registryName": "contoso",
            "registryDomain": REGISTRY_DOMAIN,
            "dataDomains": { "eastus": DATA_DOMAIN }
        })
    );
    let roles: Vec<(&str, &serde_json::Value)> = value["facts"]["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|fact| (fact["role"].as_str().expect("role"), &fact["keyMatches"]))
        .collect();
    assert_eq!(
        roles,
        [
            ("serving", &serde_json::json!(true)),
            ("intermediate", &serde_json::Value::Null),
            ("ca", &serde_json::Value::Null)
        ]
    );
}

#[test]
fn the_plan_names_records_commands_rotation_and_support_details() {
    let prepared =
        prepare_certificate(&domains(), &CertificateSource::SelfSigned, now()).expect("generated");
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_domain_files(
        &domains(),
        &prepared,
        dir.path(),
        Overwrite::Refuse,
        &crate::policy::Approval::for_tests(),
    )
    .expect("write");
    let secret_id: KeyVaultSecretId =
        "https://contosokv.vault.azure.net/secrets/registry-cert/0123abcd"
            .parse()
            .expect("id");
    let identity = IdentityOptions {
        resource_group: Some("rg1".to_owned()),
        identity: None,
    };
    let plan = build_plan(
        &domains(),
        &prepared,
        &written,
        Some(&secret_id),
        &identity,
        now(),
    )
    .expect("plan");
    let value = serde_json::to_value(&plan).expect("json");
    assert_eq!(value["testingOnly"], true);
    assert_eq!(value["domains"][0]["kind"], "registry");
    assert_eq!(value["domains"][0]["cname"]["target"], "contoso.azurecr.io");
    assert_eq!(value["domains"][1]["region"], "eastus");
    assert_eq!(
        value["domains"][1]["cname"]["target"],
        "contoso.eastus.data.azurecr.io"
    );
    assert_eq!(value["keyVault"]["rotation"], "manual");
    assert_eq!(value["keyVault"]["vault"], "contosokv");
    let commands: Vec<&str> = value["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|step| step["command"].as_str())
        .collect();
    assert!(commands.contains(&format!(
        "az keyvault secret set --vault-name contosokv --name registry-cert --file {} --encoding utf-8 --content-type application/x-pem-file",
        written[0].path.display()
    ).as_str()), "{commands:#?}");
    assert!(
        commands.contains(&"az identity create --resource-group rg1 --name contoso-custom-domain")
    );
    assert!(commands.iter().any(|command| command.starts_with(
        "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id \"$(az identity show --resource-group rg1 --name contoso-custom-domain --query principalId -o tsv)\""
    )));
    assert!(commands.contains(&"az acr identity assign --name contoso --identities \"$(az identity show --resource-group rg1 --name contoso-custom-domain --query id -o tsv)\""));
    assert_eq!(
        value["supportRequest"]["regions"],
        serde_json::json!(["eastus"])
    );
    assert_eq!(
        value["supportRequest"]["keyVaultSecretIds"][DATA_DOMAIN],
        secret_id.to_string()
    );
    assert!(!value.to_string().contains("PRIVATE KEY"));
}
