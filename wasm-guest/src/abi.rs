//! The ABI v1 glue behind [`export_policy!`](crate::export_policy): linear-memory buffers,
//! verdict packing, the `acr.log` import, and its native stand-in for `cargo test`.
//!
//! This is the only file of the SDK holding unsafe code.
#![allow(unsafe_code)]

use crate::review::{REVIEW_API_VERSION, Review};
use crate::verdict::{SettingsValidation, Verdict};
use serde_json::Value;

/// Copies the metadata JSON into the fixed-size array the custom section static needs.
///
/// `N` must be the byte length of `text`; the export macro passes exactly that.
pub const fn metadata_section<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(
        bytes.len() == N,
        "metadata section length differs from the metadata text"
    );
    let mut section = [0u8; N];
    let mut index = 0;
    while index < N {
        section[index] = bytes[index];
        index += 1;
    }
    section
}

/// Decodes a review, runs `policy` and encodes its verdict: the target-independent part of
/// `acr_evaluate`. A review that does not decode ends the call with a trap after logging why.
pub fn evaluate_json(input: &[u8], policy: fn(&Review) -> Verdict) -> Vec<u8> {
    let text = match core::str::from_utf8(input) {
        Ok(text) => text,
        Err(error) => fail(&format!("review is not UTF-8: {error}")),
    };
    let review: Review = match serde_json::from_str(text) {
        Ok(review) => review,
        Err(error) => fail(&format!("review is not ABI v1 review JSON: {error}")),
    };
    if review.api_version != REVIEW_API_VERSION {
        fail(&format!(
            "review apiVersion is `{}`, this policy understands `{REVIEW_API_VERSION}`",
            review.api_version
        ));
    }
    let verdict = policy(&review);
    let output = serde_json::to_vec(&verdict).expect("a verdict always serialises to JSON");
    discard((review, verdict));
    output
}

/// Drops `value` natively. In a module it is left as it is: the instance is discarded after
/// the call, so dropping would only walk every allocation to hand it back to a bump allocator
/// that never reuses it.
fn discard<T>(value: T) {
    #[cfg(target_arch = "wasm32")]
    core::mem::forget(value);
    #[cfg(not(target_arch = "wasm32"))]
    drop(value);
}

/// Decodes settings, runs `validate` and encodes the answer: the target-independent part of
/// `acr_validate_settings`.
pub fn validate_settings_json(input: &[u8], validate: fn(&Value) -> Result<(), String>) -> Vec<u8> {
    let settings = core::str::from_utf8(input)
        .map_err(|error| error.to_string())
        .and_then(|text| serde_json::from_str::<Value>(text).map_err(|e| e.to_string()));
    let answer = match settings {
        Ok(settings) => SettingsValidation::from_result(validate(&settings)),
        Err(error) => {
            SettingsValidation::from_result(Err(format!("settings are not JSON: {error}")))
        }
    };
    serde_json::to_vec(&answer).expect("a settings validation always serialises to JSON")
}

/// Ends the evaluation as an *error*, not a deny: logs `reason` through `acr.log`, then
/// traps (natively: panics with `reason`). For reviews a policy cannot judge, such as settings
/// its `acr_validate_settings` would have refused; the host reports the error with the log line
/// and fails closed unless the policy set says `on-error: allow`.
pub fn fail(reason: &str) -> ! {
    log(reason);
    panic!("{reason}");
}

#[cfg(target_arch = "wasm32")]
mod linear_memory {
    //! Buffers shared with the host through linear memory (wasm32 only).

    /// `acr_alloc`: a zeroed buffer of `len` bytes whose ownership passes to the host until
    /// it hands the same pointer and length back to an `acr_*` export.
    pub fn alloc(len: i32) -> i32 {
        let len = usize::try_from(len).expect("acr_alloc length is not negative");
        let buffer = vec![0u8; len].into_boxed_slice();
        Box::into_raw(buffer).cast::<u8>() as usize as i32
    }

    /// Takes back a buffer made by [`alloc`].
    pub fn take_input(ptr: i32, len: i32) -> Box<[u8]> {
        let len = usize::try_from(len).expect("input length is not negative");
        let ptr = ptr as u32 as usize as *mut u8;
        // SAFETY: the ABI obliges the host to pass back exactly the pointer `acr_alloc(len)`
        // returned with the same `len`, once; so this is the boxed slice `alloc` leaked, with
        // its original layout, and nothing else owns it.
        unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) }
    }

    /// Leaks `output` and packs its address and length as `(ptr << 32) | len`. The instance is
    /// discarded after the call, so the leak lasts only as long as the host needs the bytes.
    pub fn leak_output(output: Vec<u8>) -> i64 {
        let output = output.into_boxed_slice();
        let len = output.len() as u64;
        let ptr = Box::into_raw(output).cast::<u8>() as usize as u64;
        ((ptr << 32) | len) as i64
    }

    #[link(wasm_import_module = "acr")]
    unsafe extern "C" {
        #[link_name = "log"]
        fn host_log(ptr: i32, len: i32);
    }

    pub fn log(message: &str) {
        // SAFETY: `acr.log` only reads `len` bytes at `ptr`, which `message` keeps alive and
        // initialised for the duration of the call.
        unsafe { host_log(message.as_ptr() as usize as i32, message.len() as i32) }
    }
}

