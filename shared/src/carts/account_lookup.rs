//! What a cart tells only through a read with the new access token, after the exchange and
//! before the connection is stored: the account, where neither the callback nor the token
//! answer names it (eBay's Commerce Identity `getUser`, whose `userId` is what its account
//! deletion notifications name), and the shops the grant reaches (TikTok Shop's Get Authorized
//! Shops, whose ids its deauthorization webhook names and whose ciphers its API calls need).

use serde::Deserialize;

use super::Pattern;

/// An entry's `account_lookup`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLookup {
    /// The endpoint; its host must be one the entry allows.
    pub url: String,
    /// The header the access token goes in, bare (TikTok Shop's `x-tts-access-token`);
    /// absent: `Authorization: Bearer`.
    pub token_header: Option<String>,
    /// The hook that signs the request, by name (`tiktok-shop`: [`super::quirks::tiktok_shop`]).
    pub sign: Option<LookupSigning>,
    /// The answer's top-level field that is `0` when the cart answered (TikTok Shop answers
    /// its refusals as HTTP 200 with another code).
    pub result_code: Option<String>,
    /// The answer's top-level field holding the account id, where the lookup reads it.
    pub field: Option<String>,
    /// What the account id must look like (anchored); with `field`.
    pub pattern: Option<Pattern>,
    /// Where the shops are in the answer and what each gives, where the lookup reads them.
    pub shops: Option<ShopsAt>,
    /// Where the cart documents it.
    pub source: String,
}

/// A named request-signing hook of an account lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum LookupSigning {
    /// TikTok Shop's API signature ([`super::quirks::tiktok_shop::signed`]).
    #[serde(rename = "tiktok-shop")]
    TiktokShop,
}

impl LookupSigning {
    /// `url` signed as this hook signs, over `path` (the catalog's path), with the app's
    /// credentials at `now`; `None` when it cannot be (no app secret).
    pub fn signed(
        self,
        url: &url::Url,
        path: &str,
        credentials: &super::ClientCredentials,
        now: crate::domain::Timestamp,
    ) -> Option<url::Url> {
        match self {
            LookupSigning::TiktokShop => {
                super::quirks::tiktok_shop::signed(url, path, credentials, now)
            }
        }
    }
}

/// Where an answer lists the shops a grant reaches, and each shop's fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopsAt {
    /// The dotted path to the list (`data.shops`).
    pub at: String,
    /// Each shop's id field.
    pub id: String,
    /// Each shop's cipher field.
    pub cipher: String,
    /// What a shop id must look like (anchored).
    pub id_pattern: Pattern,
}

/// How many shops one grant records: the DynamoDB adapter writes one index item per shop in
/// the grant's one transaction (at most 100 items, four of them the grant's own).
pub const MAX_SHOPS: usize = 50;

impl AccountLookup {
    /// Whether the lookup reads something, and reads the account whole: `field` and `pattern`
    /// come together.
    pub(super) fn check(&self) -> Result<(), String> {
        match (&self.field, &self.pattern, &self.shops) {
            (Some(_), Some(_), _) | (None, None, Some(_)) => Ok(()),
            (None, None, None) => Err("account_lookup reads neither an account nor shops".into()),
            _ => Err("account_lookup: field and pattern come together".into()),
        }
    }

    /// Whether the lookup is made even when the token answer named the account: it reads the
    /// shops.
    pub fn reads_shops(&self) -> bool {
        self.shops.is_some()
    }
}

/// The value at a dotted `path` of `answer`.
pub fn at_path<'a>(answer: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(answer, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(field: bool, pattern: bool, shops: bool) -> AccountLookup {
        AccountLookup {
            url: "https://api.example/user".into(),
            token_header: None,
            sign: None,
            result_code: None,
            field: field.then(|| "userId".into()),
            pattern: pattern.then(|| Pattern::new("^[a-z]+$").unwrap()),
            shops: shops.then(|| ShopsAt {
                at: "data.shops".into(),
                id: "id".into(),
                cipher: "cipher".into(),
                id_pattern: Pattern::new("^[0-9]+$").unwrap(),
            }),
            source: "test".into(),
        }
    }

    #[test]
    fn a_lookup_reads_an_account_whole_or_shops() {
        // GIVEN lookups of an account, of shops, and of both WHEN checked THEN each loads
        for (field, pattern, shops) in [
            (true, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            assert!(lookup(field, pattern, shops).check().is_ok());
        }
    }

    #[test]
    fn a_lookup_of_nothing_or_half_an_account_does_not_load() {
        // GIVEN a lookup of nothing, and of a field without its pattern (and the reverse)
        // WHEN checked THEN none loads
        for (field, pattern, shops) in [
            (false, false, false),
            (true, false, true),
            (false, true, false),
        ] {
            assert!(lookup(field, pattern, shops).check().is_err());
        }
    }

    #[test]
    fn a_dotted_path_reads_nested_fields() {
        // GIVEN an answer with shops under data
        let answer = serde_json::json!({"code": 0, "data": {"shops": [1]}});
        // WHEN read by path THEN the list is found, and a missing step finds nothing
        assert_eq!(
            at_path(&answer, "data.shops"),
            Some(&serde_json::json!([1]))
        );
        assert_eq!(at_path(&answer, "data.nope"), None);
    }
}
