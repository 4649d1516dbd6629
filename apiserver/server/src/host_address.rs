//! The address the apiserver advertises when `--advertise-address` is not given, as
//! upstream derives it: the address it serves on, unless that is unspecified (0.0.0.0 or
//! ::); then the host's address on the interface of a default route (IPv4 routes first,
//! then IPv6; the first global unicast address of the route's family on an interface
//! that is up). Upstream derives it from the secure port's `--bind-address`; while the
//! secure port is not implemented, the insecure port's address is the one served.

use std::net::IpAddr;

use thiserror::Error;

const IPV4_ROUTES: &str = "/proc/net/route";
const IPV6_ROUTES: &str = "/proc/net/ipv6_route";

#[derive(Debug, Error, PartialEq, Eq)]
#[error("Unable to find suitable network address.error='{0}'. Try to set the AdvertiseAddress directly or provide a valid BindAddress to fix this.")]
pub struct NoHostAddress(String);

/// One network interface as the choice needs it.
#[derive(Debug, Clone, Default)]
pub struct Interface {
    pub name: String,
    pub up: bool,
    pub addresses: Vec<IpAddr>,
}

/// The address to advertise: `advertise` unless unset or unspecified, else `bind` unless
/// unspecified, else the host's default-route interface address.
pub fn advertised(advertise: Option<IpAddr>, bind: IpAddr) -> Result<IpAddr, NoHostAddress> {
    match advertise.filter(|a| !a.is_unspecified()) {
        Some(a) => Ok(a),
        None if !bind.is_unspecified() => Ok(bind),
        None => {
            let v4 = std::fs::read_to_string(IPV4_ROUTES)
                .map_err(|e| NoHostAddress(format!("open {IPV4_ROUTES}: {e}")))?;
            // The IPv6 routes are optional, as upstream's.
            let v6 = std::fs::read_to_string(IPV6_ROUTES).unwrap_or_default();
            choose(&v4, &v6, &interfaces())
        }
    }
}

/// This network namespace's interfaces and their addresses.
fn interfaces() -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs().into_iter().flatten() {
        let address = ifa.address.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|s| IpAddr::V4(s.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
        });
        let up = ifa.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP);
        let i = match out.iter().position(|i| i.name == ifa.interface_name) {
            Some(i) => i,
            None => {
                out.push(Interface {
                    name: ifa.interface_name.clone(),
                    up,
                    addresses: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[i].addresses.extend(address);
    }
    out
}

/// The interfaces of the default routes in `/proc/net/route` (IPv4) text.
fn ipv4_default_routes(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with("Iface"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && f[1] == "00000000").then_some(f[0])
        })
        .collect()
}

/// The interfaces of the default routes with a gateway in `/proc/net/ipv6_route` text.
fn ipv6_default_routes(text: &str) -> Vec<&str> {
    let zero = "0".repeat(32);
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 9 && f[0] == zero && f[4] != zero).then_some(f[9])
        })
        .collect()
}

/// Go's `IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or broadcast.
fn global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unicast_link_local())
        }
    }
}

/// The first global unicast address of a default route's interface, IPv4 routes first.
fn choose(
    ipv4_routes: &str,
    ipv6_routes: &str,
    interfaces: &[Interface],
) -> Result<IpAddr, NoHostAddress> {
    let v4 = ipv4_default_routes(ipv4_routes);
    let v6 = ipv6_default_routes(ipv6_routes);
    if v4.is_empty() && v6.is_empty() {
        return Err(NoHostAddress(format!(
            "no default routes found in \"{IPV4_ROUTES}\" or \"{IPV6_ROUTES}\""
        )));
    }
    let family = |routes: &[&str], want_v4: bool| {
        routes.iter().find_map(|name| {
            let i = interfaces.iter().find(|i| i.name == *name && i.up)?;
            i.addresses
                .iter()
                .find(|a| a.is_ipv4() == want_v4 && global_unicast(a))
                .copied()
        })
    };
    family(&v4, true)
        .or_else(|| family(&v6, false))
        .ok_or_else(|| NoHostAddress("unable to select an IP from default routes.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t004D0A00\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t00000000\t01004D0A\t0003\t0\t0\t0\t00000000\t0\t0\t0
";
    const ROUTES6: &str = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth2
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
";

    fn iface(name: &str, up: bool, addresses: &[&str]) -> Interface {
        Interface {
            name: name.into(),
            up,
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_given_or_bound_address_wins_unless_unspecified() {
        let given = ip("10.1.2.3");
        assert_eq!(advertised(Some(given), ip("127.0.0.1")), Ok(given));
        assert_eq!(advertised(None, ip("127.0.0.1")), Ok(ip("127.0.0.1")));
        assert_eq!(
            advertised(Some(ip("0.0.0.0")), ip("10.9.9.9")),
            Ok(ip("10.9.9.9"))
        );
    }

    #[test]
    fn the_default_routes_interface_gives_its_global_address() {
        assert_eq!(ipv4_default_routes(ROUTES), ["eth0"]);
        assert_eq!(ipv6_default_routes(ROUTES6), ["eth2"]);
        let interfaces = [
            iface("lo", true, &["127.0.0.1"]),
            iface("eth1", true, &["10.77.0.5"]),
            iface("eth0", true, &["fe80::1", "169.254.1.1", "10.77.0.10"]),
            iface("eth2", true, &["2001:db8::5"]),
        ];
        assert_eq!(choose(ROUTES, ROUTES6, &interfaces), Ok(ip("10.77.0.10")));
        // IPv4 routes first; with no IPv4 address there, the IPv6 route's interface.
        let v6_only = [
            iface("eth0", true, &["fe80::1"]),
            iface("eth2", true, &["fe80::2", "2001:db8::5"]),
        ];
        assert_eq!(choose(ROUTES, ROUTES6, &v6_only), Ok(ip("2001:db8::5")));
    }

    #[test]
    fn no_route_or_no_usable_address_is_an_error() {
        let interfaces = [iface("eth0", true, &["10.77.0.10"])];
        let header_only = ROUTES.lines().next().unwrap();
        let err = choose(header_only, "", &interfaces).unwrap_err();
        assert!(err
            .to_string()
            .contains("no default routes found in \"/proc/net/route\""));
        assert!(err
            .to_string()
            .starts_with("Unable to find suitable network address.error='"));
        let down = [iface("eth0", false, &["10.77.0.10"])];
        let err = choose(ROUTES, "", &down).unwrap_err();
        assert!(err
            .to_string()
            .contains("unable to select an IP from default routes."));
    }
}
