//! What a grant's cart tells only through a read with the new access token, where the entry
//! says ([`crate::carts::AccountLookup`]): eBay's `userId`, which its account deletion
//! notifications name, and TikTok Shop's authorized shops, whose ids its deauthorization
//! webhook names and whose ciphers its API calls need.

use crate::carts::{
    at_path, pattern_matches, AccountLookup, CartSpec, ClientCredentials, ShopsAt, Vars, MAX_SHOPS,
};
use crate::domain::{Shop, TokenSet};
use crate::oauth::OAuthError;
use crate::service::Services;

/// The longest shop cipher recorded.
const MAX_CIPHER_LEN: usize = 256;

impl Services {
    /// `tokens` with their account read from the cart, when its entry reads the account and
    /// the token answer named none, and the shops the grant reaches, when its entry reads them.
    /// An answer without an account of the entry's shape, or without a well-formed shop, is
    /// refused: a connection the cart's signals could not find is not stored.
    pub(super) async fn with_account(
        &self,
        cart: &CartSpec,
        credentials: &ClientCredentials,
        mut tokens: TokenSet,
    ) -> Result<(TokenSet, Vec<Shop>), OAuthError> {
        let Some(lookup) = &cart.account_lookup else {
            return Ok((tokens, Vec::new()));
        };
        let reads_account = lookup.field.is_some() && tokens.account.is_none();
        if !reads_account && !lookup.reads_shops() {
            return Ok((tokens, Vec::new()));
        }
        let answer = self
            .lookup_answer(cart, lookup, credentials, &tokens)
            .await?;
        if reads_account {
            tokens.account = Some(account_of(&answer, lookup)?);
        }
        let shops = match &lookup.shops {
            Some(at) => shops_of(&answer, at)?,
            None => Vec::new(),
        };
        Ok((tokens, shops))
    }

    /// The lookup's answer: the request built (and signed, where the entry names a hook), the
    /// token sent as the entry says, and a result code other than `0` refused.
    async fn lookup_answer(
        &self,
        cart: &CartSpec,
        lookup: &AccountLookup,
        credentials: &ClientCredentials,
        tokens: &TokenSet,
    ) -> Result<serde_json::Value, OAuthError> {
        let mut url = cart
            .endpoint(&lookup.url, &Vars::new())
            .map_err(|e| OAuthError::BadResponse(e.to_string()))?;
        if let Some(sign) = lookup.sign {
            // The path the cart sees is the catalog's, wherever a stand-in moved the URL.
            let path = url::Url::parse(&lookup.url)
                .map(|u| u.path().to_owned())
                .map_err(|e| OAuthError::BadResponse(e.to_string()))?;
            url = sign
                .signed(&url, &path, credentials, self.clock.now())
                .ok_or_else(|| OAuthError::BadResponse("no app secret to sign with".into()))?;
        }
        let answer = self
            .oauth
            .get_json(&url, &tokens.access_token, lookup.token_header.as_deref())
            .await?;
        if let Some(field) = &lookup.result_code {
            match answer.get(field).and_then(serde_json::Value::as_i64) {
                Some(0) => {}
                Some(code) => return Err(OAuthError::Refused(format!("code_{code}"))),
                None => {
                    return Err(OAuthError::BadResponse(format!(
                        "the lookup answer has no {field}"
                    )))
                }
            }
        }
        Ok(answer)
    }
}

/// The account id the answer names, of the entry's shape.
fn account_of(answer: &serde_json::Value, lookup: &AccountLookup) -> Result<String, OAuthError> {
    let (Some(field), Some(pattern)) = (&lookup.field, &lookup.pattern) else {
        return Err(OAuthError::BadResponse(
            "the lookup reads no account".into(),
        ));
    };
    answer
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|id| pattern_matches(pattern, id))
        .map(str::to_owned)
        .ok_or_else(|| OAuthError::BadResponse(format!("the account answer has no {field}")))
}