#[cfg(target_arch = "wasm32")]
pub use linear_memory::{alloc, log};

#[cfg(target_arch = "wasm32")]
mod bump_allocator {
    //! The heap of a policy module (wasm32 only): a bump allocator. The host makes a fresh
    //! instance for every call, so memory is never reused across calls and freeing is wasted
    //! work; allocating is a few instructions, and the last allocation can still shrink, grow
    //! in place or be given back, which keeps a growing `Vec` or `String` compact. A policy
    //! that allocates and frees in a long loop uses more memory than it would with a general
    //! allocator, within the host's memory limit.
    //!
    //! The heap starts in [`ARENA`], a zeroed static that is part of the memory the module is
    //! instantiated with, and moves to memory grown from the host only once the arena is used
    //! up. Growing memory costs the host page-protection changes on every evaluation (and again
    //! when the instance slot is reused), so a typical evaluation should never grow memory.

    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::{memory_grow, memory_size};
    use core::cell::{Cell, UnsafeCell};

    const PAGE: usize = 64 * 1024;
    /// Pages asked of the host at least per growth: each growth is a host call.
    const MIN_GROWTH_PAGES: usize = 8;
    /// The heap a module starts with: enough for reviews far larger than the 8 KB a typical
    /// deployment review has. Zeroed statics take no space in the module file.
    const ARENA_BYTES: usize = 256 << 10;

    #[repr(C, align(16))]
    struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

    // SAFETY: wasm32-unknown-unknown modules run single-threaded, and only the allocator
    // hands out parts of the arena, each once.
    unsafe impl Sync for Arena {}

    static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));

    /// `[next, end)` is free; everything below `next` is allocated or lost.
    pub struct BumpAllocator {
        next: Cell<usize>,
        end: Cell<usize>,
    }

    // SAFETY: wasm32-unknown-unknown modules run single-threaded: the cells are never shared
    // between threads.
    unsafe impl Sync for BumpAllocator {}

    #[global_allocator]
    static HEAP: BumpAllocator = BumpAllocator {
        next: Cell::new(0),
        end: Cell::new(0),
    };

    impl BumpAllocator {
        /// Starts the heap in the arena.
        fn start_heap(&self) {
            if self.end.get() == 0 {
                let arena_start = ARENA.0.get() as usize;
                self.next.set(arena_start);
                self.end.set(arena_start + ARENA_BYTES);
            }
        }

        /// Makes `[start, start + size)` free memory by growing linear memory, which works only
        /// once the heap has moved to the top of memory: `end` is then the end of memory.
        fn extend(&self, start: usize, size: usize) -> bool {
            let Some(wanted_end) = start.checked_add(size) else {
                return false;
            };
            if wanted_end <= self.end.get() {
                return true;
            }
            if self.end.get() != memory_size(0) * PAGE {
                return false;
            }
            let pages = (wanted_end - self.end.get())
                .div_ceil(PAGE)
                .max(MIN_GROWTH_PAGES);
            if memory_grow(0, pages) == usize::MAX {
                return false;
            }
            self.end.set(self.end.get() + pages * PAGE);
            true
        }

        /// Moves the heap to the end of linear memory, leaving the rest of the arena unused.
        fn move_to_memory_end(&self) {
            let memory_end = memory_size(0) * PAGE;
            self.next.set(memory_end);
            self.end.set(memory_end);
        }
    }

    // SAFETY: every pointer returned lies in memory the module owns (the arena, or linear
    // memory past its initial size), past all earlier allocations still in use, aligned as
    // asked, and is handed out once.
    unsafe impl GlobalAlloc for BumpAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.start_heap();
            let mut start = self.next.get().next_multiple_of(layout.align());
            if !self.extend(start, layout.size()) {
                if self.end.get() == memory_size(0) * PAGE {
                    return core::ptr::null_mut();
                }
                self.move_to_memory_end();
                start = self.next.get().next_multiple_of(layout.align());
                if !self.extend(start, layout.size()) {
                    return core::ptr::null_mut();
                }
            }
            self.next.set(start + layout.size());
            start as *mut u8
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if ptr as usize + layout.size() == self.next.get() {
                self.next.set(ptr as usize);
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let start = ptr as usize;
            if start + layout.size() == self.next.get() && self.extend(start, new_size) {
                self.next.set(start + new_size);
                return ptr;
            }
            if new_size <= layout.size() {
                return ptr;
            }
            // SAFETY: the caller guarantees `layout` with `new_size` is a valid layout.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as for `alloc`.
            let new_ptr = unsafe { self.alloc(new_layout) };
            if !new_ptr.is_null() {
                // SAFETY: the old block is valid for its size, smaller than the new one, and the
                // new block lies past the old one, so they do not overlap.
                unsafe {
                    core::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size());
                }
            }
            new_ptr
        }
    }
}

