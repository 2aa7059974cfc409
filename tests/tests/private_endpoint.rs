//! The private-endpoint DNS check against a real dnsmasq on 127.0.0.1 serving zone data for a
//! correct private endpoint and for each way it breaks: the check names every problem, and
//! `kubectl acr verify --private-endpoint` prints and exits accordingly.

use std::time::Duration;

use acr_core::azure::{
    PrivateEndpointReport, PrivateEndpointRequest, ProblemKind, private_endpoint_check,
};
use acr_tests::peers::Dnsmasq;
use acr_tests::{Run, bin_path};

/// dnsmasq answers for these zones only from its own records, as the private DNS zone and the
/// public zone do: NXDOMAIN or NODATA for anything else, never "refused".
const ZONES: [&str; 2] = ["--local=/azurecr.io/", "--local=/cloudapp.example/"];

fn cname(from: &str, to: &str) -> String {
    format!("--cname={from},{to}")
}

fn host(name: &str, addresses: &str) -> String {
    format!("--host-record={name},{addresses}")
}

/// A private endpoint set up right: the login and eastus data endpoints resolve through their
/// privatelink names to the endpoint's private addresses.
fn correct_records() -> Vec<String> {
    vec![
        cname("contoso.azurecr.io", "contoso.privatelink.azurecr.io"),
        host("contoso.privatelink.azurecr.io", "10.1.0.4"),
        cname(
            "contoso.eastus.data.azurecr.io",
            "contoso.eastus.data.privatelink.azurecr.io",
        ),
        host(
            "contoso.eastus.data.privatelink.azurecr.io",
            "10.1.0.5,fd00::5",
        ),
    ]
}

struct Zone {
    dnsmasq: Dnsmasq,
    _dir: tempfile::TempDir,
}

fn serve(records: &[String]) -> Zone {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut options: Vec<String> = ZONES.iter().map(|zone| (*zone).to_owned()).collect();
    options.extend_from_slice(records);
    Zone {
        dnsmasq: Dnsmasq::start(dir.path(), &options),
        _dir: dir,
    }
}

fn check(zone: &Zone, registry: &str) -> PrivateEndpointReport {
    private_endpoint_check(&PrivateEndpointRequest {
        registry: registry.to_owned(),
        regions: vec!["eastus".to_owned()],
        dns_server: zone.dnsmasq.server().parse().expect("address"),
        timeout: Duration::from_secs(10),
    })
    .expect("check runs")
}

fn kinds(report: &PrivateEndpointReport, endpoint: usize) -> Vec<ProblemKind> {
    report.endpoints[endpoint]
        .problems
        .iter()
        .map(|problem| problem.kind)
        .collect()
}

#[test]
fn a_correct_setup_passes_with_its_chains_and_private_addresses() {
    let zone = serve(&correct_records());
    let report = check(&zone, "Contoso");
    assert!(report.passed, "{}", report.to_text());
    assert_eq!(report.registry, "contoso");
    let login = &report.endpoints[0];
    assert_eq!(
        login.chain,
        ["contoso.azurecr.io", "contoso.privatelink.azurecr.io"]
    );
    assert_eq!(
        login.addresses,
        ["10.1.0.4".parse::<std::net::IpAddr>().expect("ip")]
    );
    let data = &report.endpoints[1];
    assert_eq!(data.name, "contoso.eastus.data.azurecr.io");
    assert_eq!(
        data.addresses,
        [
            "10.1.0.5".parse::<std::net::IpAddr>().expect("ip"),
            "fd00::5".parse().expect("ip")
        ]
    );
    let text = report.to_text();
    assert!(
        text.contains("PASS  contoso.azurecr.io -> contoso.privatelink.azurecr.io -> 10.1.0.4\n"),
        "{text}"
    );
}

#[test]
fn a_missing_data_endpoint_record_is_named_with_the_record_to_create() {
    let mut records = correct_records();
    records.retain(|record| !record.contains("eastus.data.privatelink.azurecr.io,10"));
    let zone = serve(&records);
    let report = check(&zone, "contoso");
    assert!(!report.passed);
    assert!(report.endpoints[0].passed, "{}", report.to_text());
    assert_eq!(kinds(&report, 1), [ProblemKind::MissingRecord]);
    let problem = &report.endpoints[1].problems[0];
    assert!(
        problem.message.starts_with(
            "contoso.eastus.data.privatelink.azurecr.io has no address record (NXDOMAIN"
        ),
        "{}",
        problem.message
    );
    assert!(
        problem.fix.contains(
            "create an A record `contoso.eastus.data` in the zone privatelink.azurecr.io"
        ),
        "{}",
        problem.fix
    );
}

