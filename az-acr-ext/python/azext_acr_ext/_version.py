# The extension's version. The az-acr-ext engine it runs must have the same major.minor;
# tests/az checks that this equals the Rust workspace version in Cargo.toml.
VERSION = "0.1.0"