/// `acr_evaluate`: the review at `ptr`/`len` in, the packed verdict out.
#[cfg(target_arch = "wasm32")]
pub fn evaluate(ptr: i32, len: i32, policy: fn(&Review) -> Verdict) -> i64 {
    let input = linear_memory::take_input(ptr, len);
    let output = evaluate_json(&input, policy);
    discard(input);
    linear_memory::leak_output(output)
}

/// `acr_validate_settings`: the settings at `ptr`/`len` in, the packed answer out.
#[cfg(target_arch = "wasm32")]
pub fn validate_settings(ptr: i32, len: i32, validate: fn(&Value) -> Result<(), String>) -> i64 {
    let input = linear_memory::take_input(ptr, len);
    linear_memory::leak_output(validate_settings_json(&input, validate))
}

#[cfg(not(target_arch = "wasm32"))]
mod native_log {
    //! Stands in for the host's `acr.log` when a policy runs natively under `cargo test`.

    use std::cell::RefCell;

    thread_local! {
        static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    /// Keeps `message` for [`take_logged`] instead of sending it to a host.
    pub fn log(message: &str) {
        LOGGED.with(|logged| logged.borrow_mut().push(message.to_owned()));
    }

    /// The messages this thread logged since the last call, oldest first.
    pub fn take_logged() -> Vec<String> {
        LOGGED.with(|logged| logged.borrow_mut().drain(..).collect())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native_log::{log, take_logged};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::verdict::{accept, reject};

    fn deny_everything(review: &Review) -> Verdict {
        log(&format!("reviewing {:?}", review.subject));
        reject("NO", "never", None)
    }

    #[test]
    fn metadata_section_copies_the_text() {
        const TEXT: &str = r#"{"name":"x"}"#;
        const SECTION: [u8; TEXT.len()] = metadata_section(TEXT);
        assert_eq!(&SECTION, TEXT.as_bytes());
    }

    #[test]
    fn evaluate_json_round_trips_review_and_verdict() {
        let review =
            br#"{"apiVersion":"acr.policy/v1","operation":"create","subject":"pull-secret"}"#;
        let verdict: Verdict =
            serde_json::from_slice(&evaluate_json(review, deny_everything)).expect("verdict JSON");
        assert_eq!(verdict, reject("NO", "never", None));
        assert_eq!(take_logged(), vec!["reviewing PullSecret"]);
        assert!(take_logged().is_empty());
    }

    /// The reason `evaluate_json` failed on `review`, checked to have been logged too.
    fn refusal_of(review: &[u8]) -> String {
        let panic = std::panic::catch_unwind(|| evaluate_json(review, |_| accept()))
            .expect_err("the review is refused");
        let message = panic
            .downcast_ref::<String>()
            .expect("formatted panic message")
            .clone();
        assert_eq!(take_logged(), vec![message.clone()]);
        message
    }

    #[test]
    fn evaluate_json_refuses_other_api_versions() {
        assert_eq!(
            refusal_of(
                br#"{"apiVersion":"acr.policy/v2","operation":"create","subject":"pull-secret"}"#
            ),
            "review apiVersion is `acr.policy/v2`, this policy understands `acr.policy/v1`"
        );
    }

    #[test]
    fn evaluate_json_refuses_reviews_that_are_not_utf8() {
        assert_eq!(
            refusal_of(b"{\"apiVersion\":\"acr.policy/v1\xff\"}"),
            "review is not UTF-8: invalid utf-8 sequence of 1 bytes from index 28"
        );
    }

    #[test]
    fn fail_logs_its_reason_and_panics_with_it() {
        let panic = std::panic::catch_unwind(|| fail("minDaysLeft must be a number"))
            .expect_err("fail never returns");
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some("minDaysLeft must be a number")
        );
        assert_eq!(take_logged(), vec!["minDaysLeft must be a number"]);
    }

    #[test]
    fn validate_settings_json_answers_for_bad_json_too() {
        let valid = validate_settings_json(b"{}", |_| Ok(()));
        assert_eq!(valid, br#"{"valid":true}"#);
        let refused = validate_settings_json(b"{}", |_| Err("minimumDays is required".into()));
        assert_eq!(
            refused,
            br#"{"valid":false,"message":"minimumDays is required"}"#
        );
        let not_json = validate_settings_json(b"{", |_| Ok(()));
        assert!(
            String::from_utf8_lossy(&not_json)
                .starts_with(r#"{"valid":false,"message":"settings are not JSON: "#),
            "{}",
            String::from_utf8_lossy(&not_json)
        );
    }
}
