//! Fleets as the engine administers them: the placer's `Fleet` plus how players reach each
//! location (an address until game servers register themselves) and the ports game sessions
//! get there, one per session slot from the fleet's inbound port ranges.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rally_placement::model::Fleet;

use crate::error::EngineError;

/// GameLift's range for a fleet's inbound ports; a fleet that names none opens it all.
pub const PORT_MIN: u16 = 1026;
pub const PORT_MAX: u16 = 60_000;

/// An `EC2InboundPermission`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundPermission {
    pub from_port: u16,
    pub to_port: u16,
    pub ip_range: String,
    pub protocol: String,
}

/// Where players reach a fleet's location: `None` takes the default derived from the fleet
/// and location (`us-east-1.<fleet>.rally.internal`, a private address).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationAddress {
    pub location: String,
    pub dns_name: Option<String>,
    pub ip_address: Option<String>,
}

/// A fleet, its addresses and its inbound permissions.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetSpec {
    pub fleet: Fleet,
    pub addresses: Vec<LocationAddress>,
    pub inbound_permissions: Vec<InboundPermission>,
}

impl FleetSpec {
    /// A fleet with default addresses and every port open.
    pub fn new(fleet: Fleet) -> FleetSpec {
        FleetSpec {
            fleet,
            addresses: Vec::new(),
            inbound_permissions: Vec::new(),
        }
    }