/// The shops the answer lists: at least one, at most [`MAX_SHOPS`], each with an id of the
/// entry's shape and a cipher of visible ASCII; each id once.
fn shops_of(answer: &serde_json::Value, at: &ShopsAt) -> Result<Vec<Shop>, OAuthError> {
    let bad = |what: &str| OAuthError::BadResponse(format!("the shops answer {what}"));
    let listed = at_path(answer, &at.at)
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad(&format!("has no list at {}", at.at)))?;
    let mut shops: Vec<Shop> = Vec::new();
    for entry in listed {
        let id = entry
            .get(&at.id)
            .and_then(serde_json::Value::as_str)
            .filter(|id| pattern_matches(&at.id_pattern, id))
            .ok_or_else(|| bad("names a shop without a well-formed id"))?;
        let cipher = entry
            .get(&at.cipher)
            .and_then(serde_json::Value::as_str)
            .filter(|c| (1..=MAX_CIPHER_LEN).contains(&c.len()))
            .filter(|c| c.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| bad("names a shop without a well-formed cipher"))?;
        if !shops.iter().any(|s| s.id == id) {
            shops.push(Shop {
                id: id.to_owned(),
                cipher: cipher.to_owned(),
            });
        }
    }
    if shops.is_empty() {
        return Err(bad("names no shop"));
    }
    if shops.len() > MAX_SHOPS {
        return Err(bad(&format!("names more than {MAX_SHOPS} shops")));
    }
    Ok(shops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::Pattern;
    use serde_json::json;

    fn at() -> ShopsAt {
        ShopsAt {
            at: "data.shops".into(),
            id: "id".into(),
            cipher: "cipher".into(),
            id_pattern: Pattern::new("^[0-9]{1,32}$").unwrap(),
        }
    }

    fn shop(id: &str, cipher: &str) -> serde_json::Value {
        json!({"id": id, "cipher": cipher, "name": "Acme", "region": "GB", "seller_type": "LOCAL", "code": "GBLC"})
    }

    #[test]
    fn the_shops_are_read_with_their_ids_and_ciphers_each_once() {
        // GIVEN an answer listing two shops, one of them twice
        let answer = json!({"code": 0, "data": {"shops": [
            shop("7494049642642441621", "ROW_a-1"), shop("7494049642642441622", "ROW_b-2"),
            shop("7494049642642441621", "ROW_a-1")]}});
        // WHEN read THEN both are there, once each, with their ciphers
        let shops = shops_of(&answer, &at()).unwrap();
        let read: Vec<(&str, &str)> = shops
            .iter()
            .map(|s| (s.id.as_str(), s.cipher.as_str()))
            .collect();
        assert_eq!(
            read,
            vec![
                ("7494049642642441621", "ROW_a-1"),
                ("7494049642642441622", "ROW_b-2")
            ]
        );
    }

    #[test]
    fn an_answer_without_shops_is_refused() {
        // GIVEN answers with an empty list and with no list
        for answer in [json!({"data": {"shops": []}}), json!({"data": {}})] {
            // WHEN read THEN it is refused
            assert!(shops_of(&answer, &at()).is_err(), "{answer}");
        }
    }

    #[test]
    fn a_shop_with_a_malformed_id_or_cipher_is_refused() {
        // GIVEN shops with a non-digit id, a numeric id, an empty cipher and a cipher with a space
        for bad in [
            shop("shop-1", "ROW_a"),
            json!({"id": 7494049642642441621_u64, "cipher": "ROW_a"}),
            shop("1", ""),
            shop("1", "ROW a"),
        ] {
            let answer = json!({"data": {"shops": [bad]}});
            // WHEN read THEN the answer is refused
            assert!(shops_of(&answer, &at()).is_err(), "{answer}");
        }
    }

    #[test]
    fn more_shops_than_a_grant_records_are_refused() {
        // GIVEN an answer listing one shop more than a grant records
        let listed: Vec<serde_json::Value> = (0..=MAX_SHOPS)
            .map(|i| shop(&i.to_string(), "ROW_x"))
            .collect();
        let answer = json!({"data": {"shops": listed}});
        // WHEN read THEN it is refused
        assert!(shops_of(&answer, &at()).is_err());
    }
}
