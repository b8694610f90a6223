//! Embeds `rules/*.toml` and everything under `fixtures/` into the binary, so that built-in
//! packs and the demo need no files at run time, and a new pack or fixture is picked up
//! without registering it by hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

fn embed(name: &str, dir: &str, manifest: &Path, code: &mut String) {
    let root = manifest.join(dir);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
    for file in files {
        let relative = file
            .to_str()
            .expect("embedded paths are UTF-8")
            .replace('\\', "/");
        let absolute = root.join(&file);
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(
            code,
            "    ({relative:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut code = String::new();
    embed("RULES", "rules", &manifest, &mut code);
    embed("FIXTURES", "fixtures", &manifest, &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(out, code).unwrap();
}