#[test]
fn a_public_answer_through_privatelink_is_named() {
    // What clients see when the private zone is not linked: public DNS continues the chain
    // past the privatelink name to the registry's public front end.
    let records = vec![
        cname("contoso.azurecr.io", "contoso.privatelink.azurecr.io"),
        cname("contoso.privatelink.azurecr.io", "eus-acr.cloudapp.example"),
        host("eus-acr.cloudapp.example", "20.62.128.5"),
    ];
    let zone = serve(&records);
    let report = private_endpoint_check(&PrivateEndpointRequest {
        registry: "contoso".to_owned(),
        regions: Vec::new(),
        dns_server: zone.dnsmasq.server().parse().expect("address"),
        timeout: Duration::from_secs(10),
    })
    .expect("check runs");
    assert!(!report.passed);
    assert_eq!(kinds(&report, 0), [ProblemKind::PublicAddress]);
    let problem = &report.endpoints[0].problems[0];
    assert_eq!(
        problem.message,
        "contoso.azurecr.io resolves to 20.62.128.5, not a private address (contoso.azurecr.io \
         -> contoso.privatelink.azurecr.io -> eus-acr.cloudapp.example)"
    );
    assert!(
        problem.fix.contains("link the private DNS zone"),
        "{}",
        problem.fix
    );
}

#[test]
fn no_privatelink_cname_means_public_dns_is_answering() {
    let mut records = correct_records();
    records[0] = host("contoso.azurecr.io", "20.62.128.5");
    records.remove(1);
    let zone = serve(&records);
    let report = check(&zone, "contoso");
    assert!(!report.passed);
    assert_eq!(
        kinds(&report, 0),
        [ProblemKind::NoPrivatelinkCname, ProblemKind::PublicAddress]
    );
    let problem = &report.endpoints[0].problems[0];
    assert_eq!(
        problem.message,
        "contoso.azurecr.io does not resolve through contoso.privatelink.azurecr.io \
         (contoso.azurecr.io): public DNS is answering"
    );
    assert!(
        problem.fix.starts_with(
            "link the private DNS zone privatelink.azurecr.io to the clients' virtual network"
        ),
        "{}",
        problem.fix
    );
    assert!(report.endpoints[1].passed, "{}", report.to_text());
}

#[test]
fn an_unknown_registry_is_not_found() {
    let zone = serve(&correct_records());
    let report = check(&zone, "fabrikam");
    assert_eq!(kinds(&report, 0), [ProblemKind::NotFound]);
    assert_eq!(
        report.endpoints[0].problems[0].message,
        "fabrikam.azurecr.io does not resolve (NXDOMAIN)"
    );
}

fn verify(zone: &Zone, registry: &str, extra: &[&str]) -> Run {
    let server = zone.dnsmasq.server();
    let mut args = vec![
        "verify",
        "--private-endpoint",
        "--registry",
        registry,
        "--region",
        "eastus",
        "--dns-server",
        &server,
    ];
    args.extend_from_slice(extra);
    std::process::Command::new(bin_path("kubectl-acr"))
        .args(&args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run kubectl-acr")
        .into()
}

#[test]
fn kubectl_acr_verify_checks_private_endpoint_dns() {
    let zone = serve(&correct_records());
    let text = verify(&zone, "contoso", &[]).success();
    assert!(
        text.contains("PASS  contoso.eastus.data.azurecr.io -> contoso.eastus.data.privatelink.azurecr.io -> 10.1.0.5, fd00::5\n"),
        "{text}"
    );

    let mut records = correct_records();
    records.truncate(3);
    let broken = serve(&records);
    let run = verify(&broken, "contoso", &["-o", "json"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["passed"], false);
    let endpoint = &json["privateEndpoint"]["endpoints"][1];
    assert_eq!(endpoint["passed"], false);
    assert_eq!(endpoint["problems"][0]["kind"], "missing-record");
    assert_eq!(
        endpoint["chain"],
        serde_json::json!([
            "contoso.eastus.data.azurecr.io",
            "contoso.eastus.data.privatelink.azurecr.io"
        ])
    );

    let bad_name = verify(&broken, "con-toso", &[]);
    assert_eq!(bad_name.code, Some(2), "{bad_name:?}");
    assert!(
        bad_name
            .stderr
            .contains("only letters and digits are allowed"),
        "{}",
        bad_name.stderr
    );
}
