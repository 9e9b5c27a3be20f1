//! Property tests of the invite, attempt and connection state machines: any sequence of what
//! merchants, warehouses, carts and time can do, driven through the services on the embedded
//! store, keeps their invariants after every event.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use crate::domain::{
    AttemptStatus, ConnectionStatus, GrantAttempt, InviteId, InviteStatus, TokenHash,
};
use crate::store::{AttemptStore, ConnectionStore, InviteStore};
use crate::testing::{TestKit, ACME_ISS, TEST_API_KEY};

/// One thing that can happen to the invite.
#[derive(Clone, Debug)]
enum Event {
    /// The merchant presses the button (a new attempt).
    StartGrant,
    /// A callback of the attempt `n` back from the newest, with the cart's answer.
    Callback { back: usize, answer: CartAnswer },
    /// The same callback delivered twice at once.
    DoubleCallback { back: usize },
    /// The confirmation event is delivered.
    Confirm,
    /// The warehouse withdraws the invite.
    Withdraw,
    /// The warehouse asks for the token (refreshing when due).
    AskToken,
    /// The cart stops honouring the refresh token.
    CartRevokes,
    /// Time passes.
    Wait { secs: i64 },
}

/// What the cart answers a callback with.
#[derive(Clone, Copy, Debug)]
enum CartAnswer {
    /// A code that exchanges.
    Code,
    /// `error=access_denied`.
    Declined,
    /// A code the token endpoint refuses.
    Refused,
}

fn event() -> impl Strategy<Value = Event> {
    let answer = prop_oneof![
        3 => Just(CartAnswer::Code),
        1 => Just(CartAnswer::Declined),
        1 => Just(CartAnswer::Refused),
    ];
    prop_oneof![
        3 => Just(Event::StartGrant),
        4 => (0usize..3, answer).prop_map(|(back, answer)| Event::Callback { back, answer }),
        1 => (0usize..2).prop_map(|back| Event::DoubleCallback { back }),
        2 => Just(Event::Confirm),
        1 => Just(Event::Withdraw),
        2 => Just(Event::AskToken),
        1 => Just(Event::CartRevokes),
        2 => prop_oneof![Just(60i64), Just(20 * 60), Just(3 * 24 * 3600), Just(4_000_000_000)]
            .prop_map(|secs| Event::Wait { secs }),
    ]
}

/// What the test keeps of each attempt it started.
struct Started {
    state: String,
    binding: String,
}

/// The model's memory between events: what must never be taken back.
#[derive(Default)]
struct Seen {
    status: Option<InviteStatus>,
    attempts: HashMap<TokenHash, AttemptStatus>,
    connection_version: u64,
    connection_id: Option<crate::domain::ConnectionId>,
    codes: HashSet<String>,
    broken: bool,
}

async fn apply(
    kit: &TestKit,
    invite: &InviteId,
    token: &str,
    started: &mut Vec<Started>,
    n: usize,
    e: &Event,
) {
    let svc = &kit.services;
    match e {
        Event::StartGrant => {
            if let Ok(g) = svc.start_grant(token).await {
                let crate::service::setup::GrantNext::Redirect(url) = &g.next else {
                    return;
                };
                let url = url::Url::parse(url).expect("url");
                let state = url
                    .query_pairs()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned())
                    .expect("state");
                started.push(Started {
                    state,
                    binding: g.binding.expose().to_owned(),
                });
            }
        }
        Event::Callback { back, answer } => {
            let Some(s) = started.iter().rev().nth(*back) else {
                return;
            };
            *kit.oauth.refuse.lock().expect("lock") =
                matches!(answer, CartAnswer::Refused).then(|| "invalid_grant".to_owned());
            let code = format!("code-{n}");
            let mut params = vec![("state", s.state.as_str()), ACME_ISS];
            if matches!(answer, CartAnswer::Declined) {
                params.push(("error", "access_denied"));
            } else {
                params.push(("code", code.as_str()));
            }
            let _ = kit.callback("acme", &params, Some(&s.binding)).await;
            *kit.oauth.refuse.lock().expect("lock") = None;
        }
        Event::DoubleCallback { back } => {
            let Some(s) = started.iter().rev().nth(*back) else {
                return;
            };
            let code = format!("code-{n}");
            let params = [
                ("code", code.as_str()),
                ("state", s.state.as_str()),
                ACME_ISS,
            ];
            let (a, b) = tokio::join!(
                kit.callback("acme", &params, Some(&s.binding)),
                kit.callback("acme", &params, Some(&s.binding)),
            );
            let _ = (a, b);
        }
        Event::Confirm => {
            let _ = svc.confirm(invite).await;
        }
        Event::Withdraw => {
            let wh = svc
                .warehouses
                .authenticate(TEST_API_KEY)
                .expect("key")
                .id
                .clone();
            let _ = svc.withdraw_invite(&wh, invite.as_str()).await;
        }
        Event::AskToken => {
            if let Ok(Some(c)) = kit.store.connection_for_invite(invite).await {
                let _ = svc.fresh_connection(&c.id).await;
            }
        }
        Event::CartRevokes => {
            *kit.oauth.live_refresh_token.lock().expect("lock") = Some("revoked".into());
        }
        Event::Wait { secs } => kit.clock.advance(*secs),
    }
}

