//! What a reception-area screen shows, as the JSON its page polls: active notices near it
//! (urgent ones first), the state of each of its services in its district from the newest
//! published month (the releases the transparency page shows, never anything finer), how
//! to report, and the time of this update — with every text ready in each of the screen's
//! languages, and the same content as one text prepared for speech.

use super::ScreensConfig;
use crate::problem::ApiError;
use crate::state::AppState;
use balagh_app::publish::Release;
use balagh_app::stats::{Context, NO_DISTRICT};
use balagh_domain::notify::AreaOfInterest;
use balagh_domain::routing::RouteOutcome;
use balagh_domain::{GeoPoint, Language};
use balagh_i18n::Words;
use balagh_store::{Screen, StoredNotice, Ts};
use serde_json::{Map, Value, json};

/// Notices read around a screen before the exact distance check.
const NOTICE_CANDIDATES: u32 = 200;
/// Notices a screen shows at most (urgent ones first, then the nearest): what fits in
/// large type.
const NOTICES_SHOWN: usize = 4;

/// The seconds after the start of each polling interval at which this screen polls,
/// derived from its token's hash so that screens spread over the interval.
pub fn poll_offset(token_hash: &[u8], poll_seconds: u64) -> u64 {
    let mut first = [0u8; 8];
    for (i, b) in token_hash.iter().take(8).enumerate() {
        first[i] = *b;
    }
    u64::from_be_bytes(first) % poll_seconds.max(1)
}

/// A notice near the screen, with its distance.
struct Near {
    notice: StoredNotice,
    distance_m: f64,
}

/// One service's published state in its district.
struct ServiceState {
    code: String,
    district: String,
    /// The contract zone's name, as people know it.
    district_name: Option<String>,
    new: Option<u64>,
    resolved: Option<u64>,
    within_sla: Option<f64>,
    median_minutes_to_resolve: Option<u64>,
}

/// The whole content of a screen now.
pub async fn build(
    state: &AppState,
    config: &ScreensConfig,
    screen: &Screen,
    token_hash: &[u8],
    app_url: &str,
) -> Result<Value, ApiError> {
    let ctx = Context::new(state, Some(&screen.jurisdiction_id)).ok_or(ApiError::NotFound)?;
    let point = GeoPoint::parse(screen.lat, screen.lon).map_err(|_| ApiError::NotFound)?;
    let now = Ts::now();
    let near = near_notices(state, config, screen, &point, now).await?;
    let release = newest_month(state, &ctx).await?;
    let services = service_states(&ctx, screen, &point, release.as_ref());
    let languages: Vec<Language> = screen
        .languages
        .iter()
        .filter_map(|l| Language::parse(l))
        .collect();
    let mut texts = Map::new();
    for language in &languages {
        let view = TextView {
            ctx: &ctx,
            config,
            words: Words::new(*language),
            language: *language,
            app_url,
            updated: ctx.jurisdiction.local_time(now.get()),
        };
        texts.insert(
            language.code().to_owned(),
            view.texts(&near, release.as_ref(), &services),
        );
    }
    let poll_seconds = config.poll_seconds;
    Ok(json!({
        "screen": {
            "id": screen.id,
            "name": screen.name,
            "orientation": screen.orientation,
            "languages": screen.languages,
        },
        "generated_at": now.get().format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "poll_seconds": poll_seconds,
        "offset_seconds": poll_offset(token_hash, poll_seconds),
        "stale_after_seconds": config.stale_after_seconds,
        "rotate_seconds": config.rotate_seconds,
        "urgent": near.iter().any(|n| n.notice.urgent),
        "notices": near.iter().map(|n| json!({
            "id": n.notice.id,
            "kind": n.notice.kind,
            "urgent": n.notice.urgent,
            "service_codes": n.notice.service_codes,
            "valid_until": n.notice.valid_until.get()
                .format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "distance_m": (n.distance_m * 10.0).round() / 10.0,
        })).collect::<Vec<_>>(),
        "figures": {
            "period": release.as_ref().map(|r| r.label.clone()),
            "from": release.as_ref().map(|r| r.from.clone()),
            "to": release.as_ref().map(|r| r.to.clone()),
            "services": services.iter().map(|s| json!({
                "service": s.code,
                "district": s.district,
                "new": s.new,
                "resolved": s.resolved,
                "within_sla": s.within_sla,
                "median_minutes_to_resolve": s.median_minutes_to_resolve,
            })).collect::<Vec<_>>(),
        },
        "how": {
            "url": app_url,
            "sms_number": config.sms_number,
        },
        "texts": texts,
    }))
}

