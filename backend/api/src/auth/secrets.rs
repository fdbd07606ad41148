//! Bearer secrets: random, prefixed by kind (so a leaked one is recognisable in a scan), and
//! stored as SHA-256 (they carry 256 bits of entropy: a slow hash adds nothing).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Device token prefix (residents' apps).
pub const DEVICE_PREFIX: &str = "bdt_";
/// Personal or service API token prefix (staff and operator integrations).
pub const API_TOKEN_PREFIX: &str = "bat_";
/// Web session prefix (cookie).
pub const SESSION_PREFIX: &str = "bst_";

/// A fresh secret with a prefix.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What the database keeps instead of the secret.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}
