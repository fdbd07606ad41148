//! `[screens]` of the configuration file: what the reception-area screens show besides
//! their own data, and how often they poll.

use crate::config::ScreensFileConfig;

/// The screens' settings from the file.
pub fn resolve(file: &ScreensFileConfig) -> Result<balagh_api::ScreensConfig, String> {
    let defaults = balagh_api::ScreensConfig::default();
    let seconds = |name: &str, v: Option<u64>, default: u64| match v {
        None => Ok(default),
        Some(s) if (1..=3_600).contains(&s) => Ok(s),
        Some(_) => Err(format!("screens.{name}: between 1 and 3600 seconds")),
    };
    let radius = file.notice_radius_m.unwrap_or(defaults.notice_radius_m);
    if !(radius.is_finite() && (0.0..=20_000.0).contains(&radius)) {
        return Err("screens.notice_radius_m: between 0 and 20000 metres".into());
    }
    if let Some(code) = file
        .counter_hours
        .iter()
        .flatten()
        .map(|(code, _)| code)
        .find(|code| balagh_domain::Language::parse(code).is_none())
    {
        return Err(format!("screens.counter_hours: unknown language {code}"));
    }
    Ok(balagh_api::ScreensConfig {
        sms_number: file.sms_number.clone(),
        counter_hours: file.counter_hours.clone().unwrap_or_default(),
        public_url: file.public_url.clone(),
        poll_seconds: seconds("poll_seconds", file.poll_seconds, defaults.poll_seconds)?,
        stale_after_seconds: seconds(
            "stale_after_seconds",
            file.stale_after_seconds,
            defaults.stale_after_seconds,
        )?,
        rotate_seconds: seconds(
            "rotate_seconds",
            file.rotate_seconds,
            defaults.rotate_seconds,
        )?,
        notice_radius_m: radius,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_settings_are_checked() {
        let file: crate::config::FileConfig = toml::from_str(
            "[screens]\nsms_number = \"0612 345 678\"\npoll_seconds = 30\n\
             [screens.counter_hours]\nfr = \"8 h 30 - 16 h 30\"\n",
        )
        .unwrap();
        let screens = resolve(&file.screens).unwrap();
        assert_eq!(screens.poll_seconds, 30);
        assert_eq!(screens.stale_after_seconds, 60);
        assert_eq!(screens.counter_hours["fr"], "8 h 30 - 16 h 30");
        for bad in [
            "[screens]\npoll_seconds = 0\n",
            "[screens]\nnotice_radius_m = -1.0\n",
            "[screens.counter_hours]\nde = \"x\"\n",
        ] {
            let file: crate::config::FileConfig = toml::from_str(bad).unwrap();
            assert!(resolve(&file.screens).is_err(), "{bad}");
        }
    }
}
