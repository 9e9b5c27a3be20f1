//! cartlink's shared crate: the domain, the ports with their adapters, the services every
//! Lambda handler and the local server run, and the HTTP types they share. Each adapter family
//! is a cargo feature (`aws`, `embedded`); `wiring` builds the services on one of them.

pub mod carts;
pub mod clock;
pub mod config;
pub mod domain;
pub mod email;
pub mod events;
pub mod i18n;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod mailer;
pub mod memo;
pub mod net;
pub mod oauth;
pub mod service;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod vault;
pub mod views;
pub mod web;
pub mod webhooks;
#[cfg(any(feature = "aws", feature = "embedded"))]
pub mod wiring;
