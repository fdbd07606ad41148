//! The rules of the published indicators that more than one output computes.

/// Comments and suggestions received in a period (engagement 3 of the commune's plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Feedback {
    pub comments: u64,
    pub suggestions: u64,
}

/// The share of resolved reports that met every SLA target, to three decimals; `None`
/// without resolved reports. (`breached` counts resolved reports that missed a target.)
pub fn within_sla_share(resolved: u64, breached: u64) -> Option<f64> {
    (resolved > 0).then(|| {
        let share = 1.0 - breached.min(resolved) as f64 / resolved as f64;
        (share * 1000.0).round() / 1000.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_within_one_and_rounded() {
        assert_eq!(within_sla_share(0, 0), None);
        assert_eq!(within_sla_share(3, 1), Some(0.667));
        assert_eq!(within_sla_share(2, 5), Some(0.0));
        assert_eq!(within_sla_share(10, 0), Some(1.0));
    }
}
