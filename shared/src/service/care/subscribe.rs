//! Care's step for a cart that tells an app of an uninstall only through a subscription made
//! per site with the merchant's own token (Squarespace's `extension.uninstall`, the entry's
//! `uninstall_subscription`): after each grant of such a connection, care makes sure cartlink
//! holds a subscription at the connection's site whose secret it can read, then records that on
//! the connection ([`Connection::subscribed_at`], which takes it off the schedule).
//!
//! The cart shows a subscription's secret once, at creation or rotation. A run that dies after
//! the cart created one and before its secret was stored leaves a subscription cartlink cannot
//! verify with: the next run finds it in the site's list by its `endpointUrl` and rotates its
//! secret (the old one stops working), so a site never holds two of cartlink's. Connections at
//! one site (two warehouses) share its subscription; runs for them take turns under a lease on
//! the site, and a secret stored after a connection's grant serves it without a call.

use serde_json::{json, Value};

use super::CareError;
use crate::carts::{CartSpec, UninstallSubscription, Vars};
use crate::domain::secrets::random_token;
use crate::domain::{CartSubscription, Connection, Secret};
use crate::oauth::OAuthError;
use crate::service::refresh::RefreshWhy;
use crate::service::Services;
use crate::store::StoreError;
use crate::vault::VaultError;

/// How long one run holds a site's subscription lease at most (three calls to the cart).
const SUBSCRIBE_LEASE_SECS: i64 = 60;