/// The screen's services' running notices within reach of it, urgent ones first, then the
/// nearest, at most [`NOTICES_SHOWN`].
async fn near_notices(
    state: &AppState,
    config: &ScreensConfig,
    screen: &Screen,
    point: &GeoPoint,
    now: Ts,
) -> Result<Vec<Near>, ApiError> {
    let around = AreaOfInterest::parse(
        point.lat(),
        point.lon(),
        config.notice_radius_m.max(AreaOfInterest::MIN_RADIUS_M),
    )
    .map_err(ApiError::InvalidParameter)?;
    let candidates = state
        .stale_reads()
        .active_notices(&around.bbox(), now, NOTICE_CANDIDATES)
        .await?;
    let mut near: Vec<Near> = candidates
        .into_iter()
        .filter(|n| n.jurisdiction_id == screen.jurisdiction_id)
        .filter(|n| {
            n.service_codes
                .iter()
                .any(|c| screen.service_codes.contains(c))
        })
        .filter_map(|notice| {
            let distance_m = balagh_app::notify::notice_area(&notice)
                .ok()?
                .distance_m(point);
            (distance_m <= config.notice_radius_m).then_some(Near { notice, distance_m })
        })
        .collect();
    near.sort_by(|a, b| {
        b.notice
            .urgent
            .cmp(&a.notice.urgent)
            .then(a.distance_m.total_cmp(&b.distance_m))
    });
    near.truncate(NOTICES_SHOWN);
    Ok(near)
}

/// The newest released month: what `GET /api/v1/stats/summary` shows by default.
async fn newest_month(state: &AppState, ctx: &Context) -> Result<Option<Release>, ApiError> {
    let periods = balagh_app::stats::periods(
        balagh_app::stats::PeriodKind::Month,
        None,
        None,
        ctx.last_publishable_day(),
    )
    .map_err(ApiError::InvalidParameter)?;
    let ids: Vec<String> = periods.iter().map(|p| Release::id_of(ctx, p)).collect();
    Ok(balagh_app::publish::job::read(state, &ids).await?.pop())
}

/// Each service of the screen in the district (contract zone) that serves the screen's
/// place, with the figures the release publishes for that district and service.
fn service_states(
    ctx: &Context,
    screen: &Screen,
    point: &GeoPoint,
    release: Option<&Release>,
) -> Vec<ServiceState> {
    let summary = release.map(|r| balagh_app::publish::view::summary_json(ctx, r));
    let now = time::OffsetDateTime::now_utc();
    screen
        .service_codes
        .iter()
        .filter_map(|code| ctx.services.iter().find(|s| s.code.as_str() == code))
        .map(|service| {
            let contract =
                match ctx
                    .catalog
                    .router()
                    .route(&ctx.jurisdiction.id, &service.group, point, now)
                {
                    RouteOutcome::Routed { contract, .. } => ctx.catalog.contract(contract),
                    RouteOutcome::Unrouted => None,
                };
            let district = contract
                .and_then(|c| balagh_app::stats::district_slug(&c.zone_name))
                .map_or_else(|| NO_DISTRICT.to_owned(), |s| s.as_str().to_owned());
            let code = service.code.as_str().to_owned();
            let cell = |measure: &str| {
                summary.as_ref().and_then(|s| {
                    s[measure]["rows"]
                        .as_array()?
                        .iter()
                        .find(|r| r["district"] == district.as_str())?["services"][&code]
                        .as_u64()
                })
            };
            let figures = summary.as_ref().and_then(|s| {
                s["services"]
                    .as_array()?
                    .iter()
                    .find(|f| f["service"] == code.as_str())
                    .cloned()
            });
            ServiceState {
                new: cell("new"),
                resolved: cell("resolved"),
                within_sla: figures.as_ref().and_then(|f| f["within_sla"].as_f64()),
                median_minutes_to_resolve: figures
                    .as_ref()
                    .and_then(|f| f["median_minutes_to_resolve"].as_u64()),
                district_name: contract.map(|c| c.zone_name.clone()),
                district,
                code,
            }
        })
        .collect()
}

/// The texts of one language.
struct TextView<'a> {
    ctx: &'a Context,
    config: &'a ScreensConfig,
    words: Words,
    language: Language,
    app_url: &'a str,
    updated: String,
}

