//! Words for what the database stores as codes: statuses, services, times, and people
//! (agents and staff by name, residents by their label on this report).

use crate::catalog::Catalog;
use crate::state::AppState;
use balagh_domain::account::Scope;
use balagh_domain::{Language, OperatorId, ReportStatus};
use balagh_i18n::Words;
use balagh_store::{StoredReport, Ts};
use std::collections::HashMap;
use uuid::Uuid;

pub fn status_label(w: &Words, status: ReportStatus) -> String {
    w.t(&format!("op-status-{}", status.as_str()))
}

pub fn service_name(catalog: &Catalog, report: &StoredReport, language: Language) -> String {
    catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.name.get(language).to_owned())
        .unwrap_or_else(|| report.service_code.to_string())
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
            .map(|u| (u.id, u.display_name.clone()))
            .collect();
        agents.sort_by(|a, b| a.1.cmp(&b.1));
        let mut names: HashMap<Uuid, String> =
            users.into_iter().map(|u| (u.id, u.display_name)).collect();
        for id in others {
            if names.contains_key(&id) {
                continue;
            }
            if let Some(user) = state.store().user(id).await? {
                names.insert(id, user.display_name);
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
