//! Embeds every `locales/<language>/*.ftl` file: a translator adds or edits a file, and no
//! Rust list has to follow.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    println!("cargo:rerun-if-changed={}", root.display());
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
        println!("cargo:rerun-if-changed={}", dir.display());
        let language = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("locale folder")
            .map(|e| e.expect("ftl entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
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
