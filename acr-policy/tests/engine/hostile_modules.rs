//! Every sandbox limit and ABI check against a hostile WAT module: each ends with an error
//! naming the policy and the limit or check, and the host stays usable.

use crate::common::{evaluation_error, fixture_wasm, host, load_fixture, review, test_limits};
use acr_policy::{AbiCall, HostConfig, Limit, Limits, PolicyHost, PolicyOutcome};

fn load_error(name: &str) -> acr_policy::PolicyError {
    load_fixture(&host(), name).expect_err("the module must be refused at load")
}

fn run_error(name: &str, limits: &Limits) -> acr_policy::PolicyError {
    let host = host();
    let policy = load_fixture(&host, name).expect("the module loads");
    evaluation_error(&policy, limits)
}

#[test]
fn endless_loop_in_evaluate_hits_the_deadline() {
    let error = run_error("hostile/loop-in-evaluate.wat", &test_limits());
    assert_eq!(error.limit(), Some(Limit::Deadline));
    assert_eq!(
        error.to_string(),
        "policy `loop-in-evaluate` exceeded the wall-time deadline of 100 ms (limit `deadline`) \
         during acr_evaluate"
    );
}

#[test]
fn endless_loop_in_start_function_hits_the_deadline_at_load() {
    let error = load_error("hostile/loop-in-start.wat");
    assert_eq!(error.limit(), Some(Limit::Deadline));
    assert_eq!(error.during, Some(AbiCall::Instantiation));
    assert_eq!(
        error.to_string(),
        "policy `loop-in-start` exceeded the wall-time deadline of 100 ms (limit `deadline`) \
         during instantiation (start function)"
    );
}

#[test]
fn endless_loop_runs_out_of_fuel_when_fuel_is_metered() {
    let host = PolicyHost::new(HostConfig {
        limits: test_limits(),
        fuel_metering: true,
        ..HostConfig::default()
    })
    .expect("host with fuel starts");
    let policy = load_fixture(&host, "hostile/loop-in-evaluate.wat").expect("loads");
    let limits = Limits {
        fuel: Some(10_000),
        ..test_limits()
    };
    let error = evaluation_error(&policy, &limits);
    assert_eq!(error.limit(), Some(Limit::Fuel));
    assert_eq!(
        error.to_string(),
        "policy `loop-in-evaluate` used up its 10000 units of fuel (limit `fuel`) during acr_evaluate"
    );
}

#[test]
fn fuel_limit_without_fuel_metering_is_refused() {
    let limits = Limits {
        fuel: Some(10_000),
        ..test_limits()
    };
    let error = run_error("hostile/loop-in-evaluate.wat", &limits);
    assert_eq!(
        error.to_string(),
        "policy `loop-in-evaluate` was given a fuel limit, but the policy host was created \
         without fuel metering (HostConfig::fuel_metering)"
    );
}

#[test]
fn memory_growth_past_the_cap_traps() {
    let error = run_error("hostile/memory-growth.wat", &test_limits());
    assert_eq!(error.limit(), Some(Limit::Memory));
    assert_eq!(
        error.to_string(),
        "policy `memory-growth` exceeded the memory limit of 4194304 bytes by asking for 4259840 \
         bytes (limit `memory`) during acr_evaluate"
    );
}

#[test]
fn initial_memory_above_the_cap_is_refused_at_load() {
    let error = load_error("hostile/initial-memory.wat");
    assert_eq!(error.limit(), Some(Limit::Memory));
    assert_eq!(
        error.to_string(),
        "policy `initial-memory` exceeded the memory limit of 4194304 bytes by asking for 6553600 \
         bytes (limit `memory`) during instantiation (start function)"
    );
}

#[test]
fn deep_recursion_exhausts_the_stack() {
    let error = run_error("hostile/deep-recursion.wat", &test_limits());
    assert_eq!(error.limit(), Some(Limit::Stack));
    assert_eq!(
        error.to_string(),
        "policy `deep-recursion` exhausted the WebAssembly call stack, for example by deep \
         recursion (limit `stack`) during acr_evaluate"
    );
}

#[test]
fn verdict_outside_memory_is_refused() {
    let error = run_error("hostile/verdict-out-of-bounds.wat", &test_limits());
    assert_eq!(
        error.to_string(),
        "policy `verdict-out-of-bounds` pointed at 1000 bytes at address 65000, outside its \
         65536-byte linear memory during acr_evaluate"
    );
}

