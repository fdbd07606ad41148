//! Signed webhook deliveries from Balagh to the operators holding service contracts.
//!
//! Every ticket event (`ticket.created`, `ticket.updated`, `ticket.reopened`,
//! `ticket.sla_warning`, `ticket.sla_breached`) is POSTed to the operator's own endpoint,
//! at least once, following the [Standard Webhooks](https://www.standardwebhooks.com)
//! specification so operators can verify it with any off-the-shelf library:
//!
//! - [`secret`]: the per-endpoint signing secret (`whsec_…`), kept out of logs.
//! - [`signature`]: signing and verifying the `webhook-*` headers (HMAC-SHA256).
//! - [`retry`]: when to try again after a failure, and when to give up (dead-letter).
//! - [`delivery`]: one HTTP attempt and its classified outcome.
//!
//! The crate holds no state and does no scheduling: the outbox worker owns the queue,
//! stores attempts, and asks [`retry::RetryPolicy`] when to come back.

pub mod delivery;
pub mod retry;
pub mod secret;
pub mod signature;

pub use delivery::{AttemptOutcome, WebhookMessage, attempt, http_client};
pub use retry::RetryPolicy;
pub use secret::{SecretError, WebhookSecret};
pub use signature::{DEFAULT_TOLERANCE, VerifyError, sign, verify, verify_headers};