    /// The ports sessions get: the permissions' ranges, merged, lowest first.
    pub(crate) fn ports(&self) -> Vec<(u16, u16)> {
        let mut ranges: Vec<(u16, u16)> = self
            .inbound_permissions
            .iter()
            .map(|p| (p.from_port, p.to_port))
            .collect();
        if ranges.is_empty() {
            ranges.push((PORT_MIN, PORT_MAX));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1.saturating_add(1) => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        merged
    }

    /// Port ranges within GameLift's bounds, addresses for locations the fleet has, and
    /// enough ports at each location for every session slot.
    pub(crate) fn validate(&self) -> Result<(), EngineError> {
        for (i, permission) in self.inbound_permissions.iter().enumerate() {
            if permission.from_port < PORT_MIN
                || permission.to_port > PORT_MAX
                || permission.from_port > permission.to_port
            {
                return Err(EngineError::invalid(
                    &format!("Ec2InboundPermissions[{i}]"),
                    format!(
                        "expected ports {PORT_MIN} to {PORT_MAX}, from no higher than to, \
                         found {} to {}",
                        permission.from_port, permission.to_port
                    ),
                ));
            }
        }
        for (i, address) in self.addresses.iter().enumerate() {
            if !self
                .fleet
                .locations
                .iter()
                .any(|l| l.location == address.location)
            {
                return Err(EngineError::invalid(
                    &format!("Locations[{i}].Location"),
                    format!(
                        "fleet `{}` has no location `{}`",
                        self.fleet.id, address.location
                    ),
                ));
            }
        }
        let ports: u64 = self
            .ports()
            .iter()
            .map(|(from, to)| u64::from(to - from) + 1)
            .sum();
        for (i, location) in self.fleet.locations.iter().enumerate() {
            if location.capacity() > ports {
                return Err(EngineError::invalid(
                    &format!("Locations[{i}].Instances"),
                    format!(
                        "location `{}` hosts {} sessions at once, but the inbound \
                         permissions open only {ports} ports",
                        location.location,
                        location.capacity()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How players reach `location`: as configured, or the default.
    pub fn address(&self, location: &str) -> (String, String) {
        let given = self.addresses.iter().find(|a| a.location == location);
        let dns = given
            .and_then(|a| a.dns_name.clone())
            .unwrap_or_else(|| format!("{location}.{}.rally.internal", self.fleet.id));
        let ip = given
            .and_then(|a| a.ip_address.clone())
            .unwrap_or_else(|| default_ip(&self.fleet.id, location));
        (dns, ip)
    }
}

/// A stable private address for a fleet's location: 10.x.y.z from a hash of the names
/// (FNV-1a, so it does not change between builds or runs).
fn default_ip(fleet: &str, location: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in fleet.bytes().chain([b'/']).chain(location.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let [_, a, b, c] = hash.to_be_bytes();
    format!("10.{a}.{b}.{}", c.max(1))
}

/// The ports of one fleet location's sessions: the lowest free one goes to the next session.
#[derive(Clone, Debug)]
pub(crate) struct PortPool {
    ranges: Vec<(u16, u16)>,
    /// Ports numbered across the ranges, given back by ended sessions.
    free: BinaryHeap<Reverse<u32>>,
    /// Ports from here on have never been given out.
    fresh: u32,
}

impl PortPool {
    pub(crate) fn new(ranges: Vec<(u16, u16)>) -> PortPool {
        PortPool {
            ranges,
            free: BinaryHeap::new(),
            fresh: 0,
        }
    }

    fn total(&self) -> u32 {
        self.ranges
            .iter()
            .map(|(from, to)| u32::from(to - from) + 1)
            .sum()
    }

    pub(crate) fn take(&mut self) -> Option<u16> {
        let index = match self.free.pop() {
            Some(Reverse(index)) => index,
            None if self.fresh < self.total() => {
                self.fresh += 1;
                self.fresh - 1
            }
            None => return None,
        };
        Some(self.port(index))
    }

    pub(crate) fn give_back(&mut self, port: u16) {
        let mut base = 0;
        for (from, to) in &self.ranges {
            if (*from..=*to).contains(&port) {
                self.free.push(Reverse(base + u32::from(port - from)));
                return;
            }
            base += u32::from(to - from) + 1;
        }
    }

    fn port(&self, mut index: u32) -> u16 {
        for (from, to) in &self.ranges {
            let size = u32::from(to - from) + 1;
            if index < size {
                return from + index as u16;
            }
            index -= size;
        }
        unreachable!("a port index below the pool's total")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_go_lowest_first_across_ranges_and_come_back() {
        let mut pool = PortPool::new(vec![(7000, 7001), (8000, 8000)]);
        assert_eq!(pool.take(), Some(7000));
        assert_eq!(pool.take(), Some(7001));
        assert_eq!(pool.take(), Some(8000));
        assert_eq!(pool.take(), None);
        pool.give_back(7001);
        pool.give_back(8000);
        assert_eq!(pool.take(), Some(7001));
        assert_eq!(pool.take(), Some(8000));
    }

    #[test]
    fn overlapping_permissions_merge() {
        let mut spec = FleetSpec::new(Fleet {
            id: "fleet-a".into(),
            fleet_type: rally_placement::model::FleetType::OnDemand,
            instance_type: "c5.large".into(),
            locations: Vec::new(),
        });
        for (from, to) in [(7100, 7200), (7000, 7150), (7201, 7300), (9000, 9001)] {
            spec.inbound_permissions.push(InboundPermission {
                from_port: from,
                to_port: to,
                ip_range: "0.0.0.0/0".into(),
                protocol: "UDP".into(),
            });
        }
        assert_eq!(spec.ports(), vec![(7000, 7300), (9000, 9001)]);
    }

    #[test]
    fn default_addresses_follow_the_names() {
        let spec = FleetSpec::new(Fleet {
            id: "fleet-a".into(),
            fleet_type: rally_placement::model::FleetType::OnDemand,
            instance_type: "c5.large".into(),
            locations: Vec::new(),
        });
        let (dns, ip) = spec.address("us-east-1");
        assert_eq!(dns, "us-east-1.fleet-a.rally.internal");
        assert!(ip.starts_with("10."));
        assert_eq!(spec.address("us-east-1").1, ip);
        assert_ne!(spec.address("eu-west-1").1, ip);
    }
}
