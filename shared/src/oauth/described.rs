//! Token requests the `oauth2` crate does not fit, made as the catalog describes them over the
//! same HTTP client: JSON bodies (Shopify, Square, Squarespace), partner headers (Walmart), GETs
//! with the fields in the query (TikTok Shop), and answers without `token_type`, with other
//! fields (Shopify's, Square's `expires_at` date, Ecwid's `store_id`), or nested under a member
//! beside the cart's own result code (TikTok Shop's `data` and `code`).

use serde_json::{Map, Value};

use url::Url;

use super::{CodeExchange, OAuthError, RefreshCall};
use crate::carts::{
    CartSpec, ClientCredentials, DescribedRequest, Expiry, Field, RequestMethod, TokenAuth, Vars,
};
use crate::domain::secrets::random_token;
use crate::domain::{PkceVerifier, Secret, Timestamp, TokenSet};

/// What a described request's fields are filled from: a code exchange or a refresh.
struct Values<'a> {
    credentials: &'a ClientCredentials,
    code: Option<&'a Secret>,
    redirect_uri: Option<&'a str>,
    verifier: Option<&'a PkceVerifier>,
    refresh_token: Option<&'a Secret>,
    scopes: &'a [String],
    vars: &'a Vars,
}

impl<'a> Values<'a> {
    fn of_exchange(x: &'a CodeExchange<'a>) -> Self {
        Values {
            credentials: x.credentials,
            code: x.code,
            redirect_uri: Some(x.redirect_uri),
            verifier: x.verifier,
            refresh_token: None,
            scopes: &[],
            vars: x.vars,
        }
    }

    fn of_refresh(r: &'a RefreshCall<'a>) -> Self {
        Values {
            credentials: r.credentials,
            code: None,
            redirect_uri: None,
            verifier: None,
            refresh_token: r.refresh_token,
            scopes: r.scopes,
            vars: r.vars,
        }
    }
}

fn missing(what: &str) -> OAuthError {
    OAuthError::BadResponse(format!("no value for {what}"))
}

