//! What operators see of residents: a pseudonymous label per report ("Résident A3F9"),
//! stable within that report and different across reports, never a device id — a private
//! company cannot link one resident's reports and supports.
//!
//! The label is HMAC-SHA256(server key, report id ‖ device id), cut to four hex digits: the
//! key lives in the database (`server_keys`, shared by every replica) and is never shown,
//! so labels cannot be recomputed or matched across reports.

use balagh_domain::event::Actor;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// An event's actor as an operator may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorActor {
    /// A resident's device, by its label for this report.
    Resident(String),
    /// Staff, an operator's user, or the system: as stored (`user:<id>`, `system`).
    Other(String),
}

impl OperatorActor {
    /// The API form: `resident:A3F9`, `user:<id>`, `system`.
    pub fn stored(&self) -> String {
        match self {
            Self::Resident(label) => format!("resident:{label}"),
            Self::Other(actor) => actor.clone(),
        }
    }

    /// The page form: `Résident A3F9`.
    pub fn shown(&self) -> String {
        match self {
            Self::Resident(label) => format!("Résident {label}"),
            Self::Other(actor) => actor.clone(),
        }
    }
}

/// The label of `device` on `report`.
pub fn resident_label(key: &[u8], report: Uuid, device: Uuid) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(report.as_bytes());
    mac.update(device.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("{:02X}{:02X}", digest[0], digest[1])
}

pub fn actor_for_operator(key: &[u8], report: Uuid, actor: &Actor) -> OperatorActor {
    match actor {
        Actor::Device(device) => OperatorActor::Resident(resident_label(key, report, *device)),
        other => OperatorActor::Other(other.to_stored()),
    }
}

/// Replaces device actors in a ticket's history with their labels (operator views).
pub fn pseudonymise_history(key: &[u8], view: &mut balagh_wire::TicketView) {
    let Some(history) = view.history.as_mut() else {
        return;
    };
    for event in history {
        if let Some(actor) = Actor::from_stored(&event.actor) {
            event.actor = actor_for_operator(key, view.id, &actor).stored();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable_per_report_and_differ_across_reports() {
        let key = [7u8; 32];
        let (device, first) = (Uuid::now_v7(), Uuid::now_v7());
        let label = resident_label(&key, first, device);
        assert_eq!(label.len(), 4);
        assert!(label.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(resident_label(&key, first, device), label);
        // Across many reports the label of one device keeps changing.
        let others: std::collections::HashSet<String> = (0..50)
            .map(|_| resident_label(&key, Uuid::now_v7(), device))
            .collect();
        assert!(others.len() > 40, "{}", others.len());
        assert_ne!(resident_label(&[8u8; 32], first, device), label, "keyed");
    }
}
