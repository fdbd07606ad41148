//! `uniffi-bindgen generate --library target/debug/libbalagh_sdk_ffi.so --language kotlin
//! --out-dir …` (also `swift`, `python`).

fn main() {
    uniffi::uniffi_bindgen_main();
}
