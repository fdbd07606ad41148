//! The language of a page (from `?lang=`, else `Accept-Language`, else the commune's
//! default) and the words of the public and staff pages in French, Arabic and English.

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use balagh_domain::Language;
use std::convert::Infallible;

/// A text in the three languages: French, Arabic, English.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub &'static str, pub &'static str, pub &'static str);

impl Tr {
    pub fn get(&self, language: Language) -> &'static str {
        match language {
            Language::Fr => self.0,
            Language::Ar => self.1,
            Language::En => self.2,
        }
    }
}

/// The language a page is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLanguage(pub Language);

/// `?lang=xx` of a query string, if it names a language Balagh speaks.
pub fn query_language(query: Option<&str>) -> Option<Language> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Language::parse(v))
}

impl FromRequestParts<AppState> for PageLanguage {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let catalog = state.catalog();
        let (offered, fallback) = catalog
            .jurisdictions()
            .first()
            .map_or((Language::ALL.to_vec(), Language::Fr), |j| {
                (j.languages.clone(), j.default_language)
            });
        if let Some(l) = query_language(parts.uri.query()) {
            return Ok(Self(l));
        }
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Self(Language::negotiate(accept, &offered, fallback)))
    }
}

/// Names of the languages, each in itself (for the language switcher).
pub fn own_name(language: Language) -> &'static str {
    match language {
        Language::Fr => "Français",
        Language::Ar => "العربية",
        Language::En => "English",
    }
}

pub const SKIP: Tr = Tr("Aller au contenu", "الانتقال إلى المحتوى", "Skip to content");
pub const LANGUAGES: Tr = Tr("Langue", "اللغة", "Language");
pub const TRANSPARENCY: Tr = Tr(
    "Services publics : transparence",
    "الخدمات العمومية: الشفافية",
    "Public services: transparency",
);
pub const TRANSPARENCY_INTRO: Tr = Tr(
    "Signalements sur la collecte des déchets, l'éclairage public et le transport urbain, et la façon dont les opérateurs y répondent. Les services sensibles ne sont publiés que par mois, sans détail qui permettrait de reconnaître quelqu'un.",
    "البلاغات المتعلقة بجمع النفايات والإنارة العمومية والنقل الحضري، وكيفية استجابة المفوَّض إليهم. الخدمات الحساسة تُنشر شهرياً فقط، دون تفاصيل قد تكشف هوية أحد.",
    "Reports about waste collection, street lighting and urban transport, and how the operators answer them. Sensitive services are published monthly only, without detail that could single anyone out.",
);
pub const NOTICES: Tr = Tr(
    "Avis de service en cours",
    "إشعارات الخدمة الجارية",
    "Current service notices",
);
pub const NO_NOTICES: Tr = Tr(
    "Aucun avis en cours.",
    "لا توجد إشعارات حالياً.",
    "No current notices.",
);
pub const UNTIL: Tr = Tr("Jusqu'au", "إلى غاية", "Until");
pub const WHERE: Tr = Tr("Secteur :", "المنطقة:", "Area:");
pub const OPEN_NOW: Tr = Tr(
    "Signalements en cours par service",
    "البلاغات الجارية حسب الخدمة",
    "Open reports by service",
);
pub const OPEN_NOW_NOTE: Tr = Tr(
    "Signalements ouverts à l'instant, pour les services dont les signalements sont publics. Les services sensibles ne sont publiés que par mois, sans détail qui permettrait de reconnaître quelqu'un.",
    "البلاغات المفتوحة حالياً للخدمات التي تُنشر بلاغاتها. الخدمات الحساسة تُنشر شهرياً فقط، دون تفاصيل قد تكشف هوية أحد.",
    "Reports open right now, for services whose reports are public. Sensitive services are published monthly only, without detail that could single anyone out.",
);
pub const MONTHLY_ONLY: Tr = Tr("publié par mois", "يُنشر شهرياً", "published monthly");
pub const SERVICE: Tr = Tr("Service", "الخدمة", "Service");
pub const OPEN: Tr = Tr("En cours", "جارية", "Open");
pub const MONTHLY: Tr = Tr(
    "Indicateurs mensuels",
    "المؤشرات الشهرية",
    "Monthly indicators",
);
pub const MONTHLY_NOTE: Tr = Tr(
    "Mois complets publiés (avec un délai de deux jours). Un service sensible trop peu signalé dans le mois n'est pas chiffré, pour que personne ne puisse être reconnu.",
    "الأشهر الكاملة المنشورة (بتأخير يومين). الخدمة الحساسة التي قلّت بلاغاتها في الشهر لا تُنشر أرقامها، حتى لا يُعرف أحد.",
    "Complete months published (two days' delay). A sensitive service with too few reports in the month is not counted, so that nobody can be recognised.",
);
/// In place of a withheld count.
pub const TOO_FEW: Tr = Tr(
    "trop peu de signalements pour publier",
    "بلاغات أقل من أن تُنشر",
    "too few reports to publish",
);
pub const NO_MONTHS: Tr = Tr(
    "Aucun mois complet publié pour l'instant.",
    "لا يوجد شهر كامل منشور بعد.",
    "No complete month published yet.",
);
pub const MONTH: Tr = Tr("Mois", "الشهر", "Month");
pub const NEW: Tr = Tr("Nouveaux", "جديدة", "New");
pub const RESOLVED: Tr = Tr("Résolus", "مُعالَجة", "Resolved");
pub const WITHIN_SLA: Tr = Tr("Dans les délais", "ضمن الآجال", "Within SLA");
pub const MEDIAN_RESOLVE: Tr = Tr(
    "Délai médian de résolution",
    "المدة الوسيطة للمعالجة",
    "Median time to resolve",
);
pub const CHART_COUNTS: Tr = Tr(
    "Signalements nouveaux et résolus par mois",
    "البلاغات الجديدة والمعالَجة حسب الشهر",
    "New and resolved reports per month",
);
pub const CHART_SLA: Tr = Tr(
    "Part résolue dans les délais par mois (%)",
    "نسبة المعالجة ضمن الآجال حسب الشهر (%)",
    "Share resolved within SLA per month (%)",
);
pub const BY_SERVICE_MONTH: Tr = Tr(
    "Par service, dernier mois publié",
    "حسب الخدمة، آخر شهر منشور",
    "By service, latest published month",
);
pub const MAP: Tr = Tr(
    "Carte des signalements (cellules H3)",
    "خريطة البلاغات (خلايا H3)",
    "Map of reports (H3 cells)",
);
pub const MAP_NOTE: Tr = Tr(
    "Nouveaux signalements du dernier mois publié par cellule hexagonale. Les services sensibles n'y figurent pas.",
    "البلاغات الجديدة لآخر شهر منشور حسب الخلية السداسية. الخدمات الحساسة لا تظهر فيها.",
    "New reports of the latest published month per hexagonal cell. Sensitive services are not mapped.",
);
pub const MAP_LABEL: Tr = Tr(
    "Carte : limite de la commune et cellules H3 colorées selon le nombre de nouveaux signalements",
    "خريطة: حدود الجماعة والخلايا H3 ملوّنة حسب عدد البلاغات الجديدة",
    "Map: the commune boundary and H3 cells shaded by number of new reports",
);
pub const ALL_SERVICES: Tr = Tr("Tous les services", "كل الخدمات", "All services");
pub const CELLS_SHOWN: Tr = Tr("Cellules publiées", "الخلايا المنشورة", "Cells published");
pub const DOWNLOAD_CSV: Tr = Tr("Télécharger (CSV)", "تحميل (CSV)", "Download (CSV)");
pub const HOURS: Tr = Tr("h", "س", "h");
pub const DAYS: Tr = Tr("j", "ي", "d");
pub const DATA_AS_TABLE: Tr = Tr(
    "Les mêmes chiffres en tableau",
    "نفس الأرقام في جدول",
    "The same figures as a table",
);
pub const LEGEND: Tr = Tr("Légende", "مفتاح الخريطة", "Legend");

