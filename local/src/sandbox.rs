//! The sandbox cart: a small OAuth 2.0 authorization server inside the local server, at
//! `/sandbox-cart/`, so the whole flow runs offline with no cart account. It has a plain HTML
//! login and consent form (no JavaScript) for a demo merchant, issues one-time codes bound to
//! the redirect URI and the PKCE S256 challenge, and checks client credentials at its token
//! endpoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{Method, StatusCode};
use maud::html;
use sha2::{Digest, Sha256};
use shared::carts::{CartId, CartSpec, ClientCredentials, Pkce, TokenAuth};
use shared::domain::secrets::{constant_time_eq, random_token};
use shared::domain::{Function, Secret};
use shared::web::page::layout;
use shared::web::{self, Request, Response};
use url::Url;

/// The demo merchant's login.
pub const DEMO_USER: &str = "demo-merchant";
/// The demo merchant's password.
pub const DEMO_PASSWORD: &str = "demo";
/// The sandbox's client id.
pub const CLIENT_ID: &str = "cartlink-local";
const CODE_TTL: Duration = Duration::from_secs(120);

struct IssuedCode {
    redirect_uri: String,
    challenge: String,
    scope: String,
    issued: Instant,
}

/// The sandbox cart.
pub struct Sandbox {
    base: String,
    redirect_uri: String,
    client_secret: Secret,
    codes: Mutex<HashMap<String, IssuedCode>>,
}

fn page(base: &str, status: StatusCode, title: &str, body: maud::Markup) -> Response {
    web::html(status, layout(base, title, body, &[]), &[])
}

fn token_error(status: StatusCode, error: &str) -> Response {
    web::json(status, &serde_json::json!({ "error": error }))
}

impl Sandbox {
    /// A sandbox served under `<base>/sandbox-cart/`, for the cartlink at `base`.
    pub fn new(base: &str) -> Self {
        Sandbox {
            base: base.to_owned(),
            redirect_uri: format!("{base}/oauth/callback/sandbox"),
            client_secret: Secret::new(random_token()),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog entry of the sandbox cart; its token endpoint is reached at `token_origin`
    /// (the local listener).
    pub fn cart_spec(&self, token_origin: &str) -> CartSpec {
        let mut cart = CartSpec::generic(
            CartId::new("sandbox"),
            "Sandbox Cart",
            &Url::parse(&format!("{}/sandbox-cart/authorize", self.base))
                .expect("the base URL was validated"),
            &Url::parse(&format!("{token_origin}/sandbox-cart/token"))
                .expect("the listen address is a valid origin"),
            TokenAuth::Body,
            Pkce::Required,
            BTreeMap::from([
                (Function::Orders, vec!["orders:read".into()]),
                (Function::Inventory, vec!["inventory:write".into()]),
                (Function::Shipments, vec!["fulfillments:write".into()]),
            ]),
        );
        cart.credentials = Some(ClientCredentials::new(
            CLIENT_ID,
            Some(self.client_secret.clone()),
        ));
        cart
    }

    /// Handles `/sandbox-cart/*`.
    pub async fn handle(&self, req: &Request) -> Response {
        match (req.segments().as_slice(), &req.method) {
            (["sandbox-cart", "authorize"], &Method::GET) => {
                self.login_page(&req.query_params(), None)
            }
            (["sandbox-cart", "authorize"], &Method::POST) => self.decide(&req.form()),
            (["sandbox-cart", "token"], &Method::POST) => self.token(req),
            _ => page(
                &self.base,
                StatusCode::NOT_FOUND,
                "Not found",
                html! { h1 { "Not found" } },
            ),
        }
    }

    fn check_request(&self, p: &HashMap<String, String>) -> Result<(), &'static str> {
        if p.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return Err("unknown client_id");
        }
        if p.get("redirect_uri") != Some(&self.redirect_uri) {
            return Err("redirect_uri is not the registered one");
        }
        if p.get("response_type").map(String::as_str) != Some("code") {
            return Err("response_type must be code");
        }
        if p.get("code_challenge_method").map(String::as_str) != Some("S256")
            || p.get("code_challenge").is_none_or(|c| c.len() != 43)
        {
            return Err("a PKCE S256 code_challenge is required");
        }
        if p.get("state").is_none_or(|s| s.is_empty()) {
            return Err("state is required");
        }
        Ok(())
    }

    fn login_page(&self, p: &HashMap<String, String>, error: Option<&str>) -> Response {
        if let Err(why) = self.check_request(p) {
            return page(
                &self.base,
                StatusCode::BAD_REQUEST,
                "Sandbox Cart: bad request",
                html! {
                    h1 { "Sandbox Cart cannot sign you in" }
                    p { "The app sent an invalid request: " (why) "." }
                },
            );
        }
        let scope = p.get("scope").cloned().unwrap_or_default();
        let hidden = [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        ];
        page(
            &self.base,
            StatusCode::OK,
            "Sign in to Sandbox Cart",
            html! {
                h1 { "Sign in to Sandbox Cart" }
                p class="help" { "A stand-in for a real cart, for local runs. Demo login: " code { (DEMO_USER) } " / " code { (DEMO_PASSWORD) } "." }
                @if let Some(e) = error { p class="error" role="alert" { (e) } }
                form method="post" action={ (self.base) "/sandbox-cart/authorize" } class="stack" {
                    @for name in hidden {
                        @if let Some(v) = p.get(name) { input type="hidden" name=(name) value=(v); }
                    }
                    label for="username" { "Username" }
                    input id="username" name="username" type="text" value=(DEMO_USER) autocomplete="username" required;
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    p { "cartlink asks for: " strong { (scope) } }
                    button type="submit" name="decision" value="allow" class="primary" { "Allow access" }
                    button type="submit" name="decision" value="deny" formnovalidate { "Deny" }
                }
            },
        )
    }