fn value(x: &Values<'_>, field: &Field) -> Result<Option<String>, OAuthError> {
    Ok(match field {
        Field::Lit(v) => Some(v.clone()),
        Field::ClientId => Some(x.credentials.client_id.clone()),
        Field::ClientSecret => x
            .credentials
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned()),
        Field::Code => Some(x.code.ok_or_else(|| missing("code"))?.expose().to_owned()),
        Field::RedirectUri => Some(
            x.redirect_uri
                .ok_or_else(|| missing("redirect_uri"))?
                .to_owned(),
        ),
        Field::CodeVerifier => x.verifier.map(|v| v.expose().to_owned()),
        Field::RefreshToken => Some(
            x.refresh_token
                .ok_or_else(|| missing("refresh_token"))?
                .expose()
                .to_owned(),
        ),
        Field::Scopes => (!x.scopes.is_empty()).then(|| x.scopes.join(" ")),
        Field::Var(name) => Some(x.vars.get(name).cloned().ok_or_else(|| missing(name))?),
        Field::Correlation => Some(random_token()),
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A short, plain error code from a refusal body (`error`, Square's `errors[0].code`), never
/// the body itself.
fn error_code(body: &Value, status: u16) -> String {
    let raw = body
        .get("error")
        .and_then(Value::as_str)
        .or_else(|| {
            body.get("errors")
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http_{status}"));
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

/// Sends the described code exchange and reads the answer as the entry says.
pub async fn exchange(
    client: &reqwest::Client,
    x: &CodeExchange<'_>,
    spec: &DescribedRequest,
) -> Result<TokenSet, OAuthError> {
    let auth = spec.auth.unwrap_or(x.cart.token_auth);
    send(
        client,
        &own_url(spec, x.cart, x.vars, x.token_url)?,
        auth,
        &Values::of_exchange(x),
        spec,
        x.now,
    )
    .await
}

/// Sends the described refresh and reads the answer as the entry says.
pub async fn refresh(
    client: &reqwest::Client,
    r: &RefreshCall<'_>,
    spec: &DescribedRequest,
) -> Result<TokenSet, OAuthError> {
    let auth = spec.auth.unwrap_or(r.cart.token_auth);
    send(
        client,
        &own_url(spec, r.cart, r.vars, r.token_url)?,
        auth,
        &Values::of_refresh(r),
        spec,
        r.now,
    )
    .await
}

/// Where the request goes: its own endpoint where the entry names one, built under the
/// cart's host rules from the same validated values, else the token endpoint.
fn own_url(
    spec: &DescribedRequest,
    cart: &CartSpec,
    vars: &Vars,
    token_url: &Url,
) -> Result<Url, OAuthError> {
    match &spec.url {
        Some(template) => cart
            .endpoint(template, vars)
            .map_err(|e| OAuthError::BadResponse(format!("the request's endpoint: {e}"))),
        None => Ok(token_url.clone()),
    }
}

async fn send(
    client: &reqwest::Client,
    url: &Url,
    auth: TokenAuth,
    x: &Values<'_>,
    spec: &DescribedRequest,
    now: Timestamp,
) -> Result<TokenSet, OAuthError> {
    let request = match spec.method {
        RequestMethod::Post => client.post(url.clone()),
        RequestMethod::Get => client.get(url.clone()),
    };
    let json = post(build_request(request, auth, x, spec)?).await?;
    check_result_code(&json, spec)?;
    read_tokens(&json, spec, now)
}

/// The cart's own result code, where the entry names one: `0` is success, one the entry lists
/// as refusing the grant is `invalid_grant`, anything else a refusal named by its number
/// (never the answer's message).
fn check_result_code(json: &Value, spec: &DescribedRequest) -> Result<(), OAuthError> {
    let Some(member) = &spec.result_code else {
        return Ok(());
    };
    match json.get(member).and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) if spec.invalid_grant_codes.contains(&code) => {
            Err(OAuthError::Refused("invalid_grant".into()))
        }
        Some(code) => Err(OAuthError::Refused(format!("{member}_{code}"))),
        None => Err(OAuthError::BadResponse(format!("no numeric {member}"))),
    }
}

/// The request as the entry describes it: its fields (as a form, a JSON object, or a GET's
/// query), its headers, and the client's credentials in Basic auth where the cart takes them so.
fn build_request(
    mut request: reqwest::RequestBuilder,
    auth: TokenAuth,
    x: &Values<'_>,
    spec: &DescribedRequest,
) -> Result<reqwest::RequestBuilder, OAuthError> {
    let mut body: Vec<(String, String)> = Vec::new();
    for (name, field) in &spec.fields {
        if let Some(v) = value(x, field)? {
            body.push((name.clone(), v));
        }
    }
    for (name, field) in &spec.headers {
        if let Some(v) = value(x, field)? {
            request = request.header(name.as_str(), v);
        }
    }
    if auth == TokenAuth::Basic {
        request = request.basic_auth(
            &x.credentials.client_id,
            x.credentials.client_secret.as_ref().map(Secret::expose),
        );
    }
    Ok(if spec.method == RequestMethod::Get {
        request.query(&body)
    } else if spec.json {
        let map: Map<String, Value> = body
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        request.json(&map)
    } else {
        request.form(&body)
    })
}

/// Sends the request and answers the JSON of a successful answer. A redirect is never
/// followed; a refusal answers its short error code, never its body.
pub(super) async fn post(request: reqwest::RequestBuilder) -> Result<Value, OAuthError> {
    let response = request
        .send()
        .await
        // Without the URL: a GET's query holds the app secret and the code.
        .map_err(|e| OAuthError::Unreachable(crate::net::describe(&e.without_url())))?;
    let status = response.status();
    if status.is_redirection() {
        return Err(OAuthError::Unreachable(format!(
            "the token endpoint redirected ({status}); redirects are never followed"
        )));
    }
    let bytes = crate::net::read_bounded(response, super::MAX_TOKEN_ANSWER).await?;
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(OAuthError::Refused(error_code(&json, status.as_u16())));
    }
    Ok(json)
}

/// The tokens of a successful answer, read from the fields the entry names (in the member
/// that holds them, where the entry names one).
fn read_tokens(
    answer: &Value,
    spec: &DescribedRequest,
    now: Timestamp,
) -> Result<TokenSet, OAuthError> {
    let json = match &spec.answer_in {
        Some(member) => answer
            .get(member)
            .ok_or_else(|| OAuthError::BadResponse(format!("no {member}")))?,
        None => answer,
    };
    let access_token = json
        .get("access_token")
        .and_then(text)
        .ok_or_else(|| OAuthError::BadResponse("no access_token".into()))?;
    let field = |name: &Option<String>| name.as_ref().and_then(|n| json.get(n)).and_then(text);
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token: field(&spec.refresh_token).map(Secret::new),
        expires_at: expiry(json, &spec.expiry, now)?,
        issued_at: Some(now),
        scope: json.get("scope").and_then(text),
        account: field(&spec.account),
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    })
}

/// When the answered access token expires, read as the entry says the cart gives it.
fn expiry(json: &Value, expiry: &Expiry, now: Timestamp) -> Result<Option<Timestamp>, OAuthError> {
    Ok(match expiry {
        Expiry::InSecs(f) => json
            .get(f)
            .and_then(Value::as_i64)
            .map(|secs| now.plus_secs(secs)),
        Expiry::AtRfc3339(f) => json
            .get(f)
            .and_then(Value::as_str)
            .map(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map(|t| Timestamp(t.unix_timestamp()))
                    .map_err(|_| OAuthError::BadResponse(format!("{f} is not a date")))
            })
            .transpose()?,
        Expiry::AtEpochSecs(f) => json
            .get(f)
            .and_then(Value::as_f64)
            .map(|s| Timestamp(s as i64)),
        Expiry::None => None,
    })
}

#[cfg(test)]
mod tests;
