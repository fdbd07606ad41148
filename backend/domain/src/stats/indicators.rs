//! The rules of the published indicators that more than one output computes.

/// Comments and suggestions received in a period (engagement 3 of the commune's plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Feedback {
    pub comments: u64,
    pub suggestions: u64,
}

/// The share of reports judged against their SLA targets that met every one, to three
/// decimals; `None` when none was judged.
///
/// Judged are the reports resolved in the period (`breached` of them missed a target) and
/// the reports still open whose target passed in the period (`open_late`: they have missed
/// it whatever happens next). A report late on both clocks and still open counts against
/// the share, never for it. Published releases are immutable and judge reports when they
/// resolve (`open_late` = 0); the staff dashboard counts the open ones as of now.
pub fn within_sla_share(resolved: u64, breached: u64, open_late: u64) -> Option<f64> {
    let judged = resolved + open_late;
    (judged > 0).then(|| {
        let met = resolved - breached.min(resolved);
        let share = met as f64 / judged as f64;
        (share * 1000.0).round() / 1000.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_within_one_and_rounded() {
        assert_eq!(within_sla_share(0, 0, 0), None);
        assert_eq!(within_sla_share(3, 1, 0), Some(0.667));
        assert_eq!(within_sla_share(2, 5, 0), Some(0.0));
        assert_eq!(within_sla_share(10, 0, 0), Some(1.0));
        // One report, open and late on both clocks: not 100 %, 0 %.
        assert_eq!(within_sla_share(0, 0, 1), Some(0.0));
        assert_eq!(within_sla_share(3, 0, 1), Some(0.75));
    }
}
