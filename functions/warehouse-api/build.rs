//! Turns the API's OpenAPI document (docs/openapi.yaml) into the JSON `GET /v1/openapi.json`
//! serves, so the document in the repository and the one served cannot differ.

use std::path::Path;

fn main() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.yaml");
    println!("cargo:rerun-if-changed={}", source.display());
    let yaml = std::fs::read_to_string(&source).expect("docs/openapi.yaml is readable");
    let document: serde_json::Value =
        serde_yaml_ng::from_str(&yaml).expect("docs/openapi.yaml is valid YAML");
    let json = serde_json::to_string(&document).expect("the document serializes as JSON");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("openapi.json");
    std::fs::write(out, json).expect("OUT_DIR is writable");
}
