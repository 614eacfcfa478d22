//! Whether a ticket fits a rule set — its players' values of the declared types, a backfill
//! ticket's players on teams the rule set has and no team over-full — checked without a pool,
//! so that a front end can refuse a ticket before it queues for the next batch. A pool's
//! `insert` runs the same check.

use rally_rules::model::{AttributeType, RuleSet};

use super::{NewTicket, TicketError};

/// Refuses a ticket that contradicts `rule_set` (every error is `InvalidArgument`, naming the
/// field). GameLift's limits are [`NewTicket::validate`]'s.
pub fn check_conforms(rule_set: &RuleSet, ticket: &NewTicket) -> Result<(), TicketError> {
    for (i, player) in ticket.players.iter().enumerate() {
        for attribute in &rule_set.attributes {
            if let Some(sent) = player.attributes.get(&attribute.name)
                && sent.ty() != attribute.ty
            {
                return Err(TicketError::invalid(
                    format!("Players[{i}].PlayerAttributes.{}", attribute.name),
                    format!(
                        "the rule set declares `{}` as {}, found `{}`",
                        attribute.name,
                        describe_type(attribute.ty),
                        member(sent.ty())
                    ),
                ));
            }
        }
        if let Some(name) = &player.team
            && !rule_set.teams.iter().any(|team| team.name == *name)
        {
            let names: Vec<&str> = rule_set.teams.iter().map(|t| t.name.as_str()).collect();
            return Err(TicketError::invalid(
                format!("Players[{i}].Team"),
                format!("unknown team `{name}`; the teams are {}", names.join(", ")),
            ));
        }
    }
    if ticket.is_backfill() {
        check_backfill_teams(rule_set, ticket)?;
    }
    Ok(())
}

/// A backfill ticket's players already fill their teams; no team may hold more than it can.
fn check_backfill_teams(rule_set: &RuleSet, ticket: &NewTicket) -> Result<(), TicketError> {
    for team in &rule_set.teams {
        let on_team = ticket
            .players
            .iter()
            .filter(|player| player.team.as_deref() == Some(team.name.as_str()))
            .count();
        if on_team > team.max_players as usize {
            return Err(TicketError::invalid(
                "Players",
                format!(
                    "{on_team} players are on team `{}`, which holds at most {}",
                    team.name, team.max_players
                ),
            ));
        }
    }
    Ok(())
}

fn describe_type(ty: AttributeType) -> &'static str {
    match ty {
        AttributeType::String => "a string (`S`)",
        AttributeType::Number => "a number (`N`)",
        AttributeType::StringList => "a string list (`SL`)",
        AttributeType::StringNumberMap => "a string-number map (`SDM`)",
    }
}

/// The GameLift member a value of type `ty` is sent in.
fn member(ty: AttributeType) -> &'static str {
    match ty {
        AttributeType::String => "S",
        AttributeType::Number => "N",
        AttributeType::StringList => "SL",
        AttributeType::StringNumberMap => "SDM",
    }
}
