//! Per-service videos and easy-to-read text (issue 20): staff set them, the public service
//! list and the resident app show them beside the service.
//!
//! Languages are BCP 47 tags: the page languages `fr`, `ar`, `en`, and others such as `ary`
//! (Darija) or `zgh` (Amazigh); Moroccan Sign Language is `xms` (ISO 639-3, the form BCP 47
//! prefers; `sgn-MA` is accepted and stored as `xms`). Video URLs are `https` only: the
//! resident app's CSP lets `<video>` load from exactly the origins of the stored videos.

use crate::auth::principal::{Staff, StaffAdmin};
use crate::extract::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use balagh_domain::{FieldError, Language};
use balagh_i18n::Words;
use balagh_store::{ServiceMedia, ServiceVideo};
use balagh_wire::{ServiceMediaRequest, ServiceMediaView, ServiceVideoView};
use std::collections::BTreeMap;

const MAX_VIDEOS: usize = 12;
const MAX_URL: usize = 2000;
const MAX_TITLE: usize = 200;
const MAX_EASY_READ: usize = 2000;

/// A well-formed BCP 47 tag in its canonical case (`sgn-MA` becomes `xms`), or `None`.
/// Checked: a 2–3 letter primary language, then subtags of 1–8 letters or digits.
pub fn language_tag(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 35 {
        return None;
    }
    let mut out = Vec::new();
    for (i, part) in raw.split('-').enumerate() {
        let ok = if i == 0 {
            (2..=3).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphabetic())
        } else {
            (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if !ok {
            return None;
        }
        out.push(match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            (_, 2) if part.chars().all(|c| c.is_ascii_alphabetic()) => part.to_ascii_uppercase(),
            (_, 4) if part.chars().all(|c| c.is_ascii_alphabetic()) => {
                let lower = part.to_ascii_lowercase();
                lower[..1].to_ascii_uppercase() + &lower[1..]
            }
            _ => part.to_ascii_lowercase(),
        });
    }
    let tag = out.join("-");
    Some(if tag == "sgn-MA" {
        "xms".to_owned()
    } else {
        tag
    })
}

/// The name of a language tag in `language` (the tag itself when we have no name for it).
pub fn language_name(tag: &str, language: Language) -> String {
    let primary = tag.split('-').next().unwrap_or(tag);
    let id = format!("lang-name-{primary}");
    let name = Words::new(language).t(&id);
    if name == id { tag.to_owned() } else { name }
}

/// An `https` URL with a host and no credentials, or what is wrong with it.
fn video_url(field: &str, raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_URL} characters"),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| FieldError::new(field, "must be a URL"))?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(field, "must be an https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(field, "must not carry credentials"));
    }
    Ok(url.to_string())
}

