//! Turns the built-in catalog (`carts.toml`, the schema operators write their own carts in)
//! into JSON for the binaries: every process reads the catalog at start, and the TOML parser
//! spent about as many instructions on it as everything else a function does before its first
//! request (docs/benchmarks.md); `serde_json` reads the same data for a fraction of that.
//! The tests still read `carts.toml` itself (`carts::builtin`), so an entry that does not read
//! is reported with its TOML line.

fn main() {
    println!("cargo:rerun-if-changed=carts.toml");
    let text = std::fs::read_to_string("carts.toml").expect("shared/carts.toml is readable");
    // A file that does not parse fails here, at build time, with TOML's own message.
    let data: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("shared/carts.toml does not parse: {e}"));
    let json = serde_json::to_string(&data).expect("TOML data is JSON data");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("carts.json");
    std::fs::write(out, json).expect("OUT_DIR is writable");
}
