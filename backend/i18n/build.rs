//! Embeds every `locales/<language>/*.ftl` file: a translator adds or edits a file, and no
//! Rust list has to follow.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build folder copied
    // from another checkout must still read this checkout's catalogues.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("locales");
    println!("cargo:rerun-if-changed=locales");
    let mut code = String::from(
        "/// (language code, file name, Fluent source)\npub static SOURCES: &[(&str, &str, &str)] = &[\n",
    );
    let mut languages: Vec<_> = std::fs::read_dir(&root)
        .expect("locales folder")
        .map(|e| e.expect("locale entry").path())
        .filter(|p| p.is_dir())
        .collect();
    languages.sort();
    for dir in languages {
        println!("cargo:rerun-if-changed={}", relative(&dir, &manifest_dir));
        let language = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("locale folder")
            .map(|e| e.expect("ftl entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        for file in files {
            println!("cargo:rerun-if-changed={}", relative(&file, &manifest_dir));
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(
                code,
                "    ({language:?}, {name:?}, include_str!({:?})),",
                file.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("sources.rs");
    std::fs::write(out, code).unwrap();
}

/// A path under the package, relative to it (what cargo compares on the next build).
fn relative(path: &Path, manifest_dir: &str) -> String {
    path.strip_prefix(manifest_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