// --- staff ---------------------------------------------------------------------------

pub const STAFF_LOGIN: Tr = Tr(
    "Connexion des services communaux",
    "دخول مصالح الجماعة",
    "Commune staff login",
);
pub const EMAIL: Tr = Tr("E-mail", "البريد الإلكتروني", "E-mail");
pub const PASSWORD: Tr = Tr("Mot de passe", "كلمة المرور", "Password");
pub const LOG_IN: Tr = Tr("Se connecter", "دخول", "Log in");
pub const LOG_OUT: Tr = Tr("Se déconnecter", "خروج", "Log out");
pub const BAD_LOGIN: Tr = Tr(
    "E-mail ou mot de passe incorrect.",
    "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
    "Wrong e-mail or password.",
);
pub const TOO_MANY: Tr = Tr(
    "Trop de tentatives : réessayez plus tard.",
    "محاولات كثيرة: أعد المحاولة لاحقاً.",
    "Too many attempts: try again later.",
);
pub const DASHBOARD: Tr = Tr(
    "Tableau de bord des services",
    "لوحة قيادة الخدمات",
    "Service dashboard",
);
pub const FILTERS: Tr = Tr("Filtres", "عوامل التصفية", "Filters");
pub const FROM: Tr = Tr("Du", "من", "From");
pub const TO: Tr = Tr("Au", "إلى", "To");
pub const OPERATOR: Tr = Tr("Opérateur", "المفوَّض إليه", "Operator");
pub const ALL_OPERATORS: Tr = Tr("Tous les opérateurs", "كل المفوَّض إليهم", "All operators");
pub const APPLY: Tr = Tr("Appliquer", "تطبيق", "Apply");
pub const REOPEN_RATE: Tr = Tr("Taux de réouverture", "نسبة إعادة الفتح", "Reopen rate");
pub const P50: Tr = Tr("Médiane (p50)", "الوسيط (p50)", "Median (p50)");
pub const P90: Tr = Tr("p90", "p90", "p90");
pub const SLA_BY_WEEK: Tr = Tr(
    "Respect des délais (SLA) par opérateur et par semaine",
    "احترام الآجال حسب المفوَّض إليه والأسبوع",
    "SLA compliance by operator and week",
);
pub const SLA_CHART: Tr = Tr(
    "Part résolue dans les délais par semaine et par opérateur (%)",
    "نسبة المعالجة ضمن الآجال حسب الأسبوع والمفوَّض إليه (%)",
    "Share resolved within SLA per week and operator (%)",
);
pub const WEEK: Tr = Tr("Semaine", "الأسبوع", "Week");
pub const BREACHED: Tr = Tr("Hors délai", "خارج الآجال", "Breached");
pub const RESOLUTION: Tr = Tr(
    "Délais de résolution par service",
    "مدد المعالجة حسب الخدمة",
    "Resolution times by service",
);
pub const BACKLOG: Tr = Tr(
    "Ancienneté des signalements ouverts",
    "أقدمية البلاغات المفتوحة",
    "Age of open reports",
);
pub const BACKLOG_CHART: Tr = Tr(
    "Signalements ouverts par ancienneté (jours)",
    "البلاغات المفتوحة حسب الأقدمية (أيام)",
    "Open reports by age (days)",
);
pub const AGE: Tr = Tr("Ancienneté", "الأقدمية", "Age");
pub const COUNT: Tr = Tr("Nombre", "العدد", "Count");
pub const STAFF_MAP: Tr = Tr(
    "Signalements ouverts et points chauds",
    "البلاغات المفتوحة والنقاط الساخنة",
    "Open reports and hot spots",
);
pub const STAFF_MAP_LABEL: Tr = Tr(
    "Carte : limite de la commune, cellules H3 des nouveaux signalements de la période (points chauds) et points des signalements ouverts",
    "خريطة: حدود الجماعة وخلايا H3 للبلاغات الجديدة في الفترة (النقاط الساخنة) ومواقع البلاغات المفتوحة",
    "Map: the commune boundary, H3 cells of the period's new reports (hot spots) and open reports as points",
);
pub const STAFF_MAP_NOTE: Tr = Tr(
    "Hexagones : nouveaux signalements de la période ; points : signalements ouverts (au plus 1000).",
    "السداسيات: البلاغات الجديدة في الفترة؛ النقاط: البلاغات المفتوحة (1000 على الأكثر).",
    "Hexagons: the period's new reports; dots: open reports (at most 1000).",
);
pub const FIGURES_LIVE: Tr = Tr(
    "Nouveaux signalements, arriéré et signalements en retard : exacts à l'instant.",
    "البلاغات الجديدة والمتأخرات والبلاغات المتجاوزة للآجال: دقيقة في هذه اللحظة.",
    "New reports, backlog and reports running late: exact right now.",
);
pub const FIGURES_AS_OF: Tr = Tr(
    "Résolus, délais, semaines et carte : chiffres au",
    "المُعالَجة والآجال والأسابيع والخريطة: أرقام إلى غاية",
    "Resolved, times, weeks and map: figures as of",
);
pub const FIGURES_NOT_YET: Tr = Tr(
    "Résolus, délais, semaines et carte : pas encore calculés (le calcul passe toutes les quelques minutes).",
    "المُعالَجة والآجال والأسابيع والخريطة: لم تُحسب بعد (يتم الحساب كل بضع دقائق).",
    "Resolved, times, weeks and map: not computed yet (the computation runs every few minutes).",
);
pub const OVERALL: Tr = Tr("Vue d'ensemble", "نظرة عامة", "Overview");
pub const NO_DATA: Tr = Tr(
    "Aucune donnée pour ces filtres.",
    "لا توجد بيانات لهذه المعايير.",
    "No data for these filters.",
);
pub const BAD_FILTER: Tr = Tr("Filtre invalide", "عامل تصفية غير صالح", "Invalid filter");

