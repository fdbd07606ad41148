//! libFuzzer entry point (`cargo +nightly fuzz run domain_parsers --features libfuzzer`); the body is
//! shared with the stable runner in `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    balagh_fuzz::domain_parsers(data);
});
