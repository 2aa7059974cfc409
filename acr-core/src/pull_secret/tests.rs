//! Unit tests of the pull secret's pure parts: input checks, password input, the docker config
//! content and Secret, the service account patch, and the policy review.

use super::*;
use crate::plan::{REDACTED_BASE64, SecretDisplay};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use wasm_guest::{LazyJson, Operation, SubjectKind};

const PASSWORD: &str = "p@ss:w\"rd/+=";

fn input() -> PullSecretInput {
    PullSecretInput {
        name: "acr-pull".to_owned(),
        namespace: "apps".to_owned(),
        server: "contoso.azurecr.io".to_owned(),
        username: "pull-token".to_owned(),
        password: SecretString::new(PASSWORD),
        service_accounts: vec!["default".to_owned()],
    }
}

fn spec() -> PullSecretSpec {
    PullSecretSpec::new(input()).expect("valid input")
}

#[test]
fn docker_config_is_what_kubectl_writes() {
    let content = docker_config_json(&spec());
    let auth = STANDARD.encode(format!("pull-token:{PASSWORD}"));
    assert_eq!(
        serde_json::from_str::<Value>(content.expose()).expect("JSON"),
        json!({ "auths": { "contoso.azurecr.io": {
            "username": "pull-token", "password": PASSWORD, "auth": auth,
        } } })
    );
    assert!(
        content
            .expose()
            .starts_with(r#"{"auths":{"contoso.azurecr.io":{"username":"pull-token","password":"#),
        "kubectl's field order: {}",
        content.expose()
    );
    assert_eq!(format!("{content:?}"), "<redacted>");
}

#[test]
fn the_server_key_keeps_the_port() {
    let spec = PullSecretSpec::new(PullSecretInput {
        server: "127.0.0.1:5000".to_owned(),
        ..input()
    })
    .expect("valid");
    let content: Value = serde_json::from_str(docker_config_json(&spec).expose()).expect("JSON");
    assert!(content["auths"]["127.0.0.1:5000"].is_object(), "{content}");
}

#[test]
fn the_secret_is_a_labelled_dockerconfigjson_secret_redacted_on_output() {
    let secret = spec().secret_object();
    assert_eq!(
        (secret.kind.as_str(), secret.name.as_str()),
        ("Secret", "acr-pull")
    );
    assert_eq!(secret.namespace.as_deref(), Some("apps"));
    let manifest = &secret.manifest;
    assert_eq!(manifest["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        manifest["metadata"]["labels"],
        json!({
            "app.kubernetes.io/managed-by": "kubectl-acr",
            "app.kubernetes.io/component": "pull-secret",
        })
    );
    let data = manifest["data"][".dockerconfigjson"]
        .as_str()
        .expect("base64 data");
    assert_eq!(
        STANDARD.decode(data).expect("base64"),
        docker_config_json(&spec()).expose().as_bytes()
    );
    let shown = secret.displayed(SecretDisplay::Redacted);
    assert_eq!(shown["data"][".dockerconfigjson"], REDACTED_BASE64);
    assert_eq!(secret.displayed(SecretDisplay::Shown), *manifest);
}

#[test]
fn only_secrets_labelled_as_pull_secrets_of_this_tool_are_ours() {
    let metadata = |labels: Value| -> ObjectMeta {
        serde_json::from_value(json!({ "name": "acr-pull", "labels": labels })).expect("meta")
    };
    assert!(made_by_pull_secret_create(&metadata(json!({
        "app.kubernetes.io/managed-by": "kubectl-acr",
        "app.kubernetes.io/component": "pull-secret",
    }))));
    assert!(!made_by_pull_secret_create(&metadata(json!({
        "app.kubernetes.io/managed-by": "kubectl-acr",
        "app.kubernetes.io/component": "credentials",
    }))));
    assert!(!made_by_pull_secret_create(&metadata(json!({
        "app.kubernetes.io/component": "pull-secret",
    }))));
    assert!(!made_by_pull_secret_create(&ObjectMeta::default()));
}

#[test]
fn adding_the_secret_keeps_every_entry_and_repeats_none() {
    let existing = vec![json!({ "name": "other" }), json!({ "name": "third" })];
    let entries = with_pull_secret(&existing, "acr-pull").expect("a change");
    assert_eq!(
        entries,
        [
            json!({ "name": "other" }),
            json!({ "name": "third" }),
            json!({ "name": "acr-pull" })
        ]
    );
    assert_eq!(with_pull_secret(&entries, "acr-pull"), None);
    assert_eq!(
        with_pull_secret(&[], "acr-pull"),
        Some(vec![json!({ "name": "acr-pull" })])
    );
    let odd = vec![json!({}), json!({ "name": "other", "extra": 1 })];
    let kept = with_pull_secret(&odd, "acr-pull").expect("a change");
    assert_eq!(kept[..2], odd[..], "entries are kept verbatim");
}

#[test]
fn the_patch_is_guarded_by_the_resource_version_read() {
    let patch = image_pull_secrets_patch("42", vec![json!({ "name": "acr-pull" })]);
    assert_eq!(
        patch,
        json!({
            "metadata": { "resourceVersion": "42" },
            "imagePullSecrets": [{ "name": "acr-pull" }],
        })
    );
}

#[test]
fn servers_are_hosts_with_an_optional_port() {
    let parsed = |text: &str| RegistryServer::parse(text).map(|server| server.to_string());
    for good in [
        "contoso.azurecr.io",
        "127.0.0.1:5000",
        "[fd00::1]:443",
        "registry",
    ] {
        assert_eq!(parsed(good), Ok(good.to_owned()));
    }
    assert_eq!(
        RegistryServer::parse("127.0.0.1:5000").expect("valid").port,
        Some(5000)
    );
    let reason = |text: &str| match RegistryServer::parse(text) {
        Err(PullSecretError::InvalidServer { reason, .. }) => reason,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(
        reason("https://contoso.azurecr.io/"),
        "give the registry's host without a scheme, as in `contoso.azurecr.io`"
    );
    assert_eq!(
        reason("contoso.azurecr.io/team"),
        "give the registry's host without a path, as in `contoso.azurecr.io`"
    );
    assert_eq!(reason("host:http"), "`http` is not a port number");
    assert!(reason("").starts_with("a host name is"));
    assert!(reason("con toso").starts_with("a host name is"));
}

#[test]
fn names_and_users_are_checked_and_service_accounts_deduplicated() {
    let spec = PullSecretSpec::new(PullSecretInput {
        service_accounts: vec![
            "default".to_owned(),
            "builder".to_owned(),
            "default".to_owned(),
        ],
        ..input()
    })
    .expect("valid");
    assert_eq!(spec.service_accounts, ["default", "builder"]);
    let refused = |change: fn(&mut PullSecretInput)| {
        let mut input = input();
        change(&mut input);
        PullSecretSpec::new(input).expect_err("refused").to_string()
    };
    assert_eq!(
        refused(|input| input.name = "Acr_Pull".to_owned()),
        "secret name `Acr_Pull` is not a valid Kubernetes name: at most 253 lowercase letters, \
         digits, '-' or '.', starting and ending with a letter or digit"
    );
    assert!(refused(|input| input.namespace = "a.b".to_owned()).starts_with("namespace `a.b`"));
    assert!(
        refused(|input| input.service_accounts = vec![String::new()])
            .starts_with("service account ``")
    );
    assert_eq!(
        refused(|input| input.username = "a:b".to_owned()),
        "--username `a:b` cannot be used: a ':' would split the `user:password` pair registries \
         read from `auth`"
    );
    assert!(refused(|input| input.username = String::new()).ends_with("it is empty"));
    assert!(refused(|input| input.password = SecretString::new("")).contains("is empty"));
}

#[test]
fn the_review_carries_what_policies_need_and_never_the_password() {
    let cluster = json!({ "namespace": { "name": "apps" } });
    let review = pull_secret_review(&spec(), Some(cluster.clone()));
    assert_eq!(review.operation, Operation::Create);
    assert_eq!(review.subject, SubjectKind::PullSecret);
    assert_eq!(
        review.object,
        json!({
            "name": "acr-pull",
            "namespace": "apps",
            "server": "contoso.azurecr.io",
            "registry": {
                "host": "contoso.azurecr.io",
                "port": null,
                "azureContainerRegistry": true,
                "name": "contoso",
            },
            "username": "pull-token",
            "credentialKind": "token",
            "serviceAccounts": ["default"],
        })
    );
    assert_eq!(
        review.facts.cluster.as_ref().map(LazyJson::to_value),
        Some(cluster)
    );
    let text = serde_json::to_string(&review).expect("JSON");
    let auth = STANDARD.encode(format!("pull-token:{PASSWORD}"));
    assert!(!text.contains("p@ss") && !text.contains(&auth), "{text}");
}

#[test]
fn the_credential_kind_follows_the_user_name() {
    let kind = |server: &str, username: &str| {
        let spec = PullSecretSpec::new(PullSecretInput {
            server: server.to_owned(),
            username: username.to_owned(),
            ..input()
        })
        .expect("valid");
        pull_secret_review(&spec, None).object["credentialKind"].clone()
    };
    assert_eq!(kind("contoso.azurecr.io", "Contoso"), "admin-user");
    assert_eq!(
        kind("contoso.azurecr.io", "00000000-0000-0000-0000-000000000000"),
        "refresh-token"
    );
    assert_eq!(
        kind("contoso.azurecr.io", "0f3c7a52-6a8e-4d53-9b3c-2f0e5f1a9c11"),
        "service-principal"
    );
    assert_eq!(kind("contoso.azurecr.cn", "edge-pull"), "token");
    assert_eq!(
        kind("registry.example.com:5000", "contoso"),
        "registry-user"
    );
    assert_eq!(kind("x.contoso.azurecr.io", "x"), "registry-user");
}
