//! Words for what the database stores as codes: statuses, services, times, and people
//! (agents and staff by name, residents by their label on this report).

use crate::state::AppState;
use balagh_app::Catalog;
use balagh_domain::account::Scope;
use balagh_domain::{Language, OperatorId, ReportStatus};
use balagh_i18n::Words;
use balagh_store::{StoredReport, Ts};
use std::collections::HashMap;
use uuid::Uuid;

/// User text without the bidirectional embedding, override and isolate controls
/// (U+202A–U+202E, U+2066–U+2069): a resident's U+202E would otherwise reverse the page
/// text after it. Shown inside `<bdi>`, text in either direction still displays right.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

pub fn status_label(w: &Words, status: ReportStatus) -> String {
    w.t(&format!("op-status-{}", status.as_str()))
}

pub fn service_name(catalog: &Catalog, report: &StoredReport, language: Language) -> String {
    catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.name.get(language).to_owned())
        .unwrap_or_else(|| report.service_code.to_string())
}

/// The answers to the service's extra questions (pole number, bin, bus line, stop…), as
/// (question, answer) in the page's language, in the service's order.
pub fn answers(
    catalog: &Catalog,
    report: &StoredReport,
    language: Language,
) -> Vec<(String, String)> {
    let Some(service) = catalog.service(&report.jurisdiction, &report.service_code) else {
        return Vec::new();
    };
    let mut questions: Vec<_> = service.attributes.iter().collect();
    questions.sort_by_key(|q| q.order);
    let option = |q: &balagh_domain::AttributeDefinition, key: &str| {
        q.values
            .iter()
            .find(|v| v.key == key)
            .map_or_else(|| key.to_owned(), |v| v.name.get(language).to_owned())
    };
    questions
        .into_iter()
        .filter_map(|q| {
            let answer = match report.attributes.get(&q.code)? {
                serde_json::Value::String(s) if !q.values.is_empty() => option(q, s),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(keys) => keys
                    .iter()
                    .filter_map(|k| k.as_str())
                    .map(|k| option(q, k))
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            Some((q.description.get(language).to_owned(), clean(&answer)))
        })
        .collect()
}

pub fn local_time(catalog: &Catalog, report: &StoredReport, at: Ts) -> String {
    catalog
        .jurisdiction(&report.jurisdiction)
        .map(|j| j.local_time(at.get()))
        .unwrap_or_else(|| at.get().to_string())
}

/// Display names of users by id.
#[derive(Debug, Default)]
pub struct Names {
    names: HashMap<Uuid, String>,
    /// The operator's active users, by name.
    agents: Vec<(Uuid, String)>,
}

impl Names {
    /// The operator's own users, plus any other user named in `others` (staff who acted on
    /// a ticket).
    pub async fn load(
        state: &AppState,
        operator: OperatorId,
        others: Vec<Uuid>,
    ) -> Result<Self, balagh_store::StoreError> {
        let users = state
            .store()
            .users_in_scope(&Scope::Operator(operator))
            .await?;
        let mut agents: Vec<(Uuid, String)> = users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id, clean(&u.display_name)))
            .collect();
        agents.sort_by(|a, b| a.1.cmp(&b.1));
        let mut names: HashMap<Uuid, String> =
            users.into_iter().map(|u| (u.id, u.display_name)).collect();
        for id in others {
            if names.contains_key(&id) {
                continue;
            }
            if let Some(user) = state.store().user(id).await? {
                names.insert(id, clean(&user.display_name));
            }
        }
        Ok(Self { names, agents })
    }

    pub fn get(&self, id: Uuid) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// The operator's active agents, by name (for the assignment list).
    pub fn agents(&self) -> &[(Uuid, String)] {
        &self.agents
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_text_loses_bidi_controls_only() {
        assert_eq!(super::clean("abc\u{202E}fed\u{2066}x\u{2069}"), "abcfedx");
        assert_eq!(super::clean("حاوية \u{200F}ممتلئة"), "حاوية \u{200F}ممتلئة");
    }
}