/// The stored form of a request, or every mistake at once.
pub fn parse_media(code: &str, body: &ServiceMediaRequest) -> Result<ServiceMedia, ApiError> {
    let mut errors = Vec::new();
    if body.videos.len() > MAX_VIDEOS {
        errors.push(FieldError::new("videos", format!("at most {MAX_VIDEOS}")));
    }
    let mut videos = Vec::new();
    for (i, v) in body.videos.iter().enumerate() {
        let language = language_tag(&v.language);
        if language.is_none() {
            errors.push(FieldError::new(
                format!("videos[{i}].language"),
                "must be a BCP 47 language tag such as fr, ary or xms",
            ));
        }
        let url = video_url(&format!("videos[{i}].url"), &v.url).map_err(|e| errors.push(e));
        let title = v.title.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if title.is_some_and(|t| t.chars().count() > MAX_TITLE) {
            errors.push(FieldError::new(
                format!("videos[{i}].title"),
                format!("at most {MAX_TITLE} characters"),
            ));
        }
        if let (Some(language), Ok(url)) = (language, url) {
            videos.push(ServiceVideo {
                language,
                url,
                title: title.map(str::to_owned),
            });
        }
    }
    let mut easy_read = BTreeMap::new();
    for (key, text) in &body.easy_read {
        let field = format!("easy_read.{key}");
        let language = Language::parse(key).filter(|l| l.code() == key);
        let text = text.trim();
        if language.is_none() {
            errors.push(FieldError::new(field, "must be fr, ar or en"));
        } else if text.is_empty() || text.chars().count() > MAX_EASY_READ {
            errors.push(FieldError::new(
                field,
                format!("must be 1 to {MAX_EASY_READ} characters"),
            ));
        } else {
            easy_read.insert(key.clone(), text.to_owned());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ServiceMedia {
        service_code: code.to_owned(),
        videos,
        easy_read,
    })
}

/// The videos as residents see them, their languages named in `language`.
pub fn video_views(media: &ServiceMedia, language: Language) -> Vec<ServiceVideoView> {
    media
        .videos
        .iter()
        .map(|v| ServiceVideoView {
            language_name: language_name(&v.language, language),
            language: v.language.clone(),
            url: v.url.clone(),
            title: v.title.clone(),
        })
        .collect()
}

/// Fills a service view's videos and easy-to-read text from its media.
pub fn decorate(
    view: &mut balagh_wire::ServiceView,
    media: &BTreeMap<String, ServiceMedia>,
    language: Language,
) {
    if let Some(m) = media.get(&view.code) {
        view.videos = video_views(m, language);
        view.easy_read = m.easy_read.get(language.code()).cloned();
    }
}

/// The `https` origins of every stored video (for the resident app's CSP `media-src`).
pub fn video_origins(media: &BTreeMap<String, ServiceMedia>) -> Vec<String> {
    let mut origins: Vec<String> = media
        .values()
        .flat_map(|m| &m.videos)
        .filter_map(|v| url::Url::parse(&v.url).ok())
        .filter(|u| u.scheme() == "https")
        .map(|u| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Sets a service's videos (per language, sign language included) and easy-to-read text,
/// replacing what it carried; an empty body removes them.
#[utoipa::path(put, path = "/api/v1/staff/services/{code}/media", tag = "staff",
    request_body = ServiceMediaRequest,
    params(("code" = String, Path, description = "Service code")),
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Stored", body = ServiceMediaView),
        (status = 404, description = "No such service", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid videos or texts", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_media(
    State(state): State<AppState>,
    Staff(staff, _): Staff<StaffAdmin>,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<ServiceMediaRequest>,
) -> ApiResult<Json<ServiceMediaView>> {
    let exists = state
        .catalog()
        .services(&staff.jurisdiction)
        .iter()
        .any(|s| s.code.as_str() == code);
    if !exists {
        return Err(ApiError::NotFound);
    }
    let media = parse_media(&code, &body)?;
    state
        .store()
        .set_service_media(&staff.jurisdiction, &media)
        .await?;
    // The catalogue holds the media: this replica answers with them at once, the others
    // at their next catalogue refresh.
    state.refresh_catalog().await?;
    let language = state
        .catalog()
        .jurisdiction_or_default(Some(staff.jurisdiction.as_str()))
        .map_or(Language::Fr, |j| j.default_language);
    Ok(Json(ServiceMediaView {
        videos: video_views(&media, language),
        easy_read: media.easy_read,
        service_code: code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_and_put_in_canonical_case() {
        assert_eq!(language_tag("FR").as_deref(), Some("fr"));
        assert_eq!(language_tag("ary").as_deref(), Some("ary"));
        assert_eq!(language_tag("ar-ma").as_deref(), Some("ar-MA"));
        assert_eq!(language_tag("zgh-tfng").as_deref(), Some("zgh-Tfng"));
        assert_eq!(language_tag("sgn-ma").as_deref(), Some("xms"));
        assert_eq!(language_tag("xms").as_deref(), Some("xms"));
        for bad in [
            "",
            "f",
            "french-language",
            "fr_FR",
            "fr--x",
            "1a",
            "fr-toolongsubtag",
        ] {
            assert_eq!(language_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn languages_are_named_in_the_page_language() {
        assert_eq!(
            language_name("xms", Language::Fr),
            "langue des signes marocaine"
        );
        assert_eq!(language_name("xms", Language::En), "Moroccan Sign Language");
        assert_eq!(language_name("ar-MA", Language::En), "Arabic");
        assert_eq!(language_name("tlh", Language::Fr), "tlh");
    }

    #[test]
    fn only_https_urls_without_credentials() {
        assert!(video_url("u", "https://videos.example.org/a.mp4").is_ok());
        for bad in [
            "http://videos.example.org/a.mp4",
            "javascript:alert(1)",
            "https://user:pw@videos.example.org/a.mp4",
            "data:video/mp4;base64,AAAA",
            "videos.example.org/a.mp4",
        ] {
            assert!(video_url("u", bad).is_err(), "{bad}");
        }
    }
}
