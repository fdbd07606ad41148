//! Which IP addresses an outbound call may reach: public unicast only.
//!
//! Everything a request forged from outside could use to reach inside the commune's network
//! (or this machine) is refused: loopback, private, link-local (cloud metadata lives at
//! 169.254.169.254), CGNAT, multicast, broadcast, documentation, benchmarking, reserved and
//! unspecified ranges, and IPv6 forms that embed an IPv4 address (mapped, compatible,
//! NAT64, 6to4), whose embedded address is checked instead.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// Why an address is not public, for refusals that explain themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    SharedCgnat,
    Multicast,
    Documentation,
    Reserved,
    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`): never needed for a public receiver,
    /// and the classic way to smuggle a loopback address past string checks.
    Ipv4Mapped,
}

impl AddressClass {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unspecified => "unspecified",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link-local",
            Self::SharedCgnat => "shared (CGNAT)",
            Self::Multicast => "multicast or broadcast",
            Self::Documentation => "documentation",
            Self::Reserved => "reserved",
            Self::Ipv4Mapped => "IPv4-mapped IPv6",
        }
    }
}

fn v4(list: &[&str]) -> Vec<Ipv4Net> {
    list.iter().map(|net| net.parse().expect(net)).collect()
}

fn v6(list: &[&str]) -> Vec<Ipv6Net> {
    list.iter().map(|net| net.parse().expect(net)).collect()
}

struct Table<N> {
    class: AddressClass,
    nets: Vec<N>,
}

static V4: LazyLock<Vec<Table<Ipv4Net>>> = LazyLock::new(|| {
    use AddressClass::*;
    vec![
        Table {
            class: Unspecified,
            nets: v4(&["0.0.0.0/8"]),
        },
        Table {
            class: Loopback,
            nets: v4(&["127.0.0.0/8"]),
        },
        Table {
            class: Private,
            nets: v4(&["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
        },
        Table {
            class: LinkLocal,
            nets: v4(&["169.254.0.0/16"]),
        },
        Table {
            class: SharedCgnat,
            nets: v4(&["100.64.0.0/10"]),
        },
        Table {
            class: Multicast,
            nets: v4(&["224.0.0.0/4", "255.255.255.255/32"]),
        },
        Table {
            class: Documentation,
            nets: v4(&["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]),
        },
        Table {
            class: Reserved,
            nets: v4(&[
                "192.0.0.0/24",
                "198.18.0.0/15",
                "240.0.0.0/4",
                "192.88.99.0/24",
            ]),
        },
    ]
});

static V6: LazyLock<Vec<Table<Ipv6Net>>> = LazyLock::new(|| {
    use AddressClass::*;
    vec![
        Table {
            class: Unspecified,
            nets: v6(&["::/128"]),
        },
        Table {
            class: Loopback,
            nets: v6(&["::1/128"]),
        },
        Table {
            class: Ipv4Mapped,
            nets: v6(&["::ffff:0:0/96"]),
        },
        Table {
            class: Private,
            nets: v6(&["fc00::/7", "fec0::/10"]),
        },
        Table {
            class: LinkLocal,
            nets: v6(&["fe80::/10"]),
        },
        Table {
            class: Multicast,
            nets: v6(&["ff00::/8"]),
        },
        Table {
            class: Documentation,
            nets: v6(&["2001:db8::/32", "3fff::/20"]),
        },
        Table {
            class: Reserved,
            nets: v6(&["100::/64", "2001::/23", "::/96", "5f00::/16"]),
        },
    ]
});

/// The class of `address`; only [`AddressClass::Public`] may be called.
pub fn classify(address: IpAddr) -> AddressClass {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(address: Ipv4Addr) -> AddressClass {
    V4.iter()
        .find(|table| table.nets.iter().any(|net| net.contains(&address)))
        .map_or(AddressClass::Public, |table| table.class)
}

fn classify_v6(address: Ipv6Addr) -> AddressClass {
    if let Some(class) = V6
        .iter()
        .find(|table| table.nets.iter().any(|net| net.contains(&address)))
        .map(|table| table.class)
    {
        return class;
    }
    // Forms that carry an IPv4 address: the embedded address decides.
    let segments = address.segments();
    let octets = address.octets();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (RFC 6052): the last 32 bits.
        return classify_v4(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if segments[0] == 0x2002 {
        // 6to4 (RFC 3056): bits 16 to 48.
        return classify_v4(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    AddressClass::Public
}

/// Whether `net` is a range an operator may allow-list explicitly: private networks (the
/// commune's own receivers), never loopback, link-local or unspecified ranges, so an
/// allow-list entry cannot reopen this machine or cloud metadata.
pub fn allowable(address: IpAddr) -> bool {
    matches!(
        classify(address),
        AddressClass::Public | AddressClass::Private | AddressClass::SharedCgnat
    )
}

/// A network for the allow-list.
pub fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> AddressClass {
        classify(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_are_public() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "2a00:1450:4007:80c::200e",
            "196.200.160.1",
        ] {
            assert_eq!(class(address), AddressClass::Public, "{address}");
        }
    }

    #[test]
    fn internal_ranges_are_refused() {
        use AddressClass::*;
        let cases = [
            ("0.0.0.0", Unspecified),
            ("127.0.0.2", Loopback),
            ("10.1.2.3", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.169.254", LinkLocal),
            ("100.64.0.1", SharedCgnat),
            ("100.127.255.254", SharedCgnat),
            ("224.0.0.1", Multicast),
            ("255.255.255.255", Multicast),
            ("192.0.2.7", Documentation),
            ("203.0.113.9", Documentation),
            ("198.18.0.1", Reserved),
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Ipv4Mapped),
            ("::ffff:8.8.8.8", Ipv4Mapped),
            ("fd00::1", Private),
            ("fe80::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("64:ff9b::7f00:1", Loopback),
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::", Private),
        ];
        for (address, expected) in cases {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn nat64_of_a_public_address_is_public() {
        assert_eq!(class("64:ff9b::808:808"), AddressClass::Public);
    }

    #[test]
    fn only_private_ranges_are_allowable() {
        assert!(allowable("10.0.0.5".parse().unwrap()));
        assert!(!allowable("127.0.0.1".parse().unwrap()));
        assert!(!allowable("169.254.169.254".parse().unwrap()));
        assert!(!allowable("0.0.0.0".parse().unwrap()));
    }
}
