//! The change mark of the store port behind the fault plan.

use super::FaultyStore;
use crate::store::ChangeWatch;

/// Each read of a faulty store is a chance to fail as planned, so nothing read is reused (the
/// default `None`), though the store it wraps could tell.
impl ChangeWatch for FaultyStore {}
