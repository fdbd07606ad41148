//! The words of a push, in the resident's language.

use crate::notify::NoticeText;
use crate::{Language, ReportStatus};

/// Title and body of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushText {
    pub title: String,
    pub body: String,
}

/// Longest body sent in a push (the app shows the rest from the API).
const MAX_PUSH_BODY_CHARS: usize = 240;

/// What a follower is told when a report's public status changes, or `None` for statuses
/// residents are not told about (`new`/`unrouted` are the report's own first states).
pub fn status_message(
    language: Language,
    reference: &str,
    service_name: &str,
    status: ReportStatus,
) -> Option<PushText> {
    use Language::*;
    use ReportStatus::*;
    let what: &str = match (language, status) {
        (_, New | Unrouted) => return None,
        (Fr, Acknowledged) => "a été pris en charge par l'opérateur",
        (Fr, InProgress) => "est en cours de traitement",
        (Fr, Paused) => "est en attente",
        (Fr, Resolved) => "est résolu : confirmez-le ou rouvrez-le",
        (Fr, Closed) => "est clos",
        (Fr, Rejected) => "n'a pas été retenu",
        (Fr, Duplicate) => "a été fusionné avec un signalement existant",
        (Fr, Reopened) => "a été rouvert",
        (Ar, Acknowledged) => "تكفّل به المفوَّض إليه",
        (Ar, InProgress) => "قيد المعالجة",
        (Ar, Paused) => "في الانتظار",
        (Ar, Resolved) => "تمّت معالجته: أكِّدوا ذلك أو أعيدوا فتحه",
        (Ar, Closed) => "أُغلق",
        (Ar, Rejected) => "لم يُقبل",
        (Ar, Duplicate) => "دُمج مع بلاغ سابق",
        (Ar, Reopened) => "أُعيد فتحه",
        (En, Acknowledged) => "was acknowledged by the operator",
        (En, InProgress) => "is being worked on",
        (En, Paused) => "is on hold",
        (En, Resolved) => "is resolved: confirm it or reopen it",
        (En, Closed) => "is closed",
        (En, Rejected) => "was not accepted",
        (En, Duplicate) => "was merged into an earlier report",
        (En, Reopened) => "was reopened",
    };
    let body = match language {
        Fr => format!("Le signalement {reference} {what}."),
        Ar => format!("البلاغ {reference} {what}."),
        En => format!("Report {reference} {what}."),
    };
    Some(PushText {
        title: service_name.to_owned(),
        body,
    })
}

/// A notice as a push: its title, and its body cut at a word boundary.
pub fn notice_message(text: &NoticeText) -> PushText {
    PushText {
        title: text.title.clone(),
        body: shorten(&text.body, MAX_PUSH_BODY_CHARS),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_the_reference() {
        for language in Language::ALL {
            for status in ReportStatus::ALL {
                let message = status_message(language, "TET-7KQ2M9XD", "Éclairage", status);
                match status {
                    ReportStatus::New | ReportStatus::Unrouted => assert!(message.is_none()),
                    _ => {
                        let m = message.unwrap();
                        assert!(m.body.contains("TET-7KQ2M9XD"), "{m:?}");
                        assert_eq!(m.title, "Éclairage");
                    }
                }
            }
        }
        let ar = status_message(Language::Ar, "TET-1", "إنارة", ReportStatus::Resolved).unwrap();
        assert!(ar.body.starts_with("البلاغ"));
    }

    #[test]
    fn long_notices_are_cut_at_a_word() {
        let body = "mot ".repeat(100);
        let m = notice_message(&NoticeText {
            title: "Titre".into(),
            body,
        });
        assert!(m.body.chars().count() <= 240);
        assert!(m.body.ends_with("mot…"), "{}", m.body);
        let short = notice_message(&NoticeText {
            title: "T".into(),
            body: "court".into(),
        });
        assert_eq!(short.body, "court");
    }
}
