//! What the merchant does on the setup pages: open the link, type the access code, start a
//! grant, and watch its status. Opening and watching never write anything.

use std::borrow::Cow;
use std::net::IpAddr;

use super::history::attempt_scope;
use super::Services;
use crate::carts::{CartSpec, Flavour, Redirect, StateReturn, TokenRequest};
use crate::domain::{
    AccessCode, AttemptStatus, Brand, BrowserBinding, GrantAttempt, GrantState, Invite,
    InviteEventKind, InviteToken, PkceVerifier, Standing, Timestamp, TokenHash,
};
use crate::oauth::{authorize_url, AuthorizeRequest};
use crate::store::StoreError;

/// Access codes one client address may have evaluated per window, right or wrong, before it
/// must wait.
///
/// Every typed code counts, the right one too: the count is taken before the code is looked
/// up, in one conditional write, so that concurrent requests (on any number of instances)
/// cannot have more codes evaluated than this. A merchant types their code once; refunding a
/// right code would take a second write and gain them nothing.
pub const CODE_GUESSES_PER_CLIENT: u32 = 10;
/// Times one access code may be redeemed in its life.
pub const REDEMPTIONS_PER_CODE: u32 = 20;
/// The rate-limit window: 15 minutes.
pub const CODE_WINDOW_SECS: i64 = 15 * 60;
/// The window of [`REDEMPTIONS_PER_CODE`]: longer than any code lives.
const CODE_LIFE_SECS: i64 = i64::MAX / 2;

/// Why a setup step did not go ahead. Each variant is one page the merchant sees, and carries
/// what that page says.
///
/// An unknown or malformed link is [`SetupError::InvalidLink`] (the access-code page). A link
/// that names a real invite is 256 random bits nobody can guess, so its invite's state may be
/// told without giving anyone an oracle: expired, already connected or withdrawn each have
/// their own variant. A typed access code is short and guessable, so a code that names an
/// invite in such a state is still just [`SetupError::InvalidLink`].
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The link or code is unknown or malformed (or, for a typed code, no longer usable).
    #[error("invalid or incomplete link")]
    InvalidLink,
    /// The link's invite expired before the store was connected.
    #[error("the invite expired")]
    Expired {
        /// Who asked, so the page can say whom to ask for a new link.
        warehouse: String,
        /// How that warehouse looks (a stored warehouse's brand), for the page.
        brand: Box<Brand>,
        /// When it expired.
        expired_at: Timestamp,
    },
    /// The store was connected through this invite already.
    #[error("already connected")]
    AlreadyConnected {
        /// Who was given access.
        warehouse: String,
        /// How that warehouse looks (a stored warehouse's brand), for the page.
        brand: Box<Brand>,
        /// The cart's name.
        cart: String,
        /// When the connection was made.
        connected_at: Timestamp,
    },
    /// The warehouse withdrew the invite.
    #[error("the invite was withdrawn")]
    Revoked {
        /// Who withdrew it.
        warehouse: String,
        /// How that warehouse looks (a stored warehouse's brand), for the page.
        brand: Box<Brand>,
    },
    /// Too many wrong access codes from this client, or too many uses of one code.
    #[error("too many attempts")]
    TooManyAttempts,
    /// The invite's cart is no longer enabled, or its endpoints cannot be built for the
    /// invite's store.
    #[error("cart unavailable")]
    CartUnavailable,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the grant page shows: the invite, its cart, and the link token its forms use.
pub struct GrantView<'a> {
    /// The invite.
    pub invite: Invite,
    /// The cart, with the client id of the app the invite goes through (never its secret).
    pub cart: Cow<'a, CartSpec>,
    /// The link token the page's form and status poll use.
    pub token: InviteToken,
    /// The origin the grant form's redirect goes to (for the page's `form-action`); `None`
    /// when the merchant starts in their admin.
    pub authorize_origin: Option<String>,
}

/// A started grant: what the browser does next, and the cookie that binds the attempt to it.
pub struct GrantStart<'a> {
    /// The invite and cart it was started for (the grant page shows an admin integration's
    /// settings with them).
    pub view: GrantView<'a>,
    /// Where the merchant goes next.
    pub next: GrantNext,
    /// The browser-binding cookie value.
    pub binding: BrowserBinding,
    /// The state, for a cookie beside the binding, when the cart's callback carries none
    /// ([`StateReturn::Cookie`]).
    pub state_cookie: Option<GrantState>,
}