    fn decide(&self, f: &HashMap<String, String>) -> Response {
        if let Err(why) = self.check_request(f) {
            return page(
                &self.base,
                StatusCode::BAD_REQUEST,
                "Sandbox Cart: bad request",
                html! {
                    h1 { "Sandbox Cart cannot sign you in" } p { (why) }
                },
            );
        }
        let mut back = Url::parse(&self.redirect_uri).expect("validated");
        let state = f.get("state").cloned().unwrap_or_default();
        if f.get("decision").map(String::as_str) != Some("allow") {
            back.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("state", &state);
            return web::see_other(back.as_str());
        }
        let password_ok = constant_time_eq(
            f.get("password").map(String::as_bytes).unwrap_or_default(),
            DEMO_PASSWORD.as_bytes(),
        );
        if f.get("username").map(String::as_str) != Some(DEMO_USER) || !password_ok {
            return self.login_page(f, Some("Wrong username or password."));
        }
        let code = random_token();
        let mut codes = self.codes.lock().expect("sandbox lock");
        codes.retain(|_, c| c.issued.elapsed() < CODE_TTL);
        codes.insert(
            code.clone(),
            IssuedCode {
                redirect_uri: self.redirect_uri.clone(),
                challenge: f.get("code_challenge").cloned().unwrap_or_default(),
                scope: f.get("scope").cloned().unwrap_or_default(),
                issued: Instant::now(),
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
        web::see_other(back.as_str())
    }

    fn token(&self, req: &Request) -> Response {
        let f = req.form();
        let secret_ok = f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && constant_time_eq(
                f.get("client_secret")
                    .map(String::as_bytes)
                    .unwrap_or_default(),
                self.client_secret.expose().as_bytes(),
            );
        if !secret_ok {
            return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
        }
        if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
        }
        let issued = f
            .get("code")
            .and_then(|c| self.codes.lock().expect("sandbox lock").remove(c));
        let Some(issued) = issued.filter(|c| c.issued.elapsed() < CODE_TTL) else {
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
        };
        let verifier = f.get("code_verifier").cloned().unwrap_or_default();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if f.get("redirect_uri") != Some(&issued.redirect_uri)
            || !constant_time_eq(challenge.as_bytes(), issued.challenge.as_bytes())
        {
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
        web::json(
            StatusCode::OK,
            &serde_json::json!({
                "access_token": format!("sbx_at_{}", random_token()),
                "refresh_token": format!("sbx_rt_{}", random_token()),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": issued.scope,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn form(path: &str, pairs: &[(&str, &str)]) -> Request {
        let mut req = Request::new(Method::POST, path);
        req.headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        req.body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into();
        req
    }

    fn auth_params(challenge: &str) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", CLIENT_ID.into()),
            (
                "redirect_uri",
                "http://127.0.0.1:3000/oauth/callback/sandbox".into(),
            ),
            ("response_type", "code".into()),
            ("scope", "orders:read".into()),
            ("state", "S".into()),
            ("code_challenge", challenge.into()),
            ("code_challenge_method", "S256".into()),
        ]
    }

    async fn code_for(sb: &Sandbox, challenge: &str) -> String {
        let mut pairs: Vec<(&str, String)> = auth_params(challenge);
        pairs.extend([
            ("username", DEMO_USER.into()),
            ("password", DEMO_PASSWORD.into()),
            ("decision", "allow".into()),
        ]);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = sb.handle(&form("/sandbox-cart/authorize", &pairs)).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let loc = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        loc.query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    #[tokio::test]
    async fn a_code_is_exchanged_once_with_the_right_verifier_and_secret() {
        // GIVEN a sandbox and a code issued for a challenge
        let sb = Sandbox::new("http://127.0.0.1:3000");
        let verifier = "v".repeat(43);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let secret = sb.client_secret.expose().to_owned();
        let code = code_for(&sb, &challenge).await;
        let token_req = |code: &str, verifier: &str, secret: &str| {
            form(
                "/sandbox-cart/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("client_id", CLIENT_ID),
                    ("client_secret", secret),
                    ("code_verifier", verifier),
                    (
                        "redirect_uri",
                        "http://127.0.0.1:3000/oauth/callback/sandbox",
                    ),
                ],
            )
        };
        // THEN a wrong secret is invalid_client, and the code still works after it
        assert_eq!(
            sb.handle(&token_req(&code, &verifier, "wrong"))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        // AND the right request gets tokens, once
        let ok = sb.handle(&token_req(&code, &verifier, &secret)).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(ok.body()).unwrap();
        assert!(v["access_token"].as_str().unwrap().starts_with("sbx_at_"));
        assert_eq!(
            sb.handle(&token_req(&code, &verifier, &secret))
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
        // AND a wrong verifier is invalid_grant
        let code2 = code_for(&sb, &challenge).await;
        assert_eq!(
            sb.handle(&token_req(&code2, &"w".repeat(43), &secret))
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn deny_sends_access_denied_and_bad_requests_are_not_redirected() {
        let sb = Sandbox::new("http://127.0.0.1:3000");
        let mut pairs = auth_params(&"c".repeat(43));
        pairs.push(("decision", "deny".into()));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = sb.handle(&form("/sandbox-cart/authorize", &pairs)).await;
        let loc = resp.headers()["location"].to_str().unwrap();
        assert!(loc.contains("error=access_denied") && loc.contains("state=S"));
        let bad = Request::new(Method::GET, "/sandbox-cart/authorize?client_id=cartlink-local&redirect_uri=https%3A%2F%2Fevil.example%2F");
        let resp = sb.handle(&bad).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.headers().get("location").is_none());
    }
}
