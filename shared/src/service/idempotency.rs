//! `Idempotency-Key` on the warehouse API's POSTs: a request and its retries under one key run
//! once. The first takes the key's record (in progress, under a lease); its answer is kept 24
//! hours, sealed, and replayed to every retry with the same request; a retry with another
//! request is a mismatch; one that comes while the first still runs is told to wait. A first
//! request that died mid-way leaves its lease to lapse, after which a retry takes the record
//! over and runs again with the same [`RequestSeed`], so what it creates has the same id as the
//! first attempt's and is found rather than made (and emailed) twice.

use std::future::Future;

use sha2::{Digest, Sha256};

use super::Services;
use crate::domain::secrets::random_token;
use crate::domain::{TokenHash, WarehouseId};
use crate::store::{IdempotencyRecord, IdempotencyTake, StoreError, StoredAnswer};
use crate::vault::SealContext;

/// How long a key's answer is kept: 24 hours.
pub const KEEP_SECS: i64 = 24 * 3600;
/// How long a request holds its key before a retry may take it over: longer than any request
/// runs (the Lambda's timeout is 10 s; the mail call's at most 25 s).
pub const LEASE_SECS: i64 = 30;
/// Longest `Idempotency-Key` accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A valid `Idempotency-Key`: 1 to 255 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key, if `raw` is 1 to [`MAX_KEY_LEN`] printable ASCII characters (space to `~`).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_KEY_LEN
            && raw.bytes().all(|b| (0x20..=0x7e).contains(&b));
        ok.then(|| IdempotencyKey(raw.to_owned()))
    }
}

/// The request a key was used for, as compared between its uses: method, path and body (a JSON
/// body in a canonical form, so key order and spacing do not matter).
#[derive(Clone, Copy, Debug)]
pub struct CanonicalRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The body as sent.
    pub body: &'a [u8],
}

impl CanonicalRequest<'_> {
    /// SHA-256 (hex) of the method, path and canonical body, each length-prefixed.
    pub fn hash(&self) -> String {
        let body = match serde_json::from_slice::<serde_json::Value>(self.body) {
            // serde_json's maps are sorted: this is the same text for the same JSON.
            Ok(value) => serde_json::to_vec(&value).unwrap_or_else(|_| self.body.to_vec()),
            Err(_) => self.body.to_vec(),
        };
        let mut h = Sha256::new();
        for part in [self.method.as_bytes(), self.path.as_bytes(), &body] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        hex::encode(h.finalize())
    }
}

/// What a request and its retries under one key share: derived from the key's record and its
/// first owner, so a retry that took over derives what the first attempt derived, and a record
/// taken afresh (after a 5xx released it) derives something else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSeed([u8; 32]);

impl RequestSeed {
    fn new(record: &str, first_owner: &str) -> Self {
        let mut h = Sha256::new();
        h.update(record.as_bytes());
        h.update(b"#");
        h.update(first_owner.as_bytes());
        RequestSeed(h.finalize().into())
    }

    /// An opaque id (`<prefix>-` and 26 symbols of base 32, as random ids are) for what the
    /// request creates: the same for the request and its retries.
    pub fn id(&self, prefix: &str) -> String {
        const LOWER_BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
        let symbols = self.0[..26]
            .iter()
            .map(|b| char::from(LOWER_BASE32[usize::from(b & 31)]));
        format!("{prefix}-{}", symbols.collect::<String>())
    }
}

/// An answer of the warehouse API as a key keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether a retry gets this answer again. A 5xx (the store, the key or mail service
    /// failed) and a 429 (a limit, which lifts later) are not kept: the retry runs again.
    /// Every other 4xx is kept: the same request would be refused the same way.
    pub fn is_kept(&self) -> bool {
        self.status < 500 && self.status != 429
    }
}

/// How an idempotent request ended.
#[derive(Debug)]
pub enum Idempotent {
    /// It ran now: its answer.
    Ran(Answer),
    /// An earlier request under the key finished: its answer, replayed; nothing ran.
    Replayed(Answer),
}

/// Why an idempotent request did not run.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The key is not 1 to 255 printable ASCII characters.
    #[error("invalid idempotency key")]
    InvalidKey,
    /// The key was used for another request.
    #[error("the idempotency key was used for another request")]
    Mismatch,
    /// The key's first request is still running.
    #[error("the idempotency key's first request is in progress")]
    InProgress {
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// The store or the key service failed; nothing ran.
    #[error("the store or the key service failed")]
    Unavailable,
}

impl From<StoreError> for IdempotencyError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failed on an idempotency key");
        IdempotencyError::Unavailable
    }
}

/// The context a kept answer is sealed under: the warehouse and the record.
fn seal_context(warehouse: &WarehouseId, key_hash: &str) -> SealContext {
    SealContext::new([
        ("kind", "idempotent-answer"),
        ("warehouse_id", warehouse.as_str()),
        ("record", key_hash),
    ])
}