/// What the merchant does once a grant attempt is started.
pub enum GrantNext {
    /// Go to the cart's authorization request (popup OAuth, key handshakes).
    Redirect(String),
    /// Create an integration in their admin with these settings ([`Flavour::AdminIntegration`]).
    AdminIntegration(IntegrationSettings),
}

/// The URLs a merchant enters in their admin's integration form. Each carries the attempt's
/// one-time nonce (its `state`), so only the attempt's own store delivery is accepted.
pub struct IntegrationSettings {
    /// Where the store posts the integration's credentials on activation:
    /// `<public>/oauth/integration/<cart>/<nonce>`.
    pub callback_url: String,
    /// The page the store opens after activation: `<public>/oauth/identity/<cart>/<nonce>`.
    pub identity_url: String,
    /// When the attempt stops being accepted.
    pub expires_at: Timestamp,
}

/// What the status endpoint reports, for the grant page's poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantProgress {
    /// No attempt yet.
    Ready,
    /// An attempt is out at the cart.
    Waiting,
    /// The merchant declined at the cart; they may try again.
    Declined,
    /// The cart or the exchange failed; they may try again.
    Failed,
    /// Connected.
    Authorized,
    /// The invite expired.
    Expired,
    /// The warehouse withdrew the invite.
    Revoked,
    /// The link is unknown.
    Invalid,
}

impl GrantProgress {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantProgress::Ready => "ready",
            GrantProgress::Waiting => "waiting",
            GrantProgress::Declined => "declined",
            GrantProgress::Failed => "failed",
            GrantProgress::Authorized => "authorized",
            GrantProgress::Expired => "expired",
            GrantProgress::Revoked => "revoked",
            GrantProgress::Invalid => "invalid",
        }
    }
}

fn client_key(client: Option<IpAddr>) -> String {
    let ip = client
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    format!("code-guess:{}", TokenHash::of(&ip).as_str())
}

