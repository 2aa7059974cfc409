//! Benchmark: in-process generation of a P-256 CA and serving certificate, and `describe` of the
//! result. Run with `cargo bench -p acr-core --bench tls_generate`; prints median and p99.

use acr_core::tls::{self, GenerateOptions, KeyType};
use std::hint::black_box;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

fn measure(name: &str, iterations: usize, mut body: impl FnMut()) {
    for _ in 0..iterations.min(5) {
        body();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            body();
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    println!("{name:<48} median {median:>10.1?}   p99 {p99:>10.1?}   (n={iterations})");
}

fn main() {
    let now = OffsetDateTime::now_utc();
    let mut options = GenerateOptions::new(now);
    options.ips = vec!["192.100.100.1".parse().expect("IP")];
    options.key_type = KeyType::EcdsaP256;

    measure("generate P-256 CA + serving certificate", 200, || {
        black_box(tls::generate(&options, None).expect("generate"));
    });

    let bundle = tls::generate(&options, None).expect("generate");
    let der = tls::load_certificates(bundle.leaf.cert_pem.as_bytes())
        .expect("load")
        .certificates
        .remove(0)
        .der;
    measure("describe serving certificate", 2000, || {
        black_box(tls::describe(&der, now).expect("describe"));
    });
}
