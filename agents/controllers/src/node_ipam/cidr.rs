//! A cluster CIDR cut into node CIDRs of one mask size, and which of them are taken
//! (upstream's CidrSet): the next free one is searched from after the last handed out.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// Upstream refuses more than 2^16 node CIDRs in one cluster CIDR.
const MAX_MASK_DIFFERENCE: u8 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterCidr {
    base: u128,
    prefix: u8,
    mask: u8,
    v6: bool,
}

fn bits(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        32
    }
}

/// `a.b.c.d/n` → (address as u128, n, is IPv6).
fn parse_cidr(text: &str) -> Result<(u128, u8, bool), String> {
    let (ip, len) = text.split_once('/').ok_or("not a CIDR (no /)")?;
    let ip: IpAddr = ip.parse().map_err(|_| format!("invalid IP {ip:?}"))?;
    let len: u8 = len.parse().map_err(|_| format!("invalid prefix {len:?}"))?;
    let (value, v6) = match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        IpAddr::V6(v6) => (u128::from(v6), true),
    };
    if len > bits(v6) {
        return Err(format!("prefix /{len} is too long"));
    }
    Ok((value, len, v6))
}

fn host_mask(len: u8, total: u8) -> u128 {
    let host_bits = u32::from(total - len);
    if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

impl ClusterCidr {
    /// `mask` is the node CIDRs' prefix length (0: only parse, for the family).
    pub fn parse(text: &str, mask: u8) -> Result<ClusterCidr, String> {
        let (value, prefix, v6) = parse_cidr(text)?;
        let total = bits(v6);
        let base = value & !host_mask(prefix, total);
        if mask != 0 {
            if mask < prefix {
                return Err(format!(
                    "node CIDR mask /{mask} is shorter than the cluster CIDR's /{prefix}"
                ));
            }
            if mask > total {
                return Err(format!("node CIDR mask /{mask} is too long"));
            }
            if mask - prefix > MAX_MASK_DIFFERENCE {
                return Err(format!(
                    "node CIDR mask /{mask} is too big compared to the cluster CIDR's /{prefix}"
                ));
            }
        }
        Ok(ClusterCidr {
            base,
            prefix,
            mask,
            v6,
        })
    }

    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// How many node CIDRs fit.
    pub fn count(&self) -> u32 {
        1u32 << (self.mask - self.prefix)
    }

    fn format(&self, index: u32) -> String {
        let step = u32::from(bits(self.v6) - self.mask);
        let value = self.base + (u128::from(index) << step);
        let ip: IpAddr = if self.v6 {
            IpAddr::V6(value.into())
        } else {
            IpAddr::V4((value as u32).into())
        };
        format!("{ip}/{}", self.mask)
    }

    /// The index of a node CIDR of this set, if `text` is one.
    pub fn index_of(&self, text: &str) -> Option<u32> {
        let (value, len, v6) = parse_cidr(text).ok()?;
        if v6 != self.v6 || len != self.mask {
            return None;
        }
        let total = bits(v6);
        if value & !host_mask(self.prefix, total) != self.base || value & host_mask(len, total) != 0
        {
            return None;
        }
        let step = u32::from(total - self.mask);
        u32::try_from((value - self.base) >> step).ok()
    }

    /// The first node CIDR not in `taken`, starting after `last`.
    pub fn next_free(&self, taken: &BTreeSet<u32>, last: Option<u32>) -> Option<(u32, String)> {
        let count = self.count();
        let start = last.map_or(0, |l| (l + 1) % count);
        (0..count)
            .map(|i| (start + i) % count)
            .find(|i| !taken.contains(i))
            .map(|i| (i, self.format(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_cidrs_of_a_slash_16() {
        let c = ClusterCidr::parse("10.244.0.0/16", 24).unwrap();
        assert_eq!(c.count(), 256);
        assert_eq!(
            c.next_free(&BTreeSet::new(), None).unwrap().1,
            "10.244.0.0/24"
        );
        let taken: BTreeSet<u32> = [0, 1].into();
        assert_eq!(c.next_free(&taken, None).unwrap().1, "10.244.2.0/24");
        assert_eq!(c.next_free(&taken, Some(255)).unwrap().1, "10.244.2.0/24");
        assert_eq!(c.index_of("10.244.7.0/24"), Some(7));
        assert_eq!(c.index_of("10.245.7.0/24"), None);
        assert_eq!(c.index_of("10.244.7.0/25"), None);
        let full: BTreeSet<u32> = (0..256).collect();
        assert_eq!(c.next_free(&full, None), None);
    }

    #[test]
    fn ipv6_and_bad_masks() {
        let c = ClusterCidr::parse("fd00:10::/56", 64).unwrap();
        assert_eq!(c.count(), 256);
        let taken: BTreeSet<u32> = [0].into();
        assert_eq!(c.next_free(&taken, None).unwrap().1, "fd00:10:0:1::/64");
        assert!(ClusterCidr::parse("10.0.0.0/16", 8).is_err());
        assert!(ClusterCidr::parse("10.0.0.0/8", 30).is_err());
        assert!(ClusterCidr::parse("10.0.0.0", 24).is_err());
    }
}
