//! `GET /v1/openapi.json`: the warehouse API's OpenAPI 3.1 document (docs/openapi.yaml, turned
//! into JSON when the function is built). It is served without a key: it holds nothing secret,
//! and a client generator needs it before it has one.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::StatusCode;
use shared::web::Response;

/// The document, as JSON.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The document's answer.
pub fn document() -> Response {
    let mut resp = Response::new(OPENAPI_JSON.as_bytes().into());
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_document_is_the_yaml_in_docs() {
        // GIVEN the YAML document in the repository, read independently of the build
        let yaml = include_str!("../../../docs/openapi.yaml");
        // WHEN the served JSON is parsed
        let served: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        // THEN it is an OpenAPI 3.1 document whose paths are those of the YAML
        assert_eq!(served["openapi"], "3.1.0");
        let paths = served["paths"].as_object().unwrap();
        for line in yaml.lines().filter(|l| l.starts_with("  /v1/")) {
            let path = line.trim().trim_end_matches(':');
            assert!(paths.contains_key(path), "{path} is not served");
        }
        assert_eq!(
            paths.len(),
            yaml.lines().filter(|l| l.starts_with("  /v1/")).count()
        );
    }
}