impl Services {
    /// The invite a link opens, if it may still be granted. Reads only. A known link whose
    /// invite is expired, connected or withdrawn answers the variant that says so.
    pub async fn open_link(&self, raw_token: &str) -> Result<GrantView<'_>, SetupError> {
        let token = InviteToken::parse(raw_token).ok_or(SetupError::InvalidLink)?;
        let hash = token.hash();
        self.open_token(token, &hash).await
    }

    /// [`Services::open_link`] for a parsed link whose hash is `hash`.
    pub(super) async fn open_token(
        &self,
        token: InviteToken,
        hash: &TokenHash,
    ) -> Result<GrantView<'_>, SetupError> {
        let invite = self
            .store
            .invite_by_link(hash)
            .await?
            .ok_or(SetupError::InvalidLink)?;
        if let Some(refusal) = self.why_not_grantable(&invite).await? {
            return Err(refusal);
        }
        self.grant_view(invite, token).await
    }

    /// Why an invite can no longer be granted, as the page that says so; `None` if it can
    /// ([`Invite::standing`] says which fact the merchant is told first).
    async fn why_not_grantable(&self, invite: &Invite) -> Result<Option<SetupError>, StoreError> {
        let warehouse = invite.warehouse.display_name.clone();
        let brand = Box::new(invite.warehouse.brand.clone());
        Ok(match invite.standing(self.clock.now()) {
            Standing::Connected => {
                let connected_at = self
                    .store
                    .connection_for_invite(&invite.id)
                    .await?
                    .map_or(invite.updated_at, |c| c.created_at);
                Some(SetupError::AlreadyConnected {
                    warehouse,
                    brand,
                    cart: self.catalog.display_name(&invite.cart),
                    connected_at,
                })
            }
            Standing::Withdrawn => Some(SetupError::Revoked { warehouse, brand }),
            Standing::Expired => Some(SetupError::Expired {
                warehouse,
                brand,
                expired_at: invite.expires_at,
            }),
            Standing::Closed => Some(SetupError::InvalidLink),
            Standing::Grantable => None,
        })
    }

    async fn grant_view(
        &self,
        invite: Invite,
        token: InviteToken,
    ) -> Result<GrantView<'_>, SetupError> {
        let cart = self
            .catalog
            .get(&invite.cart)
            .ok_or(SetupError::CartUnavailable)?;
        let cart = self.grant_cart(cart, &invite).await?;
        let authorize_origin = match cart.flavour {
            Flavour::AdminIntegration | Flavour::Credentials => None,
            Flavour::PopupOauth | Flavour::KeyHandshake => Some(
                cart.authorize_origin(&cart.input_vars(invite.store.as_deref()))
                    .ok_or(SetupError::CartUnavailable)?,
            ),
        };
        Ok(GrantView {
            invite,
            cart,
            token,
            authorize_origin,
        })
    }

    /// Redeems a typed access code: a new link token is minted for its invite, so the grant page
    /// can be shown. Every typed code is counted per client before it is evaluated
    /// ([`CODE_GUESSES_PER_CLIENT`]); redemptions are counted per code.
    pub async fn redeem_access_code(
        &self,
        typed: &str,
        client: Option<IpAddr>,
    ) -> Result<GrantView<'_>, SetupError> {
        let now = self.clock.now();
        let counted = self
            .count_hit(
                &client_key(client),
                CODE_WINDOW_SECS,
                CODE_GUESSES_PER_CLIENT,
                now,
            )
            .await?;
        if !counted {
            return Err(SetupError::TooManyAttempts);
        }
        let invite = match AccessCode::parse(typed) {
            Some(code) => self.store.invite_by_access_code(&code.hash()).await?,
            None => None,
        };
        let Some(invite) = invite.filter(|i| i.accepts_grant(now)) else {
            tracing::info!(reason = "access_code_invalid", "access code refused");
            return Err(SetupError::InvalidLink);
        };
        let uses_key = format!("code-use:{}", invite.access_code_hash.as_str());
        let redeemable = self
            .count_hit(&uses_key, CODE_LIFE_SECS, REDEMPTIONS_PER_CODE, now)
            .await?;
        if !redeemable {
            return Err(SetupError::TooManyAttempts);
        }
        let token = InviteToken::generate();
        self.store.add_link(&invite.id, &token.hash(), now).await?;
        tracing::info!(invite_id = %invite.id, "access code redeemed");
        self.grant_view(invite, token).await
    }

    /// Starts a grant attempt: a fresh `state`, a browser binding, the PKCE challenge derived
    /// from both, and the invite moved into `granting`, all in one conditional write. For an
    /// admin integration the `state` is the nonce in the URLs the merchant enters in their
    /// admin, and the attempt lives [`Flavour::attempt_ttl_secs`].
    pub async fn start_grant(&self, raw_token: &str) -> Result<GrantStart<'_>, SetupError> {
        let view = self.open_link(raw_token).await?;
        let now = self.clock.now();
        let state = GrantState::generate();
        let binding = BrowserBinding::generate();
        let (next, redirect_uri) = match view.cart.flavour {
            Flavour::AdminIntegration => self.integration_settings(&view, &state, now)?,
            // Typed on the grant page itself ([`Services::connect_with_credentials`]).
            Flavour::Credentials => return Err(SetupError::CartUnavailable),
            Flavour::PopupOauth | Flavour::KeyHandshake => {
                self.authorization_request(&view, &state, &binding)?
            }
        };
        self.begin_grant_attempt(&view, &state, &binding, redirect_uri, now)
            .await?;
        let state_cookie =
            (view.cart.callback.state_return == StateReturn::Cookie).then_some(state);
        Ok(GrantStart {
            view,
            next,
            binding,
            state_cookie,
        })
    }

    /// Writes a new open attempt of `view`'s invite (`state`, `binding`, the redirect value
    /// the cart is sent), and records `grant_started`. An invite that changed since it was read
    /// (connected or withdrawn meanwhile) answers why it is no longer grantable.
    pub(super) async fn begin_grant_attempt(
        &self,
        view: &GrantView<'_>,
        state: &GrantState,
        binding: &BrowserBinding,
        redirect_uri: String,
        now: Timestamp,
    ) -> Result<GrantAttempt, SetupError> {
        let attempt = GrantAttempt {
            state_hash: state.hash(),
            invite_id: view.invite.id.clone(),
            cart: view.cart.id.clone(),
            binding_hash: binding.hash(),
            redirect_uri,
            store: view.invite.store.clone(),
            status: AttemptStatus::Open,
            created_at: now,
            expires_at: now.plus_secs(view.cart.flavour.attempt_ttl_secs()),
            claim_until: None,
            app: view.invite.app.clone(),
        };
        match self.store.begin_attempt(&attempt, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                let current = self.store.invite(&view.invite.id).await?;
                let refusal = match current {
                    Some(invite) => self.why_not_grantable(&invite).await?,
                    None => None,
                };
                return Err(refusal.unwrap_or(SetupError::InvalidLink));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(invite_id = %view.invite.id, cart = %view.cart.id, "grant attempt started");
        self.record_invite_event(
            &view.invite.id,
            InviteEventKind::GrantStarted,
            Some(attempt_scope(&attempt.state_hash)),
            None,
        )
        .await;
        Ok(attempt)
    }

    /// The cart's authorization request and the redirect value it carries. Built before
    /// anything is written: a store value that no longer validates, or a host the entry does
    /// not allow, stops here.
    fn authorization_request(
        &self,
        view: &GrantView<'_>,
        state: &GrantState,
        binding: &BrowserBinding,
    ) -> Result<(GrantNext, String), SetupError> {
        let credentials = view
            .cart
            .credentials
            .as_ref()
            .ok_or(SetupError::CartUnavailable)?;
        let verifier = view
            .cart
            .pkce
            .is_used()
            .then(|| PkceVerifier::derive(binding, state));
        let redirect_uri = match view.cart.redirect {
            Redirect::Callback => self.config.redirect_uri(&view.cart.id),
            Redirect::RuName => credentials
                .ru_name
                .clone()
                .ok_or(SetupError::CartUnavailable)?,
        };
        let scopes = view
            .cart
            .scopes_for_store(&view.invite.functions, view.invite.store.as_deref());
        let vars = view.cart.input_vars(view.invite.store.as_deref());
        let url = authorize_url(
            &view.cart,
            credentials,
            &AuthorizeRequest {
                vars: &vars,
                redirect: &redirect_uri,
                scopes: &scopes,
                state,
                verifier: verifier.as_ref(),
                public_base: &self.config.public_base_url,
            },
        )
        .map_err(|e| {
            tracing::warn!(invite_id = %view.invite.id, cart = %view.cart.id, error = %e, "authorize URL refused");
            SetupError::CartUnavailable
        })?;
        Ok((GrantNext::Redirect(url.to_string()), redirect_uri))
    }

    /// The URLs of an admin integration, and the callback base recorded on the attempt. The
    /// token endpoints are built first, so a store value that no longer validates, or a host
    /// the entry does not allow, stops here.
    fn integration_settings(
        &self,
        view: &GrantView<'_>,
        state: &GrantState,
        now: Timestamp,
    ) -> Result<(GrantNext, String), SetupError> {
        let TokenRequest::OAuth1(spec) = &view.cart.token_request else {
            return Err(SetupError::CartUnavailable);
        };
        let vars = view.cart.input_vars(view.invite.store.as_deref());
        for template in [&spec.request_token_url, &view.cart.token_url] {
            view.cart.endpoint(template, &vars).map_err(|e| {
                tracing::warn!(invite_id = %view.invite.id, cart = %view.cart.id, error = %e, "integration endpoint refused");
                SetupError::CartUnavailable
            })?;
        }
        let callback_base = self
            .config
            .public_url(&format!("/oauth/integration/{}", view.cart.id));
        let settings = IntegrationSettings {
            callback_url: format!("{callback_base}/{}", state.expose()),
            identity_url: self.config.public_url(&format!(
                "/oauth/identity/{}/{}",
                view.cart.id,
                state.expose()
            )),
            expires_at: now.plus_secs(view.cart.flavour.attempt_ttl_secs()),
        };
        Ok((GrantNext::AdminIntegration(settings), callback_base))
    }

    /// Where the grant of the invite behind a link stands. Reads only.
    pub async fn grant_progress(&self, raw_token: &str) -> Result<GrantProgress, SetupError> {
        let Some(token) = InviteToken::parse(raw_token) else {
            return Ok(GrantProgress::Invalid);
        };
        let Some(invite) = self.store.invite_by_link(&token.hash()).await? else {
            return Ok(GrantProgress::Invalid);
        };
        match invite.standing(self.clock.now()) {
            Standing::Connected => return Ok(GrantProgress::Authorized),
            Standing::Withdrawn => return Ok(GrantProgress::Revoked),
            Standing::Expired => return Ok(GrantProgress::Expired),
            Standing::Closed => return Ok(GrantProgress::Invalid),
            Standing::Grantable => {}
        }
        Ok(match self.store.latest_attempt(&invite.id).await? {
            None => GrantProgress::Ready,
            Some(a) => match a.effective_status(self.clock.now()) {
                AttemptStatus::Open | AttemptStatus::Exchanging => GrantProgress::Waiting,
                AttemptStatus::Declined => GrantProgress::Declined,
                AttemptStatus::Failed => GrantProgress::Failed,
                AttemptStatus::Completed => GrantProgress::Authorized,
            },
        })
    }
}

pub mod pages;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pages;
