//! Signed, expiring URLs for a store that cannot presign (a local directory): the server
//! hands out `PATH?expires=UNIX&sig=…` and checks it when the URL comes back.

use crate::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
}

/// HMAC-SHA256 over the method, the path and the expiry time.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(***)")
    }
}

impl UrlSigner {
    /// A key derived from a configured secret: every replica given the same secret accepts
    /// the others' URLs.
    pub fn from_secret(secret: &Secret) -> Self {
        Self {
            key: Sha256::digest(secret.expose().as_bytes()).into(),
        }
    }

    /// A random key: URLs stop working when the process restarts (they live minutes).
    pub fn random() -> Self {
        Self {
            key: rand::random(),
        }
    }

    fn mac(&self, method: &str, path: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(method.as_bytes());
        mac.update(b"\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The `sig` parameter for `method path` valid until `expires` (Unix seconds).
    pub fn sign(&self, method: &str, path: &str, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(method, path, expires).finalize().into_bytes())
    }

    /// `PATH?expires=…&sig=…`.
    pub fn signed_path(&self, method: &str, path: &str, expires: i64) -> String {
        format!(
            "{path}?expires={expires}&sig={}",
            self.sign(method, path, expires)
        )
    }

    /// Checks a URL that came back: the signature first (so nothing is learnt from a forged
    /// one), then the expiry against `now` (Unix seconds).
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> Result<(), UrlRefusal> {
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| UrlRefusal::BadSignature)?;
        self.mac(method, path, expires)
            .verify_slice(&sig)
            .map_err(|_| UrlRefusal::BadSignature)?;
        if now > expires {
            return Err(UrlRefusal::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_verify_and_nothing_else_does() {
        let signer = UrlSigner::from_secret(&Secret::new("k"));
        let sig = signer.sign("PUT", "/api/v1/uploads/x", 1000);
        assert_eq!(
            signer.verify("PUT", "/api/v1/uploads/x", 1000, &sig, 999),
            Ok(())
        );
        assert_eq!(
            signer.verify("PUT", "/api/v1/uploads/x", 1000, &sig, 1000),
            Ok(())
        );
        assert_eq!(
            signer.verify("PUT", "/api/v1/uploads/x", 1000, &sig, 1001),
            Err(UrlRefusal::Expired)
        );
        // Another path, method or expiry, or another key: refused.
        for (method, path, expires) in [
            ("PUT", "/api/v1/uploads/y", 1000),
            ("GET", "/api/v1/uploads/x", 1000),
            ("PUT", "/api/v1/uploads/x", 99_999),
        ] {
            assert_eq!(
                signer.verify(method, path, expires, &sig, 0),
                Err(UrlRefusal::BadSignature)
            );
        }
        let other = UrlSigner::from_secret(&Secret::new("k2"));
        assert_eq!(
            other.verify("PUT", "/api/v1/uploads/x", 1000, &sig, 0),
            Err(UrlRefusal::BadSignature)
        );
        // One character changed.
        let mut tampered = sig.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            signer.verify("PUT", "/api/v1/uploads/x", 1000, &tampered, 0),
            Err(UrlRefusal::BadSignature)
        );
        assert_eq!(
            signer.verify("PUT", "/api/v1/uploads/x", 1000, "%%%", 0),
            Err(UrlRefusal::BadSignature)
        );
        assert_eq!(format!("{signer:?}"), "UrlSigner(***)");
        assert_eq!(
            signer.signed_path("PUT", "/p", 5),
            format!("/p?expires=5&sig={}", signer.sign("PUT", "/p", 5))
        );
    }
}
