//! RFC 8291 message encryption for Web Push (the `aes128gcm` content coding of RFC 8188).
//!
//! The sender side ([`encrypt`]) uses `ring` only: an ephemeral ECDH P-256 key, HKDF-SHA-256
//! and AES-128-GCM. [`encrypt_with`] takes the ephemeral private key and salt from the caller
//! (for known-answer tests such as RFC 8291 §5; never reuse either in production), and
//! [`decrypt`] is the user agent's side (used by the Web Push stand-in). Those two need
//! static-key ECDH, which `ring` does not offer, so they use the `p256` crate's arithmetic.
//!
//! The body is one record: `salt(16) || rs(4, = 4096) || idlen(1, = 65) || keyid(65, the
//! ephemeral public key) || AES-128-GCM(plaintext || 0x02)`.

use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement;
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

/// Record size written in the header.
pub const RECORD_SIZE: u32 = 4096;
/// Length of the `aes128gcm` header with a 65-byte key id.
pub const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The largest plaintext RFC 8291 guarantees every push service accepts (the whole body is
/// then 4096 bytes).
pub const MAX_PLAINTEXT: usize = 3993;

const TAG_LEN: usize = 16;

/// Why a message could not be encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    /// `p256dh` is not a 65-byte uncompressed P-256 point on the curve.
    #[error("p256dh is not an uncompressed P-256 public key")]
    BadPublicKey,
    /// `auth` is not 16 bytes.
    #[error("auth secret must be 16 bytes, got {0}")]
    BadAuthSecret(usize),
    /// The ephemeral private key is not a valid P-256 scalar.
    #[error("ephemeral private key is not a valid P-256 scalar")]
    BadPrivateKey,
    /// Longer than [`MAX_PLAINTEXT`].
    #[error("payload is {0} bytes; Web Push allows at most {MAX_PLAINTEXT}")]
    TooLarge(usize),
    /// The system random generator or ECDH failed.
    #[error("cryptographic failure")]
    Crypto,
}

/// Why a body could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than the header, wrong key id length, or more than one record.
    #[error("malformed aes128gcm body: {0}")]
    Malformed(&'static str),
    /// The key id is not a P-256 point, or the private key is invalid.
    #[error("bad key")]
    BadKey,
    /// Authentication failed (wrong keys or tampered data).
    #[error("decryption failed")]
    Aead,
    /// The record's padding does not end with the last-record delimiter 0x02.
    #[error("bad padding delimiter")]
    Padding,
}

/// Encrypts `plaintext` for a subscription (`ua_public`: 65-byte point, `auth`: 16 bytes)
/// with a fresh ephemeral key and salt.
///
/// # Errors
/// [`EncryptError`] for malformed subscription keys, an oversized payload or an RNG failure.
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
    check_inputs(ua_public, auth, plaintext)?;
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EncryptError::Crypto)?;
    let ephemeral = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| EncryptError::Crypto)?;
    let as_public = ephemeral
        .compute_public_key()
        .map_err(|_| EncryptError::Crypto)?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    let shared = agreement::agree_ephemeral(ephemeral, &peer, |secret| {
        let mut out = [0u8; 32];
        out.copy_from_slice(secret);
        out
    })
    .map_err(|_| EncryptError::BadPublicKey)?;
    Ok(seal(
        &shared,
        as_public.as_ref(),
        ua_public,
        auth,
        &salt,
        plaintext,
    ))
}

/// Encrypts with a caller-chosen ephemeral private key (32-byte scalar) and salt: for
/// known-answer tests. Reusing a key or salt across messages breaks confidentiality.
///
/// # Errors
/// As [`encrypt`], plus [`EncryptError::BadPrivateKey`].
pub fn encrypt_with(
    as_private: &[u8; 32],
    salt: &[u8; 16],
    ua_public: &[u8],
    auth: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    check_inputs(ua_public, auth, plaintext)?;
    let as_public = p256_public_key(as_private).ok_or(EncryptError::BadPrivateKey)?;
    let shared = p256_ecdh(as_private, ua_public).ok_or(EncryptError::BadPublicKey)?;
    Ok(seal(&shared, &as_public, ua_public, auth, salt, plaintext))
}

/// The user agent's side: decrypts an `aes128gcm` body with the subscription's private key
/// (32-byte scalar) and auth secret. Accepts a single record only, as Web Push sends.
///
/// # Errors
/// [`DecryptError`] when the body is malformed or does not authenticate.
pub fn decrypt(ua_private: &[u8; 32], auth: &[u8], body: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if body.len() < 21 {
        return Err(DecryptError::Malformed("shorter than the header"));
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let idlen = body[20] as usize;
    if idlen != 65 {
        return Err(DecryptError::Malformed(
            "key id is not a 65-byte P-256 point",
        ));
    }
    if body.len() < 21 + idlen + TAG_LEN + 1 {
        return Err(DecryptError::Malformed("no record"));
    }
    let as_public = &body[21..21 + idlen];
    let record = &body[21 + idlen..];
    if rs < TAG_LEN + 2 || record.len() > rs {
        return Err(DecryptError::Malformed("more than one record"));
    }
    let ua_public = p256_public_key(ua_private).ok_or(DecryptError::BadKey)?;
    let shared = p256_ecdh(ua_private, as_public).ok_or(DecryptError::BadKey)?;
    let (cek, nonce) = derive(&shared, as_public, &ua_public, auth, salt);
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).map_err(|_| DecryptError::Aead)?);
    let mut buf = record.to_vec();
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .map_err(|_| DecryptError::Aead)?;
    let end = plain
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(DecryptError::Padding)?;
    if plain[end] != 0x02 {
        return Err(DecryptError::Padding);
    }
    Ok(plain[..end].to_vec())
}

