//! Admin integrations (Magento / Adobe Commerce, OAuth 1.0a). The merchant creates an
//! integration in their admin with the Callback URL and Identity link URL the grant page gave
//! them; both carry the attempt's one-time nonce (its `state`). On activation the store posts
//! the consumer key and secret, a verifier and its base URL to the Callback URL, unsigned,
//! server to server. So the delivery is taken only for a pending attempt of that nonce and cart
//! whose invite is still granting, with credentials of the shape the store mints, from the very
//! store the invite names; only then does cartlink call that store for a request token and the
//! access token, seal all four values and commit. The Identity link page only reports.

use url::Url;

use super::callback::{refused, Authorized, CallbackError};
use super::Services;
use crate::carts::{
    host_port, pattern_matches, CartId, CartSpec, Flavour, OAuth1Spec, TokenRequest,
};
use crate::domain::{AttemptStatus, GrantAttempt, GrantState, Invite, Refusal, Secret, TokenSet};
use crate::oauth::OAuth1Call;

/// The form fields the store posts to the Callback URL.
const FIELDS: [&str; 4] = [
    "oauth_consumer_key",
    "oauth_consumer_secret",
    "oauth_verifier",
    "store_base_url",
];

/// Where the attempt behind an Identity link stands.
#[derive(Debug)]
pub enum IdentityOutcome {
    /// This attempt stored the connection. `success_call_back` is where the store asked the
    /// browser to go, kept only when it is https on the invite's own store host.
    Connected {
        /// The invite, now authorized.
        invite: Box<Invite>,
        /// The store's `success_call_back`, if it is safe to send the browser there.
        success_call_back: Option<String>,
    },
    /// The store has not delivered (or we have not finished with) the credentials yet.
    Pending,
    /// The attempt ended without a connection.
    Failed,
}

/// The integration's credentials as the store posted them.
struct DeliveredCredentials {
    consumer_key: Secret,
    consumer_secret: Secret,
    verifier: Secret,
    /// The store's base URL, as posted (not yet cleaned).
    base_url: String,
}

/// Reads the posted form: each of the four fields once, none empty, and the key, secret and
/// verifier shaped as the store mints them.
fn delivered_credentials(
    spec: &OAuth1Spec,
    body: &[u8],
) -> Result<DeliveredCredentials, CallbackError> {
    let mut form = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if FIELDS.contains(&k.as_ref()) && form.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(refused(Refusal::IntegrationMalformed));
        }
    }
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty());
    let (Some(key), Some(secret), Some(verifier), Some(base_url)) = (
        field("oauth_consumer_key"),
        field("oauth_consumer_secret"),
        field("oauth_verifier"),
        field("store_base_url"),
    ) else {
        return Err(refused(Refusal::IntegrationIncomplete));
    };
    if ![key, secret, verifier]
        .iter()
        .all(|v| pattern_matches(&spec.credential_pattern, v))
    {
        return Err(refused(Refusal::IntegrationMalformed));
    }
    Ok(DeliveredCredentials {
        consumer_key: Secret::new(key.as_str()),
        consumer_secret: Secret::new(secret.as_str()),
        verifier: Secret::new(verifier.as_str()),
        base_url: base_url.clone(),
    })
}

/// The store's request-token and access-token endpoints, once the posted base URL (cleaned) is
/// shown to be the invite's store. The calls go to the invite's store through the catalog's
/// host rules.
fn integration_endpoints(
    cart: &CartSpec,
    spec: &OAuth1Spec,
    attempt: &GrantAttempt,
    base_url: &str,
) -> Result<(Url, Url), CallbackError> {
    let input = cart
        .input
        .as_ref()
        .ok_or_else(|| refused(Refusal::IntegrationStoreUnknown))?;
    match input.validate(base_url) {
        Ok(clean) if Some(&clean) == attempt.store.as_ref() => {}
        _ => return Err(refused(Refusal::StoreMismatch)),
    }
    let vars = cart.input_vars(attempt.store.as_deref());
    match (
        cart.endpoint(&spec.request_token_url, &vars),
        cart.endpoint(&cart.token_url, &vars),
    ) {
        (Ok(r), Ok(a)) => Ok((r, a)),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(cart = %cart.id, error = %e, "integration endpoint refused");
            Err(refused(Refusal::TokenEndpointRefused))
        }
    }
}

impl Services {
    fn integration_cart(&self, cart: &str) -> Result<(&CartSpec, &OAuth1Spec), CallbackError> {
        let cart = CartId::parse(cart)
            .and_then(|id| self.catalog.get(&id))
            .filter(|c| c.flavour == Flavour::AdminIntegration)
            .ok_or_else(|| refused(Refusal::UnknownCart))?;
        match &cart.token_request {
            TokenRequest::OAuth1(spec) => Ok((cart, spec)),
            _ => Err(refused(Refusal::UnknownCart)),
        }
    }

