//! Hostile and careless input through the built binaries: secrets never printed, every input
//! read by the bounded reader (FIFOs and devices refused at once, sizes capped), errors said once.

use acr_tests::{Run, bin_path, make_fifo, path_text};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `command`, failing the test (not hanging it) if it does not end within 30 seconds.
fn run_bounded(command: &mut Command) -> Run {
    let mut child = command
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output").into()
}

fn kubectl_acr(args: &[&str]) -> Run {
    run_bounded(
        Command::new(bin_path("kubectl-acr"))
            .args(args)
            .stdin(Stdio::null()),
    )
}

fn az_acr_ext(args: &[&str]) -> Run {
    run_bounded(
        Command::new(bin_path("az-acr-ext"))
            .args(args)
            .stdin(Stdio::null()),
    )
}

const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCWgDcaZ+TTGUvH\nUbUR+fe+BWttdbPX/AutqvfQvu24rqJJIasBGABAnTCcq4PKQL4Rfrdzr+WjO+2h=\n-----END PRIVATE KEY-----\n";

fn assert_no_secret(run: &Run, context: &str) {
    for fragment in ["MIIEvQ", "UbUR", "hunter2"] {
        assert!(
            !run.stderr.contains(fragment) && !run.stdout.contains(fragment),
            "{context}: printed a secret\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn a_private_key_or_password_in_the_wrong_place_is_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&key_file, KEY).expect("write key");
    let out = dir.path().join("protected.json");
    let run = az_acr_ext(&[
        "connected-registry",
        "protected-settings",
        "--connection-string-file",
        path_text(&key_file),
        "--secret",
        "registry-tls",
        "--out",
        path_text(&out),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_no_secret(&run, "--connection-string-file tls.key");
    assert!(!out.exists());

    let stray = "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword=ab;hunter2;ParentGatewayEndpoint=h;ParentEndpointProtocol=https";
    for protected in [
        format!("connectionString={KEY}"),
        format!("connectionString={stray}"),
        format!("connectionString={}", stray.replace("=ab;", ":")),
        format!("tls.secret={KEY}"),
    ] {
        let run = kubectl_acr(&[
            "render",
            "--config",
            "service.clusterIP=10.0.0.10",
            "--config-protected",
            &protected,
        ]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert_no_secret(&run, &protected);
        assert!(run.stderr.contains("<redacted>"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "said once: {}", run.stderr);
    }
}

#[test]
fn fifos_devices_and_endless_stdin_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    make_fifo(&fifo);
    let out = dir.path().join("out.json");
    for input in [Path::new("/dev/zero"), fifo.as_path()] {
        let input = path_text(input);
        let render = |flag: &str| {
            kubectl_acr(&[
                "render",
                "--config",
                "service.clusterIP=10.0.0.10",
                flag,
                input,
            ])
        };
        // An unreadable extra module fails closed: denied (3), the reason in the report.
        let runs = [
            (3, render("--policy")),
            (1, render("--policy-set")),
            (1, render("--config-protected-file")),
            (1, kubectl_acr(&["cert", "inspect", input])),
            (
                1,
                az_acr_ext(&[
                    "connected-registry",
                    "protected-settings",
                    "--connection-string-file",
                    input,
                    "--secret",
                    "registry-tls",
                    "--out",
                    path_text(&out),
                ]),
            ),
        ];
        for (code, run) in runs {
            assert_eq!(run.code, Some(code), "{input}: {}", run.stderr);
            assert!(run.stderr.contains(input), "names the file: {}", run.stderr);
            assert!(
                run.stderr.contains("not a regular file"),
                "says why: {}",
                run.stderr
            );
        }
    }
    let endless = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let run = run_bounded(
        Command::new(bin_path("kubectl-acr"))
            .args(["cert", "inspect", "-"])
            .stdin(endless),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cannot read standard input: it is larger than 1 MiB, the limit for certificate files"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn deeply_nested_yaml_is_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = dir.path().join("set.yaml");
    let depth = 200_000;
    std::fs::write(
        &set,
        format!("policies: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    )
    .expect("write");
    let run = kubectl_acr(&["policy", "list", "--policy-set", path_text(&set)]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not a valid policy set file: line 1: nested deeper than 64 levels"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_huge_timeout_is_a_usage_error() {
    let run = kubectl_acr(&[
        "verify",
        "--server",
        "127.0.0.1:9",
        "--timeout",
        "5000000000000h",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`5000000000000h` is too long: at most 168h"),
        "{}",
        run.stderr
    );
}

#[test]
fn deeply_nested_cert_manager_manifests_are_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifests = dir.path().join("cert-manager.yaml");
    let depth = 200_000;
    std::fs::write(
        &manifests,
        format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    )
    .expect("write");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n").expect("write");
    let run = kubectl_acr(&[
        "deploy",
        "--kubeconfig",
        path_text(&kubeconfig),
        "--config",
        "service.clusterIP=10.0.0.10",
        "--config-protected",
        "connectionString=ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword=p;ParentGatewayEndpoint=h;ParentEndpointProtocol=https",
        "--cert-manager-manifests",
        path_text(&manifests),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not valid YAML: line 1: nested deeper than 64 levels"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_command_taking_a_password_refuses_one_on_the_command_line_and_reads_files_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let commands: [&[&str]; 3] = [
        &[
            "pull-secret",
            "create",
            "acr-pull",
            "--server",
            "contoso.azurecr.io",
            "--username",
            "edge-pull",
            "--dry-run=client",
        ],
        &[
            "verify",
            "--server",
            "127.0.0.1:9",
            "--username",
            "edge-pull",
        ],
        &[
            "policy",
            "pull",
            "oci://127.0.0.1:9/policies/p@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "--out",
            path_text(dir.path()),
            "--registry-username",
            "edge-pull",
        ],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.extend(["--password", "hunter2"]);
        let run = kubectl_acr(&args);
        assert_eq!(run.code, Some(2), "{command:?}: {run:?}");
        assert!(
            run.stderr
                .starts_with("error: a password is never taken on the command line"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);

        let empty = dir.path().join("empty-password");
        std::fs::write(&empty, "\r\n").expect("write");
        let mut args = command.to_vec();
        args.extend(["--password-file", path_text(&empty)]);
        let run = kubectl_acr(&args);
        assert_eq!(run.code, Some(1), "{command:?}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("the password from {} is empty", empty.display())),
            "{command:?}: {}",
            run.stderr
        );

        let two_lines = dir.path().join("two-lines");
        std::fs::write(&two_lines, "hunter2\n# rotated 2026-12-01\n").expect("write");
        let mut args = command.to_vec();
        args.extend(["--password-file", path_text(&two_lines)]);
        let run = kubectl_acr(&args);
        assert_eq!(run.code, Some(1), "{command:?}: {run:?}");
        assert!(
            run.stderr
                .contains("holds a line break or another control character"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }

    // A password source without a user name is a usage error, not silently ignored; and the
    // refused --password flag is not offered in the usage line.
    for command in [
        &["verify", "--server", "127.0.0.1:9", "--password-stdin"][..],
        &[
            "policy",
            "pull",
            "oci://127.0.0.1:9/policies/p@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "--out",
            path_text(dir.path()),
            "--password-stdin",
        ],
    ] {
        let run = kubectl_acr(command);
        assert_eq!(run.code, Some(2), "{command:?}: {run:?}");
        assert!(
            run.stderr.contains("username"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("--password <"), "{}", run.stderr);
        assert!(!run.stderr.contains("--password ["), "{}", run.stderr);
    }
}

#[test]
fn a_registry_mirror_or_image_carrying_a_password_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("bundle");
    for (flag, value) in [
        (
            "--registry-mirror",
            "mcr.microsoft.com=https://edge:hunter2@mirror.example:5000",
        ),
        ("--registry-image", "edge:hunter2@mirror.example/acr/cr:1"),
    ] {
        let run = kubectl_acr(&[
            "bundle",
            "save",
            "--out",
            path_text(&out),
            "--no-cert-manager",
            flag,
            value,
        ]);
        assert_ne!(run.code, Some(0), "{flag}: {run:?}");
        assert!(
            run.stderr.contains("looks like a URL with credentials"),
            "{flag}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{flag}: {}", run.stderr);
    }
}