#[test]
fn oversized_verdict_hits_the_output_limit() {
    let error = run_error("hostile/verdict-oversized.wat", &test_limits());
    assert_eq!(error.limit(), Some(Limit::OutputSize));
    assert_eq!(
        error.to_string(),
        "policy `verdict-oversized` answered 100000 bytes, more than the output limit of 65536 \
         bytes (limit `output size`) during acr_evaluate"
    );
}

#[test]
fn non_utf8_verdict_is_refused() {
    let error = run_error("hostile/verdict-not-utf8.wat", &test_limits());
    assert_eq!(
        error.to_string(),
        "policy `verdict-not-utf8` answered bytes that are not UTF-8: invalid utf-8 sequence of \
         1 bytes from index 0 during acr_evaluate"
    );
}

#[test]
fn non_json_verdict_is_refused() {
    let error = run_error("hostile/verdict-not-json.wat", &test_limits());
    assert_eq!(
        error.to_string(),
        "policy `verdict-not-json` answered text that is not ABI v1 verdict JSON: expected value \
         at line 1 column 1 during acr_evaluate"
    );
}

#[test]
fn deny_without_violation_is_an_error_not_a_deny() {
    let error = run_error("hostile/verdict-inconsistent.wat", &test_limits());
    assert_eq!(
        error.to_string(),
        "policy `verdict-inconsistent` answered allowed=false with 0 violation(s); a verdict is \
         denied exactly when it has violations during acr_evaluate"
    );
}

#[test]
fn missing_export_is_refused_at_load() {
    let error = load_error("hostile/missing-export.wat");
    assert_eq!(
        error.to_string(),
        "policy `missing-export` does not export `acr_evaluate`, which ABI v1 requires"
    );
}

#[test]
fn missing_metadata_is_refused_before_compiling() {
    let error = load_error("hostile/missing-metadata.wat");
    assert_eq!(
        error.to_string(),
        "policy `hostile/missing-metadata.wat` has no `acr.policy.metadata` custom section"
    );
}

#[test]
fn wasi_import_is_refused_naming_it() {
    let error = load_error("hostile/wasi-import.wat");
    assert_eq!(
        error.to_string(),
        "policy `hostile/wasi-import.wat` imports `wasi_snapshot_preview1.fd_write`, but a policy \
         may import only `acr.log` (WASI is not available to policies)"
    );
}

#[test]
fn unknown_import_is_refused_naming_it() {
    let error = load_error("hostile/unknown-import.wat");
    assert_eq!(
        error.to_string(),
        "policy `hostile/unknown-import.wat` imports `env.system`, but a policy may import only \
         `acr.log`"
    );
}

#[test]
fn log_flood_hits_the_message_limit() {
    let error = run_error("hostile/log-flood.wat", &test_limits());
    assert_eq!(error.limit(), Some(Limit::LogMessages));
    assert_eq!(
        error.to_string(),
        "policy `log-flood` logged more than 100 messages in one evaluation (limit `log \
         messages`) during acr_evaluate"
    );
}

#[test]
fn log_flood_hits_the_byte_limit() {
    let limits = Limits {
        max_log_messages: usize::MAX,
        max_log_bytes: 1000,
        ..test_limits()
    };
    let error = run_error("hostile/log-flood.wat", &limits);
    assert_eq!(error.limit(), Some(Limit::LogBytes));
    assert_eq!(
        error.to_string(),
        "policy `log-flood` logged more than 1000 bytes in one evaluation (limit `log bytes`) \
         during acr_evaluate"
    );
}

#[test]
fn wrong_abi_version_is_refused_at_load() {
    let error = load_error("hostile/wrong-abi-version.wat");
    assert_eq!(
        error.to_string(),
        "policy `wrong-abi-version` implements policy ABI version 2, but this host implements \
         version 1 during acr_abi_version"
    );
}

#[test]
fn trap_reports_the_last_log_line() {
    let host = host();
    let policy = load_fixture(&host, "hostile/trap-after-log.wat").expect("loads");
    let evaluation = policy.evaluate(&review());
    assert_eq!(evaluation.logs, vec!["about to trap"]);
    let PolicyOutcome::Error(error) = evaluation.outcome else {
        panic!("expected an error, got {:?}", evaluation.outcome);
    };
    assert_eq!(
        error.to_string(),
        "policy `trap-after-log` trapped: wasm trap: wasm `unreachable` instruction executed (its \
         last log line: about to trap) during acr_evaluate"
    );
}

#[test]
fn oversized_input_is_not_run() {
    let limits = Limits {
        max_input_bytes: 10,
        ..test_limits()
    };
    let error = run_error("abi-doc-minimal.wat", &limits);
    assert_eq!(error.limit(), Some(Limit::InputSize));
    let review_len = serde_json::to_vec(&review()).expect("serialises").len();
    assert_eq!(
        error.to_string(),
        format!(
            "policy `minimal` was not run: the input is {review_len} bytes, more than the input \
             limit of 10 bytes (limit `input size`)"
        )
    );
}

