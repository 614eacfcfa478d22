//! Attributes a ticket sends that its rule set does not declare.

use rally_rules::model::RuleSet;

use crate::ticket::{NewTicket, TicketError};

/// Attributes a ticket sends that the rule set does not declare, each as a finding naming the
/// field: no rule can read them, and most are a misspelt name. `rally match` warns of them;
/// the service refuses them.
pub fn undeclared_attributes(rule_set: &RuleSet, ticket: &NewTicket) -> Vec<TicketError> {
    let declared: Vec<&str> = rule_set
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    let mut found = Vec::new();
    for (i, player) in ticket.players.iter().enumerate() {
        for name in player.attributes.keys() {
            if declared.contains(&name.as_str()) {
                continue;
            }
            let message = match rally_rules::suggest::did_you_mean(name, declared.iter().copied()) {
                Some(help) => format!("the rule set declares no attribute `{name}`; {help}"),
                None if declared.is_empty() => {
                    format!("the rule set declares no attribute `{name}`, nor any other")
                }
                None => format!(
                    "the rule set declares no attribute `{name}`; it declares {}",
                    rally_rules::suggest::list_all(&declared)
                ),
            };
            found.push(TicketError::invalid(
                format!("Players[{i}].PlayerAttributes.{name}"),
                message,
            ));
        }
    }
    found
}
