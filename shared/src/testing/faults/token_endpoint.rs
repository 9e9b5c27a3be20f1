//! The token endpoint port behind a [`super::FaultPlan`].

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use super::{FaultPlan, Port};
use crate::domain::{Secret, TokenSet};
use crate::oauth::{CodeExchange, OAuth1Call, OAuth1Token, OAuthError, RefreshCall, TokenEndpoint};

/// The token endpoint port behind a [`FaultPlan`].
pub struct FaultyTokenEndpoint {
    inner: Arc<dyn TokenEndpoint>,
    plan: Arc<FaultPlan>,
}

impl FaultyTokenEndpoint {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn TokenEndpoint>, plan: Arc<FaultPlan>) -> Self {
        FaultyTokenEndpoint { inner, plan }
    }
}

fn cart_unreachable(why: &'static str) -> OAuthError {
    OAuthError::Unreachable(why.into())
}

#[async_trait]
impl TokenEndpoint for FaultyTokenEndpoint {
    async fn exchange_code(&self, x: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "exchange_code",
                self.inner.exchange_code(x),
                cart_unreachable,
            )
            .await
    }

    async fn verify_keys(
        &self,
        url: &Url,
        check: crate::carts::CredentialCheck,
        key: &Secret,
        secret: &Secret,
    ) -> Result<(), OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "verify_keys",
                self.inner.verify_keys(url, check, key, secret),
                cart_unreachable,
            )
            .await
    }

    async fn refresh(&self, r: RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "refresh",
                self.inner.refresh(r),
                cart_unreachable,
            )
            .await
    }

    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "oauth1_token",
                self.inner.oauth1_token(call),
                cart_unreachable,
            )
            .await
    }

    async fn revoke(&self, call: crate::oauth::RevokeCall<'_>) -> Result<(), OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "revoke",
                self.inner.revoke(call),
                cart_unreachable,
            )
            .await
    }

    async fn app_token(
        &self,
        credentials: &crate::carts::ClientCredentials,
        token_url: &Url,
        scope: &str,
    ) -> Result<Secret, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "app_token",
                self.inner.app_token(credentials, token_url, scope),
                cart_unreachable,
            )
            .await
    }

    async fn get_json(
        &self,
        url: &Url,
        bearer: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "get_json",
                self.inner.get_json(url, bearer, token_header),
                cart_unreachable,
            )
            .await
    }

    async fn post_json(
        &self,
        url: &Url,
        bearer: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.plan
            .guard(
                Port::TokenEndpoint,
                "post_json",
                self.inner.post_json(url, bearer, body),
                cart_unreachable,
            )
            .await
    }
}
