//! Policy modules made in the tests: a module denying when the review contains a needle.

use std::path::{Path, PathBuf};

/// A policy for reviews about `subjects`, in WAT, that denies with `code` when the review JSON it
/// receives contains `needle`, and allows otherwise.
pub fn needle_policy(dir: &Path, subjects: &[&str], needle: &str, code: &str) -> PathBuf {
    let allow = r#"{"allowed":true,"violations":[],"warnings":[]}"#;
    let deny = format!(
        r#"{{"allowed":false,"violations":[{{"code":"{code}","message":"the review contains the needle","field":"username"}}],"warnings":[]}}"#
    );
    let escaped = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let packed = |offset: u64, text: &str| (offset << 32) | text.len() as u64;
    let name = code.to_ascii_lowercase().replace('_', "-");
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{allow_text}")
  (data (i32.const 512) "{deny_text}")
  (data (i32.const 1024) "{needle_text}")
  (global $next (mut i32) (i32.const 4096))
  (func (export "acr_abi_version") (result i32) (i32.const 1))
  (func (export "acr_alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (local.get $ptr) (local.get $len)))
    (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (global.get $next) (i32.const 16)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "acr_evaluate") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $j i32)
    (loop $outer
      (if (i32.le_u (i32.add (local.get $i) (i32.const {needle_len})) (local.get $len))
        (then
          (local.set $j (i32.const 0))
          (block $mismatch
            (loop $inner
              (if (i32.eq (local.get $j) (i32.const {needle_len}))
                (then (return (i64.const {deny_packed}))))
              (br_if $mismatch
                (i32.ne
                  (i32.load8_u (i32.add (i32.add (local.get $ptr) (local.get $i)) (local.get $j)))
                  (i32.load8_u (i32.add (i32.const 1024) (local.get $j)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $inner)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $outer))))
    (i64.const {allow_packed}))
  (@custom "acr.policy.metadata" "{metadata}")
)"#,
        allow_text = escaped(allow),
        deny_text = escaped(&deny),
        needle_text = escaped(needle),
        needle_len = needle.len(),
        deny_packed = packed(512, &deny),
        allow_packed = packed(0, allow),
        metadata = escaped(
            &serde_json::json!({
                "name": name,
                "version": "1.0.0",
                "subjects": subjects,
            })
            .to_string()
        ),
    );
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(&wat).expect("WAT compiles")).expect("write policy");
    path
}