#[test]
fn truncated_module_is_refused() {
    let wasm = fixture_wasm("abi-doc-minimal.wat");
    let error = host()
        .load("truncated.wasm", &wasm[..wasm.len() / 2])
        .expect_err("truncated module");
    let text = error.to_string();
    assert!(
        text.starts_with("policy `truncated.wasm` is not a WebAssembly module: unexpected end"),
        "{text}"
    );
}

#[test]
fn corrupted_header_is_refused() {
    let mut wasm = fixture_wasm("abi-doc-minimal.wat");
    wasm[4] = 0x7f;
    let error = host()
        .load("corrupted.wasm", &wasm)
        .expect_err("corrupted module");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "policy `corrupted.wasm` is not a WebAssembly module: unknown binary version"
        ),
        "{text}"
    );
}

#[test]
fn invalid_function_body_does_not_compile() {
    let error = load_error("hostile/invalid-body.wat");
    let text = error.to_string();
    assert!(
        text.starts_with("policy `invalid-body` does not compile: ")
            && text.contains("type mismatch"),
        "{text}"
    );
}

#[test]
fn host_stays_usable_after_hostile_modules() {
    let host = host();
    for hostile in [
        "hostile/loop-in-evaluate.wat",
        "hostile/memory-growth.wat",
        "hostile/deep-recursion.wat",
    ] {
        let policy = load_fixture(&host, hostile).expect("loads");
        assert!(matches!(
            policy.evaluate(&review()).outcome,
            PolicyOutcome::Error(_)
        ));
    }
    let minimal = load_fixture(&host, "abi-doc-minimal.wat").expect("loads");
    assert!(matches!(
        minimal.evaluate(&review()).outcome,
        PolicyOutcome::Allowed { .. }
    ));
}

#[test]
fn input_address_outside_memory_is_refused() {
    let error = run_error("hostile/alloc-out-of-bounds.wat", &test_limits());
    let review_len = serde_json::to_vec(&review()).expect("serialises").len();
    assert_eq!(error.during, Some(AbiCall::Alloc));
    assert_eq!(
        error.to_string(),
        format!(
            "policy `alloc-out-of-bounds` pointed at {review_len} bytes at address 70000, outside \
             its 65536-byte linear memory during acr_alloc"
        )
    );
}

#[test]
fn duplicate_metadata_is_refused() {
    let error = load_error("hostile/duplicate-metadata.wat");
    assert_eq!(
        error.to_string(),
        "policy `hostile/duplicate-metadata.wat` has more than one `acr.policy.metadata` custom \
         section"
    );
}

/// `wasm` with a custom section `name` holding `data` appended.
fn with_custom_section(mut wasm: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    fn leb128(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    wasm.push(0);
    leb128(payload.len(), &mut wasm);
    wasm.extend_from_slice(&payload);
    wasm
}

#[test]
fn module_over_the_size_limit_is_refused_before_reading_it() {
    let wasm = with_custom_section(
        fixture_wasm("abi-doc-minimal.wat"),
        "padding",
        &vec![0; acr_policy::MAX_MODULE_BYTES],
    );
    let error = host().load("big.wasm", &wasm).expect_err("refused");
    assert_eq!(error.limit(), Some(Limit::ModuleSize));
    assert_eq!(
        error.to_string(),
        format!(
            "policy `big.wasm` was not loaded: the module is {} bytes, more than the module size \
             limit of 16777216 bytes (limit `module size`)",
            wasm.len()
        )
    );
}

#[test]
fn metadata_over_the_size_limit_is_refused_before_parsing_it() {
    let metadata = format!(
        r#"{{"name":"big-metadata","version":"1","subjects":["connected-registry"],"description":"{}"}}"#,
        "x".repeat(acr_policy::MAX_METADATA_BYTES)
    );
    let wasm = with_custom_section(
        fixture_wasm("hostile/missing-metadata.wat"),
        "acr.policy.metadata",
        metadata.as_bytes(),
    );
    let error = host()
        .load("big-metadata.wasm", &wasm)
        .expect_err("refused");
    assert_eq!(error.limit(), Some(Limit::MetadataSize));
    assert_eq!(
        error.to_string(),
        format!(
            "policy `big-metadata.wasm` was not loaded: its `acr.policy.metadata` section is {} \
             bytes, more than the metadata size limit of 65536 bytes (limit `metadata size`)",
            metadata.len()
        )
    );
}
