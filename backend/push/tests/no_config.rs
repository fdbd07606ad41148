//! Without configuration (the embedded default) messages are logged, not sent, and the log
//! never holds a token or endpoint in full.

use std::io::Write;
use std::sync::{Arc, Mutex};

use balagh_push::{PushClient, PushMessage, PushSettings, PushTarget, SendOutcome};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn unconfigured_client_logs_instead_of_sending() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = PushClient::new(PushSettings::default()).unwrap();
    assert_eq!(client.vapid_public_key(), None);
    let message = PushMessage::new("Nouvel avis", "Coupure d'éclairage avenue Mohammed V");
    let fcm_token = "fcm-registration-token-0123456789abcdefghijklmnop";
    let endpoint = "https://push.example.org/wpush/v2/subscription-capability-xyz";
    let fcm = PushTarget::Fcm {
        token: fcm_token.into(),
    };
    let web = PushTarget::WebPush {
        endpoint: endpoint.into(),
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
        auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
    };
    assert_eq!(client.send(&fcm, &message).await, SendOutcome::Logged);
    assert_eq!(client.send(&web, &message).await, SendOutcome::Logged);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.matches(" INFO ").count(), 2, "{log}");
    assert!(log.contains("Nouvel avis"), "{log}");
    assert!(log.contains("fcm-re"), "{log}");
    assert!(log.contains("https://push.example.org"), "{log}");
    assert!(!log.contains(fcm_token), "{log}");
    assert!(!log.contains("subscription-capability-xyz"), "{log}");
    assert!(!log.contains("BTBZMqHH6r4Tts7J_aSIgg"), "{log}");
}
