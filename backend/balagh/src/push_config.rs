//! `[push]` and its flags: how residents' devices are reached (FCM, Web Push).

use crate::config::secret_from_env;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[push]`: how residents' devices are reached. Without FCM or VAPID settings pushes are
/// logged, not sent (and not lost: they are delivered once configured only if still pending).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushFileConfig {
    /// Google service-account JSON key file with the `firebase.messaging` permission.
    pub fcm_service_account_file: Option<PathBuf>,
    /// FCM base URL [default: https://fcm.googleapis.com/].
    pub fcm_base_url: Option<String>,
    /// VAPID private key for Web Push: base64url of the 32-byte P-256 scalar.
    pub vapid_private_key: Option<balagh_objects::Secret>,
    /// VAPID contact, `mailto:` or `https:` [default: mailto:balagh@localhost].
    pub vapid_subject: Option<String>,
    /// Timeout of one push request, in seconds [default: 10].
    pub timeout_seconds: Option<u64>,
}

/// Push flags and environment variables. The VAPID key comes from the environment or the
/// file only (`BALAGH_PUSH_VAPID_PRIVATE_KEY`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PushArgs {
    /// Google service-account JSON key file for FCM (pushes are logged without it)
    #[arg(
        long = "push-fcm-service-account-file",
        env = "BALAGH_PUSH_FCM_SERVICE_ACCOUNT_FILE"
    )]
    pub fcm_service_account_file: Option<PathBuf>,
    /// FCM base URL [default: https://fcm.googleapis.com/]
    #[arg(long = "push-fcm-base-url", env = "BALAGH_PUSH_FCM_BASE_URL")]
    pub fcm_base_url: Option<String>,
    /// VAPID subject (mailto: or https:) for Web Push
    #[arg(long = "push-vapid-subject", env = "BALAGH_PUSH_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,
}

pub const PUSH_VAPID_KEY_ENV: &str = "BALAGH_PUSH_VAPID_PRIVATE_KEY";

/// Push senders from all layers.
pub fn resolve_push(
    args: &PushArgs,
    file: &PushFileConfig,
) -> Result<balagh_push::PushSettings, String> {
    let mut settings = balagh_push::PushSettings::default();
    if let Some(seconds) = file.timeout_seconds {
        settings.timeout = Duration::from_secs(seconds.max(1));
    }
    if let Some(path) = args
        .fcm_service_account_file
        .clone()
        .or_else(|| file.fcm_service_account_file.clone())
    {
        let key = balagh_push::ServiceAccountKey::from_file(&path)
            .map_err(|e| format!("push.fcm_service_account_file {}: {e}", path.display()))?;
        let mut fcm = balagh_push::FcmConfig::new(key);
        if let Some(base) = args
            .fcm_base_url
            .clone()
            .or_else(|| file.fcm_base_url.clone())
        {
            let base = if base.ends_with('/') {
                base
            } else {
                format!("{base}/")
            };
            fcm.base_url = base
                .parse()
                .map_err(|e| format!("push.fcm_base_url: {e}"))?;
        }
        settings.fcm = Some(fcm);
    }
    let vapid = secret_from_env(PUSH_VAPID_KEY_ENV).or_else(|| file.vapid_private_key.clone());
    if let Some(key) = vapid {
        let subject = args
            .vapid_subject
            .clone()
            .or_else(|| file.vapid_subject.clone())
            .unwrap_or_else(|| "mailto:balagh@localhost".to_owned());
        settings.web_push = Some(
            balagh_push::WebPushConfig::from_base64url(key.expose(), subject)
                .map_err(|e| format!("push.vapid_private_key: {e}"))?,
        );
    }
    Ok(settings)
}