/// The invariants, checked against the store after every event.
async fn check(
    kit: &TestKit,
    invite: &InviteId,
    started: &[Started],
    seen: &mut Seen,
) -> Result<(), String> {
    let stored = kit
        .store
        .invite(invite)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the invite vanished")?;
    // An invite only moves along its state machine.
    if let Some(before) = seen.status {
        if before != stored.status && !before.may_become(stored.status) {
            return Err(format!("invite moved {before} -> {}", stored.status));
        }
    }
    seen.status = Some(stored.status);
    // Connected if and only if there is exactly one connection, made by one completed attempt.
    let connection = kit
        .store
        .connection_for_invite(invite)
        .await
        .map_err(|e| e.to_string())?;
    if stored.status.is_connected() != connection.is_some() {
        return Err(format!(
            "invite {} with connection {:?}",
            stored.status,
            connection.as_ref().map(|c| c.id.clone())
        ));
    }
    let mut attempts: Vec<GrantAttempt> = Vec::new();
    for s in started {
        let hash = TokenHash::of(&s.state);
        if let Some(a) = kit.store.attempt(&hash).await.map_err(|e| e.to_string())? {
            attempts.push(a);
        }
    }
    let completed = attempts
        .iter()
        .filter(|a| a.status == AttemptStatus::Completed)
        .count();
    if completed != usize::from(connection.is_some()) {
        return Err(format!(
            "{completed} completed attempts for {} connection(s)",
            usize::from(connection.is_some())
        ));
    }
    // An attempt never reopens; a claimed one only completes or fails; an ended one stays as it
    // ended.
    for a in &attempts {
        if let Some(before) = seen.attempts.insert(a.state_hash.clone(), a.status) {
            let allowed = match before {
                AttemptStatus::Open => true,
                AttemptStatus::Exchanging => matches!(
                    a.status,
                    AttemptStatus::Exchanging | AttemptStatus::Completed | AttemptStatus::Failed
                ),
                ended => a.status == ended,
            };
            if !allowed {
                return Err(format!("attempt moved {before:?} -> {:?}", a.status));
            }
        }
    }
    // A connection keeps its id, its version only grows, and a broken grant stays broken.
    if let Some(c) = connection {
        if let Some(id) = &seen.connection_id {
            if id != &c.id {
                return Err("the connection was replaced".into());
            }
        }
        if c.version < seen.connection_version {
            return Err(format!(
                "version {} after {}",
                c.version, seen.connection_version
            ));
        }
        seen.connection_version = c.version;
        seen.connection_id = Some(c.id.clone());
        if seen.broken && c.status == ConnectionStatus::Active {
            return Err("a connection needing re-authorization became active again".into());
        }
        seen.broken |= c.status == ConnectionStatus::NeedsReauth;
    }
    // No code was ever redeemed twice.
    for x in kit.oauth.seen.lock().expect("lock").iter() {
        seen.codes.insert(x.code.clone());
    }
    let redeemed = kit.oauth.seen.lock().expect("lock").len();
    if redeemed != seen.codes.len() {
        return Err(format!(
            "{redeemed} exchanges for {} codes",
            seen.codes.len()
        ));
    }
    Ok(())
}

fn run(events: Vec<Event>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let kit = TestKit::new();
        let (invite, token) = kit.invite().await;
        let mut started = Vec::new();
        let mut seen = Seen::default();
        for (n, e) in events.iter().enumerate() {
            apply(&kit, &invite, &token, &mut started, n, e).await;
            check(&kit, &invite, &started, &mut seen)
                .await
                .map_err(|why| TestCaseError::fail(format!("after {e:?}: {why}")))?;
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_events_keeps_the_invariants(events in prop::collection::vec(event(), 1..24)) {
        run(events)?;
    }
}
