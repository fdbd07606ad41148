//! Opaque page cursors: a position `(time, id)` in a list ordered by time then id, as
//! URL-safe base64 of `micros:uuid`. Clients pass back what they were given.

use crate::problem::{ApiError, ApiResult};
use balagh_domain::FieldError;
use balagh_store::Ts;
use base64::Engine;
use uuid::Uuid;

pub fn encode(at: Ts, id: Uuid) -> String {
    let micros = at.get().unix_timestamp_nanos() / 1_000;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{micros}:{id}"))
}

pub fn decode(raw: &str) -> ApiResult<(Ts, Uuid)> {
    let bad = || {
        ApiError::InvalidParameter(FieldError::new(
            "cursor",
            "is not a cursor from a previous page",
        ))
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let micros: i128 = micros.parse().map_err(|_| bad())?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| bad())?;
    Ok((Ts::new(at), Uuid::parse_str(id).map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = Ts::new(time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap());
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        assert!(decode("not a cursor").is_err());
        assert!(decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1:x")).is_err());
    }
}