/// The uncompressed public point (65 bytes) of a raw P-256 scalar, or `None` if the scalar
/// is zero or not below the group order.
pub(crate) fn p256_public_key(private: &[u8; 32]) -> Option<[u8; 65]> {
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    let secret = p256::SecretKey::from_slice(private).ok()?;
    let point = secret.public_key().to_sec1_point(false);
    point.as_bytes().try_into().ok()
}

/// Static-key ECDH: the x coordinate of `private · peer`.
fn p256_ecdh(private: &[u8; 32], peer_public: &[u8]) -> Option<[u8; 32]> {
    use p256::elliptic_curve::point::AffineCoordinates as _;
    let secret = p256::SecretKey::from_slice(private).ok()?;
    let peer = p256::PublicKey::from_sec1_bytes(peer_public).ok()?;
    let shared = (peer.to_projective() * *secret.to_nonzero_scalar()).to_affine();
    shared.x().as_slice().try_into().ok()
}

fn check_inputs(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<(), EncryptError> {
    if ua_public.len() != 65 || ua_public[0] != 0x04 {
        return Err(EncryptError::BadPublicKey);
    }
    if auth.len() != 16 {
        return Err(EncryptError::BadAuthSecret(auth.len()));
    }
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLarge(plaintext.len()));
    }
    Ok(())
}

fn seal(
    shared: &[u8; 32],
    as_public: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    salt: &[u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let (cek, nonce) = derive(shared, as_public, ua_public, auth, salt);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 1 + TAG_LEN);
    out.extend_from_slice(salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(65);
    out.extend_from_slice(as_public);
    let mut record = Vec::with_capacity(plaintext.len() + 1 + TAG_LEN);
    record.extend_from_slice(plaintext);
    record.push(0x02); // last record, no further padding
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).expect("16-byte AES key"));
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut record,
    )
    .expect("a single record is far below AES-GCM's limits");
    out.extend_from_slice(&record);
    out
}

/// RFC 8291 §3.3–3.4: the content-encryption key and nonce for record 0.
fn derive(
    shared: &[u8],
    as_public: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    salt: &[u8],
) -> ([u8; 16], [u8; 12]) {
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    hkdf_sha256(auth, shared, &key_info, &mut ikm);
    let mut cek = [0u8; 16];
    hkdf_sha256(salt, &ikm, b"Content-Encoding: aes128gcm\0", &mut cek);
    let mut nonce = [0u8; 12];
    hkdf_sha256(salt, &ikm, b"Content-Encoding: nonce\0", &mut nonce);
    (cek, nonce)
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    prk.expand(&[info], Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output of at most 32 bytes");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{b64url, b64url_decode};

    fn arr<const N: usize>(s: &str) -> [u8; N] {
        b64url_decode(s).unwrap().try_into().unwrap()
    }

    #[test]
    fn round_trip_with_random_keys() {
        let ua_private: [u8; 32] = arr("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94");
        let ua_public = p256_public_key(&ua_private).unwrap();
        let auth = [7u8; 16];
        let body = encrypt(&ua_public, &auth, b"hello").unwrap();
        assert_eq!(body.len(), HEADER_LEN + 5 + 1 + TAG_LEN);
        assert_eq!(decrypt(&ua_private, &auth, &body).unwrap(), b"hello");
        // A different auth secret does not authenticate.
        assert_eq!(
            decrypt(&ua_private, &[8u8; 16], &body),
            Err(DecryptError::Aead)
        );
        // Two encryptions of the same text differ (fresh key and salt).
        let again = encrypt(&ua_public, &auth, b"hello").unwrap();
        assert_ne!(b64url(&body), b64url(&again));
    }

    #[test]
    fn limits_are_enforced() {
        let ua_public = p256_public_key(&[1u8; 32]).unwrap();
        let big = vec![b'x'; MAX_PLAINTEXT + 1];
        assert_eq!(
            encrypt(&ua_public, &[0u8; 16], &big),
            Err(EncryptError::TooLarge(MAX_PLAINTEXT + 1))
        );
        let max = vec![b'x'; MAX_PLAINTEXT];
        assert_eq!(encrypt(&ua_public, &[0u8; 16], &max).unwrap().len(), 4096);
        assert_eq!(
            encrypt(&ua_public, &[0u8; 15], b"x"),
            Err(EncryptError::BadAuthSecret(15))
        );
        assert_eq!(
            encrypt(&[4u8; 65], &[0u8; 16], b"x"),
            Err(EncryptError::BadPublicKey)
        );
    }
}