impl Services {
    /// Runs `run` once for `warehouse`'s `raw_key` and `request`: the first request under the
    /// key runs (given the key's [`RequestSeed`]) and its answer is kept 24 hours unless
    /// [`Answer::is_kept`] says otherwise; a retry of the same request gets that answer
    /// replayed and nothing runs; see [`IdempotencyError`] for the rest.
    pub async fn idempotent<F, Fut>(
        &self,
        warehouse: &WarehouseId,
        raw_key: &str,
        request: CanonicalRequest<'_>,
        run: F,
    ) -> Result<Idempotent, IdempotencyError>
    where
        F: FnOnce(RequestSeed) -> Fut,
        Fut: Future<Output = Answer>,
    {
        let key = IdempotencyKey::parse(raw_key).ok_or(IdempotencyError::InvalidKey)?;
        let key_hash = TokenHash::of(&key.0);
        let record = format!("{warehouse}#{}", key_hash.as_str());
        let request_hash = request.hash();
        let owner = random_token();
        let now = self.clock.now();
        let take = self
            .store
            .take_idempotency_key(&record, &request_hash, &owner, now, LEASE_SECS, KEEP_SECS)
            .await?;
        let context = seal_context(warehouse, key_hash.as_str());
        let first_owner = match take {
            IdempotencyTake::Held {
                request_hash: h, ..
            } if h != request_hash => return Err(IdempotencyError::Mismatch),
            IdempotencyTake::Held {
                record: IdempotencyRecord::InProgress { lease_until },
                ..
            } => {
                let left = (lease_until.0 - now.0).clamp(1, 2);
                return Err(IdempotencyError::InProgress {
                    retry_after_secs: left.unsigned_abs(),
                });
            }
            IdempotencyTake::Held {
                record: IdempotencyRecord::Done(stored),
                ..
            } => {
                let body = self.vault.open(&context, &stored.body).await.map_err(|e| {
                    tracing::error!(error = %e, "a kept answer did not open");
                    IdempotencyError::Unavailable
                })?;
                return Ok(Idempotent::Replayed(Answer {
                    status: stored.status,
                    content_type: stored.content_type,
                    body: body.to_vec(),
                }));
            }
            IdempotencyTake::Taken {
                first_owner,
                taken_over,
            } => {
                if taken_over {
                    tracing::warn!(warehouse_id = %warehouse, "idempotency key taken over after its lease lapsed");
                }
                first_owner
            }
        };
        let answer = run(RequestSeed::new(&record, &first_owner)).await;
        self.keep(&record, &owner, &context, &answer).await;
        Ok(Idempotent::Ran(answer))
    }

    /// Keeps `answer` under the record, or gives the record back when it is not kept. A failure
    /// here is logged only: the answer still goes out, and the record's lease lapses, after
    /// which a retry takes it over and finds what this request made.
    async fn keep(&self, record: &str, owner: &str, context: &SealContext, answer: &Answer) {
        let outcome = if answer.is_kept() {
            match self.vault.seal(context, &answer.body).await {
                Ok(body) => {
                    let stored = StoredAnswer {
                        status: answer.status,
                        content_type: answer.content_type.clone(),
                        body,
                    };
                    self.store
                        .finish_idempotency_key(record, owner, &stored)
                        .await
                }
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            }
        } else {
            self.store.release_idempotency_key(record, owner).await
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "idempotency record not settled; its lease will lapse");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_printable_ascii_characters() {
        // GIVEN keys at and past each bound
        let longest = "k".repeat(MAX_KEY_LEN);
        let too_long = "k".repeat(MAX_KEY_LEN + 1);
        // THEN the printable ones within the length are keys
        for ok in ["a", "order 42/retry~1", longest.as_str()] {
            assert!(IdempotencyKey::parse(ok).is_some(), "{ok}");
        }
        // AND empty, overlong, control and non-ASCII ones are not
        for bad in ["", too_long.as_str(), "a\tb", "a\u{7f}", "clé"] {
            assert!(IdempotencyKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_request_hash_ignores_json_layout_and_sees_method_path_and_values() {
        let hash = |method, path, body: &str| {
            CanonicalRequest {
                method,
                path,
                body: body.as_bytes(),
            }
            .hash()
        };
        // GIVEN one request
        let one = hash("POST", "/v1/invites", r#"{"a":1,"b":"x"}"#);
        // THEN its keys reordered and spaced are the same request
        assert_eq!(
            one,
            hash("POST", "/v1/invites", "{ \"b\": \"x\",\n \"a\": 1 }")
        );
        // AND another value, path or method is another request
        assert_ne!(one, hash("POST", "/v1/invites", r#"{"a":2,"b":"x"}"#));
        assert_ne!(
            one,
            hash("POST", "/v1/invites/x/resend", r#"{"a":1,"b":"x"}"#)
        );
        assert_ne!(one, hash("PUT", "/v1/invites", r#"{"a":1,"b":"x"}"#));
    }

    #[test]
    fn a_seed_names_the_same_id_for_the_same_record_and_first_owner_only() {
        // GIVEN a seed
        let seed = RequestSeed::new("wh-a#k", "o1");
        // THEN its id is opaque-id shaped and stable
        let id = seed.id("inv");
        assert!(
            crate::domain::ids::is_opaque_id(&id) && id.len() == 30,
            "{id}"
        );
        assert_eq!(id, RequestSeed::new("wh-a#k", "o1").id("inv"));
        // AND another record or another first owner names another id
        assert_ne!(id, RequestSeed::new("wh-b#k", "o1").id("inv"));
        assert_ne!(id, RequestSeed::new("wh-a#k", "o2").id("inv"));
    }
}
