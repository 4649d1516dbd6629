//! Pod IPs from the node's podCIDR, one file per allocated address under
//! `<root-dir>/ipam/<cidr>/` holding the owner's pod UID, so allocations survive kubelet
//! restarts and a crash between allocate and use leaks nothing that a release can't find.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    #[error("{0:?} is not an IPv4 CIDR (a.b.c.d/n, n from 8 to 30)")]
    BadCidr(String),
    #[error("no free address left in {0}")]
    Exhausted(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An IPv4 network: its first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, IpamError> {
        let bad = || IpamError::BadCidr(text.to_string());
        let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(bad());
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Cidr {
            network: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        })
    }

    /// The bridge's address: the first host address.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    fn host_addresses(&self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.network) + 2;
        let broadcast = u32::from(self.network) | (u32::MAX >> self.prefix);
        (first..broadcast).map(Ipv4Addr::from)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The allocations of one CIDR.
pub struct Ipam {
    pub cidr: Cidr,
    dir: PathBuf,
}

impl Ipam {
    pub fn open(root_dir: &Path, cidr: Cidr) -> Result<Ipam, IpamError> {
        let dir = root_dir
            .join("ipam")
            .join(format!("{}-{}", cidr.network, cidr.prefix));
        std::fs::create_dir_all(&dir).map_err(|source| IpamError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Ipam { cidr, dir })
    }

    /// The address of `owner`: the one it already holds, else the lowest free one.
    pub fn allocate(&self, owner: &str) -> Result<Ipv4Addr, IpamError> {
        if let Some(ip) = self.held_by(owner)?.first() {
            return Ok(*ip);
        }
        for ip in self.cidr.host_addresses() {
            let path = self.dir.join(ip.to_string());
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(owner.as_bytes())
                        .map_err(|source| IpamError::Io { path, source })?;
                    return Ok(ip);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(IpamError::Io { path, source }),
            }
        }
        Err(IpamError::Exhausted(self.cidr.to_string()))
    }

    /// Frees every address `owner` holds.
    pub fn release(&self, owner: &str) -> Result<(), IpamError> {
        for ip in self.held_by(owner)? {
            let path = self.dir.join(ip.to_string());
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(IpamError::Io { path, source }),
            }
        }
        Ok(())
    }

    /// Every allocation: (address, owner).
    pub fn allocations(&self) -> Result<Vec<(Ipv4Addr, String)>, IpamError> {
        let io = |source| IpamError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let Ok(ip) = entry.file_name().to_string_lossy().parse::<Ipv4Addr>() else {
                continue;
            };
            let owner = std::fs::read_to_string(entry.path()).unwrap_or_default();
            out.push((ip, owner));
        }
        out.sort();
        Ok(out)
    }

    fn held_by(&self, owner: &str) -> Result<Vec<Ipv4Addr>, IpamError> {
        Ok(self
            .allocations()?
            .into_iter()
            .filter(|(_, o)| o == owner)
            .map(|(ip, _)| ip)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_cidrs() {
        let c = Cidr::parse("10.244.1.7/24").unwrap();
        assert_eq!(c.to_string(), "10.244.1.0/24");
        assert_eq!(c.gateway(), Ipv4Addr::new(10, 244, 1, 1));
        for bad in ["10.0.0.0", "10.0.0.0/31", "x/24", "10.0.0.0/a", "::1/64"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allocations_are_idempotent_persistent_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let cidr = Cidr::parse("10.1.0.0/29").unwrap();
        let ipam = Ipam::open(dir.path(), cidr).unwrap();
        let a = ipam.allocate("pod-a").unwrap();
        assert_eq!(a, Ipv4Addr::new(10, 1, 0, 2));
        assert_eq!(ipam.allocate("pod-a").unwrap(), a);
        let b = ipam.allocate("pod-b").unwrap();
        assert_eq!(b, Ipv4Addr::new(10, 1, 0, 3));
        // Another kubelet process sees the same allocations.
        let reopened = Ipam::open(dir.path(), cidr).unwrap();
        assert_eq!(reopened.allocate("pod-b").unwrap(), b);
        for owner in ["c", "d", "e"] {
            reopened.allocate(owner).unwrap();
        }
        assert!(matches!(
            reopened.allocate("g"),
            Err(IpamError::Exhausted(_))
        ));
        reopened.release("pod-a").unwrap();
        assert_eq!(reopened.allocate("g").unwrap(), a);
        assert_eq!(reopened.allocations().unwrap().len(), 5);
    }
}
