//! The described request's sending and reading rules that TikTok Shop's token calls need: a GET
//! with the fields in the query, an answer nested under a member, the cart's own result code.

use super::*;
use crate::carts::TokenRequest;
use serde_json::json;

/// A described request as the catalog writes it.
fn described(toml_text: &str) -> DescribedRequest {
    toml::from_str(toml_text).unwrap()
}

const GET_NESTED: &str = r#"
json = false
method = "get"
fields = [
    ["app_key", "client_id"],
    ["app_secret", "client_secret"],
    ["auth_code", "code"],
    ["grant_type", { lit = "authorized_code" }],
]
answer_in = "data"
result_code = "code"
refresh_token = "refresh_token"
expiry = { at_epoch_secs = "access_token_expire_in" }
account = "open_id"
"#;

fn values<'a>(credentials: &'a ClientCredentials, code: &'a Secret, vars: &'a Vars) -> Values<'a> {
    Values {
        credentials,
        code: Some(code),
        redirect_uri: Some("https://cartlink.test/oauth/callback/x"),
        verifier: None,
        refresh_token: None,
        scopes: &[],
        vars,
    }
}

#[test]
fn a_described_get_sends_its_fields_in_the_query_and_no_body() {
    // GIVEN a GET whose fields are the app's key and secret, the code and a grant type
    let spec = described(GET_NESTED);
    let credentials = ClientCredentials::new("app-key", Some(Secret::new("app-secret")));
    let code = Secret::new("auth-c0de");
    let vars = Vars::new();
    let client = reqwest::Client::new();
    // WHEN the request is built
    let request = build_request(
        client.get("https://auth.test/api/v2/token/get"),
        TokenAuth::Body,
        &values(&credentials, &code, &vars),
        &spec,
    )
    .unwrap()
    .build()
    .unwrap();
    // THEN it is a GET whose query carries exactly those fields, in order, and it has no body
    assert_eq!(request.method(), reqwest::Method::GET);
    assert_eq!(
        request.url().query(),
        Some(
            "app_key=app-key&app_secret=app-secret&auth_code=auth-c0de&grant_type=authorized_code"
        )
    );
    assert!(request.body().is_none());
}

#[test]
fn a_described_post_keeps_its_fields_in_the_body() {
    // GIVEN the same fields as a form POST (the method left out)
    let spec = described(&GET_NESTED.replace("method = \"get\"\n", ""));
    let credentials = ClientCredentials::new("app-key", Some(Secret::new("app-secret")));
    let code = Secret::new("auth-c0de");
    let vars = Vars::new();
    let request = build_request(
        reqwest::Client::new().post("https://auth.test/token"),
        TokenAuth::Body,
        &values(&credentials, &code, &vars),
        &spec,
    )
    .unwrap()
    .build()
    .unwrap();
    // THEN the URL has no query and the body is the form
    assert_eq!(request.url().query(), None);
    let body = request.body().and_then(|b| b.as_bytes()).unwrap();
    assert!(std::str::from_utf8(body)
        .unwrap()
        .contains("auth_code=auth-c0de"));
}

#[test]
fn a_described_get_written_as_json_is_refused() {
    // GIVEN a GET that says its fields are JSON (a GET has no body to hold them)
    let spec = described(&GET_NESTED.replace("json = false", "json = true"));
    // THEN the entry's check refuses it, naming why
    assert!(spec.check().unwrap_err().contains("json must be false"));
    assert!(described(GET_NESTED).check().is_ok());
}

#[test]
fn tokens_are_read_from_the_member_the_entry_names() {
    // GIVEN an answer whose tokens sit under `data`, with absolute epoch expiries
    let spec = described(GET_NESTED);
    let answer = json!({"code": 0, "message": "success", "data": {
        "access_token": "ROW_at", "access_token_expire_in": 1_900_000_000,
        "refresh_token": "ROW_rt", "refresh_token_expire_in": 1_930_000_000,
        "open_id": "7010736057180325637", "seller_name": "Acme"
    }});
    // WHEN the answer is read
    let tokens = read_tokens(&answer, &spec, Timestamp(1_800_000_000)).unwrap();
    // THEN the tokens, the expiry (an instant, not a duration) and the account are the data's
    assert_eq!(tokens.access_token.expose(), "ROW_at");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "ROW_rt");
    assert_eq!(tokens.expires_at, Some(Timestamp(1_900_000_000)));
    assert_eq!(tokens.account.as_deref(), Some("7010736057180325637"));
}

#[test]
fn an_answer_without_the_named_member_is_a_bad_response() {
    // GIVEN an answer with its tokens at the top, not under `data`
    let spec = described(GET_NESTED);
    let answer = json!({"code": 0, "access_token": "at"});
    // THEN it is not read as tokens
    assert!(matches!(
        read_tokens(&answer, &spec, Timestamp(0)),
        Err(OAuthError::BadResponse(_))
    ));
}

