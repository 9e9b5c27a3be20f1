//! Connections: the stored, sealed access a merchant granted.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::cart_app::OwnApp;
use super::ids::{CartId, ConnectionId, InviteId, Timestamp, WarehouseId};
use super::sealed::{SealContext, SealedBlob};
use super::secrets::Secret;

/// The tokens a cart issued, in memory only. Sealed before storage.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, if the cart issues one.
    pub refresh_token: Option<Secret>,
    /// When the access token stops working, if the cart said.
    pub expires_at: Option<Timestamp>,
    /// When cartlink asked the cart for these tokens (by the clock port), if recorded: with
    /// `expires_at` it gives the access token's lifetime, which the refresh rule
    /// (`service::refresh::refresh_margin`) fits its margin to. Tokens sealed before it was
    /// recorded have none.
    pub issued_at: Option<Timestamp>,
    /// The scopes the cart says it granted, if it said.
    pub scope: Option<String>,
    /// The account the token response names (Square's `merchant_id`), if any. Not secret.
    pub account: Option<String>,
    /// The secret paired with `access_token`, when the cart issues one: for API keys
    /// (WooCommerce) the key's secret, `access_token` holding the key itself; for OAuth 1.0a
    /// (Magento) the access token's secret.
    pub key_secret: Option<Secret>,
    /// OAuth 1.0a (Magento): the consumer key every API call is signed with, beside the token.
    pub consumer_key: Option<Secret>,
    /// OAuth 1.0a (Magento): the consumer secret, half of every call's signing key.
    pub consumer_secret: Option<Secret>,
}

#[derive(Serialize)]
struct SealedTokensOut<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumer_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumer_secret: Option<&'a str>,
}

#[derive(Deserialize)]
struct SealedTokensIn {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<Timestamp>,
    #[serde(default)]
    issued_at: Option<Timestamp>,
    #[serde(default)]
    key_secret: Option<String>,
    #[serde(default)]
    consumer_key: Option<String>,
    #[serde(default)]
    consumer_secret: Option<String>,
}

impl TokenSet {
    /// The plaintext that the vault seals (JSON), wiped from memory when dropped.
    pub fn to_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let sealed = SealedTokensOut {
            access_token: self.access_token.expose(),
            refresh_token: self.refresh_token.as_ref().map(Secret::expose),
            expires_at: self.expires_at,
            issued_at: self.issued_at,
            key_secret: self.key_secret.as_ref().map(Secret::expose),
            consumer_key: self.consumer_key.as_ref().map(Secret::expose),
            consumer_secret: self.consumer_secret.as_ref().map(Secret::expose),
        };
        Zeroizing::new(serde_json::to_vec(&sealed).expect("token JSON always serializes"))
    }

    /// Reads back what [`TokenSet::to_plaintext`] wrote.
    pub fn from_plaintext(bytes: &[u8]) -> Option<TokenSet> {
        let sealed: SealedTokensIn = serde_json::from_slice(bytes).ok()?;
        Some(TokenSet {
            access_token: Secret::new(sealed.access_token),
            refresh_token: sealed.refresh_token.map(Secret::new),
            expires_at: sealed.expires_at,
            issued_at: sealed.issued_at,
            scope: None,
            account: None,
            key_secret: sealed.key_secret.map(Secret::new),
            consumer_key: sealed.consumer_key.map(Secret::new),
            consumer_secret: sealed.consumer_secret.map(Secret::new),
        })
    }
}

/// Whether a connection can be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Its tokens open and may be used.
    #[default]
    Active,
    /// Its tokens cannot be used (they do not open under its context, or the cart revoked
    /// them): the merchant must grant access again.
    NeedsReauth,
}

impl ConnectionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReauth => "needs_reauth",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [ConnectionStatus::Active, ConnectionStatus::NeedsReauth]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A merchant's granted access, as stored. The tokens are sealed by the vault under
/// [`Connection::seal_context`], so a blob copied onto another connection does not open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Opaque id.
    pub id: ConnectionId,
    /// The invite that led to it.
    pub invite_id: InviteId,
    /// The warehouse it serves.
    pub warehouse_id: WarehouseId,
    /// The cart.
    pub cart: CartId,
    /// The account identity the cart returned (shop, seller id…), if any.
    pub account: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The sealed tokens.
    pub tokens: SealedBlob,
    /// When the access token expires, if known (not secret; lets a refresher plan).
    pub token_expires_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Bumped by every token update; token writes are conditional on it.
    pub version: u64,
    /// When its tokens were last refreshed at the cart, if ever.
    #[serde(default)]
    pub refreshed_at: Option<Timestamp>,
    /// Whether it can be used.
    #[serde(default)]
    pub status: ConnectionStatus,
    /// When the merchant last granted it again through a reconnect invite (the creation time
    /// stands for its first grant): a cart's hard re-authorization deadline counts from here.
    #[serde(default)]
    pub granted_at: Option<Timestamp>,
    /// When care next looks after it (`domain::care`), if ever: the stores index it, and every
    /// write of its tokens or status writes it too.
    #[serde(default)]
    pub care_at: Option<Timestamp>,
    /// The re-authorization deadline whose notice (reconnect invite, warehouse told) went out.
    #[serde(default)]
    pub care_noticed: Option<Timestamp>,
    /// The warehouse's own app it goes through; absent: cartlink's app at the cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<OwnApp>,
    /// When care last made sure of the uninstall subscription at its site, for a cart that
    /// declares one (`domain::care`): before that, and again after a new grant, it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed_at: Option<Timestamp>,
    /// The shops the grant reaches, where the cart names them apart from the account (a TikTok
    /// Shop seller authorizes several shops at once): read once at the first grant. Connections
    /// made before shops were recorded have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shops: Vec<Shop>,
}