impl TextView<'_> {
    fn texts(&self, near: &[Near], release: Option<&Release>, services: &[ServiceState]) -> Value {
        let w = &self.words;
        let notices: Vec<Value> = near.iter().map(|n| self.notice(n)).collect();
        let service_texts: Vec<Value> = services.iter().map(|s| self.service(s)).collect();
        let period = release.map(|r| w.t1("screen-services-period", "period", r.label.clone()));
        let how = self.how();
        let updated = w.t1("screen-updated", "time", self.updated.clone());
        let mut speech: Vec<String> = Vec::new();
        let urgent = near.iter().any(|n| n.notice.urgent);
        speech.push(if urgent {
            w.t("screen-urgent-heading")
        } else {
            w.t("screen-notices-heading")
        });
        if notices.is_empty() {
            speech.push(w.t("screen-no-notices"));
        }
        for n in &notices {
            for key in ["title", "body", "until"] {
                speech.push(n[key].as_str().unwrap_or_default().to_owned());
            }
        }
        if !urgent {
            speech.push(w.t("screen-services-heading"));
            speech.extend(period.clone());
            for s in &service_texts {
                speech.push(s["name"].as_str().unwrap_or_default().to_owned());
                speech.extend(
                    s["lines"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned),
                );
            }
            speech.push(w.t("screen-how-heading"));
            speech.extend(how.iter().cloned());
        }
        speech.push(updated.clone());
        json!({
            "lang": self.language.code(),
            "dir": w.dir(),
            "title": w.t("screen-title"),
            "notices_heading": w.t("screen-notices-heading"),
            "urgent_heading": w.t("screen-urgent-heading"),
            "no_notices": w.t("screen-no-notices"),
            "notices": notices,
            "services_heading": w.t("screen-services-heading"),
            "services_period": period.unwrap_or_else(|| w.t("screen-services-none")),
            "services": service_texts,
            "how_heading": w.t("screen-how-heading"),
            "how": how,
            "qr_label": w.t("screen-qr-label"),
            "updated": updated,
            "stale": w.t1("screen-stale", "time", self.updated.clone()),
            "listen": w.t("screen-listen"),
            "revoked": w.t("screen-revoked"),
            "speech": speech
                .iter()
                .map(|s| strip_isolates(s).trim_end_matches('.').to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(". "),
        })
    }

    fn notice(&self, n: &Near) -> Value {
        let view = balagh_app::notify::notice_view(
            &n.notice,
            self.language,
            self.ctx.jurisdiction.default_language,
            None,
        );
        json!({
            "id": n.notice.id,
            "urgent": n.notice.urgent,
            "lang": view.language,
            "title": view.title,
            "body": view.body,
            "until": self.words.t1(
                "screen-notice-until",
                "time",
                self.ctx.jurisdiction.local_time(n.notice.valid_until.get()),
            ),
        })
    }

    fn service(&self, s: &ServiceState) -> Value {
        let w = &self.words;
        let count = |id: &str, v: Option<u64>| match v {
            Some(n) => w.t1(id, "count", n),
            None => format!("{} ({})", w.t1(id, "count", "–"), w.t("screen-withheld")),
        };
        let mut lines = vec![
            count("screen-new", s.new),
            count("screen-resolved", s.resolved),
        ];
        if let Some(share) = s.within_sla {
            let percent = (share * 100.0).round() as u64;
            lines.push(w.t1("screen-within-sla", "percent", percent));
        }
        if let Some(minutes) = s.median_minutes_to_resolve {
            let hours = ((minutes as f64) / 6.0).round() / 10.0;
            lines.push(w.t1("screen-median", "hours", format!("{hours}")));
        }
        let district = s.district_name.clone().unwrap_or_else(|| {
            if s.district == NO_DISTRICT {
                w.t("screen-outside-zones")
            } else {
                s.district.clone()
            }
        });
        json!({
            "service": s.code,
            "name": crate::web::public::service_name(self.ctx, &s.code, self.language),
            "district": w.t1("screen-district", "district", district),
            "lines": lines,
        })
    }

    fn how(&self) -> Vec<String> {
        let w = &self.words;
        let mut lines = vec![w.t1("screen-how-web", "url", self.app_url.to_owned())];
        if let Some(number) = &self.config.sms_number {
            lines.push(w.t1("screen-how-sms", "number", number.clone()));
        }
        let hours = self
            .config
            .counter_hours
            .get(self.language.code())
            .or_else(|| {
                self.config
                    .counter_hours
                    .get(self.ctx.jurisdiction.default_language.code())
            });
        if let Some(hours) = hours {
            lines.push(w.t1("screen-how-counter", "hours", hours.clone()));
        }
        lines
    }
}

/// Fluent wraps arguments in Unicode isolation marks; speech engines may read them.
fn strip_isolates(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_spread_over_the_interval() {
        assert_eq!(poll_offset(&[0, 0, 0, 0, 0, 0, 0, 61], 60), 1);
        let offsets: std::collections::BTreeSet<u64> = (0u32..100)
            .map(|i| {
                let hash = crate::auth::secrets::hash(&format!("scr_{i}"));
                let offset = poll_offset(&hash, 60);
                assert!(offset < 60);
                offset
            })
            .collect();
        assert!(offsets.len() > 30, "{offsets:?}");
        assert_eq!(poll_offset(&[1, 2, 3], 0), 0);
    }

    #[test]
    fn speech_has_no_isolation_marks() {
        assert_eq!(strip_isolates("à \u{2068}12:00\u{2069}"), "à 12:00");
    }
}
