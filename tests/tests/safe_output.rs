//! Output through the built binaries: a failed stdout write is an error, and files are written by
//! the one writer (all or none, never over a device or FIFO, folders 0700 whatever the umask).

use acr_tests::{Run, bin_path, make_fifo, path_text};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

const CONNECTION: &str = "connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cret;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

fn kubectl_acr(args: &[&str], stdout: Stdio) -> Run {
    Command::new(bin_path("kubectl-acr"))
        .args(args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("run kubectl-acr")
        .into()
}

#[test]
fn render_to_a_full_device_fails_with_a_message() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let run = kubectl_acr(
        &[
            "render",
            "--config",
            "service.clusterIP=192.100.100.1",
            "--config-protected",
            CONNECTION,
        ],
        full.into(),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: cannot write the output: No space left on device"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(bin_path("kubectl-acr"))
        .args(["version"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn never_writes_over_a_device_or_fifo_even_with_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("protected.json");
    make_fifo(&fifo);
    let connection = dir.path().join("connection.txt");
    fs::write(&connection, &CONNECTION["connectionString=".len()..]).expect("write");
    for out in [Path::new("/dev/null"), fifo.as_path()] {
        let run: Run = Command::new(bin_path("az-acr-ext"))
            .args([
                "connected-registry",
                "protected-settings",
                "--connection-string-file",
                path_text(&connection),
                "--secret",
                "registry-tls",
                "--out",
                path_text(out),
                "--force",
            ])
            .output()
            .expect("run az-acr-ext")
            .into();
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "{} is a {}, not a regular file; it is never replaced, even with --force",
                out.display(),
                if out == fifo { "FIFO" } else { "device" }
            )),
            "{}",
            run.stderr
        );
    }
    let kind = fs::symlink_metadata(&fifo).expect("stat").file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&kind),
        "the FIFO stays"
    );
    assert_eq!(
        fs::read_dir(dir.path()).expect("list").count(),
        2,
        "no temporary file left"
    );
}

#[test]
fn key_folders_are_0700_and_keys_0600_under_umask_000() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("new").join("certs");
    let run: Run = Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$0\" cert generate --ip 10.0.0.10 --out-dir \"$1\"",
            path_text(&bin_path("kubectl-acr")),
            path_text(&out),
        ])
        .output()
        .expect("run sh")
        .into();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for folder in [dir.path().join("new"), out.clone()] {
        let mode = fs::metadata(&folder).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", folder.display());
    }
    for (name, expected) in [("ca.key", 0o600), ("tls.key", 0o600), ("tls.crt", 0o644)] {
        let mode = fs::metadata(out.join(name))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, expected, "{name}");
    }
}

#[test]
fn a_dangling_symlink_among_the_outputs_writes_none_of_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("tls.key"))
        .expect("symlink");
    for force in [false, true] {
        let mut args = vec![
            "cert",
            "generate",
            "--ip",
            "10.0.0.10",
            "--out-dir",
            path_text(dir.path()),
        ];
        if force {
            args.push("--force");
        }
        let run = kubectl_acr(&args, Stdio::piped());
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            run.stderr.contains("tls.key is a symbolic link"),
            "{}",
            run.stderr
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["tls.key"], "force={force}");
    }
}