    /// Receives an integration's credentials posted by the store to
    /// `/oauth/integration/{cart}/{nonce}` (form-encoded). Checks, in order, before anything is
    /// sent anywhere: the cart takes admin integrations, the nonce names an attempt of this
    /// cart, its invite is not connected, not expired and granting, the attempt is open and in
    /// time, the four fields are present and shaped, and `store_base_url` (cleaned) is the
    /// invite's store. Then asks that store for a request token and the access token, and only
    /// if both come back seals {access token, token secret, consumer key, consumer secret} and
    /// commits. The attempt is claimed before the first call, so an activation posted twice at
    /// once calls the store once: the other post answers as [`Services::receive_keys`] says. A
    /// failed token call closes the attempt as failed and emails the merchant.
    pub async fn receive_integration(
        &self,
        cart: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<Authorized, CallbackError> {
        let now = self.clock.now();
        let (cart, spec) = self.integration_cart(cart)?;
        let state = GrantState::parse(nonce).ok_or_else(|| refused(Refusal::NonceUnknown))?;
        let (attempt, invite) = self
            .attempt_for(cart, &state, Refusal::NonceUnknown)
            .await?;
        let stale = [Refusal::NonceExpired, Refusal::NonceUsed];
        if attempt.status == AttemptStatus::Exchanging {
            return Err(self.delivery_outcome(&attempt.state_hash, stale).await);
        }
        self.ensure_completable(&attempt, &invite, now, stale)
            .await?;
        let delivered = delivered_credentials(spec, body)?;
        let (request_url, access_url) =
            integration_endpoints(cart, spec, &attempt, &delivered.base_url)?;
        // Two calls to the store: the request token, then the access token.
        if !self.claim(&attempt, now, 2).await? {
            return Err(self.delivery_outcome(&attempt.state_hash, stale).await);
        }
        let tokens = self
            .oauth1_tokens(&request_url, &access_url, &delivered)
            .await;
        let (token, token_secret) = match tokens {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, cart = %cart.id, error = %e, reason = "oauth1_failed", "integration token calls failed");
                return Err(self
                    .failed_at_cart(&attempt, &invite, now, e.to_string())
                    .await);
            }
        };
        let tokens = TokenSet {
            access_token: token,
            refresh_token: None,
            expires_at: None,
            issued_at: None,
            scope: None,
            account: None,
            key_secret: Some(token_secret),
            consumer_key: Some(delivered.consumer_key),
            consumer_secret: Some(delivered.consumer_secret),
        };
        self.seal_and_commit(cart, &attempt, &invite, tokens, None, now)
            .await
    }

    /// The request token, then the access token for it and the delivered verifier, both signed
    /// with the delivered consumer key and secret.
    async fn oauth1_tokens(
        &self,
        request_url: &Url,
        access_url: &Url,
        delivered: &DeliveredCredentials,
    ) -> Result<(Secret, Secret), crate::oauth::OAuthError> {
        let request = self
            .oauth
            .oauth1_token(OAuth1Call {
                url: request_url,
                consumer_key: &delivered.consumer_key,
                consumer_secret: &delivered.consumer_secret,
                token: None,
                verifier: None,
                now: self.clock.now(),
            })
            .await?;
        let access = self
            .oauth
            .oauth1_token(OAuth1Call {
                url: access_url,
                consumer_key: &delivered.consumer_key,
                consumer_secret: &delivered.consumer_secret,
                token: Some((&request.token, &request.secret)),
                verifier: Some(&delivered.verifier),
                now: self.clock.now(),
            })
            .await?;
        Ok((access.token, access.secret))
    }

    /// Where the attempt behind an Identity link (`/oauth/identity/{cart}/{nonce}`) stands.
    /// Reads only. `success_call_back` is passed on only when this attempt stored the
    /// connection and it is an https URL on the invite's own store host (no open redirect).
    pub async fn integration_identity(
        &self,
        cart: &str,
        nonce: &str,
        success_call_back: Option<&str>,
    ) -> Result<IdentityOutcome, CallbackError> {
        let (cart, _) = self.integration_cart(cart)?;
        let state = GrantState::parse(nonce).ok_or_else(|| refused(Refusal::NonceUnknown))?;
        let (attempt, invite) = self
            .attempt_for(cart, &state, Refusal::NonceUnknown)
            .await?;
        Ok(match attempt.effective_status(self.clock.now()) {
            AttemptStatus::Completed if invite.status.is_connected() => {
                let store_host = cart
                    .input_vars(attempt.store.as_deref())
                    .remove("store_host");
                let success_call_back = success_call_back
                    .and_then(|raw| Url::parse(raw).ok())
                    .filter(|u| {
                        u.scheme() == "https"
                            && u.username().is_empty()
                            && u.password().is_none()
                            && store_host.is_some()
                            && host_port(u) == store_host
                    })
                    .map(String::from);
                IdentityOutcome::Connected {
                    invite: Box::new(invite),
                    success_call_back,
                }
            }
            AttemptStatus::Exchanging => IdentityOutcome::Pending,
            AttemptStatus::Open if attempt.usable(self.clock.now()) => IdentityOutcome::Pending,
            _ => IdentityOutcome::Failed,
        })
    }
}

#[cfg(test)]
mod tests;
