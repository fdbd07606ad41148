//! Who is calling: residents' devices, commune staff and operator staff, and what each may
//! do. Secrets (passwords, tokens, session ids) are only ever stored hashed.

pub mod password;
pub mod principal;
pub mod secrets;

pub use principal::{Caller, OperatorCaller, StaffCaller, require_role};