/// Name of a notice kind.
pub fn notice_kind(kind: &str) -> Tr {
    match kind {
        "planned_interruption" => Tr(
            "Interruption programmée",
            "انقطاع مبرمج",
            "Planned interruption",
        ),
        "collection_delay" => Tr("Retard de collecte", "تأخر في الجمع", "Collection delay"),
        "diversion" => Tr("Déviation", "تحويل المسار", "Diversion"),
        _ => Tr("Avis", "إشعار", "Notice"),
    }
}

/// A duration in minutes, readably (`45 min`, `5 h`, `3 j`).
pub fn duration(language: Language, minutes: u64) -> String {
    if minutes < 120 {
        format!("{minutes} min")
    } else if minutes < 72 * 60 {
        format!("{} {}", minutes.div_ceil(60), HOURS.get(language))
    } else {
        format!("{} {}", minutes.div_ceil(24 * 60), DAYS.get(language))
    }
}

/// A share (0–1) as a percentage.
pub fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_the_language() {
        assert_eq!(query_language(Some("lang=ar")), Some(Language::Ar));
        assert_eq!(query_language(Some("x=1&lang=en")), Some(Language::En));
        assert_eq!(query_language(Some("lang=de")), None);
        assert_eq!(query_language(None), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Language::Fr, 45), "45 min");
        assert_eq!(duration(Language::En, 300), "5 h");
        assert_eq!(duration(Language::Fr, 4 * 24 * 60), "4 j");
    }
}