/// One shop a grant reaches: its id, which the cart's signals name (TikTok Shop's seller
/// deauthorization), and its cipher, which each of its API calls names. Neither is a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    /// The shop's id at the cart.
    pub id: String,
    /// The value its API calls name the shop by (TikTok Shop's `shop_cipher`).
    pub cipher: String,
}

impl Connection {
    /// The encryption context of this connection's tokens.
    pub fn seal_context(warehouse: &WarehouseId, id: &ConnectionId, cart: &CartId) -> SealContext {
        SealContext::new([
            ("warehouse_id", warehouse.as_str()),
            ("connection_id", id.as_str()),
            ("cart", cart.as_str()),
            ("kind", "oauth-tokens"),
        ])
    }

    /// The context this connection's blob must open under.
    pub fn context(&self) -> SealContext {
        Connection::seal_context(&self.warehouse_id, &self.id, &self.cart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_set_prints_no_secret_in_debug() {
        // GIVEN tokens with every secret field set
        let tokens = TokenSet {
            access_token: Secret::new("CANARY_AT"),
            refresh_token: Some(Secret::new("CANARY_RT")),
            expires_at: None,
            issued_at: None,
            scope: Some("read".into()),
            account: Some("acct".into()),
            key_secret: Some(Secret::new("CANARY_KS")),
            consumer_key: None,
            consumer_secret: Some(Secret::new("CANARY_CS")),
        };
        // WHEN printed with {:?} THEN no secret shows
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("CANARY"), "{printed}");
        assert!(printed.contains("acct"), "{printed}");
    }

    #[test]
    fn token_plaintext_round_trips() {
        // GIVEN a token set
        let tokens = TokenSet {
            access_token: Secret::new("AT"),
            refresh_token: Some(Secret::new("RT")),
            expires_at: Some(Timestamp(5)),
            issued_at: Some(Timestamp(2)),
            scope: Some("a b".into()),
            account: None,
            key_secret: Some(Secret::new("KS")),
            consumer_key: Some(Secret::new("CK")),
            consumer_secret: Some(Secret::new("CS")),
        };
        // WHEN it is turned into plaintext and back
        let back = TokenSet::from_plaintext(&tokens.to_plaintext()).unwrap();
        // THEN the tokens and expiry are the same
        assert_eq!(back.access_token.expose(), "AT");
        assert_eq!(back.refresh_token.unwrap().expose(), "RT");
        assert_eq!(back.expires_at, Some(Timestamp(5)));
        assert_eq!(back.issued_at, Some(Timestamp(2)));
        assert_eq!(back.key_secret.unwrap().expose(), "KS");
        assert_eq!(back.consumer_key.unwrap().expose(), "CK");
        assert_eq!(back.consumer_secret.unwrap().expose(), "CS");
        assert!(TokenSet::from_plaintext(b"not json").is_none());
    }

    #[test]
    fn tokens_sealed_before_the_consumer_fields_existed_still_open() {
        // GIVEN the JSON an earlier version sealed (no consumer fields)
        let old = br#"{"access_token":"ck_x","refresh_token":null,"expires_at":null,"key_secret":"cs_y"}"#;
        // WHEN it is read
        let back = TokenSet::from_plaintext(old).unwrap();
        // THEN it opens, without consumer credentials or an issue time
        assert_eq!(back.key_secret.unwrap().expose(), "cs_y");
        assert!(back.issued_at.is_none());
        assert!(back.consumer_key.is_none() && back.consumer_secret.is_none());
        // AND a token set without them seals to the same fields as before
        let plain = TokenSet::from_plaintext(old).unwrap().to_plaintext();
        assert!(!String::from_utf8_lossy(&plain).contains("consumer"));
        assert!(!String::from_utf8_lossy(&plain).contains("issued_at"));
    }

    #[test]
    fn the_context_names_warehouse_connection_and_cart() {
        // GIVEN a connection's ids
        // WHEN its sealing context is made
        let ctx = Connection::seal_context(
            &WarehouseId::parse("wh-1").unwrap(),
            &ConnectionId::parse("con-1").unwrap(),
            &CartId::new("sandbox"),
        );
        // THEN it holds exactly these pairs: opaque ids and names, nothing else (an address
        // or a shop domain added later fails here)
        let pairs: Vec<_> = ctx.pairs().collect();
        assert_eq!(
            pairs,
            [
                ("app", "cartlink"),
                ("cart", "sandbox"),
                ("connection_id", "con-1"),
                ("kind", "oauth-tokens"),
                ("warehouse_id", "wh-1"),
            ]
        );
    }
}