#[test]
fn a_non_zero_result_code_is_a_refusal_even_under_http_200() {
    // GIVEN the entry names the cart's result code
    let spec = described(GET_NESTED);
    // THEN 0 passes, another number is a refusal named by it (not by the message), and an
    // answer without a numeric code is a bad response
    assert!(check_result_code(&json!({"code": 0}), &spec).is_ok());
    let refused = check_result_code(
        &json!({"code": 36004004, "message": "auth code is invalid: c0de"}),
        &spec,
    );
    assert!(matches!(&refused, Err(OAuthError::Refused(c)) if c == "code_36004004"));
    assert!(matches!(
        check_result_code(&json!({"code": "0"}), &spec),
        Err(OAuthError::BadResponse(_))
    ));
    // AND an entry that names no result code checks none
    let plain = described(&GET_NESTED.replace("result_code = \"code\"\n", ""));
    assert!(check_result_code(&json!({"code": 7}), &plain).is_ok());
}

#[test]
fn a_result_code_the_entry_lists_as_refusing_the_grant_is_invalid_grant() {
    // GIVEN an entry listing 36004005 as a refusal of the grant
    let spec = described(&format!("{GET_NESTED}invalid_grant_codes = [36004005]\n"));
    // WHEN the cart answers that code, and another one
    let dead = check_result_code(&json!({"code": 36004005}), &spec);
    let other = check_result_code(&json!({"code": 36004004}), &spec);
    // THEN the first is invalid_grant and the other keeps its number
    assert!(matches!(&dead, Err(e) if e.is_invalid_grant()), "{dead:?}");
    assert!(matches!(&other, Err(OAuthError::Refused(c)) if c == "code_36004004"));
}

#[test]
fn invalid_grant_codes_without_a_result_code_are_refused_as_written() {
    // GIVEN codes listed where no result code is named
    let spec = described(&format!(
        "{}invalid_grant_codes = [1]\n",
        GET_NESTED.replace("result_code = \"code\"\n", "")
    ));
    // WHEN checked THEN it is refused: the codes would never be read
    assert!(spec.check().is_err());
}

#[test]
fn tiktok_shops_refresh_reads_an_unknown_refresh_token_as_invalid_grant() {
    // GIVEN the built-in TikTok Shop entry's refresh request
    let cart = crate::carts::builtin::get("tiktok-shop").unwrap();
    let TokenRequest::Described(spec) = &cart.refresh_request else {
        panic!("a described refresh")
    };
    // WHEN TikTok Shop refuses a refresh token it has no record of
    let refused = check_result_code(
        &json!({"code": 36004005, "message": "can not find related auth record"}),
        spec,
    );
    // THEN it is invalid_grant: the connection is marked for re-authorization, not retried
    assert!(
        matches!(&refused, Err(e) if e.is_invalid_grant()),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_unreachable_get_does_not_name_its_query() {
    // GIVEN a GET whose query carries the app secret and the code, to a port nobody serves
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/token/get?app_secret=s3cret-app&auth_code=c0de-42");
    // WHEN it is sent
    let err = post(reqwest::Client::new().get(url)).await.unwrap_err();
    // THEN the error says it was unreachable without repeating the URL's secrets
    let text = err.to_string();
    assert!(matches!(err, OAuthError::Unreachable(_)), "{text}");
    assert!(
        !text.contains("s3cret-app") && !text.contains("c0de-42"),
        "{text}"
    );
}

#[test]
fn a_request_with_its_own_url_goes_there_under_the_carts_host_rules() {
    // GIVEN TikTok Shop's refresh, which names its own endpoint beside the token endpoint
    let cart = crate::carts::builtin::get("tiktok-shop").unwrap();
    let TokenRequest::Described(spec) = cart.refresh_request.clone() else {
        panic!("a described refresh");
    };
    let token_url = Url::parse("https://auth.tiktok-shops.com/api/v2/token/get").unwrap();
    // THEN the refresh goes to its own endpoint, not the token endpoint
    assert_eq!(
        own_url(&spec, &cart, &Vars::new(), &token_url)
            .unwrap()
            .as_str(),
        "https://auth.tiktok-shops.com/api/v2/token/refresh"
    );
    // AND an endpoint on a host the entry does not allow is refused before any call
    let mut forged = spec.clone();
    forged.url = Some("https://evil.test/api/v2/token/refresh".into());
    assert!(matches!(
        own_url(&forged, &cart, &Vars::new(), &token_url),
        Err(OAuthError::BadResponse(_))
    ));
    // AND a request without one goes to the token endpoint
    forged.url = None;
    assert_eq!(
        own_url(&forged, &cart, &Vars::new(), &token_url).unwrap(),
        token_url
    );
}
