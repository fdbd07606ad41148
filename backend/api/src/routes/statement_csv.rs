//! The penalty statement as CSV for the commune's accountant: one row per penalty line, one
//! total row per contract, names beside ids and amounts in the commune's currency (major
//! units, with its code) beside the minor units.

use balagh_domain::sla::Statement;
use balagh_domain::{ContractId, Currency};
use balagh_store::StatementScope;

/// The currency of a statement: that of the commune of its contract or operator (MAD if
/// the catalog no longer knows them).
pub fn currency_of(catalog: &balagh_app::Catalog, scope: StatementScope) -> Currency {
    let jurisdiction = match scope {
        StatementScope::Contract(id) => catalog.contract(id).map(|c| c.jurisdiction.clone()),
        StatementScope::Operator(id) => catalog.operator(id).map(|o| o.jurisdiction.clone()),
    };
    jurisdiction
        .and_then(|j| catalog.jurisdiction(&j).map(|j| j.currency.clone()))
        .unwrap_or_default()
}

/// One CSV field: quoted when it could break a row, spreadsheet formulas neutralised.
fn csv_field(raw: &str) -> String {
    let safe = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// The penalty lines, one per row, then one total row per contract: the operator's and the
/// contract's names beside their ids, amounts in major units and the currency's code beside
/// the minor units.
pub fn statement_csv(s: &Statement, catalog: &balagh_app::Catalog, currency: &Currency) -> String {
    let names = |contract: ContractId| {
        let found = catalog.contract(contract);
        let operator = found
            .and_then(|k| catalog.operator(k.operator))
            .map(|o| o.operator.name.clone())
            .unwrap_or_default();
        let reference = found.map(|k| k.reference.clone()).unwrap_or_default();
        (csv_field(&operator), csv_field(&reference))
    };
    let mut out = String::from(
        "kind,reference,service_code,operator,contract,contract_id,metric,cycle,due_at,done_at,hours_late,amount,currency,amount_minor,dispute,waived\n",
    );
    for l in &s.lines {
        let (operator, contract) = names(ContractId(l.contract_id));
        let row = [
            "line".to_owned(),
            csv_field(&l.reference),
            csv_field(&l.service_code),
            operator,
            contract,
            l.contract_id.to_string(),
            l.metric.as_str().to_owned(),
            l.cycle.to_string(),
            l.due_at.to_string(),
            l.done_at.map(|t| t.to_string()).unwrap_or_default(),
            l.hours_late.to_string(),
            currency.format_minor(l.amount_minor),
            currency.code().to_owned(),
            l.amount_minor.to_string(),
            l.dispute.clone().unwrap_or_default(),
            l.waived.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    for t in &s.contracts {
        let (operator, contract) = names(ContractId(t.contract_id));
        out.push_str(&format!(
            "total,,,{operator},{contract},{},,,,,,{},{},{},,\n",
            t.contract_id,
            currency.format_minor(t.total_minor),
            currency.code(),
            t.total_minor
        ));
    }
    out
}