/// Why the subscription was not made sure of; the connection stays due.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The cart refused a call, failed, or could not be reached.
    #[error("the cart: {0}")]
    Cart(#[from] OAuthError),
    /// The cart's answer lacks what the step needs (its id or secret).
    #[error("the cart's answer has no usable {0}")]
    BadAnswer(&'static str),
    /// The endpoint could not be built (a host the entry does not allow).
    #[error("the endpoint: {0}")]
    Endpoint(#[from] crate::carts::EndpointError),
    /// The key service could not seal the secret.
    #[error("the key service: {0}")]
    Vault(#[from] VaultError),
}

/// An id of the cart's that goes into a URL path: short, letters, digits and dashes.
fn subscription_id(raw: Option<&Value>) -> Result<String, SubscribeError> {
    raw.and_then(Value::as_str)
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .ok_or(SubscribeError::BadAnswer("id"))
}

/// A secret as the cart documents it: hex digits (of a usable length).
fn secret_of(answer: &Value) -> Result<Secret, SubscribeError> {
    answer
        .get("secret")
        .and_then(Value::as_str)
        .filter(|s| (32..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(Secret::new)
        .ok_or(SubscribeError::BadAnswer("secret"))
}

/// The id of cartlink's own subscription in a site's list, found by its `endpointUrl`.
fn ours_in(list: &Value, endpoint_url: &str) -> Result<Option<String>, SubscribeError> {
    let Some(listed) = list.get("webhookSubscriptions").and_then(Value::as_array) else {
        return Err(SubscribeError::BadAnswer("webhookSubscriptions"));
    };
    listed
        .iter()
        .find(|s| s.get("endpointUrl").and_then(Value::as_str) == Some(endpoint_url))
        .map(|s| subscription_id(s.get("id")))
        .transpose()
}

impl Services {
    /// Makes sure of `connection`'s site subscription when it owes one now
    /// ([`Connection::subscribe_care_at`]); answers the connection as stored after (a refresh
    /// for the call may have rotated its tokens). Another run holding the site's lease leaves
    /// it due for the next run.
    pub(super) async fn subscribe_if_owed(
        &self,
        connection: Connection,
    ) -> Result<Connection, CareError> {
        let limits = self.care_limits(&connection.cart);
        let now = self.clock.now();
        if connection
            .subscribe_care_at(&limits)
            .is_none_or(|at| at > now)
        {
            return Ok(connection);
        }
        let (Some(cart), Some(account)) = (
            self.catalog.get(&connection.cart),
            connection.account.clone(),
        ) else {
            // Not owed (`subscribe_care_at`) or a cart gone from the catalog: nothing to do.
            return Ok(connection);
        };
        let Some(subscription) = cart.uninstall_subscription.clone() else {
            return Ok(connection);
        };
        let lease = format!("subscribe:{}:{account}", connection.cart);
        let owner = random_token();
        if !self
            .store
            .take_lease(&lease, &owner, now, SUBSCRIBE_LEASE_SECS)
            .await?
        {
            return Ok(connection);
        }
        let made = self
            .subscribe_under_lease(connection, cart, &subscription, &account)
            .await;
        if let Err(e) = self.store.release_lease(&lease, &owner).await {
            // It expires on its own.
            tracing::warn!(error = %e, "subscription lease not released");
        }
        let mut connection = made?;
        let at = self.clock.now();
        match self
            .store
            .record_subscribed(&connection.id, at, connection.version)
            .await
        {
            Ok(()) => connection.subscribed_at = Some(at),
            // A write since the read: the next run finds the secret stored and records it then.
            Err(StoreError::Conflict(_)) | Err(StoreError::Missing(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(connection)
    }

    /// Stores the site's subscription secret unless one stored since the connection's grant
    /// serves: rotates the secret of cartlink's subscription found in the site's list, or
    /// creates one.
    async fn subscribe_under_lease(
        &self,
        connection: Connection,
        cart: &CartSpec,
        subscription: &UninstallSubscription,
        account: &str,
    ) -> Result<Connection, CareError> {
        let stored = self.store.cart_subscription(&cart.id, account).await?;
        if stored.is_some_and(|s| s.stored_at >= connection.granted()) {
            return Ok(connection);
        }
        let open = self
            .freshen(self.open_stored(connection).await?, RefreshWhy::Expiry)
            .await?;
        let token = &open.tokens.access_token;
        let url = cart
            .endpoint(&subscription.url, &Vars::new())
            .map_err(SubscribeError::from)?;
        let endpoint_url = format!(
            "{}{}",
            self.config.public_base_url.trim_end_matches('/'),
            subscription.route
        );
        let listed = self
            .oauth
            .get_json(&url, token, None)
            .await
            .map_err(SubscribeError::from)?;
        let (id, answer) = match ours_in(&listed, &endpoint_url)? {
            Some(id) => {
                let rotate = format!("{}/{id}/actions/rotateSecret", subscription.url);
                let rotate = cart
                    .endpoint(&rotate, &Vars::new())
                    .map_err(SubscribeError::from)?;
                let answer = self.oauth.post_json(&rotate, token, None).await;
                tracing::info!(connection_id = %open.connection.id, "site subscription found without its secret; secret rotated");
                (id, answer.map_err(SubscribeError::from)?)
            }
            None => {
                let body = json!({"endpointUrl": endpoint_url, "topics": [subscription.topic]});
                let answer = self
                    .oauth
                    .post_json(&url, token, Some(&body))
                    .await
                    .map_err(SubscribeError::from)?;
                tracing::info!(connection_id = %open.connection.id, "site subscription created");
                (subscription_id(answer.get("id"))?, answer)
            }
        };
        let secret = secret_of(&answer)?;
        let context = CartSubscription::seal_context(&cart.id, account);
        let sealed = self
            .vault
            .seal(&context, secret.expose().as_bytes())
            .await
            .map_err(SubscribeError::from)?;
        let record = CartSubscription {
            cart: cart.id.clone(),
            account: account.to_owned(),
            subscription_id: id,
            secret: sealed,
            stored_at: self.clock.now(),
        };
        self.store.put_cart_subscription(&record).await?;
        Ok(open.connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_found_by_its_endpoint_url_only() {
        // GIVEN a site's list with another app's subscription and cartlink's
        let list = json!({"webhookSubscriptions": [
            {"id": "other-1", "endpointUrl": "https://other.example/hook"},
            {"id": "ours-1", "endpointUrl": "https://cartlink.example/cart-events/squarespace"},
        ]});
        // WHEN searched THEN cartlink's is found, and nothing in a list without it
        let url = "https://cartlink.example/cart-events/squarespace";
        assert_eq!(ours_in(&list, url).unwrap().as_deref(), Some("ours-1"));
        assert_eq!(
            ours_in(&json!({"webhookSubscriptions": []}), url).unwrap(),
            None
        );
    }

    #[test]
    fn a_list_without_its_array_is_a_bad_answer() {
        // GIVEN an answer that is not the documented list WHEN searched THEN it is refused
        assert!(matches!(
            ours_in(&json!({"subscriptions": []}), "https://x.example/"),
            Err(SubscribeError::BadAnswer("webhookSubscriptions"))
        ));
    }

    #[test]
    fn an_id_that_could_leave_its_path_segment_is_refused() {
        // GIVEN ids with a slash, a query and empty WHEN read THEN each is refused
        for id in ["../x", "a?b", ""] {
            assert!(subscription_id(Some(&json!(id))).is_err());
        }
        let id = "7aff04bb-90e0-4002-96c2-69d8162c8dae";
        assert_eq!(subscription_id(Some(&json!(id))).unwrap(), id);
    }

    #[test]
    fn a_secret_must_be_hex_of_a_usable_length() {
        // GIVEN a documented secret, a short one and one that is not hex
        let good = "F3F9B981C78E7A6187E42853F6CE2804177E98206164779423B02DEC981ACD6B";
        // WHEN read THEN only the first is taken
        assert_eq!(secret_of(&json!({"secret": good})).unwrap().expose(), good);
        assert!(secret_of(&json!({"secret": "abcd"})).is_err());
        assert!(secret_of(&json!({"secret": "zz".repeat(32)})).is_err());
    }
}
