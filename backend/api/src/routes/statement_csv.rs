//! The penalty statement as CSV for the commune's accountant: one row per penalty line, one
//! total row per contract, names beside ids and dirhams beside centimes.

use balagh_domain::ContractId;
use balagh_domain::sla::Statement;

/// Dirhams from centimes, as an accountant reads them: `1234.50`.
fn dirhams(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
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
/// contract's names beside their ids, amounts in dirhams beside the centimes.
pub fn statement_csv(s: &Statement, catalog: &balagh_app::Catalog) -> String {
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
        "kind,reference,service_code,operator,contract,contract_id,metric,cycle,due_at,done_at,hours_late,amount_mad,amount_minor,dispute,waived\n",
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
            dirhams(l.amount_minor),
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
            "total,,,{operator},{contract},{},,,,,,{},{},,\n",
            t.contract_id,
            dirhams(t.total_minor),
            t.total_minor
        ));
    }
    out
}
